"""Inline SVG charts drawn on the server: no scripts, no CDN, every label escaped, and every name
in one isolated from the words around it (typeset.isolated: SVG text takes no <bdi>)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import date, timedelta
from itertools import groupby, pairwise
from typing import NamedTuple

from markupsafe import Markup, escape

from feedback.insight.models import Bucket, MapStage, Point, TouchpointReport
from feedback.insight.typeset import band_words, isolated
from surveys.kinds import scale_of
from surveys.text import touchpoint_labels

_W, _H = 560, 190
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 16, 14, 30
_FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def _said(value: float, spec: str) -> str:
    """A number as a reader sees it on the pages: a minus sign (U+2212), not a hyphen."""
    return format(value, spec).replace("-", "\u2212")


def _segments(points: Sequence[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    """Runs of consecutive defined points: a missing value breaks the line."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in points:
        if y is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((x, y))
    return [r for r in runs if r]


def _runs(defined: Sequence[bool]) -> list[list[int]]:
    """Runs of consecutive indices whose point is defined: what _segments gives, by index."""
    runs: list[list[int]] = [[]]
    for i, there in enumerate(defined):
        if there:
            runs[-1].append(i)
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def _polyline(run: Sequence[tuple[float, float]], colour: str, dash: str = "") -> str:
    coords = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in run)
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"'
            f' stroke-linejoin="round"{extra}/>')


class _Layout(NamedTuple):
    """Where a trend chart puts things, in its viewBox's units."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    font: int
    # About how many dates the x axis names.
    labels: int
    css: str


# On a phone the chart is drawn about 300 px wide: the narrow layout is scaled down less, so its
# text stays about 12 px, and it names fewer dates.
WIDE = _Layout(560, 190, 44, 16, 14, 30, 11, 6, "chart chart-wide")
NARROW = _Layout(340, 196, 40, 10, 16, 36, 14, 3, "chart chart-narrow")

_UNITS = {Bucket.DAY: "day", Bucket.WEEK: "week", Bucket.MONTH: "month"}
# The width of a date label's average character, in ems: DejaVu Sans (system-ui on Linux), as
# wide as common fonts come, measures 0.6; narrower fonts only leave more room.
_DATE_EM = 0.62


# The same for running text, spaces included: DejaVu Sans measures about 0.5 ("partial month:
# 23 of 30 days so far" is 244 px at 14 px); 0.55 leaves a margin.
_TEXT_EM = 0.55


def _wrap(text: str, room: int) -> list[str]:
    """The text on lines of at most `room` characters, broken after a comma where it can be, so
    a legend entry never runs past the chart's edge (the narrow layout holds about 35)."""
    lines: list[str] = []
    for piece in text.split(", "):
        joined = f"{lines[-1]}, {piece}" if lines else piece
        if lines and len(joined) <= room:
            lines[-1] = joined
        else:
            if lines:
                lines[-1] += ","
            lines.append(piece)
    out: list[str] = []
    for line in lines:  # a piece longer than a line is broken between words
        out.extend(textwrap.wrap(line, room) or [line])
    return out


def _days(first: date, last: date) -> str:
    if first == last:
        return f"{first:%d %b}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first:%d}–{last:%d %b}"
    return f"{first:%d %b}–{last:%d %b}"


class Tick(NamedTuple):
    """A date named under the x axis: the index of its point, its date, and its year when shown."""

    point: int
    text: str
    year: str | None


