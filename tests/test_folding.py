"""The rollups folded after the answers' commit (migration 0018, feedback/insight/folding.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import pytest

from feedback.insight import folding
from feedback.insight import repository as repo
from feedback.service.database import Connection, create_pool
from tests.conftest import bearer
from tests.test_collection_support import Client, Headers, touchpoint, world
from tests.test_insight_data import answer, at, catalogue, days_ago

LOCK = 7_463_021_911


async def _daily(conn: Connection) -> int:
    return int(await conn.fetchval("SELECT coalesce(sum(responses), 0) FROM touchpoint_daily"))


async def test_an_answer_is_queued_in_its_own_commit_and_summed_by_the_fold(conn: Connection) -> None:
    await catalogue(conn)
    await repo.fold_rollups(conn)
    before = await _daily(conn)
    await answer(conn, "support-call", 2, when=at(days_ago(1)), comment="slow and rude",
                 themes=["waiting time"], polarity=-0.6, label="negative")
    # The write itself touched no rollup row: only the queue.
    assert await _daily(conn) == before
    assert await conn.fetchval("SELECT count(*) FROM rollup_queue") == 1
    assert await repo.fold_rollups(conn) == 1
    assert await _daily(conn) == before + 1
    assert await conn.fetchval("SELECT count(*) FROM rollup_queue") == 0
    assert await conn.fetchval("SELECT count(*) FROM response_theme_comments") == 1
    assert await repo.fold_rollups(conn) == 0  # nothing left: a reader's fold costs a look


async def test_a_fold_that_meets_an_entry_already_there_keeps_it_and_folds_the_rest(conn: Connection) -> None:
    # A fold adds new comment-index entries with a plain INSERT (migration 0019). An entry that
    # exists all the same (nothing in the service makes one) must not stop every later fold,
    # and with it every report: the fold runs again as ON CONFLICT DO NOTHING.
    await catalogue(conn)
    await repo.fold_rollups(conn)
    before = await _daily(conn)
    await answer(conn, "support-call", 2, when=at(days_ago(1)), comment="slow and rude",
                 themes=["waiting time", "staff"], polarity=-0.6, label="negative")
    await answer(conn, "support-call", 1, when=at(days_ago(1)), comment="never again",
                 themes=["staff"], polarity=-0.8, label="negative")
    planted = await conn.fetchrow(
        "INSERT INTO response_theme_comments (touchpoint_id, theme, band, occurred_at, id, wording,"
        " sentiment_polarity) SELECT touchpoint_id, 'staff', -1, occurred_at, id, '\\x00', 0.5"
        " FROM responses WHERE comment = 'slow and rude' RETURNING id")
    assert planted is not None
    assert await repo.fold_rollups(conn) == 2
    assert await _daily(conn) == before + 2
    assert await conn.fetchval("SELECT count(*) FROM rollup_queue") == 0
    entries = await conn.fetch("SELECT theme, id, wording FROM response_theme_comments ORDER BY theme, id")
    assert len(entries) == 3  # each answer's themes once; the planted entry kept as it was
    assert [bytes(e["wording"]) for e in entries if e["id"] == planted["id"] and e["theme"] == "staff"] == [b"\x00"]


async def test_a_folder_skips_a_fold_in_progress_and_a_reader_waits_for_it(
        conn: Connection, database_url: str) -> None:
    await catalogue(conn)
    await repo.fold_rollups(conn)
    await answer(conn, "support-call", 5, when=at(days_ago(2)))
    other = await asyncpg.connect(database_url)
    try:
        holder = other.transaction()
        await holder.start()
        await other.execute("SELECT pg_advisory_xact_lock($1)", LOCK)  # a fold in progress
        assert await repo.fold_rollups(conn, wait=False) == 0  # the folder skips its turn
        assert await conn.fetchval("SELECT count(*) FROM rollup_queue") == 1
        reader = asyncio.create_task(repo.fold_rollups(conn))
        await asyncio.sleep(0.3)
        assert not reader.done()  # a reader waits, then reads what the fold left
        await holder.commit()
        assert await asyncio.wait_for(reader, 10) == 1
    finally:
        await other.close()


async def test_two_sessions_folding_at_once_count_every_answer_once(
        conn: Connection, database_url: str) -> None:
    await catalogue(conn)
    await repo.fold_rollups(conn)
    before = await _daily(conn)
    others = [await asyncpg.connect(database_url) for _ in range(3)]
    try:
        async def write(n: int) -> None:
            for i in range(40):
                await answer(conn if n == 0 else others[n - 1], "support-chat", 1 + i % 5,
                             when=at(days_ago(i % 3)))

        async def fold(c: Any, wait: bool) -> None:
            for _ in range(30):
                await repo.fold_rollups(c, wait=wait)
                await asyncio.sleep(0)

        await asyncio.gather(write(0), write(1), fold(others[1], True), fold(others[2], False))
        await repo.fold_rollups(conn)
        assert await _daily(conn) == before + 80
        assert await conn.fetchval("SELECT count(*) FROM rollup_queue") == 0
    finally:
        for c in others:
            await c.close()


async def test_the_service_folds_by_itself_and_reports_read_every_acknowledged_answer(
        client: Client, admin: Headers, conn: Connection, make_key: Any) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    ingest = bearer(await make_key("ingest"))
    for score in (1, 5, 5):
        r = await client.post("/api/v1/responses", headers=ingest,
                              json={"touchpoint": "delivery", "score": score, "comment": "late again"})
        assert r.status_code == 201
    # A report asked for at once counts all three: the reader folds what the folder has not yet.
    r = await client.get("/api/v1/scores", headers=admin, params={"touchpoint": "delivery"})
    assert r.status_code == 200 and r.json()["total"]["n"] == 3, r.json()
    await client.post("/api/v1/responses", headers=ingest, json={"touchpoint": "delivery", "score": 4})
    # With no reader, the instance's own folder empties the queue within a few folds.
    deadline = time.monotonic() + 10
    while await conn.fetchval("SELECT count(*) FROM rollup_queue") and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    assert await conn.fetchval("SELECT count(*) FROM rollup_queue") == 0
    assert await _daily(conn) == 4


async def test_the_folder_vacuums_the_queue_once_it_grows(
        conn: Connection, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    await catalogue(conn)
    await answer(conn, "support-call", 3, when=at(days_ago(1)))
    monkeypatch.setattr(folding, "VACUUM_PAGES", 0)  # any size is past it
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        assert await folding.fold_once(pool) == 1
    finally:
        await pool.close()
    # Statistics reach other sessions a moment later.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        if await conn.fetchval("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'rollup_queue'"):
            break
        await asyncio.sleep(0.1)
    assert await conn.fetchval("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'rollup_queue'") >= 1


async def test_the_folder_folds_after_enough_answers_or_enough_time(monkeypatch: pytest.MonkeyPatch) -> None:
    folds: list[float] = []

    async def fold_once(pool: Any) -> int:
        folds.append(time.monotonic())
        return 0

    monkeypatch.setattr(folding, "fold_once", fold_once)
    written = 0
    task = asyncio.create_task(folding.fold_forever(None, lambda: written, after=100, every=0.6, look=0.01))  # type: ignore[arg-type]
    try:
        await asyncio.sleep(0.2)
        written = 99  # one short of a fold's worth
        await asyncio.sleep(0.15)
        assert folds == []
        written = 100
        started = time.monotonic()
        while not folds and time.monotonic() - started < 5:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        assert len(folds) == 1 and folds[0] - started < 0.2  # the count, not the clock
        # Then nothing is written: the next fold comes with the clock, `every` after this one.
        while len(folds) < 2 and time.monotonic() - started < 5:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        assert 0.55 <= folds[1] - folds[0] < 1.5
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
