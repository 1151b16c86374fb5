"""Rollup rows, verbatims and responses from PostgreSQL, turned into plain values at the boundary."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from feedback.insight.models import ResponseItem, Selection, TouchpointRef, Verbatim
from surveys.repository import Conn
from surveys.sql import load

Q = load(__file__)

_BANDS = {-1: "low", 0: "middle", 1: "high"}
THEME_SEPARATOR = "\x1f"


class Touchpoint(msgspec.Struct, frozen=True, kw_only=True):
    """A selected touchpoint with its database id (never shown)."""

    id: int
    ref: TouchpointRef


class DailyRow(msgspec.Struct, frozen=True, kw_only=True):
    """One touchpoint_daily row."""

    touchpoint_id: int
    day: date
    kind: str
    responses: int
    counts: dict[int, int]
    comments: int
    sentiment_n: int
    sentiment_sum: float
    sentiment_sq: float
    negative: int
    neutral: int
    positive: int
    mixed: int
    unscored: int


class ThemeRow(msgspec.Struct, frozen=True, kw_only=True):
    """A theme's totals for one touchpoint and kind over a period."""

    touchpoint_id: int
    kind: str
    theme: str
    responses: int
    low: int
    high: int
    score_sum: int
    sentiment_n: int
    sentiment_sum: float


class FunnelRow(msgspec.Struct, frozen=True, kw_only=True):
    """A touchpoint's invitation funnel over a period."""

    touchpoint_id: int
    invited: int
    clicked: int
    answered: int
    scanner: int
    not_asked: int


async def selected_touchpoints(conn: Conn, sel: Selection) -> list[Touchpoint]:
    rows = await conn.fetch(
        Q["selected-touchpoints"], sel.journey, sel.stage, sel.owner, sel.touchpoint, sel.channel,
        sel.scope,
    )
    out = []
    for r in rows:
        data = dict(r)
        out.append(Touchpoint(id=int(data.pop("id")), ref=msgspec.convert(data, TouchpointRef)))
    return out


async def daily_rollups(conn: Conn, *, touchpoint_ids: Sequence[int], start: date, end: date
                        ) -> list[DailyRow]:
    rows = await conn.fetch(Q["daily-rollups"], list(touchpoint_ids), start, end)
    out = []
    for r in rows:
        counts = {s: int(r[f"s{s}"]) for s in range(11) if r[f"s{s}"]}
        out.append(DailyRow(
            touchpoint_id=int(r["touchpoint_id"]), day=r["day"], kind=str(r["kind"]),
            responses=int(r["responses"]), counts=counts, comments=int(r["comments"]),
            sentiment_n=int(r["sentiment_n"]), sentiment_sum=float(r["sentiment_sum"]),
            sentiment_sq=float(r["sentiment_sq"]), negative=int(r["negative"]),
            neutral=int(r["neutral"]), positive=int(r["positive"]), mixed=int(r["mixed"]),
            unscored=int(r["unscored"]),
        ))
    return out


async def funnel_totals(conn: Conn, *, touchpoint_ids: Sequence[int], start: date, end: date
                        ) -> dict[int, FunnelRow]:
    rows = await conn.fetch(Q["funnel-totals"], list(touchpoint_ids), start, end)
    return {int(r["touchpoint_id"]): msgspec.convert(dict(r), FunnelRow) for r in rows}


async def theme_totals(conn: Conn, *, touchpoint_ids: Sequence[int], start: date, end: date
                       ) -> list[ThemeRow]:
    rows = await conn.fetch(Q["theme-totals"], list(touchpoint_ids), start, end)
    return [msgspec.convert(dict(r), ThemeRow) for r in rows]


