"""Cached API keys and touchpoints: a change made anywhere takes effect at once on every instance
(migration 0009's notifications, feedback/service/invalidation.py), and the listener survives
losing its connection."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
from litestar import Litestar

from feedback.access.models import NewKey, Role
from feedback.access.service import create_key, revoke_key
from feedback.service.app import create_app
from feedback.service.cache import TtlCache
from feedback.service.database import Connection, connect
from feedback.service.invalidation import CHANNEL, InvalidationListener
from feedback.settings import Settings
from tests.conftest import bearer, cli_with_env
from tests.test_collection_support import Client, Headers, touchpoint, world


@asynccontextmanager
async def instance(app: Litestar) -> AsyncIterator[Client]:
    """An app with its lifespan running and a client for it: one instance of the service."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def run_lifespan() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run_lifespan())
    await asyncio.wait_for(started.wait(), 30)
    try:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
            yield client
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@asynccontextmanager
async def two_instances(settings: Settings, database_url: str) -> AsyncIterator[tuple[Litestar, Client, Client]]:
    """Two instances on one database, both listening; the first app is returned for its state."""
    first, second = create_app(settings, database_url), create_app(settings, database_url)
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(instance(first))
        b = await stack.enter_async_context(instance(second))
        for app in (first, second):
            await asyncio.wait_for(app.state.cache_listener.connected.wait(), 10)
        yield first, a, b


async def within_a_second(check: Callable[[], Awaitable[bool]]) -> bool:
    """Whether `check` comes true within a second: time for a notification, not for a TTL."""
    deadline = time.monotonic() + 1.0
    while not await check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def test_each_change_names_what_it_changed_and_only_once_committed(
        database_url: str, conn: Connection, client: Client, admin: Headers) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    record, _ = await create_key(conn, NewKey(role=Role.INGEST))
    heard: list[str] = []
    end = asyncio.Event()

    def hear(_conn: object, _pid: int, _channel: str, payload: object) -> None:
        heard.append(str(payload))
        if payload == "end":
            end.set()

    async with connect(database_url) as listening:
        await listening.add_listener(CHANNEL, hear)

        async def sent(*statements: str) -> list[str]:
            heard.clear()
            end.clear()
            for sql in statements:
                await conn.execute(sql)
            # Notifications come in commit order: all of the change's are in before this one.
            await conn.execute(f"NOTIFY {CHANNEL}, 'end'")
            await asyncio.wait_for(end.wait(), 5)
            return heard[:-1]

        assert await sent(f"UPDATE owners SET share_epoch = share_epoch + 1 WHERE id = {w['owner']}") == []
        assert await sent("BEGIN", "UPDATE touchpoints SET active = false", "ROLLBACK") == []
        assert await sent("UPDATE touchpoints SET active = false") == ["touchpoint:delivery"]
        assert await sent(f"UPDATE stages SET name = 'Help' WHERE id = {w['stage']}") == ["touchpoint:delivery"]
        assert await sent(f"UPDATE owners SET name = 'Care' WHERE id = {w['owner']}") == ["touchpoint:delivery"]
        assert await sent("UPDATE touchpoints SET key = 'renamed'") == ["touchpoint:delivery"]
        assert await sent(f"UPDATE api_keys SET revoked_at = now() WHERE id = {record.id}") == [f"key:{record.id}"]
        assert await sent(f"DELETE FROM api_keys WHERE id = {record.id}") == [f"key:{record.id}"]


async def test_a_key_revoked_with_the_cli_is_refused_at_once_by_every_instance(
        settings: Settings, database_url: str, conn: Connection) -> None:
    record, key = await create_key(conn, NewKey(role=Role.ADMIN, name="laptop"))
    async with two_instances(settings, database_url) as (_, a, b):
        for client in (a, b):  # both instances now hold the key in their cache
            assert (await client.get("/api/v1/touchpoints", headers=bearer(key))).status_code == 200
        done = await asyncio.to_thread(cli_with_env, "keys", "revoke", str(record.id), env={
            "DATABASE_URL": database_url, "TOUCHPULSE_SECRET_KEY": settings.secret_key,
            "TOUCHPULSE_DATA_DIR": str(settings.data_dir)})
        assert done.returncode == 0, done.stderr

        async def refused(client: Client) -> bool:
            return (await client.get("/api/v1/touchpoints", headers=bearer(key))).status_code == 401

        assert await within_a_second(lambda: refused(a)) and await within_a_second(lambda: refused(b))


async def test_a_touchpoint_paused_on_one_instance_takes_no_answer_on_another_at_once(
        settings: Settings, database_url: str, admin: Headers) -> None:
    async with two_instances(settings, database_url) as (_, a, b):
        w = await world(a, admin)
        await touchpoint(a, admin, w, "delivery")
        answer = {"touchpoint": "delivery", "score": 4}
        assert (await b.post("/api/v1/responses", json=answer, headers=admin)).status_code == 201
        paused = await a.patch("/api/v1/touchpoints/delivery", json={"active": False}, headers=admin)
        assert paused.status_code == 200, paused.text

        async def refused() -> bool:
            r = await b.post("/api/v1/responses", json=answer, headers=admin)
            return r.status_code == 409 and r.json()["type"].endswith("/touchpoint-paused")

        assert await within_a_second(refused)


async def test_renaming_a_touchpoints_owner_reaches_the_cache_at_once(
        settings: Settings, database_url: str, admin: Headers) -> None:
    async with two_instances(settings, database_url) as (first, a, b):
        w = await world(a, admin)
        await touchpoint(a, admin, w, "delivery")
        cache = first.state.touchpoints
        assert (found := await cache.get(first.state.pool, "delivery")) is not None and found.owner == "Support"
        renamed = await b.patch(f"/api/v1/owners/{w['owner']}", json={"name": "Care"}, headers=admin)
        assert renamed.status_code == 200, renamed.text

        async def fresh() -> bool:
            found = await cache.get(first.state.pool, "delivery")
            return found is not None and found.owner == "Care"

        assert await within_a_second(fresh)


