"""Fast by design and hard to break: scores read rollups only; odd input is a 4xx, never a 500."""

from __future__ import annotations

import re
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

import httpx
import msgspec
import pytest

from feedback.insight import charts, service
from feedback.insight.models import Bucket, MapStage, Point
from feedback.insight.repository import DailyRow, ThemeRow
from surveys import service as surveys_service
from surveys.errors import InvalidInput
from surveys.kinds import SurveyKind
from surveys.models import Channel, JourneyCreate, TouchpointCreate
from tests.conftest import MakeKey, bearer
from tests.test_insight_data import answers, catalogue, days_ago

Client = httpx.AsyncClient


async def test_scores_and_journey_map_never_read_the_responses_table(
        client: Client, admin: dict[str, str], conn: Any) -> None:
    cat = await catalogue(conn)
    await answers(conn, "support-call", [5] * 40 + [1] * 10, day=days_ago(3))
    # With the table out of reach, anything that scans it fails loudly.
    await conn.execute("ALTER TABLE responses RENAME TO responses_out_of_reach")
    try:
        r = await client.get("/api/v1/scores", headers=admin, params={"touchpoint": "support-call"})
        assert r.status_code == 200 and r.json()["total"]["n"] == 50, r.text
        r = await client.get(f"/api/v1/journeys/{cat.journey}/map", headers=admin)
        assert r.status_code == 200, r.text
        r = await client.get(f"/reports/journeys/{cat.journey}", headers=admin)
        assert r.status_code == 200, r.text
    finally:
        await conn.execute("ALTER TABLE responses_out_of_reach RENAME TO responses")


async def test_odd_input_is_a_client_error_never_a_500(
        client: Client, admin: dict[str, str], conn: Any) -> None:
    cat = await catalogue(conn)
    await answers(conn, "support-call", [5, 1], day=days_ago(1), comment="x", themes=["a"])
    odd: list[tuple[str, dict[str, Any]]] = [
        ("/api/v1/scores", {"touchpoint": "UPPER"}), ("/api/v1/scores", {"touchpoint": "x" * 500}),
        ("/api/v1/scores", {"channel": "fax"}), ("/api/v1/scores", {"kind": "nope"}),
        ("/api/v1/scores", {"owner": "-1"}), ("/api/v1/scores", {"stage": "1.5"}),
        ("/api/v1/scores", {"from": "2026-01-01T00:00"}), ("/api/v1/scores", {"to": "\x00"}),
        ("/api/v1/scores", {"from": "+2026-01-01"}), ("/api/v1/scores", {"to": "0001-01-01"}),
        ("/api/v1/responses", {"to": "0001-03-01"}), (f"/api/v1/journeys/{cat.journey}/map", {"to": "0001-01-01"}),
        ("/reports/owners/1", {"to": "0001-01-01"}),
        ("/api/v1/responses", {"limit": "0"}), ("/api/v1/responses", {"limit": "501"}),
        ("/api/v1/responses", {"band": "worst"}), ("/api/v1/responses", {"label": "angry"}),
        ("/api/v1/responses", {"has_comment": "maybe"}), ("/api/v1/responses", {"theme": "x" * 201}),
        ("/api/v1/responses", {"customer": ""}), ("/api/v1/responses", {"cursor": "!" * 600}),
        ("/api/v1/responses", {"cursor": "WyIyMDI2LTAxLTAxIiwgMV0"}),
        ("/api/v1/touchpoints/UPPER/report", {}), (f"/api/v1/owners/{2**63}/report", {}),
        (f"/api/v1/journeys/{cat.journey}/map", {"from": "2026-02-29"}),
        ("/api/v1/journeys/0/map", {}), ("/reports/journeys/1", {"owner": "x", "share": "y"}),
        ("/reports/owners/1", {"share": "=" * 300}), ("/reports/owners/1", {"share": "\u00e9\u00e9"}),
    ]
    for path, params in odd:
        r = await client.get(path, headers=admin, params=params)
        assert 400 <= r.status_code < 500, (path, params, r.status_code, r.text[:300])
    ok = [("/api/v1/responses", {"theme": "a", "customer": "c'; DROP TABLE x; --"}),
          ("/api/v1/scores", {"touchpoint": "support-call", "bucket": "day", "from": str(days_ago(1095)),
                              "to": str(days_ago(0))}),
          ("/reports/owners/" + str(cat.owners["support"]), {"from": str(days_ago(1095))})]
    for path, params in ok:
        r = await client.get(path, headers=admin, params=params)
        assert r.status_code == 200, (path, params, r.text[:300])


