"""The service re-reads answers of an older analyser by itself: one instance, small batches."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
import pytest
from litestar import Litestar

from bench import reports_data
from feedback.insight import catchup
from feedback.insight import repository as insight_repo
from feedback.insight.rescore import START
from feedback.sentiment import ANALYZER_VERSION, read_comment
from feedback.service.app import create_app
from feedback.service.database import Connection
from feedback.settings import Settings, SettingsError, load_settings
from tests.conftest import ROOT, cli_with_env
from tests.test_insight_data import answer, at, days_ago
from tests.test_insight_rescore import _stale
from tests.test_insight_rollups import DAILY_ROLLUP, DAILY_SCAN, THEMES_ROLLUP, THEMES_SCAN, _same

STALE = "SELECT count(*) FROM responses WHERE analyzer_version < $1"


@pytest.fixture
def on(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, auto_rescore=True)


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several batches, short pauses, no retry within a test."""
    monkeypatch.setattr(catchup, "BATCH", 7)
    monkeypatch.setattr(catchup, "MIN_PAUSE", 0.0)
    monkeypatch.setattr(catchup, "RETRY_EVERY", 3600.0)


@asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[None]:
    async with app.lifespan():
        yield


async def _until_none_stale(conn: Connection, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while await conn.fetchval(STALE, ANALYZER_VERSION):
        assert time.monotonic() < deadline, "the catch-up did not finish"
        await asyncio.sleep(0.05)


def _tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if getattr(t.get_coro(), "__name__", "") == "catch_up_forever"]


async def _lock_is_free(conn: Connection) -> bool:
    free = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", catchup.LOCK_KEY))
    if free:
        await conn.execute("SELECT pg_advisory_unlock($1)", catchup.LOCK_KEY)
    return free


async def _read_by_the_current_analyser(conn: Connection) -> None:
    rows = await conn.fetch("SELECT comment, sentiment_label, themes, language, analyzer_version FROM responses")
    assert rows
    for row in rows:
        assert row["analyzer_version"] == ANALYZER_VERSION
        expected = read_comment(row["comment"] or "")
        assert row["themes"] == expected.themes
        assert row["sentiment_label"] == expected.sentiment.label
        assert row["language"] == (expected.sentiment.language if row["comment"] else None)
    await _same(conn, DAILY_SCAN, DAILY_ROLLUP)
    await _same(conn, THEMES_SCAN, THEMES_ROLLUP)
    await conn.execute("SELECT fold_rollups()")  # the rollups as a reader sees them
    assert await conn.fetchval("SELECT count(*) FROM touchpoint_daily_themes "
                               "WHERE theme = 'stale' AND responses <> 0") == 0


# ------------------------------------------------------------------------------ settings


def test_auto_rescore_is_on_unless_switched_off(tmp_path: Path) -> None:
    base = {"TOUCHPULSE_DATA_DIR": str(tmp_path)}
    assert load_settings(base).auto_rescore is True
    for off in ("0", "off", "OFF", "false", "no"):
        assert load_settings({**base, "TOUCHPULSE_AUTO_RESCORE": off}).auto_rescore is False
    for value in ("1", "on", "true", "yes", ""):
        assert load_settings({**base, "TOUCHPULSE_AUTO_RESCORE": value}).auto_rescore is True
    with pytest.raises(SettingsError, match=r"^TOUCHPULSE_AUTO_RESCORE='sometimes' must be on or off"):
        load_settings({**base, "TOUCHPULSE_AUTO_RESCORE": "sometimes"})