async def theme_comments(
    conn: Conn, *, themes: Sequence[str], touchpoint_ids: Sequence[int], since: datetime,
    until: datetime, band: int,
) -> dict[str, list[Verbatim]]:
    if not themes:
        return {}
    rows = await conn.fetch(Q["theme-comments"], list(themes), list(touchpoint_ids), since, until, band)
    out: dict[str, list[Verbatim]] = {}
    for r in rows:
        out.setdefault(str(r["theme"]), []).append(Verbatim(
            response_id=r["id"], touchpoint=r["touchpoint"], occurred_at=r["occurred_at"],
            score=int(r["score"]), comment=str(r["comment"]),
            sentiment=None if r["sentiment_polarity"] is None else float(r["sentiment_polarity"]),
        ))
    return out


def _response(r: asyncpg.Record) -> ResponseItem:
    data = dict(r)
    data["band"] = _BANDS[int(data["band"])]
    data["themes"] = list(data["themes"] or [])
    return msgspec.convert(data, ResponseItem)


def _response_args(
    touchpoint_ids: Sequence[int], since: datetime, until: datetime, filters: dict[str, Any],
    after: tuple[datetime, UUID] | None, limit: int | None,
) -> list[Any]:
    return [
        list(touchpoint_ids), since, until, filters.get("customer"), filters.get("band"),
        filters.get("has_comment"), after[0] if after else None, after[1] if after else None,
        filters.get("label"), filters.get("theme"), filters.get("kind"), limit,
    ]


async def list_responses(
    conn: Conn, *, touchpoint_ids: Sequence[int], since: datetime, until: datetime,
    filters: dict[str, Any], after: tuple[datetime, UUID] | None, limit: int,
) -> list[ResponseItem]:
    args = _response_args(touchpoint_ids, since, until, filters, after, limit)
    return [_response(r) for r in await conn.fetch(Q["list-responses"], *args)]


async def stream_responses(
    conn: Conn, *, touchpoint_ids: Sequence[int], since: datetime, until: datetime,
    filters: dict[str, Any], chunk: int = 500,
) -> AsyncIterator[ResponseItem]:
    """Every matching response through a server-side cursor; call inside a transaction."""
    args = _response_args(touchpoint_ids, since, until, filters, None, None)
    async for r in conn.cursor(Q["list-responses"], *args, prefetch=chunk):
        yield _response(r)


async def get_owner(conn: Conn, *, owner_id: int, scope: int | None) -> tuple[int, str] | None:
    row = await conn.fetchrow(Q["get-owner"], owner_id, scope)
    return None if row is None else (int(row["id"]), str(row["name"]))


async def get_journey(conn: Conn, *, journey_id: int) -> tuple[int, str, str] | None:
    row = await conn.fetchrow(Q["get-journey"], journey_id)
    return None if row is None else (int(row["id"]), str(row["name"]), str(row["description"]))


async def journey_stages(conn: Conn, *, journey_id: int) -> list[tuple[int, str, int]]:
    rows = await conn.fetch(Q["journey-stages"], journey_id)
    return [(int(r["id"]), str(r["name"]), int(r["position"])) for r in rows]


# Rescoring


async def rescore_count(conn: Conn, *, everything: bool, version: int) -> int:
    return int(await conn.fetchval(Q["rescore-count"], everything, version))


async def rescore_batch(
    conn: Conn, *, everything: bool, version: int, after: tuple[int, UUID], limit: int
) -> list[tuple[int, UUID, str | None]]:
    rows = await conn.fetch(Q["rescore-batch"], everything, version, after[0], after[1], limit)
    return [(int(r["touchpoint_id"]), r["id"], r["comment"]) for r in rows]


async def rescore_update(conn: Conn, *, rows: Sequence[tuple[Any, ...]], version: int) -> None:
    """rows: (touchpoint_id, id, polarity, subjectivity, label, language, themes, comment read)."""
    columns = list(zip(*rows, strict=True))
    themes = [THEME_SEPARATOR.join(t) for t in columns[6]]
    await conn.execute(Q["rescore-update"], list(columns[0]), list(columns[1]), list(columns[2]),
                       list(columns[3]), list(columns[4]), list(columns[5]), themes, version,
                       list(columns[7]))
