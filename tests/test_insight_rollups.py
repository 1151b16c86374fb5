"""The daily rollups stay exactly equal to a full scan of responses after random writes."""

from __future__ import annotations

import random
from typing import Any

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
    await _same(conn, THEMES_SCAN, THEMES_ROLLUP)

    for key, rid in rng.sample(ids, 120):
        del key
        await conn.execute("DELETE FROM responses WHERE id = $1", rid)
    await conn.execute("DELETE FROM responses WHERE score = 0")
    await _same(conn, DAILY_SCAN, DAILY_ROLLUP)
    await _same(conn, THEMES_SCAN, THEMES_ROLLUP)
    assert await conn.fetchval("SELECT count(*) FROM touchpoint_daily WHERE responses = 0 AND "
                               "(s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + comments "
                               "+ sentiment_n + negative + positive) <> 0") == 0
