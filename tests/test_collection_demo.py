"""The demo history: size, speed, and the truths it promises in SEEDED_TRUTH."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from feedback.demo.loader import load_demo
from feedback.demo.responses import SEEDED_TRUTH
from feedback.service.database import Connection
from feedback.service.urls import startup_banner
from feedback.settings import Settings


async def test_demo_seeds_three_thousand_responses_with_its_truths(conn: Connection, tmp_path: Path) -> None:
    started = time.monotonic()
    summary = await load_demo(conn, Settings(secret_key="s" * 40, data_dir=tmp_path))
    assert summary.created and time.monotonic() - started < 60
    total = await conn.fetchval("SELECT count(*) FROM responses")
    assert 2900 <= total <= 3100
    assert await conn.fetchval("SELECT sum(responses) FROM touchpoint_daily") == total
    assert await conn.fetchval("SELECT count(DISTINCT touchpoint_id) FROM responses") == 13
    assert await conn.fetchval("SELECT min(occurred_at) > now() - interval '91 days' FROM responses")
    commented = await conn.fetchval("SELECT count(*) FROM responses WHERE comment IS NOT NULL")
    assert 0.4 < commented / total < 0.6
    russian = await conn.fetchval("SELECT count(*) FROM responses WHERE language = 'ru'")
    assert 0.05 < russian / commented < 0.15
    for key, truth in SEEDED_TRUTH.items():
        for mood, themes in truth.items():
            for theme in themes:
                row = await conn.fetchrow(
                    "SELECT count(*) AS n, count(*) FILTER (WHERE score_band(r.kind, r.score) = $3) AS hit "
                    "FROM responses r JOIN touchpoints t ON t.id = r.touchpoint_id "
                    "WHERE t.key = $1 AND $2 = ANY(r.themes)", key, theme, -1 if mood == "pain" else 1)
                assert row is not None and row["n"] >= 10, (key, theme)
                assert row["hit"] == row["n"], (key, theme)
    # "What changed": courier delivery is worse in the last 30 days than in the 30 before.
    low = await conn.fetch(
        "SELECT occurred_at > now() - interval '30 days' AS recent, "
        "avg((score_band(r.kind, r.score) = -1)::int) AS low FROM responses r "
        "JOIN touchpoints t ON t.id = r.touchpoint_id WHERE t.key = 'courier-delivery' "
        "AND occurred_at > now() - interval '60 days' GROUP BY 1")
    shares = {r["recent"]: float(r["low"]) for r in low}
    assert shares[True] > shares[False] + 0.15
    invited = await conn.fetchval("SELECT sum(invited) FROM touchpoint_daily_funnel")
    answered = await conn.fetchval("SELECT sum(answered) FROM touchpoint_daily_funnel")
    assert invited > answered > 0
    again = await load_demo(conn, Settings(secret_key="s" * 40, data_dir=tmp_path))
    assert not again.created


async def test_start_up_banner_prints_a_live_demo_survey_link(
        client: httpx.AsyncClient, conn: Connection, settings: Settings, database_url: str) -> None:
    await load_demo(conn, settings)
    banner = await startup_banner(settings, database_url, demo=True)
    line = next(x for x in banner.splitlines() if "A live demo survey" in x)
    url = line.split()[-1]
    assert url.startswith(settings.base_url + "/s/")
    r = await client.get(url.removeprefix(settings.base_url))
    assert r.status_code == 200 and "Order confirmation email" in r.text.replace("order confirmation email",
                                                                                 "Order confirmation email")
