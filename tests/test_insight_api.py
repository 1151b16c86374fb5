"""Scores and responses over HTTP: definitions, intervals, periods, filters, paging, CSV, scope."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from feedback.insight import controllers
from feedback.insight.statistics import compare
from tests.conftest import MakeKey, bearer
from tests.test_insight_data import answer, answers, at, catalogue, days_ago

Client = httpx.AsyncClient
Headers = dict[str, str]


async def test_nps_scores_carry_definition_interval_previous_period_and_status(
        client: Client, admin: Headers, conn: Any) -> None:
    await catalogue(conn)
    # Previous 30 days: 40 answers, NPS 0; current 30 days: 60 answers, NPS +50.
    now = [10] * 36 + [8] * 18 + [3] * 6
    before = [10] * 10 + [8] * 20 + [2] * 10
    await answers(conn, "relationship-nps", now, day=days_ago(3))
    await answers(conn, "relationship-nps", before, day=days_ago(40))
    r = await client.get("/api/v1/scores", headers=admin, params={
        "touchpoint": "relationship-nps", "from": str(days_ago(29)), "to": str(days_ago(0)),
        "bucket": "week"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["definition"].startswith("NPS = % promoters (9–10) − % detractors (0–6)")
    assert body["kind"] == "nps" and body["total"]["n"] == 60
    assert abs(body["total"]["value"] - 50.0) < 1e-9
    assert body["total"]["ci_low"] < 50 < body["total"]["ci_high"]
    assert body["previous"]["n"] == 40 and abs(body["previous"]["value"]) < 1e-9
    expected = compare("nps", {10: 36, 8: 18, 3: 6}, {10: 10, 8: 20, 2: 10})
    assert abs(body["delta"] - 50.0) < 1e-9 and body["significant"] is expected.significant is True
    assert body["target"] == 30.0
    assert body["status"] in ("met", "undecided")
    assert sum(p["n"] for p in body["series"]) == 60
    # The fields a point always had, and what it covers (partial buckets marked).
    assert all(set(p) == {"start", "n", "value", "ci_low", "ci_high", "from", "to", "days",
                          "bucket_days", "ongoing", "partial"} for p in body["series"])


async def test_series_marks_the_buckets_the_period_cuts_short(
        client: Client, admin: Headers, conn: Any) -> None:
    await catalogue(conn)
    today = days_ago(0)
    monday = today - timedelta(days=today.weekday() + 35)
    for week in range(3):
        await answers(conn, "support-call", [5, 4, 2], day=monday + timedelta(days=7 * week + 1))

    async def series(**period: date) -> list[dict[str, Any]]:
        r = await client.get("/api/v1/scores", headers=admin, params={
            "touchpoint": "support-call", "bucket": "week",
            **{k: str(v) for k, v in period.items()}})
        assert r.status_code == 200, r.text
        points: list[dict[str, Any]] = r.json()["series"]
        return points

    def day(n: int) -> str:
        return str(monday + timedelta(days=n))

    # To the Wednesday of the third week: that week has 3 of its 7 days.
    got = await series(**{"from": monday, "to": monday + timedelta(days=16)})
    assert [(p["start"], p["from"], p["to"], p["days"], p["bucket_days"], p["ongoing"], p["partial"])
            for p in got] == [(day(0), day(0), day(6), 7, 7, False, False),
                              (day(7), day(7), day(13), 7, 7, False, False),
                              (day(14), day(14), day(16), 3, 7, False, True)]
    assert [p["n"] for p in got] == [3, 3, 3]
    # Whole weeks: nothing marked.
    got = await series(**{"from": monday, "to": monday + timedelta(days=20)})
    assert [p["partial"] for p in got] == [False, False, False]
    # Up to today: the last week holds today, which is not over.
    got = await series(**{"from": monday})
    assert [p["partial"] for p in got] == [False] * 5 + [True]
    assert got[-1]["to"] == str(today) and got[-1]["ongoing"] is True
    assert got[-1]["days"] == today.weekday() + 1


async def test_scores_below_min_n_are_insufficient(client: Client, admin: Headers, conn: Any) -> None:
    await catalogue(conn)
    await answers(conn, "support-call", [5, 5, 4, 1, 2], day=days_ago(1))
    r = await client.get("/api/v1/scores", headers=admin, params={"touchpoint": "support-call"})
    assert r.status_code == 200, r.text
    total = r.json()["total"]
    assert total == {"n": 5, "value": None, "ci_low": None, "ci_high": None, "insufficient": True,
                     "mean": None, "share_high": None, "share_low": None}
    assert r.json()["status"] == "insufficient"
    assert "CSAT = % of answers 4–5" in r.json()["definition"]


async def test_a_selection_spanning_kinds_needs_kind(client: Client, admin: Headers, conn: Any) -> None:
    cat = await catalogue(conn)
    r = await client.get("/api/v1/scores", headers=admin, params={"journey": cat.journey})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "kind"
    r = await client.get("/api/v1/scores", headers=admin,
                         params={"journey": cat.journey, "kind": "csat", "bucket": "month"})
    assert r.status_code == 200, r.text
    assert sorted(r.json()["touchpoints"]) == ["support-call", "support-chat"]
    r = await client.get("/api/v1/scores", headers=admin, params={"owner": cat.owners["support"]})
    assert r.status_code == 200 and r.json()["kind"] == "csat"


async def test_an_owner_without_touchpoints_scores_nothing_rather_than_asking_for_a_kind(
        client: Client, admin: Headers, conn: Any, make_key: MakeKey) -> None:
    await catalogue(conn)
    empty = (await client.post("/api/v1/owners", json={"name": "New team"}, headers=admin)).json()["id"]
    period = {"from": str(days_ago(27)), "to": str(days_ago(0)), "bucket": "week"}
    r = await client.get("/api/v1/scores", headers=admin, params={"owner": empty, **period})
    assert r.status_code == 200, r.text  # was a 422 asking for a kind nothing could need
    body = r.json()
    assert body["kind"] is None and body["metric"] is None and body["definition"] is None
    assert body["touchpoints"] == [] and body["funnel"] is None and body["status"] == "no_target"
    assert body["total"]["n"] == body["previous"]["n"] == 0 and body["total"]["insufficient"] is True
    assert body["delta"] is None and body["target"] is None
    # The same buckets as a named kind's empty answer: only the kind is missing.
    named = await client.get("/api/v1/scores", headers=admin, params={"owner": empty, "kind": "csat", **period})
    assert named.status_code == 200 and named.json()["kind"] == "csat", named.text
    assert body["series"] == named.json()["series"] and {p["n"] for p in body["series"]} == {0}
    assert {k: v for k, v in body.items() if k not in ("kind", "metric", "definition")} == {
        k: v for k, v in named.json().items() if k not in ("kind", "metric", "definition")}
    # The owner's own key, on its dashboard before its first touchpoint.
    own = bearer(await make_key("owner", empty))
    r = await client.get("/api/v1/scores", headers=own)
    assert r.status_code == 200 and r.json()["touchpoints"] == [], r.text


async def test_bad_periods_are_422_naming_the_field(client: Client, admin: Headers, conn: Any) -> None:
    await catalogue(conn)
    cases = [
        ({"from": "2025-05-10", "to": "2025-05-01"}, "to"),
        ({"from": "2020-01-01", "to": "2025-01-01"}, "from"),
        ({"from": "2025-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "0001-01-01", "to": "0001-01-02"}, "from"),
        ({"to": "9999-12-31"}, "to"),
        ({"bucket": "year"}, "bucket"),
        ({"journey": "0"}, "journey"),
        ({"journey": str(2**70)}, "journey"),
    ]
    for params, field in cases:
        paths = ["/api/v1/scores"] + (["/api/v1/responses"] if field != "bucket" else [])
        for path in paths:
            r = await client.get(path, headers=admin, params={"touchpoint": "support-call", **params})
            assert r.status_code == 422, (path, params, r.text)
            assert field in r.text, (path, params, r.text)


async def test_owner_keys_see_only_their_own_touchpoints(
        client: Client, conn: Any, make_key: MakeKey) -> None:
    cat = await catalogue(conn)
    await answers(conn, "first-login", [7] * 3, day=days_ago(1))
    support = bearer(await make_key("owner", cat.owners["support"]))
    r = await client.get("/api/v1/scores", headers=support, params={"touchpoint": "first-login"})
    assert r.status_code == 404
    r = await client.get("/api/v1/scores", headers=support, params={"touchpoint": "nope"})
    assert r.status_code == 404
    r = await client.get("/api/v1/scores", headers=support, params={"journey": cat.journey})
    assert r.status_code == 200 and sorted(r.json()["touchpoints"]) == ["support-call", "support-chat"]
    r = await client.get("/api/v1/responses", headers=support)
    assert r.status_code == 200 and r.json()["items"] == []
    r = await client.get("/api/v1/responses", headers=support, params={"touchpoint": "first-login"})
    assert r.status_code == 404
    r = await client.get("/api/v1/touchpoints/first-login/report", headers=support)
    assert r.status_code == 404
    r = await client.get(f"/api/v1/owners/{cat.owners['onboarding']}/report", headers=support)
    assert r.status_code == 404
    r = await client.get(f"/api/v1/owners/{cat.owners['support']}/report", headers=support)
    assert r.status_code == 200
    r = await client.get(f"/api/v1/owners/{cat.owners['support']}/share-link", headers=support)
    assert r.status_code == 403
    ingest = bearer(await make_key("ingest"))
    assert (await client.get("/api/v1/scores", headers=ingest)).status_code == 403
    assert (await client.get("/api/v1/scores")).status_code == 401


async def test_responses_filter_and_page_by_keyset_cursor(
        client: Client, admin: Headers, conn: Any) -> None:
    await catalogue(conn)
    for i in range(7):
        await answer(conn, "support-call", 1 + i % 5, when=at(days_ago(i)),
                     comment=f"comment {i}" if i % 2 else None,
                     themes=["waiting time"] if i < 3 else [], customer="c-1" if i == 4 else None,
                     label="negative" if i % 2 else None, polarity=-0.5 if i % 2 else None)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        r = await client.get("/api/v1/responses", headers=admin, params=params)
        assert r.status_code == 200, r.text
        seen += [x["id"] for x in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7
    r = await client.get("/api/v1/responses", headers=admin)
    items = r.json()["items"]
    assert [x["id"] for x in items] == seen
    assert items == sorted(items, key=lambda x: (x["occurred_at"], x["id"]), reverse=True)

    async def count(**params: Any) -> int:
        r = await client.get("/api/v1/responses", headers=admin, params=params)
        assert r.status_code == 200, r.text
        return len(r.json()["items"])

    assert await count(has_comment="true") == 3
    assert await count(has_comment="false") == 4
    assert await count(theme="waiting time") == 3
    assert await count(customer="c-1") == 1
    assert await count(label="negative") == 3
    assert await count(band="low") == sum(1 for i in range(7) if 1 + i % 5 <= 2)
    assert await count(band="high") == sum(1 for i in range(7) if 1 + i % 5 >= 4)
    for bad in ("x", "eyJ", "WyJhIl0", "WyJub3QtYS1kYXRlIiwgIm5vdC1hLXV1aWQiXQ"):
        r = await client.get("/api/v1/responses", headers=admin, params={"cursor": bad})
        assert r.status_code == 422 and "cursor" in r.text, (bad, r.text)


async def test_a_touchpoint_outside_the_other_filters_is_a_422_naming_them(
        client: Client, admin: Headers, conn: Any, make_key: MakeKey) -> None:
    # It exists: "does not exist" would send a dashboard hunting for a missing touchpoint.
    cat = await catalogue(conn)
    onboarding, loyalty = cat.owners["onboarding"], cat.stages["Loyalty"]
    for path in ("/api/v1/scores", "/api/v1/responses"):
        r = await client.get(path, headers=admin, params={
            "touchpoint": "support-call", "owner": onboarding, "stage": loyalty, "channel": "phone"})
        assert r.status_code == 422, r.text
        assert r.json()["errors"] == [
            {"field": "stage", "message": f"touchpoint 'support-call' is in stage {cat.stages['Solution']}, "
                                          f"not {loyalty}"},
            {"field": "owner", "message": f"touchpoint 'support-call' belongs to owner "
                                          f"{cat.owners['support']}, not {onboarding}"}]
    # A touchpoint's channel narrows the scores: support-call is on the phone. The responses'
    # `channel` is each answer's own (test_the_responses_channel_is_the_answers_own).
    r = await client.get("/api/v1/scores", headers=admin, params={"touchpoint": "support-call", "channel": "web"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "channel", r.text
    # Another owner's touchpoint stays exactly as unknown as a missing one.
    support = bearer(await make_key("owner", cat.owners["support"]))
    for key in ("first-login", "no-such-touchpoint"):
        r = await client.get("/api/v1/scores", headers=support, params={"touchpoint": key})
        assert r.status_code == 404 and r.json()["detail"] == f"Touchpoint {key!r} does not exist.", r.text
        # The other owner's id is one this key cannot see either: its 404 comes first, the same
        # for both touchpoints.
        r = await client.get("/api/v1/scores", headers=support, params={"touchpoint": key, "owner": onboarding})
        assert r.status_code == 404 and r.json()["detail"] == f"Owner {onboarding} does not exist.", r.text


@pytest.mark.parametrize(("path", "values"), [
    # Well-formed, but past what the database holds: no bare "refused by the database" answer.
    ("/api/v1/responses", ["9999-12-31T23:59:59-14:00", "01a206ef-d1da-76ee-8640-21c128ff7807"]),
    ("/api/v1/responses", ["0001-01-01T00:00:00+14:00", "01a206ef-d1da-76ee-8640-21c128ff7807"]),
    ("/api/v1/responses", ["2026-11-23T05:45:09", "01a206ef-d1da-76ee-8640-21c128ff7807"]),
    ("/api/v1/owners", [2**64]), ("/api/v1/journeys", [-1]), ("/api/v1/touchpoints", [2**63]),
])
async def test_tampered_cursors_are_a_422_naming_cursor(
        client: Client, admin: Headers, conn: Any, path: str, values: list[Any]) -> None:
    await catalogue(conn)
    cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")
    r = await client.get(path, headers=admin, params={"cursor": cursor})
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": "cursor", "message": "is not a cursor this API gave out"}]


async def test_responses_stream_as_csv_with_formulas_made_inert(
        client: Client, admin: Headers, conn: Any) -> None:
    await catalogue(conn)
    nasty = ["=HYPERLINK(\"http://evil\")", "+1+2", "-3", "@SUM(A1)", "\tx", "\rx", "fine, \"quoted\""]
    for i, text in enumerate(nasty):
        await answer(conn, "support-chat", 5, when=at(days_ago(i)), comment=text, customer="=cmd")
    await conn.execute("""
        INSERT INTO responses (touchpoint_id, id, journey_id, stage_id, owner_id, kind, scale_min,
            scale_max, score, channel, source, occurred_at)
        SELECT t.id, gen_random_uuid(), s.journey_id, t.stage_id, t.owner_id, 'csat', 1, 5, 3,
            'phone', 'api', now() - interval '1 hour' * g
        FROM touchpoints t JOIN stages s ON s.id = t.stage_id, generate_series(1, 1200) g
        WHERE t.key = 'support-call'""")
    r = await client.get("/api/v1/responses", headers={**admin, "Accept": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv"), (r.headers, r.text[:300])
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["id", "touchpoint", "invitation_id", "kind", "score"]
    assert len(rows) == 1 + 1200 + len(nasty)
    chat = [dict(zip(rows[0], row, strict=True)) for row in rows[1:] if row[1] == "support-chat"]
    assert {row["comment"] for row in chat} == {"'" + t for t in nasty[:6]} | {nasty[6]}
    assert all(row["customer"] == "'=cmd" for row in chat)
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row), row
    r = await client.get("/api/v1/responses", headers={**admin, "Accept": "text/csv"},
                         params={"touchpoint": "missing"})
    assert r.status_code == 404


async def test_the_csv_export_opens_in_excel_with_its_non_ascii_comments_intact(
        client: Client, admin: Headers, conn: Any) -> None:
    # Excel reads a CSV without a byte order mark in the legacy code page: "Курьер" turns into
    # "РљСѓСЂСЊРµСЂ". The mark must lead the file, once, before the header.
    await catalogue(conn)
    await answer(conn, "support-chat", 2, when=at(days_ago(1)), comment="Курьер опоздал — café")
    r = await client.get("/api/v1/responses", headers={**admin, "Accept": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.content.startswith(b"\xef\xbb\xbfid,touchpoint,"), r.content[:40]
    assert r.content.count(b"\xef\xbb\xbf") == 1
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][0] == "id" and rows[1][rows[0].index("comment")] == "Курьер опоздал — café"


async def test_a_head_for_the_csv_export_answers_its_headers_without_running_it(
        client: Client, admin: Headers, conn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # A HEAD (a download manager checking the file first) must not read a year of answers.
    await catalogue(conn)
    await answer(conn, "support-chat", 2, when=at(days_ago(1)), comment="Slow")
    exports: list[object] = []
    real = controllers._csv

    def counted(*args: Any) -> Any:
        exports.append(args)
        return real(*args)

    monkeypatch.setattr(controllers, "_csv", counted)
    head = await client.head("/api/v1/responses", headers={**admin, "Accept": "text/csv"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"].startswith("text/csv")
    assert head.headers["content-disposition"].startswith('attachment; filename="responses-')
    assert exports == []
    get = await client.get("/api/v1/responses", headers={**admin, "Accept": "text/csv"})
    assert get.headers["content-disposition"] == head.headers["content-disposition"]
    assert len(exports) == 1
    bad = await client.head("/api/v1/responses", headers={**admin, "Accept": "text/csv"},
                            params={"touchpoint": "nowhere"})
    assert bad.status_code == 404  # the selection is still checked: no such touchpoint


async def test_a_named_touchpoint_scored_as_another_kind_is_a_422_naming_kind(
        client: Client, admin: Headers, conn: Any) -> None:
    await catalogue(conn)
    await answers(conn, "support-chat", [5] * 31, day=days_ago(2))
    r = await client.get("/api/v1/scores", headers=admin,
                         params={"touchpoint": "support-chat", "kind": "nps"})
    assert r.status_code == 422, r.text  # was a 200 with n = 0: the dashboard showed no answers
    assert r.json()["errors"][0]["field"] == "kind" and "csat" in r.json()["detail"]
    r = await client.get("/api/v1/scores", headers=admin,
                         params={"touchpoint": "support-chat", "kind": "csat"})
    assert r.status_code == 200 and r.json()["total"]["n"] == 31, r.text


async def test_json_or_csv_follows_the_clients_preference_and_caches_key_on_accept(
        client: Client, admin: Headers, conn: Any) -> None:
    await catalogue(conn)
    await answer(conn, "support-chat", 4, when=at(days_ago(1)))
    wanted = {"application/json, text/csv;q=0.1": "application/json",
              "text/csv;q=0.2, application/json": "application/json",
              "application/json, text/plain, */*": "application/json",
              "text/csv, application/json;q=0.5": "text/csv",
              "text/csv": "text/csv"}
    for accept, media in wanted.items():
        r = await client.get("/api/v1/responses", headers={**admin, "Accept": accept})
        assert r.status_code == 200 and r.headers["content-type"].startswith(media), (accept, r.headers)
        assert r.headers["vary"] == "Accept", (accept, r.headers)


async def test_a_csv_export_that_cannot_run_is_a_problem_not_a_broken_200(
        client: Client, admin: Headers, conn: Any, monkeypatch: Any) -> None:
    await catalogue(conn)
    for accept in ("text/csv", "application/json"):
        for name in ("theme", "customer", "touchpoint"):
            r = await client.get("/api/v1/responses", headers={**admin, "Accept": accept},
                                 params={name: "a\x00b"})
            assert r.status_code in (400, 422), (accept, name, r.status_code, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert name in r.text
    # Whatever fails in the export's query is answered before the 200 goes out.
    from feedback.insight import service
    from surveys.errors import invalid

    async def failing(*_: Any, **__: Any) -> Any:
        raise invalid("theme", "refused by the export")
        yield ""  # an async generator, as the real one is

    monkeypatch.setattr(service, "csv_chunks", failing)
    r = await client.get("/api/v1/responses", headers={**admin, "Accept": "text/csv"})
    assert r.status_code == 422 and "refused by the export" in r.text


SCORES = "/api/v1/scores"
BREAKDOWN = "/api/v1/scores/touchpoints"


async def test_one_call_gives_every_touchpoints_score_as_scores_gives_each(
        client: Client, admin: Headers, conn: Any, make_key: MakeKey, monkeypatch: Any) -> None:
    cat = await catalogue(conn)
    await answers(conn, "support-call", [5] * 20 + [4] * 10 + [1] * 5, day=days_ago(3))
    await answers(conn, "support-call", [2] * 30 + [5] * 5, day=days_ago(40))
    await answers(conn, "support-chat", [4, 5, 1], day=days_ago(2))
    await answers(conn, "relationship-nps", [10] * 25 + [3] * 10, day=days_ago(5))
    period = {"from": str(days_ago(29)), "to": str(days_ago(0))}
    from feedback.insight import repository

    reads: list[int] = []
    rollups = repository.period_rollups

    async def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(len(kwargs["touchpoint_ids"]))
        return await rollups(*args, **kwargs)

    monkeypatch.setattr(repository, "period_rollups", counted)
    r = await client.get(BREAKDOWN, headers=admin, params={"journey": cat.journey, **period})
    assert r.status_code == 200, r.text
    assert reads == [4]  # one read of the rollups for every touchpoint, not one per touchpoint
    body = r.json()
    assert (body["from"], body["to"]) == (period["from"], period["to"]) and body["min_n"] == 30
    items = body["items"]
    # Journey order: stage, then key; every kind side by side, each on its own scale.
    assert [i["touchpoint"]["key"] for i in items] == ["first-login", "support-call", "support-chat",
                                                       "relationship-nps"]
    assert [i["metric"] for i in items] == ["ces", "csat", "csat", "nps"]
    for item in items:
        alone = await client.get(SCORES, headers=admin, params={"touchpoint": item["touchpoint"]["key"], **period})
        assert alone.status_code == 200, alone.text
        one = alone.json()
        assert item["score"] == one["total"] and item["previous"] == one["previous"], item
        assert (item["delta"], item["significant"], item["p_value"], item["status"]) == (
            one["delta"], one["significant"], one["p_value"], one["status"])
        assert item["touchpoint"]["target"] == one["target"] and item["metric"] == one["metric"]
    call = items[1]
    assert call["score"]["n"] == 35 and call["previous"]["n"] == 35 and call["significant"] is True
    assert items[2]["score"]["n"] == 3 and items[2]["score"]["insufficient"] is True
    # The filters narrow it as they narrow /scores; kind keeps one scale.
    r = await client.get(BREAKDOWN, headers=admin, params={"kind": "csat", **period})
    assert [i["touchpoint"]["key"] for i in r.json()["items"]] == ["support-call", "support-chat"]
    r = await client.get(BREAKDOWN, headers=admin, params={"owner": cat.owners["onboarding"], **period})
    assert [i["touchpoint"]["key"] for i in r.json()["items"]] == ["first-login", "relationship-nps"]
    r = await client.get(BREAKDOWN, headers=admin, params={"owner": 999999})
    assert r.status_code == 404 and "owner" in r.text.lower()
    # An owner key sees its own touchpoints only, and another owner's as missing.
    support = bearer(await make_key("owner", cat.owners["support"]))
    r = await client.get(BREAKDOWN, headers=support, params=period)
    assert [i["touchpoint"]["key"] for i in r.json()["items"]] == ["support-call", "support-chat"]
    r = await client.get(BREAKDOWN, headers=support, params={"owner": cat.owners["onboarding"]})
    assert r.status_code == 404
    # A dashboard polling it gets a 304 while nothing changed.
    first = await client.get(BREAKDOWN, headers=admin, params=period)
    again = await client.get(BREAKDOWN, headers={**admin, "If-None-Match": first.headers["etag"]}, params=period)
    assert again.status_code == 304 and first.headers["cache-control"] == "no-cache, private"


async def test_the_touchpoints_scores_come_as_csv_one_row_each(
        client: Client, admin: Headers, conn: Any) -> None:
    await catalogue(conn)
    await answers(conn, "support-call", [5] * 20 + [4] * 10 + [1] * 5, day=days_ago(3))
    period = {"from": str(days_ago(29)), "to": str(days_ago(0))}
    listed = (await client.get(BREAKDOWN, headers=admin, params=period)).json()["items"]
    r = await client.get(BREAKDOWN, headers={**admin, "Accept": "text/csv"}, params=period)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), r.text[:200]
    assert r.headers["vary"] == "Accept" and "etag" in r.headers
    assert r.headers["content-disposition"] == (
        f'attachment; filename="touchpoint-scores-{period["from"]}-{period["to"]}.csv"')
    assert r.content.startswith("\ufeff".encode()) and b"\r\n" in r.content
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [row["touchpoint_key"] for row in rows] == [i["touchpoint"]["key"] for i in listed]
    call = next(row for row in rows if row["touchpoint_key"] == "support-call")
    item = next(i for i in listed if i["touchpoint"]["key"] == "support-call")
    assert float(call["score_value"]) == item["score"]["value"] and call["score_n"] == "35"
    assert call["score_insufficient"] == "false" and call["previous_value"] == ""
    assert call["metric"] == "csat" and call["touchpoint_owner"] == "Support"
    # HEAD says what GET would, and the document lists the CSV beside the JSON.
    head = await client.head(BREAKDOWN, headers={**admin, "Accept": "text/csv"}, params=period)
    assert head.status_code == 200 and head.headers["content-type"].startswith("text/csv")
    document = (await client.get("/schema/openapi.json")).json()
    content = document["paths"][BREAKDOWN]["get"]["responses"]["200"]["content"]
    assert list(content) == ["application/json", "text/csv"]
    assert "score_value" in content["text/csv"]["schema"]["description"]



async def test_the_responses_channel_is_the_answers_own(
        client: Client, admin: Headers, conn: Any, make_key: MakeKey) -> None:
    """An answer sent through the app to a phone touchpoint was listed by channel=phone, and
    shown with "channel": "app"; channel=app did not find it."""
    await catalogue(conn)  # every touchpoint is on the phone
    await answer(conn, "support-chat", 5, when=at(days_ago(1)))
    ingest = bearer(await make_key("ingest"))
    sent = await client.post("/api/v1/responses", headers=ingest,
                             json={"touchpoint": "support-chat", "score": 2, "channel": "app"})
    assert sent.status_code == 201 and sent.json()["channel"] == "app", sent.text
    def channels(r: httpx.Response) -> list[str]:
        assert r.status_code == 200, r.text
        if r.headers["content-type"].startswith("text/csv"):
            return [row["channel"] for row in csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")))]
        return [item["channel"] for item in r.json()["items"]]

    for accept in ("application/json", "text/csv"):
        headers = {**admin, "Accept": accept}
        assert channels(await client.get("/api/v1/responses", headers=headers, params={"channel": "app"})) == ["app"]
        assert channels(await client.get("/api/v1/responses", headers=headers,
                                         params={"channel": "phone"})) == ["phone"]
        # Beside a touchpoint on another channel it is a filter of its answers, not a conflict.
        assert channels(await client.get("/api/v1/responses", headers=headers,
                                         params={"channel": "app", "touchpoint": "support-chat"})) == ["app"]
        assert channels(await client.get("/api/v1/responses", headers=headers, params={"channel": "web"})) == []
    # The scores are kept per touchpoint: their channel is the touchpoint's, every answer counted.
    r = await client.get("/api/v1/scores", headers=admin, params={"touchpoint": "support-chat", "channel": "phone"})
    assert r.status_code == 200 and r.json()["total"]["n"] == 2, r.text
    r = await client.get("/api/v1/scores", headers=admin, params={"channel": "app", "kind": "csat"})
    assert r.status_code == 200 and r.json()["touchpoints"] == [] and r.json()["total"]["n"] == 0
    # The document says which channel each means.
    document = (await client.get("/schema/openapi.json")).json()
    described = {path: next(p["description"] for p in document["paths"][path]["get"]["parameters"]
                            if p["name"] == "channel")
                 for path in ("/api/v1/responses", "/api/v1/scores", "/api/v1/scores/touchpoints")}
    assert "as each item's `channel` shows it" in described["/api/v1/responses"]
    assert described["/api/v1/scores"].startswith("Touchpoints configured on this channel")
    assert described["/api/v1/scores/touchpoints"] == described["/api/v1/scores"]
