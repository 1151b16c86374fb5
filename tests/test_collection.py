"""Collection end to end over HTTP against real PostgreSQL: triggers, links, pages, answers."""

from __future__ import annotations

import asyncio
import html
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from litestar import Litestar

from feedback.collection import repository as repo
from feedback.collection.models import InvitationCreate
from feedback.collection.service import trigger
from feedback.collection.tokens import digest
from feedback.service.database import Connection, connect
from feedback.settings import Settings
from tests.conftest import MakeKey, bearer, problem_type
from tests.test_collection_support import Client, Headers, invite, token_of, touchpoint, world

BLANK_CUSTOMER = "may not be blank (spaces or invisible characters only)"


async def _sent(client: Client, admin: Headers, key: str = "delivery", kind: str = "csat",
                customer: str = "c-1", **extra: Any) -> dict[str, Any]:
    w = await world(client, admin)
    await touchpoint(client, admin, w, key, kind)
    r = await invite(client, admin, key, customer, **extra)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


# Triggers


async def test_trigger_sends_a_link_with_email_block_and_one_click_urls(
        client: Client, admin: Headers, conn: Connection) -> None:
    body = await _sent(client, admin, context={"order": "A-1", "amount": 12.5, "vip": True, "agent": None})
    assert body["url"].startswith("http://testserver.local/s/")
    token = token_of(body["url"])
    assert len(token) == 43  # 256-bit MAC over a 128-bit random nonce, base64url
    assert sorted(body["one_click_urls"], key=int) == ["1", "2", "3", "4", "5"]
    assert body["one_click_urls"]["4"] == body["url"] + "?score=4&kind=csat"
    email = body["email_html"]
    assert "<table" in email and "<script" not in email and "<link" not in email
    for n in range(1, 6):
        assert f'href="{body["url"]}?score={n}&amp;kind=csat"' in email
    row = await conn.fetchrow("SELECT decision, token_hash, token_nonce, expires_at, context::text AS c "
                              "FROM invitations")
    assert row is not None
    assert row["decision"] == "sent" and len(row["token_nonce"]) == 16
    assert token.encode() not in bytes(row["token_hash"])
    assert abs((row["expires_at"] - datetime.now(UTC)) - timedelta(days=14)) < timedelta(minutes=1)
    assert '"order": "A-1"' in row["c"]


def _links(email: str) -> list[tuple[str, str]]:
    """Each score link of an email block: its score, and its name as its text gives it."""
    found = re.findall(r'<a href="[^"]*\?score=(\d+)&amp;kind=\w+"[^>]*>(.*?)</a>', email, re.S)
    return [(score, " ".join(html.unescape(re.sub(r"<[^>]+>", "", inner)).split())) for score, inner in found]


async def test_the_email_block_fits_a_phone(client: Client, admin: Headers) -> None:
    w = await world(client, admin)
    for key, kind in (("loyalty", "nps"), ("delivery", "csat")):
        await touchpoint(client, admin, w, key, kind)
    email = (await invite(client, admin, "loyalty")).json()["email_html"]
    rows = email.split("<tr>")
    # 0–5 and 6–10 on rows of their own, each end's label under its button.
    assert any("?score=0" in r and "?score=5" in r and "?score=6" not in r and "Not at all likely" in r
               for r in rows)
    assert any("?score=6" in r and "?score=10" in r and "?score=5" not in r and "Extremely likely" in r
               for r in rows)
    assert "then press Send" in email
    # 40 px buttons in a row of six: 6 x 44 px; five get 50 px, so their end labels stay apart.
    assert email.count("width:40px;") == 11 + 2
    csat = (await invite(client, admin, "delivery", "c-2")).json()["email_html"]
    assert csat.count("width:50px;") == 5 + 2


async def test_the_email_buttons_are_named_by_their_text_which_mail_apps_keep(
        client: Client, admin: Headers) -> None:
    email = (await _sent(client, admin, key="loyalty", kind="nps"))["email_html"]
    # Pasted into a right-to-left email, the block ran its scale from 10 on the left to 0 on the right.
    assert email.startswith('<table lang="en" dir="ltr" ')
    # Many mail apps drop aria-label and title (and <style> and classes): a name is the link's text,
    # the end labels shown under the ends of the scale included.
    assert _links(email) == [("0", "0 Not at all likely"), *[(str(n), str(n)) for n in range(1, 10)],
                             ("10", "10 Extremely likely")]
    for needs_css in ("aria-label", "title=", "class=", "<style", "id="):
        assert needs_css not in email, needs_css
    ru = (await invite(client, admin, "loyalty", "c-2", locale="ru")).json()["email_html"]
    assert ru.startswith('<table lang="ru" dir="ltr" ')
    assert _links(ru)[0] == ("0", "0 Крайне маловероятно") and _links(ru)[10] == ("10", "10 Очень вероятно")


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


async def test_the_email_blocks_grey_text_is_readable_on_white_and_in_a_dark_mode(
        client: Client, admin: Headers) -> None:
    email = (await _sent(client, admin, key="loyalty", kind="nps"))["email_html"]
    texts = set(re.findall(r"(?<![-\w])color:(#[0-9a-f]{6})", email)) - {"#ffffff"}
    assert "#4b5563" in texts
    # WCAG AA, 4.5:1 on the white the block is meant for. A dark mode turns dark text light on
    # its dark background; a light grey (#9ca3af, 2.5:1) would be faint in both.
    for colour in texts:
        assert 1.05 / (_luminance(colour) + 0.05) >= 4.5, colour
    # The buttons' white numbers sit on their own background, which a mail app keeps with them.
    faces = re.findall(r'background-color:(#[0-9a-f]{6});color:#ffffff;', email)
    assert len(faces) == 11 and all(1.05 / (_luminance(c) + 0.05) >= 4.5 for c in faces), faces


async def test_skips_are_stored_with_their_reason(client: Client, admin: Headers, conn: Connection) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "off", active=False)
    await touchpoint(client, admin, w, "never", sample_rate=0)
    await touchpoint(client, admin, w, "here", recontact_days=30)
    await touchpoint(client, admin, w, "there")
    r = await invite(client, admin, "off")
    assert r.status_code == 200 and r.json()["skipped"] == "touchpoint_inactive" and r.json()["id"]
    r = await invite(client, admin, "never", event_id="e-1")
    assert r.json()["skipped"] == "sampled_out"
    assert (await invite(client, admin, "here")).status_code == 201
    r = await invite(client, admin, "here")
    assert r.json()["skipped"] == "recently_asked_here"
    r = await invite(client, admin, "there")
    assert r.json()["skipped"] == "recently_asked_anywhere"
    rows = await conn.fetch("SELECT decision FROM invitations ORDER BY created_at")
    assert [x["decision"] for x in rows] == [
        "touchpoint_inactive", "sampled_out", "sent", "recently_asked_here", "recently_asked_anywhere"]
    funnel = await conn.fetchval("SELECT sum(skipped_anywhere) FROM touchpoint_daily_funnel")
    assert funnel == 1


async def test_sampling_is_deterministic_per_event(client: Client, admin: Headers) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "half", sample_rate=0.5, recontact_days=0)
    outcomes = []
    for n in range(40):
        r = await invite(client, admin, "half", customer=f"c{n}", event_id=f"ev-{n}")
        outcomes.append(r.status_code)
    assert 201 in outcomes and 200 in outcomes
    again = [(await invite(client, admin, "half", customer=f"c{n}", event_id=f"ev-{n}")).status_code
             for n in range(40)]
    assert again == outcomes


async def test_same_event_returns_the_first_answer_and_creates_nothing(
        client: Client, admin: Headers, conn: Connection) -> None:
    first = await _sent(client, admin, event_id="order-9")
    r = await invite(client, admin, "delivery", event_id="order-9")
    assert r.status_code == 201 and r.json() == first
    assert await conn.fetchval("SELECT count(*) FROM invitations") == 1
    # The event id reused for someone else: refused, never answered with c-1's personal link.
    r = await invite(client, admin, "delivery", "c-other", event_id="order-9")
    assert r.status_code == 409 and "event_id" in r.json()["detail"] and first["url"] not in r.text
    assert r.json()["type"] == problem_type("event-id-reused")
    r = await client.post("/api/v1/invitations:batch", headers=admin, json={"items": [
        {"touchpoint": "delivery", "customer": "c-other", "event_id": "order-9"}]})
    result = r.json()["results"][0]
    assert result["status"] == 409 and first["url"] not in r.text
    # A batch item's problem names its type too: a client sorts the items it must resend.
    assert result["problem"]["type"] == problem_type("event-id-reused")
    assert await conn.fetchval("SELECT count(*) FROM invitations") == 1


