"""Retention: clicks forget their user agent and invitations their customer, counts stay exact."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from litestar import Litestar

from feedback.collection import repository as repo
from feedback.collection import retention
from feedback.service.database import Connection, Pool
from feedback.settings import Settings, SettingsError, load_settings
from tests.conftest import ROOT, cli_with_env
from tests.test_collection_support import Client, Headers, invite, token_of, touchpoint, world

# Every table the invitation and response triggers keep: the purge must leave each as it was.
ROLLUPS = ("touchpoint_daily_funnel", "touchpoint_daily", "touchpoint_daily_themes",
           "touchpoint_monthly_themes", "touchpoint_week_parts", "response_theme_comments")
PURGE_FOREVER = retention.purge_forever  # the real loop, whatever a test does to the module's
OLD = "now() - interval '401 days'"  # past the default 400 days of invitation retention


def _pool(app: Litestar) -> Pool:
    pool: Pool = app.state.pool
    return pool


@pytest.fixture
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's own purge does nothing: the test runs each pass itself, when it chooses."""
    async def idle(pool: Pool, settings: Settings) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(retention, "purge_forever", idle)


async def _rollups(conn: Connection) -> dict[str, list[str]]:
    await conn.execute("SELECT fold_rollups()")  # the rollups as a reader sees them
    return {t: [r[0] for r in await conn.fetch(f"SELECT r::text FROM {t} r ORDER BY 1")] for t in ROLLUPS}


async def _sent(client: Client, admin: Headers, key: str, customer: str, **extra: Any) -> dict[str, Any]:
    r = await invite(client, admin, key, customer, **extra)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def _age_invitation(conn: Connection, invitation_id: str, created: str = OLD) -> None:
    """As if it had been sent (and its link had expired) long ago."""
    await conn.execute(f"UPDATE invitations SET created_at = {created}, expires_at = {created} + interval '14 days' "
                       "WHERE id = $1", invitation_id)


# ------------------------------------------------------------------------------ settings


