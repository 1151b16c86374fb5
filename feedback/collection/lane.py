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


def ingest_lane(app: ASGIApp) -> ASGIApp:
    """Route middleware for the ingest handler `app`."""

    async def lane(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") != "POST":
            await app(scope, receive, send)
            return
        authorization = key = content_type = None
        length = -1
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = authorization or value
            elif name == b"idempotency-key":
                key = key or value
            elif name == b"content-type":
                content_type = value
            elif name == b"content-length":
                length = int(value) if value.isdigit() else -1
        if not 0 < length <= MAX_BODY or (
                content_type is not None and not content_type.startswith(b"application/json")):
            await app(scope, receive, send)
            return
        try:
            state = scope["app"].state
            principal = await state.key_cache.principal(
                state.pool, None if authorization is None else authorization.decode("latin-1"))
            require(principal, Role.INGEST)  # a refused key is a 401/403 before the body is read
            body = await _body(receive)
            if body is None:
                return  # the client left before sending its answer: nothing to store or say
            data: ResponseCreate | None
            try:
                data = _decoder.decode(body)
            except (msgspec.ValidationError, msgspec.DecodeError):
                data = None  # the framework's handler answers it (or accepts what it coerces)
            if data is not None:
                stored = await service.submit_response(
                    state.pool, state.response_writer, state.comment_reader, state.touchpoints,
                    principal, data, None if key is None else key.decode("latin-1"))
        except Exception as exc:  # every failure goes through the one error map
            await error_response(Request(scope, receive), exc)(scope, receive, send)
            return
        if data is None:
            await app(scope, _replay(body, receive), send)
            return
        start: HTTPResponseStartEvent = {
            "type": "http.response.start", "status": stored.status,
            "headers": [(b"content-type", b"application/json"),
                        (b"content-length", b"%d" % len(stored.body))]}
        await send(start)
        answer: HTTPResponseBodyEvent = {"type": "http.response.body", "body": stored.body,
                                         "more_body": False}
        await send(answer)

    return lane


async def _body(receive: Receive) -> bytes | None:
    """The request body (uvicorn holds it to Content-Length); None if the client disconnected."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the framework the body already read, then the client's own."""
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        message: HTTPRequestEvent = {"type": "http.request", "body": body, "more_body": False}
        return message

    return replay