async def test_a_repeated_event_with_other_fields_is_a_409_naming_event_id_and_the_fields(
        client: Client, admin: Headers, conn: Connection) -> None:
    # Locale and channel left to their defaults: the exact retry must still match what was stored.
    first = await _sent(client, admin, event_id="order-9", context={"order": "A-9", "n": 1, "vip": True})
    r = await invite(client, admin, "delivery", event_id="order-9", context={"order": "A-9", "n": 1, "vip": True})
    assert r.status_code == 201 and r.json() == first
    # The defaults spelled out, the keys in another order and 1 as 1.0: the same event.
    r = await invite(client, admin, "delivery", event_id="order-9", locale="en", channel="email",
                     context={"vip": True, "n": 1.0, "order": "A-9"})
    assert r.status_code == 201 and r.json() == first
    changes: list[tuple[dict[str, Any], str]] = [
        ({"locale": "ru"}, "locale"), ({"channel": "app"}, "channel"),
        ({"context": {"order": "A-10", "n": 1, "vip": True}}, "context"),
        ({"context": {"order": "A-9", "n": 1, "vip": 1}}, "context"),  # 1 is not true
        ({"context": {}}, "context"),
        ({"locale": "ru", "channel": "chat"}, "locale and channel")]
    for extra, named in changes:
        body: dict[str, Any] = {"context": {"order": "A-9", "n": 1, "vip": True}, **extra}
        r = await invite(client, admin, "delivery", event_id="order-9", **body)
        assert r.status_code == 409, (extra, r.text)
        problem = r.json()
        assert problem["errors"][0]["field"] == "event_id" and problem["type"] == problem_type("event-id-reused")
        assert f"another {named};" in problem["detail"] and first["url"] not in r.text, problem
    r = await client.post("/api/v1/invitations:batch", headers=admin, json={"items": [
        {"touchpoint": "delivery", "customer": "c-1", "event_id": "order-9", "locale": "ru",
         "context": {"order": "A-9", "n": 1, "vip": True}}]})
    result = r.json()["results"][0]
    assert result["status"] == 409 and result["problem"]["errors"][0]["field"] == "event_id"
    # The touchpoint's channel changed since: the retry that left channel out still matches.
    r = await client.patch("/api/v1/touchpoints/delivery", json={"channel": "app"}, headers=admin)
    assert r.status_code == 200, r.text
    r = await invite(client, admin, "delivery", event_id="order-9", context={"order": "A-9", "n": 1, "vip": True})
    assert r.status_code == 201 and r.json() == first
    assert await conn.fetchval("SELECT count(*) FROM invitations") == 1


async def test_a_retry_that_leaves_a_field_out_is_not_compared_on_it(
        client: Client, admin: Headers, conn: Connection) -> None:
    # One rule for locale, channel and context: a field the retry gives must equal what was
    # stored; one it leaves out (or sends as null) is not compared, and the replay carries what
    # the first request stored. A locale left out was compared as "en" (a 409), a channel not.
    given: dict[str, Any] = {"locale": "ru", "channel": "app", "context": {"order": "A-1"}}
    first = await _sent(client, admin, event_id="order-1", **given)
    assert "lang=\"ru\"" in first["email_html"]
    for left_out in ({}, {"locale": None}, {"channel": None}, {"context": {"order": "A-1"}},
                     {"locale": "ru"}, {"locale": None, "channel": None}):
        r = await invite(client, admin, "delivery", event_id="order-1", **left_out)
        assert r.status_code == 201 and r.json() == first, (left_out, r.text)
    r = await client.post("/api/v1/invitations:batch", headers=admin, json={"items": [
        {"touchpoint": "delivery", "customer": "c-1", "event_id": "order-1"}]})
    assert r.json()["results"][0] == {"status": 201, "body": first}, r.text
    # A field given with another value than the stored one, a default spelled out included.
    for other, named in (({"locale": "en"}, "locale"), ({"channel": "email"}, "channel"),
                         ({"context": {}}, "context"), ({"locale": "en", "context": {"order": "A-2"}},
                                                         "locale and context")):
        r = await invite(client, admin, "delivery", event_id="order-1", **other)
        assert r.status_code == 409, (other, r.text)
        assert f"another {named};" in r.json()["detail"], r.text
    assert await conn.fetchval("SELECT count(*) FROM invitations") == 1


async def test_a_repeated_skipped_event_with_other_fields_is_a_409_too(client: Client, admin: Headers) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "never", sample_rate=0)
    r = await invite(client, admin, "never", event_id="e-1", channel="app")
    assert r.status_code == 200 and r.json()["skipped"] == "sampled_out"
    assert (await invite(client, admin, "never", event_id="e-1", channel="app")).json() == r.json()
    again = await invite(client, admin, "never", event_id="e-1", channel="web")
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "event_id", again.text
    assert "another channel" in again.json()["detail"]


async def test_concurrent_same_event_makes_one_invitation(client: Client, admin: Headers,
                                                          conn: Connection) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    answers = await asyncio.gather(*(invite(client, admin, "delivery", event_id="ev") for _ in range(10)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["url"] for a in answers}) == 1
    assert await conn.fetchval("SELECT count(*) FROM invitations") == 1


async def test_fatigue_race_sends_exactly_one(client: Client, admin: Headers, conn: Connection) -> None:
    w = await world(client, admin)
    for n in range(20):
        await touchpoint(client, admin, w, f"tp-{n}")
    answers = await asyncio.gather(*(invite(client, admin, f"tp-{n}", customer="busy") for n in range(20)))
    assert sorted(a.status_code for a in answers) == [200] * 19 + [201]
    assert {a.json()["skipped"] for a in answers if a.status_code == 200} == {"recently_asked_anywhere"}
    assert await conn.fetchval("SELECT count(*) FROM invitations WHERE decision = 'sent'") == 1


async def test_trigger_validation(client: Client, admin: Headers, make_key: MakeKey) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    r = await invite(client, admin, "delivery", context={"nested": {"a": 1}})
    assert r.status_code == 422 and "context" in r.text
    r = await invite(client, admin, "delivery", context={"big": "x" * 5000})
    assert r.status_code == 422 and "4096" in r.text
    r = await invite(client, admin, "delivery", customer="")
    assert r.status_code == 422
    r = await invite(client, admin, "delivery", customer="a\x00b")
    assert r.status_code == 422
    r = await invite(client, admin, "delivery", context={"k": "a\x00b"})
    assert r.status_code == 422
    assert (await invite(client, admin, "nope")).status_code == 404
    owner_key = bearer(await make_key("owner", w["owner"]))
    r = await client.post("/api/v1/touchpoints/delivery/invitations", json={"customer": "x"},
                          headers=owner_key)
    assert r.status_code == 403
    ingest = bearer(await make_key("ingest"))
    r = await client.post("/api/v1/touchpoints/delivery/invitations", json={"customer": "x"}, headers=ingest)
    assert r.status_code == 201


async def test_a_bad_locale_is_told_the_locales_there_are(client: Client, admin: Headers) -> None:
    # Not msgspec's "Expected `str` matching regex '^(en|ru)$'": what to send instead.
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    told = "Invalid value 'de'; expected one of: en, ru"
    r = await invite(client, admin, "delivery", locale="de")
    assert r.status_code == 422 and r.json()["errors"] == [{"field": "locale", "message": told}], r.text
    assert f"locale: {told}" in r.json()["detail"]
    r = await client.post("/api/v1/invitations:batch", headers=admin, json={"items": [
        {"touchpoint": "delivery", "customer": "c", "locale": "de"}]})
    assert r.json()["results"][0]["problem"]["errors"] == [{"field": "locale", "message": told}], r.text
    # The ingest lane hands a body its decoder refuses to the framework: the same answer.
    r = await client.post("/api/v1/responses", headers=admin,
                          json={"touchpoint": "delivery", "score": 4, "locale": "de"})
    assert r.status_code == 422 and r.json()["errors"] == [{"field": "locale", "message": told}], r.text
    payload = {"key": "pickup", "name": "Pickup", "stage_id": w["stage"], "channel": "email",
               "owner_id": w["owner"], "kind": "csat", "questions": {"en": "How was it?", "de": "Wie war es?"}}
    r = await client.post("/api/v1/touchpoints", json=payload, headers=admin)
    assert r.status_code == 422 and r.json()["errors"] == [
        {"field": "questions", "message": "Invalid key 'de'; expected one of: en, ru"}], r.text
    r = await client.patch("/api/v1/touchpoints/delivery", json={"questions": {"fr": "?"}}, headers=admin)
    assert r.json()["errors"] == [{"field": "questions", "message": "Invalid key 'fr'; expected one of: en, ru"}]


async def test_a_blank_customer_reference_is_refused_and_others_are_kept_exactly(
        client: Client, admin: Headers, conn: Connection) -> None:
    # Blank references would all be one customer to the contact rules.
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    for blank in (" ", " \t\n ", "\u3000", "\u200b", "\ufeff", " \u200e\u2060 "):
        r = await invite(client, admin, "delivery", blank, event_id="e-1")
        assert r.status_code == 422, (blank, r.text)
        assert [e["field"] for e in r.json()["errors"]] == ["customer"], r.text
        assert "blank" in r.json()["errors"][0]["message"]
        r = await client.post("/api/v1/invitations:batch", headers=admin, json={"items": [
            {"touchpoint": "delivery", "customer": blank}]})
        result = r.json()["results"][0]
        assert result["status"] == 422 and result["problem"]["errors"][0]["field"] == "customer", result
        r = await client.post("/api/v1/responses", headers=admin,
                              json={"touchpoint": "delivery", "score": 4, "customer": blank})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "customer", (blank, r.text)
        # None is ever stored, so none is erased: a refusal, not a tombstone for nobody.
        r = await client.delete(f"/api/v1/customers/{quote(blank, safe='')}", headers=admin)
        assert r.status_code == 422, (blank, r.text)
        assert r.json()["errors"] == [{"field": "customer", "message": BLANK_CUSTOMER}], r.text
    assert await conn.fetchval("SELECT count(*) FROM invitations") == 0
    assert await conn.fetchval("SELECT count(*) FROM responses") == 0
    assert await conn.fetchval("SELECT count(*) FROM erasures") == 0
    # Any other reference is the caller's own identifier, kept exactly, spaces and all.
    assert (await invite(client, admin, "delivery", " crm-1 ")).status_code == 201
    r = await client.post("/api/v1/responses", headers=admin,
                          json={"touchpoint": "delivery", "score": 4, "customer": "\u200bcrm-2"})
    assert r.status_code == 201 and r.json()["customer"] == "\u200bcrm-2"
    assert await conn.fetchval("SELECT customer_ref FROM invitations") == " crm-1 "


