"""Crashes and concurrency against real processes: every acknowledged answer is kept exactly once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest

from bench import harness
from feedback.service import migrations
from feedback.service.database import connect
from feedback.service.invalidation import APPLICATION_NAME
from tests.conftest import with_database

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(harness.RESPONSES_PATH not in harness.app_paths(),
                       reason="POST /api/v1/responses route not built yet"),
]

SUBMISSIONS = 2000
IN_FLIGHT = 50


@dataclass
class Outcome:
    """What the client saw: the submissions acknowledged with a 2xx, and the failed attempts."""

    acked: set[str] = field(default_factory=set)
    failures: int = 0
    retried_acks: int = 0


async def _keys(url: str) -> tuple[dict[str, str], dict[str, str]]:
    from feedback.access.models import NewKey, Role
    from feedback.access.service import create_key

    async with connect(url) as conn:
        _, admin = await create_key(conn, NewKey(role=Role.ADMIN))
        _, ingest = await create_key(conn, NewKey(role=Role.INGEST))
    return {"Authorization": f"Bearer {admin}"}, {"Authorization": f"Bearer {ingest}"}


async def _touchpoint(base_url: str, admin: dict[str, str], prefix: str) -> str:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        made = await harness.catalogue(client, admin, prefix=prefix)
    key: str = made[0]["key"]
    return key


async def submit_all(bases: list[str], headers: dict[str, str], touchpoint: str, prefix: str, *,
                     count: int = SUBMISSIONS, deadline: float = 50.0,
                     on_progress: Callable[[int], None] | None = None) -> Outcome:
    """Send `count` answers, `IN_FLIGHT` at a time; retry each failure with its Idempotency-Key."""
    outcome = Outcome()
    sem = asyncio.Semaphore(IN_FLIGHT)
    stop_at = time.monotonic() + deadline
    limits = httpx.Limits(max_connections=IN_FLIGHT * len(bases), max_keepalive_connections=IN_FLIGHT)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:

        async def one(i: int) -> None:
            ref = f"{prefix}-{i}"
            body = harness.response_body(touchpoint, i % 11, f"answer {i}", ref)
            attempt = 0
            async with sem:
                while time.monotonic() < stop_at:
                    base = bases[(i + attempt) % len(bases)]
                    try:
                        r = await client.post(base + harness.RESPONSES_PATH, json=body,
                                              headers={**headers, "Idempotency-Key": ref})
                    except httpx.HTTPError:
                        r = None
                    if r is not None and 200 <= r.status_code < 300:
                        outcome.acked.add(ref)
                        outcome.retried_acks += attempt > 0
                        if on_progress is not None:
                            on_progress(len(outcome.acked))
                        return
                    outcome.failures += 1
                    attempt += 1
                    await asyncio.sleep(min(0.05 * attempt, 0.5))

        await asyncio.gather(*(one(i) for i in range(count)))
    return outcome


async def stored_counts(url: str, prefix: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT customer_ref, count(*) AS n FROM responses "
                                "WHERE customer_ref LIKE $1 GROUP BY customer_ref", prefix + "-%")
    finally:
        await conn.close()
    return {r["customer_ref"]: r["n"] for r in rows}


def assert_exactly_once(outcome: Outcome, stored: dict[str, int], *, all_acked: bool) -> None:
    doubled = {k: n for k, n in stored.items() if n != 1}
    assert not doubled, f"stored more than once: {list(doubled.items())[:10]}"
    lost = outcome.acked - set(stored)
    assert not lost, f"{len(lost)} acknowledged answers are missing, e.g. {sorted(lost)[:10]}"
    if all_acked:
        assert len(outcome.acked) == SUBMISSIONS, (
            f"only {len(outcome.acked)} of {SUBMISSIONS} were acknowledged, even after retries")


async def _readiness(base: str, seen: list[int], stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(timeout=1) as client:
        while not stop.is_set():
            try:
                status = (await client.get(base + "/readyz")).status_code
            except httpx.HTTPError:
                status = 0
            if not seen or seen[-1] != status:
                seen.append(status)
            await asyncio.sleep(0.05)


@pytest.fixture
async def own_postgres() -> AsyncIterator[harness.PostgresInstance]:
    """A PostgreSQL cluster of this test's own, which it may SIGKILL."""
    pg = await asyncio.to_thread(harness.PostgresInstance)
    await asyncio.to_thread(pg.start)
    try:
        yield pg
    finally:
        await asyncio.to_thread(pg.remove)


