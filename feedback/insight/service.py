"""Scores, reports and journey maps assembled from the daily rollups (pure functions where possible)."""

from __future__ import annotations

import csv
import functools
import io
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from uuid import UUID

import msgspec

from feedback.collection.models import ResponseOut
from feedback.insight import repository as repo
from feedback.insight import sharing
from feedback.insight.models import (
    Bucket,
    Change,
    Funnel,
    JourneyMap,
    MapStage,
    MapTouchpoint,
    OwnerRef,
    OwnerReport,
    Point,
    ResponseFilter,
    Scores,
    ScoreValue,
    Selection,
    SentimentSummary,
    ShareLink,
    ShareRevocation,
    ShareTarget,
    ThemeGrowth,
    ThemeInsight,
    TouchpointRef,
    TouchpointReport,
    TouchpointScore,
    TouchpointScores,
    Verbatim,
)
from feedback.insight.repository import DailyRow, FunnelRow, ThemeRow, Touchpoint
from feedback.insight.statistics import (
    EMPTY_TALLY,
    Score,
    TargetStatus,
    compare,
    histogram_score,
    mean_interval,
    proportion,
    share_change_p_value,
    tally,
    tally_score,
    target_status,
)
from feedback.settings import Settings
from surveys.errors import ClientError, FieldError, InvalidInput, NotFound, invalid
from surveys.kinds import SurveyKind, scale_of
from surveys.models import Page
from surveys.paging import decode_cursor, encode_cursor
from surveys.repository import Conn
from surveys.service import seen_filters

DEFAULT_DAYS = 90
MAX_DAYS = 3 * 365 + 1
EARLIEST = date(1971, 1, 1)
LATEST = date(9000, 12, 31)
# A theme must be mentioned this often in a period to be ranked at all.
MIN_THEME_COUNT = 5
TOP_THEMES = 5

DEFINITIONS: Mapping[SurveyKind, str] = {
    SurveyKind.NPS: "NPS = % promoters (9–10) − % detractors (0–6) over answered responses; "
                    "from −100 to 100",
    SurveyKind.CSAT: "CSAT = % of answers 4–5 (satisfied) on the 1–5 scale over answered "
                     "responses; the mean answer is shown too",
    SurveyKind.CES: "CES = mean answer on the 1–7 scale over answered responses; % easy = "
                    "share of answers 5–7",
}
FUNNEL_DEFINITION = ("response rate = answered / invited (Wilson 95 % interval); click rate = "
                     "clicked by people / invited, where clicked by people = clicked − suspected "
                     "scanners (clicked invitations nobody answered whose every click looks like a "
                     "mail scanner's); funnel = invited → clicked → answered, by day of invitation")


def definition(kind: SurveyKind | str, min_n: int) -> str:
    """The published formula of a kind's score, with the interval and minimum-n rule."""
    # In the pages' words for a withheld score, as the definitions are shown there too.
    return (f"{DEFINITIONS[SurveyKind(kind)]}. 95 % confidence interval; withheld below n = "
            f"{min_n} (too few answers).")


# --- periods -------------------------------------------------------------------------------