async def test_batch_one_result_per_item_and_bad_items_sink_nothing(
        client: Client, admin: Headers, conn: Connection) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    items: list[dict[str, Any]] = [{"touchpoint": "delivery", "customer": f"b{n}"} for n in range(5)]
    items.insert(2, {"touchpoint": "delivery"})
    items.insert(3, {"touchpoint": "missing", "customer": "z"})
    items.append({"touchpoint": "delivery", "customer": "b0"})
    r = await client.post("/api/v1/invitations:batch", json={"items": items}, headers=admin)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == [201, 201, 422, 422, 201, 201, 201, 200]
    assert "customer" in results[2]["problem"]["detail"]
    assert results[3]["problem"]["errors"][0]["field"] == "touchpoint"
    assert results[7]["body"]["skipped"] == "recently_asked_here"
    assert await conn.fetchval("SELECT count(*) FROM invitations") == 6
    r = await client.post("/api/v1/invitations/batch", json={"items": items[:1]}, headers=admin)
    assert r.status_code == 200
    r = await client.post("/api/v1/invitations:batch", json={"items": []}, headers=admin)
    assert r.status_code == 422


async def test_batch_of_a_thousand_beyond_the_default_body_limit(client: Client, admin: Headers) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery", active=False)
    pad = "p" * 2500
    items = [{"touchpoint": "delivery", "customer": f"c{n}", "context": {"note": pad}} for n in range(1000)]
    r = await client.post("/api/v1/invitations:batch", json={"items": items}, headers=admin)
    assert r.status_code == 200, r.text[:300]
    assert len(r.json()["results"]) == 1000
    r = await client.post("/api/v1/invitations:batch", json={"items": items + items[:1]}, headers=admin)
    assert r.status_code == 422


async def test_read_invitation_with_clicks_and_response(client: Client, admin: Headers,
                                                        make_key: MakeKey) -> None:
    body = await _sent(client, admin, context={"order": "A-7"})
    await client.get(body["one_click_urls"]["2"].replace("http://testserver.local", ""))
    await client.post(f"/s/{token_of(body['url'])}", data={"score": "2", "comment": "Courier was late"})
    r = await client.get(f"/api/v1/invitations/{body['id']}", headers=admin)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["decision"] == "sent" and got["context"] == {"order": "A-7"}
    assert [c["score"] for c in got["clicks"]] == [2]
    assert got["response"]["score"] == 2 and got["response"]["source"] == "link"
    assert got["first_clicked_at"] and got["answered_at"]
    other = (await client.post("/api/v1/owners", json={"name": "Other"}, headers=admin)).json()
    r = await client.get(f"/api/v1/invitations/{body['id']}", headers=bearer(await make_key("owner", other["id"])))
    assert r.status_code == 404
    owner_id = (await client.get("/api/v1/touchpoints/delivery", headers=admin)).json()["owner_id"]
    mine = bearer(await make_key("owner", owner_id))
    assert (await client.get(f"/api/v1/invitations/{body['id']}", headers=mine)).status_code == 200
    r = await client.get("/api/v1/invitations/0190a000-0000-7000-8000-000000000000", headers=admin)
    assert r.status_code == 404


async def test_a_sent_invitation_says_where_to_read_it_in_location(client: Client, admin: Headers) -> None:
    first = await _sent(client, admin, event_id="order-12")
    for _ in range(2):  # the retry of the same event names the same invitation
        r = await invite(client, admin, "delivery", event_id="order-12")
        assert r.status_code == 201 and r.headers["location"] == f"/api/v1/invitations/{first['id']}"
        read = await client.get(r.headers["location"], headers=admin)
        assert read.status_code == 200 and read.json()["id"] == first["id"]
    # Not asked: nothing was created for the client to go and read.
    r = await invite(client, admin, "delivery", event_id="order-13")
    assert r.status_code == 200 and r.json()["decision"] == "skipped" and "location" not in r.headers


async def test_a_stored_answer_says_where_to_read_it_replays_included(client: Client, admin: Headers) -> None:
    # An answer has its own URL (GET /api/v1/responses/{id}), and a 201 names it in Location as
    # every create does: on the fast lane, on the framework's path (a +json type) and on a replay.
    sent = await _sent(client, admin, customer="crm-7")
    for content_type, key in (("application/json", "k-1"), ("application/vnd.shop+json", "k-2")):
        body = b'{"touchpoint": "delivery", "score": 4}'
        headers = {**admin, "content-type": content_type, "Idempotency-Key": key}
        first = await client.post("/api/v1/responses", content=body, headers=headers)
        assert first.status_code == 201, first.text
        assert first.headers["location"] == f"/api/v1/responses/{first.json()['id']}"
        assert "content-location" not in first.headers
        read = await client.get(first.headers["location"], headers=admin)
        assert read.status_code == 200 and read.json() == first.json()
        again = await client.post("/api/v1/responses", content=body, headers=headers)
        assert (again.status_code, again.content, again.headers["location"]) == (
            201, first.content, first.headers["location"])
    # An invitation's answer changed (200) is not created: its body is the answer as GET shows
    # it, so Content-Location names where (RFC 9110 8.7); a Location means nothing on a 200.
    answer = {"touchpoint": "delivery", "score": 2, "invitation_id": sent["id"]}
    made = await client.post("/api/v1/responses", json=answer, headers=admin)
    assert made.status_code == 201 and made.headers["location"] == f"/api/v1/responses/{made.json()['id']}"
    edit = {**admin, "Idempotency-Key": "edit-1"}
    changed = await client.post("/api/v1/responses", json={**answer, "score": 5}, headers=edit)
    assert changed.status_code == 200 and "location" not in changed.headers, changed.text
    assert changed.headers["content-location"] == made.headers["location"]
    read = await client.get(changed.headers["content-location"], headers=admin)
    assert read.json() == changed.json()
    replay = await client.post("/api/v1/responses", json={**answer, "score": 5}, headers=edit)
    assert (replay.status_code, replay.content, replay.headers["content-location"]) == (
        200, changed.content, changed.headers["content-location"])
    assert "location" not in replay.headers
    # Documented, the trigger's Location too, which a 201 worded by the route itself had lost.
    spec = (await client.get("/schema/openapi.json")).json()
    submit = spec["paths"]["/api/v1/responses"]["post"]["responses"]
    assert "Location" in submit["201"]["headers"] and "Content-Location" in submit["200"]["headers"]
    assert "Location" not in submit["200"]["headers"]
    trigger_201 = spec["paths"]["/api/v1/touchpoints/{key}/invitations"]["post"]["responses"]["201"]
    assert "Location" in trigger_201["headers"]


# Links and the survey page


async def test_survey_page_shows_question_scale_and_labels(client: Client, admin: Headers) -> None:
    body = await _sent(client, admin, kind="nps")
    r = await client.get(f"/s/{token_of(body['url'])}")
    assert r.status_code == 200
    page = r.text
    assert "<fieldset" in page and "<legend>" in page
    assert page.count('type="radio" name="score"') == 11
    assert "Not at all likely" in page and "Extremely likely" in page
    assert "What is the main reason for your score?" in page
    assert 'maxlength="2000"' in page and ">Send</button>" in page
    assert "Touchpulse Demo Shop" in page and "#1d4ed8" in page
    assert "<script" not in page
    assert "default-src 'none'" in r.headers["content-security-policy"]


async def test_survey_page_in_russian(client: Client, admin: Headers) -> None:
    body = await _sent(client, admin, kind="ces", locale="ru")
    page = (await client.get(f"/s/{token_of(body['url'])}")).text
    assert 'lang="ru"' in page and "Что больше всего повлияло на вашу оценку?" in page
    assert "Полностью не\u00a0согласны" in page and ">Отправить</button>" in page
    assert page.count('type="radio" name="score"') == 7


async def test_a_touchpoint_name_in_another_language_than_the_question_says_its_own(
        client: Client, admin: Headers) -> None:
    # "Delivery" inside Russian copy: read with Russian rules unless its span says it is English.
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    await touchpoint(client, admin, w, "courier", name="Доставка курьером")
    body = (await invite(client, admin, "delivery", locale="ru")).json()
    # The name is isolated from the words around it too (test_bidi.py): a <bdi> on a page; the
    # email block's span, as a mail app may not know <bdi>.
    marked = '«<bdi lang="en">Delivery</bdi>»: насколько вы довольны?'
    page = (await client.get(f"/s/{token_of(body['url'])}")).text
    assert f"<legend><h1>{marked}</h1></legend>" in page
    assert "<title>«Delivery»: насколько вы довольны? · " in page  # a title holds no markup
    assert '«<span lang="en">Delivery</span>»: насколько вы довольны?' in body["email_html"]
    assert marked in (await client.get("/w/delivery", headers={"Accept-Language": "ru"})).text
    # And the other way round: a Russian name inside English copy.
    page = (await client.get("/w/courier")).text
    assert 'How satisfied are you with the <bdi lang="ru">доставка курьером</bdi>?' in page
    # A name in the page's own language, or a touchpoint's own wording, says no language of its own.
    assert "<h1>How satisfied are you with the <bdi>delivery</bdi>?</h1>" in (await client.get("/w/delivery")).text
    r = await client.patch("/api/v1/touchpoints/delivery", headers=admin,
                           json={"questions": {"ru": "Как вам доставка Delivery?"}})
    assert r.status_code == 200, r.text
    assert "<h1><bdi>Как вам доставка Delivery?</bdi></h1>" in (await client.get(f"/s/{token_of(body['url'])}")).text


