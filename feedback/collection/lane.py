"""The ingest route's fast lane: a well-formed answer skips the framework's per-request work.

`POST /api/v1/responses` is the one route that takes thousands of requests a second, and on
it Litestar's request object, signature model, keyword arguments and response object cost
more CPU than the answer's own checks. This route middleware serves the ordinary request
from the raw ASGI messages, with the same key check, the same msgspec model, the same
service call and the same error map. Anything out of the ordinary (another method or content
type, a chunked or oversized body, a body the strict decoder refuses) goes on to the route's
handler with its body replayed, so those answers stay exactly the framework's.
"""

from __future__ import annotations

import time
from contextlib import suppress
from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar._asgi.utils import is_valid_host
from litestar.types import (
    ASGIApp,
    HTTPRequestEvent,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    ReceiveMessage,
    Scope,
    Send,
)

from feedback.access.models import Role
from feedback.access.service import require
from feedback.collection import service
from feedback.collection.models import ResponseCreate
from feedback.collection.writer import Intake
from feedback.service.logs import SECURITY_HEADERS, fresh_request_id, log_access, request_id
from feedback.service.negotiation import best_media_type
from feedback.service.problems import error_response

# The app's request_max_body_size: a larger body goes to the framework for its 413.
MAX_BODY = 2 * 1024 * 1024

_decoder = msgspec.json.Decoder(ResponseCreate)
RESPONSES = "/api/v1/responses"


class _Answer(msgspec.Struct):
    """The one field of a stored answer that its URL needs."""

    id: str


_answer = msgspec.json.Decoder(_Answer)
_INGEST = Role.INGEST  # read once (EnumType.__getattr__, feedback/access/service.py)


def answer_headers(stored: service.Stored) -> dict[str, str]:
    """Where the stored answer is read (GET /api/v1/responses/{id}): a new one's Location (201);
    on a 200, whose body is an invitation's answer as changed and as GET shows it, Content-Location
    (RFC 9110 8.7: Location means nothing on a 200). Read from the body, so that a replay of it
    (Idempotency-Key) says what the first answer said."""
    name = {201: "Location", 200: "Content-Location"}.get(stored.status)
    if name is None:
        return {}
    return {name: f"{RESPONSES}/{_answer.decode(stored.body).id if stored.id is None else stored.id}"}


