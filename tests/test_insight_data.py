"""Shared builders for the insight tests: a small catalogue and responses written with SQL."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from feedback.service.database import Connection
from surveys import service
from surveys.kinds import SurveyKind, scale_of
from surveys.models import Channel, JourneyCreate, OwnerCreate, TouchpointCreate


@dataclass
class Catalogue:
    """Ids of what `catalogue` created."""

    journey: int
    stages: dict[str, int]
    owners: dict[str, int]
    touchpoints: dict[str, int] = field(default_factory=dict)


# key, stage, owner, kind, target
TOUCHPOINTS = [
    ("support-call", "Solution", "support", SurveyKind.CSAT, 85.0),
    ("support-chat", "Solution", "support", SurveyKind.CSAT, 85.0),
    ("first-login", "Onboarding", "onboarding", SurveyKind.CES, 5.5),
    ("relationship-nps", "Loyalty", "onboarding", SurveyKind.NPS, 30.0),
]


async def catalogue(conn: Connection) -> Catalogue:
    journey = await service.create_journey(conn, JourneyCreate(name="Shop"))
    owners = {
        short: (await service.create_owner(conn, OwnerCreate(name=short.title()))).id
        for short in ("support", "onboarding")
    }
    cat = Catalogue(journey=journey.id, stages={s.name: s.id for s in journey.stages}, owners=owners)
    for key, stage, owner, kind, target in TOUCHPOINTS:
        tp = await service.create_touchpoint(conn, TouchpointCreate(
            key=key, name=key.replace("-", " ").capitalize(), stage_id=cat.stages[stage],
            channel=Channel.PHONE, owner_id=owners[owner], kind=kind, target=target))
        cat.touchpoints[key] = tp.id
    return cat


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), UTC)


def today() -> date:
    return datetime.now(UTC).date()


INSERT = """
INSERT INTO responses (touchpoint_id, id, journey_id, stage_id, owner_id, kind, scale_min,
    scale_max, score, comment, customer_ref, channel, source, sentiment_polarity,
    sentiment_label, themes, analyzer_version, occurred_at)
SELECT t.id, $2, s.journey_id, t.stage_id, t.owner_id, t.kind, $3, $4, $5, $6, $7, t.channel,
    'api', $8, $9, $10, $11, $12
FROM touchpoints t JOIN stages s ON s.id = t.stage_id WHERE t.key = $1
"""


async def answer(
    conn: Connection, key: str, score: int, *, when: datetime, comment: str | None = None,
    themes: list[str] | None = None, polarity: float | None = None, label: str | None = None,
    customer: str | None = None, version: int = 1,
) -> uuid.UUID:
    kind = await conn.fetchval("SELECT kind FROM touchpoints WHERE key = $1", key)
    scale = scale_of(kind)
    rid = uuid.uuid4()
    await conn.execute(INSERT, key, rid, scale.low, scale.high, score, comment, customer, polarity,
                       label, themes or [], version, when)
    return rid


async def answers(conn: Connection, key: str, scores: list[int], *, day: date,
                  **extra: Any) -> list[uuid.UUID]:
    return [await answer(conn, key, s, when=at(day, 8 + i % 12), **extra)
            for i, s in enumerate(scores)]


def spread(rng: random.Random, kind: SurveyKind, n: int) -> list[int]:
    scale = scale_of(kind)
    return [rng.randint(scale.low, scale.high) for _ in range(n)]


def days_ago(n: int) -> date:
    return today() - timedelta(days=n)