async def test_the_listener_reconnects_after_its_connection_is_terminated(
        settings: Settings, database_url: str, conn: Connection, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "touchpulse.invalidation")
    record, key = await create_key(conn, NewKey(role=Role.ADMIN))
    async with two_instances(settings, database_url) as (first, a, _):
        listener: InvalidationListener = first.state.cache_listener
        old_pid = listener.backend_pid
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", old_pid)
        # Requests go on while it is away and after; it comes back on a new backend by itself.
        assert (await a.get("/api/v1/touchpoints", headers=bearer(key))).status_code == 200
        deadline = time.monotonic() + 10
        while not (listener.connected.is_set() and listener.backend_pid not in (None, old_pid)):
            assert time.monotonic() < deadline, "the listener did not reconnect"
            await asyncio.sleep(0.02)
        assert "listening connection lost" in caplog.text
        assert (await a.get("/api/v1/touchpoints", headers=bearer(key))).status_code == 200
        await revoke_key(conn, record.id)

        async def refused() -> bool:
            return (await a.get("/api/v1/touchpoints", headers=bearer(key))).status_code == 401

        assert await within_a_second(refused)


class _Cable:
    """A line to PostgreSQL's socket that can go dead without a word, as a network that drops
    packets does: after `cut()` nothing passes on the connections open then, and nothing is
    closed (no termination reaches asyncpg). Connections opened later pass."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.dead: set[asyncio.StreamWriter] = set()
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def start(self, path: str) -> None:
        self.server = await asyncio.start_unix_server(self._serve, path=path)

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_unix_connection(self.target)
        self.writers += [client_w, server_w]

        async def pump(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            while data := await r.read(65536):
                if client_w not in self.dead:
                    w.write(data)

        await asyncio.gather(pump(client_r, server_w), pump(server_r, client_w), return_exceptions=True)

    def cut(self) -> None:
        self.dead.update(self.writers)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for w in self.writers:
            w.close()


async def test_the_keep_alive_notices_a_connection_gone_silent_and_listens_again(
        database_url: str, conn: Connection) -> None:
    # pg_terminate_backend closes the socket, which asyncpg notices at once (the test above);
    # a connection cut somewhere on the network says nothing, and only the listener's ping
    # (`ping` seconds; 10 in the service) finds it dead.
    parts = urlsplit(database_url)
    socket = f"{parse_qs(parts.query)['host'][0]}/.s.PGSQL.{await conn.fetchval('SHOW port')}"
    here = tempfile.mkdtemp(prefix="tp-cable-")  # short: a socket's path has at most 107 bytes
    cable = _Cable(socket)
    await cable.start(f"{here}/.s.PGSQL.5432")
    cache: TtlCache[str, int] = TtlCache(60, keep_none=False)
    loads = 0

    async def load() -> int:
        nonlocal loads
        loads += 1
        return loads

    async def dropped_on(notification: str) -> bool:
        await cache.get("7", load)
        before = loads
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, notification)

        async def reloaded() -> bool:
            await cache.get("7", load)
            return loads > before

        return await within_a_second(reloaded)

    listener = InvalidationListener(f"postgresql://postgres@{parts.path}?host={here}&port=5432",
                                    {"key": cache}, ping=0.2, first_retry=0.05)
    listener.start()
    try:
        await asyncio.wait_for(listener.connected.wait(), 10)
        old_pid = listener.backend_pid
        assert await dropped_on("key:7")
        cable.cut()
        deadline = time.monotonic() + 5
        while not (listener.connected.is_set() and listener.backend_pid not in (None, old_pid)):
            assert time.monotonic() < deadline, "the silent connection was not noticed"
            await asyncio.sleep(0.02)
        # Listening again: a later change still reaches the cache.
        assert await dropped_on("key:7")
    finally:
        await listener.close()
        await cable.close()
        shutil.rmtree(here)
        await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                           "touchpulse cache listener")


async def test_an_unreachable_listener_neither_fails_nor_holds_up_the_service(
        settings: Settings, database_url: str, admin: Headers, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    async def refuse(*_args: object, **_kwargs: object) -> asyncpg.Connection[asyncpg.Record]:
        raise OSError("connection refused")

    # The pool connects through asyncpg's own internals: only the listener meets the refusal.
    monkeypatch.setattr(asyncpg, "connect", refuse)
    app = create_app(settings, database_url)
    began = time.monotonic()
    async with instance(app) as client:
        assert (await client.get("/api/v1/touchpoints", headers=admin)).status_code == 200
        await asyncio.sleep(0.3)
        assert not app.state.cache_listener.connected.is_set()
    assert time.monotonic() - began < 10
    assert "cannot connect" in caplog.text


async def test_a_load_in_flight_when_its_entry_is_dropped_is_not_kept() -> None:
    cache: TtlCache[str, int] = TtlCache(60, keep_none=False)
    reading, release = asyncio.Event(), asyncio.Event()
    loads = 0

    async def slow_load() -> int:
        nonlocal loads
        loads += 1
        reading.set()
        await release.wait()
        return 1  # read before the change committed

    async def load() -> int:
        nonlocal loads
        loads += 1
        return 2

    first = asyncio.create_task(cache.get("delivery", slow_load))
    await reading.wait()
    cache.drop("delivery")  # the notification of a change overtakes the slow read
    # A request after the notification does not wait for the old read: it reads anew.
    assert await cache.get("delivery", load) == 2
    release.set()
    assert await first == 1
    assert await cache.get("delivery", load) == 2 and loads == 2
