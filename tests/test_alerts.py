"""Webhook alerts: a low score posts one signed alert to a real endpoint on 127.0.0.1, retried
until it is answered, never slowing the answer; configuration is checked and scoped."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import msgspec
import pytest
from litestar import Litestar

from feedback.alerts.delivery import AlertWorker, backoff, sign
from feedback.service.database import Connection, create_pool
from feedback.settings import Settings
from tests.conftest import MakeKey, bearer
from tests.test_collection_support import Client, Headers, invite, token_of, touchpoint, world

SECRET = "whsec-" + "s" * 26


class Hook:
    """A webhook endpoint on 127.0.0.1: records each POST and answers with the statuses queued
    (then 200), after `delay` seconds."""

    def __init__(self, statuses: list[int] | None = None, delay: float = 0.0, always: int = 200) -> None:
        self.statuses = list(statuses or [])
        self.always = always
        self.delay = delay
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                time.sleep(hook.delay)
                with hook._lock:
                    hook.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    status = hook.statuses.pop(0) if hook.statuses else hook.always
                answer = b'{"ok": true}' if status < 300 else b"endpoint says no"
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/cx"

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [msgspec.json.decode(body) for _, body in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    endpoint = Hook()
    yield endpoint
    endpoint.close()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Seconds become tenths: a retry schedule a test can wait out.
    return msgspec.structs.replace(settings, alert_poll_seconds=0.05, alert_retry_seconds=0.1,
                                   alert_attempts=3, alert_timeout_seconds=1.0)


async def until(check: Callable[[], Awaitable[bool] | bool], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while True:
        got = check()
        if got if isinstance(got, bool) else await got:
            return
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


async def _setup(client: Client, admin: Headers, kind: str = "nps") -> dict[str, Any]:
    w = await world(client, admin)
    w["touchpoint"] = await touchpoint(client, admin, w, "courier", kind)
    return w


async def _subscribe(client: Client, admin: Headers, owner: int, url: str, **extra: Any) -> dict[str, Any]:
    r = await client.post(f"/api/v1/owners/{owner}/alerts", json={"url": url, **extra}, headers=admin)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    assert r.headers["location"] == f"/api/v1/owners/{owner}/alerts/{body['id']}"
    return body


async def _answer(client: Client, ingest: Headers, score: int, comment: str | None = None,
                  customer: str = "c-1") -> dict[str, Any]:
    body: dict[str, Any] = {"touchpoint": "courier", "score": score, "customer": customer}
    if comment is not None:
        body["comment"] = comment
    r = await client.post("/api/v1/responses", json=body, headers=ingest)
    assert r.status_code == 201, r.text
    got: dict[str, Any] = r.json()
    return got


async def _deliveries(client: Client, headers: Headers, owner: int, alert: int) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/owners/{owner}/alerts/{alert}/deliveries", headers=headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def _settled(client: Client, admin: Headers, owner: int, alert: int, count: int = 1) -> list[dict[str, Any]]:
    """The deliveries once `count` of them are no longer pending."""
    found: list[dict[str, Any]] = []

    async def done() -> bool:
        found[:] = await _deliveries(client, admin, owner, alert)
        return sum(1 for d in found if d["status"] != "pending") >= count

    await until(done)
    return found


async def test_a_detractor_posts_one_signed_alert_with_the_answer_and_a_promoter_none(
        client: Client, admin: Headers, make_key: MakeKey, hook: Hook, settings: Settings) -> None:
    w = await _setup(client, admin)
    alert = await _subscribe(client, admin, w["owner"], hook.url, secret=SECRET)
    assert alert["triggers"] == ["low_score"] and alert["signed"] is True and "secret" not in alert
    ingest = bearer(await make_key("ingest"))
    await _answer(client, ingest, 9, "Lovely courier", customer="fan")
    stored = await _answer(client, ingest, 3, "The parcel came two days late & <broken>", customer="c-77")
    await until(lambda: len(hook.received) >= 1)
    # Several polls later there is still one: the promoter posted nothing, the detractor once.
    await asyncio.sleep(0.5)
    assert len(hook.received) == 1
    headers, raw = hook.received[0]
    assert headers["content-type"] == "application/json"
    stamp, mac = (part.split("=", 1)[1] for part in headers["touchpulse-signature"].split(","))
    assert abs(int(stamp) - time.time()) < 60
    expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(mac, expected)
    assert headers["touchpulse-signature"] == sign(SECRET, int(stamp), raw)
    body = msgspec.json.decode(raw)
    # The answer as POST /api/v1/responses showed it.
    assert body["answer"].keys() == stored.keys()
    for field in ("id", "touchpoint", "score", "band", "category", "comment", "customer", "kind", "source"):
        assert body["answer"][field] == stored[field], field
    assert body["answer"]["band"] == "low" and body["answer"]["category"] == "detractor"
    assert body["touchpoint"] == {"id": w["touchpoint"]["id"], "key": "courier", "name": "Courier"}
    assert body["stage"] == {"id": w["stage"], "name": w["touchpoint"]["stage"]}
    assert body["journey"] == {"id": w["journey"], "name": "Shop"}
    assert body["owner"] == {"id": w["owner"], "name": "Support"}
    assert body["alert"] == {"id": alert["id"], "delivery_id": int(headers["touchpulse-delivery"]),
                             "reason": "low_score"}
    # Slack's markup characters in the customer's words are escaped in `text`, not in the answer.
    assert "NPS 3 of 10, detractor" in body["text"] and "&amp; &lt;broken&gt;" in body["text"]
    assert body["report_url"] in body["text"]
    assert body["report_url"].startswith(f"{settings.base_url}/reports/owners/{w['owner']}?share=")
    page = await client.get(body["report_url"].removeprefix(settings.base_url))
    assert page.status_code == 200 and "Courier" in page.text
    [delivery] = await _settled(client, admin, w["owner"], alert["id"])
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1
    assert delivery["last_status"] == 200 and delivery["last_error"] is None
    assert delivery["response_id"] == stored["id"] and delivery["touchpoint"] == "courier"
    assert delivery["delivered_at"] and delivery["next_attempt_at"] is None


async def test_a_negative_comment_posts_where_it_is_wanted_and_a_low_band_follows_the_kind(
        client: Client, admin: Headers, make_key: MakeKey, hook: Hook) -> None:
    w = await _setup(client, admin, kind="csat")
    comments = await _subscribe(client, admin, w["owner"], hook.url, triggers=["negative_comment"])
    scores = await _subscribe(client, admin, w["owner"], hook.url)
    ingest = bearer(await make_key("ingest"))
    angry = await _answer(client, ingest, 4, "The courier was rude and the parcel arrived broken. Terrible.")
    assert angry["sentiment"]["label"] == "negative"
    await _answer(client, ingest, 3, customer="c-3")  # CSAT 3 is neutral: nobody hears of it
    quiet = await _answer(client, ingest, 2, customer="c-2")  # CSAT 2 is low
    await until(lambda: len(hook.received) >= 2)
    await asyncio.sleep(0.4)
    got = {(b["alert"]["id"], b["answer"]["id"], b["alert"]["reason"]) for b in hook.bodies()}
    assert got == {(comments["id"], angry["id"], "negative_comment"), (scores["id"], quiet["id"], "low_score")}


async def test_a_failing_endpoint_is_tried_again_until_it_answers(
        client: Client, admin: Headers, make_key: MakeKey) -> None:
    hook = Hook(statuses=[500, 503])
    try:
        w = await _setup(client, admin)
        alert = await _subscribe(client, admin, w["owner"], hook.url)
        await _answer(client, bearer(await make_key("ingest")), 0)
        [delivery] = await _settled(client, admin, w["owner"], alert["id"])
        assert delivery["status"] == "delivered" and delivery["attempts"] == 3
        assert delivery["last_status"] == 200 and delivery["last_error"] is None
        # One delivery, posted three times: a receiver tells repeats by this header.
        assert len(hook.received) == 3
        assert len({h["touchpulse-delivery"] for h, _ in hook.received}) == 1
        assert "touchpulse-signature" not in hook.received[0][0]  # no secret, no signature
    finally:
        hook.close()


async def test_a_delivery_is_failed_after_its_last_attempt_and_says_why(
        client: Client, admin: Headers, make_key: MakeKey) -> None:
    hook = Hook(always=502)
    try:
        w = await _setup(client, admin)
        alert = await _subscribe(client, admin, w["owner"], hook.url)
        await _answer(client, bearer(await make_key("ingest")), 1)
        [delivery] = await _settled(client, admin, w["owner"], alert["id"])
        assert delivery["status"] == "failed" and delivery["attempts"] == 3
        assert delivery["last_status"] == 502
        assert delivery["last_error"] == "HTTP 502: endpoint says no"
        assert delivery["next_attempt_at"] is None and delivery["delivered_at"] is None
        await asyncio.sleep(0.4)
        assert len(hook.received) == 3
        r = await client.get(f"/api/v1/owners/{w['owner']}/alerts/{alert['id']}/deliveries",
                             params={"status": "delivered"}, headers=admin)
        assert r.json()["items"] == []
    finally:
        hook.close()


def test_the_wait_between_posts_doubles_and_the_attempts_span_about_a_day() -> None:
    defaults = Settings()
    waits = [backoff(n, defaults.alert_retry_seconds) for n in range(1, defaults.alert_attempts)]
    assert waits[:3] == [60.0, 120.0, 240.0] and max(waits) == 6 * 3600
    assert 18 * 3600 < sum(waits) < 26 * 3600


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_an_answer_is_acknowledged_while_the_endpoint_is_down_and_erasure_takes_its_alert(
        client: Client, admin: Headers, make_key: MakeKey, conn: Connection) -> None:
    w = await _setup(client, admin)
    alert = await _subscribe(client, admin, w["owner"], f"http://127.0.0.1:{_closed_port()}/down")
    started = time.monotonic()
    stored = await _answer(client, bearer(await make_key("ingest")), 2, customer="gone-soon")
    assert time.monotonic() - started < 2
    tried: list[dict[str, Any]] = []

    async def attempted() -> bool:
        tried[:] = await _deliveries(client, admin, w["owner"], alert["id"])
        return bool(tried) and tried[0]["attempts"] >= 1 and tried[0]["last_error"] is not None

    await until(attempted)
    assert tried[0]["response_id"] == stored["id"] and tried[0]["last_status"] is None
    assert "refused" in tried[0]["last_error"].lower()
    # The outbox holds no customer's answer beyond the answer itself: erased with it.
    r = await client.delete("/api/v1/customers/gone-soon", headers=admin)
    assert r.status_code == 200, r.text
    assert await conn.fetchval("SELECT count(*) FROM alert_deliveries") == 0


async def test_a_survey_link_answer_edited_into_a_low_score_posts_once(
        client: Client, admin: Headers, hook: Hook) -> None:
    w = await _setup(client, admin)
    await _subscribe(client, admin, w["owner"], hook.url)
    r = await invite(client, admin, "courier", "link-customer")
    token = token_of(r.json()["url"])
    for score in ("9", "2", "1"):
        page = await client.post(f"/s/{token}", data={"score": score, "comment": ""})
        assert page.status_code == 200, page.text
        if score == "2":
            await until(lambda: len(hook.received) == 1)
    await asyncio.sleep(0.4)
    [body] = hook.bodies()
    assert body["answer"]["source"] == "link" and body["answer"]["invitation_id"] == r.json()["id"]


async def test_an_api_answer_naming_its_invitation_posts_once_even_when_changed(
        client: Client, admin: Headers, make_key: MakeKey, hook: Hook) -> None:
    # Such an answer is written in its own transaction, not the group commit: it alerts too.
    w = await _setup(client, admin)
    await _subscribe(client, admin, w["owner"], hook.url)
    invitation = (await invite(client, admin, "courier", "api-customer")).json()
    ingest = bearer(await make_key("ingest"))
    for score, status in ((2, 201), (1, 200)):
        r = await client.post("/api/v1/responses", headers=ingest, json={
            "touchpoint": "courier", "score": score, "invitation_id": invitation["id"]})
        assert r.status_code == status, r.text
    await until(lambda: len(hook.received) == 1)
    await asyncio.sleep(0.4)
    [body] = hook.bodies()
    assert body["answer"]["source"] == "api" and body["answer"]["invitation_id"] == invitation["id"]
    assert body["answer"]["customer"] == "api-customer"


async def test_two_instances_post_each_delivery_once(
        client: Client, admin: Headers, make_key: MakeKey, app: Litestar, database_url: str,
        settings: Settings) -> None:
    hook = Hook(delay=0.05)
    pools = [await create_pool(database_url, min_size=1, max_size=2) for _ in range(2)]
    others = [AlertWorker(pool, settings, app.state.alert_rules) for pool in pools]
    tasks = [asyncio.create_task(worker.run()) for worker in others]
    try:
        w = await _setup(client, admin)
        alert = await _subscribe(client, admin, w["owner"], hook.url)
        ingest = bearer(await make_key("ingest"))
        await asyncio.gather(*(_answer(client, ingest, n % 7, customer=f"c{n}") for n in range(40)))
        await _settled(client, admin, w["owner"], alert["id"], count=40)
        await asyncio.sleep(0.3)
        ids = [h["touchpulse-delivery"] for h, _ in hook.received]
        assert len(ids) == 40 and len(set(ids)) == 40
    finally:
        for worker in others:
            worker.stop()
        await asyncio.gather(*tasks)
        for pool in pools:
            await pool.close()
        hook.close()


async def test_bad_subscriptions_are_refused_naming_the_field(client: Client, admin: Headers) -> None:
    owner = (await client.post("/api/v1/owners", json={"name": "Ops"}, headers=admin)).json()["id"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "url"),
        ({"url": "ftp://hooks.example/x"}, "url"),
        ({"url": "hooks.example/x"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": "https://hooks.example:99999/x"}, "url"),
        ({"url": "https://me:pw@hooks.example/x"}, "url"),
        ({"url": "https://hooks.example/a b"}, "url"),
        ({"url": "https://hooks.example/" + "x" * 2000}, "url"),
        ({"url": "https://hooks.example/x", "triggers": []}, "triggers"),
        ({"url": "https://hooks.example/x", "triggers": ["sometimes"]}, "triggers[0]"),
        ({"url": "https://hooks.example/x", "secret": "short"}, "secret"),
        ({"url": "https://hooks.example/x", "secret": "with spaces in the secret"}, "secret"),
        ({"url": "https://hooks.example/x", "events": ["low_score"]}, "events"),
    ]
    for body, field in cases:
        r = await client.post(f"/api/v1/owners/{owner}/alerts", json=body, headers=admin)
        assert r.status_code == 422, (body, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (body, r.json())
    r = await client.post("/api/v1/owners/987654/alerts", json={"url": "https://hooks.example/x"}, headers=admin)
    assert r.status_code == 404
    listed = await client.get(f"/api/v1/owners/{owner}/alerts", headers=admin)
    assert listed.json() == {"items": [], "next_cursor": None}


async def test_an_owner_key_reads_its_own_alerts_only_and_changes_none(
        client: Client, admin: Headers, make_key: MakeKey, hook: Hook) -> None:
    mine = (await client.post("/api/v1/owners", json={"name": "Mine"}, headers=admin)).json()["id"]
    theirs = (await client.post("/api/v1/owners", json={"name": "Theirs"}, headers=admin)).json()["id"]
    my_alert = await _subscribe(client, admin, mine, hook.url, secret=SECRET)
    their_alert = await _subscribe(client, admin, theirs, "https://hooks.example/their-secret-hook")
    owner = bearer(await make_key("owner", mine))
    r = await client.get(f"/api/v1/owners/{mine}/alerts", headers=owner)
    assert r.status_code == 200 and r.json()["items"] == [my_alert]
    assert r.headers["cache-control"] == "no-store, private"
    assert SECRET not in r.text
    assert (await client.get(f"/api/v1/owners/{mine}/alerts/{my_alert['id']}/deliveries",
                             headers=owner)).status_code == 200
    for path in (f"/api/v1/owners/{theirs}/alerts", f"/api/v1/owners/{theirs}/alerts/{their_alert['id']}",
                 f"/api/v1/owners/{theirs}/alerts/{their_alert['id']}/deliveries",
                 f"/api/v1/owners/{mine}/alerts/{their_alert['id']}"):
        r = await client.get(path, headers=owner)
        nowhere = await client.get(path.replace(str(theirs), "987654").replace(
            str(their_alert["id"]), "987654"), headers=owner)
        assert r.status_code == nowhere.status_code == 404, path
        assert "their-secret-hook" not in r.text
    r = await client.post(f"/api/v1/owners/{mine}/alerts", json={"url": hook.url}, headers=owner)
    assert r.status_code == 403
    r = await client.delete(f"/api/v1/owners/{mine}/alerts/{my_alert['id']}", headers=owner)
    assert r.status_code == 403
    # The admin deletes it; a second delete finds nothing.
    r = await client.delete(f"/api/v1/owners/{mine}/alerts/{my_alert['id']}", headers=admin)
    assert r.status_code == 204
    r = await client.delete(f"/api/v1/owners/{mine}/alerts/{my_alert['id']}", headers=admin)
    assert r.status_code == 404


async def test_without_subscriptions_the_writer_queues_nothing_and_a_deleted_one_stops_at_once(
        client: Client, admin: Headers, make_key: MakeKey, hook: Hook, conn: Connection) -> None:
    w = await _setup(client, admin)
    ingest = bearer(await make_key("ingest"))
    await _answer(client, ingest, 0, customer="before")
    alert = await _subscribe(client, admin, w["owner"], hook.url)
    await _answer(client, ingest, 0, customer="during")
    await until(lambda: len(hook.received) == 1)
    r = await client.delete(f"/api/v1/owners/{w['owner']}/alerts/{alert['id']}", headers=admin)
    assert r.status_code == 204
    await _answer(client, ingest, 0, customer="after")
    await asyncio.sleep(0.3)
    assert [b["answer"]["customer"] for b in hook.bodies()] == ["during"]
    assert await conn.fetchval("SELECT count(*) FROM alert_deliveries") == 0