async def test_a_value_outside_an_enumeration_is_told_the_values_it_may_take(
        client: Client, admin: dict[str, str]) -> None:
    cases = [("/api/v1/scores", "bucket", "year", "day, week, month"),
             ("/api/v1/scores", "kind", "NPS", "nps, csat, ces"),
             ("/api/v1/responses", "band", "satisfied", "low, middle, high")]
    for path, name, value, choices in cases:
        r = await client.get(path, headers=admin, params={name: value})
        assert r.status_code == 422, r.text
        message = f"Invalid value {value!r}; expected one of: {choices}"
        assert r.json()["errors"] == [{"field": name, "message": message}], r.text
        assert r.json()["detail"] == f"{name}: {message}"


FILTERED = [("GET", "/api/v1/scores", {}), ("GET", "/api/v1/responses", {}),
            ("GET", "/api/v1/responses", {"Accept": "text/csv"}),
            ("HEAD", "/api/v1/responses", {"Accept": "text/csv"}), ("GET", "/api/v1/touchpoints", {})]


async def test_an_unknown_owner_journey_or_stage_filter_is_a_404_naming_it(
        client: Client, admin: dict[str, str], conn: Any) -> None:
    # It was an empty 200, while an unknown touchpoint was a 404: a typo in an id looked like
    # a team with no answers.
    cat = await catalogue(conn)
    for method, path, accept in FILTERED:
        for name in ("owner", "journey", "stage"):
            r = await client.request(method, path, headers={**admin, **accept}, params={name: "999999"})
            assert r.status_code == 404, (method, path, accept, name, r.text)
            assert r.headers["content-type"].startswith("application/problem+json"), r.headers
            if method == "GET":
                assert r.json()["errors"] == [{"field": name, "message": f"{name} 999999 does not exist"}]
                assert r.json()["detail"] == f"{name.capitalize()} 999999 does not exist."
        r = await client.request(method, path, headers={**admin, **accept},
                                 params={"owner": "999998", "journey": str(cat.journey), "stage": "999999"})
        assert r.status_code == 404, r.text
        if method == "GET":
            assert [e["field"] for e in r.json()["errors"]] == ["stage", "owner"], r.text
    # Ids that exist are no mistake, even where they hold nothing together.
    empty = (await client.post("/api/v1/owners", json={"name": "New team"}, headers=admin)).json()["id"]
    for params in ({"owner": empty}, {"owner": cat.owners["support"], "stage": cat.stages["Loyalty"]}):
        for method, path, accept in FILTERED:
            r = await client.request(method, path, headers={**admin, **accept}, params=params)
            assert r.status_code == 200, (method, path, params, r.text)


async def test_another_owners_filter_ids_answer_as_ids_that_do_not_exist(
        client: Client, conn: Any, make_key: MakeKey) -> None:
    cat = await catalogue(conn)
    other = await surveys_service.create_journey(conn, JourneyCreate(name="Returns"))
    await surveys_service.create_touchpoint(conn, TouchpointCreate(
        key="return-label", name="Return label", stage_id=other.stages[0].id, channel=Channel.WEB,
        owner_id=cat.owners["onboarding"], kind=SurveyKind.CES))
    await answers(conn, "return-label", [2, 7], day=days_ago(1), comment="onboarding secret")
    support = bearer(await make_key("owner", cat.owners["support"]))
    theirs = {"owner": cat.owners["onboarding"], "journey": other.id, "stage": other.stages[0].id}
    for method, path, accept in FILTERED:
        for name, their_id in theirs.items():
            answers_ = [await client.request(method, path, headers={**support, **accept},
                                             params={name: str(value)})
                        for value in (their_id, 999999)]
            got, nowhere = answers_
            assert got.status_code == nowhere.status_code == 404, (path, name, got.text)
            assert got.headers["content-type"] == nowhere.headers["content-type"]
            if method == "GET":  # the same body, but for the id it names
                assert got.json() == msgspec.json.decode(
                    nowhere.text.replace("999999", str(their_id))), (path, name)
                assert "secret" not in got.text and "Return" not in got.text
    # A stage of a journey the owner has touchpoints in is seen, as GET /journeys/{id} shows it.
    for method, path, accept in FILTERED:
        r = await client.request(method, path, headers={**support, **accept},
                                 params={"stage": cat.stages["Loyalty"]})
        assert r.status_code == 200, (method, path, r.text)


