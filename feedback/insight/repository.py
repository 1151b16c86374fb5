"""Rollup rows, verbatims and responses from PostgreSQL, turned into plain values at the boundary."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from feedback.collection.models import ResponseOut
from feedback.collection.repository import stored_response
from feedback.insight.models import Selection, ShareTarget, TouchpointRef, Verbatim
from feedback.sentiment.models import stored_sentiment
from surveys.repository import Conn
from surveys.sql import load

Q = load(__file__)

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


async def fold_rollups(conn: Conn, *, wait: bool = True) -> int:
    """Fold the queued answers into the rollups (migration 0018): readers call it first, so
    what they read includes every answer committed before; returns the row images folded."""
    return int(await conn.fetchval(Q["fold-rollups"], wait))


async def rollup_queue_pages(conn: Conn) -> int:
    return int(await conn.fetchval(Q["rollup-queue-pages"]))


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
    return _daily_rows(await conn.fetch(Q["daily-rollups"], list(touchpoint_ids), start, end))


def _days(start: date, stop: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((stop - start).days)]


def part_start(day: date) -> date:
    """The first day of a day's week part: its ISO week's Monday or its month's first day."""
    return max(day - timedelta(days=day.weekday()), day.replace(day=1))


def whole_parts(start: date, end: date) -> tuple[date, date]:
    """[first, stop): the first days of the week parts wholly inside [start, end]; the days
    before first and from stop on are the ends, read day by day. first >= stop when none."""
    first = start if part_start(start) == start else min(
        start + timedelta(days=7 - start.weekday()), _next_month(start))
    return first, part_start(end + timedelta(days=1))


async def period_rollups(conn: Conn, *, touchpoint_ids: Sequence[int], start: date, end: date,
                         split: date) -> list[DailyRow]:
    """The daily rows of [start, end] summed per touchpoint and kind within each ISO week and
    month, none across split: each row's day is its part's first day (or its first day in the
    period), so any weekly or monthly bucketing (and any period starting at split) sums them
    exactly as it would the days. Whole parts come from the week part rollup."""
    ranges: list[date] = []
    ends: list[date] = []
    for a, b in ((start, split - timedelta(days=1)), (split, end)):
        after = b + timedelta(days=1)
        first, stop = whole_parts(a, b) if a <= b else (a, a)
        if first >= stop:
            first = stop = after
        ranges += [first, stop]
        ends += _days(a, first) + _days(stop, after)
    return _daily_rows(await conn.fetch(Q["period-rollups"], list(touchpoint_ids), start, end,
                                        split, *ranges, ends))


def _daily_rows(rows: Sequence[asyncpg.Record]) -> list[DailyRow]:
    out = []
    for r in rows:
        # By position, in the order of the query's columns: thousands of rows per report.
        (touchpoint_id, day, kind, responses, *scores, comments, sentiment_n, sentiment_sum,
         sentiment_sq, negative, neutral, positive, mixed, unscored) = tuple(r)
        out.append(DailyRow(
            touchpoint_id=touchpoint_id, day=day, kind=kind, responses=responses,
            counts={s: c for s, c in enumerate(scores) if c}, comments=comments,
            sentiment_n=sentiment_n, sentiment_sum=sentiment_sum, sentiment_sq=sentiment_sq,
            negative=negative, neutral=neutral, positive=positive, mixed=mixed,
            unscored=unscored,
        ))
    return out


async def daily_totals(conn: Conn, *, touchpoint_ids: Sequence[int], start: date, end: date
                       ) -> list[DailyRow]:
    """Score histograms per day and kind, summed over the touchpoints (touchpoint_id 0); the
    sentiment fields are left at zero: for scores, which read only the histograms."""
    rows = await conn.fetch(Q["daily-totals"], list(touchpoint_ids), start, end)
    out = []
    for r in rows:
        counts = {s: int(r[f"s{s}"]) for s in range(11) if r[f"s{s}"]}
        out.append(DailyRow(
            touchpoint_id=0, day=r["day"], kind=str(r["kind"]), responses=int(r["responses"]),
            counts=counts, comments=0, sentiment_n=0, sentiment_sum=0.0, sentiment_sq=0.0,
            negative=0, neutral=0, positive=0, mixed=0, unscored=0,
        ))
    return out


async def funnel_totals(conn: Conn, *, touchpoint_ids: Sequence[int], start: date, end: date
                        ) -> dict[int, FunnelRow]:
    rows = await conn.fetch(Q["funnel-totals"], list(touchpoint_ids), start, end)
    return {int(r["touchpoint_id"]): msgspec.convert(dict(r), FunnelRow) for r in rows}


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


