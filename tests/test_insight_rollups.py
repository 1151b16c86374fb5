"""The daily and monthly rollups and the index of commented answers stay exactly equal to a
full scan of responses after random writes; reports read the same from them either way."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from feedback.insight import repository as repo
from surveys.kinds import scale_of
from tests.test_insight_data import answer, at, catalogue, days_ago

THEMES = ["waiting time", "late delivery", "friendly staff", "price", "app"]
LABELS = [None, "negative", "neutral", "positive", "mixed"]

DAILY_SCAN = """
SELECT touchpoint_id, (occurred_at AT TIME ZONE 'UTC')::date AS day, kind, count(*) AS responses,
    """ + ", ".join(f"count(*) FILTER (WHERE score = {s}) AS s{s}" for s in range(11)) + """,
    count(*) FILTER (WHERE comment IS NOT NULL AND comment <> '') AS comments,
    count(sentiment_polarity) AS sentiment_n,
    round(coalesce(sum(sentiment_polarity::double precision), 0)::numeric, 6) AS sentiment_sum,
    round(coalesce(sum((sentiment_polarity::double precision) ^ 2), 0)::numeric, 6) AS sentiment_sq,
    count(*) FILTER (WHERE sentiment_label = 'negative') AS negative,
    count(*) FILTER (WHERE sentiment_label = 'neutral') AS neutral,
    count(*) FILTER (WHERE sentiment_label = 'positive') AS positive,
    count(*) FILTER (WHERE sentiment_label = 'mixed') AS mixed,
    count(*) FILTER (WHERE comment IS NOT NULL AND comment <> '' AND sentiment_label IS NULL) AS unscored
FROM responses GROUP BY 1, 2, 3
"""
DAILY_ROLLUP = """
SELECT touchpoint_id, day, kind, responses, """ + ", ".join(f"s{s}" for s in range(11)) + """,
    comments, sentiment_n, round(sentiment_sum::numeric, 6) AS sentiment_sum,
    round(sentiment_sq::numeric, 6) AS sentiment_sq, negative, neutral, positive, mixed, unscored
FROM touchpoint_daily WHERE responses <> 0
"""
# The week part rollup (migration 0004): the same sums per (ISO week, month) part.
PARTS_SCAN = DAILY_SCAN.replace(
    "(occurred_at AT TIME ZONE 'UTC')::date AS day",
    "week_part((occurred_at AT TIME ZONE 'UTC')::date) AS part")
PARTS_ROLLUP = DAILY_ROLLUP.replace("day,", "part,").replace(
    "touchpoint_daily", "touchpoint_week_parts")
THEMES_SCAN = """
SELECT touchpoint_id, (occurred_at AT TIME ZONE 'UTC')::date AS day, kind, theme,
    count(*) AS responses,
    count(*) FILTER (WHERE score_band(kind, score) = -1) AS low,
    count(*) FILTER (WHERE score_band(kind, score) = 1) AS high,
    sum(score) AS score_sum, count(sentiment_polarity) AS sentiment_n,
    round(coalesce(sum(sentiment_polarity::double precision), 0)::numeric, 6) AS sentiment_sum,
    count(*) FILTER (WHERE sentiment_label = 'negative') AS negative,
    count(*) FILTER (WHERE sentiment_label = 'positive') AS positive
FROM responses, unnest(themes) AS theme GROUP BY 1, 2, 3, 4
"""
THEMES_ROLLUP = """
SELECT touchpoint_id, day, kind, theme, responses, low, high, score_sum, sentiment_n,
    round(sentiment_sum::numeric, 6) AS sentiment_sum, negative, positive
