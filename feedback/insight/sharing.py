"""Expiring signed share links for owner reports and journey maps: no API key, no stored token.

token = base64url(expiry (8 bytes, big-endian Unix seconds) + HMAC-SHA256(secret_key,
purpose + id (decimal ASCII) [+ "." + share epoch (decimal ASCII), when not 0] + expiry)),
purpose b"owner-report:" or b"journey-map:". The epoch is the owner's (journey's) count of
revocations: bumping it invalidates every link made before, for that owner (journey) only.
Epoch 0 signs what links signed before revocation existed, so those keep working.
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

OWNER_PURPOSE = b"owner-report:"
JOURNEY_PURPOSE = b"journey-map:"
_EXPIRY_BYTES = 8
_TOKEN_BYTES = _EXPIRY_BYTES + hashlib.sha256().digest_size
_TOKEN_CHARS = -(-_TOKEN_BYTES * 4 // 3)  # base64url without its padding
MAX_DAYS = 365


class ShareExpired(Gone):
    """This share link has expired; ask for a new one."""

    def __init__(self, expires_at: datetime) -> None:
        self.expires_at = expires_at
        super().__init__()


def _mac(secret: str, owner_id: int, expiry: bytes, purpose: bytes = OWNER_PURPOSE, epoch: int = 0) -> bytes:
    # The "." keeps messages unambiguous: an id is digits only, the expiry always 8 bytes.
    revision = b"." + str(epoch).encode() if epoch else b""
    message = purpose + str(owner_id).encode() + revision + expiry
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def make_token(secret: str, owner_id: int, expires_at: int, purpose: bytes = OWNER_PURPOSE,
               epoch: int = 0) -> str:
    expiry = expires_at.to_bytes(_EXPIRY_BYTES, "big")
    mac = _mac(secret, owner_id, expiry, purpose, epoch)
    return base64.urlsafe_b64encode(expiry + mac).decode().rstrip("=")


def read_token(token: str) -> tuple[bytes, bytes]:
    """The token's expiry and MAC bytes; NotFound if it is not shaped like a token at all."""
    if len(token) != _TOKEN_CHARS:  # not even decoded, however long it is
        raise NotFound("No such report.")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise NotFound("No such report.") from None
    # The last character holds 2 bits of the MAC and 4 spare bits: a token whose spare bits are
    # not zero decodes to the same bytes, so only the one spelling make_token writes is accepted.
    if base64.urlsafe_b64encode(raw)[:_TOKEN_CHARS] != token.encode():
        raise NotFound("No such report.")
    return raw[:_EXPIRY_BYTES], raw[_EXPIRY_BYTES:]


def check_token(secret: str, owner_id: int, token: str, now: float | None = None,
                purpose: bytes = OWNER_PURPOSE, epoch: int = 0) -> int:
    """The token's expiry if it was made for this owner and epoch; NotFound if not, ShareExpired if late."""
    expiry, mac = read_token(token)
    # A link for another owner, or one revoked, is indistinguishable from one that never existed.
    if not hmac.compare_digest(mac, _mac(secret, owner_id, expiry, purpose, epoch)):
        raise NotFound("No such report.")
    expires_at = int.from_bytes(expiry, "big")
    if expires_at <= (time.time() if now is None else now):
        raise ShareExpired(datetime.fromtimestamp(expires_at, UTC))
    return expires_at


def share_link(settings: Settings, owner_id: int, days: int, now: float | None = None,
               epoch: int = 0) -> ShareLink:
    """A link to the owner's report that opens without a key for `days` days, until revoked."""
    expires_at = int(now if now is not None else time.time()) + days * 86_400
    token = make_token(settings.secret_key, owner_id, expires_at, epoch=epoch)
    return ShareLink(
        url=f"{settings.base_url}/reports/owners/{owner_id}?share={token}",
        expires_at=datetime.fromtimestamp(expires_at, UTC),
    )


def journey_share_link(settings: Settings, journey_id: int, days: int, now: float | None = None,
                       epoch: int = 0) -> ShareLink:
    """A link to the whole journey map that opens without a key for `days` days, until revoked."""
    expires_at = int(now if now is not None else time.time()) + days * 86_400
    token = make_token(settings.secret_key, journey_id, expires_at, JOURNEY_PURPOSE, epoch)
    return ShareLink(
        url=f"{settings.base_url}/reports/journeys/{journey_id}?share={token}",
        expires_at=datetime.fromtimestamp(expires_at, UTC),
    )