async def test_a_stage_outside_the_journey_filter_is_a_422_naming_stage(
        client: Client, admin: dict[str, str], conn: Any, make_key: MakeKey) -> None:
    # It was an empty 200: two filters that cannot both hold looked like a journey with no answers.
    cat = await catalogue(conn)
    other = await surveys_service.create_journey(conn, JourneyCreate(name="Returns"))
    stage = other.stages[0].id
    await surveys_service.create_touchpoint(conn, TouchpointCreate(
        key="return-label", name="Return label", stage_id=stage, channel=Channel.PHONE,
        owner_id=cat.owners["support"], kind=SurveyKind.CES))
    message = f"stage {stage} is in journey {other.id}, not {cat.journey}"
    support = bearer(await make_key("owner", cat.owners["support"]))
    for headers in (admin, support):  # the support key sees both journeys: it holds touchpoints in each
        for method, path, accept in FILTERED:
            r = await client.request(method, path, headers={**headers, **accept},
                                     params={"journey": cat.journey, "stage": stage})
            assert r.status_code == 422, (method, path, accept, r.text)
            assert r.headers["content-type"].startswith("application/problem+json"), r.headers
            if method == "GET":
                assert r.json()["errors"] == [{"field": "stage", "message": message}], r.text
                assert r.json()["detail"] == f"stage: {message}"
    for path in ("/api/v1/scores", "/api/v1/responses"):
        # A touchpoint of the stage named too: the stage is what contradicts the journey.
        r = await client.get(path, headers=admin, params={
            "journey": cat.journey, "stage": stage, "touchpoint": "return-label"})
        assert r.status_code == 422 and r.json()["errors"] == [{"field": "stage", "message": message}], r.text
        # 404s come first: an unknown touchpoint, and an id the caller cannot see.
        r = await client.get(path, headers=admin, params={
            "journey": cat.journey, "stage": stage, "touchpoint": "no-such-touchpoint"})
        assert r.status_code == 404 and r.json()["detail"] == "Touchpoint 'no-such-touchpoint' does not exist."
        r = await client.get(path, headers=admin, params={
            "journey": cat.journey, "stage": stage, "owner": "999999"})
        assert r.status_code == 404 and r.json()["detail"] == "Owner 999999 does not exist.", r.text
    # The onboarding key cannot see the other journey: its stage is a stage that does not exist,
    # the very answer of a missing one, which says nothing of the journey it is in.
    onboarding = bearer(await make_key("owner", cat.owners["onboarding"]))
    for method, path, accept in FILTERED:
        got, nowhere = [await client.request(method, path, headers={**onboarding, **accept},
                                             params={"journey": cat.journey, "stage": value})
                        for value in (stage, 999999)]
        assert got.status_code == nowhere.status_code == 404, (method, path, got.text)
        if method == "GET":
            assert got.json() == msgspec.json.decode(nowhere.text.replace("999999", str(stage)))
            assert str(other.id) not in got.text
    # A stage of the journey named is no contradiction.
    for method, path, accept in FILTERED:
        r = await client.request(method, path, headers={**admin, **accept},
                                 params={"journey": cat.journey, "stage": cat.stages["Loyalty"]})
        assert r.status_code == 200, (method, path, r.text)


