"""The one error map: every failure becomes RFC 9457 problem details, or a friendly page for people."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.response import Template
from litestar.response.base import ASGIResponse

from feedback.service.logs import loggable_path
from feedback.service.validation import (
    body_problem,
    body_type,
    numbers_out_of_range,
    parameter_message,
)
from surveys.errors import ApplicationError, FieldError

log = logging.getLogger("touchpulse.errors")

PROBLEM_JSON = "application/problem+json"


class ProblemType(msgspec.Struct, frozen=True):
    """A kind of problem a client can tell apart from its status's other causes, and act on."""

    slug: str
    status: int
    when: str


# Every problem type the service answers with, by status; /docs lists them (#problem-<slug>) and
# the OpenAPI document names them. A slug never changes once published: clients match on it.
PROBLEM_TYPES = (
    ProblemType("bad-request", 400, "The request could not be read: a body that is not JSON or not UTF-8, is "
                "nested too deeply, or holds a number beyond ±1.8e308 (`errors` names where), say. Fix the "
                "request."),
    ProblemType("unauthenticated", 401, "No API key, or one that is not valid or was revoked."),
    ProblemType("forbidden", 403, "The key's role does not allow this operation; `detail` names the role needed."),
    ProblemType("not-found", 404, "No such object or path, or one this key may not see."),
    ProblemType("method-not-allowed", 405, "The path does not take this method."),
    ProblemType("not-acceptable", 406, "No media type the operation answers in is acceptable to the `Accept` "
                "header; `detail` names those it has."),
    ProblemType("conflict", 409, "A conflict with the current state that no type below names."),
    ProblemType("already-answered", 409, "The invitation (`invitation_id`) was answered and its answer can no "
                "longer be changed: the edit window (`TOUCHPULSE_EDIT_WINDOW_DAYS`) has closed. Drop the answer."),
    ProblemType("customer-erased", 409, "The customer was erased while the answer waited to be stored, so it "
                "was not kept. Drop it: sent again, it would be stored as a new answer."),
    ProblemType("event-id-reused", 409, "A trigger's `event_id` was already used on this touchpoint for another "
                "customer or with other fields. A retry sends the same fields (or leaves optional ones "
                "out); a new event needs a new `event_id`."),
    ProblemType("key-taken", 409, "Another touchpoint already has this `key`."),
    ProblemType("name-taken", 409, "Another owner or journey, or another touchpoint of the same owner, already "
                "has this name (ignoring case and spacing); `detail` gives its id (a touchpoint's key)."),
    ProblemType("still-in-use", 409, "The object cannot be removed while it is in use: an owner owns "
                "touchpoints, a journey or stage holds touchpoints, or a touchpoint has responses or "
                "invitations (deactivate it instead)."),
    ProblemType("touchpoint-paused", 409, "The touchpoint is paused (`active=false`): it takes no new answers "
                "from the API. Drop the answer, or reactivate the touchpoint."),
    ProblemType("link-expired", 410, "A survey or share link has expired, or the invitation an API answer names "
                "(`invitation_id`): it takes no more answers."),
    ProblemType("payload-too-large", 413, "The body is over the size limit: send less (a batch in parts, say)."),
    ProblemType("unsupported-media-type", 415, "The body's `Content-Type` is not JSON, or it has a "
                "`Content-Encoding`: send uncompressed `application/json`."),
    ProblemType("invalid-input", 422, "A field or parameter is invalid; `errors` names each one and why. Fix "
                "the request: as sent, it fails again."),
    ProblemType("idempotency-key-in-flight", 422, "Requests with this `Idempotency-Key` sent at the same "
                "moment took the key again and again and left no answer to give back (each not kept, its "
                "customer erased, say). Rare: a request with a key another is still storing waits for it "
                "and gets its answer. Retry the same request."),
    ProblemType("idempotency-key-reused", 422, "This `Idempotency-Key` was already used with a different "
                "body. A new answer needs a new key."),
    ProblemType("too-many-requests", 429, "Too many requests from this client (wrong survey link tokens, "
                "widget answers); wait `Retry-After` seconds."),
    ProblemType("internal-error", 500, "The service failed to answer; the error was logged."),
    ProblemType("service-unavailable", 503, "The database could not be reached; nothing was recorded. Retry "
                "after `Retry-After` seconds."),
)
BY_SLUG = {t.slug: t for t in PROBLEM_TYPES}
# The framework's own errors (no route, a body too large, ...) by status. Any other status is
# about:blank: RFC 9457's type for a problem that means no more than its status.
FRAMEWORK_TYPES = {400: "bad-request", 401: "unauthenticated", 403: "forbidden", 404: "not-found",
                    405: "method-not-allowed", 406: "not-acceptable", 413: "payload-too-large",
                    415: "unsupported-media-type", 429: "too-many-requests", 500: "internal-error",
                    503: "service-unavailable"}