async def test_the_question_is_the_heading_and_every_page_has_a_main_landmark(
        client: Client, admin: Headers) -> None:
    body = await _sent(client, admin, kind="nps")
    question = "How likely are you to recommend us to a friend or colleague?"
    page = (await client.get(f"/s/{token_of(body['url'])}")).text
    # One heading, and it names the scale's group too: a screen reader's "next heading" lands on it.
    assert page.count("<h1") == 1 and f"<legend><h1>{question}</h1></legend>" in page
    w = (await client.get("/w/delivery")).text
    assert w.count("<h1") == 1 and "<legend><h1>" in w
    for r in (w, (await client.get("/w/missing")).text, (await client.post("/w/delivery", data={"score": "4"})).text):
        assert "<main>" in r and "</main>" in r


async def test_the_end_scores_are_named_by_their_labels(client: Client, admin: Headers) -> None:
    body = await _sent(client, admin, kind="nps", locale="ru")
    page = (await client.get(f"/s/{token_of(body['url'])}")).text
    # A screen reader moving through the radios, or listing them, hears "0, Крайне маловероятно":
    # the label is in the name, not in a description (the ends were named "0" and "10").
    assert 'value="0" required aria-label="0, Крайне маловероятно" aria-invalid="false">' in page
    assert 'value="10" required aria-label="10, Очень вероятно" aria-invalid="false">' in page
    assert 'value="5" required aria-invalid="false">' in page
    assert page.count("aria-label=") == 2 and "aria-describedby=\"end-" not in page
    w = (await client.get("/w/delivery")).text
    assert 'aria-label="0, Not at all likely"' in w and 'aria-label="10, Extremely likely"' in w


async def test_unknown_forged_and_expired_links(client: Client, admin: Headers, conn: Connection) -> None:
    body = await _sent(client, admin, locale="ru")
    token = token_of(body["url"])
    r = await client.get("/s/" + "A" * 43)
    # Worded for a customer holding a survey link, not a generic missing page, and what to do.
    assert r.status_code == 404 and "This survey link is not valid" in r.text
    assert "open the link again from the email" in r.text and "ask for a new one" in r.text
    assert "Page not found" not in r.text and "mistyped" not in r.text
    r = await client.get("/s/" + token[:-1] + ("A" if token[-1] != "A" else "B"), headers={"Accept-Language": "ru"})
    assert r.status_code == 404 and "Ссылка на опрос недействительна" in r.text
    assert "попросите новую ссылку" in r.text and "Страница не найдена" not in r.text
    r = await client.post("/s/" + "A" * 43, data={"score": "3"})
    assert r.status_code == 404 and "This survey link is not valid" in r.text
    assert (await client.get("/s/short")).status_code == 404
    assert (await client.get("/s/" + "x" * 300)).status_code == 404
    await conn.execute("UPDATE invitations SET expires_at = now() - interval '1 minute'")
    r = await client.get(f"/s/{token}")
    # Worded for a survey link, and what to do, in the invitation's language.
    assert r.status_code == 410 and "Срок действия ссылки на опрос истёк" in r.text
    assert "ответы по ней больше не принимаются" in r.text and "воспользуйтесь ею" in r.text
    r = await client.post(f"/s/{token}", data={"score": "3"})
    assert r.status_code == 410 and "Срок действия ссылки на опрос истёк" in r.text
    sent = await invite(client, admin, "delivery", "c-2")
    assert sent.status_code == 201, sent.text
    english = token_of(sent.json()["url"])
    await conn.execute("UPDATE invitations SET expires_at = now() - interval '1 minute'")
    r = await client.get(f"/s/{english}", headers={"Accept-Language": "ru"})
    assert r.status_code == 410 and "This survey link has expired" in r.text
    assert "no longer takes answers" in r.text and "please use that one" in r.text
    assert "This link has expired" not in r.text


async def test_an_answered_link_that_expired_thanks_rather_than_says_closed(
        client: Client, admin: Headers, conn: Connection) -> None:
    token = token_of((await _sent(client, admin))["url"])
    assert (await client.post(f"/s/{token}", data={"score": "4"})).status_code == 200
    await conn.execute("UPDATE invitations SET expires_at = now() - interval '1 minute'")
    for r in (await client.get(f"/s/{token}"), await client.post(f"/s/{token}", data={"score": "1"})):
        assert r.status_code == 410 and "Your answer is already recorded" in r.text
        assert "closed" not in r.text and "<form" not in r.text
    assert await conn.fetchval("SELECT score FROM responses") == 4


async def test_one_click_get_preselects_and_logs_but_records_nothing(
        client: Client, admin: Headers, conn: Connection) -> None:
    body = await _sent(client, admin)
    path = body["one_click_urls"]["4"].replace("http://testserver.local", "")
    r = await client.get(path, headers={"User-Agent": "Mail/1.0"})
    assert r.status_code == 200
    assert 'value="4" checked' in r.text and r.text.count('" checked') == 1
    # The page says the click chose a score and Send records it: nothing is stored yet.
    assert "You chose 4." in r.text and "press Send to record your answer" in r.text
    assert await conn.fetchval("SELECT count(*) FROM responses") == 0
    click = await conn.fetchrow("SELECT score, user_agent FROM invitation_clicks")
    assert click is not None and click["score"] == 4 and click["user_agent"] == "Mail/1.0"
    inv = await conn.fetchrow("SELECT first_clicked_at, suspected_scanner FROM invitations")
    assert inv is not None and inv["first_clicked_at"] is not None and not inv["suspected_scanner"]
    assert (await client.get(path.replace("=4", "=99"))).status_code == 200
    assert (await client.get(path.replace("=4", "=abc"))).status_code == 200


async def test_a_survey_page_with_an_earlier_answer_is_never_cached(
        client: Client, admin: Headers, conn: Connection) -> None:
    token = token_of((await _sent(client, admin))["url"])
    assert (await client.post(f"/s/{token}", data={"score": "2", "comment": "Rude courier"})).status_code == 200
    # The page shows the answer and its comment to whoever holds the link.
    assert "Rude courier" in (await client.get(f"/s/{token}")).text
    for r in (await client.get(f"/s/{token}"), await client.head(f"/s/{token}"),
              await client.post(f"/s/{token}", data={"score": "3"})):
        assert r.status_code == 200
        assert "no-store" in r.headers.get("cache-control", ""), (r.request.method, r.headers)


async def test_several_scores_within_seconds_flag_a_scanner(client: Client, admin: Headers,
                                                            conn: Connection) -> None:
    body = await _sent(client, admin)
    for n in ("1", "2", "3"):
        await client.get(body["one_click_urls"][n].replace("http://testserver.local", ""))
    assert await conn.fetchval("SELECT suspected_scanner FROM invitations") is True
    assert await conn.fetchval("SELECT sum(scanner) FROM touchpoint_daily_funnel") == 1


async def test_a_scanner_flagged_invitation_that_is_answered_counts_as_a_persons_click(
        client: Client, admin: Headers, conn: Connection) -> None:
    # Three invitations: a scanner alone (a), a scanner then the customer's answer (b), a
    # customer's single click (c). Only (a) was clicked by nobody but a scanner.
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    sent = {}
    for name in "abc":
        r = await invite(client, admin, "delivery", f"c-{name}")
        assert r.status_code == 201, r.text
        sent[name] = r.json()

    async def click(name: str, score: str) -> None:
        path = sent[name]["one_click_urls"][score].replace("http://testserver.local", "")
        assert (await client.get(path)).status_code == 200

    for name in "ab":
        for score in ("1", "2", "3"):
            await click(name, score)
    await click("c", "4")
    flags = "SELECT customer_ref, suspected_scanner FROM invitations ORDER BY customer_ref"
    assert [tuple(r) for r in await conn.fetch(flags)] == [("c-a", True), ("c-b", True), ("c-c", False)]
    token = token_of(sent["b"]["url"])
    assert (await client.post(f"/s/{token}", data={"score": "4"})).status_code == 200
    # The answer clears the suspicion; clicking the email's scores again does not set it.
    for score in ("1", "5"):
        await click("b", score)
    assert [tuple(r) for r in await conn.fetch(flags)] == [("c-a", True), ("c-b", False), ("c-c", False)]
    funnel_row = await conn.fetchrow("SELECT sum(clicked) AS clicked, sum(scanner) AS scanner, "
                                     "sum(answered) AS answered FROM touchpoint_daily_funnel")
    assert funnel_row is not None and tuple(funnel_row) == (3, 1, 1)
    r = await client.get("/api/v1/touchpoints/delivery/report", headers=admin)
    assert r.status_code == 200, r.text
    funnel = r.json()["funnel"]
    assert (funnel["invited"], funnel["clicked"], funnel["clicked_by_people"]) == (3, 3, 2)
    assert funnel["suspected_scanners"] == 1 and abs(funnel["click_rate"] - 200 / 3) < 1e-9
    assert "clicked by people / invited" in funnel["definition"]


async def test_a_person_who_opens_the_link_after_a_scanner_counts_as_a_persons_click(
        client: Client, admin: Headers, conn: Connection) -> None:
    # Three invitations, none answered: a scanner's burst, then an hour later the customer
    # opens the survey and leaves (a); the customer's click, then an hour later a scanner
    # re-checking every link (b); a scanner's burst alone (c). Only (c) had no person.
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    sent = {}
    for name in "abc":
        r = await invite(client, admin, "delivery", f"c-{name}")
        assert r.status_code == 201, r.text
        sent[name] = r.json()

    async def click(name: str, score: str | None) -> None:
        url = sent[name]["url"] if score is None else sent[name]["one_click_urls"][score]
        assert (await client.get(url.replace("http://testserver.local", ""))).status_code == 200

    async def an_hour_passes() -> None:
        await conn.execute("UPDATE invitation_clicks SET clicked_at = clicked_at - interval '1 hour'")

    for name in "ac":
        for score in ("1", "2", "3"):
            await click(name, score)
    await click("b", "4")
    await an_hour_passes()
    await click("a", None)  # the plain link: the survey page, no score
    await click("a", "2")  # and a score, one of those the scanner followed
    for score in ("1", "2", "3", "4", "5"):
        await click("b", score)
    flags = "SELECT customer_ref, suspected_scanner FROM invitations ORDER BY customer_ref"
    assert [tuple(r) for r in await conn.fetch(flags)] == [("c-a", False), ("c-b", False), ("c-c", True)]
    r = await client.get("/api/v1/touchpoints/delivery/report", headers=admin)
    assert r.status_code == 200, r.text
    funnel = r.json()["funnel"]
    assert (funnel["clicked"], funnel["suspected_scanners"], funnel["clicked_by_people"]) == (3, 1, 2)


