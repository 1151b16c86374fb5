"""API keys in PostgreSQL."""

from __future__ import annotations

import msgspec

from feedback.access.models import ApiKey, Principal
from feedback.service.database import Connection
from surveys.sql import load

Q = load(__file__)


async def insert_key(
    conn: Connection, *, name: str, role: str, owner_id: int | None, prefix: str, key_hash: bytes
) -> ApiKey:
    row = await conn.fetchrow(Q["insert-key"], name, role, owner_id, prefix, key_hash)
    return msgspec.convert(dict(row), ApiKey)  # type: ignore[arg-type]


async def principal_by_hash(conn: Connection, *, key_hash: bytes) -> Principal | None:
    row = await conn.fetchrow(Q["principal-by-hash"], key_hash)
    return None if row is None else msgspec.convert(dict(row), Principal)


async def list_keys(conn: Connection) -> list[ApiKey]:
    return [msgspec.convert(dict(r), ApiKey) for r in await conn.fetch(Q["list-keys"])]


async def revoke_key(conn: Connection, *, key_id: int) -> ApiKey | None:
    row = await conn.fetchrow(Q["revoke-key"], key_id)
    return None if row is None else msgspec.convert(dict(row), ApiKey)


async def owner_exists(conn: Connection, *, owner_id: int) -> bool:
    return bool(await conn.fetchval(Q["owner-exists"], owner_id))
