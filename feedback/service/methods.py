"""HTTP methods: every GET route answers HEAD too."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import HttpMethod, route
from litestar.handlers import HTTPRouteHandler

GET_AND_HEAD = [HttpMethod.GET, HttpMethod.HEAD]


def get_and_head(path: str | Sequence[str] | None = None, **kwargs: Any) -> HTTPRouteHandler:
    """Litestar's `get` that answers HEAD as well, with the same status and headers.

    Link checkers, chat unfurlers and uptime monitors send HEAD. The server drops the body
    (uvicorn does, and so does httpx's ASGI transport); a handler with side effects checks
    `request.method`.
    """
    return route(path, http_method=GET_AND_HEAD, **kwargs)