async def test_a_scanners_clicks_at_the_same_moment_still_mark_it(
        client: Client, admin: Headers, conn: Connection, database_url: str) -> None:
    # A scanner fetches two of the email's scores at once: each click's check must see the
    # other, or neither sees a second score and a scanner counts as a person.
    body = await _sent(client, admin)
    invitation = await repo.invitation_by_token(conn, token_hash=digest(token_of(body["url"])))
    assert invitation is not None
    async with connect(database_url) as first, connect(database_url) as second:
        async with first.transaction():
            assert await repo.record_click(first, invitation=invitation, score=1, user_agent="scanner")
            other = asyncio.create_task(repo.record_click(second, invitation=invitation, score=2,
                                                          user_agent="scanner"))
            await asyncio.sleep(0.3)
        assert await other
    assert await conn.fetchval("SELECT count(*) FROM invitation_clicks") == 2
    assert await conn.fetchval("SELECT suspected_scanner FROM invitations") is True
    assert await conn.fetchval("SELECT sum(scanner) FROM touchpoint_daily_funnel") == 1


async def test_submission_stores_everything_and_thanks(client: Client, admin: Headers,
                                                       conn: Connection) -> None:
    body = await _sent(client, admin, locale="en", channel="app", context={"order": "A-1"})
    token = token_of(body["url"])
    r = await client.post(f"/s/{token}", data={"score": "2", "comment": "The courier was late and rude."})
    assert r.status_code == 200 and "Thank you!" in r.text
    assert f'href="/s/{token}"' in r.text  # may still change the answer
    row = await conn.fetchrow("SELECT * FROM responses")
    assert row is not None
    assert (row["score"], row["kind"], row["scale_min"], row["scale_max"]) == (2, "csat", 1, 5)
    assert row["source"] == "link" and row["channel"] == "app" and row["locale"] == "en"
    assert row["customer_ref"] == "c-1" and row["invitation_id"] is not None
    assert row["sentiment_label"] == "negative" and row["language"] == "en" and row["analyzer_version"] >= 1
    assert row["themes"]
    tp = await conn.fetchrow("SELECT t.id, t.owner_id, t.stage_id, s.journey_id FROM touchpoints t "
                             "JOIN stages s ON s.id = t.stage_id")
    assert tp is not None
    assert (row["owner_id"], row["stage_id"], row["journey_id"]) == (tp["owner_id"], tp["stage_id"], tp["journey_id"])
    assert await conn.fetchval("SELECT answered_at IS NOT NULL FROM invitations")
    page = (await client.get(f"/s/{token}")).text
    assert 'value="2" checked' in page and "The courier was late and rude." in page


async def test_bad_score_shows_the_page_again_with_a_message(client: Client, admin: Headers,
                                                            conn: Connection) -> None:
    body = await _sent(client, admin, locale="ru")
    token = token_of(body["url"])
    for score in ("", "0", "6", "abc", "99999999999999999999"):
        r = await client.post(f"/s/{token}", data={"score": score, "comment": "Мой комментарий"})
        assert r.status_code == 422
        assert "Пожалуйста, выберите оценку от 1 до 5." in r.text and "Мой комментарий" in r.text
    r = await client.post(f"/s/{token}", data={"score": "3", "comment": "x" * 2001})
    assert r.status_code == 422 and "до 2000 символов (сейчас в нём 2001 символ)." in r.text
    assert await conn.fetchval("SELECT count(*) FROM responses") == 0


async def test_an_error_is_tied_to_its_field_and_announced_without_javascript(
        client: Client, admin: Headers) -> None:
    token = token_of((await _sent(client, admin))["url"])
    page = (await client.post(f"/s/{token}", data={"score": "", "comment": "Late"})).text
    # The title is read first on load; the radios are invalid, described by the message, and focused.
    assert "<title>Error: How satisfied" in page
    # Each radio, not only the group around them, is described by the message.
    assert '<fieldset aria-describedby="scale-hint">' in page
    assert page.count('aria-invalid="true" aria-describedby="form-error"') == 5 and page.count("autofocus") == 1
    assert ('value="1" required aria-label="1, Very dissatisfied" aria-invalid="true" '
            'aria-describedby="form-error" autofocus>') in page
    assert '<textarea id="comment" name="comment" maxlength="2000" rows="4" dir="auto">Late</textarea>' in page
    # A comment too long is the comment's error, not the score's.
    page = (await client.post(f"/s/{token}", data={"score": "3", "comment": "x" * 2001})).text
    assert '<fieldset aria-describedby="scale-hint">' in page
    assert 'value="3" checked required aria-invalid="false">' in page
    assert ('<textarea id="comment" name="comment" maxlength="2000" rows="4" dir="auto" aria-invalid="true" '
            'aria-describedby="form-error" autofocus>') in page
    assert page.count('aria-invalid="true"') == 1
    # Russian, and the widget's form the same way.
    ru = token_of((await invite(client, admin, "delivery", "c-2", locale="ru")).json()["url"])
    assert "<title>Ошибка: " in (await client.post(f"/s/{ru}", data={"score": "9"})).text
    widget = (await client.post("/w/delivery", data={"score": "9"})).text
    assert "<title>Error: " in widget and widget.count('aria-invalid="true"') == 5
    # Before a send the radios say they are not in error: to Chromium a required radio group with
    # none chosen was invalid, and a screen reader said so on every score of a fresh page.
    clean = (await client.get(f"/s/{token}")).text
    assert clean.count('aria-invalid="false"') == 5 and 'aria-invalid="true"' not in clean
    assert "form-error" not in clean and "autofocus" not in clean and "<title>Error" not in clean


# :focus and :focus-within match a tap or a click too, not only the keyboard.
_POINTER_FOCUS = re.compile(r":focus(?!-visible)")
_COMMENTS = re.compile(r"/\*.*?\*/|\{#.*?#\}", re.S)
_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


async def test_focus_rings_show_for_the_keyboard_only_and_never_vanish(client: Client, admin: Headers) -> None:
    token = token_of((await _sent(client, admin))["url"])
    for url in (f"/s/{token}", "/w/delivery"):
        page = (await client.get(url)).text
        css = _COMMENTS.sub("", "".join(re.findall(r"<style>(.*?)</style>", page, re.S)))
        # A ring drawn on :focus or :focus-within showed on a tapped score.
        assert not _POINTER_FOCUS.search(css), (url, _POINTER_FOCUS.findall(css))
        assert not re.search(r"outline(-style)?:\s*(none|0)\b", css), url
        # The radio is invisible: a keyboard user's ring is drawn on the score's face.
        assert ".scale input:focus-visible + span { outline: 3px solid" in css, url
        assert "textarea:focus-visible" in css and "button:focus-visible" in css, url
    # Every other page's styles too (the reports' period form, the thanks and error pages).
    for template in sorted(_TEMPLATES.glob("*.html")):
        assert not _POINTER_FOCUS.search(_COMMENTS.sub("", template.read_text())), template.name


async def test_fifty_concurrent_submissions_make_one_response(client: Client, admin: Headers,
                                                             conn: Connection) -> None:
    body = await _sent(client, admin)
    token = token_of(body["url"])
    answers = await asyncio.gather(*(client.post(f"/s/{token}", data={"score": str(1 + n % 5)})
                                     for n in range(50)))
    assert {a.status_code for a in answers} == {200}
    assert await conn.fetchval("SELECT count(*) FROM responses") == 1
    assert await conn.fetchval("SELECT edits FROM responses") == 49
    await conn.execute("SELECT fold_rollups()")  # the rollups as a reader sees them
    assert await conn.fetchval("SELECT sum(responses) FROM touchpoint_daily") == 1


async def test_a_score_picked_on_the_old_scale_is_not_read_on_the_new_one(
        client: Client, admin: Headers, conn: Connection) -> None:
    # An email went out with CSAT's 1–5 buttons; then the touchpoint became NPS (0–10), where
    # a "5" is a detractor: the click must not pre-select it, nor a form shown as CSAT store it.
    body = await _sent(client, admin)
    token = token_of(body["url"])
    r = await client.patch("/api/v1/touchpoints/delivery", json={"kind": "nps"}, headers=admin)
    assert r.status_code == 200, r.text
    page = await client.get(body["one_click_urls"]["5"].replace("http://testserver.local", ""))
    assert page.status_code == 200 and '" checked' not in page.text
    assert "This question has changed since it was sent to you" in page.text
    assert 'name="kind" value="nps"' in page.text and 'value="10"' in page.text
    assert await conn.fetchval("SELECT score FROM invitation_clicks") is None
    stale = await client.post(f"/s/{token}", data={"score": "5", "kind": "csat"})
    assert stale.status_code == 422 and "Please choose your answer again" in stale.text
    assert await conn.fetchval("SELECT count(*) FROM responses") == 0
    fresh = await client.post(f"/s/{token}", data={"score": "5", "kind": "nps"})
    assert fresh.status_code == 200, fresh.text
    row = await conn.fetchrow("SELECT kind, scale_min, scale_max, score FROM responses")
    assert row is not None and tuple(row) == ("nps", 0, 10, 5)


