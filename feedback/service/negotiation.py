"""Content negotiation by RFC 9110 quality values, where q=0 means "not acceptable"."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from litestar.types import ASGIApp, Receive, Scope, Send

from surveys.errors import NotAcceptable

# RFC 9110, 12.4.2: 0 to 1 with at most three decimals.
_QVALUE = re.compile(r"0(\.\d{0,3})?|1(\.0{0,3})?")
# A malformed q (q=high, q=2): the client did name the value, so it is taken, but last.
_MALFORMED_Q = 0.001


def weighted(header: str) -> list[tuple[str, float]]:
    """The values of an Accept or Accept-Language header, lower-cased, with their q, in order."""
    entries: list[tuple[str, float]] = []
    for part in header.split(","):
        value, *params = (piece.strip() for piece in part.split(";"))
        if not value:
            continue
        quality = 1.0
        for param in params:
            name, _, raw = param.partition("=")
            if name.strip().lower() == "q":
                raw = raw.strip()
                quality = float(raw) if _QVALUE.fullmatch(raw) else _MALFORMED_Q
                break
        entries.append((value.lower(), quality))
    return entries


def _specificity(media_range: str, offered: str) -> int | None:
    """How closely a media range names `offered`: 2 exactly, 1 by type/*, 0 by */*; None: not."""
    if media_range == offered:
        return 2
    if media_range == "*/*":
        return 0
    main, _, sub = media_range.partition("/")
    return 1 if sub == "*" and main == offered.partition("/")[0] else None


def _quality(ranges: list[tuple[str, float]], offered: str) -> float:
    """The q of the most specific range that names `offered` (RFC 9110, 12.5.1); 0 for none."""
    closest, quality = -1, 0.0
    for media_range, q in ranges:
        specificity = _specificity(media_range, offered)
        if specificity is not None and specificity > closest:
            closest, quality = specificity, q
    return quality


def best_media_type(accept: str | None, offered: Sequence[str]) -> str | None:
    """The offered type the client ranks highest, the first offered on a tie; None if it refuses all.

    No Accept header (or an empty one) accepts anything: the first offered.
    """
    if accept is None or not accept.strip():
        return offered[0]
    ranges = weighted(accept)
    quality, _, chosen = max((_quality(ranges, o), -i, o) for i, o in enumerate(offered))
    return chosen if quality > 0 else None


# A route handler's `media_types=` (in its opt): the types its 200 comes in, the first preferred.
# Every other API operation answers JSON only.
MEDIA_TYPES = "media_types"
JSON_ONLY = ("application/json",)


def answers_in(handler: Any) -> Sequence[str]:
    """The media types a route handler's answer comes in."""
    opt = getattr(handler, "opt", None) or {}
    offered: Sequence[str] = opt.get(MEDIA_TYPES, JSON_ONLY)
    return offered


def accept_header(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """Every Accept header of a request as one value (RFC 9110 allows several); None without."""
    values = [value.decode("latin-1") for name, value in headers if name == b"accept"]
    return ", ".join(values) if values else None


def refusal(offered: Sequence[str]) -> NotAcceptable:
    return NotAcceptable(f"Accept refuses every type this answers in: {', '.join(offered)}.")


def acceptable_answers(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: an API request whose Accept refuses every type its operation answers in
    is a 406 naming them, before the operation runs.

    Without it, Accept: text/csv or image/png on a JSON-only operation got a 200 in JSON. An
    answer with no body (204) has no type to refuse; OPTIONS has none either. Errors are
    problem+json whatever Accept says: RFC 9110 lets a 406 (or any error) be sent in a type the
    client did not ask for, and a client reading problems sends `application/json` anyway.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        if (scope.get("method", "OPTIONS") != "OPTIONS" and scope["path"].startswith("/api/")
                and getattr(handler, "status_code", None) != 204):
            offered = answers_in(handler)
            if best_media_type(accept_header(scope["headers"]), offered) is None:
                raise refusal(offered)
        await app(scope, receive, send)

    return middleware
