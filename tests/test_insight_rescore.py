"""`touchpulse rescore`: stale answers re-read in resumable batches, rollups kept exact."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from typing import Any

import pytest

from feedback.cli import parser
from feedback.insight import repository as insight_repo
from feedback.insight.rescore import progress_bar, rescore
from feedback.sentiment import ANALYZER_VERSION, read_comment
from tests.test_insight_data import answer, at, catalogue, days_ago
from tests.test_insight_rollups import DAILY_ROLLUP, DAILY_SCAN, THEMES_ROLLUP, THEMES_SCAN, _same

COMMENTS = ["The courier was late and the parcel arrived damaged", "Friendly staff, quick help",
            "Waited on hold for 40 minutes", "", None, "Долго ждал на линии"]


async def _stale(conn: Any, n: int) -> None:
    await catalogue(conn)
    for i in range(n):
        # Stored by an older analyser: wrong sentiment, no themes.
        await answer(conn, "support-call", 1 + i % 5, when=at(days_ago(i % 10)),
                     comment=COMMENTS[i % len(COMMENTS)], polarity=0.9, label="positive",
                     themes=["stale"], version=0)


async def test_rescore_rewrites_stale_answers_in_batches_and_keeps_rollups_exact(conn: Any) -> None:
    await _stale(conn, 25)
    await answer(conn, "support-chat", 5, when=at(days_ago(1)), comment="current already",
                 themes=["kept"], polarity=0.1, label="neutral", version=ANALYZER_VERSION)
    out = io.StringIO()
    assert await rescore(conn, batch=4, out=out) == 25
    assert "\r" in out.getvalue() and "25/25 100%" in out.getvalue()
    rows = await conn.fetch("SELECT comment, sentiment_polarity, sentiment_label, themes, language, "
                            "analyzer_version FROM responses")
    for row in rows:
        assert row["analyzer_version"] == ANALYZER_VERSION
        if row["comment"] == "current already":
            assert row["themes"] == ["kept"] and row["sentiment_label"] == "neutral"
            continue
        expected = read_comment(row["comment"] or "")
        assert row["themes"] == expected.themes
        assert row["sentiment_label"] == expected.sentiment.label
        if expected.sentiment.polarity is None:
            assert row["sentiment_polarity"] is None
        else:
            assert abs(row["sentiment_polarity"] - expected.sentiment.polarity) < 1e-6
        assert row["language"] == (expected.sentiment.language if row["comment"] else None)
    await _same(conn, DAILY_SCAN, DAILY_ROLLUP)
    await _same(conn, THEMES_SCAN, THEMES_ROLLUP)
    await conn.execute("SELECT fold_rollups()")  # the rollups as a reader sees them
    assert await conn.fetchval("SELECT count(*) FROM touchpoint_daily_themes "
                               "WHERE theme = 'stale' AND responses <> 0") == 0
    # Nothing is stale now; --all re-reads everything, the current one included.
    assert await rescore(conn, out=None) == 0
    assert await rescore(conn, everything=True, batch=7, out=None) == 26
    assert await conn.fetchval("SELECT themes FROM responses WHERE comment = 'current already'") == []


async def test_an_interrupted_rescore_resumes_where_it_stopped(
        conn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    await _stale(conn, 12)
    calls = 0
    real = insight_repo.rescore_update

    async def failing(conn: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the process was killed")
        await real(conn, **kwargs)

    monkeypatch.setattr(insight_repo, "rescore_update", failing)
    with pytest.raises(RuntimeError):
        await rescore(conn, batch=5, out=None)
    assert await conn.fetchval("SELECT count(*) FROM responses WHERE analyzer_version = 0") == 7
    monkeypatch.setattr(insight_repo, "rescore_update", real)
    assert await rescore(conn, batch=5, out=None) == 7
    await _same(conn, DAILY_SCAN, DAILY_ROLLUP)
    await _same(conn, THEMES_SCAN, THEMES_ROLLUP)


def test_progress_bar_and_cli_arguments() -> None:
    assert progress_bar(0, 0) == "[" + "#" * 30 + "] 0/0 100%"
    assert progress_bar(5, 10, width=10) == "[#####.....]  5/10  50%"
    args = parser().parse_args(["rescore", "--all", "--batch", "500"])
    assert args.all is True and args.batch == 500 and args.run.__name__ == "cmd_rescore"
    assert parser().parse_args(["rescore"]).all is False


async def test_touchpulse_rescore_command_shows_progress_on_stderr(
        conn: Any, database_url: str, tmp_path: Any) -> None:
    await _stale(conn, 9)
    env = {**os.environ, "DATABASE_URL": database_url, "TOUCHPULSE_SECRET_KEY": "k" * 40,
           "TOUCHPULSE_DATA_DIR": str(tmp_path)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "feedback.cli", "rescore", "--batch", "4", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    assert "rescored 9 response(s)" in out.decode()
    assert "\r[" in err.decode() and "9/9 100%" in err.decode()
    assert await conn.fetchval("SELECT count(*) FROM responses WHERE analyzer_version = 0") == 0


async def test_a_comment_edited_during_a_rescore_keeps_what_its_edit_computed(
        conn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    await _stale(conn, 3)
    real = insight_repo.rescore_batch

    async def edited_meanwhile(conn: Any, **kwargs: Any) -> Any:
        rows = await real(conn, **kwargs)
        if rows:
            # The customer edits one answer between the read and the write.
            await conn.execute("UPDATE responses SET comment = 'edited', themes = '{edit}', "
                               "analyzer_version = $2 WHERE id = $1", rows[0][1], ANALYZER_VERSION)
        return rows

    monkeypatch.setattr(insight_repo, "rescore_batch", edited_meanwhile)
    await rescore(conn, out=None)
    row = await conn.fetchrow("SELECT themes, analyzer_version FROM responses WHERE comment = 'edited'")
    assert row["themes"] == ["edit"] and row["analyzer_version"] == ANALYZER_VERSION
    assert await conn.fetchval("SELECT count(*) FROM responses WHERE analyzer_version = 0") == 0