def test_retention_defaults(tmp_path: Path) -> None:
    s = load_settings({"TOUCHPULSE_DATA_DIR": str(tmp_path)})
    assert (s.click_retention_days, s.invitation_retention_days) == (30, 400)
    s = load_settings({"TOUCHPULSE_DATA_DIR": str(tmp_path), "TOUCHPULSE_CLICK_RETENTION_DAYS": "1",
                       "TOUCHPULSE_INVITATION_RETENTION_DAYS": "366"})
    assert (s.click_retention_days, s.invitation_retention_days) == (1, 366)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TOUCHPULSE_CLICK_RETENTION_DAYS": "0"}, "TOUCHPULSE_CLICK_RETENTION_DAYS=0 must be between 1 and 3650"),
        ({"TOUCHPULSE_CLICK_RETENTION_DAYS": "month"}, "TOUCHPULSE_CLICK_RETENTION_DAYS='month' is not a whole"),
        ({"TOUCHPULSE_INVITATION_RETENTION_DAYS": "4000"}, "TOUCHPULSE_INVITATION_RETENTION_DAYS=4000 must be between"),
        # Shorter than a link may stay open (a touchpoint's expiry_days goes up to 365).
        ({"TOUCHPULSE_INVITATION_RETENTION_DAYS": "90"},
         r"TOUCHPULSE_INVITATION_RETENTION_DAYS=90 must be more than 365 days: .*TOUCHPULSE_FATIGUE_DAYS \(7\)"),
        ({"TOUCHPULSE_INVITATION_RETENTION_DAYS": "365", "TOUCHPULSE_FATIGUE_DAYS": "365"},
         r"TOUCHPULSE_INVITATION_RETENTION_DAYS=365 must be more than 365 days"),
    ],
)
def test_a_bad_retention_is_named(env: dict[str, str], message: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({"TOUCHPULSE_DATA_DIR": str(tmp_path), **env})


def test_cli_stops_on_a_short_invitation_retention_in_one_line(tmp_path: Path) -> None:
    result = cli_with_env("migrate", env={"TOUCHPULSE_INVITATION_RETENTION_DAYS": "30",
                                          "TOUCHPULSE_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        "touchpulse: TOUCHPULSE_INVITATION_RETENTION_DAYS=30 must be more than 365 days: longer than "
        "a survey link can stay open (365) and TOUCHPULSE_FATIGUE_DAYS (7)")


def test_cli_help_lists_the_retention_settings() -> None:
    result = subprocess.run([sys.executable, "-m", "feedback.cli", "--help"], capture_output=True,
                            text=True, timeout=60, cwd=ROOT, check=True)
    assert "TOUCHPULSE_CLICK_RETENTION_DAYS" in result.stdout
    assert "TOUCHPULSE_INVITATION_RETENTION_DAYS" in result.stdout


# ------------------------------------------------------------------------------ clicks


async def test_old_clicks_lose_their_user_agent_and_recent_ones_keep_it(
        quiet: None, client: Client, admin: Headers, conn: Connection, app: Litestar, settings: Settings) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    link = (await _sent(client, admin, "delivery", "c-1"))["url"]
    path = f"/s/{token_of(link)}"
    for agent in ("Old/1.0", "Older/1.0", "Fresh/2.0"):
        assert (await client.get(path, headers={"User-Agent": agent})).status_code == 200
    await conn.execute("UPDATE invitation_clicks SET clicked_at = now() - interval '31 days' "
                       "WHERE user_agent LIKE 'Old%'")
    await conn.execute("UPDATE invitation_clicks SET clicked_at = now() - interval '29 days' "
                       "WHERE user_agent = 'Fresh/2.0'")
    before = await conn.fetch("SELECT id, score, clicked_at FROM invitation_clicks ORDER BY id")

    await retention.purge_once(_pool(app), settings)

    after = await conn.fetch("SELECT id, score, clicked_at, user_agent FROM invitation_clicks ORDER BY id")
    # Every click is still there, with its time and score: only the old agents are gone.
    assert [tuple(r)[:3] for r in after] == [tuple(r) for r in before]
    assert [r["user_agent"] for r in after] == ["", "", "Fresh/2.0"]
    invitation = (await conn.fetchval("SELECT id FROM invitations"))
    shown = (await client.get(f"/api/v1/invitations/{invitation}", headers=admin)).json()
    assert [c["user_agent"] for c in shown["clicks"]] == ["", "", "Fresh/2.0"]


async def test_a_backlog_is_cleared_in_batches_in_one_pass(
        quiet: None, client: Client, admin: Headers, conn: Connection, app: Litestar, settings: Settings,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention, "BATCH", 2)
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery", recontact_days=0)
    ids = []
    for n in range(5):
        body = await _sent(client, admin, "delivery", f"c-{n}")
        assert (await client.get(f"/s/{token_of(body['url'])}", headers={"User-Agent": "Old"})).status_code == 200
        ids.append(body["id"])
    await conn.execute("UPDATE invitation_clicks SET clicked_at = now() - interval '40 days'")
    for invitation_id in ids:
        await _age_invitation(conn, invitation_id)

    await retention.purge_once(_pool(app), settings)

    assert await conn.fetchval("SELECT count(*) FROM invitation_clicks WHERE user_agent <> ''") == 0
    assert await conn.fetchval("SELECT count(*) FROM invitations WHERE customer_ref IS NOT NULL") == 0
    assert await conn.fetchval("SELECT count(*) FROM invitations") == 5


# ------------------------------------------------------------------------------ invitations


async def test_old_invitations_forget_the_customer_and_every_count_stays(
        quiet: None, client: Client, admin: Headers, conn: Connection, app: Litestar, settings: Settings) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery", recontact_days=0)
    await touchpoint(client, admin, w, "never", sample_rate=0)
    # Old: sent, clicked (twice, different scores: a scanner) and answered with a comment.
    old = await _sent(client, admin, "delivery", "crm-old", event_id="order-A-1",
                      context={"order": "A-1", "agent": "Olga"})
    token = token_of(old["url"])
    await client.get(f"/s/{token}?score=1&kind=csat")
    await client.get(f"/s/{token}?score=5&kind=csat")
    r = await client.post(f"/s/{token}", data={"score": "2", "comment": "The courier was rude"})
    assert r.status_code == 200, r.text
    # Old: clicked only by a scanner (the answer above took the other one out of that count).
    scanned = await _sent(client, admin, "delivery", "crm-scanned")
    for score in (1, 5):
        await client.get(f"/s/{token_of(scanned['url'])}?score={score}&kind=csat")
    old_skip = (await invite(client, admin, "never", "crm-old-skipped")).json()
    recent = await _sent(client, admin, "delivery", "crm-recent", event_id="order-B-2", context={"order": "B-2"})
    for invitation_id in (old["id"], old_skip["id"], scanned["id"]):
        await _age_invitation(conn, invitation_id)
    # 399 days: inside the retention, so it keeps everything.
    await _age_invitation(conn, recent["id"], "now() - interval '399 days'")
    period = {"from": (date.today() - timedelta(days=500)).isoformat()}
    report_before = (await client.get("/api/v1/touchpoints/delivery/report", headers=admin, params=period)).json()
    assert report_before["funnel"]["invited"] == 3 and report_before["funnel"]["answered"] == 1
    assert report_before["funnel"]["suspected_scanners"] == 1
    rollups_before = await _rollups(conn)
    assert rollups_before["touchpoint_daily_funnel"]

    await retention.purge_once(_pool(app), settings)

    rows = {str(r["id"]): r for r in await conn.fetch(
        "SELECT id, customer_ref, event_id, context::text AS context, decision, first_clicked_at IS NOT NULL "
        "AS clicked, answered_at IS NOT NULL AS answered, suspected_scanner FROM invitations")}
    assert len(rows) == 4  # nothing deleted
    for gone in (old["id"], old_skip["id"], scanned["id"]):
        assert (rows[gone]["customer_ref"], rows[gone]["event_id"], rows[gone]["context"]) == (None, None, "{}")
    assert rows[old["id"]]["clicked"] and rows[old["id"]]["answered"]
    assert rows[scanned["id"]]["clicked"] and rows[scanned["id"]]["suspected_scanner"]
    assert rows[old_skip["id"]]["decision"] == "sampled_out"
    kept = rows[recent["id"]]
    assert (kept["customer_ref"], kept["event_id"], kept["context"]) == ("crm-recent", "order-B-2", '{"order": "B-2"}')
    # The rollups, and so every report, count exactly what they counted before.
    assert await _rollups(conn) == rollups_before
    report_after = (await client.get("/api/v1/touchpoints/delivery/report", headers=admin, params=period)).json()
    assert report_after == report_before
    shown = (await client.get(f"/api/v1/invitations/{old['id']}", headers=admin)).json()
    assert shown["customer"] is None and shown["event_id"] is None and shown["context"] == {}
    assert shown["response"]["score"] == 2  # the answer itself is the product's data
    # Erasing the customer still finds their answer, which holds the reference.
    erased = (await client.delete("/api/v1/customers/crm-old", headers=admin)).json()
    assert (erased["invitations"], erased["responses"]) == (0, 1)


async def test_an_invitation_the_contact_rules_still_read_keeps_its_customer(
        quiet: None, client: Client, admin: Headers, conn: Connection, app: Litestar, settings: Settings) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "yearly", recontact_days=1000)
    await touchpoint(client, admin, w, "open-link", recontact_days=0)
    yearly = await _sent(client, admin, "yearly", "crm-1")
    await _age_invitation(conn, yearly["id"])
    # A link still open (not possible through the API today, where links last at most 365 days).
    still_open = await _sent(client, admin, "open-link", "crm-2")
    await conn.execute(f"UPDATE invitations SET created_at = {OLD}, expires_at = now() + interval '1 day' "
                       "WHERE id = $1", still_open["id"])

    await retention.purge_once(_pool(app), settings)

    refs = await conn.fetch("SELECT customer_ref FROM invitations ORDER BY customer_ref")
    assert [r["customer_ref"] for r in refs] == ["crm-1", "crm-2"]
    # And the recontact rule still works: crm-1 was asked 401 days ago, inside its 1,000 days.
    r = await invite(client, admin, "yearly", "crm-1")
    assert r.status_code == 200 and r.json()["skipped"] == "recently_asked_here"


async def test_a_retried_event_past_the_retention_is_a_new_invitation(
        quiet: None, client: Client, admin: Headers, conn: Connection, app: Litestar, settings: Settings) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery", recontact_days=0)
    first = await _sent(client, admin, "delivery", "crm-1", event_id="order-1")
    await _age_invitation(conn, first["id"])
    await retention.purge_once(_pool(app), settings)
    again = await _sent(client, admin, "delivery", "crm-1", event_id="order-1")
    assert again["id"] != first["id"]


# ------------------------------------------------------------------------------ Idempotency-Keys


async def test_expired_idempotency_keys_go_in_batches_in_one_pass_and_recent_ones_replay(
        quiet: None, client: Client, admin: Headers, conn: Connection, app: Litestar, settings: Settings,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention, "BATCH", 3)
    batches: list[int] = []
    purge = repo.purge_idempotency_keys

    async def counted(c: Connection, **kwargs: Any) -> int:
        n = await purge(c, **kwargs)
        batches.append(n)
        return n

    monkeypatch.setattr(repo, "purge_idempotency_keys", counted)
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    # A backlog, as after an outage: ten stored answers past their 48 hours.
    await conn.execute(
        "INSERT INTO idempotency_keys (api_key_id, key, request_hash, status, body, created_at) "
        "SELECT 1, 'old-' || n, '', 201, '{}', now() - interval '48 hours' - n * interval '1 minute' "
        "FROM generate_series(1, 10) n")
    payload = {"touchpoint": "delivery", "score": 4}
    first = await client.post("/api/v1/responses", headers={**admin, "Idempotency-Key": "recent"}, json=payload)
    assert first.status_code == 201, first.text
    # Inside its 48 hours, if only just.
    await conn.execute("UPDATE idempotency_keys SET created_at = now() - interval '47 hours 59 minutes' "
                       "WHERE key = 'recent'")

    await retention.purge_once(_pool(app), settings)

    assert batches == [3, 3, 3, 1]  # one pass, batch after batch until a short one
    assert await conn.fetchval("SELECT array_agg(key) FROM idempotency_keys") == ["recent"]
    again = await client.post("/api/v1/responses", headers={**admin, "Idempotency-Key": "recent"}, json=payload)
    assert again.status_code == 201 and again.content == first.content  # still a replay
    assert await conn.fetchval("SELECT count(*) FROM responses") == 1


# ------------------------------------------------------------------------------ the background task


# ---------------------------------------------------------------------------- erasures


async def test_an_erasure_leaves_a_digest_for_a_day_only(
        quiet: None, client: Client, admin: Headers, conn: Connection, app: Litestar, settings: Settings) -> None:
    # The tombstone lets the writers skip answers received before the erasure (test_erasure.py);
    # it holds no readable reference, and goes once no such answer can still be waiting.
    for ref in ("crm-old", "crm-new"):
        assert (await client.delete(f"/api/v1/customers/{ref}", headers=admin)).status_code == 200
    assert await conn.fetchval("SELECT count(*) FROM erasures WHERE customer = $1",
                               hashlib.sha256(b"crm-new").digest()) == 1
    assert await conn.fetchval("SELECT count(*) FROM erasures WHERE position('crm'::bytea IN customer) > 0") == 0
    await conn.execute("UPDATE erasures SET erased_at = now() - interval '25 hours' WHERE customer = $1",
                       hashlib.sha256(b"crm-old").digest())
    await retention.purge_once(_pool(app), settings)
    digests = [bytes(r[0]) for r in await conn.fetch("SELECT customer FROM erasures")]
    assert digests == [hashlib.sha256(b"crm-new").digest()]


@pytest.fixture
def quick_purge(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention, "PURGE_EVERY", 0.05)


async def test_the_service_purges_on_its_own(
        quick_purge: None, client: Client, admin: Headers, conn: Connection) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    body = await _sent(client, admin, "delivery", "crm-1")
    await client.get(f"/s/{token_of(body['url'])}", headers={"User-Agent": "Old/1.0"})
    await conn.execute("UPDATE invitation_clicks SET clicked_at = now() - interval '31 days'")
    await _age_invitation(conn, body["id"])
    for _ in range(100):
        if await conn.fetchval("SELECT customer_ref FROM invitations") is None:
            break
        await asyncio.sleep(0.05)
    assert await conn.fetchval("SELECT customer_ref FROM invitations") is None
    assert await conn.fetchval("SELECT user_agent FROM invitation_clicks") == ""


class _Outage:
    """A pool whose database is away for the first `failures` acquisitions."""

    def __init__(self, pool: Pool, failures: int) -> None:
        self.pool, self.failures = pool, failures

    def acquire(self) -> Any:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionRefusedError("the database is away")
        return self.pool.acquire()


async def test_the_purge_survives_a_database_outage(
        quiet: None, client: Client, admin: Headers, conn: Connection, app: Litestar, settings: Settings,
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    # The app's own purge is idle: only the task below, whose database is away at first,
    # can clear the rows.
    monkeypatch.setattr(retention, "PURGE_EVERY", 0.05)
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    body = await _sent(client, admin, "delivery", "crm-1")
    await client.get(f"/s/{token_of(body['url'])}", headers={"User-Agent": "Old/1.0"})
    await conn.execute("UPDATE invitation_clicks SET clicked_at = now() - interval '31 days'")
    await _age_invitation(conn, body["id"])
    flaky = _Outage(_pool(app), failures=12)  # three whole passes (four rules each) fail
    task = asyncio.create_task(PURGE_FOREVER(cast(Pool, flaky), settings))
    try:
        for _ in range(100):
            if await conn.fetchval("SELECT customer_ref FROM invitations") is None:
                break
            await asyncio.sleep(0.05)
        assert not task.done()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert flaky.failures == 0
    assert await conn.fetchval("SELECT customer_ref FROM invitations") is None
    assert await conn.fetchval("SELECT user_agent FROM invitation_clicks") == ""
    assert "the database is away" in caplog.text
