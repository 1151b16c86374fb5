"""Owner and touchpoint reports, the journey map, share links and the report pages."""

from __future__ import annotations

import html
import re
import time
import uuid
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import msgspec

from feedback.insight import service, sharing
from feedback.insight.models import Bucket
from feedback.settings import Settings
from surveys.errors import NotFound
from tests.conftest import MakeKey, bearer
from tests.test_insight_data import INSERT, Catalogue, answer, at, catalogue, days_ago

Client = httpx.AsyncClient
Headers = dict[str, str]
XSS = "<script>alert('x')</script> on hold & ignored"


async def support_story(conn: Any) -> Catalogue:
    """Support call: long waits drag CSAT down, friendly staff lift it; chat is pleasant."""
    cat = await catalogue(conn)
    for i in range(24):
        await answer(conn, "support-call", 1 + i % 2, when=at(days_ago(i % 20)),
                     comment=XSS if i == 0 else f"on hold for {20 + i} minutes",
                     themes=["waiting time"], polarity=-0.6, label="negative")
    for i in range(20):
        await answer(conn, "support-call", 5, when=at(days_ago(i % 20)),
                     comment=f"the agent was friendly ({i})", themes=["friendly staff"],
                     polarity=0.7, label="positive")
    for i in range(6):
        await answer(conn, "support-call", 3, when=at(days_ago(i)))
    # Previous period: a better month.
    for i in range(40):
        await answer(conn, "support-call", 5 if i < 36 else 1, when=at(days_ago(40 + i % 20)))
    for i in range(35):
        await answer(conn, "support-chat", 5 if i % 7 else 4, when=at(days_ago(i % 25)),
                     comment="quick answer in chat", themes=["fast service"], polarity=0.8,
                     label="positive")
    await answer(conn, "first-login", 6, when=at(days_ago(2)))
    # Invitations for the call: 100 sent, 60 clicked, 50 answered, 3 sampled out.
    await conn.execute("""
        INSERT INTO invitations (touchpoint_id, id, customer_ref, channel, decision, token_hash,
            created_at, first_clicked_at, answered_at)
        SELECT t.id, gen_random_uuid(), 'c' || g, 'email', 'sent', sha256(g::text::bytea),
            now() - interval '2 days', CASE WHEN g <= 60 THEN now() END,
            CASE WHEN g <= 50 THEN now() END
        FROM touchpoints t, generate_series(1, 100) g WHERE t.key = 'support-call'""")
    await conn.execute("""
        INSERT INTO invitations (touchpoint_id, id, customer_ref, channel, decision, created_at)
        SELECT t.id, gen_random_uuid(), 'x' || g, 'email', 'sampled_out', now() - interval '2 days'
        FROM touchpoints t, generate_series(1, 3) g WHERE t.key = 'support-call'""")
    return cat


def _period() -> dict[str, str]:
    return {"from": str(days_ago(29)), "to": str(days_ago(0))}


async def test_touchpoint_report_ranks_pain_points_and_positive_moments(
        client: Client, admin: Headers, conn: Any) -> None:
    await support_story(conn)
    r = await client.get("/api/v1/touchpoints/support-call/report", headers=admin, params=_period())
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["definition"].startswith("CSAT = % of answers 4–5")
    assert report["score"]["n"] == 50 and abs(report["score"]["value"] - 40.0) < 1e-9
    assert report["previous"]["n"] == 40 and report["significant"] is True
    assert report["delta"] < 0 and report["status"] == "missed"
    pain = report["pain_points"]
    assert [p["theme"] for p in pain] == ["waiting time"]
    top = pain[0]
    assert top["n"] == 24 and top["low"] == 24 and top["high"] == 0
    assert abs(top["share_of_low"] - 100.0) < 1e-9 and abs(top["impact"] - 100.0) < 1e-9
    # 24 comments: their mean is held back below min_n (30), as a score would be; n still says 24.
    assert abs(top["average_score"] - 1.5) < 1e-9 and top["mean_sentiment"] is None and top["sentiment_n"] == 24
    assert len(top["comments"]) == 3 and all(c["score"] <= 2 for c in top["comments"])
    assert [p["theme"] for p in report["positive_moments"]] == ["friendly staff"]
    assert len(report["positive_moments"][0]["comments"]) == 3
    funnel = report["funnel"]
    assert (funnel["invited"], funnel["clicked"], funnel["answered"]) == (100, 60, 50)
    assert abs(funnel["response_rate"] - 50.0) < 1e-9 and funnel["not_asked"] == 3
    assert funnel["ci_low"] < 50 < funnel["ci_high"]
    assert report["sentiment"]["n"] == 44
    assert sum(p["n"] for p in report["weekly"]) == 50
    r = await client.get("/api/v1/touchpoints/support-chat/report", headers=admin, params=_period())
    assert r.json()["funnel"] is None
    r = await client.get("/api/v1/scores", headers=admin, params={"owner": report["touchpoint"]["owner_id"]})
    assert r.status_code == 200, r.text
    assert r.json()["funnel"]["answered"] == 50 and "answered / invited" in r.json()["funnel"]["definition"]


async def test_the_click_rate_counts_people_not_mail_scanners(
        client: Client, admin: Headers, conn: Any) -> None:
    cat = await support_story(conn)
    # 10 of the 60 clicked invitations were clicked only by a scanner (none of them answered).
    await conn.execute("""
        UPDATE invitations SET suspected_scanner = true
        WHERE id IN (SELECT id FROM invitations WHERE first_clicked_at IS NOT NULL
                     AND answered_at IS NULL LIMIT 10)""")
    r = await client.get("/api/v1/touchpoints/support-call/report", headers=admin, params=_period())
    funnel = r.json()["funnel"]
    assert (funnel["invited"], funnel["clicked"], funnel["answered"]) == (100, 60, 50)
    assert (funnel["clicked_by_people"], funnel["suspected_scanners"]) == (50, 10)
    assert abs(funnel["click_rate"] - 50.0) < 1e-9 and abs(funnel["response_rate"] - 50.0) < 1e-9
    r = await client.get("/api/v1/scores", headers=admin, params={"touchpoint": "support-call"})
    assert r.json()["funnel"]["clicked_by_people"] == 50
    page = await client.get(f"/reports/owners/{cat.owners['support']}", headers=admin, params=_period())
    assert '<th>Clicked by people</th><td class="n">50</td>' in page.text
    # An interval never parts, nor does a line open with the "·" before a count.
    assert re.search(r"\(95 % CI \d+\.\d–\d+\.\d&nbsp;%\)</span>", page.text) and "·</span> <span class=\"nowrap\">n = " in page.text
    # A rate and its % never part on a phone's narrow card.
    assert page.text.count("50.0&nbsp;%</td>") == 2
    assert "10 clicked only by a mail scanner (left out of the clicks)" in page.text
    schema = (await client.get("/schema/openapi.json")).json()["components"]["schemas"]
    funnel_schema = next(v for k, v in schema.items() if k.endswith("Funnel"))
    assert "clicked_by_people" in funnel_schema["required"]
    assert "clicked_by_people" in funnel_schema["properties"]["click_rate"]["description"]


