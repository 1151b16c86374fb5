"""The report's faster paths give exactly what the plain ones gave."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

from feedback.insight.models import Bucket
from feedback.insight.repository import DailyRow
from feedback.insight.service import bucket_start, histogram, series
from feedback.insight.statistics import score_from_counts

# A point as series() gave it before partial buckets were marked.
PlainPoint = tuple[date, int, float | None, float | None, float | None]
SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


def _plain_series(rows: list[DailyRow], kind: str, start: date, end: date, bucket: Bucket,
                  min_n: int) -> list[PlainPoint]:
    """series() as it was: the rows grouped per bucket, then histogram() of each group."""
    by_bucket: dict[date, list[DailyRow]] = defaultdict(list)
    for row in rows:
        if row.kind == kind and start <= row.day <= end:
            by_bucket[bucket_start(row.day, bucket)].append(row)
    points = []
    current = start if bucket is Bucket.DAY else bucket_start(start, bucket)
    while current <= end:
        score = score_from_counts(kind, histogram(by_bucket.get(current, ()), kind), min_n=min_n)
        points.append((current, score.n, score.value, score.ci_low, score.ci_high))
        if bucket is Bucket.WEEK:
            current += timedelta(days=7)
        elif bucket is Bucket.MONTH:
            current = (current + timedelta(days=32)).replace(day=1)
        else:
            current += timedelta(days=1)
    return points


def _rows(rng: random.Random, first: date, days: int) -> list[DailyRow]:
    rows = []
    for _ in range(rng.randrange(0, 400)):
        kind = rng.choice(list(SCALES))
        low, high = SCALES[kind]
        counts = {s: rng.randrange(1, 9) for s in rng.sample(range(low, high + 1), rng.randrange(1, 4))}
        rows.append(DailyRow(
            touchpoint_id=1, day=first + timedelta(days=rng.randrange(days)), kind=kind,
            responses=sum(counts.values()), counts=counts, comments=0, sentiment_n=0,
            sentiment_sum=0.0, sentiment_sq=0.0, negative=0, neutral=0, positive=0, mixed=0,
            unscored=0))
    return rows


def test_series_equals_the_grouped_histograms() -> None:
    rng = random.Random(11)
    for _ in range(200):
        first = date(2025, 1, 1) + timedelta(days=rng.randrange(500))
        rows = _rows(rng, first - timedelta(days=20), 420)
        start = first + timedelta(days=rng.randrange(10))
        end = start + timedelta(days=rng.randrange(400))
        for kind in SCALES:
            for bucket in (Bucket.WEEK, Bucket.MONTH, Bucket.DAY):
                for min_n in (1, 30):
                    got = [(p.start, p.n, p.value, p.ci_low, p.ci_high)
                           for p in series(rows, kind, start, end, bucket, min_n)]
                    assert got == _plain_series(rows, kind, start, end, bucket, min_n)