class ThemePieces(msgspec.Struct, frozen=True):
    """How theme-totals reads [start, end]: the months [months_from, months_to) from the
    monthly rollup, plus the days of `plus`, minus the days of `minus` (each two [from, to)
    day ranges, possibly empty) from the daily one."""

    months_from: date
    months_to: date
    plus: tuple[date, date, date, date]
    minus: tuple[date, date, date, date]


def theme_pieces(start: date, end: date) -> ThemePieces:
    """A partial month at either end is read day by day, or, when fewer of its days lie outside
    the period, as its monthly row minus those days: a period ending today reads the few days
    after today (usually none) instead of the month so far."""
    after = end + timedelta(days=1)
    first_month, last_month = start.replace(day=1), end.replace(day=1)
    empty = (after, after)
    if first_month == last_month:
        outside = (start - first_month).days + (_next_month(end) - after).days
        if outside < (after - start).days:
            return ThemePieces(first_month, _next_month(end), (*empty, *empty),
                               (first_month, start, after, _next_month(end)))
        return ThemePieces(after, after, (start, after, *empty), (*empty, *empty))
    months_from, months_to = first_month, _next_month(end)
    plus: list[date] = []
    minus: list[date] = []
    if start != first_month:
        if (start - first_month).days < (_next_month(start) - start).days:
            minus += [first_month, start]
        else:
            months_from = _next_month(start)
            plus += [start, months_from]
    if after != months_to:
        if (months_to - after).days < (after - last_month).days:
            minus += [after, months_to]
        else:
            months_to = last_month
            plus += [last_month, after]
    plus += [after] * (4 - len(plus))
    minus += [after] * (4 - len(minus))
    return ThemePieces(months_from, months_to, (plus[0], plus[1], plus[2], plus[3]),
                       (minus[0], minus[1], minus[2], minus[3]))


async def theme_totals_of(conn: Conn, *, touchpoint_ids: Sequence[int],
                          periods: Sequence[tuple[date, date]]) -> list[list[ThemeRow]]:
    """The theme totals of each period [start, end], in one statement."""
    numbers: list[int] = []
    monthly: list[bool] = []
    signs: list[int] = []
    firsts: list[date] = []
    stops: list[date] = []

    def piece(number: int, months: bool, sign: int, first: date, stop: date) -> None:
        if first < stop:
            numbers.append(number)
            monthly.append(months)
            signs.append(sign)
            firsts.append(first)
            stops.append(stop)

    for number, (start, end) in enumerate(periods):
        p = theme_pieces(start, end)
        piece(number, True, 1, p.months_from, p.months_to)
        for sign, days in ((1, p.plus), (-1, p.minus)):
            piece(number, False, sign, days[0], days[1])
            piece(number, False, sign, days[2], days[3])
    out: list[list[ThemeRow]] = [[] for _ in periods]
    for r in await conn.fetch(Q["theme-totals"], list(touchpoint_ids), numbers, monthly, signs,
                              firsts, stops):
        data = dict(r)
        out[data.pop("period")].append(msgspec.convert(data, ThemeRow))
    return out


async def theme_totals(conn: Conn, *, touchpoint_ids: Sequence[int], start: date, end: date
                       ) -> list[ThemeRow]:
    return (await theme_totals_of(conn, touchpoint_ids=touchpoint_ids, periods=[(start, end)]))[0]


class QuoteRequest(msgspec.Struct, frozen=True):
    """Verbatims wanted for one theme in one band (-1 low, 1 high) over some touchpoints."""

    theme: str
    band: int
    touchpoint_ids: tuple[int, ...]


async def theme_comments_many(
    conn: Conn, *, requests: Sequence[QuoteRequest], since: datetime, until: datetime,
) -> list[list[Verbatim]]:
    """Up to three verbatims per request, in the order of the requests, in one query."""
    numbers: list[int] = []
    themes: list[str] = []
    bands: list[int] = []
    ids: list[int] = []
    for number, req in enumerate(requests):
        for tp in req.touchpoint_ids:
            numbers.append(number)
            themes.append(req.theme)
            bands.append(req.band)
            ids.append(tp)
    out: list[list[Verbatim]] = [[] for _ in requests]
    if not ids:
        return out
    rows = await conn.fetch(Q["theme-comments"], numbers, themes, bands, ids, since, until)
    for r in rows:
        out[int(r["request"])].append(Verbatim(
            response_id=r["id"], touchpoint=r["touchpoint"], occurred_at=r["occurred_at"],
            score=int(r["score"]), comment=str(r["comment"]),
            sentiment=stored_sentiment(r["sentiment_polarity"], r["sentiment_subjectivity"],
                                       r["sentiment_label"], r["language"]),
        ))
    return out