async def test_owner_report_lists_touchpoints_changes_and_themes(
        client: Client, admin: Headers, conn: Any) -> None:
    cat = await support_story(conn)
    r = await client.get(f"/api/v1/owners/{cat.owners['support']}/report", headers=admin,
                         params=_period())
    assert r.status_code == 200, r.text
    report = r.json()
    assert [t["touchpoint"]["key"] for t in report["touchpoints"]] == ["support-call", "support-chat"]
    assert report["pain_points"][0]["theme"] == "waiting time"
    assert {p["theme"] for p in report["positive_moments"]} == {"friendly staff", "fast service"}
    assert [c["touchpoint"] for c in report["changes"]] == ["support-call"]
    assert "waiting time" in {g["theme"] for g in report["themes_grown"]}
    grown = {g["theme"]: g for g in report["themes_grown"]}
    assert grown["waiting time"]["significant"] is True and grown["waiting time"]["p_value"] < 0.05
    assert set(report["definitions"]) == {"nps", "csat", "ces", "funnel"}
    for path in (f"/api/v1/owners/{2**40}/report", "/api/v1/touchpoints/none-such/report"):
        assert (await client.get(path, headers=admin)).status_code == 404
    r = await client.get(f"/api/v1/owners/{cat.owners['support']}/report", headers=admin,
                         params={"from": "2026-02-30"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "from"


async def test_a_quote_in_another_language_is_marked_with_it(client: Client, admin: Headers,
                                                              conn: Any) -> None:
    # A screen reader reads «Долго ждал на линии» with English rules unless the quote says ru.
    cat = await support_story(conn)
    rid = await answer(conn, "support-call", 1, when=at(days_ago(1)), comment="Долго ждал на линии",
                       themes=["waiting time"], polarity=-1.0, label="negative")
    await conn.execute("UPDATE responses SET language = 'ru' WHERE id = $1", rid)
    await conn.execute("UPDATE responses SET language = 'en' WHERE comment LIKE 'on hold for%'")
    r = await client.get("/api/v1/touchpoints/support-call/report", headers=admin, params=_period())
    quotes = {c["comment"]: c["sentiment"]["language"] for p in r.json()["pain_points"] for c in p["comments"]}
    assert quotes.get("Долго ждал на линии") == "ru", quotes
    page = await client.get(f"/reports/owners/{cat.owners['support']}", headers=admin, params=_period())
    assert '<q dir="auto" lang="ru">Долго ждал на линии</q>' in page.text
    # English is said too, not left to the page's; a comment whose language was not read (stored
    # before it was) says it is unknown rather than claim the page's English.
    quoted = re.findall(r'<q dir="auto" lang="(\w*)">([^<]*)</q>', page.text)
    assert ("en", True) in {(lang, said.startswith("on hold for")) for lang, said in quoted}, quoted
    assert all(lang == "" for lang, said in quoted if said.startswith("&lt;script")), quoted
    assert any(said.startswith("&lt;script") for _, said in quoted) and "<q>" not in page.text, quoted
    # A quote is signed with its touchpoint's name, as the card above is headed, not its API key;
    # on a phone no line starts with the score's number or a date's month.
    signed = r'— score&nbsp;1, <bdi>Support call</bdi>, <span class="nowrap">\d\d [A-Z][a-z]{2} \d{4}</span>'
    assert re.search(signed, page.text)
    assert "support-call, " not in page.text and "average score&nbsp;1." in page.text


async def test_owner_page_is_printable_html_with_inline_svg_and_escaped_text(
        client: Client, admin: Headers, conn: Any) -> None:
    cat = await support_story(conn)
    r = await client.get(f"/reports/owners/{cat.owners['support']}", headers=admin, params=_period())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "<svg" in page and "@media print" in page
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(" in page
    for words in ("Pain points", "Positive moments", "What changed since the last period",
                  "waiting time", "friendly staff", "target missed", "Response rate 50.0&nbsp;%",
                  "previous period 90.0 %", "change −50.0 pp", "90.0 % → 40.0 % (−50.0 pp",
                  "0.0 % → 28.2 % of answers (n = 24) <strong>(significant)</strong>"):
        assert words in page, words
    assert "https://" not in page.split("<main>")[1]  # no CDN
    # A CES figure says which scale it is on.
    r = await client.get(f"/reports/owners/{cat.owners['onboarding']}", headers=admin, params=_period())
    assert "Target 5.50 / 7" in r.text


async def test_the_owner_page_opens_with_every_target_at_a_glance(
        client: Client, admin: Headers, conn: Any) -> None:
    # A busy reader sees each touchpoint's status and change before the cards, and what to fix.
    cat = await support_story(conn)
    r = await client.get(f"/reports/owners/{cat.owners['support']}", headers=admin, params=_period())
    assert r.status_code == 200, r.text
    head, cards = r.text.split("<h2>Touchpoints</h2>")
    glance = head.split("At a glance")[1]
    rows = glance.split("<tr>")[2:]
    assert ['href="#tp-support-call"' in rows[0], 'href="#tp-support-chat"' in rows[1]] == [True, True]
    for words in ("40.0 %", "(n&nbsp;=&nbsp;50)", "85.0 %", "target missed", "−50.0 pp",
                  "(significant)"):
        assert words in rows[0], words
    assert "100.0 %" in rows[1] and "target met" in rows[1] and "no comparison" in rows[1]
    assert "<strong>undecided</strong> when the interval spans the target" in glance
    assert 'Fix first: <a href="#pain-points"><strong><bdi>waiting time</bdi></strong></a>' in glance
    assert 'id="tp-support-call"' in cards and '<h2 id="pain-points">' in cards
    # An owner without touchpoints has nothing to sum up.
    empty = (await client.post("/api/v1/owners", headers=admin, json={"name": "Nobody"})).json()
    r = await client.get(f"/reports/owners/{empty['id']}", headers=admin, params=_period())
    assert r.status_code == 200 and "At a glance" not in r.text


async def test_empty_owner_pages_say_what_is_missing_and_nothing_more(
        client: Client, admin: Headers, conn: Any) -> None:
    cat = await support_story(conn)
    # A period with no answers at all: nothing "came in through the API", nothing is "too few".
    quiet = {"from": str(days_ago(400)), "to": str(days_ago(370))}
    r = await client.get(f"/reports/owners/{cat.owners['support']}", headers=admin, params=quiet)
    assert r.status_code == 200, r.text
    assert "No invitations in this period, and no answers." in r.text
    assert "answers came in through the API" not in r.text
    assert "No answers in this period" in r.text and "Too few answers per" not in r.text
    # Neither period has answers: the previous one alone is not to blame.
    assert "No comparison: no touchpoint has 30 answers in both this period and the previous one" in r.text
    # An owner without touchpoints: no held-back themes or comparisons of nothing.
    empty = (await client.post("/api/v1/owners", headers=admin, json={"name": "Nobody"})).json()
    r = await client.get(f"/reports/owners/{empty['id']}", headers=admin, params=_period())
    assert r.status_code == 200, r.text
    assert "This owner answers for no touchpoint yet." in r.text
    for words in ("No themes ranked", "Pain points", "Positive moments", "No comparison"):
        assert words not in r.text, words


async def test_a_week_the_period_cuts_short_is_marked_in_the_report_and_on_the_page(
        client: Client, admin: Headers, conn: Any) -> None:
    cat = await catalogue(conn)
    today = days_ago(0)
    monday = today - timedelta(days=today.weekday() + 35)
    for week in range(3):  # min_n (30) answers a week: every week is plotted
        for i in range(30):
            await answer(conn, "support-call", 4 + i % 2, when=at(monday + timedelta(days=7 * week + 1)))
    # To the Wednesday of the third week: 3 of its 7 days.
    cut = {"from": str(monday), "to": str(monday + timedelta(days=16))}
    r = await client.get("/api/v1/touchpoints/support-call/report", headers=admin, params=cut)
    assert r.status_code == 200, r.text
    assert r.json()["trend_bucket"] == "week"
    assert [(p["days"], p["partial"]) for p in r.json()["trend"]] == [(7, False), (7, False), (3, True)]
    r = await client.get(f"/reports/owners/{cat.owners['support']}", headers=admin, params=cut)
    assert r.status_code == 200, r.text
    assert r.text.count('class="partial"') == 2  # the hollow point, in the wide and narrow chart
    assert "partial week: 3 of 7 days" in r.text
    assert "Hollow point, dashed line: partial week: 3 of 7 days" in r.text
    whole = {"from": str(monday), "to": str(monday + timedelta(days=20))}
    r = await client.get(f"/reports/owners/{cat.owners['support']}", headers=admin, params=whole)
    assert r.status_code == 200, r.text
    assert "partial week" not in r.text and 'class="partial"' not in r.text


# `n` CSAT answers to a touchpoint on one day, in one statement.
_ANSWERS = """
INSERT INTO responses (touchpoint_id, id, journey_id, stage_id, owner_id, kind, scale_min, scale_max,
    score, channel, source, themes, analyzer_version, occurred_at)
SELECT t.id, gen_random_uuid(), s.journey_id, t.stage_id, t.owner_id, t.kind, 1, 5, 1 + g % 5,
    t.channel, 'api', '{}', 1, $2
FROM touchpoints t JOIN stages s ON s.id = t.stage_id, generate_series(1, $3) g WHERE t.key = $1"""


async def _quarter(conn: Any, key: str, full: int) -> tuple[dict[str, str], list[date]]:
    """Three whole months, long past: every week 10 answers, and `full` (up to 7) weeks spread
    over the quarter 30 (min_n), so each month has enough answers and most weeks have not."""
    first = (days_ago(0).replace(day=1) - timedelta(days=200)).replace(day=1)
    last = (first + timedelta(days=95)).replace(day=1) - timedelta(days=1)
    mondays = [first - timedelta(days=first.weekday()) + timedelta(weeks=i) for i in range(15)]
    weeks = [max(m, first) for m in mondays if m <= last]
    chosen = range(0, len(weeks), 2)[:full]
    assert len(chosen) == full
    for i, day in enumerate(weeks):
        await conn.execute(_ANSWERS, key, at(day), 30 if i in chosen else 10)
    return {"from": str(first), "to": str(last)}, weeks


async def test_the_trend_is_monthly_when_most_weeks_are_too_thin_and_the_page_agrees(
        client: Client, admin: Headers, conn: Any) -> None:
    cat = await catalogue(conn)
    # Five weeks of 13 or 14 reach min_n, all three months do: weeks left most of the chart blank.
    period, weeks = await _quarter(conn, "support-call", full=5)
    assert len(weeks) in (13, 14)
    r = await client.get("/api/v1/touchpoints/support-call/report", headers=admin, params=period)
    assert r.status_code == 200, r.text
    report = r.json()
    assert sum(p["value"] is not None for p in report["weekly"]) == 5
    assert report["trend_bucket"] == "month" and len(report["trend"]) == 3
    assert all(p["value"] is not None for p in report["trend"])
    page = await client.get(f"/reports/owners/{cat.owners['support']}", headers=admin, params=period)
    assert page.status_code == 200, page.text
    card = page.text.split('id="tp-support-call"')[1].split("</section>")[0]
    assert 'aria-label="Monthly CSAT of Support call"' in card and "Monthly (fewer than half" in card
    owner = await client.get(f"/api/v1/owners/{cat.owners['support']}/report", headers=admin, params=period)
    assert owner.json()["touchpoints"][0]["trend_bucket"] == "month"


async def test_the_trend_is_weekly_when_half_the_weeks_or_twice_the_months_points_plot(conn: Any) -> None:
    await catalogue(conn)
    # Six weeks: twice as many points as the three months; seven: at least half the weeks.
    for key, full in (("support-call", 6), ("support-chat", 7)):
        period, _ = await _quarter(conn, key, full=full)
        start, end = date.fromisoformat(period["from"]), date.fromisoformat(period["to"])
        report = await service.touchpoint_report(conn, key, start=start, end=end, today=days_ago(0),
                                                 scope=None, min_n=30)
        assert sum(p.value is not None for p in report.weekly) == full
        assert report.trend_bucket is Bucket.WEEK and report.trend == report.weekly, full


async def test_a_period_inside_one_month_keeps_weekly_points_not_one_monthly_one(
        client: Client, admin: Headers, conn: Any) -> None:
    cat = await catalogue(conn)
    # "Last 7 days" from a Tuesday, long past: 40 answers, fewer than min_n in either week.
    tuesday = days_ago(100) - timedelta(days=days_ago(100).weekday() - 1)
    while (tuesday + timedelta(days=6)).month != tuesday.month:
        tuesday -= timedelta(weeks=1)
    await conn.execute(_ANSWERS, "support-call", at(tuesday), 20)
    await conn.execute(_ANSWERS, "support-call", at(tuesday + timedelta(days=6)), 20)
    week = {"from": str(tuesday), "to": str(tuesday + timedelta(days=6))}
    r = await client.get("/api/v1/touchpoints/support-call/report", headers=admin, params=week)
    assert r.status_code == 200, r.text
    # The month's one point would only repeat the period's score (40 answers, enough for it).
    assert r.json()["score"]["insufficient"] is False
    assert r.json()["trend_bucket"] == "week" and len(r.json()["trend"]) == 2
    page = await client.get(f"/reports/owners/{cat.owners['support']}", headers=admin, params=week)
    assert "Too few answers per week to plot a score" in page.text and "partial month" not in page.text


async def test_the_page_reads_the_owner_report_without_touchpoint_verbatims(conn: Any) -> None:
    """The page shows only the owner's verbatims: the report it reads is the full one without
    the touchpoints' verbatims, every number and the owner's quotes the same."""
    cat = await support_story(conn)
    args: dict[str, Any] = {"start": days_ago(29), "end": days_ago(0), "today": days_ago(0),
                            "scope": None, "min_n": 5}
    full = await service.owner_report(conn, cat.owners["support"], **args)
    page = await service.owner_report(conn, cat.owners["support"], **args, touchpoint_quotes=False)
    assert any(i.comments for r in full.touchpoints for i in r.pain_points + r.positive_moments)
    stripped = [msgspec.structs.replace(
        r, pain_points=[msgspec.structs.replace(i, comments=[]) for i in r.pain_points],
        positive_moments=[msgspec.structs.replace(i, comments=[]) for i in r.positive_moments])
        for r in full.touchpoints]
    assert page == msgspec.structs.replace(full, touchpoints=stripped)
    assert page.pain_points[0].comments and page.pain_points == full.pain_points


async def test_share_links_open_one_owner_report_until_they_expire(
        client: Client, admin: Headers, conn: Any, settings: Settings) -> None:
    cat = await support_story(conn)
    support, onboarding = cat.owners["support"], cat.owners["onboarding"]
    r = await client.get(f"/api/v1/owners/{support}/share-link", headers=admin, params={"days": 7})
    assert r.status_code == 200, r.text
    link = r.json()
    url = urlsplit(link["url"])
    assert url.path == f"/reports/owners/{support}"
    token = parse_qs(url.query)["share"][0]
    r = await client.get(f"{url.path}?{url.query}")
    assert r.status_code == 200 and "waiting time" in r.text
    # The same token never opens another owner's report.
    r = await client.get(f"/reports/owners/{onboarding}", params={"share": token})
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]
    r = await client.get(f"/reports/owners/{support}", params={"share": token[:-2] + "AA"})
    assert r.status_code == 404
    r = await client.get(f"/reports/owners/{support}", params={"share": "%%%"})
    assert r.status_code == 404
    expired = sharing.make_token(settings.secret_key, support, int(time.time()) - 1)
    r = await client.get(f"/reports/owners/{support}", params={"share": expired})
    assert r.status_code == 410 and "expired" in r.text and "text/html" in r.headers["content-type"]
    r = await client.get(f"/reports/owners/{support}")
    assert r.status_code == 401 and "text/html" in r.headers["content-type"]
    # Says what the number is, as the other error pages do ("Error 404"), not a bare "401".
    assert "private" in r.text and '<p class="muted">Error 401</p>' in r.text
    r = await client.get(f"/reports/owners/{support}", headers={"Authorization": "Bearer tp_nope"})
    assert r.status_code == 401 and "text/html" in r.headers["content-type"]
    for days in ("0", "366", "x"):
        r = await client.get(f"/api/v1/owners/{support}/share-link", headers=admin,
                             params={"days": days})
        assert r.status_code in (400, 422), days
    r = await client.get(f"/api/v1/owners/{2**40}/share-link", headers=admin)
    assert r.status_code == 404


def _error_card(page: str) -> list[str]:
    """The texts of an error page's card, one per paragraph or heading, unescaped."""
    card = page.split('role="alert">')[1].split("</div>")[0]
    return [html.unescape(re.sub(r"<[^>]+>", "", t)).strip() for t in re.findall(r"<(?:h1|p)[^>]*>(.*?)</", card)]


async def test_a_share_link_that_no_longer_opens_says_what_happened_and_what_to_do(
        client: Client, admin: Headers, conn: Any, settings: Settings) -> None:
    cat = await catalogue(conn)
    support = cat.owners["support"]
    ended = 1_700_000_000  # 14 Nov 2023, 22:13 UTC
    ask = "Ask the person who shared it with you for a new link."
    for path, token, what in (
            (f"/reports/owners/{support}", sharing.make_token(settings.secret_key, support, ended), "report"),
            (f"/reports/journeys/{cat.journey}", sharing.make_token(
                settings.secret_key, cat.journey, ended, sharing.JOURNEY_PURPOSE), "journey map")):
        r = await client.get(path, params={"share": token})
        # Was "This share link has expired ... Ask the report's owner or an admin": which owner?
        assert r.status_code == 410 and "text/html" in r.headers["content-type"], r.text
        assert _error_card(r.text) == [
            f"This {what} link has expired",
            f"Share links open a {what} for a limited time; this one worked until 14 Nov 2023, 22:13 UTC.",
            ask, "Error 410"]
        assert f"<title>This {what} link has expired · " in r.text
    # A revoked link and a damaged one get one page, byte for byte (nobody learns that a link
    # existed), which names both causes and says what to do, as a 404.
    link = urlsplit((await client.get(f"/api/v1/owners/{support}/share-link", headers=admin)).json()["url"])
    assert (await client.post(f"/api/v1/owners/{support}/share-links/revoke", headers=admin)).status_code == 200
    revoked = await client.get(f"{link.path}?{link.query}")
    damaged = await client.get(f"/reports/owners/{support}", params={"share": "A" * 54})
    assert (revoked.status_code, revoked.text) == (damaged.status_code, damaged.text)
    # So does a token no link can have: one far too long was a bare 422 page, "Invalid input".
    for odd in ("A" * 201, "A" * 5000, "a\x00b", "A" * 54 + "\x00"):
        r = await client.get(f"/reports/owners/{support}", params={"share": odd})
        assert (r.status_code, r.text) == (damaged.status_code, damaged.text), odd
    assert revoked.status_code == 404 and _error_card(revoked.text) == [
        "This report link does not open anything",
        "Part of it may be missing, or it may have been withdrawn: links stop working when whoever looks "
        "after the report closes them.", ask, "Error 404"]
    r = await client.get(f"/reports/journeys/{cat.journey}", params={"share": "A" * 54})
    assert r.status_code == 404 and _error_card(r.text)[0] == "This journey map link does not open anything"


def _period_nav(page: str) -> tuple[str, list[tuple[str, bool, str]]]:
    """The period switcher of a report page: its HTML, and each link's href, current and label."""
    nav = page.split('<nav class="periods noprint"')[1].split("</nav>")[0]
    links = re.findall(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>', nav)
    return nav, [(html.unescape(href), bool(current), label) for href, current, label in links]


async def test_report_pages_switch_period_by_link_or_form_and_keep_the_share_link(
        client: Client, admin: Headers, conn: Any) -> None:
    cat = await support_story(conn)
    support = cat.owners["support"]
    r = await client.get(f"/api/v1/owners/{support}/share-link", headers=admin)
    path = urlsplit(r.json()["url"]).path
    token = parse_qs(urlsplit(r.json()["url"]).query)["share"][0]
    r = await client.get(path, params={"share": token})
    assert r.status_code == 200, r.text
    nav, links = _period_nav(r.text)
    assert [label for _, _, label in links] == [
        "Last 7 days", "Last 30 days", "Last 90 days", "Last 365 days", "Last week", "Last month"]
    assert [label for _, current, label in links if current] == ["Last 90 days"]  # the default
    today = days_ago(0)
    spans = {}
    for href, _, label in links:
        query = parse_qs(urlsplit(href).query)
        assert urlsplit(href).path == path and query["share"] == [token] and "owner" not in query
        start, end = date.fromisoformat(query["from"][0]), date.fromisoformat(query["to"][0])
        spans[label] = (start, end)
        page = await client.get(href)  # the share token alone opens every period
        assert page.status_code == 200, label
        assert f"{start:%d %b %Y} – {end:%d %b %Y}" in page.text
        assert [lab for _, current, lab in _period_nav(page.text)[1] if current] == [label]
    assert spans["Last 7 days"] == (today - timedelta(days=6), today)
    assert spans["Last 365 days"] == (today - timedelta(days=364), today)
    week = spans["Last week"]
    assert week[0].weekday() == 0 and week[1] - week[0] == timedelta(days=6) and week[1] < today
    assert today - week[1] <= timedelta(days=7)
    month = spans["Last month"]
    assert month[0].day == 1 and (month[1] + timedelta(days=1)).day == 1
    assert month[1] + timedelta(days=1) == today.replace(day=1)
    # Any other period: the form sends from and to with the token; no preset is then current.
    assert f'<form method="get" action="{path}">' in nav
    assert f'<input type="hidden" name="share" value="{token}">' in nav
    custom = {"share": token, "from": str(days_ago(10)), "to": str(days_ago(3))}
    r = await client.get(path, params=custom)
    assert r.status_code == 200
    nav, links = _period_nav(r.text)
    assert not any(current for _, current, _ in links)
    assert f'name="from" value="{days_ago(10)}"' in nav and f'name="to" value="{days_ago(3)}"' in nav
    # The journey map opened from the owner's link keeps the owner and the token too.
    r = await client.get(f"/reports/journeys/{cat.journey}", params={"owner": support, "share": token})
    assert r.status_code == 200, r.text
    nav, links = _period_nav(r.text)
    assert f'<input type="hidden" name="owner" value="{support}">' in nav
    for href, _, label in links:
        assert parse_qs(urlsplit(href).query)["owner"] == [str(support)], label
        assert (await client.get(href)).status_code == 200, label
    # With an API key, the links carry no token.
    r = await client.get(path, headers=admin)
    nav, links = _period_nav(r.text)
    assert 'type="hidden"' not in nav and all("share=" not in href for href, _, _ in links)


async def test_admins_get_share_links_to_a_whole_journey_map(
        client: Client, admin: Headers, conn: Any, make_key: MakeKey) -> None:
    cat = await support_story(conn)
    r = await client.get(f"/api/v1/journeys/{cat.journey}/share-link", headers=admin, params={"days": 3})
    assert r.status_code == 200, r.text
    url = urlsplit(r.json()["url"])
    assert url.path == f"/reports/journeys/{cat.journey}"
    r = await client.get(f"{url.path}?{url.query}")
    assert r.status_code == 200 and "Support call" in r.text and "First login" in r.text
    owner = bearer(await make_key("owner", cat.owners["support"]))
    assert (await client.get(f"/api/v1/journeys/{cat.journey}/share-link", headers=owner)).status_code == 403
    assert (await client.get(f"/api/v1/journeys/{2**40}/share-link", headers=admin)).status_code == 404


async def test_owner_keys_open_only_their_own_owner_page(
        client: Client, conn: Any, make_key: MakeKey) -> None:
    cat = await support_story(conn)
    key = bearer(await make_key("owner", cat.owners["support"]))
    assert (await client.get(f"/reports/owners/{cat.owners['support']}", headers=key)).status_code == 200
    r = await client.get(f"/reports/owners/{cat.owners['onboarding']}", headers=key)
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]
    for bad in ("/reports/owners/0", f"/reports/owners/{2**70}", "/reports/owners/abc",
                f"/reports/owners/{cat.owners['support']}?from=2020-01-01&to=2026-01-01",
                f"/reports/owners/{cat.owners['support']}?to=junk"):
        r = await client.get(bad, headers=key)
        assert 400 <= r.status_code < 500 and "text/html" in r.headers["content-type"], bad


async def test_journey_map_shows_stages_emotion_curve_worst_and_best(
        client: Client, admin: Headers, conn: Any, make_key: MakeKey, settings: Settings) -> None:
    cat = await support_story(conn)
    r = await client.get(f"/api/v1/journeys/{cat.journey}/map", headers=admin, params=_period())
    assert r.status_code == 200, r.text
    journey = r.json()
    names = [s["name"] for s in journey["stages"]]
    assert names[:4] == ["Acquisition", "Selection", "Sale", "Onboarding"]
    solution = journey["stages"][names.index("Solution")]
    assert [t["key"] for t in solution["touchpoints"]] == ["support-call", "support-chat"]
    assert solution["n"] == 85 and abs(solution["normalised"] - (20 + 35) / 85) < 1e-9
    # share_high is a percent on the stage as in each touchpoint's score; normalised, 0 to 1.
    assert abs(solution["share_high"] - 100 * (20 + 35) / 85) < 1e-9
    for card in solution["touchpoints"]:
        assert abs(card["score"]["share_high"] - 100 * card["normalised"]) < 1e-9, card
    assert journey["worst"] == "support-call" and journey["best"] == "support-chat"
    r = await client.get(f"/reports/journeys/{cat.journey}", headers=admin)
    assert r.status_code == 200 and "<svg" in r.text and "<script" not in r.text
    assert "worst: Support call" in r.text and "best: Support chat" in r.text  # names, not keys
    # 18 days: only support-call has 30 answers; one rated touchpoint is neither best nor worst.
    days = {"from": str(days_ago(17)), "to": str(days_ago(0))}
    r = await client.get(f"/api/v1/journeys/{cat.journey}/map", headers=admin, params=days)
    rated = [t["key"] for s in r.json()["stages"] for t in s["touchpoints"] if t["normalised"] is not None]
    assert rated == ["support-call"] and r.json()["worst"] is None and r.json()["best"] is None
    # An owner's share link shows that owner's touchpoints only.
    support = cat.owners["support"]
    token = sharing.make_token(settings.secret_key, support, int(time.time()) + 600)
    r = await client.get(f"/reports/journeys/{cat.journey}", params={"owner": support, "share": token})
    assert r.status_code == 200 and "Support call" in r.text and "First login" not in r.text
    r = await client.get(f"/reports/journeys/{cat.journey}",
                         params={"owner": cat.owners["onboarding"], "share": token})
    assert r.status_code == 404
    key = bearer(await make_key("owner", cat.owners["onboarding"]))
    r = await client.get(f"/reports/journeys/{cat.journey}", headers=key)
    assert r.status_code == 200 and "First login" in r.text and "Support call" not in r.text
    assert (await client.get(f"/reports/journeys/{cat.journey}")).status_code == 401
    assert (await client.get("/reports/journeys/999999", headers=admin)).status_code == 404


async def test_the_owner_parameter_narrows_the_journey_map_with_a_key_as_with_a_share_link(
        client: Client, admin: Headers, conn: Any, make_key: MakeKey, settings: Settings) -> None:
    # `owner` was read only beside a share token: with a key, ?owner= was dropped without a word
    # and the whole map shown.
    cat = await support_story(conn)
    support, onboarding = cat.owners["support"], cat.owners["onboarding"]
    path, api = f"/reports/journeys/{cat.journey}", f"/api/v1/journeys/{cat.journey}/map"
    r = await client.get(api, headers=admin, params={"owner": support})
    assert r.status_code == 200, r.text
    assert [(s["name"], [t["key"] for t in s["touchpoints"]]) for s in r.json()["stages"]] == [
        ("Solution", ["support-call", "support-chat"])]
    page = await client.get(path, headers=admin, params={"owner": support, **_period()})
    assert page.status_code == 200, page.text
    assert "Support call" in page.text and "First login" not in page.text
    assert "showing one owner's touchpoints only" in page.text
    back = html.unescape(re.findall(r'href="([^"]+)">back to the owner report', page.text)[0])
    assert urlsplit(back).path == f"/reports/owners/{support}" and "share" not in back
    nav, links = _period_nav(page.text)
    assert f'<input type="hidden" name="owner" value="{support}">' in nav
    assert all(parse_qs(urlsplit(href).query)["owner"] == [str(support)] for href, _, _ in links)
    # The very map the owner's share link shows, cards and curve alike.
    token = sharing.make_token(settings.secret_key, support, int(time.time()) + 600)
    shared = await client.get(path, params={"owner": support, "share": token, **_period()})
    assert shared.status_code == 200, shared.text

    def _drawn(text: str) -> str:  # the curve and the stages: what follows the period switcher
        return text.split("<h2>Emotion curve</h2>")[1].split("</main>")[0]

    assert _drawn(page.text) == _drawn(shared.text) and _drawn(page.text).count('<div class="tp') == 2
    # The owner report's map links keep the owner for a key too.
    report = await client.get(f"/reports/owners/{support}", headers=admin)
    assert f'href="/reports/journeys/{cat.journey}?owner={support}"' in report.text
    # An owner that does not exist is a 404 naming it; one holding nothing here yet, an empty map.
    r = await client.get(api, headers=admin, params={"owner": 999999})
    assert r.status_code == 404 and r.json()["errors"] == [
        {"field": "owner", "message": "owner 999999 does not exist"}], r.text
    assert (await client.get(path, headers=admin, params={"owner": 999999})).status_code == 404
    empty = (await client.post("/api/v1/owners", json={"name": "New team"}, headers=admin)).json()["id"]
    r = await client.get(api, headers=admin, params={"owner": empty})
    assert r.status_code == 200 and r.json()["stages"] == [] and r.json()["worst"] is None, r.text
    # An owner key: its own id changes nothing; another owner's is exactly an unknown owner.
    key = bearer(await make_key("owner", onboarding))
    mine = await client.get(api, headers=key, params={"owner": onboarding})
    assert mine.status_code == 200 and mine.json() == (await client.get(api, headers=key)).json()
    for where in (api, path):
        got, nowhere = [await client.get(where, headers=key, params={"owner": value})
                        for value in (support, 999999)]
        assert got.status_code == nowhere.status_code == 404, (where, got.text)
        assert got.text == nowhere.text.replace("999999", str(support)), where
        assert "Support call" not in got.text


async def test_an_owner_in_two_journeys_gets_a_map_link_named_after_each(
        client: Client, admin: Headers, conn: Any, settings: Settings) -> None:
    # Two links alike, "Journey map · Journey map", left the reader to guess which was which.
    cat = await support_story(conn)
    support = cat.owners["support"]
    returns = (await client.post("/api/v1/journeys", json={"name": "Returns & <refunds>", "stages": ["Request"]},
                                 headers=admin)).json()
    r = await client.post("/api/v1/touchpoints", headers=admin, json={
        "key": "return-desk", "name": "Return desk", "stage_id": returns["stages"][0]["id"],
        "channel": "web", "owner_id": support, "kind": "csat"})
    assert r.status_code == 201, r.text
    token = sharing.make_token(settings.secret_key, support, int(time.time()) + 600)
    for headers, params, query in (
            (admin, {}, f"owner={support}"),
            ({}, {"share": token, **_period()},
             f"owner={support}&amp;share={token}&amp;from={_period()['from']}&amp;to={_period()['to']}")):
        page = await client.get(f"/reports/owners/{support}", headers=headers, params=params)
        assert page.status_code == 200, page.text
        links = re.findall(r'<a href="/reports/journeys/(\d+)\?([^"]*)">([^<]*(?:<bdi>[^<]*</bdi>)?)</a>', page.text)
        # By name, each keeping the owner and the access as before.
        assert links == [
            (str(returns["id"]), query, "Journey map: <bdi>Returns &amp; &lt;refunds&gt;</bdi>"),
            (str(cat.journey), query, "Journey map: <bdi>Shop</bdi>")], links


def _everyone_link(page: str) -> str | None:
    """Where the map's "Show every owner's touchpoints" link leads, if it has one."""
    found = re.findall(r'<a class="noprint" href="([^"]+)">Show every owner\'s touchpoints</a>', page)
    assert len(found) == page.count("every owner"), page
    return html.unescape(found[0]) if found else None


async def test_a_map_narrowed_to_one_owner_links_to_the_whole_map_only_for_who_may_see_it(
        client: Client, admin: Headers, conn: Any, make_key: MakeKey, settings: Settings) -> None:
    cat = await support_story(conn)
    support = cat.owners["support"]
    path = f"/reports/journeys/{cat.journey}"
    # An admin key: the link keeps the period, and opens the whole map.
    page = await client.get(path, headers=admin, params={"owner": support, **_period()})
    assert page.status_code == 200, page.text
    whole = _everyone_link(page.text)
    assert whole is not None and urlsplit(whole).path == path
    assert parse_qs(urlsplit(whole).query) == {k: [v] for k, v in _period().items()}
    opened = await client.get(whole, headers=admin)
    assert opened.status_code == 200 and "First login" in opened.text and "Support call" in opened.text
    assert _everyone_link(opened.text) is None  # the whole map already
    # The journey's share link narrowed to one owner (it used to be refused as a damaged owner's
    # link): the link keeps the token, and there is no way to an owner report it cannot open.
    token = sharing.make_token(settings.secret_key, cat.journey, int(time.time()) + 600, sharing.JOURNEY_PURPOSE)
    shared = await client.get(path, params={"owner": support, "share": token})
    assert shared.status_code == 200, shared.text
    assert "First login" not in shared.text and "back to the owner report" not in shared.text
    whole = _everyone_link(shared.text)
    assert whole is not None and parse_qs(urlsplit(whole).query) == {"share": [token]}
    opened = await client.get(whole)
    assert opened.status_code == 200 and "First login" in opened.text and "Support call" in opened.text
    # An owner's key or share link sees one owner only: no such link, with `owner` or without.
    key = bearer(await make_key("owner", support))
    owner_token = sharing.make_token(settings.secret_key, support, int(time.time()) + 600)
    viewers: list[tuple[dict[str, str | int], Headers]] = [
        ({"owner": support}, key), ({}, key), ({"owner": support, "share": owner_token}, {})]
    for params, headers in viewers:
        page = await client.get(path, headers=headers, params=params)
        assert page.status_code == 200 and "Support call" in page.text, (params, page.text)
        assert _everyone_link(page.text) is None, params
    # A journey's link does not open another journey's map, narrowed or not.
    other = (await client.post("/api/v1/journeys", json={"name": "Other"}, headers=admin)).json()["id"]
    for narrowed in ({}, {"owner": support}):
        r = await client.get(f"/reports/journeys/{other}", params={"share": token, **narrowed})
        assert r.status_code == 404, narrowed


def _map_card(page: str, name: str) -> str:
    """The HTML of the journey map's card of the touchpoint called `name`."""
    return next(card for card in page.split('<div class="tp')[1:] if f"<strong><bdi>{name}</bdi></strong>" in card)


async def test_journey_map_cards_show_target_and_status_as_the_owner_report_judges_them(
        client: Client, admin: Headers, conn: Any) -> None:
    cat = await support_story(conn)
    # NPS 20 from 40 answers (16 promoters, 8 detractors): the interval spans the target of 30.
    for i in range(40):
        await answer(conn, "relationship-nps", 10 if i < 16 else 0 if i < 24 else 8,
                     when=at(days_ago(i % 20)))
    r = await client.get(f"/api/v1/journeys/{cat.journey}/map", headers=admin, params=_period())
    assert r.status_code == 200, r.text
    cards = {t["key"]: t for s in r.json()["stages"] for t in s["touchpoints"]}
    assert {key: (c["target"], c["status"]) for key, c in cards.items()} == {
        "support-call": (85.0, "missed"), "support-chat": (85.0, "met"),
        "first-login": (5.5, "insufficient"), "relationship-nps": (30.0, "undecided")}
    # The owner report's judgement, not a second one.
    for owner in cat.owners.values():
        report = (await client.get(f"/api/v1/owners/{owner}/report", headers=admin,
                                   params=_period())).json()
        for tp in report["touchpoints"]:
            card = cards[tp["touchpoint"]["key"]]
            assert (card["target"], card["status"]) == (tp["target"], tp["status"])
    r = await client.get(f"/reports/journeys/{cat.journey}", headers=admin, params=_period())
    assert r.status_code == 200, r.text
    for name, target, badge in (("Support call", "85.0 %", "target missed"),
                                ("Support chat", "85.0 %", "target met"),
                                ("Relationship nps", "30.0", "undecided")):
        card = _map_card(r.text, name)
        assert f"target {target}</span>" in card and f">{badge}</span>" in card, card
    # Too few answers: the score line says so, and no badge says it again.
    card = _map_card(r.text, "First login")
    assert "target 5.50 / 7</span>" in card and "status" not in card, card
    assert "too few answers (n = 1 of 30)" in _text(card), card
    await conn.execute("UPDATE touchpoints SET target = NULL WHERE key = 'support-chat'")
    r = await client.get(f"/api/v1/journeys/{cat.journey}/map", headers=admin, params=_period())
    chat = next(t for s in r.json()["stages"] for t in s["touchpoints"] if t["key"] == "support-chat")
    assert (chat["target"], chat["status"]) == (None, "no_target")
    r = await client.get(f"/reports/journeys/{cat.journey}", headers=admin, params=_period())
    card = _map_card(r.text, "Support chat")
    assert '<span class="muted">no target</span>' in card and "status" not in card, card
    assert "<strong>undecided</strong> when the interval spans the target" in r.text


def test_share_tokens_are_bound_to_owner_and_expiry() -> None:
    secret = "s" * 40
    token = sharing.make_token(secret, 7, 2_000_000_000)
    assert sharing.check_token(secret, 7, token, now=1_999_999_999) == 2_000_000_000
    for owner, tok, now in ((8, token, 0), (7, token + "A", 0), (7, "", 0), (70, token, 0)):
        try:
            sharing.check_token(secret, owner, tok, now=now)
        except NotFound:
            continue
        raise AssertionError((owner, tok))
    try:
        sharing.check_token(secret, 7, token, now=2_000_000_000)
    except sharing.ShareExpired:
        pass
    else:
        raise AssertionError("expired token accepted")


def test_a_share_token_changed_in_any_one_character_is_refused() -> None:
    # The last character carries 2 bits of the MAC and 4 spare ones: a decoder that ignores the
    # spare bits would open the report for 3 of its 63 neighbours (CI caught "...xw" read as "...xx").
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    secret = "s" * 40
    for expires_at in range(2_000_000_000, 2_000_000_040):
        token = sharing.make_token(secret, 7, expires_at)
        assert sharing.check_token(secret, 7, token, now=0) == expires_at
        for i in range(len(token)):
            for c in alphabet.replace(token[i], ""):
                try:
                    sharing.check_token(secret, 7, token[:i] + c + token[i + 1:], now=0)
                except NotFound:
                    continue
                raise AssertionError((token, i, c))



async def test_the_startup_banner_prints_a_demo_owner_report_that_opens_without_a_key(
        client: Client, conn: Any, settings: Settings, database_url: str) -> None:
    from feedback.service.urls import startup_banner

    cat = await support_story(conn)
    banner = await startup_banner(settings, database_url, demo=True)
    line = next(ln for ln in banner.splitlines() if "Demo owner report" in ln)
    url = urlsplit(line.split()[-1])
    assert url.path == f"/reports/owners/{cat.owners['support']}" and "share=" in url.query
    r = await client.get(f"{url.path}?{url.query}")
    assert r.status_code == 200 and "Support call" in r.text


async def test_a_touchpoint_whose_kind_changed_reports_only_answers_of_its_current_kind(
        client: Client, admin: Headers, conn: Any) -> None:
    cat = await catalogue(conn)
    # 30 CSAT answers, all low with a refund complaint, then the touchpoint becomes NPS.
    for i in range(30):
        await answer(conn, "support-chat", 1, when=at(days_ago(i % 10)), comment="refund refused",
                     themes=["refund"], polarity=-0.8, label="negative")
    r = await client.patch("/api/v1/touchpoints/support-chat", json={"kind": "nps"}, headers=admin)
    assert r.status_code == 200, r.text
    for i in range(30):
        await answer(conn, "support-chat", 10, when=at(days_ago(i % 10)), comment="lovely staff",
                     themes=["friendly staff"], polarity=0.9, label="positive")
    r = await client.get("/api/v1/touchpoints/support-chat/report", headers=admin, params=_period())
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["score"]["n"] == 30 and report["score"]["value"] == 100.0
    assert report["pain_points"] == [] and report["sentiment"]["n"] == 30
    assert [p["theme"] for p in report["positive_moments"]] == ["friendly staff"]
    assert report["positive_moments"][0]["share"] == 100.0
    r = await client.get(f"/api/v1/owners/{cat.owners['support']}/report", headers=admin,
                         params=_period())
    assert "refund" not in {p["theme"] for p in r.json()["pain_points"]}
    r = await client.get(f"/api/v1/journeys/{cat.journey}/map", headers=admin, params=_period())
    assert r.status_code == 200, r.text
    card = next(t for s in r.json()["stages"] for t in s["touchpoints"] if t["key"] == "support-chat")
    assert card["normalised"] == 1.0 and card["sentiment_n"] == 30


async def test_themes_of_too_few_answers_are_held_back_on_the_page(
        client: Client, admin: Headers, conn: Any) -> None:
    cat = await catalogue(conn)
    for i in range(8):
        await answer(conn, "support-call", 1, when=at(days_ago(i)), comment="refund refused",
                     themes=["refund"], polarity=-0.8, label="negative")
    r = await client.get("/api/v1/touchpoints/support-call/report", headers=admin, params=_period())
    report = r.json()
    assert report["score"]["insufficient"] is True
    assert report["pain_points"] == [] and report["themes_grown"] == []
    r = await client.get(f"/reports/owners/{cat.owners['support']}", headers=admin, params=_period())
    assert r.status_code == 200, r.text
    assert "No themes ranked: too few answers (n = 8 of 30) in this period." in _text(r.text)
    assert "impact +" not in r.text
    assert "No pain points or positive moments: too few answers (n = 8 of 30)." in _text(r.text)
    # Nothing to compare with is not "no significant change".
    assert "No comparison: no touchpoint has 30 answers in both this period and the previous one" in r.text
    assert "changed significantly" not in r.text.split("What changed")[1]
    # The link to the journey map keeps the period asked for.
    period = _period()
    assert f'from={period["from"]}&amp;to={period["to"]}' in r.text


async def test_report_pages_name_what_was_wrong(
        client: Client, admin: Headers, conn: Any, make_key: MakeKey) -> None:
    cat = await catalogue(conn)
    owner = cat.owners["support"]
    r = await client.get(f"/reports/owners/{owner}", headers=admin, params={"from": "x"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "Please check the request" in r.text and "from" in r.text.split("<main>")[1]
    assert "answer" not in r.text.split("<main>")[1]  # no survey wording on a report page
    r = await client.get(f"/reports/owners/{owner}", headers=bearer(await make_key("ingest")))
    assert r.status_code == 403 and "Not allowed" in r.text
    r = await client.get(f"/reports/owners/{owner}")
    assert r.status_code == 401 and "share link" in r.text


async def test_the_page_head_promises_a_comparison_only_where_one_is_made(
        client: Client, admin: Headers, conn: Any) -> None:
    cat = await support_story(conn)

    def head(page: str) -> str:
        return page.split("</h1>")[1].split("</p>")[0]

    # Support call compares with the month before; support chat has no earlier answers.
    r = await client.get(f"/reports/owners/{cat.owners['support']}", headers=admin, params=_period())
    before = f"{days_ago(59):%d %b %Y}&nbsp;– {days_ago(30):%d %b %Y}"
    assert f"compared with {before} where both periods have enough answers" in head(r.text)
    assert f"Change: against {before}." in r.text
    # Onboarding has too few answers before (and now) for any comparison: none is promised.
    r = await client.get(f"/reports/owners/{cat.owners['onboarding']}", headers=admin, params=_period())
    assert r.status_code == 200, r.text
    assert "compared with" not in r.text and "Change: against" not in r.text
    assert f"no comparison: no touchpoint has 30 answers in both this period and {before}" in head(r.text)
    assert "Change: none, as no touchpoint has 30 answers in both periods." in r.text
    # Every touchpoint compared: the head says so plainly.
    for i in range(30):
        await answer(conn, "support-chat", 5, when=at(days_ago(40 + i % 20)))
    r = await client.get(f"/reports/owners/{cat.owners['support']}", headers=admin, params=_period())
    assert head(r.text).split(" · ")[1].strip() == f"compared with {before}", head(r.text)


def _text(page: str) -> str:
    """A page's words as read: no tags, entities decoded, every run of spaces one space."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())


async def test_a_mean_sentiment_of_fewer_than_min_n_comments_is_held_back_everywhere(
        client: Client, admin: Headers, conn: Any) -> None:
    # A stage's "sentiment −1.00 (n = 1)", plotted on the curve, and an owner's "mean sentiment
    # +0.05" from 2 comments: scores of so few answers are held back, and now so are these means.
    cat = await catalogue(conn)
    await answer(conn, "first-login", 2, when=at(days_ago(1)), comment="could not log in", polarity=-1.0,
                 label="negative", themes=["login"])
    await answer(conn, "first-login", 6, when=at(days_ago(2)), comment="fine", polarity=1.0, label="positive")
    for i in range(30):  # a stage with 30 comments keeps its mean
        await answer(conn, "support-chat", 5, when=at(days_ago(i % 20)), comment="quick", polarity=0.4,
                     label="positive")
    journey = (await client.get(f"/api/v1/journeys/{cat.journey}/map", headers=admin, params=_period())).json()
    stages = {s["name"]: s for s in journey["stages"]}
    assert (stages["Onboarding"]["mean_sentiment"], stages["Onboarding"]["sentiment_n"]) == (None, 2)
    login = stages["Onboarding"]["touchpoints"][0]
    assert (login["mean_sentiment"], login["sentiment_n"]) == (None, 2)
    assert stages["Solution"]["sentiment_n"] == 30 and abs(stages["Solution"]["mean_sentiment"] - 0.4) < 1e-6
    page = html.unescape((await client.get(f"/reports/journeys/{cat.journey}", headers=admin,
                                           params=_period())).text)
    card = _map_card(page, "First login")
    assert 'sentiment too few comments <span class="nowrap">(n\xa0=\xa02 of 30)</span></span>' in card, card
    assert "<dt>sentiment</dt><dd><span class=\"few\">too few</span></dd>" in page
    assert "<dt>sentiment</dt><dd>+0.40</dd>" in page and "shown from 30 comments" in page
    # The curve plots the one stage with 30 comments, not the two-comment one.
    curve = page.split("<svg")[1].split("</svg>")[0]
    assert curve.count('fill="#9333ea"/>') == 1, curve
    # The owner report: JSON null with the count, and the page says why there is no number.
    report = (await client.get(f"/api/v1/owners/{cat.owners['onboarding']}/report", headers=admin,
                               params=_period())).json()
    summary = next(t for t in report["touchpoints"] if t["touchpoint"]["key"] == "first-login")["sentiment"]
    assert (summary["n"], summary["mean"], summary["ci_low"], summary["ci_high"]) == (2, None, None, None)
    page = html.unescape((await client.get(f"/reports/owners/{cat.owners['onboarding']}", headers=admin,
                                           params=_period())).text)
    assert "Comments: 2 · mean sentiment: too few comments (n = 2 of 30) · 1 positive, 1 negative" in _text(page)
    page = html.unescape((await client.get(f"/reports/owners/{cat.owners['support']}", headers=admin,
                                           params=_period())).text)
    assert "Comments: 30 · mean sentiment +0.40 · 30 positive" in _text(page)


async def test_a_themes_mean_sentiment_needs_min_n_comments(client: Client, admin: Headers, conn: Any) -> None:
    cat = await support_story(conn)
    # "waiting time": 24 comments, held back; "friendly staff" grows to 30, shown.
    for i in range(10):
        await answer(conn, "support-call", 5, when=at(days_ago(i)), comment=f"friendly again ({i})",
                     themes=["friendly staff"], polarity=0.7, label="positive")
    report = (await client.get(f"/api/v1/owners/{cat.owners['support']}/report", headers=admin,
                               params=_period())).json()
    pain = report["pain_points"][0]
    delight = next(t for t in report["positive_moments"] if t["theme"] == "friendly staff")
    assert (pain["theme"], pain["mean_sentiment"], pain["sentiment_n"]) == ("waiting time", None, 24)
    assert delight["sentiment_n"] == 30 and abs(delight["mean_sentiment"] - 0.7) < 1e-6
    page = _text((await client.get(f"/reports/owners/{cat.owners['support']}", headers=admin,
                                   params=_period())).text)
    assert "mean sentiment: too few comments (n = 24 of 30)" in page and "mean sentiment +0.70" in page


async def test_every_page_calls_a_withheld_number_too_few_answers_with_its_count(
        client: Client, admin: Headers, conn: Any) -> None:
    # "too few answers" (table, pill), "insufficient data" (card), "previous period insufficient"
    # and "Held back" (themes) were one state under four names.
    cat = await support_story(conn)
    onboarding = cat.owners["onboarding"]
    page = _text((await client.get(f"/reports/owners/{onboarding}", headers=admin, params=_period())).text
                 .split("<main>")[1])
    few = "too few answers (n = 1 of 30)"
    assert page.count(few) == 5, page  # the row, the card, its pain points, the two theme lists
    assert f"First login {few} 5.50 / 7 too few answers" in page  # the row, then its status pill
    assert "previous period: too few answers (n = 0 of 30)" in page
    assert f"No pain points or positive moments: {few}." in page
    assert f"No themes ranked: {few} in this period." in page
    for old in ("insufficient", "Insufficient", "Held back", "need 30 answers"):
        assert old not in page, (old, page)
    journey = _text((await client.get(f"/reports/journeys/{cat.journey}", headers=admin, params=_period())).text
                    .split("<main>")[1])
    assert f"First loginCES · Onboarding {few} target 5.50 / 7" in journey and "insufficient" not in journey, journey
    # The JSON keeps its status.
    report = (await client.get(f"/api/v1/owners/{onboarding}/report", headers=admin, params=_period())).json()
    login = next(t for t in report["touchpoints"] if t["touchpoint"]["key"] == "first-login")
    assert login["status"] == "insufficient" and login["score"]["insufficient"] is True


async def test_report_pages_write_minus_signs_and_thousands_separators(
        client: Client, admin: Headers, conn: Any) -> None:
    cat = await support_story(conn)
    # 1,200 answers of a relationship NPS far below zero, with sour comments.
    await conn.executemany(INSERT, [
        ("relationship-nps", uuid.uuid4(), 0, 10, 0 if i % 4 else 10, None, None, -0.5 if i % 2 else None,
         "negative" if i % 2 else None, [], 1, at(days_ago(i % 25))) for i in range(1200)])
    r = await client.get(f"/reports/owners/{cat.owners['onboarding']}", headers=admin, params=_period())
    assert r.status_code == 200, r.text
    page = html.unescape(r.text)
    # Typeset for people: U+2212, not a hyphen, before a number; 1,200, not 1200.
    assert "−50.0" in page and "n = 1,200" in page and "mean sentiment −0.50" in page
    assert not re.search(r"(?<![\w-])-\d", page.split("<main>")[1]), re.findall(r".{40}(?<![\w-])-\d.{10}", page)
    assert "1200" not in page
    r = await client.get(f"/reports/owners/{cat.owners['support']}", headers=admin, params=_period())
    assert "change −50.0 pp" in r.text and "90.0 % → 40.0 % (−50.0 pp" in r.text
    r = await client.get(f"/reports/journeys/{cat.journey}", headers=admin, params=_period())
    page = html.unescape(r.text).split("<main>")[1]
    assert "n = 1,200" in page and "sentiment −0.50" in page
    assert not re.search(r"(?<![\w-])-\d", page), re.findall(r".{40}(?<![\w-])-\d.{10}", page)
    # The JSON stays for programs: plain numbers.
    report = (await client.get(f"/api/v1/owners/{cat.owners['onboarding']}/report", headers=admin,
                               params=_period())).json()
    nps = next(t for t in report["touchpoints"] if t["touchpoint"]["key"] == "relationship-nps")
    assert nps["score"]["n"] == 1200 and nps["score"]["value"] == -50.0


async def test_pages_name_the_bands_in_each_kinds_own_words(
        client: Client, admin: Headers, conn: Any) -> None:
    # "high band 40.0 % · low band 48.0 %" on a CSAT card, where the API's category says
    # satisfied and dissatisfied (NPS: promoters, detractors; CES: easy, difficult).
    cat = await support_story(conn)
    for i in range(40):
        await answer(conn, "relationship-nps", 10 if i < 16 else 0 if i < 24 else 8, when=at(days_ago(i % 20)))
        await answer(conn, "first-login", 7 if i < 30 else 2, when=at(days_ago(i % 20)))
    support = _text((await client.get(f"/reports/owners/{cat.owners['support']}", headers=admin,
                                      params=_period())).text.split("<main>")[1])
    assert "Satisfied 40.0 % · dissatisfied 48.0 % · mean answer" in support, support
    assert "(in 100.0 % of dissatisfied and 0.0 % of satisfied answers)" in support
    assert ("impact = share of dissatisfied answers mentioning the theme − share of satisfied answers "
            "mentioning it") in support
    assert "mentioned more among satisfied answers than among dissatisfied ones" in support
    assert "in 100.0 % of dissatisfied and 0.0 % of satisfied answers ·" in support  # a theme's facts
    onboarding = _text((await client.get(f"/reports/owners/{cat.owners['onboarding']}", headers=admin,
                                         params=_period())).text.split("<main>")[1])
    assert "Promoters 40.0 % · detractors 20.0 %" in onboarding and "Easy 75.6 % · difficult 24.4 %" in onboarding, onboarding
    # An owner of two kinds: its shares are of both kinds' answers, in both kinds' words.
    assert "mentioned more among promoter/easy answers than among detractor/difficult ones" in onboarding
    page = (await client.get(f"/reports/journeys/{cat.journey}", headers=admin, params=_period())).text
    journey = _text(page.split("<main>")[1])
    assert "Per stage: share of promoter/satisfied/easy answers from 0 to 1" in journey
    assert "share of promoter/satisfied/easy answers among" in journey
    assert "<dt>satisfied</dt>" in page and "<dt>easy</dt>" in page and "<dt>promoters</dt>" in page
    # Five stages without a touchpoint have no kind to name a band in: their answers (0) alone.
    assert page.count("<dt>") == 5 * 1 + 3 * 3, page
    assert "40.0 % promoters" in journey and "75.6 % easy" in journey
    assert "— share of promoter/satisfied/easy answers</text>" in page
    for words in ("high band", "low band", "high-band", "low-band", "of low and", "of high answers"):
        assert words not in support and words not in onboarding and words not in journey, words
    # The JSON keeps its field names.
    report = (await client.get(f"/api/v1/owners/{cat.owners['support']}/report", headers=admin,
                               params=_period())).json()
    assert {"share_high", "share_low"} <= report["touchpoints"][0]["score"].keys()
    assert {"share_of_low", "share_of_high"} <= report["pain_points"][0].keys()


async def test_a_value_that_rounds_to_zero_is_written_without_a_sign(
        client: Client, admin: Headers, conn: Any) -> None:
    cat = await support_story(conn)
    # Comments a hair below neutral: their mean rounds to zero, which has no sign.
    await conn.executemany(INSERT, [
        ("relationship-nps", uuid.uuid4(), 0, 10, 9, None, None, -0.001, "neutral", [], 1,
         at(days_ago(i % 25))) for i in range(40)])
    r = await client.get(f"/reports/owners/{cat.owners['onboarding']}", headers=admin, params=_period())
    page = html.unescape(r.text)
    assert "mean sentiment 0.00" in page and "−0.00" not in page and "+0.00" not in page


async def test_the_journey_map_says_high_band_answers_for_stages_and_cards(
        client: Client, admin: Headers, conn: Any) -> None:
    cat = await support_story(conn)
    r = await client.get(f"/reports/journeys/{cat.journey}", headers=admin, params=_period())
    solution = r.text.split("<bdi>Solution</bdi></h3>")[1].split('<div class="tp')[0]
    # The stage's share is a figure over its label (test_browser.py: on one line with the others).
    assert "<dt>satisfied</dt><dd>64.7 %</dd>" in solution, solution
    # The same figure as the JSON's share_high, a percent too.
    stages = (await client.get(f"/api/v1/journeys/{cat.journey}/map", headers=admin, params=_period())).json()
    share = next(s["share_high"] for s in stages["stages"] if s["name"] == "Solution")
    assert f"{share:.1f}" == "64.7"
    assert "% high<" not in r.text