async def test_an_answer_given_on_the_old_scale_is_not_offered_as_a_choice_on_the_new_one(
        client: Client, admin: Headers) -> None:
    body = await _sent(client, admin)
    token = token_of(body["url"])
    assert (await client.post(f"/s/{token}", data={"score": "5", "kind": "csat"})).status_code == 200
    r = await client.patch("/api/v1/touchpoints/delivery", json={"kind": "nps"}, headers=admin)
    assert r.status_code == 200, r.text
    page = await client.get(f"/s/{token}")
    assert page.status_code == 200 and '" checked' not in page.text
    assert "This question has changed since it was sent to you" in page.text
    assert "You have answered already" not in page.text


async def test_a_form_answer_stores_the_kind_its_score_was_checked_on(
        app: Litestar, client: Client, admin: Headers, conn: Connection) -> None:
    # The form path reads touchpoints through a cache: while the instance's listener is away
    # (its connection lost) an entry lives its few seconds' TTL, and an answer checked on CSAT's
    # scale just after the kind changed is stored as CSAT, never as "NPS on 1–5".
    await app.state.cache_listener.close()
    body = await _sent(client, admin)
    token = token_of(body["url"])
    assert (await client.post(f"/s/{token}", data={"score": "4", "kind": "csat"})).status_code == 200
    r = await client.patch("/api/v1/touchpoints/delivery", json={"kind": "nps"}, headers=admin)
    assert r.status_code == 200, r.text
    assert (await client.post(f"/s/{token}", data={"score": "5", "kind": "csat"})).status_code == 200
    row = await conn.fetchrow("SELECT kind, scale_min, scale_max, score FROM responses")
    assert row is not None and tuple(row) == ("csat", 1, 5, 5)


async def test_another_score_clicked_after_answering_says_both(client: Client, admin: Headers,
                                                                conn: Connection) -> None:
    # Answered 4, then clicked 2 in the email: the page must not say "answered (4)" beside a 2.
    body = await _sent(client, admin)
    token = token_of(body["url"])
    assert (await client.post(f"/s/{token}", data={"score": "4", "kind": "csat"})).status_code == 200
    page = await client.get(body["one_click_urls"]["2"].replace("http://testserver.local", ""))
    assert 'value="2" checked' in page.text and page.text.count('" checked') == 1
    assert "You answered 4 before and chose 2 now. Press Send to change your answer." in page.text
    assert "You have answered already" not in page.text
    again = await client.get(body["one_click_urls"]["4"].replace("http://testserver.local", ""))
    assert "You have answered already (4)." in again.text and 'value="4" checked' in again.text
    assert await conn.fetchval("SELECT score FROM responses") == 4


async def test_edit_within_window_then_locked(client: Client, admin: Headers, conn: Connection) -> None:
    body = await _sent(client, admin)
    token = token_of(body["url"])
    await client.post(f"/s/{token}", data={"score": "2"})
    # The thank-you page refreshed: the same answer posted again is not an edit.
    assert (await client.post(f"/s/{token}", data={"score": "2"})).status_code == 200
    assert await conn.fetchval("SELECT edits FROM responses") == 0
    r = await client.get(f"/s/{token}")  # reopened: the page says an answer exists and is changed here
    assert "You have answered already (2)." in r.text and 'value="2" checked' in r.text
    r = await client.post(f"/s/{token}", data={"score": "5", "comment": "Actually fine"})
    assert r.status_code == 200
    row = await conn.fetchrow("SELECT score, edits, updated_at > created_at AS moved FROM responses")
    assert row is not None and (row["score"], row["edits"], row["moved"]) == (5, 1, True)
    await conn.execute("UPDATE responses SET created_at = now() - interval '8 days'")
    r = await client.post(f"/s/{token}", data={"score": "1"})
    assert r.status_code == 409 and "already recorded" in r.text
    assert await conn.fetchval("SELECT score FROM responses") == 5
    r = await client.get(f"/s/{token}")
    assert "already recorded" in r.text and "<form" not in r.text


async def test_comments_and_context_are_escaped(client: Client, admin: Headers) -> None:
    evil = '<script>alert(1)</script>"><svg onload=alert(2)>'
    body = await _sent(client, admin, context={"agent": evil})
    token = token_of(body["url"])
    r = await client.post(f"/s/{token}", data={"score": "9", "comment": evil})
    assert r.status_code == 422
    assert "<script>" not in r.text and "<svg" not in r.text
    assert html.escape(evil, quote=False) in r.text or "&lt;script&gt;" in r.text
    await client.post(f"/s/{token}", data={"score": "3", "comment": evil})
    page = (await client.get(f"/s/{token}")).text
    assert "<script>" not in page and "<svg" not in page and "&lt;svg onload" in page


# Apps and websites


async def test_api_response_is_validated_and_stored(client: Client, admin: Headers, conn: Connection) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "checkout", kind="ces")
    r = await client.post("/api/v1/responses", headers=admin, json={
        "touchpoint": "checkout", "score": 6, "comment": "Quick and easy checkout", "customer": "u1",
        "channel": "app", "context": {"screen": "pay"}})
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["kind"] == "ces" and (got["band"], got["category"]) == ("high", "easy") and got["source"] == "api"
    assert got["sentiment"]["label"] == "positive" and got["themes"]
    row = await conn.fetchrow("SELECT score, comment, source, context::text AS c FROM responses WHERE id = $1::uuid",
                              got["id"])
    assert row is not None and row["score"] == 6 and row["c"] == '{"screen": "pay"}'
    r = await client.post("/api/v1/responses", headers=admin, json={"touchpoint": "nope", "score": 3})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "touchpoint"
    r = await client.post("/api/v1/responses", headers=admin, json={"touchpoint": "checkout", "score": 8})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "score" and "1 and 7" in r.text
    r = await client.post("/api/v1/responses", headers=admin, json={"touchpoint": "checkout", "score": 99999})
    assert r.status_code == 422
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    r = await client.post("/api/v1/responses", headers=admin,
                          json={"touchpoint": "checkout", "score": 3, "occurred_at": future})
    assert r.status_code == 422 and "occurred_at" in r.text
    old = (datetime.now(UTC) - timedelta(days=400)).isoformat()
    r = await client.post("/api/v1/responses", headers=admin,
                          json={"touchpoint": "checkout", "score": 3, "occurred_at": old})
    assert r.status_code == 422
    skew = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    r = await client.post("/api/v1/responses", headers=admin,
                          json={"touchpoint": "checkout", "score": 3, "occurred_at": skew})
    assert r.status_code == 201
    r = await client.post("/api/v1/responses", headers=admin,
                          json={"touchpoint": "checkout", "score": 3, "occurred_at": "2026-01-01T00:00:00"})
    assert r.status_code == 422  # a time without its zone is ambiguous


async def test_an_api_answer_takes_json_types_as_they_are(client: Client, admin: Headers, conn: Connection) -> None:
    # A score sent as text (or as 4.0) is refused by name, on the fast lane and on the framework's
    # path alike (a +json media type goes the framework's way); the survey form still reads text.
    w = await world(client, admin)
    await touchpoint(client, admin, w, "checkout")
    for content_type in ("application/json", "application/vnd.shop+json"):
        for body in (b'{"touchpoint": "checkout", "score": "4"}', b'{"touchpoint": "checkout", "score": 4.0}',
                     b'{"touchpoint": "checkout", "score": 4, "occurred_at": 1700000000}'):
            r = await client.post("/api/v1/responses", content=body,
                                  headers={**admin, "content-type": content_type})
            assert r.status_code == 422, (content_type, body, r.text)
            assert [e["field"] for e in r.json()["errors"]] in (["score"], ["occurred_at"]), r.text
    assert await conn.fetchval("SELECT count(*) FROM responses") == 0
    r = await client.post("/api/v1/responses", content=b'{"touchpoint": "checkout", "score": 4}',
                          headers={**admin, "content-type": "application/vnd.shop+json"})
    assert r.status_code == 201, r.text


async def test_an_api_answer_naming_its_invitation_is_that_invitations_answer(
        client: Client, admin: Headers, conn: Connection) -> None:
    sent = await _sent(client, admin, key="refund-nps", kind="nps", customer="crm-9", event_id="e9",
                       context={"order": "R-9"}, locale="ru")
    answer = {"touchpoint": "refund-nps", "score": 9, "customer": "crm-9", "invitation_id": sent["id"]}
    r = await client.post("/api/v1/responses", headers=admin, json=answer)
    assert r.status_code == 201, r.text
    got = r.json()
    # What it leaves out is the invitation's, as on the survey link; its source says how it came.
    assert (got["invitation_id"], got["customer"], got["locale"], got["context"], got["source"]) == (
        sent["id"], "crm-9", "ru", {"order": "R-9"}, "api")
    invitation = (await client.get(f"/api/v1/invitations/{sent['id']}", headers=admin)).json()
    assert invitation["answered_at"] is not None and invitation["response"] == got
    assert await conn.fetchval("SELECT sum(answered) FROM touchpoint_daily_funnel") == 1
    # The customer left out is the invitation's too.
    r = await client.post("/api/v1/responses", headers=admin, json={**answer, "customer": None, "score": 10})
    # Answered again within the edit window: the answer is changed, as through the link (200).
    assert r.status_code == 200, r.text
    edited = r.json()
    assert (edited["id"], edited["score"], edited["edits"], edited["created_at"]) == (
        got["id"], 10, 1, got["created_at"])
    # The survey link sees the same one answer, and changes it in turn.
    assert (await client.post(f"/s/{token_of(sent['url'])}", data={"score": "3"})).status_code == 200
    assert await conn.fetchval("SELECT count(*) FROM responses") == 1
    assert await conn.fetchval("SELECT (score, edits)::text FROM responses") == "(3,2)"
    await conn.execute("UPDATE responses SET created_at = now() - interval '8 days'")
    r = await client.post("/api/v1/responses", headers=admin, json=answer)
    assert r.status_code == 409 and r.json()["type"] == problem_type("already-answered"), r.text
    assert r.json()["errors"] == [{"field": "invitation_id", "message": "was already answered"}]
    assert await conn.fetchval("SELECT score FROM responses") == 3


