"""Insight answers as msgspec Structs: scores, series, funnels, themes, reports and journey maps."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from feedback.sentiment.models import SentimentOut
from feedback.sentiment.reading import SentimentLabel
from surveys.kinds import Band
from surveys.models import Output


class Bucket(enum.StrEnum):
    """The width of one point of a score series."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class Selection(msgspec.Struct, frozen=True, kw_only=True):
    """Which touchpoints (by their current place in the journey) and which days a request reads."""

    journey: int | None = None
    stage: int | None = None
    owner: int | None = None
    touchpoint: str | None = None
    channel: str | None = None
    kind: str | None = None
    start: date
    end: date
    # An owner key's owner: it sees only its own touchpoints.
    scope: int | None = None


class ResponseFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Filters of the response list beyond the selection."""

    customer: str | None = None
    # The channel each answer came through, which may differ from its touchpoint's.
    channel: str | None = None
    band: Band | None = None
    has_comment: bool | None = None
    label: SentimentLabel | None = None
    theme: str | None = None


# The series point's fields, described once for the OpenAPI document.
BucketStart = Annotated[date, msgspec.Meta(
    description="First day of the calendar bucket (the day, the Monday, the 1st of the month); "
                "it may lie before the period's first day.")]
CoveredFrom = Annotated[date, msgspec.Meta(
    description="First day of the bucket inside the period: the answers counted start here.")]
CoveredTo = Annotated[date, msgspec.Meta(
    description="Last day of the bucket inside the period: the answers counted end here.")]
CoveredDays = Annotated[int, msgspec.Meta(
    ge=1, description="Days from `from` to `to`: the days this point's answers come from.")]
BucketDays = Annotated[int, msgspec.Meta(
    ge=1, description="Days in the whole bucket: 1, 7, or the days of the month.")]
Ongoing = Annotated[bool, msgspec.Meta(
    description="The bucket holds today (UTC): its answers are still coming in.")]
Partial = Annotated[bool, msgspec.Meta(
    description="True when `days` < `bucket_days` or `ongoing`: the point covers less time than a "
                "whole bucket, so its n is lower and its score noisier; do not read it as a change.")]


# A mean of comments' polarity is `mean_sentiment` wherever it is given, so that `sentiment` is
# always an answer's sentiment object (polarity, subjectivity, label, language).
MeanSentiment = Annotated[float | None, msgspec.Meta(
    description="Mean polarity (−1…1) of the comments read; null below `min_n` of them (30 by "
                "default), as a score is withheld below `min_n` answers: `sentiment_n` still counts "
                "them. Formerly `sentiment` (on map stages and touchpoints) and `average_sentiment` "
                "(on themes).")]
SentimentN = Annotated[int, msgspec.Meta(
    description="How many comments were read: `mean_sentiment` is their mean, shown from `min_n` of them.")]


class Point(Output):
    """One bucket of a score series; value and interval are null below the minimum n.

    A partial bucket has fewer days in it than the others: the period starts or ends inside its
    week or month, or it holds today, which is not over. Its n, and its score's noise, are not
    comparable with those of a whole bucket."""

    start: BucketStart
    n: int
    value: float | None
    ci_low: float | None
    ci_high: float | None
    first_day: CoveredFrom = msgspec.field(name="from")
    last_day: CoveredTo = msgspec.field(name="to")
    days: CoveredDays
    bucket_days: BucketDays
    ongoing: Ongoing
    partial: Partial


# Every share in the API is a percent, 0–100; the emotion curve's `normalised` alone is 0–1.
ShareHigh = Annotated[float | None, msgspec.Meta(
    description="Percent (0–100) of the answers in the high band (promoters, satisfied, easy).")]
ShareLow = Annotated[float | None, msgspec.Meta(
    description="Percent (0–100) of the answers in the low band (detractors, dissatisfied, difficult).")]
Normalised = Annotated[float | None, msgspec.Meta(
    description="The emotion curve's point: the share of high-band answers as a fraction from 0 to 1 "
                "(share_high / 100); null below min_n answers.")]


class ScoreValue(Output):
    """A headline score with n, its 95 % interval and shares; numbers withheld when insufficient."""

    n: int
    value: float | None
    ci_low: float | None
    ci_high: float | None
    insufficient: bool
    mean: float | None
    share_high: ShareHigh
    share_low: ShareLow


class Scores(Output):
    """A score over a selection: the series, the whole period, the previous one and the KPI status.

    `kind`, `metric` and `definition` are null only when no touchpoint matches and no kind was
    asked for: then every count is 0. (A journey, stage or owner id that does not exist is a 404
    naming it, and a stage outside the journey also given a 422 naming `stage`, not an empty
    score.)"""

    kind: str | None
    metric: str | None
    definition: str | None
    bucket: Bucket
    start: date = msgspec.field(name="from")
    end: date = msgspec.field(name="to")
    min_n: int
    touchpoints: list[str]
    series: list[Point]
    total: ScoreValue
    previous: ScoreValue
    previous_from: date
    previous_to: date
    delta: float | None
    significant: bool | None
    p_value: float | None
    target: float | None
    status: str
    # Invitation-based touchpoints only: null when nobody in the selection was invited.
    funnel: Funnel | None


class TouchpointScore(Output):
    """One touchpoint's score over the period and the previous one: what `GET /api/v1/scores`
    gives as `total` and `previous` for that touchpoint alone, on its own kind's scale."""

    touchpoint: TouchpointRef
    metric: str
    score: ScoreValue
    previous: ScoreValue
    delta: float | None
    significant: bool | None
    p_value: float | None
    status: str