FROM touchpoint_daily_themes WHERE responses <> 0
"""


async def _same(conn: Any, scan: str, rollup: str) -> None:
    await repo.fold_rollups(conn)  # as every reader of the rollups does first
    expected = {tuple(r.values()) for r in await conn.fetch(scan)}
    actual = {tuple(r.values()) for r in await conn.fetch(rollup)}
    assert actual == expected, (sorted(expected - actual)[:3], sorted(actual - expected)[:3])


async def test_rollups_equal_a_full_scan_after_random_inserts_edits_and_erasures(conn: Any) -> None:
    await catalogue(conn)
    rng = random.Random(20261122)
    keys = ["support-call", "support-chat", "first-login", "relationship-nps"]
    kinds = {k: await conn.fetchval("SELECT kind FROM touchpoints WHERE key = $1", k) for k in keys}
    ids: list[tuple[str, Any]] = []

    def sentiment() -> tuple[float | None, str | None]:
        label = rng.choice(LABELS)
        return (None, None) if label is None else (round(rng.uniform(-1, 1), 3), label)

    for _ in range(400):
        key = rng.choice(keys)
        scale = scale_of(kinds[key])
        polarity, label = sentiment()
        comment = rng.choice([None, "", "fine", "slow and rude", "=1+1"])
        ids.append((key, await answer(
            conn, key, rng.randint(scale.low, scale.high), when=at(days_ago(rng.randint(0, 20)),
                                                                   rng.randint(0, 23)),
            comment=comment, themes=rng.sample(THEMES, rng.randint(0, 3)), polarity=polarity,
            label=label)))
    await _same(conn, DAILY_SCAN, DAILY_ROLLUP)
    await _same(conn, PARTS_SCAN, PARTS_ROLLUP)
    await _same(conn, THEMES_SCAN, THEMES_ROLLUP)

    for _ in range(150):
        key, rid = rng.choice(ids)
        scale = scale_of(kinds[key])
        polarity, label = sentiment()
        change = rng.choice(["score", "comment", "themes", "sentiment", "time", "all"])
        if change in ("score", "all"):
            await conn.execute("UPDATE responses SET score = $2 WHERE id = $1", rid,
                               rng.randint(scale.low, scale.high))
        if change in ("comment", "all"):
            await conn.execute("UPDATE responses SET comment = $2 WHERE id = $1", rid,
                               rng.choice([None, "", "new words"]))
        if change in ("themes", "all"):
            await conn.execute("UPDATE responses SET themes = $2 WHERE id = $1", rid,
                               rng.sample(THEMES, rng.randint(0, 3)))
        if change in ("sentiment", "all"):
            await conn.execute("UPDATE responses SET sentiment_polarity = $2, sentiment_label = $3 "
                               "WHERE id = $1", rid, polarity, label)
        if change == "time":
            await conn.execute("UPDATE responses SET occurred_at = occurred_at - interval '3 days' "
                               "WHERE id = $1", rid)
    # One statement touching many rows at once, as the rescore batches do.
    await conn.execute("UPDATE responses SET themes = array_append(themes, 'price') "
                       "WHERE NOT themes @> ARRAY['price'] AND score % 2 = 0")
    await _same(conn, DAILY_SCAN, DAILY_ROLLUP)
    await _same(conn, PARTS_SCAN, PARTS_ROLLUP)
    await _same(conn, THEMES_SCAN, THEMES_ROLLUP)

    for key, rid in rng.sample(ids, 120):
        del key
        await conn.execute("DELETE FROM responses WHERE id = $1", rid)
    await conn.execute("DELETE FROM responses WHERE score = 0")
    await _same(conn, DAILY_SCAN, DAILY_ROLLUP)
    await _same(conn, PARTS_SCAN, PARTS_ROLLUP)
    await _same(conn, THEMES_SCAN, THEMES_ROLLUP)
    assert await conn.fetchval("SELECT count(*) FROM touchpoint_daily WHERE responses = 0 AND "
                               "(s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + comments "
                               "+ sentiment_n + negative + positive) <> 0") == 0


# --- monthly theme rollup and the index of commented answers (migration 0003) ---------------

MONTHLY_SCAN = THEMES_SCAN.replace(
    "(occurred_at AT TIME ZONE 'UTC')::date AS day",
    "date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date AS month")
MONTHLY_ROLLUP = THEMES_ROLLUP.replace("day,", "month,").replace(
    "touchpoint_daily_themes", "touchpoint_monthly_themes")
COMMENTS_SCAN = """
SELECT DISTINCT touchpoint_id, theme, score_band(kind, score) AS band, occurred_at, id,
    decode(md5(lower(btrim(comment))), 'hex') AS wording, sentiment_polarity