async def test_an_api_answer_to_an_invitation_is_refused_as_its_link_would_be(
        client: Client, admin: Headers, conn: Connection) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    await touchpoint(client, admin, w, "other")
    sent = (await invite(client, admin, "delivery", "crm-1")).json()
    skipped = (await invite(client, admin, "delivery", "crm-1")).json()  # recontact_days: not asked again
    assert skipped["decision"] == "skipped"
    base = {"touchpoint": "delivery", "score": 4, "invitation_id": sent["id"]}
    cases = [({**base, "touchpoint": "other"}, 422, "invitation_id", "of touchpoint 'delivery'"),
             ({**base, "invitation_id": "01a2077f-84e0-70b2-9847-4d828bcea750"}, 422, "invitation_id", "no invitation"),
             ({**base, "invitation_id": skipped["id"]}, 422, "invitation_id", "was not sent"),
             ({**base, "invitation_id": "nope"}, 422, "invitation_id", "must be a UUID"),
             ({**base, "customer": "crm-2"}, 422, "customer", "not the customer"),
             ({**base, "score": 6}, 422, "score", "between 1 and 5")]
    for body, status, field, words in cases:
        r = await client.post("/api/v1/responses", headers=admin, json=body)
        assert r.status_code == status, (body, r.text)
        assert [e["field"] for e in r.json()["errors"]] == [field] and words in r.text, (body, r.text)
    # A paused touchpoint's invitation is still answered, as its link is.
    assert (await client.patch("/api/v1/touchpoints/delivery", json={"active": False}, headers=admin)).is_success
    key = {**admin, "Idempotency-Key": "answer-1"}
    r = await client.post("/api/v1/responses", headers=key, json=base)
    assert r.status_code == 201, r.text
    # Its retry gets the first answer byte for byte; another body with the key is refused.
    again = await client.post("/api/v1/responses", headers=key, json=base)
    assert (again.status_code, again.content) == (201, r.content)
    other = await client.post("/api/v1/responses", headers=key, json={**base, "score": 2})
    assert other.status_code == 422 and other.json()["type"] == problem_type("idempotency-key-reused")
    assert await conn.fetchval("SELECT score FROM responses") == 4
    # Expired: the problem its survey link gives, naming the field.
    await conn.execute("UPDATE invitations SET expires_at = now() - interval '1 minute'")
    r = await client.post("/api/v1/responses", headers=admin, json={**base, "score": 1})
    assert r.status_code == 410 and r.json()["type"] == problem_type("link-expired"), r.text
    assert r.json()["errors"] == [{"field": "invitation_id", "message": "has expired"}]
    link = await client.post(f"/s/{token_of(sent['url'])}", data={"score": "1"})
    assert link.status_code == 410
    assert await conn.fetchval("SELECT score FROM responses") == 4


async def test_api_answers_for_a_paused_touchpoint_are_a_409_while_its_sent_links_stay_open(
        client: Client, admin: Headers, conn: Connection) -> None:
    sent = await _sent(client, admin, key="delivery")
    r = await client.patch("/api/v1/touchpoints/delivery", json={"active": False}, headers=admin)
    assert r.status_code == 200 and r.json()["active"] is False
    r = await client.post("/api/v1/responses", headers=admin, json={"touchpoint": "delivery", "score": 4})
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "touchpoint" and "paused" in r.json()["detail"], r.text
    assert "'delivery'" in r.json()["detail"] and r.json()["type"] == problem_type("touchpoint-paused")
    assert await conn.fetchval("SELECT count(*) FROM responses") == 0
    # An invitation sent before the pause promised the customer a question: it is still answered.
    r = await client.post(f"/s/{token_of(sent['url'])}", data={"score": "4"})
    assert r.status_code == 200 and "Thank you" in r.text
    assert await conn.fetchval("SELECT count(*) FROM responses") == 1


async def test_an_api_comment_of_only_spaces_is_no_comment(client: Client, admin: Headers,
                                                              conn: Connection) -> None:
    # As on the survey page: otherwise it counts as a comment in reports and has_comment=true.
    w = await world(client, admin)
    await touchpoint(client, admin, w, "checkout", kind="ces")
    for comment in ("   ", "\n\t "):
        r = await client.post("/api/v1/responses", headers=admin,
                              json={"touchpoint": "checkout", "score": 2, "comment": comment})
        assert r.status_code == 201, r.text
        assert r.json()["comment"] is None and r.json()["sentiment"]["language"] is None
    r = await client.post("/api/v1/responses", headers=admin,
                          json={"touchpoint": "checkout", "score": 2, "comment": "  Slow page \n"})
    assert r.json()["comment"] == "Slow page"
    assert await conn.fetchval("SELECT count(*) FROM responses WHERE comment IS NOT NULL") == 1
    await conn.execute("SELECT fold_rollups()")  # the rollups as a reader sees them
    assert await conn.fetchval("SELECT sum(comments) FROM touchpoint_daily") == 1
    r = await client.get("/api/v1/responses", headers=admin, params={"has_comment": "true"})
    assert [i["comment"] for i in r.json()["items"]] == ["Slow page"]


async def test_idempotency_key_replays_and_refuses_a_different_body(
        client: Client, admin: Headers, conn: Connection) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "checkout", kind="ces")
    payload = {"touchpoint": "checkout", "score": 5}
    first = await client.post("/api/v1/responses", headers={**admin, "Idempotency-Key": "k1"}, json=payload)
    again = await client.post("/api/v1/responses", headers={**admin, "Idempotency-Key": "k1"}, json=payload)
    assert first.status_code == again.status_code == 201 and first.content == again.content
    other = await client.post("/api/v1/responses", headers={**admin, "Idempotency-Key": "k1"},
                              json={**payload, "score": 4})
    assert other.status_code == 422 and other.json()["type"] == problem_type("idempotency-key-reused")
    assert other.json()["errors"] == [{"field": "Idempotency-Key",
                                       "message": "was already used with a different request body"}]
    racing = await asyncio.gather(*(client.post("/api/v1/responses", headers={**admin, "Idempotency-Key": "k2"},
                                                json=payload) for _ in range(20)))
    assert {r.status_code for r in racing} == {201} and len({r.content for r in racing}) == 1
    assert await conn.fetchval("SELECT count(*) FROM responses") == 2
    assert await conn.fetchval("SELECT count(*) FROM idempotency_keys") == 2


async def _waiting_for_locks(conn: Connection, count: int) -> None:
    """Until `count` sessions wait for an advisory lock (the writer's flushes and erasures take one)."""
    for _ in range(500):
        if await conn.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{count} sessions never waited for the lock")


async def _queued(app: Litestar, count: int) -> None:
    """Until `count` answers wait in the writer's queue for the next flush."""
    for _ in range(500):
        if len(app.state.intake.writer._pending) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{count} answers never reached the writer")


async def test_a_second_request_with_a_key_in_flight_waits_and_gets_the_first_answer(
        app: Litestar, client: Client, admin: Headers, conn: Connection, database_url: str) -> None:
    # The first request is held mid-flight: its flush waits for a lock the test holds in the
    # database (the one an erasure takes). The second, with the same key and body, is not told
    # that the first is in flight: it waits for it, then gets its answer byte for byte.
    w = await world(client, admin)
    await touchpoint(client, admin, w, "checkout", kind="ces")
    keyed = {**admin, "Idempotency-Key": "held"}
    payload = {"touchpoint": "checkout", "score": 5, "customer": "crm-1"}
    async with connect(database_url) as barrier, barrier.transaction():
        await repo.await_writes(barrier)  # the lock an erasure takes, held until the transaction ends
        first = asyncio.create_task(client.post("/api/v1/responses", headers=keyed, json=payload))
        await _waiting_for_locks(conn, 1)
        second = asyncio.create_task(client.post("/api/v1/responses", headers=keyed, json=payload))
        await _queued(app, 1)
        other = asyncio.create_task(client.post("/api/v1/responses", headers=keyed,
                                                json={**payload, "score": 4}))
        await _queued(app, 2)
        await asyncio.sleep(0.2)
        assert not (first.done() or second.done() or other.done())
    answers = [await first, await second, await other]
    assert [a.status_code for a in answers] == [201, 201, 422], [a.text for a in answers]
    assert answers[0].content == answers[1].content
    assert answers[2].json()["type"] == problem_type("idempotency-key-reused")
    assert await conn.fetchval("SELECT count(*) FROM responses") == 1