def test_days_still_to_come_are_left_out_of_a_period() -> None:
    today = days_ago(0)
    # "This month" asked for to its last day: the days so far, against as many before them.
    start, end = service.period(today.replace(day=1), today + timedelta(days=40), today)
    assert (start, end) == (today.replace(day=1), today)
    prev = service.previous_period(start, end)
    assert (prev[1] - prev[0]).days == (end - start).days
    for to in (today + timedelta(days=2), None):  # with or without a "to"
        with pytest.raises(InvalidInput) as refused:
            service.period(today + timedelta(days=1), to, today)
        assert refused.value.errors[0].field == "from"


def test_periods_default_to_the_last_90_days_and_compare_with_the_90_before() -> None:
    today = days_ago(0)
    start, end = service.period(None, None, today)
    assert end == today and (end - start).days == 89
    prev = service.previous_period(start, end)
    assert (prev[1] - prev[0]).days == 89 and (start - prev[1]).days == 1
    week = service.series([], "csat", start, end, Bucket.WEEK, 30)
    assert all(p.start.weekday() == 0 and p.n == 0 and p.value is None for p in week)
    month = service.series([], "csat", start, end, Bucket.MONTH, 30)
    assert all(p.start.day == 1 for p in month)


def test_a_to_after_today_without_a_from_is_the_last_90_days_not_a_422_naming_from() -> None:
    today = days_ago(0)
    for to in (today + timedelta(days=1), today + timedelta(days=120), date(2099, 12, 31)):
        start, end = service.period(None, to, today)
        assert (start, end) == (today - timedelta(days=89), today), to
    # A "to" in the past still counts back from itself.
    assert service.period(None, today - timedelta(days=10), today)[0] == today - timedelta(days=99)
    # The 3-year limit is on the days counted: "this year", asked for to next New Year's Eve.
    first = today - timedelta(days=1095)
    assert service.period(first, date(today.year + 1, 12, 31), today) == (first, today)


def test_a_to_before_the_earliest_day_is_a_422_naming_to_and_an_early_one_starts_there() -> None:
    today = days_ago(0)
    for to in (date(1, 1, 1), date(1970, 12, 31)):  # the first once overflowed counting back
        with pytest.raises(InvalidInput) as refused:
            service.period(None, to, today)
        assert [e.field for e in refused.value.errors] == ["to"], to
    # Without a "from", the 90 days are cut at the earliest day, not refused as a "from".
    assert service.period(None, date(1971, 2, 1), today) == (service.EARLIEST, date(1971, 2, 1))


def test_buckets_cut_by_the_period_or_holding_today_are_partial() -> None:
    monday, later = date(2025, 6, 2), date(2026, 1, 1)

    def covered(points: list[Point]) -> list[tuple[date, date, date, int, int, bool, bool]]:
        return [(p.start, p.first_day, p.last_day, p.days, p.bucket_days, p.ongoing, p.partial)
                for p in points]

    def day(n: int) -> date:
        return monday + timedelta(days=n)

    # Wednesday to the Tuesday two weeks on: the first week has 5 of its days, the last 2.
    weeks = service.series([], "csat", day(2), day(15), Bucket.WEEK, 30, today=later)
    assert covered(weeks) == [(day(0), day(2), day(6), 5, 7, False, True),
                              (day(7), day(7), day(13), 7, 7, False, False),
                              (day(14), day(14), day(15), 2, 7, False, True)]
    whole = service.series([], "csat", day(0), day(20), Bucket.WEEK, 30, today=later)
    assert [p.partial for p in whole] == [False, False, False]
    # A week with all its days is still partial while today, its Sunday, is not over.
    *_, last = service.series([], "csat", day(0), day(13), Bucket.WEEK, 30, today=day(13))
    assert (last.days, last.ongoing, last.partial) == (7, True, True)
    months = service.series([], "csat", date(2024, 2, 10), date(2024, 3, 31), Bucket.MONTH, 30,
                            today=later)
    assert [(p.days, p.bucket_days, p.partial) for p in months] == [(20, 29, True), (31, 31, False)]
    days = service.series([], "csat", day(0), day(2), Bucket.DAY, 30, today=day(2))
    assert [p.partial for p in days] == [False, False, True]