class TouchpointScores(Output):
    """Every selected touchpoint's score over one period, one item each, in journey order (stage,
    then key). An owner key's list holds its own touchpoints only."""

    start: date = msgspec.field(name="from")
    end: date = msgspec.field(name="to")
    previous_from: date
    previous_to: date
    min_n: int
    items: list[TouchpointScore]


class Funnel(Output):
    """Invitations of the period and how far they got; rates are shares of invited."""

    definition: str
    invited: int
    clicked: Annotated[int, msgspec.Meta(
        description="Invitations with at least one click, mail scanners' included")]
    answered: int
    response_rate: Annotated[float | None, msgspec.Meta(description="Percent (0–100): 100 · answered / invited")]
    ci_low: float | None
    ci_high: float | None
    click_rate: Annotated[float | None, msgspec.Meta(
        description="Percent (0–100): 100 · clicked_by_people / invited (formerly clicked / invited, "
                    "which counted mail scanners' clicks as people's)")]
    suspected_scanners: Annotated[int, msgspec.Meta(
        description="Clicked invitations nobody answered whose every click looks like a mail "
                    "scanner's: left out of clicked_by_people and click_rate")]
    not_asked: int
    clicked_by_people: Annotated[int, msgspec.Meta(
        description="clicked − suspected_scanners: invitations a person clicked")]


# The mean and its interval are held back below min_n comments read, as a score's numbers are.
SummaryMean = Annotated[float | None, msgspec.Meta(
    description="Mean polarity (−1…1) of the `n` comments read; null below `min_n` of them.")]


class SentimentSummary(Output):
    """Mean comment polarity (−1..1) with its interval, from `min_n` comments read, and label counts."""

    comments: int
    n: Annotated[int, msgspec.Meta(description="Comments read (scored); `mean` is theirs.")]
    mean: SummaryMean
    ci_low: float | None
    ci_high: float | None
    negative: int
    neutral: int
    positive: int
    mixed: int
    unscored: int


class Verbatim(Output):
    """A customer's own words, quoted as given, with their answer's sentiment as GET
    /api/v1/responses shows it."""

    response_id: UUID
    touchpoint: str
    occurred_at: datetime
    score: int
    comment: str
    # sentiment.language, the comment's language as read ("en", "ru", "unknown"): a page marks
    # quotes in another language than its own, so screen readers pronounce them right.
    sentiment: SentimentOut


class ThemeInsight(Output):
    """What one theme does to the score. `impact` = 100 · l / L − 100 · h / H percentage points:
    the share of low-band answers whose comment mentions the theme (l of L) minus the share of
    high-band answers that do (h of H). Above 0 it is a pain point, below 0 a positive moment."""

    theme: str
    n: int
    share: Annotated[float, msgspec.Meta(description="Percent (0–100) of all answers that mention the theme.")]
    low: int
    high: int
    share_of_low: Annotated[float, msgspec.Meta(
        description="Percent (0–100) of the low-band answers that mention the theme: 100 · l / L.")]
    share_of_high: Annotated[float, msgspec.Meta(
        description="Percent (0–100) of the high-band answers that mention the theme: 100 · h / H.")]
    impact: Annotated[float, msgspec.Meta(description="share_of_low − share_of_high, in percentage points.")]
    average_score: float | None
    mean_sentiment: MeanSentiment
    sentiment_n: SentimentN
    touchpoints: list[str]
    comments: list[Verbatim]