async def test_a_request_sharing_a_key_with_an_answer_that_was_not_kept_is_told_why(
        app: Litestar, client: Client, admin: Headers, conn: Connection, database_url: str) -> None:
    # Two requests with one key and body met in one flush, whose customer was erased while they
    # waited: the first was told 409 customer-erased (not stored, drop it), the second, never
    # written, 422 idempotency-key-in-flight ("retry the same request"): told to send again an
    # answer received before the erasure. It is now written on its own, and told the same 409.
    w = await world(client, admin)
    await touchpoint(client, admin, w, "checkout", kind="ces")
    keyed = {**admin, "Idempotency-Key": "erased"}
    payload = {"touchpoint": "checkout", "score": 5, "customer": "crm-1"}
    async with connect(database_url) as barrier, barrier.transaction():
        await repo.await_writes(barrier)
        # Another answer's flush waits for the lock; these two queue for the next one.
        decoy = asyncio.create_task(client.post("/api/v1/responses", headers=admin, json={
            "touchpoint": "checkout", "score": 3, "customer": "crm-2"}))
        await _waiting_for_locks(conn, 1)
        first = asyncio.create_task(client.post("/api/v1/responses", headers=keyed, json=payload))
        second = asyncio.create_task(client.post("/api/v1/responses", headers=keyed, json=payload))
        await _queued(app, 2)
        erasure = asyncio.create_task(client.delete("/api/v1/customers/crm-1", headers=admin))
        await _waiting_for_locks(conn, 2)  # its tombstone committed, it waits for the writes
        assert await conn.fetchval("SELECT count(*) FROM erasures") == 1
    assert (await decoy).status_code == 201
    assert (await erasure).status_code == 200
    answers = [await first, await second]
    assert [a.status_code for a in answers] == [409, 409], [a.text for a in answers]
    assert {a.json()["type"] for a in answers} == {problem_type("customer-erased")}
    assert await conn.fetchval("SELECT count(*) FROM responses WHERE customer_ref = 'crm-1'") == 0
    assert await conn.fetchval("SELECT count(*) FROM idempotency_keys") == 0
    # Sent again now, after the erasure, it is a new answer: stored.
    again = await client.post("/api/v1/responses", headers=keyed, json=payload)
    assert again.status_code == 201, again.text


async def test_an_idempotency_key_outside_its_documented_bounds_is_a_422_naming_it(
        client: Client, admin: Headers) -> None:
    # The bounds the API document gives (tests/test_api_docs.py), refused by the fast ingest lane
    # and by the framework's handler alike (a +json media type goes there); a NUL too, which
    # PostgreSQL would have refused with its own words.
    w = await world(client, admin)
    await touchpoint(client, admin, w, "checkout", kind="csat")
    for media in ("application/json", "application/vnd.shop+json"):
        for key, status in (("k" * 255, 201), ("k" * 256, 422), ("", 422), ("a\x00b", 422)):
            r = await client.post("/api/v1/responses", content=b'{"touchpoint": "checkout", "score": 4}',
                                  headers={**admin, "Idempotency-Key": key, "content-type": media})
            assert r.status_code == status, (media, len(key), r.text)
            if status == 422:
                assert [e["field"] for e in r.json()["errors"]] == ["Idempotency-Key"], r.text


async def test_two_hundred_concurrent_posts_are_all_committed(client: Client, admin: Headers,
                                                            conn: Connection) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "checkout", kind="nps")
    answers = await asyncio.gather(*(client.post("/api/v1/responses", headers=admin, json={
        "touchpoint": "checkout", "score": n % 11, "comment": "fast delivery" if n % 2 else None})
        for n in range(200)))
    assert [a.status_code for a in answers] == [201] * 200
    ids = [a.json()["id"] for a in answers]
    assert await conn.fetchval("SELECT count(*) FROM responses") == 200
    assert await conn.fetchval("SELECT count(*) FROM responses WHERE id = ANY($1::uuid[])", ids) == 200
    await conn.execute("SELECT fold_rollups()")  # the rollups as a reader sees them
    assert await conn.fetchval("SELECT sum(responses) FROM touchpoint_daily") == 200


async def test_widget_records_and_thanks_and_is_rate_limited(client: Client, admin: Headers,
                                                             conn: Connection) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "web-help", kind="csat")
    await touchpoint(client, admin, w, "retired", active=False)
    r = await client.get("/w/web-help")
    assert r.status_code == 200 and "<form" in r.text and "frame-ancestors *" in r.headers["content-security-policy"]
    # Worded in the browser's language, so a cache in front keeps one copy per language.
    assert r.headers["vary"] == "Accept-Language"
    r = await client.get("/w/web-help", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"})
    assert "Отправить" in r.text and r.headers["vary"] == "Accept-Language"
    assert (await client.get("/w/missing", headers={"Accept-Language": "ru"})).headers["vary"] == "Accept-Language"
    assert "set-cookie" not in r.headers and "<script" not in r.text
    r = await client.post("/w/web-help", data={"score": "5", "comment": "Helpful page"})
    assert r.status_code == 200 and "Thank you!" in r.text
    row = await conn.fetchrow("SELECT source, score, customer_ref FROM responses")
    assert row is not None and (row["source"], row["score"], row["customer_ref"]) == ("widget", 5, None)
    r = await client.post("/w/web-help", data={"score": "9"})
    assert r.status_code == 422
    # A key with no survey, or a paused one: worded for the customer on the site, in their language.
    for path in ("/w/missing", "/w/retired"):
        r = await client.get(path)
        assert r.status_code == 404 and "This survey is not available" in r.text, r.text
        assert "nothing you need to do" in r.text and "Page not found" not in r.text
        r = await client.get(path, headers={"Accept-Language": "ru"})
        assert r.status_code == 404 and "Опрос недоступен" in r.text and "делать ничего не нужно" in r.text
        assert "Страница не найдена" not in r.text and "<header" not in r.text
    r = await client.post("/w/missing", data={"score": "4"})
    assert r.status_code == 404 and "This survey is not available" in r.text
    statuses = [(await client.post("/w/web-help", data={"score": "4"})).status_code for _ in range(12)]
    assert 429 in statuses
    r = await client.post("/w/web-help", data={"score": "4"})
    assert r.status_code == 429 and "Too many attempts" in r.text and r.headers["retry-after"]
    assert 'href="/w/web-help"' in r.text  # a way back to the question
    assert "<header" not in r.text and "frame-ancestors *" in r.headers["content-security-policy"]
    r = await client.post("/w/web-help", data={"score": "4"}, headers={"Accept-Language": "ru"})
    assert r.status_code == 429 and "Слишком много попыток" in r.text and "Too many" not in r.text


# Privacy


async def test_erasure_removes_everything_of_a_customer(client: Client, admin: Headers, conn: Connection,
                                                       make_key: MakeKey) -> None:
    body = await _sent(client, admin, customer="gone")
    token = token_of(body["url"])
    await client.get(f"/s/{token}?score=2")
    await client.post(f"/s/{token}", data={"score": "2", "comment": "late"})
    retried = {"touchpoint": "delivery", "score": 4, "customer": "gone", "comment": "call me on 555-0100"}
    first = await client.post("/api/v1/responses", headers={**admin, "Idempotency-Key": "once"}, json=retried)
    assert first.status_code == 201, first.text
    await client.post("/api/v1/responses", headers={**admin, "Idempotency-Key": "kept"},
                      json={"touchpoint": "delivery", "score": 5, "customer": "stays"})
    ingest = bearer(await make_key("ingest"))
    assert (await client.delete("/api/v1/customers/gone", headers=ingest)).status_code == 403
    r = await client.delete("/api/v1/customers/gone", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json() == {"customer": "gone", "invitations": 1, "clicks": 1, "responses": 2}
    assert await conn.fetchval("SELECT count(*) FROM responses") == 1
    assert await conn.fetchval("SELECT count(*) FROM invitation_clicks") == 0
    await conn.execute("SELECT fold_rollups()")  # the rollups as a reader sees them
    assert await conn.fetchval("SELECT sum(responses) FROM touchpoint_daily") == 1
    assert await conn.fetchval("SELECT sum(invited) FROM touchpoint_daily_funnel") == 0
    # The answer stored for replays went too: a retry is a new answer, not the erased one again.
    assert await conn.fetchval("SELECT array_agg(key) FROM idempotency_keys") == ["kept"]
    again = await client.post("/api/v1/responses", headers={**admin, "Idempotency-Key": "once"}, json=retried)
    assert again.status_code == 201 and again.json()["id"] != first.json()["id"]
    r = await client.delete("/api/v1/customers/nobody", headers=admin)
    assert r.json() == {"customer": "nobody", "invitations": 0, "clicks": 0, "responses": 0}


async def test_erasure_waits_for_an_invitation_being_made_for_the_customer(
        client: Client, admin: Headers, conn: Connection, settings: Settings, database_url: str) -> None:
    # An invitation committed just after the erasure looked would survive it, link and all.
    await _sent(client, admin, customer="racing")
    async with connect(database_url) as other, other.transaction():
        await trigger(other, settings, "delivery", InvitationCreate(customer="racing", event_id="late"))
        erasure = asyncio.create_task(client.delete("/api/v1/customers/racing", headers=admin))
        await asyncio.sleep(0.5)  # the erasure is under way while the invitation is uncommitted
    r = await erasure
    assert r.status_code == 200 and r.json()["invitations"] == 2, r.text
    assert await conn.fetchval("SELECT count(*) FROM invitations WHERE customer_ref = 'racing'") == 0


async def test_erasure_takes_the_reference_exactly_as_encoded(client: Client, admin: Headers,
                                                              conn: Connection) -> None:
    await touchpoint(client, admin, await world(client, admin), "delivery")
    for ref in ("victim", "victim/", "a/b", "ü ref"):
        r = await client.post("/api/v1/responses", headers=admin,
                              json={"touchpoint": "delivery", "score": 4, "customer": ref})
        assert r.status_code == 201, r.text
    # "victim/" is not "victim" (routing trims a trailing "/"); "a/b" is one reference.
    for encoded, ref in (("victim%2F", "victim/"), ("a%2Fb", "a/b"), ("%C3%BC%20ref", "ü ref")):
        r = await client.delete(f"/api/v1/customers/{encoded}", headers=admin)
        assert r.status_code == 200, r.text
        assert r.json() == {"customer": ref, "invitations": 0, "clicks": 0, "responses": 1}
    assert await conn.fetchval("SELECT array_agg(customer_ref) FROM responses") == ["victim"]
    for encoded, field in (("%FF", "customer"), ("%00", "customer"), ("c" * 201, "customer")):
        r = await client.delete(f"/api/v1/customers/{encoded}", headers=admin)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
