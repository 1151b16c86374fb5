"""Opaque cursors for keyset pagination."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

import msgspec

from surveys.errors import invalid

# Ids are bigint: a larger number in a tampered cursor is refused here, not by the database.
MAX_ID = 2**63 - 1
Limit = Annotated[int, msgspec.Meta(ge=1, le=500, description="Items per page, 1–500.")]


def encode_cursor(*values: str | int) -> str:
    raw = msgspec.json.encode(list(values))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, shape: tuple[type, ...] = (int,)) -> list[str | int] | None:
    """The values behind a cursor; a cursor that is not ours is a 422 naming `cursor`."""
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = msgspec.json.decode(raw)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise invalid("cursor", "is not a cursor this API gave out") from None
    if not isinstance(values, list) or len(values) != len(shape) or not all(
        isinstance(v, t) and not isinstance(v, bool) and (not isinstance(v, int) or 0 <= v <= MAX_ID)
        for v, t in zip(values, shape, strict=True)
    ):
        raise invalid("cursor", "is not a cursor this API gave out")
    return values


def after_id(cursor: str | None) -> int:
    values = decode_cursor(cursor)
    return 0 if values is None else int(values[0])