FROM responses, unnest(themes) AS theme
WHERE comment IS NOT NULL AND comment <> '' AND score_band(kind, score) <> 0
"""
COMMENTS_INDEX = """
SELECT touchpoint_id, theme, band, occurred_at, id, wording, sentiment_polarity
FROM response_theme_comments
"""
# The verbatim query before migration 0003: GIN on themes, range, sort; the reference.
OLD_THEME_COMMENTS = """
SELECT th.theme, c.id
FROM unnest($1::text[]) AS th(theme)
CROSS JOIN LATERAL (
    SELECT * FROM (
        SELECT DISTINCT ON (lower(btrim(recent.comment))) recent.*
        FROM (
            SELECT r.id, t.key, r.occurred_at, r.score, r.comment, r.sentiment_polarity
            FROM responses r JOIN touchpoints t ON t.id = r.touchpoint_id
            WHERE r.themes @> ARRAY[th.theme]
              AND r.touchpoint_id = ANY($2::bigint[])
              AND r.occurred_at >= $3 AND r.occurred_at < $4
              AND r.comment IS NOT NULL AND r.comment <> ''
              AND score_band(r.kind, r.score) = $5
            ORDER BY r.occurred_at DESC, r.id DESC
            LIMIT 200
        ) recent
        ORDER BY lower(btrim(recent.comment)), $5 * coalesce(recent.sentiment_polarity, 0) DESC,
            recent.occurred_at DESC
    ) distinct_wordings
    ORDER BY $5 * coalesce(distinct_wordings.sentiment_polarity, 0) DESC,
        distinct_wordings.occurred_at DESC, distinct_wordings.id DESC
    LIMIT 3
) c
"""
DAILY_THEME_TOTALS = """
SELECT touchpoint_id, kind, theme, sum(responses)::bigint AS responses, sum(low)::bigint AS low,
    sum(high)::bigint AS high, sum(score_sum)::bigint AS score_sum,
    sum(sentiment_n)::bigint AS sentiment_n, sum(sentiment_sum) AS sentiment_sum
FROM touchpoint_daily_themes
WHERE touchpoint_id = ANY($1::bigint[]) AND day BETWEEN $2 AND $3
GROUP BY touchpoint_id, kind, theme
HAVING sum(responses) > 0
"""
# Many answers at once, spread over 150 days: a few comments repeat word for word, so the
# one-per-wording rule matters, and some themes pass 200 answers in a band.
BULK = """
INSERT INTO responses (touchpoint_id, id, journey_id, stage_id, owner_id, kind, scale_min,
    scale_max, score, comment, channel, source, sentiment_polarity, sentiment_label, themes,
    analyzer_version, occurred_at)
SELECT t.id, gen_random_uuid(), s.journey_id, t.stage_id, t.owner_id, t.kind,
    CASE t.kind WHEN 'nps' THEN 0 ELSE 1 END, CASE t.kind WHEN 'nps' THEN 10 WHEN 'csat' THEN 5 ELSE 7 END,
    CASE t.kind WHEN 'nps' THEN (g.r1 * 11)::int % 11 WHEN 'csat' THEN 1 + (g.r1 * 5)::int % 5
        ELSE 1 + (g.r1 * 7)::int % 7 END,
    (ARRAY[NULL, '', 'slow', ' Slow ', 'rude staff', 'great', 'ok I guess', 'words ' || g.i])
        [1 + (g.r2 * 8)::int % 8],
    t.channel, 'api', CASE WHEN g.r3 < 0.2 THEN NULL ELSE round((g.r3 * 2 - 1)::numeric, 2) END,
    CASE WHEN g.r3 < 0.2 THEN NULL ELSE 'mixed' END,
    CASE (g.r4 * 5)::int % 5 WHEN 0 THEN ARRAY[]::text[] WHEN 1 THEN ARRAY['price']
        WHEN 2 THEN ARRAY['app'] WHEN 3 THEN ARRAY['price', 'app']
        ELSE ARRAY['waiting time', 'price'] END,
    1, now() - g.r5 * interval '150 days'