def period(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The requested days (default: the last 90), checked; a 422 names the offending field."""
    if end is None:
        end = today
    too_early = f"must be {EARLIEST.isoformat()} or later"
    if start is not None and start < EARLIEST:
        raise invalid("from", too_early)
    if end < EARLIEST:  # before counting back from it: date(1, 1, 1) has no 90 days before it
        raise invalid("to", too_early)
    if start is None:
        # Counted back from the last day that has happened, as `end` is cut to it below: a
        # `to` in the future (a dashboard a time zone ahead) must not make up a `from` after today,
        # nor a `to` early in 1971 one before the earliest (a 422 naming a field never sent).
        start = max(EARLIEST, min(end, today) - timedelta(days=DEFAULT_DAYS - 1))
    if end > LATEST:
        raise invalid("to", f"must be {LATEST.isoformat()} or earlier")
    if start > today:
        raise invalid("from", "must not be after today: there are no answers yet")
    if end < start:
        raise invalid("to", "must not be before from")
    # Days still to come hold no answers: counting them would set the days that have happened
    # against a longer previous period (this month, asked for to its last day).
    end = min(end, today)
    if (end - start).days + 1 > MAX_DAYS:
        raise invalid("from", f"the range may span at most 3 years ({MAX_DAYS} days)")
    return start, end


def period_choices(today: date) -> list[tuple[str, date, date]]:
    """The periods a report page offers: rolling windows to today, then the last whole week
    (Monday to Sunday) and calendar month, for the weekly read and the monthly review."""
    monday = today - timedelta(days=today.weekday())
    month_end = today.replace(day=1) - timedelta(days=1)
    return [
        ("Last 7 days", today - timedelta(days=6), today),
        ("Last 30 days", today - timedelta(days=29), today),
        (f"Last {DEFAULT_DAYS} days", today - timedelta(days=DEFAULT_DAYS - 1), today),
        ("Last 365 days", today - timedelta(days=364), today),
        ("Last week", monday - timedelta(days=7), monday - timedelta(days=1)),
        ("Last month", month_end.replace(day=1), month_end),
    ]


def parse_day(raw: str | None, field: str) -> date | None:
    """A YYYY-MM-DD query value; a 422 naming the field otherwise."""
    if raw is None or raw == "":
        return None
    if len(raw) != 10:
        raise invalid(field, "must be a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise invalid(field, "must be a date written YYYY-MM-DD") from None


def period_of(start: str | None, end: str | None, today: date) -> tuple[date, date]:
    """Parse and check the from/to query values."""
    return period(parse_day(start, "from"), parse_day(end, "to"), today)


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period of the same length just before [start, end]."""
    length = (end - start).days + 1
    prev_end = start - timedelta(days=1)
    return prev_end - timedelta(days=length - 1), prev_end


def day_range(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00 UTC, the day after end 00:00 UTC): the instants of a period of UTC days."""
    return (datetime.combine(start, time(), UTC),
            datetime.combine(end + timedelta(days=1), time(), UTC))


def bucket_start(day: date, bucket: Bucket) -> date:
    if bucket is Bucket.WEEK:
        return day - timedelta(days=day.weekday())
    if bucket is Bucket.MONTH:
        return day.replace(day=1)
    return day


def _next_bucket(start: date, bucket: Bucket) -> date:
    if bucket is Bucket.WEEK:
        return start + timedelta(days=7)
    if bucket is Bucket.MONTH:
        return (start + timedelta(days=32)).replace(day=1)
    return start + timedelta(days=1)


# --- pure assembly over rollup rows ------------------------------------------------------------


def value_of(score: Score) -> ScoreValue:
    return ScoreValue(
        n=score.n, value=score.value, ci_low=score.ci_low, ci_high=score.ci_high,
        insufficient=score.insufficient, mean=score.mean, share_high=score.share_high,
        share_low=score.share_low,
    )


def histogram(rows: Iterable[DailyRow], kind: str) -> dict[int, int]:
    """Score counts of the rows of one kind."""
    counts: dict[int, int] = defaultdict(int)
    for row in rows:
        if row.kind == kind:
            for score, count in row.counts.items():
                counts[score] += count
    return dict(counts)


# (bucket start, first day, last day, days, days of the whole bucket, ongoing, partial)
_Frame = tuple[date, date, date, int, int, bool, bool]


@functools.lru_cache(maxsize=256)
def _frames(start: date, end: date, bucket: Bucket, today: date | None) -> tuple[_Frame, ...]:
    """The buckets of a series: the same for every touchpoint of a report (a year-long owner
    report plots 15 touchpoints' weeks and months), so worked out once."""
    frames = []
    current = bucket_start(start, bucket)
    while current <= end:
        following = _next_bucket(current, bucket)
        first, last = max(current, start), min(following - timedelta(days=1), end)
        days, whole = (last - first).days + 1, (following - current).days
        ongoing = today is not None and first <= today <= last
        frames.append((current, first, last, days, whole, ongoing, ongoing or days < whole))
        current = following
    return tuple(frames)


# A report puts each of its rows' days in a bucket once per series: a year has 365 days.
_bucket_of = functools.lru_cache(maxsize=4096)(bucket_start)


def series(rows: Sequence[DailyRow], kind: str, start: date, end: date, bucket: Bucket,
           min_n: int, *, today: date | None = None) -> list[Point]:
    """One point per bucket from start to end, empty buckets included (n = 0); a bucket cut by
    start or end, or holding today (None: no day of the period is still going on), is partial."""
    # One pass: each bucket's tally summed as the rows come (the tally of what histogram()
    # would give for the bucket's rows).
    survey_kind = SurveyKind(kind)
    by_bucket: dict[date, list[int]] = {}
    for row in rows:
        if row.kind == kind and start <= row.day <= end:
            first = _bucket_of(row.day, bucket)
            n, high, low, total, total_sq = tally(survey_kind, row.counts)
            acc = by_bucket.get(first)
            if acc is None:
                by_bucket[first] = [n, high, low, total, total_sq]
            else:
                acc[0] += n
                acc[1] += high
                acc[2] += low
                acc[3] += total
                acc[4] += total_sq
    points = []
    for current, first, last, days, whole, ongoing, partial in _frames(start, end, bucket, today):
        acc = by_bucket.get(current)
        score = tally_score(survey_kind, EMPTY_TALLY if acc is None else (
            acc[0], acc[1], acc[2], acc[3], acc[4]), min_n)
        points.append(Point(start=current, n=score.n, value=score.value, ci_low=score.ci_low,
                            ci_high=score.ci_high, first_day=first, last_day=last, days=days,
                            bucket_days=whole, ongoing=ongoing, partial=partial))
    return points


def common_target(touchpoints: Sequence[Touchpoint], kind: str) -> float | None:
    """The KPI target when every selected touchpoint of this kind has the same one."""
    targets = {t.ref.target for t in touchpoints if t.ref.kind == kind}
    if len(targets) != 1:
        return None
    return next(iter(targets))


def held_back(n: int, mean: float | None, min_n: int) -> float | None:
    """A mean of comments' polarity, or None below min_n comments: held back as a score is
    below min_n answers, since the mean of a comment or two is one customer's mood."""
    return mean if n >= min_n else None


def sentiment_summary(rows: Iterable[DailyRow], min_n: int) -> SentimentSummary:
    """The comments' label counts, and their mean polarity with its interval from min_n of them."""
    comments = n = negative = neutral = positive = mixed = unscored = 0
    total = total_sq = 0.0
    for row in rows:
        comments += row.comments
        n += row.sentiment_n
        total += row.sentiment_sum
        total_sq += row.sentiment_sq
        negative += row.negative
        neutral += row.neutral
        positive += row.positive
        mixed += row.mixed
        unscored += row.unscored
    mean: float | None = None
    low = high = None
    if n and n >= min_n:
        try:
            mean, interval = mean_interval(n, total, max(0.0, total_sq))
        except ValueError:  # float sums a hair inconsistent: show the mean alone
            mean, interval = total / n, None
        if interval is not None:
            low, high = max(-1.0, interval.low), min(1.0, interval.high)
    return SentimentSummary(
        comments=comments, n=n, mean=mean, ci_low=low, ci_high=high, negative=negative,
        neutral=neutral, positive=positive, mixed=mixed, unscored=unscored,
    )


def funnel(rows: Iterable[FunnelRow]) -> Funnel | None:
    """The funnel of invitation-based touchpoints; None when nobody was invited."""
    invited = clicked = answered = scanner = not_asked = 0
    for row in rows:
        invited += row.invited
        clicked += row.clicked
        answered += row.answered
        scanner += row.scanner
        not_asked += row.not_asked
    if invited <= 0:
        return None
    people = min(max(clicked - scanner, 0), invited)
    rate, interval = proportion(min(max(answered, 0), invited), invited)
    return Funnel(
        definition=FUNNEL_DEFINITION, invited=invited, clicked=clicked, answered=answered,
        response_rate=100.0 * rate,
        ci_low=None if interval is None else 100.0 * interval.low,
        ci_high=None if interval is None else 100.0 * interval.high,
        # A scanner-flagged invitation was clicked (the flag is set by a click) and never
        # answered (an answer clears it): only its clicks are left out of the people's.
        click_rate=100.0 * people / invited, suspected_scanners=scanner, not_asked=not_asked,
        clicked_by_people=people,
    )


def _bands(kind: str) -> tuple[int, int]:
    """(highest low-band score, lowest high-band score) of a kind's scale."""
    scale = scale_of(kind)
    return scale.low_to, scale.high_from


_BAND_LIMITS: dict[str, tuple[int, int]] = {}


def band_totals(rows: Iterable[DailyRow]) -> tuple[int, int, int]:
    """(answers, low-band answers, high-band answers), each row banded by its own kind."""
    n = low = high = 0
    for row in rows:
        limits = _BAND_LIMITS.get(row.kind)
        if limits is None:
            limits = _BAND_LIMITS[row.kind] = _bands(row.kind)
        low_to, high_from = limits
        for score, count in row.counts.items():
            n += count
            if score >= high_from:
                high += count
            elif score <= low_to:
                low += count
    return n, low, high


def theme_insights(
    themes: Iterable[ThemeRow], rows: Iterable[DailyRow], keys: Mapping[int, str], *,
    min_n: int, min_count: int = MIN_THEME_COUNT, top: int = TOP_THEMES,
    totals: tuple[int, int, int] | None = None,
) -> tuple[list[ThemeInsight], list[ThemeInsight]]:
    """Pain points and positive moments, without verbatims; see docs/reports.md.

    impact = (low-band answers with the theme / all low-band answers)
           − (high-band answers with the theme / all high-band answers), in percentage points.
    Pain points: impact > 0, largest first; positive moments: impact < 0, most negative first.
    totals: band_totals(rows) when the caller has them already.
    """
    n_all, low_all, high_all = band_totals(rows) if totals is None else totals
    if n_all < min_n:  # shares of too few answers are held back, as the scores' are
        return [], []
    grouped: dict[str, list[ThemeRow]] = defaultdict(list)
    for row in themes:
        grouped[row.theme].append(row)
    insights = []
    for theme, parts in grouped.items():
        n = sum(p.responses for p in parts)
        if n < min_count:
            continue
        low = sum(p.low for p in parts)
        high = sum(p.high for p in parts)
        share_low = 100.0 * low / low_all if low_all else 0.0
        share_high = 100.0 * high / high_all if high_all else 0.0
        kinds = {p.kind for p in parts}
        sentiment_n = sum(p.sentiment_n for p in parts)
        mean_sentiment = sum(p.sentiment_sum for p in parts) / sentiment_n if sentiment_n else None
        insights.append(ThemeInsight(
            theme=theme, n=n, share=100.0 * n / n_all if n_all else 0.0, low=low, high=high,
            share_of_low=share_low, share_of_high=share_high, impact=share_low - share_high,
            # A mean score means something only on one scale.
            average_score=sum(p.score_sum for p in parts) / n if len(kinds) == 1 else None,
            mean_sentiment=held_back(sentiment_n, mean_sentiment, min_n), sentiment_n=sentiment_n,
            touchpoints=sorted({keys.get(p.touchpoint_id, "?") for p in parts}),
            comments=[],
        ))
    pain = sorted((i for i in insights if i.impact > 0), key=lambda i: (-i.impact, -i.n, i.theme))
    delight = sorted((i for i in insights if i.impact < 0), key=lambda i: (i.impact, -i.n, i.theme))
    return pain[:top], delight[:top]


def themes_grown(current: Iterable[ThemeRow], previous: Iterable[ThemeRow], n_current: int,
                 n_previous: int, *, min_n: int, min_count: int = MIN_THEME_COUNT,
                 top: int = TOP_THEMES) -> list[ThemeGrowth]:
    """Themes whose share of answers grew most against the previous period; none unless both
    periods have min_n answers (a share of too few answers, or of none, is no baseline)."""
    if n_current < min_n or n_previous < min_n:
        return []
    now: dict[str, int] = defaultdict(int)
    before: dict[str, int] = defaultdict(int)
    for row in current:
        now[row.theme] += row.responses
    for row in previous:
        before[row.theme] += row.responses
    grown = []
    for theme, n in now.items():
        if n < min_count or not n_current:
            continue
        share = 100.0 * n / n_current
        prev = 100.0 * before.get(theme, 0) / n_previous if n_previous else 0.0
        if share > prev:
            p_value = share_change_p_value(min(n, n_current), n_current,
                                           min(before.get(theme, 0), n_previous), n_previous)
            grown.append(ThemeGrowth(theme=theme, n=n, share=share, previous_share=prev,
                                     growth=share - prev, significant=p_value < 0.05,
                                     p_value=p_value))
    return sorted(grown, key=lambda g: (-g.growth, g.theme))[:top]


# --- scores API ------------------------------------------------------------------------------


def _select_kind(touchpoints: Sequence[Touchpoint], sel: Selection) -> str | None:
    """The kind to score; None when no touchpoint matches and none was named (nothing to score)."""
    if sel.kind is not None:
        # One named touchpoint of another kind would score nothing: say so, not an empty series.
        if sel.touchpoint is not None and touchpoints and touchpoints[0].ref.kind != sel.kind:
            actual = touchpoints[0].ref.kind
            raise invalid("kind", f"touchpoint {sel.touchpoint!r} is scored as {actual}, not {sel.kind}; "
                                  f"send kind={actual} or leave kind out")
        return sel.kind
    kinds = sorted({t.ref.kind for t in touchpoints})
    if len(kinds) == 1:
        return kinds[0]
    if not kinds:
        # An owner or journey with no touchpoints yet is not a mistake: no kind is ambiguous.
        return None
    raise invalid("kind", f"the selection spans kinds ({', '.join(kinds)}); name one with kind=")


async def _touchpoints(conn: Conn, sel: Selection) -> list[Touchpoint]:
    touchpoints = await repo.selected_touchpoints(conn, sel)
    if touchpoints:  # touchpoints found: every id they were filtered by exists, and agrees
        return touchpoints
    # 404s first (the filters' ids, then the touchpoint), then the 422s: a stage outside the
    # journey, then the filters that leave the named touchpoint out.
    conflict = await seen_filters(conn, journey=sel.journey, stage=sel.stage, owner=sel.owner,
                                  scope=sel.scope)
    if sel.touchpoint is not None:
        # It may exist, and be the caller's, outside the other filters: say which rather than
        # that it does not exist. Another owner's is looked up in scope, so it stays a plain 404.
        alone = await repo.selected_touchpoints(conn, msgspec.structs.replace(
            sel, journey=None, stage=None, owner=None, channel=None))
        if not alone:
            raise NotFound(f"Touchpoint {sel.touchpoint!r} does not exist.")
        raise conflict or _outside(sel, alone[0].ref)
    if conflict is not None:
        raise conflict
    return touchpoints


def _outside(sel: Selection, tp: TouchpointRef) -> ClientError:
    """A 422 naming each filter that leaves out the named touchpoint."""
    checks: list[tuple[str, object, object, str]] = [
        ("journey", sel.journey, tp.journey_id, "is in journey"),
        ("stage", sel.stage, tp.stage_id, "is in stage"),
        ("owner", sel.owner, tp.owner_id, "belongs to owner"),
        ("channel", sel.channel, tp.channel, "is on the channel"),
    ]
    errors = [FieldError(field, f"touchpoint {tp.key!r} {where} {actual}, not {wanted}")
              for field, wanted, actual, where in checks if wanted is not None and wanted != actual]
    if not errors:  # it moved between the two reads
        return NotFound(f"Touchpoint {sel.touchpoint!r} does not exist.")
    return InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)


def _nothing_to_score(sel: Selection, *, bucket: Bucket, min_n: int, today: date) -> Scores:
    """The answer for a selection without touchpoints and without a kind: no kind, every count 0."""
    prev_start, prev_end = previous_period(sel.start, sel.end)
    # No answers give the same points on every scale (n = 0, no value): any kind draws them.
    points = series([], SurveyKind.CSAT, sel.start, sel.end, bucket, min_n, today=today)
    none = ScoreValue(n=0, value=None, ci_low=None, ci_high=None, insufficient=True, mean=None,
                      share_high=None, share_low=None)
    return Scores(
        kind=None, metric=None, definition=None, bucket=bucket, start=sel.start, end=sel.end,
        min_n=min_n, touchpoints=[], series=points, total=none, previous=none,
        previous_from=prev_start, previous_to=prev_end, delta=None, significant=None, p_value=None,
        target=None, status=TargetStatus.NO_TARGET.value, funnel=None,
    )


async def scores(conn: Conn, sel: Selection, *, bucket: Bucket, min_n: int, today: date) -> Scores:
    await repo.fold_rollups(conn)  # every answer committed so far is in what follows
    touchpoints = await _touchpoints(conn, sel)
    kind = _select_kind(touchpoints, sel)
    if kind is None:
        return _nothing_to_score(sel, bucket=bucket, min_n=min_n, today=today)
    chosen = [t for t in touchpoints if t.ref.kind == kind]
    ids = [t.id for t in chosen]
    prev_start, prev_end = previous_period(sel.start, sel.end)
    # Summed over the touchpoints in SQL: scores read only the histograms per day and kind.
    rows = await repo.daily_totals(conn, touchpoint_ids=ids, start=prev_start, end=sel.end)
    current = [r for r in rows if r.day >= sel.start]
    earlier = [r for r in rows if r.day <= prev_end]
    comparison = compare(kind, histogram(current, kind), histogram(earlier, kind), min_n=min_n)
    target = common_target(chosen, kind)
    funnels = await repo.funnel_totals(conn, touchpoint_ids=ids, start=sel.start, end=sel.end)
    return Scores(
        kind=kind, metric=scale_of(kind).metric, definition=definition(kind, min_n), bucket=bucket,
        start=sel.start, end=sel.end, min_n=min_n, touchpoints=[t.ref.key for t in chosen],
        series=series(current, kind, sel.start, sel.end, bucket, min_n, today=today),
        total=value_of(comparison.current), previous=value_of(comparison.previous),
        previous_from=prev_start, previous_to=prev_end, delta=comparison.delta,
        significant=comparison.significant, p_value=comparison.p_value, target=target,
        status=target_status(comparison.current, target).value,
        funnel=funnel(funnels.values()),
    )


async def touchpoint_scores(conn: Conn, sel: Selection, *, min_n: int) -> TouchpointScores:
    """Each selected touchpoint's score, as `scores` gives it for that touchpoint alone, from one
    read of the rollups (a row per touchpoint, kind and week part) for all of them."""
    await repo.fold_rollups(conn)
    touchpoints = await _touchpoints(conn, sel)
    if sel.kind is not None:
        touchpoints = [t for t in touchpoints if t.ref.kind == sel.kind]
    prev_start, prev_end = previous_period(sel.start, sel.end)
    rows = _current_kind(await repo.period_rollups(
        conn, touchpoint_ids=[t.id for t in touchpoints], start=prev_start, end=sel.end,
        split=sel.start), touchpoints)
    now = _by_touchpoint(r for r in rows if r.day >= sel.start)
    before = _by_touchpoint(r for r in rows if r.day <= prev_end)
    items = []
    for t in touchpoints:
        kind = t.ref.kind
        comparison = compare(kind, histogram(now.get(t.id, []), kind),
                             histogram(before.get(t.id, []), kind), min_n=min_n)
        items.append(TouchpointScore(
            touchpoint=t.ref, metric=scale_of(kind).metric, score=value_of(comparison.current),
            previous=value_of(comparison.previous), delta=comparison.delta,
            significant=comparison.significant, p_value=comparison.p_value,
            status=target_status(comparison.current, t.ref.target).value))
    return TouchpointScores(start=sel.start, end=sel.end, previous_from=prev_start,
                            previous_to=prev_end, min_n=min_n, items=items)


def touchpoint_scores_csv(scores: TouchpointScores) -> str:
    """One row per touchpoint under a header row (SCORE_CSV_COLUMNS), each cell as the JSON
    writes it (true, false; null an empty cell), with a byte order mark and CRLF line ends."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(SCORE_CSV_COLUMNS)
    for item in scores.items:
        writer.writerow(_cells(msgspec.to_builtins(item)))
    return buffer.getvalue()


def _cells(data: Mapping[str, Any]) -> list[str]:
    return [inert("" if v is None else "true" if v is True else "false" if v is False else str(v))
            for v in _flat_values(data, _SCORE_NESTED)]


# --- responses API -----------------------------------------------------------------------------

_BAND_VALUES = {"low": -1, "middle": 0, "high": 1}


def _response_filters(sel: Selection, filters: ResponseFilter) -> dict[str, Any]:
    return {
        "customer": filters.customer,
        "channel": None if filters.channel is None else str(filters.channel),
        "band": None if filters.band is None else _BAND_VALUES[filters.band.value],
        "has_comment": filters.has_comment,
        "label": None if filters.label is None else filters.label.value,
        "theme": filters.theme,
        "kind": sel.kind,
    }


def _decode_after(cursor: str | None) -> tuple[datetime, UUID] | None:
    values = decode_cursor(cursor, (str, str))
    if values is None:
        return None
    try:
        moment = datetime.fromisoformat(str(values[0]))
        # Ours carry +00:00; a tampered one without a zone, or at the calendar's ends (where
        # the shift to UTC overflows), would otherwise reach the database as a bare DataError.
        if moment.tzinfo is None:
            raise ValueError(values[0])
        return moment.astimezone(UTC), UUID(str(values[1]))
    except (ValueError, OverflowError):
        raise invalid("cursor", "is not a cursor this API gave out") from None


async def list_responses(conn: Conn, sel: Selection, filters: ResponseFilter, *,
                         cursor: str | None, limit: int) -> Page[ResponseOut]:
    after = _decode_after(cursor)
    touchpoints = await _touchpoints(conn, sel)
    since, until = day_range(sel.start, sel.end)
    items = await repo.list_responses(
        conn, touchpoint_ids=[t.id for t in touchpoints], since=since, until=until,
        filters=_response_filters(sel, filters), after=after, limit=limit + 1,
    )
    if len(items) > limit:
        items = items[:limit]
        last = items[-1]
        return Page(items=items, next_cursor=encode_cursor(last.occurred_at.isoformat(), str(last.id)))
    return Page(items=items, next_cursor=None)


async def get_response(conn: Conn, response_id: UUID, scope: int | None) -> ResponseOut:
    """One answer; another owner's is as missing as one that does not exist."""
    found = await repo.get_response(conn, response_id=response_id, scope=scope)
    if found is None:
        raise NotFound(f"Response {response_id} does not exist.")
    return found


def _flattened(struct: type[msgspec.Struct]) -> tuple[str, ...]:
    """A struct's JSON field names, a nested struct's fields named `outer_inner`."""
    names: list[str] = []
    for field in msgspec.structs.fields(struct):
        if isinstance(field.type, type) and issubclass(field.type, msgspec.Struct):
            names += [f"{field.encode_name}_{inner}" for inner in _flattened(field.type)]
        else:
            names.append(field.encode_name)
    return tuple(names)


# The CSV is the JSON flattened, so the two cannot name an answer's fields differently.
CSV_COLUMNS = _flattened(ResponseOut)
# Fields whose inner fields get columns of their own (sentiment_label, ...); any other object
# (`context`, the caller's own keys, a different set on each answer) is one JSON column.
_NESTED = frozenset(f.encode_name for f in msgspec.structs.fields(ResponseOut)
                    if isinstance(f.type, type) and issubclass(f.type, msgspec.Struct))
# The touchpoints' scores as CSV, flattened the same way: `score_value`, `touchpoint_key`.
SCORE_CSV_COLUMNS = _flattened(TouchpointScore)
_SCORE_NESTED = frozenset(f.encode_name for f in msgspec.structs.fields(TouchpointScore)
                          if isinstance(f.type, type) and issubclass(f.type, msgspec.Struct))
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(cell: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def _flat_values(data: Mapping[str, Any], nested: frozenset[str] = _NESTED) -> Iterable[Any]:
    for name, value in data.items():
        if name in nested:
            yield from value.values()
        elif isinstance(value, dict):
            yield msgspec.json.encode(value).decode()
        elif isinstance(value, list):
            yield ";".join(value)
        else:
            yield value


def csv_cells(item: ResponseOut) -> list[str]:
    """The item's JSON values in CSV_COLUMNS order, written as the JSON writes them (times as
    the database gives them, in UTC: a Z), themes joined with `;`, context as its JSON object,
    nulls empty."""
    return [inert("" if v is None else str(v)) for v in _flat_values(msgspec.to_builtins(item))]


async def check_selection(conn: Conn, sel: Selection) -> None:
    """Raise NotFound now for a touchpoint, journey, stage or owner the caller cannot see, before
    a stream starts."""
    await _touchpoints(conn, sel)


async def csv_chunks(conn: Conn, sel: Selection, filters: ResponseFilter, *, rows: int = 500
                     ) -> AsyncIterator[str]:
    """The CSV export, newest first, read through a server-side cursor; call in a transaction."""
    touchpoints = await _touchpoints(conn, sel)
    since, until = day_range(sel.start, sel.end)
    buffer = io.StringIO()
    # A byte order mark: without it Excel reads the file in the machine's legacy code page and
    # garbles every non-ASCII comment (Russian ones entirely).
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    async for item in repo.stream_responses(
        conn, touchpoint_ids=[t.id for t in touchpoints], since=since, until=until,
        filters=_response_filters(sel, filters), chunk=rows,
    ):
        writer.writerow(csv_cells(item))
        count += 1
        if count % rows == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# --- share links -------------------------------------------------------------------------------

_PURPOSES: dict[ShareTarget, bytes] = {"owner": sharing.OWNER_PURPOSE, "journey": sharing.JOURNEY_PURPOSE}


def _missing(target: ShareTarget, target_id: int) -> NotFound:
    return NotFound(f"{target.capitalize()} {target_id} does not exist.")


async def share_link(conn: Conn, settings: Settings, target: ShareTarget, target_id: int,
                     days: int) -> ShareLink:
    """A new link signed with the target's current epoch: it works until it expires or is revoked."""
    epoch = await repo.share_epoch(conn, target=target, target_id=target_id, signing=True)
    if epoch is None:
        raise _missing(target, target_id)
    make = sharing.share_link if target == "owner" else sharing.journey_share_link
    return make(settings, target_id, days, epoch=epoch)


async def check_share(conn: Conn, secret: str, target: ShareTarget, target_id: int, token: str) -> None:
    """NotFound unless the token opens this target now (revoked links too); ShareExpired if late."""
    sharing.read_token(token)  # a damaged token costs no query
    epoch = await repo.share_epoch(conn, target=target, target_id=target_id)
    if epoch is None:
        raise NotFound("No such report.")  # the same answer as a bad or revoked token
    sharing.check_token(secret, target_id, token, purpose=_PURPOSES[target], epoch=epoch)


async def revoke_share_links(conn: Conn, target: ShareTarget, target_id: int) -> ShareRevocation:
    """Every share link of the target made so far stops opening; other targets' links are untouched."""
    async with conn.transaction():
        if not await repo.lock_shares(conn, target=target, target_id=target_id):
            raise _missing(target, target_id)
        revoked_at = await repo.revoke_shares(conn, target=target, target_id=target_id)
    if revoked_at is None:
        raise _missing(target, target_id)
    return ShareRevocation(revoked_at=revoked_at)


# --- reports -----------------------------------------------------------------------------------


_Row = TypeVar("_Row", DailyRow, ThemeRow)


class _Period(msgspec.Struct, frozen=True):
    """Rollups of the selected touchpoints for a period and the one before it."""

    start: date
    end: date
    # The day still going on, which leaves its week or month partial.
    today: date
    prev_start: date
    prev_end: date
    rows: list[DailyRow]
    prev_rows: list[DailyRow]
    themes: list[ThemeRow]
    prev_themes: list[ThemeRow]
    funnels: dict[int, FunnelRow]


def _by_touchpoint(rows: Iterable[_Row]) -> dict[int, list[_Row]]:
    out: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        out[row.touchpoint_id].append(row)
    return out


def _current_kind(rows: Iterable[_Row], touchpoints: Sequence[Touchpoint]) -> list[_Row]:
    """Rows of each touchpoint's current kind: answers given before its kind changed are left out."""
    kinds = {t.id: t.ref.kind for t in touchpoints}
    return [r for r in rows if kinds.get(r.touchpoint_id) == r.kind]


async def _read_period(conn: Conn, touchpoints: Sequence[Touchpoint], start: date, end: date,
                       today: date) -> _Period:
    prev_start, prev_end = previous_period(start, end)
    ids = [t.id for t in touchpoints]
    await repo.fold_rollups(conn)
    # Reports bucket by week or month only: a row per touchpoint, kind, week and month.
    rows = _current_kind(await repo.period_rollups(
        conn, touchpoint_ids=ids, start=prev_start, end=end, split=start), touchpoints)
    themes, prev_themes = await repo.theme_totals_of(
        conn, touchpoint_ids=ids, periods=[(start, end), (prev_start, prev_end)])
    funnels = await repo.funnel_totals(conn, touchpoint_ids=ids, start=start, end=end)
    return _Period(
        start=start, end=end, today=today, prev_start=prev_start, prev_end=prev_end,
        rows=[r for r in rows if r.day >= start], prev_rows=[r for r in rows if r.day <= prev_end],
        themes=_current_kind(themes, touchpoints), prev_themes=_current_kind(prev_themes, touchpoints),
        funnels=funnels,
    )


class _Quotes:
    """Verbatim requests gathered over a whole report, fetched in one query."""

    def __init__(self) -> None:
        self.requests: list[repo.QuoteRequest] = []

    def ask(self, insights: list[ThemeInsight], ids: Sequence[int], band: int) -> list[int]:
        first = len(self.requests)
        self.requests.extend(repo.QuoteRequest(i.theme, band, tuple(ids)) for i in insights)
        return list(range(first, len(self.requests)))

    async def fetch(self, conn: Conn, p: _Period) -> list[list[Verbatim]]:
        since, until = day_range(p.start, p.end)
        return await repo.theme_comments_many(conn, requests=self.requests, since=since,
                                              until=until)


def _quoted(insights: list[ThemeInsight], asked: list[int], quotes: list[list[Verbatim]]
            ) -> list[ThemeInsight]:
    return [msgspec.structs.replace(i, comments=quotes[n]) for i, n in zip(insights, asked, strict=True)]


class _Draft(msgspec.Struct, frozen=True):
    """A touchpoint report without verbatims, which of the gathered verbatim requests fill its
    pain points and positive moments, and the band totals of its rows now and before."""

    report: TouchpointReport
    pain: list[int]
    delight: list[int]
    totals: tuple[int, int, int]
    prev_totals: tuple[int, int, int]


def _plotted(points: Sequence[Point]) -> int:
    return sum(1 for point in points if point.value is not None)


def _trend(rows: list[DailyRow], kind: str, p: _Period, min_n: int, weekly: list[Point]
           ) -> tuple[Bucket, list[Point]]:
    """The series the trend chart plots: the one that shows the most (docs/reports.md).

    Weeks when the period lies inside one month (a monthly chart would be one point, the
    period's own score) or when at least half the weeks reach min_n. Otherwise months, when
    they plot a point and the weeks do not plot at least twice as many: 5 weeks of 14 left most
    of a quarter's chart blank where 3 months of 4 drew its line."""
    if bucket_start(p.start, Bucket.MONTH) == bucket_start(p.end, Bucket.MONTH):
        return Bucket.WEEK, weekly
    weeks = _plotted(weekly)
    if 2 * weeks >= len(weekly):
        return Bucket.WEEK, weekly
    monthly = series(rows, kind, p.start, p.end, Bucket.MONTH, min_n, today=p.today)
    months = _plotted(monthly)
    if months and weeks < 2 * months:
        return Bucket.MONTH, monthly
    return Bucket.WEEK, weekly


def _touchpoint_report(tp: Touchpoint, p: _Period, rows: list[DailyRow], prev_rows: list[DailyRow],
                       themes: list[ThemeRow], prev_themes: list[ThemeRow], min_n: int,
                       quotes: _Quotes) -> _Draft:
    kind = tp.ref.kind
    comparison = compare(kind, histogram(rows, kind), histogram(prev_rows, kind), min_n=min_n)
    keys = {tp.id: tp.ref.key}
    totals, prev_totals = band_totals(rows), band_totals(prev_rows)
    pain, delight = theme_insights(themes, rows, keys, min_n=min_n, totals=totals)
    weekly = series(rows, kind, p.start, p.end, Bucket.WEEK, min_n, today=p.today)
    trend_bucket, trend = _trend(rows, kind, p, min_n, weekly)
    n_now, n_before = totals[0], prev_totals[0]
    report = TouchpointReport(
        touchpoint=tp.ref, definition=definition(kind, min_n), start=p.start, end=p.end,
        score=value_of(comparison.current), previous=value_of(comparison.previous),
        delta=comparison.delta, significant=comparison.significant, p_value=comparison.p_value,
        target=tp.ref.target, status=target_status(comparison.current, tp.ref.target).value,
        weekly=weekly, trend_bucket=trend_bucket, trend=trend,
        funnel=funnel([p.funnels[tp.id]] if tp.id in p.funnels else []),
        sentiment=sentiment_summary(rows, min_n),
        pain_points=pain,
        positive_moments=delight,
        themes_grown=themes_grown(themes, prev_themes, n_now, n_before, min_n=min_n),
    )
    return _Draft(report=report, pain=quotes.ask(pain, [tp.id], -1),
                  delight=quotes.ask(delight, [tp.id], 1), totals=totals, prev_totals=prev_totals)


def _with_quotes(draft: _Draft, quotes: list[list[Verbatim]]) -> TouchpointReport:
    return msgspec.structs.replace(
        draft.report, pain_points=_quoted(draft.report.pain_points, draft.pain, quotes),
        positive_moments=_quoted(draft.report.positive_moments, draft.delight, quotes))


def _summed(totals: Iterable[tuple[int, int, int]]) -> tuple[int, int, int]:
    n = low = high = 0
    for a, b, c in totals:
        n, low, high = n + a, low + b, high + c
    return n, low, high


async def touchpoint_report(conn: Conn, key: str, *, start: date, end: date, today: date,
                            scope: int | None, min_n: int) -> TouchpointReport:
    sel = Selection(touchpoint=key, start=start, end=end, scope=scope)
    tp = (await _touchpoints(conn, sel))[0]
    p = await _read_period(conn, [tp], start, end, today)
    quotes = _Quotes()
    draft = _touchpoint_report(tp, p, p.rows, p.prev_rows, p.themes, p.prev_themes, min_n, quotes)
    return _with_quotes(draft, await quotes.fetch(conn, p))


def changes(reports: Iterable[TouchpointReport]) -> list[Change]:
    """Touchpoints whose score moved significantly (95 %) since the previous period."""
    out = [
        Change(touchpoint=r.touchpoint.key, name=r.touchpoint.name, metric=r.touchpoint.kind,
               previous=r.previous.value, current=r.score.value, delta=r.delta, p_value=r.p_value)
        for r in reports if r.significant and r.delta is not None
    ]
    return sorted(out, key=lambda c: -abs(c.delta))


async def owner_report(conn: Conn, owner_id: int, *, start: date, end: date, today: date,
                       scope: int | None, min_n: int, touchpoint_quotes: bool = True) -> OwnerReport:
    """touchpoint_quotes=False leaves each touchpoint's pain points and positive moments without
    verbatims (the page shows only the owner's): the rest is the same report."""
    owner = await repo.get_owner(conn, owner_id=owner_id, scope=scope)
    if owner is None:
        raise NotFound(f"Owner {owner_id} does not exist.")
    touchpoints = await repo.selected_touchpoints(
        conn, Selection(owner=owner_id, start=start, end=end, scope=scope))
    ids = [t.id for t in touchpoints]
    p = await _read_period(conn, touchpoints, start, end, today)
    rows, prev_rows = _by_touchpoint(p.rows), _by_touchpoint(p.prev_rows)
    themes, prev_themes = _by_touchpoint(p.themes), _by_touchpoint(p.prev_themes)
    quotes = _Quotes()
    # Requests that are not sent leave their insights without verbatims.
    tp_quotes = quotes if touchpoint_quotes else _Quotes()
    drafts = [_touchpoint_report(tp, p, rows.get(tp.id, []), prev_rows.get(tp.id, []),
                                 themes.get(tp.id, []), prev_themes.get(tp.id, []), min_n, tp_quotes)
              for tp in touchpoints]
    keys = {t.id: t.ref.key for t in touchpoints}
    # The rows are split by touchpoint, so the owner's band totals are the touchpoints' summed.
    totals = _summed(d.totals for d in drafts)
    prev_totals = _summed(d.prev_totals for d in drafts)
    pain, delight = theme_insights(p.themes, p.rows, keys, min_n=min_n, totals=totals)
    pain_asked, delight_asked = quotes.ask(pain, ids, -1), quotes.ask(delight, ids, 1)
    found = await quotes.fetch(conn, p)
    reports = [_with_quotes(d, found) if touchpoint_quotes else d.report for d in drafts]
    return OwnerReport(
        owner=OwnerRef(id=owner[0], name=owner[1]), start=start, end=end,
        previous_from=p.prev_start, previous_to=p.prev_end, min_n=min_n,
        definitions={k.value: definition(k, min_n) for k in SurveyKind} | {"funnel": FUNNEL_DEFINITION},
        touchpoints=reports,
        pain_points=_quoted(pain, pain_asked, found),
        positive_moments=_quoted(delight, delight_asked, found),
        changes=changes(reports),
        themes_grown=themes_grown(p.themes, p.prev_themes, totals[0], prev_totals[0], min_n=min_n),
    )


async def report_journeys(conn: Conn, report: OwnerReport) -> list[tuple[int, str]]:
    """(id, name) of each journey the report's touchpoints sit in, by name: its map links."""
    ids = sorted({r.touchpoint.journey_id for r in report.touchpoints})
    return await repo.journey_names(conn, journey_ids=ids) if ids else []


# --- journey map -------------------------------------------------------------------------------


def _share_high(rows: Sequence[DailyRow]) -> tuple[int, float | None]:
    """(answers, the share of them in the high band from 0 to 1): the emotion curve's scale."""
    n, _, high = band_totals(rows)
    return n, (high / n if n else None)


def _percent(share: float | None) -> float | None:
    return None if share is None else 100.0 * share


def _sentiment(rows: Sequence[DailyRow], min_n: int) -> tuple[int, float | None]:
    """(comments read, their mean polarity from min_n of them)."""
    n = sum(r.sentiment_n for r in rows)
    return n, held_back(n, sum(r.sentiment_sum for r in rows) / n if n else None, min_n)


def journey_stages(
    stages: Sequence[tuple[int, str, int]], touchpoints: Sequence[Touchpoint],
    rows: Sequence[DailyRow], min_n: int,
) -> tuple[list[MapStage], str | None, str | None]:
    """Stages in order with their touchpoints; the emotion curve is the share of high-band
    answers (0–1) per stage, shown only from min_n answers, and the mean sentiment, only from
    min_n comments; worst and best touchpoint by the share."""
    by_tp: dict[int, list[DailyRow]] = defaultdict(list)
    for row in rows:
        by_tp[row.touchpoint_id].append(row)
    placed: list[MapTouchpoint] = []
    out = []
    for stage_id, name, position in stages:
        members = [t for t in touchpoints if t.ref.stage_id == stage_id]
        cards = []
        for t in members:
            tp_rows = by_tp.get(t.id, [])
            score = histogram_score(SurveyKind(t.ref.kind), histogram(tp_rows, t.ref.kind), min_n)
            n, share = _share_high(tp_rows)
            s_n, s_mean = _sentiment(tp_rows, min_n)
            cards.append(MapTouchpoint(
                key=t.ref.key, name=t.ref.name, kind=t.ref.kind, owner=t.ref.owner,
                score=value_of(score), normalised=share if n >= min_n else None,
                mean_sentiment=s_mean, sentiment_n=s_n, mark=None, target=t.ref.target,
                status=target_status(score, t.ref.target).value,
            ))
        stage_rows = [r for t in members for r in by_tp.get(t.id, [])]
        n, share = _share_high(stage_rows)
        s_n, s_mean = _sentiment(stage_rows, min_n)
        placed.extend(cards)
        # share_high in percent, as every share in the API (a score's share_high too).
        out.append(MapStage(id=stage_id, name=name, position=position, n=n, share_high=_percent(share),
                            normalised=share if n >= min_n else None, mean_sentiment=s_mean,
                            sentiment_n=s_n, touchpoints=cards))
    rated = [c for c in placed if c.normalised is not None]
    worst = best = None
    if len(rated) >= 2:  # one rated touchpoint is neither best nor worst of anything
        worst = min(rated, key=lambda c: (c.normalised or 0.0, c.key)).key
        best = max(rated, key=lambda c: (c.normalised or 0.0, c.key)).key
    marks = {worst: "worst", best: "best"}
    stages_out = [
        msgspec.structs.replace(s, touchpoints=[
            msgspec.structs.replace(c, mark=marks.get(c.key)) for c in s.touchpoints])
        for s in out
    ]
    return stages_out, worst, best


async def journey_map(conn: Conn, journey_id: int, *, start: date, end: date, scope: int | None,
                      min_n: int, owner: int | None = None) -> JourneyMap:
    """The map of a journey; with `owner`, of that owner's touchpoints in it, as the owner's share
    link shows it (scope, an owner key's or link's owner, limits what may be seen at all)."""
    journey = await repo.get_journey(conn, journey_id=journey_id)
    if journey is None:
        raise NotFound(f"Journey {journey_id} does not exist.")
    touchpoints = await repo.selected_touchpoints(
        conn, Selection(journey=journey_id, start=start, end=end, scope=scope))
    if scope is not None and not touchpoints:
        raise NotFound(f"Journey {journey_id} does not exist.")
    if owner is not None:
        touchpoints = [t for t in touchpoints if t.ref.owner_id == owner]
        if not touchpoints:  # an owner with nothing here yet is an empty map, an unknown one a 404
            await seen_filters(conn, journey=None, stage=None, owner=owner, scope=scope)
    stages = await repo.journey_stages(conn, journey_id=journey_id)
    if scope is not None or owner is not None:
        # One owner's view: only the stages where that owner has touchpoints.
        held = {t.ref.stage_id for t in touchpoints}
        stages = [s for s in stages if s[0] in held]
    await repo.fold_rollups(conn)
    rows = _current_kind(await repo.daily_rollups(
        conn, touchpoint_ids=[t.id for t in touchpoints], start=start, end=end), touchpoints)
    placed, worst, best = journey_stages(stages, touchpoints, rows, min_n)
    return JourneyMap(id=journey[0], name=journey[1], description=journey[2], start=start, end=end,
                      min_n=min_n, stages=placed, worst=worst, best=best)