def ingest_lane(app: ASGIApp) -> ASGIApp:
    """Route middleware for the ingest handler `app`."""

    async def lane(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") != "POST":
            await app(scope, receive, send)
            return
        authorization = key = content_type = None
        length = -1
        chunked = False
        for name, value in scope["headers"]:
            # A repeated header counts by its first value, empty or not, as Litestar reads it.
            if name == b"authorization":
                authorization = value if authorization is None else authorization
            elif name == b"idempotency-key":
                key = value if key is None else key
            elif name == b"content-type":
                content_type = value
            elif name == b"content-length":
                length = int(value) if value.isdigit() else -1
            elif name == b"transfer-encoding":
                chunked = True
        if chunked or not 0 < length <= MAX_BODY or (
                content_type is not None and not content_type.startswith(b"application/json")):
            await app(scope, receive, send)
            return
        try:
            intake: Intake = scope["app"].state["intake"]  # an item, not an attribute: see Intake
            keys, pool = intake.keys, intake.pool
            auth = None if authorization is None else authorization.decode("latin-1")
            principal = keys.principal_now(auth) or await keys.principal(pool, auth)
            require(principal, _INGEST)  # a refused key is a 401/403 before the body is read
            message = await receive()
            body = message.get("body", b"") if message["type"] == "http.request" else b""
            # The usual answer is one message holding the whole body; anything else is read on.
            read = (body, True) if len(body) == length and not message.get("more_body", False) \
                else await _body(receive, length, message)
            if read is None:
                return  # the client left before sending its answer: nothing to store or say
            body, whole = read
            data: ResponseCreate | None = None
            # A body the strict decoder refuses is the framework handler's to answer, with the
            # same strict types (a score sent as "6" is refused there too).
            with suppress(msgspec.ValidationError, msgspec.DecodeError):
                data = _decoder.decode(body) if whole else None
            if data is not None:
                stored = await service.submit_response(
                    pool, intake.writer, intake.comments, intake.touchpoints,
                    principal, data, None if key is None else key.decode("latin-1"),
                    edit_days=intake.edit_days)
        except Exception as exc:  # every failure goes through the one error map
            await error_response(Request(scope, receive), exc)(scope, receive, send)
            return
        if data is None:
            await app(scope, _replay(body, receive, more=not whole), send)
            return
        start: HTTPResponseStartEvent = {
            "type": "http.response.start", "status": stored.status,
            "headers": [(b"content-type", b"application/json"),
                        (b"content-length", b"%d" % len(stored.body)),
                        *((k.lower().encode(), v.encode()) for k, v in answer_headers(stored).items())]}
        await send(start)
        answer: HTTPResponseBodyEvent = {"type": "http.response.body", "body": stored.body,
                                         "more_body": False}
        await send(answer)

    return lane


async def _body(receive: Receive, length: int, message: ReceiveMessage) -> tuple[bytes, bool] | None:
    """The body read so far, from the first `message` on, and whether it is whole; None if the
    client disconnected.

    Reading stops once more than Content-Length arrived (a server that lets a body run past
    its announced length): the rest is the framework's to read, and to refuse past its limit.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        if chunks or size:
            message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        more = message.get("more_body", False)
        if not more or size > length:
            body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            return body, not more and size <= length


def _replay(body: bytes, receive: Receive, *, more: bool) -> Receive:
    """A receive that hands the framework the body already read, then the client's own."""
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        message: HTTPRequestEvent = {"type": "http.request", "body": body, "more_body": more}
        return message

    return replay


def front_door(app: Litestar) -> ASGIApp:
    """The served app: an ordinary answer goes to the ingest lane before the framework's stack.

    The lane is also the route's own middleware, but there it runs after the app's router and
    its four app-wide middlewares, which cost an answer more CPU than its checks. An answer
    those would not touch (POST to the exact path, no query string, JSON or no Content-Type, no
    Content-Encoding, an Accept that takes JSON, a valid Host) comes here straight to the lane,
    with what request_context and the security-headers hook give every answer: the request id,
    the security headers and the access line. Anything else, and whatever the lane passes on,
    goes through the whole framework, untouched by this door.
    """
    handler: Any = None
    known_host = b""

    async def door(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal handler, known_host
        if (scope.get("method") != "POST" or scope["path"] != RESPONSES
                or scope["query_string"] or scope.get("root_path")):
            await app(scope, receive, send)
            return
        rid: str | None = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":  # the last one, as request_context reads it
                rid = value.decode("latin-1")[:100]
            elif name == b"content-type":
                if value.split(b";", 1)[0].strip().lower() != b"application/json":
                    break
            elif name == b"accept":
                # Several Accept headers are one list (RFC 9110): the framework joins them.
                if best_media_type(value.decode("latin-1"), _JSON) is None or _repeated(scope, name):
                    break
            elif name == b"content-encoding":
                break
            elif name == b"host" and value != known_host:
                if not is_valid_host(value):
                    break
                known_host = value  # a client sends the same Host every time: checked once
        else:
            if handler is None:
                handler = app.asgi_router.handle_routing(path=RESPONSES, method="POST")[1]
            scope["app"] = scope["litestar_app"] = app
            scope.setdefault("state", {})
            scope["path_params"] = {}
            scope["route_handler"] = handler
            await _served(scope, receive, send, app, rid if rid and rid.isprintable() else fresh_request_id())
            return
        await app(scope, receive, send)

    return door


_JSON = ["application/json"]


def _repeated(scope: Scope, header: bytes) -> bool:
    return sum(1 for name, _ in scope["headers"] if name == header) > 1


async def _served(scope: Scope, receive: Receive, send: Send, app: Litestar, rid: str) -> None:
    """The lane with the request id, security headers and access line every answer has; what
    the lane passes on goes to the framework with the client's own `send`."""
    token = request_id.set(rid)
    started = time.perf_counter()
    status = 0
    passed = False

    async def framework(scope: Scope, receive: Receive, _send: Send) -> None:
        nonlocal passed
        passed = True
        request_id.reset(token)  # the framework's request_context names the request itself
        await app(scope, receive, send)

    async def answered(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            message["headers"] = [*message.get("headers", ()), *SECURITY_HEADERS,
                                  (b"x-request-id", rid.encode())]
        await send(message)

    try:
        await ingest_lane(framework)(scope, receive, answered)
    finally:
        if not passed:
            log_access("POST", RESPONSES, status, started)
            request_id.reset(token)
