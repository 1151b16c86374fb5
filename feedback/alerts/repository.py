"""Alert subscriptions, the delivery outbox and its rows in PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from feedback.alerts.models import Alert, AlertDelivery, AlertTrigger
from feedback.service.cache import TtlCache
from feedback.service.database import Connection
from surveys.sql import load

Q = load(__file__)

Wanted = tuple[bool, bool]
"""What an owner's subscriptions want between them: (low scores, negative comments)."""


class AlertRules:
    """Which owners have subscriptions, for the response writer: per process, like the other caches.

    Any change to a subscription, on any instance, drops it at once (migration 0015's trigger,
    feedback/service/invalidation.py); it lives `ttl` seconds at most besides. `queued` wakes
    this process's delivery worker when the writer has queued deliveries.
    """

    def __init__(self, ttl: float = 5.0) -> None:
        self._cache: TtlCache[str, dict[int, Wanted]] = TtlCache(ttl, 1, keep_none=False)
        self.queued = asyncio.Event()

    async def get(self, conn: Connection) -> dict[int, Wanted]:
        """Owner id → what it wants; empty (the common case) when no owner has subscriptions."""
        async def load() -> dict[int, Wanted]:
            rows = await conn.fetch(Q["alert-rules"])
            return {int(r["owner_id"]): (bool(r["low"]), bool(r["negative"])) for r in rows}

        rules = await self._cache.get("rules", load)
        return {} if rules is None else rules

    def drop(self, _name: str) -> None:
        self._cache.clear()

    def clear(self) -> None:
        self._cache.clear()


def _alert(row: asyncpg.Record) -> Alert:
    triggers = [t for t, on in ((AlertTrigger.LOW_SCORE, row["on_low_score"]),
                                (AlertTrigger.NEGATIVE_COMMENT, row["on_negative_comment"])) if on]
    return Alert(id=row["id"], owner_id=row["owner_id"], url=row["url"], triggers=triggers,
                 signed=row["signed"], created_at=row["created_at"])


async def insert_alert(conn: Connection, *, owner_id: int, url: str, on_low_score: bool,
                       on_negative_comment: bool, secret: str | None) -> Alert:
    row = await conn.fetchrow(Q["insert-alert"], owner_id, url, on_low_score, on_negative_comment, secret)
    assert row is not None
    return _alert(row)


async def list_alerts(conn: Connection, *, owner_id: int, after: int, limit: int) -> list[Alert]:
    return [_alert(r) for r in await conn.fetch(Q["list-alerts"], owner_id, after, limit)]


async def get_alert(conn: Connection, *, owner_id: int, alert_id: int) -> Alert | None:
    row = await conn.fetchrow(Q["get-alert"], owner_id, alert_id)
    return None if row is None else _alert(row)


async def delete_alert(conn: Connection, *, owner_id: int, alert_id: int) -> bool:
    return await conn.fetchval(Q["delete-alert"], owner_id, alert_id) is not None


class Candidate(msgspec.Struct, frozen=True, gc=False):
    """A stored answer that may post alerts: by id, or by its invitation (a survey-link answer)."""

    touchpoint_id: int
    response_id: UUID | None
    invitation_id: UUID | None
    low: bool
    negative: bool


async def queue_deliveries(conn: Connection, candidates: list[Candidate]) -> None:
    """One statement for a group commit's answers: a delivery per answer and matching subscription."""
    columns: list[list[Any]] = [list(c) for c in zip(*[
        (c.touchpoint_id, c.response_id, c.invitation_id, c.low, c.negative) for c in candidates],
        strict=True)]
    await conn.execute(Q["queue-deliveries"], *columns)


async def claim_deliveries(conn: Connection, *, limit: int, lease: float) -> list[asyncpg.Record]:
    return await conn.fetch(Q["claim-deliveries"], limit, lease)


async def delivery_details(conn: Connection, claimed: list[asyncpg.Record]) -> list[asyncpg.Record]:
    return await conn.fetch(Q["delivery-details"], [r["touchpoint_id"] for r in claimed],
                            [r["id"] for r in claimed])


class Outcome(msgspec.Struct, frozen=True):
    """What one post came to."""

    touchpoint_id: int
    delivery_id: int
    attempts: int
    delivered: bool
    status: int | None
    error: str | None
    final: bool
    retry_in: float


async def record_outcomes(conn: Connection, outcomes: list[Outcome]) -> None:
    await conn.executemany(Q["record-delivery"], [
        (o.touchpoint_id, o.delivery_id, o.attempts, o.delivered, o.status, o.error, o.final, o.retry_in)
        for o in outcomes])


async def list_deliveries(conn: Connection, *, alert_id: int, before: int, status: str | None,
                          limit: int) -> list[AlertDelivery]:
    rows = await conn.fetch(Q["list-deliveries"], alert_id, before, status, limit)
    return [msgspec.convert(dict(r), AlertDelivery) for r in rows]


async def purge_deliveries(conn: Connection, *, days: int, batch: int) -> int:
    return int(await conn.fetchval(Q["purge-deliveries"], days, batch))
