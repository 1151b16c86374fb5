"""A year of synthetic answers for the report benchmark, loaded with COPY in chunks."""

from __future__ import annotations

import random
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from feedback.sentiment import ANALYZER_VERSION
from feedback.service.database import Connection

KINDS = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}

# A small realistic vocabulary: theme key, and phrases that mention it good or bad.
THEMES: dict[str, tuple[str, str]] = {
    "delivery": ("delivery was quick", "delivery was two days late"),
    "courier": ("the courier was friendly", "the courier was rude"),
    "packaging": ("packaging was neat", "the box arrived damaged"),
    "price": ("fair price", "far too expensive"),
    "refund": ("got my refund fast", "still waiting for my refund"),
    "support": ("support solved it in minutes", "support never answered"),
    "wait_time": ("no waiting at all", "waited forty minutes on hold"),
    "app": ("the app is easy to use", "the app keeps crashing"),
    "checkout": ("checkout was smooth", "checkout failed twice"),
    "quality": ("great quality", "poor quality, broke in a week"),
    "staff": ("staff were helpful", "staff ignored me"),
    "billing": ("the invoice was clear", "I was charged twice"),
}
COLUMNS = (
    "touchpoint_id", "id", "journey_id", "stage_id", "owner_id", "kind", "scale_min", "scale_max",
    "score", "comment", "customer_ref", "channel", "source", "sentiment_polarity",
    "sentiment_label", "language", "themes", "analyzer_version", "occurred_at", "created_at",
    "updated_at",
)


@dataclass(frozen=True)
class Touchpoint:
    """What a synthetic answer copies from its touchpoint."""

    id: int
    journey_id: int
    stage_id: int
    owner_id: int
    kind: str


async def make_catalogue(conn: Connection, *, touchpoints: int, owners: int) -> list[Touchpoint]:
    """One journey of eight stages, `owners` owners and `touchpoints` touchpoints spread over them."""
    journey = await conn.fetchval("INSERT INTO journeys (name) VALUES ('Bench journey') RETURNING id")
    stages = [await conn.fetchval(
        "INSERT INTO stages (journey_id, name, position) VALUES ($1, $2, $3) RETURNING id",
        journey, f"Stage {i}", i) for i in range(8)]
    owner_ids = [await conn.fetchval("INSERT INTO owners (name) VALUES ($1) RETURNING id", f"Owner {i}")
                 for i in range(owners)]
    made: list[Touchpoint] = []
    kinds = list(KINDS)
    for i in range(touchpoints):
        owner, stage, kind = owner_ids[i % owners], stages[i % 8], kinds[i % 3]
        tp = await conn.fetchval(
            "INSERT INTO touchpoints (key, name, stage_id, channel, owner_id, kind) "
            "VALUES ($1, $2, $3, 'web', $4, $5) RETURNING id",
            f"bench-{i:04d}", f"Bench touchpoint {i}", stage, owner, kind)
        made.append(Touchpoint(tp, journey, stage, owner, kind))
    return made


def _rows(rng: random.Random, touchpoints: list[Touchpoint], count: int, now: datetime,
          days: int) -> Iterator[tuple[Any, ...]]:
    theme_keys = list(THEMES)
    for _ in range(count):
        tp = touchpoints[rng.randrange(len(touchpoints))]
        low, high = KINDS[tp.kind]
        # Skewed towards the top, as real answers are.
        score = high - min(high - low, int(rng.expovariate(0.45)))
        band = (score - low) / (high - low)
        comment = themes = None
        polarity = label = None
        if rng.random() < 0.4:
            picked = rng.sample(theme_keys, rng.choice((1, 1, 2)))
            good = band >= 0.6
            comment = ", ".join(THEMES[t][0 if good else 1] for t in picked)
            themes = picked
            polarity = round(rng.uniform(0.2, 0.9) if good else rng.uniform(-0.9, -0.1), 3)
            label = "positive" if good else "negative"
        at = now - timedelta(seconds=rng.uniform(0, days * 86400))
        # Stamped with today's analyzer version: older rows would start the service's rescore
        # catch-up, which would then re-read a million comments during the report timings.
        yield (tp.id, uuid.UUID(int=rng.getrandbits(128), version=4), tp.journey_id, tp.stage_id,
               tp.owner_id, tp.kind, low, high, score, comment, f"c{rng.randrange(10**9)}", "web",
               "api", polarity, label, "en" if comment else None, themes or [], ANALYZER_VERSION,
               at, at, at)


async def copy_responses(conn: Connection, touchpoints: list[Touchpoint], count: int, *, seed: int,
                         days: int = 365, chunk: int = 50_000, label: str = "") -> float:
    """COPY `count` answers spread over the last `days` days; returns rows per second."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    done, started = 0, time.monotonic()
    while done < count:
        n = min(chunk, count - done)
        await conn.copy_records_to_table("responses", records=list(_rows(rng, touchpoints, n, now, days)),
                                         columns=COLUMNS)
        done += n
        _progress(label, done, count, started)
    print(file=sys.stderr)
    return count / (time.monotonic() - started)


def _progress(label: str, done: int, total: int, started: float) -> None:
    width = 30
    filled = width * done // total
    rate = done / max(time.monotonic() - started, 1e-9)
    sys.stderr.write(f"\r  {label} [{'#' * filled}{'.' * (width - filled)}] "
                     f"{done:,}/{total:,} rows, {rate:,.0f}/s")
    sys.stderr.flush()