class ThemeGrowth(Output):
    """A theme mentioned in a larger share of answers than in the previous period."""

    theme: str
    n: int
    share: Annotated[float, msgspec.Meta(description="Percent (0–100) of the period's answers that mention it.")]
    previous_share: Annotated[float, msgspec.Meta(
        description="Percent (0–100) of the previous period's answers that mention it.")]
    growth: Annotated[float, msgspec.Meta(description="share − previous_share, in percentage points.")]
    # A few more mentions of a theme in a small period is often chance: say which growth is not.
    significant: Annotated[bool, msgspec.Meta(
        description="The share grew significantly at 95 % (two-proportion z-test)")]
    p_value: float


class Change(Output):
    """A touchpoint whose score moved significantly since the previous period."""

    touchpoint: str
    name: str
    metric: str
    previous: float | None
    current: float | None
    delta: float
    p_value: float | None


class TouchpointRef(Output):
    """Where a touchpoint sits and who answers for it."""

    key: str
    name: str
    journey_id: int
    stage_id: int
    stage: str
    channel: str
    owner_id: int
    owner: str
    kind: str
    target: float | None


class TouchpointReport(Output):
    """One touchpoint over a period: score, trend, funnel, sentiment, pain and delight."""

    touchpoint: TouchpointRef
    definition: str
    start: date = msgspec.field(name="from")
    end: date = msgspec.field(name="to")
    score: ScoreValue
    previous: ScoreValue
    delta: float | None
    significant: bool | None
    p_value: float | None
    target: float | None
    status: str
    weekly: list[Point]
    # What the trend chart plots: the weekly series, or monthly when too few weeks reach min_n.
    trend_bucket: Bucket
    trend: list[Point]
    funnel: Funnel | None
    sentiment: SentimentSummary
    pain_points: list[ThemeInsight]
    positive_moments: list[ThemeInsight]
    themes_grown: list[ThemeGrowth]


class OwnerRef(Output):
    """The owner a report is about."""

    id: int
    name: str


class OwnerReport(Output):
    """Everything an owner answers for, over a period."""

    owner: OwnerRef
    start: date = msgspec.field(name="from")
    end: date = msgspec.field(name="to")
    previous_from: date
    previous_to: date
    min_n: int
    definitions: dict[str, str]
    touchpoints: list[TouchpointReport]
    pain_points: list[ThemeInsight]
    positive_moments: list[ThemeInsight]
    changes: list[Change]
    themes_grown: list[ThemeGrowth]


class MapTouchpoint(Output):
    """A touchpoint on the journey map."""

    key: str
    name: str
    kind: str
    owner: str
    score: ScoreValue
    normalised: Normalised
    mean_sentiment: MeanSentiment
    sentiment_n: SentimentN
    mark: str | None
    # The owner report's target and status (met, missed, undecided, insufficient, no_target),
    # judged by the score's 95 % interval over the map's period.
    target: float | None
    status: str


class MapStage(Output):
    """A stage on the journey map and its point on the emotion curve."""

    id: int
    name: str
    position: int
    n: int
    share_high: Annotated[float | None, msgspec.Meta(
        description="Percent (0–100) of the stage's answers in the high band, as a score's share_high; "
                    "null without answers. Unlike `normalised`, shown below min_n too.")]
    normalised: Normalised
    mean_sentiment: MeanSentiment
    sentiment_n: SentimentN
    touchpoints: list[MapTouchpoint]


class JourneyMap(Output):
    """A journey's stages in order, with the emotion curve across them. Asked for with `owner`,
    only that owner's touchpoints and the stages that hold them (none: no stages)."""

    id: int
    name: str
    description: str
    start: date = msgspec.field(name="from")
    end: date = msgspec.field(name="to")
    min_n: int
    stages: list[MapStage]
    worst: str | None
    best: str | None


class ShareLink(Output):
    """A signed link that opens an owner's report (or a journey map) without an API key until it expires or is revoked."""

    url: str
    expires_at: datetime


# What a share link opens: an owner's report or a whole journey map.
ShareTarget = Literal["owner", "journey"]


class ShareRevocation(Output):
    """Every share link made before `revoked_at` no longer opens; links made since do."""

    revoked_at: Annotated[datetime, msgspec.Meta(
        description="When the links were revoked: those made before now answer 404 like unknown links.")]


class PeriodChoice(msgspec.Struct, frozen=True):
    """A link to the same page over another period; `current` when it is the one shown."""

    label: str
    href: str
    current: bool


class Periods(msgspec.Struct, frozen=True):
    """A report page's period switcher: preset links, and the form's fields for any other."""

    choices: list[PeriodChoice]
    action: str
    hidden: dict[str, str]
    start: date
    end: date
