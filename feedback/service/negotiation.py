"""Content negotiation by RFC 9110 quality values, where q=0 means "not acceptable"."""

from __future__ import annotations

import re
from collections.abc import Sequence

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
