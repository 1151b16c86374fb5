"""Query strings on the API are as strict as its bodies: unknown or repeated parameters are a 422."""

from __future__ import annotations

from collections import Counter
from typing import Any, NamedTuple

from litestar import Litestar
from litestar._parsers import parse_query_string
from litestar.enums import ParamType
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Receive, Scope, Send

from surveys.errors import FieldError, invalid_each

# What the OpenAPI description and /docs say of it; the check below is what they describe.
STRICT_QUERIES = ("Query strings are checked as bodies are: a query parameter the operation does not "
                  "list is a 422 naming it (and listing those it takes), and one given more than once "
                  "is a 422 naming it.")


class Accepted(NamedTuple):
    """The query parameters one route handler reads; `names` None: it reads the whole query."""

    names: frozenset[str] | None
    # Declared as lists (none yet): these may be given more than once.
    repeatable: frozenset[str]


# Where an app keeps what its handlers accept, learnt at its first request with a query.
_STATE_KEY = "query_parameters"


def _learn(app: Litestar) -> dict[int, Accepted]:
    """Every handler's query parameters, as Litestar's own model of its signature (and of the
    dependencies it asks for) reads them: the names a client sends, `from` for `start`."""
    accepted: dict[int, Accepted] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler, model in route.route_handler_map.values():
            query = [p for p in model.expected_query_params if p.param_type == ParamType.QUERY]
            whole = "query" in model.expected_reserved_kwargs
            accepted[id(handler)] = Accepted(
                names=None if whole else frozenset(p.field_alias for p in query),
                repeatable=frozenset(p.field_alias for p in query if p.is_sequence))
    return accepted


def accepted_parameters(app: Litestar, handler: Any) -> Accepted:
    """The query parameters `handler`, one of `app`'s, reads."""
    # By handler id: the handlers live as long as their app, which keeps the map.
    known: dict[int, Accepted] | None = app.state.get(_STATE_KEY)
    if known is None:
        known = app.state[_STATE_KEY] = _learn(app)
    return known.get(id(handler), Accepted(names=None, repeatable=frozenset()))


def query_errors(query_string: bytes, accepted: Accepted) -> list[FieldError]:
    """One error per parameter the operation does not take, and per one given too often."""
    if accepted.names is None:
        return []
    counts = Counter(name for name, _ in parse_query_string(query_string))
    takes = ", ".join(sorted(accepted.names))
    unknown = (f"unknown query parameter; this operation takes: {takes}" if takes
               else "unknown query parameter; this operation takes none")
    errors = []
    for name, count in counts.items():
        if name not in accepted.names:
            errors.append(FieldError(name, unknown))
        elif count > 1 and name not in accepted.repeatable:
            errors.append(FieldError(name, f"given {count} times; it takes one value"))
    return errors


def strict_queries(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: an API request's query names only parameters its operation takes, once each.

    Without it a misspelt filter (`form=` for `from=`) was ignored and a repeated one answered
    for its last value alone, so a client got a 200 for a question it did not ask. People's pages
    (/s/, /w/, /reports/) are left alone: mail clients and marketing tools add utm_* and other
    parameters to their links. OPTIONS reads no parameters (a CORS preflight carries the query).
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if (scope.get("query_string") and scope.get("method", "OPTIONS") != "OPTIONS"
                and scope["path"].startswith("/api/")):
            accepted = accepted_parameters(scope["litestar_app"], scope.get("route_handler"))
            errors = query_errors(scope["query_string"], accepted)
            if errors:
                raise invalid_each(errors)
        await app(scope, receive, send)

    return middleware