FROM (SELECT i, random() r1, random() r2, random() r3, random() r4, random() r5,
             random() r6 FROM generate_series(1, $1) i) g
JOIN touchpoints t ON t.key = (ARRAY['support-call', 'support-chat', 'first-login',
                                     'relationship-nps'])[1 + (g.r6 * 4)::int % 4]
JOIN stages s ON s.id = t.stage_id
"""


async def _random_writes(conn: Any, rng: random.Random) -> None:
    await conn.execute("SELECT setseed($1)", rng.random())
    await conn.execute(BULK, 3000)
    ids = [r["id"] for r in await conn.fetch("SELECT id FROM responses ORDER BY id")]
    for rid in rng.sample(ids, 150):
        change = rng.choice(["score", "comment", "themes", "sentiment", "time"])
        if change == "score":
            await conn.execute("UPDATE responses SET score = scale_min WHERE id = $1", rid)
        elif change == "comment":
            await conn.execute("UPDATE responses SET comment = $2 WHERE id = $1", rid,
                               rng.choice([None, "", "new words", "SLOW"]))
        elif change == "themes":
            await conn.execute("UPDATE responses SET themes = $2 WHERE id = $1", rid,
                               rng.sample(THEMES, rng.randint(0, 3)))
        elif change == "sentiment":
            await conn.execute("UPDATE responses SET sentiment_polarity = $2 WHERE id = $1", rid,
                               round(rng.uniform(-1, 1), 2))
        else:
            await conn.execute("UPDATE responses SET occurred_at = occurred_at - interval '40 days' "
                               "WHERE id = $1", rid)
    # Statements touching many rows at once, as rescoring and erasure do.
    await conn.execute("UPDATE responses SET themes = array_append(themes, 'app') "
                       "WHERE NOT themes @> ARRAY['app'] AND score % 3 = 0")
    await conn.execute("DELETE FROM responses WHERE id = ANY($1::uuid[])", rng.sample(ids, 200))


async def test_monthly_rollup_and_comment_index_equal_a_full_scan(conn: Any) -> None:
    await catalogue(conn)
    await _same(conn, MONTHLY_SCAN, MONTHLY_ROLLUP)
    await _random_writes(conn, random.Random(3))
    await _same(conn, PARTS_SCAN, PARTS_ROLLUP)
    await _same(conn, THEMES_SCAN, THEMES_ROLLUP)
    await _same(conn, MONTHLY_SCAN, MONTHLY_ROLLUP)
    await _same(conn, COMMENTS_SCAN, COMMENTS_INDEX)
    await conn.execute("DELETE FROM responses")
    await repo.fold_rollups(conn)
    assert await conn.fetchval("SELECT count(*) FROM response_theme_comments") == 0
    assert await conn.fetchval("SELECT count(*) FROM touchpoint_week_parts "
                               "WHERE responses <> 0 OR s0 + s5 + s10 + comments <> 0") == 0
    assert await conn.fetchval("SELECT count(*) FROM touchpoint_monthly_themes "
                               "WHERE responses <> 0 OR low <> 0 OR high <> 0") == 0


def _periods(rng: random.Random) -> list[tuple[date, date]]:
    end = datetime.now(UTC).date()
    fixed = [(end - timedelta(days=364), end), (end - timedelta(days=89), end),
             (end.replace(day=1), end), (end - timedelta(days=6), end)]
    first = (end.replace(day=1) - timedelta(days=1)).replace(day=1)  # last month, whole
    fixed.append((first, end.replace(day=1) - timedelta(days=1)))
    fixed.append((first + timedelta(days=3), end.replace(day=1) - timedelta(days=5)))
    for _ in range(8):
        a = end - timedelta(days=rng.randint(0, 200))
        fixed.append((a - timedelta(days=rng.randint(0, 120)), a))
    return fixed


async def test_reports_read_the_same_numbers_from_months_as_from_days(conn: Any) -> None:
    await catalogue(conn)
    rng = random.Random(11)
    await _random_writes(conn, rng)
    await repo.fold_rollups(conn)
    ids = [r["id"] for r in await conn.fetch("SELECT id FROM touchpoints ORDER BY id")]
    for start, end in _periods(rng):
        for chosen in (ids, ids[:1], ids[1:3]):
            monthly = await repo.theme_totals(conn, touchpoint_ids=chosen, start=start, end=end)
            daily = [msgspec.convert(dict(r), repo.ThemeRow)
                     for r in await conn.fetch(DAILY_THEME_TOTALS, chosen, start, end)]

            def key(row: repo.ThemeRow) -> tuple[int, str, str]:
                return row.touchpoint_id, row.kind, row.theme

            assert sorted(map(key, monthly)) == sorted(map(key, daily)), (start, end)
            by_key = {key(r): r for r in daily}
            for row in monthly:
                other = by_key[key(row)]
                assert msgspec.structs.replace(row, sentiment_sum=0.0) == \
                    msgspec.structs.replace(other, sentiment_sum=0.0), (start, end)
                assert row.sentiment_sum == pytest.approx(other.sentiment_sum, abs=1e-9)


async def test_verbatims_are_the_ones_the_full_query_picks(conn: Any) -> None:
    await catalogue(conn)
    rng = random.Random(5)
    await _random_writes(conn, rng)
    await repo.fold_rollups(conn)
    ids = [r["id"] for r in await conn.fetch("SELECT id FROM touchpoints ORDER BY id")]
    # At least one theme has more than 200 candidates, so the cut at 200 is exercised.
    assert await conn.fetchval(
        "SELECT max(n) FROM (SELECT count(*) AS n FROM response_theme_comments "
        "GROUP BY theme, band) x") > 200
    themes = [*THEMES, "nowhere"]
    for start, end in _periods(rng):
        since = datetime.combine(start, datetime.min.time(), UTC)
        until = datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC)
        for chosen in (ids, ids[:1], ids[2:]):
            for band in (-1, 1):
                got = await repo.theme_comments(conn, themes=themes, touchpoint_ids=chosen,
                                                since=since, until=until, band=band)
                want: dict[str, list[Any]] = {}
                for r in await conn.fetch(OLD_THEME_COMMENTS, themes, chosen, since, until, band):
                    want.setdefault(r["theme"], []).append(r["id"])
                assert {t: [v.response_id for v in vs] for t, vs in got.items()} == want, \
                    (start, end, chosen, band)


def _close(a: Any, b: Any, where: str = "") -> None:
    """Equal, floats to 1e-9: float sums added in another order differ in the last bits."""
    if isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-9), where
    elif isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


async def test_reports_are_the_same_as_from_the_daily_rows(conn: Any, monkeypatch: Any) -> None:
    """Owner and touchpoint reports read from week/month parts and monthly theme totals equal
    the reports read from the daily rows alone, as before migration 0003."""
    cat = await catalogue(conn)
    rng = random.Random(17)
    await _random_writes(conn, rng)
    from feedback.insight import service

    async def by_day(c: Any, *, touchpoint_ids: Any, start: date, end: date,
                     split: date) -> list[repo.DailyRow]:
        del split
        return await repo.daily_rollups(c, touchpoint_ids=touchpoint_ids, start=start, end=end)

    async def themes_by_day(c: Any, *, touchpoint_ids: Any, periods: Any
                            ) -> list[list[repo.ThemeRow]]:
        return [[msgspec.convert(dict(r), repo.ThemeRow)
                 for r in await c.fetch(DAILY_THEME_TOTALS, list(touchpoint_ids), start, end)]
                for start, end in periods]

    async def reports() -> list[Any]:
        out: list[Any] = []
        today = datetime.now(UTC).date()
        for start, end in _periods(random.Random(1))[:8]:
            for owner in cat.owners.values():
                out.append(msgspec.to_builtins(await service.owner_report(
                    conn, owner, start=start, end=end, today=today, scope=None, min_n=5)))
            out.append(msgspec.to_builtins(await service.touchpoint_report(
                conn, "support-call", start=start, end=end, today=today, scope=None, min_n=5)))
        return out

    now = await reports()
    monkeypatch.setattr(repo, "period_rollups", by_day)
    monkeypatch.setattr(repo, "theme_totals_of", themes_by_day)
    before = await reports()
    assert any(r.get("pain_points") for r in now)
    _close(now, before)


def test_theme_pieces_cover_each_day_of_the_period_exactly_once() -> None:
    """Months plus days minus days: every day of [start, end] counted once, no other day."""
    rng = random.Random(7)

    def days(a: date, b: date) -> list[date]:
        return [a + timedelta(days=i) for i in range((b - a).days)]

    for _ in range(3000):
        start = date(2024, 1, 1) + timedelta(days=rng.randrange(800))
        end = start + timedelta(days=rng.choice([0, 1, 5, 20, 40, 90, 364, rng.randrange(1100)]))
        p = repo.theme_pieces(start, end)
        counted: dict[date, int] = {}
        month = p.months_from
        while month < p.months_to:
            after = (month + timedelta(days=32)).replace(day=1)
            for day in days(month, after):
                counted[day] = counted.get(day, 0) + 1
            month = after
        for sign, ranges in ((1, p.plus), (-1, p.minus)):
            for day in days(ranges[0], ranges[1]) + days(ranges[2], ranges[3]):
                counted[day] = counted.get(day, 0) + sign
        assert {d for d, n in counted.items() if n} == set(days(start, end + timedelta(days=1)))
        assert set(counted.values()) <= {0, 1}, (start, end)


async def test_week_parts_start_on_mondays_and_first_days_of_months(conn: Any) -> None:
    first = date(2023, 12, 20)
    days = [first + timedelta(days=i) for i in range(120)]
    got = await conn.fetch("SELECT d::date AS day, week_part(d::date) AS part "
                           "FROM unnest($1::date[]) AS d", days)
    assert {r["day"]: r["part"] for r in got} == {d: repo.part_start(d) for d in days}
    for start in days[:60]:
        for end in (start, start + timedelta(days=5), start + timedelta(days=40)):
            whole_from, whole_to = repo.whole_parts(start, end)
            inside = [d for d in days if whole_from <= d < whole_to]
            # Whole parts: they start and end inside the period, on part boundaries.
            assert all(start <= d <= end for d in inside)
            assert whole_from >= whole_to or repo.part_start(whole_from) == whole_from
            assert whole_from >= whole_to or repo.part_start(whole_to) == whole_to
            assert whole_from - start < timedelta(days=7)
            assert end + timedelta(days=1) - whole_to < timedelta(days=7)


# --- what a group commit costs PostgreSQL (migration 0017) ----------------------------------

ROLLUP_TABLES = ("touchpoint_daily", "touchpoint_week_parts", "touchpoint_daily_themes",
                 "touchpoint_monthly_themes", "response_theme_comments")


async def test_one_function_queues_every_rollup_of_responses_and_no_rollup_has_a_trigger(conn: Any) -> None:
    # A statement on responses runs one function, which only queues its rows (migration 0018);
    # writing a rollup fires nothing (0004's week parts ran two more functions per batch).
    rows = await conn.fetch(
        "SELECT tgrelid::regclass::text AS rel, tgname, tgfoid::regproc::text AS fn FROM pg_trigger "
        "WHERE NOT tgisinternal AND tgrelid = ANY($1::regclass[])",
        ["responses", "rollup_queue", *ROLLUP_TABLES])
    assert {(r["rel"], r["tgname"], r["fn"]) for r in rows} == {
        ("responses", f"responses_queue_rollups_{op}", "responses_queue_rollups")
        for op in ("insert", "update", "delete")}


async def test_week_part_is_inlined_where_it_is_called(conn: Any) -> None:
    # The week parts' GROUP BY and CHECK call it for every row: inlined, it is an expression,
    # not a run of the SQL function executor each time.
    plan = await conn.fetchval(
        "EXPLAIN (VERBOSE, FORMAT JSON) SELECT week_part(d::date) "
        "FROM generate_series(date '2026-01-01', date '2026-03-01', interval '1 day') AS d")
    assert "week_part" not in str(plan) and "GREATEST" in str(plan), plan
    assert await conn.fetchval("SELECT week_part(NULL) IS NULL")
