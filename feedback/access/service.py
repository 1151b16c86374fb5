"""Making, checking and revoking API keys."""

from __future__ import annotations

import hashlib
import secrets

from feedback.access import repository
from feedback.access.models import MAX_NAME, ApiKey, NewKey, Principal, Role
from feedback.service.cache import TtlCache
from feedback.service.database import Connection, Pool
from surveys.errors import Forbidden, NotFound, Unauthorized, invalid
from surveys.text import CONTROL_MESSAGE, has_control, unpadded

_PREFIX = "tp_"


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def _key_name(name: str) -> str:
    """The name without the spaces around it; a control character inside it is refused, as in
    every other stored name: it would break the `keys list` line (and NUL the insert)."""
    clean = unpadded(name)
    if has_control(clean):
        raise invalid("name", CONTROL_MESSAGE)
    if len(clean) > MAX_NAME:
        raise invalid("name", f"may be at most {MAX_NAME} characters")
    return clean


async def create_key(conn: Connection, new: NewKey) -> tuple[ApiKey, str]:
    """Create a key; the plain key is returned once and never stored."""
    name = _key_name(new.name)
    if new.role is Role.OWNER:
        if new.owner_id is None:
            raise invalid("owner_id", "an owner key needs --owner")
        if not await repository.owner_exists(conn, owner_id=new.owner_id):
            raise invalid("owner_id", f"owner {new.owner_id} does not exist")
    elif new.owner_id is not None:
        raise invalid("owner_id", "only owner keys belong to an owner")
    prefix = secrets.token_hex(4)
    key = f"{_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    record = await repository.insert_key(
        conn, name=name, role=new.role, owner_id=new.owner_id, prefix=prefix, key_hash=hash_key(key)
    )
    return record, key


async def revoke_key(conn: Connection, key_id: int) -> ApiKey:
    record = await repository.revoke_key(conn, key_id=key_id)
    if record is None:
        raise NotFound(f"API key {key_id} does not exist")
    return record


class KeyCache:
    """Recently checked keys, so a busy ingest client costs no lookup per request.

    A change to a key (revoked, deleted, its role) drops its entry at once on every instance
    (feedback/service/invalidation.py); the few seconds' TTL is the fallback while that
    instance has no listening connection.
    """

    def __init__(self, ttl: float = 5.0, size: int = 10_000) -> None:
        # Unknown keys are remembered too: a client retrying a bad key costs no lookups.
        self._cache: TtlCache[bytes, Principal] = TtlCache(ttl, size, keep_none=True)

    async def principal(self, pool: Pool, authorization: str | None) -> Principal:
        digest = _digest(authorization)
        cached = self._cache.fresh(digest)
        return _valid(cached[1] if cached is not None else await self._load(pool, digest))

    def principal_now(self, authorization: str | None) -> Principal | None:
        """As `principal` for a key checked in the last seconds, without a coroutine (every
        request of a busy client); None when `principal` must look it up."""
        cached = self._cache.fresh(_digest(authorization))
        return None if cached is None else _valid(cached[1])

    async def _load(self, pool: Pool, digest: bytes) -> Principal | None:
        async def load() -> Principal | None:
            async with pool.acquire() as conn:
                return await repository.principal_by_hash(conn, key_hash=digest)

        return await self._cache.get(digest, load)

    def drop(self, key_id: str) -> None:
        """Forget the key with this id, and the remembered unknown keys (a key made valid
        again must work at once too)."""
        wanted = int(key_id)
        self._cache.drop_where(lambda found: found is None or found.key_id == wanted)

    def clear(self) -> None:
        self._cache.clear()


def _digest(authorization: str | None) -> bytes:
    if not authorization:
        raise Unauthorized()
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key.strip().startswith(_PREFIX):
        raise Unauthorized("The Authorization header must be 'Bearer <API key>'.")
    return hash_key(key.strip())


def _valid(found: Principal | None) -> Principal:
    if found is None:
        raise Unauthorized("This API key is not valid or has been revoked.")
    return found


# Read once: on Python 3.11 an Enum class's member is read through EnumType.__getattr__'s slow
# hook, and every answer is checked here.
_ADMIN = Role.ADMIN


def require(principal: Principal, *roles: Role) -> None:
    """Refuse a principal whose role is not among `roles` (admin is always allowed)."""
    if principal.role is not _ADMIN and principal.role not in roles:
        allowed = ", ".join(["admin", *(r.value for r in roles)])
        raise Forbidden(f"This route needs a key with role {allowed}; this key is {principal.role.value}.")
