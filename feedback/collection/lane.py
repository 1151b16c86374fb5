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

from contextlib import suppress
from typing import Any

import msgspec
from litestar import Request
from litestar.types import (
    ASGIApp,
    HTTPRequestEvent,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)

from feedback.access.models import Role
from feedback.access.service import require
from feedback.collection import service
from feedback.collection.models import ResponseCreate
from feedback.service.problems import error_response

# The app's request_max_body_size: a larger body goes to the framework for its 413.
MAX_BODY = 2 * 1024 * 1024

_decoder = msgspec.json.Decoder(ResponseCreate)
RESPONSES = "/api/v1/responses"


class _Answer(msgspec.Struct):
    """The one field of a stored answer that its URL needs."""

    id: str


_answer = msgspec.json.Decoder(_Answer)


def answer_headers(stored: service.Stored) -> dict[str, str]:
    """Where the stored answer is read (GET /api/v1/responses/{id}): a new one's Location (201);
    on a 200, whose body is an invitation's answer as changed and as GET shows it, Content-Location
    (RFC 9110 8.7: Location means nothing on a 200). Read from the body, so that a replay of it
    (Idempotency-Key) says what the first answer said."""
    name = {201: "Location", 200: "Content-Location"}.get(stored.status)
    return {} if name is None else {name: f"{RESPONSES}/{_answer.decode(stored.body).id}"}


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
            state = scope["app"].state
            principal = await state.key_cache.principal(
                state.pool, None if authorization is None else authorization.decode("latin-1"))
            require(principal, Role.INGEST)  # a refused key is a 401/403 before the body is read
            read = await _body(receive, length)
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
                    state.pool, state.response_writer, state.comment_reader, state.touchpoints,
                    principal, data, None if key is None else key.decode("latin-1"),
                    edit_days=state.settings.edit_window_days)
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


async def _body(receive: Receive, length: int) -> tuple[bytes, bool] | None:
    """The body read so far and whether it is whole; None if the client disconnected.

    Reading stops once more than Content-Length arrived (a server that lets a body run past
    its announced length): the rest is the framework's to read, and to refuse past its limit.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
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