async def test_database_crash_loses_and_doubles_nothing(own_postgres: harness.PostgresInstance) -> None:
    pg = own_postgres
    service = harness.ServiceProcess(pg.url)
    await asyncio.to_thread(service.start)
    try:
        admin, ingest = await _keys(pg.url)
        touchpoint = await _touchpoint(service.base_url, admin, "dbcrash")
        crashed = asyncio.Event()

        def progress(acked: int) -> None:
            if acked >= SUBMISSIONS // 4:
                crashed.set()

        async def crash_and_restart() -> None:
            await crashed.wait()
            await asyncio.to_thread(pg.kill)
            await asyncio.sleep(2)  # long enough for every in-flight request to hit the outage
            await asyncio.to_thread(pg.start)

        seen: list[int] = []
        stop = asyncio.Event()
        watcher = asyncio.create_task(_readiness(service.base_url, seen, stop))
        chaos = asyncio.create_task(crash_and_restart())
        outcome = await submit_all([service.base_url], ingest, touchpoint, "dbcrash", on_progress=progress)
        await asyncio.wait_for(chaos, 30)
        # The service heals by itself: ready again without a restart.
        for _ in range(200):
            if seen and seen[-1] == 200:
                break
            await asyncio.sleep(0.1)
        stop.set()
        await watcher
        assert service.process is not None and service.process.poll() is None, "the service died"
        assert 503 in seen, f"/readyz never went red: {seen}"
        assert seen[-1] == 200, f"/readyz did not go green again: {seen}"
        assert outcome.failures > 0, "the crash did not reach any request: the test proved nothing"
        assert_exactly_once(outcome, await stored_counts(pg.url, "dbcrash"), all_acked=True)
        await _revocation_reaches(service, pg.url, admin)
    finally:
        await asyncio.to_thread(service.stop)


async def _revocation_reaches(service: harness.ServiceProcess, url: str, admin: dict[str, str]) -> None:
    """The cache listener came back after the crash by itself: a revoked key is refused at once."""
    assert "listening connection lost" in service.log.read_text()
    async with connect(url) as conn:
        for _ in range(200):  # the restarted server knows only connections made since
            if await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                                   APPLICATION_NAME):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the cache listener did not reconnect")
        async with httpx.AsyncClient(base_url=service.base_url, timeout=10) as client:
            assert (await client.get("/api/v1/touchpoints", headers=admin)).status_code == 200  # cached now
            await conn.execute("UPDATE api_keys SET revoked_at = now() WHERE role = 'admin'")
            deadline = time.monotonic() + 1.0
            while (await client.get("/api/v1/touchpoints", headers=admin)).status_code != 401:
                assert time.monotonic() < deadline, "the revocation did not reach the service within 1 s"
                await asyncio.sleep(0.01)


async def test_service_crash_loses_and_doubles_nothing(database_url: str) -> None:
    service = harness.ServiceProcess(database_url)
    await asyncio.to_thread(service.start)
    try:
        admin, ingest = await _keys(database_url)
        touchpoint = await _touchpoint(service.base_url, admin, "svccrash")
        crashed = asyncio.Event()

        def progress(acked: int) -> None:
            if acked >= SUBMISSIONS // 4:
                crashed.set()

        async def crash_and_restart() -> None:
            await crashed.wait()
            await asyncio.to_thread(service.kill)
            await asyncio.sleep(0.5)
            await asyncio.to_thread(service.start)

        chaos = asyncio.create_task(crash_and_restart())
        outcome = await submit_all([service.base_url], ingest, touchpoint, "svccrash", on_progress=progress)
        await asyncio.wait_for(chaos, 60)
        assert outcome.failures > 0, "the crash did not reach any request: the test proved nothing"
        assert_exactly_once(outcome, await stored_counts(database_url, "svccrash"), all_acked=True)
    finally:
        await asyncio.to_thread(service.stop)


@pytest.fixture
async def empty_database(server_url: str) -> AsyncIterator[str]:
    """A database with no schema at all: the services must migrate it."""
    name = f"tp_empty_{time.monotonic_ns()}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield with_database(server_url, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_two_instances_share_one_database(empty_database: str) -> None:
    services = [harness.ServiceProcess(empty_database), harness.ServiceProcess(empty_database)]
    for s in services:  # both at once, on an empty database: the migrations race
        s.start(wait=False)
    try:
        for s in services:
            await asyncio.to_thread(s.wait_ready)
        conn = await asyncpg.connect(empty_database)
        try:
            versions = [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")]
        finally:
            await conn.close()
        assert sorted(versions) == [m.version for m in migrations.discover()]
        admin, ingest = await _keys(empty_database)
        touchpoint = await _touchpoint(services[0].base_url, admin, "twin")
        outcome = await submit_all([s.base_url for s in services], ingest, touchpoint, "twin", count=1000)
        stored = await stored_counts(empty_database, "twin")
        assert outcome.failures == 0
        assert len(outcome.acked) == 1000
        assert_exactly_once(outcome, stored, all_acked=False)
        assert len(stored) == 1000
    finally:
        for s in services:
            await asyncio.to_thread(s.stop)
