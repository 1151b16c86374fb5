"""HTTP methods: every GET route answers HEAD too, and OPTIONS lists every method of a path."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import HttpMethod, route
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.types import Scope

GET_AND_HEAD = [HttpMethod.GET, HttpMethod.HEAD]


def get_and_head(path: str | Sequence[str] | None = None, **kwargs: Any) -> HTTPRouteHandler:
    """Litestar's `get` that answers HEAD as well, with the same status and headers.

    Link checkers, chat unfurlers and uptime monitors send HEAD. The server drops the body
    (uvicorn does, and so does httpx's ASGI transport); a handler with side effects checks
    `request.method`.
    """
    return route(path, http_method=GET_AND_HEAD, **kwargs)


def allow_every_method(scope: Scope, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The headers of an OPTIONS answer, its Allow listing every method the path takes.

    Litestar 2 answers OPTIONS with the methods of the first handler registered on a path only
    (litestar-org/litestar#4169, fixed in Litestar 3): GET, OPTIONS on /api/v1/journeys/{id},
    which takes PATCH and DELETE too. The router's 405 lists them all already.
    """
    template = scope.get("path_template")
    methods: set[str] = set()
    for candidate in scope["litestar_app"].routes:
        if isinstance(candidate, HTTPRoute) and candidate.path_format == template:
            methods |= candidate.methods
    if not methods:
        return headers
    allow = ", ".join(sorted(methods)).encode()
    return [(name, allow if name == b"allow" else value) for name, value in headers]