def test_a_partial_point_is_hollow_reached_by_a_dashed_step_and_named_in_a_legend() -> None:
    monday = date(2025, 6, 2)

    def point(weeks: int, value: float, days: int = 7) -> Point:
        start = monday + timedelta(weeks=weeks)
        return Point(start=start, n=40, value=value, ci_low=value - 5, ci_high=value + 5,
                     first_day=start, last_day=start + timedelta(days=days - 1), days=days,
                     bucket_days=7, ongoing=False, partial=days < 7)

    points = [point(0, 60.0), point(1, 62.0), point(2, 20.0, days=2)]
    for layout in (charts.WIDE, charts.NARROW):
        svg = str(charts.trend_chart(points, "csat", None, "Weekly CSAT", Bucket.WEEK, layout))
        assert svg.count('class="partial"') == 1 and "partial week: 2 of 7 days" in svg
        lines = svg.split("<polyline")[1:]
        assert len(lines) == 2 and "stroke-dasharray" not in lines[0] and "stroke-dasharray" in lines[1]
        whole = str(charts.trend_chart(points[:2], "csat", None, "Weekly CSAT", Bucket.WEEK, layout))
        assert "partial" not in whole and "stroke-dasharray" not in whole


def _cut(start: date, bucket_days: int, first: int, last: int, ongoing: bool = False) -> Point:
    """A point of a bucket starting `start`, covering its days `first` to `last` (from 0)."""
    return Point(start=start, n=40, value=50.0, ci_low=45.0, ci_high=55.0,
                 first_day=start + timedelta(days=first), last_day=start + timedelta(days=last),
                 days=last - first + 1, bucket_days=bucket_days, ongoing=ongoing, partial=True)


def test_a_partial_point_says_whether_the_period_or_today_cuts_it_short() -> None:
    november = date(2026, 11, 1)
    label = charts.partial_label
    # "Last 7 days" to today, the 23rd: the month is not 7 days old, the period is.
    assert label(_cut(november, 30, 16, 22, ongoing=True), Bucket.MONTH) == (
        "partial month: 7 of 30 days, period starts 17 Nov, month not over")
    assert label(_cut(november, 30, 0, 22, ongoing=True), Bucket.MONTH) == "partial month: 23 of 30 days so far"
    assert label(_cut(november, 30, 16, 29), Bucket.MONTH) == "partial month: 14 of 30 days, period starts 17 Nov"
    assert label(_cut(november, 30, 0, 19), Bucket.MONTH) == "partial month: 20 of 30 days, period ends 20 Nov"
    assert label(_cut(november, 30, 16, 19), Bucket.MONTH) == "partial month: 4 of 30 days, period 17–20 Nov"
    assert label(_cut(november, 30, 0, 29, ongoing=True), Bucket.MONTH) == "partial month: today not over"
    assert label(_cut(date(2026, 11, 16), 7, 1, 6), Bucket.WEEK) == "partial week: 6 of 7 days, period starts 17 Nov"


def test_a_long_partial_legend_wraps_inside_the_narrow_chart() -> None:
    point = _cut(date(2026, 11, 1), 30, 16, 22, ongoing=True)
    short = msgspec.structs.replace(point, first_day=date(2026, 11, 1), days=23)
    for layout in (charts.WIDE, charts.NARROW):
        svg = str(charts.trend_chart([point], "csat", None, "Monthly CSAT", Bucket.MONTH, layout))
        legend = re.search(r'<text x="(\d+)" y="[\d.]+" [^>]*fill="#374151">(.*?)</text>', svg)
        assert legend is not None
        lines = re.split(r"<tspan [^>]*>", legend.group(2).replace("</tspan>", ""))
        assert " ".join(lines) == charts.partial_label(point, Bucket.MONTH)
        # DejaVu Sans, as wide as common fonts come, sets this text at about 0.5 em a character.
        right = int(legend.group(1)) + max(len(t) for t in lines) * 0.55 * layout.font
        assert right <= layout.width - layout.right, (layout.css, lines)
        assert (len(lines) == 1) is (layout is charts.WIDE), lines
        # The chart is as much taller as the legend has lines.
        height = float(svg.split('viewBox="0 0 ')[1].split('"')[0].split()[1])
        one = str(charts.trend_chart([short], "csat", None, "Monthly CSAT", Bucket.MONTH, layout))
        assert height - float(one.split('viewBox="0 0 ')[1].split('"')[0].split()[1]) == (len(lines) - 1) * (
            layout.font + 5)


