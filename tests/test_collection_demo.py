"""The demo history: size, speed, and the truths it promises in SEEDED_TRUTH."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx

from feedback.demo.loader import load_demo
from feedback.demo.responses import SEEDED_TRUTH, seed_responses
from feedback.insight import service
from feedback.service.database import Connection
from feedback.service.urls import startup_banner
from feedback.settings import Settings


async def test_demo_seeds_six_thousand_responses_with_its_truths(conn: Connection, tmp_path: Path) -> None:
    started = time.monotonic()
    summary = await load_demo(conn, Settings(secret_key="s" * 40, data_dir=tmp_path))
    assert summary.created and time.monotonic() - started < 60
    total = await conn.fetchval("SELECT count(*) FROM responses")
    assert 5800 <= total <= 6200
    await conn.execute("SELECT fold_rollups()")  # the rollups as a reader sees them
    assert await conn.fetchval("SELECT sum(responses) FROM touchpoint_daily") == total
    assert await conn.fetchval("SELECT count(DISTINCT touchpoint_id) FROM responses") == 13
    # Two 90-day periods: the default report's and the one it is compared with.
    assert await conn.fetchval("SELECT min(occurred_at) > now() - interval '183 days' FROM responses")
    assert await conn.fetchval("SELECT min(occurred_at) < now() - interval '180 days' FROM responses")
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


async def test_the_demo_compares_its_periods_with_one_significant_change(conn: Connection, tmp_path: Path) -> None:
    await load_demo(conn, Settings(secret_key="s" * 40, data_dir=tmp_path))
    today = datetime.now(UTC).date()
    start, end = service.period_of(None, None, today)
    moved: dict[str, tuple[float, bool]] = {}
    for owner in await conn.fetch("SELECT id FROM owners"):
        report = await service.owner_report(conn, owner["id"], start=start, end=end, today=today, scope=None,
                                            min_n=30)
        for r in report.touchpoints:
            # Every row has a previous period to compare with, not "insufficient (n = 1)".
            assert not r.previous.insufficient and r.delta is not None, (r.touchpoint.key, r.previous)
            moved[r.touchpoint.key] = (r.delta, bool(r.significant))
    # Some better, some worse; courier delivery worse, and the only change beyond chance.
    assert sum(delta > 0 for delta, _ in moved.values()) >= 3
    assert sum(delta < 0 for delta, _ in moved.values()) >= 3
    assert [key for key, (_, significant) in moved.items() if significant] == ["courier-delivery"]
    assert moved["courier-delivery"][0] < -10


async def test_demo_loads_made_the_same_day_are_alike(conn: Connection, tmp_path: Path) -> None:
    await load_demo(conn, Settings(secret_key="s" * 40, data_dir=tmp_path))
    query = "SELECT touchpoint_id, score, comment, occurred_at FROM responses"
    first = Counter(tuple(row) for row in await conn.fetch(query))
    # The history seeded again a moment later, on the same catalogue: every answer, to the microsecond.
    await conn.execute("DELETE FROM responses; DELETE FROM invitations")
    await seed_responses(conn)
    assert Counter(tuple(row) for row in await conn.fetch(query)) == first


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


async def test_start_up_banner_leads_to_the_owner_report_where_the_demo_story_is(
        client: httpx.AsyncClient, conn: Connection, settings: Settings, database_url: str) -> None:
    await load_demo(conn, settings)
    lines = (await startup_banner(settings, database_url, demo=True)).splitlines()
    at = next(i for i, x in enumerate(lines) if "Demo owner report" in x)
    url = lines[at].split()[-1]
    delivery = await conn.fetchval("SELECT id FROM owners WHERE name = 'Delivery & Logistics'")
    # Courier delivery, the one significant drop, is Delivery & Logistics' (not Customer Support's).
    assert url.startswith(f"{settings.base_url}/reports/owners/{delivery}?share=")
    assert "Delivery & Logistics" in lines[at + 1] and "courier delivery" in lines[at + 1]
    r = await client.get(url.removeprefix(settings.base_url))
    assert r.status_code == 200 and "Courier delivery" in r.text and "Delivery &amp; Logistics" in r.text
    # The other URLs are all still there.
    for label in ("API docs", "OpenAPI document", "Health", "Journey map", "A live demo survey"):
        assert any(x.strip().startswith(label) for x in lines), label


# What a comment about each demo touchpoint is about, in words it would use (English, Russian).
SUBJECTS = {
    "welcome-ad-landing": ("landing page", "from the ad", "из рекламы"),
    "product-search": ("search", "поиск"),
    "app-checkout": ("checkout", "оформ", "оплат"),
    "order-confirmation-email": ("order summary", "email", "confirmation", "сводк", "письмо"),
    "courier-delivery": ("courier", "deliver", "parcel", "box", "курьер", "посылк", "достав"),
    "parcel-locker-pickup": ("locker", "постамат"),
    "first-login": ("first", "log in", "login", "setup", "первый"),
    "account-setup-call": ("set-up call", "звонке", "звонок"),
    "support-call": ("phone", "hold", "call", "waiting", "transferred", "телефону", "на линии"),
    "support-chat": ("chat", "чат"),
    "plan-upgrade": ("plan", "тариф"),
    "quarterly-relationship-nps": ("shop", "магазин"),
    "cancellation-call": ("cancel", "account", "отменить", "аккаунт"),
}


async def test_each_touchpoints_demo_comments_are_about_it(conn: Connection, tmp_path: Path) -> None:
    # A shared pool of "generic" comments put "Quick and easy" under courier delivery and a
    # Russian «Быстрая и простая настройка» (a quick set-up) under every touchpoint it served.
    await load_demo(conn, Settings(secret_key="s" * 40, data_dir=tmp_path))
    rows = await conn.fetch("SELECT DISTINCT t.key, r.comment FROM responses r JOIN touchpoints t "
                            "ON t.id = r.touchpoint_id WHERE r.comment IS NOT NULL")
    said: dict[str, set[str]] = {}
    for row in rows:
        said.setdefault(row["key"], set()).add(row["comment"])
    assert set(said) == set(SUBJECTS)
    for key, comments in said.items():
        off = [c for c in comments if not any(word in c.casefold() for word in SUBJECTS[key])]
        assert not off, (key, off)
        # The courier is Delivery & Logistics' story, and no two touchpoints say the same thing.
        if key != "courier-delivery":
            assert not [c for c in comments if "courier" in c.casefold() or "курьер" in c.casefold()], key
        for other, theirs in said.items():
            assert other == key or not comments & theirs, (key, other, comments & theirs)