# One URI per problem kind, the same on every deployment, so a client can match on it exactly
# (RFC 9457 §3.1.1); /docs#problem-<slug> on each server explains it.
PROBLEM_BASE = "https://touchpulse.dev/problems/"


def problem_type(slug: str | None) -> str:
    """A problem's `type`: its kind's stable URI, or about:blank when only the status is known."""
    return "about:blank" if slug is None else PROBLEM_BASE + slug


class Problem(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] = msgspec.field(default_factory=list)


def _wants_page(request: Request[Any, Any, Any]) -> bool:
    # People reach the survey and report pages; everything else is an API.
    path = request.url.path
    return path.startswith(("/s/", "/w/", "/reports/", "/share/")) or path == "/"


def _respond(request: Request[Any, Any, Any], status: int, title: str, detail: str,
             errors: list[FieldError] | None = None, headers: dict[str, str] | None = None,
             *, slug: str | None) -> Response[Any]:
    if _wants_page(request):
        from feedback.service.pages import error_page

        return error_page(request, status, detail, headers=headers)
    problem = Problem(
        type=problem_type(slug), title=title, status=status,
        detail=detail, instance=request.url.path, errors=errors or [],
    )
    return Response(
        content=msgspec.json.encode(problem), status_code=status, media_type=PROBLEM_JSON,
        headers=headers,
    )


def application_error(request: Request[Any, Any, Any], exc: ApplicationError) -> Response[Any] | Template:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if exc.status == 429:
        headers = {"Retry-After": "10"}
    if exc.status == 406:  # it depends on Accept: a cache must not serve it to another
        headers = {"Vary": "Accept"}
    return _respond(request, exc.status, exc.title, exc.detail, exc.errors, headers, slug=exc.slug)


def _parameter(request: Request[Any, Any, Any], name: str) -> tuple[Any, list[tuple[Any, Any]], Any]:
    """The route's query, path or header parameter sent as `name`: its annotation, the bounds
    its declaration gives (ge, le) and the text sent for it, each None where unknown."""
    for field in request.route_handler.parsed_fn_signature.parameters.values():
        kwarg = field.kwarg_definition
        if name in (field.name, getattr(kwarg, "query", None), getattr(kwarg, "header", None)):
            ranges = [(getattr(kwarg, "ge", None), getattr(kwarg, "le", None))]
            sent = request.path_params.get(name, request.query_params.get(name))
            return field.annotation, ranges, sent
    return None, [], None


def validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    items = [i for i in exc.extra if isinstance(i, dict)] if isinstance(exc.extra, list) else []
    errors: list[FieldError] = []
    expected = body_type(request.route_handler)
    # The body was read before validation failed, so it is cached on the connection. A body
    # that decodes is not what failed: a path or query parameter beside it is (a key too long).
    body = request._connection_state.body
    failure = body_problem(expected, body) if expected is not None and isinstance(body, bytes) else None
    if failure is not None:
        items = [i for i in items if i.get("source") != "body"]  # named field by field by failure
        if failure.status == 400 or not items:
            return _respond(request, failure.status, failure.title, failure.detail, failure.errors,
                            slug=failure.slug)
        errors.extend(failure.errors)
    for item in items:
        field = str(item.get("key") or item.get("source") or "request")
        annotation, ranges, sent = _parameter(request, field)
        message = parameter_message(str(item.get("message", "is not valid")), annotation, ranges, sent)
        errors.append(FieldError(field, message))
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or str(exc.detail)
    return _respond(request, 400 if not errors else 422, "Invalid input", detail, errors,
                    slug="invalid-input" if errors else "bad-request")


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    # The framework's JSON reader refused the body. For a number out of range the problem names
    # its field, as msgspec's "at `$[...][...]`" does not.
    body = request._connection_state.body if isinstance(exc.__cause__, SerializationException) else None
    if isinstance(body, bytes):
        failure = numbers_out_of_range(body)
        if failure is not None:
            return _respond(request, failure.status, failure.title, failure.detail, failure.errors,
                            slug=failure.slug)
    detail = str(exc.detail)
    if status == 404:
        # No method named: the path has no route for any (else 405), and a HEAD's headers
        # must match its GET's, Content-Length included.
        detail = f"Nothing is served at {request.url.path}."
    elif status == 405:
        detail = f"{request.method} is not allowed on {request.url.path}."
    elif status == 413:
        detail = "The request body is too large."
    elif status >= 500:
        log.error("server error %s: %s", status, detail)
        detail = "The service failed to answer; the error was logged."
    title = {400: "Bad request", 401: "Unauthorized", 404: "Not found", 405: "Method not allowed",
             413: "Payload too large", 415: "Unsupported media type", 429: "Too many requests"}
    return _respond(request, status, title.get(status, "Error"), detail, None, dict(exc.headers or {}),
                    slug=FRAMEWORK_TYPES.get(status))


def database_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.warning("database unavailable: %s", exc)
    return _respond(
        request, 503, "Service unavailable",
        "The database is unreachable right now; nothing was recorded. Retry shortly.",
        headers={"Retry-After": "2"}, slug="service-unavailable",
    )


def bad_encoding(request: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[Any]:
    return _respond(request, 400, "Bad request", f"The body is not valid UTF-8 text (byte {exc.start}).",
                    slug="bad-request")


def too_deep(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    return _respond(request, 400, "Bad request", "The body is nested too deeply to be read.", slug="bad-request")


def unacceptable_value(request: Request[Any, Any, Any], exc: asyncpg.DataError) -> Response[Any]:
    # Input checks catch almost everything first; this is the net for what PostgreSQL refuses
    # (a NUL character in text, say), so the answer is a 4xx rather than a 500.
    return _respond(request, 422, "Invalid input", f"A value was refused by the database: {exc}",
                    slug="invalid-input")


def unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
                        asyncpg.CannotConnectNowError)):
        return database_unavailable(request, exc)
    log.exception("unexpected error on %s %s", request.method, loggable_path(request.url.path), exc_info=exc)
    return _respond(request, 500, "Internal error", "The service failed to answer; the error was logged.",
                    slug="internal-error")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ApplicationError: application_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    asyncpg.PostgresConnectionError: database_unavailable,
    asyncpg.CannotConnectNowError: database_unavailable,
    asyncpg.InterfaceError: database_unavailable,
    ConnectionError: database_unavailable,
    UnicodeDecodeError: bad_encoding,
    RecursionError: too_deep,
    asyncpg.DataError: unacceptable_value,
    Exception: unexpected_error,
}


def error_response(request: Request[Any, Any, Any], exc: Exception) -> ASGIResponse:
    """Answer `exc` from raw ASGI code (the ingest lane) exactly as the app's handlers would."""
    handler = next((EXCEPTION_HANDLERS[c] for c in type(exc).__mro__ if c in EXCEPTION_HANDLERS),
                   unexpected_error)
    response: Response[Any] = handler(request, exc)
    return response.to_asgi_response(None, request)