def _stage(i: int) -> MapStage:
    return MapStage(id=i, name=f"Stage {i}", position=i, n=40, share_high=50.0, normalised=0.5,
                    mean_sentiment=0.1, sentiment_n=40, touchpoints=[])


def test_every_chart_is_drawn_at_its_own_size_never_stretched_to_its_column() -> None:
    # width="100%" drew a three-stage curve (560 wide) across a 1,200 px card: its text twice the
    # size of an eight-stage curve's. A chart's width is its viewBox's; CSS only ever shrinks it.
    point = _cut(date(2026, 11, 2), 7, 0, 6)
    svgs = [str(charts.emotion_curve([_stage(i) for i in range(n)], None, None)) for n in (1, 3, 8, 12)]
    svgs += [str(charts.trend_chart([point], "nps", 30.0, "Weekly NPS", Bucket.WEEK, layout))
             for layout in (charts.WIDE, charts.NARROW)]
    widths = []
    for svg in svgs:
        box = svg.split('viewBox="0 0 ')[1].split('"')[0].split()
        assert f'width="{box[0]}" height="{box[1]}"' in svg.split(">")[0], svg[:300]
        widths.append(int(box[0]))
    assert widths == [560, 560, 1020, 1500, 560, 340]


def test_a_trend_chart_says_its_numbers_to_a_screen_reader() -> None:
    def point(start: date, n: int, value: float | None, days: int = 7) -> Point:
        return Point(start=start, n=n, value=value, ci_low=None if value is None else value - 0.25,
                     ci_high=None if value is None else value + 0.25, first_day=start,
                     last_day=start + timedelta(days=days - 1), days=days, bucket_days=7,
                     ongoing=False, partial=days < 7)

    points = [point(date(2025, 6, 2), 12, None), point(date(2025, 6, 9), 40, 5.2),
              point(date(2025, 6, 16), 31, 4.5, days=3)]
    svg = str(charts.trend_chart(points, "ces", 5.5, "Weekly CES", Bucket.WEEK))
    desc = svg.split("<desc>")[1].split("</desc>")[0]
    assert desc == ("Target 5.5. 02 Jun 2025: too few answers (n = 12); "
                    "09 Jun 2025: 5.20, 95 % interval 4.95 to 5.45, n = 40; "  # CES to 2 places
                    "16 Jun 2025: 4.50, 95 % interval 4.25 to 4.75, n = 31 "
                    "(partial week: 3 of 7 days, period ends 18 Jun).")
    assert svg.index("<desc>") < svg.index("<line")  # read with the title, before the drawing
    # A year of weeks is summed up, not read out: the latest, the lowest and the highest point.
    year = [point(date(2025, 6, 2) + timedelta(weeks=i), 40, 3.0 + (i % 10) / 10) for i in range(53)]
    year[3] = point(date(2025, 6, 23), 9, None)
    svg = str(charts.trend_chart(year, "ces", None, "Weekly CES", Bucket.WEEK))
    desc = svg.split("<desc>")[1].split("</desc>")[0]
    assert desc == ("53 weeks from 02 Jun 2025 to 01 Jun 2026, 52 with enough answers to plot. "
                    "Latest: 01 Jun 2026: 3.20, 95 % interval 2.95 to 3.45, n = 40. "
                    "Lowest: 02 Jun 2025: 3.00, 95 % interval 2.75 to 3.25, n = 40. "
                    "Highest: 04 Aug 2025: 3.90, 95 % interval 3.65 to 4.15, n = 40.")


