"""Expiring signed share links for owner reports and journey maps: no API key, no stored state.

token = base64url(expiry (8 bytes, big-endian Unix seconds) + HMAC-SHA256(secret_key,
purpose + id (decimal ASCII) + expiry)), purpose b"owner-report:" or b"journey-map:".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from datetime import UTC, datetime

from feedback.insight.models import ShareLink
from feedback.settings import Settings
from surveys.errors import Gone, NotFound

_PURPOSE = b"owner-report:"
JOURNEY_PURPOSE = b"journey-map:"
_EXPIRY_BYTES = 8
_TOKEN_BYTES = _EXPIRY_BYTES + hashlib.sha256().digest_size
MAX_DAYS = 365


class ShareExpired(Gone):
    """This share link has expired; ask for a new one."""


def _mac(secret: str, owner_id: int, expiry: bytes, purpose: bytes = _PURPOSE) -> bytes:
    message = purpose + str(owner_id).encode() + expiry
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def make_token(secret: str, owner_id: int, expires_at: int, purpose: bytes = _PURPOSE) -> str:
    expiry = expires_at.to_bytes(_EXPIRY_BYTES, "big")
    mac = _mac(secret, owner_id, expiry, purpose)
    return base64.urlsafe_b64encode(expiry + mac).decode().rstrip("=")


def check_token(secret: str, owner_id: int, token: str, now: float | None = None,
                purpose: bytes = _PURPOSE) -> int:
    """The token's expiry if it was made for this owner; NotFound if not, ShareExpired if late."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise NotFound("No such report.") from None
    if len(raw) != _TOKEN_BYTES:
        raise NotFound("No such report.")
    expiry, mac = raw[:_EXPIRY_BYTES], raw[_EXPIRY_BYTES:]
    # A link for another owner is indistinguishable from a link that never existed.
    if not hmac.compare_digest(mac, _mac(secret, owner_id, expiry, purpose)):
        raise NotFound("No such report.")
    expires_at = int.from_bytes(expiry, "big")
    if expires_at <= (time.time() if now is None else now):
        raise ShareExpired()
    return expires_at


def share_link(settings: Settings, owner_id: int, days: int, now: float | None = None) -> ShareLink:
    """A link to the owner's report that opens without a key for `days` days."""
    expires_at = int(now if now is not None else time.time()) + days * 86_400
    token = make_token(settings.secret_key, owner_id, expires_at)
    return ShareLink(
        url=f"{settings.base_url}/reports/owners/{owner_id}?share={token}",
        expires_at=datetime.fromtimestamp(expires_at, UTC),
    )


def journey_share_link(settings: Settings, journey_id: int, days: int, now: float | None = None) -> ShareLink:
    """A link to the whole journey map that opens without a key for `days` days."""
    expires_at = int(now if now is not None else time.time()) + days * 86_400
    token = make_token(settings.secret_key, journey_id, expires_at, JOURNEY_PURPOSE)
    return ShareLink(
        url=f"{settings.base_url}/reports/journeys/{journey_id}?share={token}",
        expires_at=datetime.fromtimestamp(expires_at, UTC),
    )
