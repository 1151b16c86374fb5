"""Making, checking and revoking API keys."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time

from feedback.access import repository
from feedback.access.models import ApiKey, NewKey, Principal, Role
from feedback.service.database import Connection, Pool
from surveys.errors import Forbidden, NotFound, Unauthorized, invalid

_PREFIX = "tp_"


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


async def create_key(conn: Connection, new: NewKey) -> tuple[ApiKey, str]:
    """Create a key; the plain key is returned once and never stored."""
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
        conn, name=new.name, role=new.role, owner_id=new.owner_id, prefix=prefix, key_hash=hash_key(key)
    )
    return record, key


async def revoke_key(conn: Connection, key_id: int) -> ApiKey:
    record = await repository.revoke_key(conn, key_id=key_id)
    if record is None:
        raise NotFound(f"API key {key_id} does not exist")
    return record


class KeyCache:
    """Recently checked keys, so a busy ingest client costs no lookup per request.

    Entries live a few seconds: a revoked key stops working within that time.
    """

    def __init__(self, ttl: float = 5.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[bytes, tuple[float, Principal | None]] = {}
        # One lookup per key at a time: the burst of requests a busy client opens with (or
        # sends when an entry expires) waits for it instead of taking a pool connection each.
        self._loading: dict[bytes, asyncio.Future[Principal | None]] = {}

    async def principal(self, pool: Pool, authorization: str | None) -> Principal:
        if not authorization:
            raise Unauthorized()
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip().startswith(_PREFIX):
            raise Unauthorized("The Authorization header must be 'Bearer <API key>'.")
        digest = hash_key(key.strip())
        now = time.monotonic()
        cached = self._entries.get(digest)
        if cached is not None and cached[0] > now:
            found = cached[1]
        elif digest in self._loading:
            found = await asyncio.shield(self._loading[digest])
        else:
            found = await self._load(pool, digest, now)
        if found is None:
            raise Unauthorized("This API key is not valid or has been revoked.")
        return found

    async def _load(self, pool: Pool, digest: bytes, now: float) -> Principal | None:
        future: asyncio.Future[Principal | None] = asyncio.get_running_loop().create_future()
        self._loading[digest] = future
        try:
            async with pool.acquire() as conn:
                found = await repository.principal_by_hash(conn, key_hash=digest)
        except BaseException as exc:
            if isinstance(exc, Exception):
                future.set_exception(exc)
                future.exception()  # marked retrieved: the waiters, if any, get it too
            else:
                future.cancel()
            raise
        else:
            future.set_result(found)
        finally:
            del self._loading[digest]
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[digest] = (now + self.ttl, found)
        return found


def require(principal: Principal, *roles: Role) -> None:
    """Refuse a principal whose role is not among `roles` (admin is always allowed)."""
    if principal.role is not Role.ADMIN and principal.role not in roles:
        allowed = ", ".join(["admin", *(r.value for r in roles)])
        raise Forbidden(f"This route needs a key with role {allowed}; this key is {principal.role.value}.")