def _axis(svg: str) -> list[tuple[float, str, str | None]]:
    """The dates under a trend chart's x axis: x, the date, and the year written under it."""
    found = re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="middle"[^>]*>([^<]*)'
                       r'(?:<tspan x="[\d.]+" dy="\d+">(\d{4})</tspan>)?</text>', svg)
    return [(float(x), text, year or None) for x, text, year in found]


def test_a_year_long_chart_names_the_year_of_its_first_and_last_dates_and_at_each_new_year() -> None:
    def point(start: date, bucket_days: int) -> Point:
        return Point(start=start, n=40, value=50.0, ci_low=45.0, ci_high=55.0, first_day=start,
                     last_day=start + timedelta(days=bucket_days - 1), days=bucket_days,
                     bucket_days=bucket_days, ongoing=False, partial=False)

    months = [point(date(2025 + (10 + i) // 12, (10 + i) % 12 + 1, 1), 30) for i in range(13)]
    weeks = [point(date(2025, 11, 24) + timedelta(weeks=i), 7) for i in range(53)]
    expected = {
        ("months", "chart chart-wide"): [("Nov", "2025"), ("Jan", "2026"), ("Mar", None), ("May", None),
                                         ("Jul", None), ("Sep", None), ("Nov", "2026")],
        ("months", "chart chart-narrow"): [("Nov", "2025"), ("Mar", "2026"), ("Jul", None), ("Nov", "2026")],
        ("weeks", "chart chart-wide"): [("24 Nov", "2025"), ("19 Jan", "2026"), ("16 Mar", None),
                                        ("11 May", None), ("06 Jul", None), ("31 Aug", None),
                                        ("26 Oct", "2026")],
        ("weeks", "chart chart-narrow"): [("24 Nov", "2025"), ("23 Mar", "2026"), ("20 Jul", None),
                                          ("16 Nov", "2026")],
    }
    for name, points, bucket in (("months", months, Bucket.MONTH), ("weeks", weeks, Bucket.WEEK)):
        for layout in (charts.WIDE, charts.NARROW):
            svg = str(charts.trend_chart(points, "csat", 85.0, "Trend", bucket, layout))
            axis = _axis(svg)
            assert [(text, year) for _, text, year in axis] == expected[name, layout.css]
            # The year has a line of its own, so no date grows wider: at 0.62 em a character
            # (DejaVu Sans is 0.6) neighbours keep a gap, and the ends stay inside the chart.
            widths = [0.62 * layout.font * max(len(text), len(year or "")) for _, text, year in axis]
            edges = [(x - w / 2, x + w / 2) for (x, _, _), w in zip(axis, widths, strict=True)]
            assert all(right + layout.font / 2 < left for (_, right), (left, _) in pairwise(edges)), edges
            assert edges[0][0] >= 0 and edges[-1][1] <= layout.width, edges
            height = float(svg.split('viewBox="0 0 ')[1].split()[1].rstrip('"'))
            assert height == layout.height + layout.font + 5  # a line more for the years
    # Within one year the dates are as before: no year, and no extra line.
    svg = str(charts.trend_chart(months[2:], "csat", None, "Trend", Bucket.MONTH))
    assert {year for _, _, year in _axis(svg)} == {None} and f'viewBox="0 0 560 {charts.WIDE.height}"' in svg


def test_impact_is_share_of_low_minus_share_of_high() -> None:
    day = days_ago(0)
    # 40 answers: 20 low (CSAT 1), 20 high (CSAT 5).
    rows = [DailyRow(touchpoint_id=1, day=day, kind="csat", responses=40, counts={1: 20, 5: 20},
                     comments=40, sentiment_n=0, sentiment_sum=0.0, sentiment_sq=0.0, negative=0,
                     neutral=0, positive=0, mixed=0, unscored=0)]

    def theme(name: str, low: int, high: int) -> ThemeRow:
        return ThemeRow(touchpoint_id=1, kind="csat", theme=name, responses=low + high, low=low,
                        high=high, score_sum=low + 5 * high, sentiment_n=0, sentiment_sum=0.0)

    pain, delight = service.theme_insights(
        [theme("wait", 10, 2), theme("refund", 4, 0), theme("staff", 1, 12), theme("app", 3, 3)],
        rows, {1: "tp"}, min_n=30)
    assert [(p.theme, p.impact) for p in pain] == [("wait", 40.0)]  # 50 % − 10 %; refund has n < 5
    assert [(d.theme, d.impact) for d in delight] == [("staff", -55.0)]  # 5 % − 60 %
    assert pain[0].average_score == (10 + 10) / 12 and pain[0].share == 30.0
    # Shares of fewer than min_n answers are held back, as the score's are.
    assert service.theme_insights([theme("wait", 10, 2)], rows, {1: "tp"}, min_n=41) == ([], [])


def test_themes_grow_only_against_a_previous_period_of_min_n_answers() -> None:
    def theme(name: str, n: int) -> ThemeRow:
        return ThemeRow(touchpoint_id=1, kind="csat", theme=name, responses=n, low=n, high=0,
                        score_sum=n, sentiment_n=0, sentiment_sum=0.0)

    grown = service.themes_grown([theme("wait", 10)], [theme("wait", 3)], 40, 30, min_n=30)
    assert [(g.theme, g.previous_share, g.share) for g in grown] == [("wait", 10.0, 25.0)]
    # Nothing to grow from: no answers before, or too few.
    assert service.themes_grown([theme("wait", 10)], [], 40, 0, min_n=30) == []
    assert service.themes_grown([theme("wait", 10)], [theme("wait", 3)], 40, 29, min_n=30) == []
    assert service.themes_grown([theme("wait", 10)], [theme("wait", 3)], 29, 40, min_n=30) == []


def test_theme_growth_says_whether_it_could_be_chance() -> None:
    def theme(name: str, n: int) -> ThemeRow:
        return ThemeRow(touchpoint_id=1, kind="csat", theme=name, responses=n, low=n, high=0,
                        score_sum=n, sentiment_n=0, sentiment_sum=0.0)

    # 10 of 40 against 3 of 30 (25 % against 10 %): p ≈ 0.11, a grown share chance could make.
    chance = service.themes_grown([theme("wait", 10)], [theme("wait", 3)], 40, 30, min_n=30)[0]
    assert chance.significant is False and 0.05 < chance.p_value < 0.2
    # 20 of 40 against 3 of 30 (50 % against 10 %): p < 0.001.
    real = service.themes_grown([theme("wait", 20)], [theme("wait", 3)], 40, 30, min_n=30)[0]
    assert real.significant is True and real.p_value < 0.001


def test_csv_cells_are_made_inert() -> None:
    for text in ("=1", "+1", "-1", "@x", "\tx", "\rx"):
        assert service.inert(text) == "'" + text
    assert service.inert("fine") == "fine" and service.inert("") == ""


def test_the_insight_routes_describe_themselves_in_openapi() -> None:
    from litestar import Litestar
    from litestar.openapi import OpenAPIConfig

    from feedback.insight.controllers import ROUTES
    from feedback.service.dependencies import DEPENDENCIES

    app = Litestar(route_handlers=ROUTES, dependencies=DEPENDENCIES,
                   openapi_config=OpenAPIConfig(title="t", version="1"))
    paths = app.openapi_schema.to_schema()["paths"]
    assert {"/api/v1/scores", "/api/v1/responses", "/api/v1/touchpoints/{key}/report",
            "/api/v1/owners/{owner_id}/report", "/api/v1/owners/{owner_id}/share-link",
            "/api/v1/journeys/{journey_id}/map"} <= set(paths)
    names = [p["name"] for p in paths["/api/v1/scores"]["get"]["parameters"]]
    assert "from" in names and "to" in names and "bucket" in names
    assert not any(p.startswith("/reports") for p in paths)
    point = app.openapi_schema.to_schema()["components"]["schemas"]["Point"]
    assert {"partial", "from", "to", "days", "bucket_days", "ongoing"} <= set(point["required"])
    assert "whole bucket" in point["properties"]["partial"]["description"]