def test_cli_names_a_bad_auto_rescore_in_one_line_and_lists_it_in_help(tmp_path: Path) -> None:
    result = cli_with_env("migrate", env={"TOUCHPULSE_AUTO_RESCORE": "2", "TOUCHPULSE_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == "touchpulse: TOUCHPULSE_AUTO_RESCORE='2' must be on or off (1 or 0)"
    shown = subprocess.run([sys.executable, "-m", "feedback.cli", "--help"], capture_output=True,
                           text=True, timeout=60, cwd=ROOT, check=True)
    assert "TOUCHPULSE_AUTO_RESCORE" in shown.stdout


# ------------------------------------------------------------------------------ the catch-up


async def test_starting_the_service_rereads_old_answers_and_keeps_rollups_exact(
        fast: None, conn: Connection, on: Settings, database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    await _stale(conn, 40)
    await answer(conn, "support-chat", 5, when=at(days_ago(1)), comment="current already",
                 themes=["kept"], label="neutral", version=ANALYZER_VERSION)
    caplog.set_level(logging.INFO, logger="touchpulse.rescore")
    async with running(create_app(on, database_url)):
        await _until_none_stale(conn)
        # Done: the task ends by itself, and lets go of the lock.
        for _ in range(100):
            if not _tasks():
                break
            await asyncio.sleep(0.02)
        assert not _tasks()
        assert await _lock_is_free(conn)
    row = await conn.fetchrow("SELECT themes, sentiment_label FROM responses WHERE comment = 'current already'")
    assert row is not None and (row["themes"], row["sentiment_label"]) == (["kept"], "neutral")
    await conn.execute("DELETE FROM responses WHERE comment = 'current already'")
    await _read_by_the_current_analyser(conn)
    said = [r.getMessage() for r in caplog.records if r.name == "touchpulse.rescore"]
    assert said[0].startswith("rescore: 40 response(s) were read by an older analyser")
    assert said[-1].startswith(f"rescore: done, 40 response(s) re-read with analyser version {ANALYZER_VERSION}")


async def test_the_start_count_reads_an_index_not_every_answer_and_the_walk_still_rereads(
        fast: None, conn: Connection, on: Settings, database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    # 20,000 answers of today's analyser and 20 of an older one: the count at every start must
    # not read them all (with a million, a scan took 100 ms and a table's worth of reads).
    await _stale(conn, 20)
    touchpoints = await reports_data.make_catalogue(conn, touchpoints=4, owners=2)
    await reports_data.copy_responses(conn, touchpoints, 20_000, seed=7, days=30)
    await conn.execute("VACUUM ANALYZE responses")
    for query in ("rescore-count", "rescore-batch"):
        args = [ANALYZER_VERSION] if query == "rescore-count" else [False, ANALYZER_VERSION, *START, 7]
        plan = "\n".join(r[0] for r in await conn.fetch("EXPLAIN " + insight_repo.Q[query], *args))
        assert "responses_analyzer_version" in plan and "Seq Scan" not in plan, plan
    caplog.set_level(logging.INFO, logger="touchpulse.rescore")
    async with running(create_app(on, database_url)):
        await _until_none_stale(conn)
    said = [r.getMessage() for r in caplog.records if r.name == "touchpulse.rescore"]
    assert said[0].startswith("rescore: 20 response(s) were read by an older analyser")
    rows = await conn.fetch("SELECT comment, sentiment_label, themes FROM responses WHERE touchpoint_id = "
                            "(SELECT id FROM touchpoints WHERE key = 'support-call')")
    assert len(rows) == 20
    for row in rows:
        expected = read_comment(row["comment"] or "")
        assert (row["themes"], row["sentiment_label"]) == (expected.themes, expected.sentiment.label)
    await _same(conn, DAILY_SCAN, DAILY_ROLLUP)
    await _same(conn, THEMES_SCAN, THEMES_ROLLUP)


async def test_switched_off_the_service_leaves_old_answers_alone(
        fast: None, conn: Connection, settings: Settings, database_url: str) -> None:
    assert settings.auto_rescore is False
    await _stale(conn, 10)
    before = await conn.fetch("SELECT r::text FROM responses r ORDER BY id")
    async with running(create_app(settings, database_url)):
        assert not _tasks()
        await asyncio.sleep(0.5)
    assert await conn.fetch("SELECT r::text FROM responses r ORDER BY id") == before
    assert await conn.fetchval(STALE, ANALYZER_VERSION) == 10


async def test_with_nothing_stale_the_task_ends_at_once(on: Settings, database_url: str) -> None:
    async with running(create_app(on, database_url)):
        deadline = time.monotonic() + 5
        while _tasks():
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)


async def test_two_instances_one_database_one_rereads_each_answer_once(
        fast: None, conn: Connection, on: Settings, database_url: str, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(catchup, "MIN_PAUSE", 0.05)  # the walk outlasts the other's start
    await _stale(conn, 60)
    written: list[UUID] = []
    real_update = insight_repo.rescore_update

    async def counted(conn: Any, **kwargs: Any) -> None:
        written.extend(row[1] for row in kwargs["rows"])
        await real_update(conn, **kwargs)

    monkeypatch.setattr(insight_repo, "rescore_update", counted)
    caplog.set_level(logging.INFO, logger="touchpulse.rescore")
    async with running(create_app(on, database_url)), running(create_app(on, database_url)):
        await _until_none_stale(conn)
    assert len(written) == len(set(written)) == 60
    said = [r.getMessage() for r in caplog.records if r.name == "touchpulse.rescore"]
    assert sum(m.startswith("rescore: 60 response(s) were read") for m in said) == 1
    assert sum(m.startswith("rescore: another instance is re-reading") for m in said) == 1
    assert await _lock_is_free(conn)
    await _read_by_the_current_analyser(conn)


async def test_stopping_mid_batch_is_prompt_rolls_the_batch_back_and_frees_the_lock(
        fast: None, conn: Connection, on: Settings, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    await _stale(conn, 30)
    real_update = insight_repo.rescore_update
    calls = 0
    stuck = asyncio.Event()

    async def slow_second(conn: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        await real_update(conn, **kwargs)
        if calls == 2:  # inside the batch's transaction, its UPDATE done but not committed
            stuck.set()
            await asyncio.sleep(3600)

    monkeypatch.setattr(insight_repo, "rescore_update", slow_second)
    app = create_app(on, database_url)
    async with running(app):
        await asyncio.wait_for(stuck.wait(), 30)
        started = time.monotonic()
    assert time.monotonic() - started < 2
    assert not _tasks()
    # The first batch stays, the second is rolled back: each row is either, the rollups exact.
    assert await conn.fetchval(STALE, ANALYZER_VERSION) == 30 - 7
    await _same(conn, DAILY_SCAN, DAILY_ROLLUP)
    await _same(conn, THEMES_SCAN, THEMES_ROLLUP)
    assert await _lock_is_free(conn)
    assert await conn.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == 0
    # The next start finishes the job.
    monkeypatch.setattr(insight_repo, "rescore_update", real_update)
    async with running(create_app(on, database_url)):
        await _until_none_stale(conn)
    await _read_by_the_current_analyser(conn)