def ticks(starts: Sequence[date], bucket: Bucket, labels: int) -> list[Tick]:
    """About `labels` evenly spaced dates; when the points span more than one year, the first,
    the last and each whose year differs from the previous tick's carry their year, so a year
    of months does not read "Nov … Nov"."""
    if not starts:
        return []
    form = "%b" if bucket is Bucket.MONTH else "%d %b"
    chosen = range(0, len(starts), max(1, len(starts) // labels))
    years = [starts[i].year for i in chosen]
    crosses = starts[0].year != starts[-1].year
    return [Tick(i, starts[i].strftime(form),
                 str(year) if crosses and (n in (0, len(years) - 1) or year != years[n - 1]) else None)
            for n, (i, year) in enumerate(zip(chosen, years, strict=True))]


def partial_label(point: Point, bucket: Bucket) -> str:
    """What a partial point covers and why it is short: '… 2 of 7 days so far' only when the
    period holds the bucket's first day and the bucket is still running; a period that starts or
    ends inside the bucket says so, and "7 of 30 days so far" no longer reads as the 7th."""
    unit = _UNITS[bucket]
    if point.days == point.bucket_days:  # partial only because today is not over
        return f"partial {unit}: today not over"
    head = f"partial {unit}: {point.days} of {point.bucket_days} days"
    starts_inside = point.first_day > point.start
    if not starts_inside:
        # Cut at the end only: by today (the bucket is still running) or by the period's end.
        return f"{head} so far" if point.ongoing else f"{head}, period ends {point.last_day:%d %b}"
    if point.ongoing:
        return f"{head}, period starts {point.first_day:%d %b}, {unit} not over"
    bucket_end = point.start + timedelta(days=point.bucket_days - 1)
    if point.last_day < bucket_end:
        return f"{head}, period {_days(point.first_day, point.last_day)}"
    return f"{head}, period starts {point.first_day:%d %b}"


class Trend(NamedTuple):
    """A touchpoint's trend chart, wide and narrow, and what its partial points cover."""

    chart: Markup
    partial: list[str]


def trend(report: TouchpointReport) -> Trend:
    """The report's trend chart in both layouts (the page's CSS shows one) and its partial notes."""
    tp, bucket = report.touchpoint, report.trend_bucket
    title = f"{'Weekly' if bucket is Bucket.WEEK else 'Monthly'} {tp.kind.upper()} of {isolated(tp.name)}"
    # What both layouts take from the points alike is worked out once: a year-long owner report
    # draws 15 cards of 53 weeks twice, and the charts were a quarter of the page's time.
    plot = placed(report.trend, tp.kind, report.target, bucket)
    charts = [trend_chart(report.trend, tp.kind, report.target, title, bucket, layout, plot)
              for layout in (WIDE, NARROW)]
    notes = [f"{partial_label(p, bucket)} ({_days(p.first_day, p.last_day)})"
             for p in report.trend if p.partial and p.value is not None]
    return Trend(Markup("").join(charts), notes)


# Up to this many points are read out one by one; a longer series is summed up: 53 weekly
# points read aloud are noise, and twice per card (wide and narrow) they weighed 100 kB a page.
_LISTED = 6


def trend_text(points: Sequence[Point], kind: str, target: float | None, bucket: Bucket) -> str:
    """The chart's numbers in words, for a screen reader (the SVG's description)."""
    digits = 2 if kind == "ces" else 1
    form = "%b %Y" if bucket is Bucket.MONTH else "%d %b %Y"

    def said(p: Point) -> str:
        when = p.start.strftime(form)
        if p.value is None or p.ci_low is None or p.ci_high is None:
            return f"{when}: too few answers (n = {p.n:,})"
        spec = f".{digits}f"
        return (f"{when}: {_said(p.value, spec)}, 95 % interval {_said(p.ci_low, spec)} to "
                f"{_said(p.ci_high, spec)}, n = {p.n:,}"
                + (f" ({partial_label(p, bucket)})" if p.partial else ""))

    aim = f"Target {_said(target, 'g')}. " if target is not None else ""
    if len(points) <= _LISTED:
        return aim + ("; ".join(said(p) for p in points) if points else "No points") + "."
    plotted = [p for p in points if p.value is not None and p.ci_low is not None]
    text = (f"{aim}{len(points)} {_UNITS[bucket]}s from {points[0].start.strftime(form)} to "
            f"{points[-1].start.strftime(form)}, {len(plotted)} with enough answers to plot")
    if not plotted:
        return text + "."
    lowest = min(plotted, key=lambda p: p.value or 0.0)
    highest = max(plotted, key=lambda p: p.value or 0.0)
    return f"{text}. Latest: {said(plotted[-1])}. Lowest: {said(lowest)}. Highest: {said(highest)}."


class Placed(NamedTuple):
    """What a trend chart's layouts share: its description, and each point's value and 95 %
    band as heights on the kind's scale (0 at its low end, 1 at its high end). A value of None
    is not plotted; a band is drawn only where the point's ci_low is known."""

    desc: str
    value: list[float | None]
    ci_high: list[float]
    ci_low: list[float]


def placed(points: Sequence[Point], kind: str, target: float | None, bucket: Bucket) -> Placed:
    scale = scale_of(kind)
    low, high = scale.metric_low, scale.metric_high
    span = high - low

    def height(v: float) -> float:
        return (min(max(v, low), high) - low) / span

    return Placed(
        desc=trend_text(points, kind, target, bucket),
        value=[None if p.value is None else height(p.value) for p in points],
        ci_high=[height(p.ci_high or 0.0) for p in points],
        ci_low=[height(p.ci_low or 0.0) for p in points],
    )


def trend_chart(points: Sequence[Point], kind: str, target: float | None, title: str,
                bucket: Bucket = Bucket.WEEK, layout: _Layout = WIDE, plot: Placed | None = None) -> Markup:
    """Score per bucket with its 95 % band and the target line, on the kind's full scale; a
    partial point is hollow, the line to it dashed, and a legend says what it covers. `plot`:
    the points' `placed`, when the caller draws them in more than one layout."""
    if plot is None:
        plot = placed(points, kind, target, bucket)
    scale = scale_of(kind)
    low, high = scale.metric_low, scale.metric_high
    width, left, right, top = layout.width, layout.left, layout.right, layout.top
    plot_w, plot_h = width - left - right, layout.height - top - layout.bottom
    font = f'font-family="system-ui, sans-serif" font-size="{layout.font}"'
    # A plotted partial point gets a legend entry under the dates, on as many lines as it needs.
    room = int((width - left - 14 - right) / (_TEXT_EM * layout.font))
    legend = [_wrap(partial_label(p, bucket), room) for p in points if p.partial and p.value is not None]
    line = layout.font + 5
    dates = ticks([p.start for p in points], bucket, layout.labels)
    # A year goes on a line of its own under its date: "Nov 2025" on one line would not fit
    # between its neighbours, nor inside the chart at its ends, on a phone.
    axis = layout.height + (line if any(t.year for t in dates) else 0)
    rows = sum(len(lines) for lines in legend)
    height = axis + (line * rows + 4 if legend else 0)

    def x_of(i: int) -> float:
        return left + (plot_w * (i + 0.5) / max(len(points), 1))

    span = high - low

    def y_of(v: float) -> float:
        v = min(max(v, low), high)
        return top + plot_h * (1 - (v - low) / span)

    parts = [
        # Its own size, which a narrower column shrinks (.chart: max-width 100 %) but a wider one
        # never stretches: at width="100%" a card wider than the chart blew its text up.
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(title)}" class="{layout.css}">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(plot.desc)}</desc>",
    ]
    for tick in (low, (low + high) / 2, high):
        y = y_of(tick)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{_fmt(y)}" y2="{_fmt(y)}" '
                     f'stroke="#e5e7eb"/>')
        parts.append(f'<text x="{left - 6}" y="{_fmt(y + layout.font / 3)}" text-anchor="end" '
                     f'{font} fill="#6b7280">{_said(tick, "g")}</text>')
    # Each coordinate is formatted once: a year has 53 weekly points per chart.
    count = max(len(points), 1)
    xs = [f"{left + (plot_w * (i + 0.5) / count):.1f}" for i in range(len(points))]
    for run in _runs([p.ci_low is not None for p in points]):
        if len(run) == 1:
            i = run[0]
            ci_top, ci_bottom = y_of(points[i].ci_high or 0.0), y_of(points[i].ci_low or 0.0)
            parts.append(f'<rect x="{_fmt(x_of(i) - 4)}" y="{_fmt(ci_top)}" '
                         f'width="8" height="{_fmt(ci_bottom - ci_top)}" '
                         f'fill="#93c5fd" fill-opacity="0.5"/>')
        else:
            # y_of from the shared heights: three values per point.
            tops, bottoms = plot.ci_high, plot.ci_low
            upper = [f"{xs[i]},{top + plot_h * (1 - tops[i]):.1f}" for i in run]
            lower = [f"{xs[i]},{top + plot_h * (1 - bottoms[i]):.1f}" for i in reversed(run)]
            parts.append(f'<polygon points="{" ".join(upper + lower)}" fill="#93c5fd" '
                         f'fill-opacity="0.45" stroke="none"/>')
    if target is not None:
        y = y_of(target)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{_fmt(y)}" y2="{_fmt(y)}" '
                     f'stroke="#b45309" stroke-width="1.5" stroke-dasharray="6 4"/>')
        parts.append(f'<text x="{width - right}" y="{_fmt(y - 4)}" text-anchor="end" {font} '
                     f'fill="#b45309">target {_said(target, "g")}</text>')
    ys = [None if v is None else f"{top + plot_h * (1 - v):.1f}" for v in plot.value]
    for run in _runs([y is not None for y in ys]):
        # A step to or from a partial point is dashed: that point covers fewer days.
        for dashed, steps in groupby(pairwise(run),
                                     key=lambda s: points[s[0]].partial or points[s[1]].partial):
            pairs = list(steps)
            coords = " ".join(f"{xs[i]},{ys[i]}" for i in [pairs[0][0], *(j for _, j in pairs)])
            dash = ' stroke-dasharray="5 4"' if dashed else ""
            parts.append(f'<polyline points="{coords}" fill="none" stroke="#1d4ed8" '
                         f'stroke-width="2" stroke-linejoin="round"{dash}/>')
        parts.extend(
            f'<circle cx="{xs[i]}" cy="{ys[i]}" r="3.5" fill="#fff" stroke="#1d4ed8" '
            f'stroke-width="2" class="partial"/>' if points[i].partial else
            f'<circle cx="{xs[i]}" cy="{ys[i]}" r="3" fill="#1d4ed8"/>' for i in run)
    for mark in dates:
        # A date under the first or last point is moved in as far as its half width needs (and
        # a unit more): centred there, "17 Nov" ran past the narrow chart's right edge, cut off.
        half = _DATE_EM * layout.font * max(len(mark.text), len(mark.year or "")) / 2 + 1
        x = _fmt(min(max(x_of(mark.point), half), width - half))
        year = f'<tspan x="{x}" dy="{line}">{mark.year}</tspan>' if mark.year else ""
        parts.append(f'<text x="{x}" y="{layout.height - 10}" text-anchor="middle" {font} '
                     f'fill="#6b7280">{mark.text}{year}</text>')
    row = 0
    for lines in legend:
        y = axis + line * row + 6
        parts.append(f'<circle cx="{left + 4}" cy="{_fmt(y - layout.font / 3)}" r="3.5" fill="#fff" '
                     f'stroke="#1d4ed8" stroke-width="2"/>')
        more = "".join(f'<tspan x="{left + 14}" dy="{line}">{escape(t)}</tspan>' for t in lines[1:])
        parts.append(f'<text x="{left + 14}" y="{y}" {font} fill="#374151">{escape(lines[0])}{more}</text>')
        row += len(lines)
    if not any(p.value is not None for p in points):
        # "Too few" would suggest there are some: say so when there are none at all.
        empty = ("No answers in this period" if not any(p.n for p in points)
                 else f"Too few answers per {_UNITS[bucket]} to plot a score")
        parts.append(f'<text x="{width / 2}" y="{layout.height / 2}" text-anchor="middle" {font} '
                     f'fill="#6b7280">{empty}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above


def _short(name: str, limit: int = 18) -> str:
    return name if len(name) <= limit else name[:limit - 1] + "…"


def curve_width(stages: int) -> int:
    """The emotion curve's own width in px: 120 a stage, and never narrower than a trend chart."""
    return max(_W, 120 * stages + _LEFT + _RIGHT)


def emotion_curve(stages: Sequence[MapStage], worst: str | None, best: str | None) -> Markup:
    """Share of high-band answers and mean sentiment (rescaled to 0–1) across the stages; the
    band named in the kinds' own words ("share of satisfied answers")."""
    width = curve_width(len(stages))
    height = 260
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - 64

    def x_of(i: int) -> float:
        return _LEFT + plot_w * (i + 0.5) / max(len(stages), 1)

    def y_of(v: float) -> float:
        return _TOP + plot_h * (1 - min(max(v, 0.0), 1.0))

    parts = [
        # Drawn at its own size, as the trend charts: at width="100%" a curve of three stages
        # (560 wide) filled a 1,200 px card and its text came out twice the size of eight stages'.
        # --natural: that size, which a narrower card keeps and scrolls (see journey_map.html).
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="Emotion curve" class="chart" '
        f'style="--natural: {width}px">',
        "<title>Emotion curve across the journey's stages</title>",
    ]
    for tick in (0.0, 0.5, 1.0):
        y = y_of(tick)
        parts.append(f'<line x1="{_LEFT}" x2="{width - _RIGHT}" y1="{_fmt(y)}" y2="{_fmt(y)}" '
                     f'stroke="#e5e7eb"/>')
        parts.append(f'<text x="{_LEFT - 6}" y="{_fmt(y + 4)}" text-anchor="end" {_FONT} '
                     f'fill="#6b7280">{tick:g}</text>')
    score_line = [(x_of(i), None if s.normalised is None else y_of(s.normalised))
                  for i, s in enumerate(stages)]
    mood_line = [(x_of(i), None if s.mean_sentiment is None else y_of((s.mean_sentiment + 1) / 2))
                 for i, s in enumerate(stages)]
    # The curve breaks at a stage without enough answers rather than draw through it.
    mood = [(x, y) for x, y in mood_line if y is not None]
    score = [(x, y) for x, y in score_line if y is not None]
    for line, colour, dash in ((mood_line, "#9333ea", "5 4"), (score_line, "#1d4ed8", "")):
        for run in _runs([y is not None for _, y in line]):
            if len(run) > 1:
                parts.append(_polyline([(line[i][0], line[i][1] or 0.0) for i in run], colour, dash))
    for x, y in mood:
        parts.append(f'<rect x="{_fmt(x - 3)}" y="{_fmt(y - 3)}" width="6" height="6" fill="#9333ea"/>')
    for x, y in score:
        parts.append(f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="4.5" fill="#1d4ed8"/>')
    names = touchpoint_labels((t.key, t.name) for s in stages for t in s.touchpoints)
    high = band_words(t.kind for s in stages for t in s.touchpoints).high
    for i, stage in enumerate(stages):
        keys = {t.key for t in stage.touchpoints}
        label = escape(isolated(stage.name if len(stage.name) <= 16 else stage.name[:15] + "…"))
        parts.append(f'<text x="{_fmt(x_of(i))}" y="{height - 38}" text-anchor="middle" {_FONT} '
                     f'fill="#111827" font-weight="600">{label}</text>')
        for key, word, colour, dy in ((worst, "worst", "#b91c1c", 0), (best, "best", "#15803d", 14)):
            if key is not None and key in keys:
                parts.append(f'<text x="{_fmt(x_of(i))}" y="{height - 22 + dy}" text-anchor="middle" '
                             f'{_FONT} fill="{colour}" font-weight="600">{word}: {escape(isolated(_short(names[key])))}</text>')
    parts.append(f'<text x="{width - _RIGHT}" y="{_TOP + 10}" text-anchor="end" {_FONT} '
                 f'fill="#1d4ed8">— share of {escape(high)} answers</text>')
    parts.append(f'<text x="{width - _RIGHT}" y="{_TOP + 24}" text-anchor="end" {_FONT} '
                 f'fill="#9333ea">- - mean sentiment, (s + 1) / 2</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