async def theme_comments(
    conn: Conn, *, themes: Sequence[str], touchpoint_ids: Sequence[int], since: datetime,
    until: datetime, band: int,
) -> dict[str, list[Verbatim]]:
    requests = [QuoteRequest(theme, band, tuple(touchpoint_ids)) for theme in dict.fromkeys(themes)]
    quotes = await theme_comments_many(conn, requests=requests, since=since, until=until)
    return {req.theme: found for req, found in zip(requests, quotes, strict=True) if found}


async def get_response(conn: Conn, *, response_id: UUID, scope: int | None) -> ResponseOut | None:
    row = await conn.fetchrow(Q["get-response"], response_id, scope)
    return None if row is None else stored_response(row)


def _response_args(
    touchpoint_ids: Sequence[int], since: datetime, until: datetime, filters: dict[str, Any],
    after: tuple[datetime, UUID] | None, limit: int | None,
) -> list[Any]:
    return [
        list(touchpoint_ids), since, until, filters.get("customer"), filters.get("band"),
        filters.get("has_comment"), after[0] if after else None, after[1] if after else None,
        filters.get("label"), filters.get("theme"), filters.get("kind"), limit, filters.get("channel"),
    ]


async def list_responses(
    conn: Conn, *, touchpoint_ids: Sequence[int], since: datetime, until: datetime,
    filters: dict[str, Any], after: tuple[datetime, UUID] | None, limit: int,
) -> list[ResponseOut]:
    args = _response_args(touchpoint_ids, since, until, filters, after, limit)
    return [stored_response(r) for r in await conn.fetch(Q["list-responses"], *args)]


async def stream_responses(
    conn: Conn, *, touchpoint_ids: Sequence[int], since: datetime, until: datetime,
    filters: dict[str, Any], chunk: int = 500,
) -> AsyncIterator[ResponseOut]:
    """Every matching response through a server-side cursor; call inside a transaction."""
    args = _response_args(touchpoint_ids, since, until, filters, None, None)
    async for r in conn.cursor(Q["list-responses"], *args, prefetch=chunk):
        yield stored_response(r)


async def get_owner(conn: Conn, *, owner_id: int, scope: int | None) -> tuple[int, str] | None:
    row = await conn.fetchrow(Q["get-owner"], owner_id, scope)
    return None if row is None else (int(row["id"]), str(row["name"]))


async def get_journey(conn: Conn, *, journey_id: int) -> tuple[int, str, str] | None:
    row = await conn.fetchrow(Q["get-journey"], journey_id)
    return None if row is None else (int(row["id"]), str(row["name"]), str(row["description"]))


async def journey_names(conn: Conn, *, journey_ids: Sequence[int]) -> list[tuple[int, str]]:
    rows = await conn.fetch(Q["journey-names"], list(journey_ids))
    return [(int(r["id"]), str(r["name"])) for r in rows]


# Share links: owners and journeys alike, each query named after its table.
async def share_epoch(conn: Conn, *, target: ShareTarget, target_id: int, signing: bool = False) -> int | None:
    """The target's share epoch (None: no such target); `signing` waits for a revocation in flight."""
    query = Q[f"sign-{target}-share-epoch"] if signing else Q[f"{target}-share-epoch"]
    epoch = await conn.fetchval(query, target_id)
    return None if epoch is None else int(epoch)


async def lock_shares(conn: Conn, *, target: ShareTarget, target_id: int) -> bool:
    return await conn.fetchval(Q[f"lock-{target}-shares"], target_id) is not None


async def revoke_shares(conn: Conn, *, target: ShareTarget, target_id: int) -> datetime | None:
    revoked_at: datetime | None = await conn.fetchval(Q[f"revoke-{target}-shares"], target_id)
    return revoked_at


async def journey_stages(conn: Conn, *, journey_id: int) -> list[tuple[int, str, int]]:
    rows = await conn.fetch(Q["journey-stages"], journey_id)
    return [(int(r["id"]), str(r["name"]), int(r["position"])) for r in rows]


# Rescoring


async def rescore_count(conn: Conn, *, everything: bool, version: int) -> int:
    if everything:
        return int(await conn.fetchval(Q["rescore-count-all"]))
    return int(await conn.fetchval(Q["rescore-count"], version))


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


async def rescore_try_lock(conn: Conn, *, key: int) -> bool:
    return bool(await conn.fetchval(Q["rescore-try-lock"], key))


async def rescore_unlock(conn: Conn, *, key: int) -> None:
    await conn.fetchval(Q["rescore-unlock"], key)
