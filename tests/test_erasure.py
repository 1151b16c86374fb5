"""Erasure against the group-commit writer: an answer received before an erasure never survives it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar

from feedback.collection import clock, service
from feedback.collection import repository as repo
from feedback.collection.errors import CustomerErased
from feedback.collection.repository import NewResponse
from feedback.collection.texts import TEXTS
from feedback.collection.tokens import new_id
from feedback.collection.writer import Outcome, Pending, ResponseWriter
from feedback.service.database import Connection, Pool, connect
from feedback.service.pages import _ERRORS
from tests.conftest import problem_type
from tests.test_collection_support import Client, Headers, invite, token_of, touchpoint, world


class _HeldWriter(ResponseWriter):
    """A writer (this instance's or another's) whose flushes wait for `release`: answers
    received and queued, not yet written. `arrived` is set once `expect` answers are queued."""

    def __init__(self, pool: Pool, expect: int) -> None:
        super().__init__(pool)
        self.expect = expect
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()

    async def write(self, item: Pending) -> bool:
        self.expect -= 1
        if self.expect == 0:
            self.arrived.set()
        return await super().write(item)

    async def _commit(self, items: list[Pending]) -> list[Outcome]:
        await self.release.wait()
        return await super()._commit(items)


async def test_an_answer_queued_before_an_erasure_is_not_written_after_it(
        app: Litestar, client: Client, admin: Headers, conn: Connection) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    token = token_of((await invite(client, admin, "delivery", "racing")).json()["url"])
    own, held = app.state.intake, _HeldWriter(app.state.pool, expect=2)
    app.state.intake = msgspec.structs.replace(own, writer=held)
    try:
        api = asyncio.create_task(client.post(
            "/api/v1/responses", headers={**admin, "Idempotency-Key": "before"},
            json={"touchpoint": "delivery", "score": 2, "customer": "racing", "comment": "call me"}))
        form = asyncio.create_task(client.post(f"/s/{token}", data={"score": "1", "comment": "late"}))
        await asyncio.wait_for(held.arrived.wait(), 10)  # both received, neither written
        erased = await client.delete("/api/v1/customers/racing", headers=admin)
        assert erased.status_code == 200, erased.text
        held.release.set()
        answered: httpx.Response = await api
        page: httpx.Response = await form
    finally:
        held.release.set()
        app.state.intake = own
        await held.close()
    # Not stored, and the waiting requests are told so: never a 201 for an answer that is gone.
    assert answered.status_code == 409, answered.text
    assert answered.headers["content-type"] == "application/problem+json"
    assert "erased" in answered.json()["detail"]
    assert answered.json()["type"] == problem_type("customer-erased")
    # The page tells the truth: not that the link expired, but that the answer was not kept.
    assert page.status_code == 409 and "This answer was not kept" in page.text, page.text
    assert "at the customer’s request" in page.text and "expired" not in page.text
    assert await conn.fetchval("SELECT count(*) FROM responses") == 0
    await conn.execute("SELECT fold_rollups()")  # the rollups as a reader sees them
    assert await conn.fetchval("SELECT coalesce(sum(responses), 0) FROM touchpoint_daily") == 0
    # The key was not claimed for an answer that was never stored.
    assert await conn.fetchval("SELECT count(*) FROM idempotency_keys") == 0
    # An answer received after the erasure is a new one, and is kept.
    after = await client.post("/api/v1/responses", headers=admin,
                              json={"touchpoint": "delivery", "score": 5, "customer": "racing"})
    assert after.status_code == 201, after.text
    assert await conn.fetchval("SELECT count(*) FROM responses WHERE customer_ref = 'racing'") == 1
    document = (await client.get("/schema/openapi.json")).json()
    assert "erased" in document["paths"]["/api/v1/responses"]["post"]["responses"]["409"]["description"]



@pytest.mark.parametrize("skew", [timedelta(hours=1), timedelta(0), timedelta(hours=-1)],
                         ids=["instance ahead", "same clock", "instance behind"])
async def test_which_answers_an_erasure_drops_does_not_depend_on_the_instances_clock(
        app: Litestar, client: Client, admin: Headers, conn: Connection, monkeypatch: pytest.MonkeyPatch,
        skew: timedelta) -> None:
    # The instance that receives the answers reads a clock an hour off the database's (no NTP).
    # Ahead, an answer queued before the erasure looked received after it and survived; behind,
    # every answer for the next hour looked received before it and was refused.
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    monkeypatch.setattr(clock, "now", lambda: datetime.now(UTC) + skew)
    # A writer started with the skewed clock, as on that instance.
    own, held = app.state.intake, _HeldWriter(app.state.pool, expect=1)
    app.state.intake = msgspec.structs.replace(own, writer=held)
    try:
        queued = asyncio.create_task(client.post(
            "/api/v1/responses", headers=admin,
            json={"touchpoint": "delivery", "score": 2, "customer": "skewed", "comment": "before"}))
        await asyncio.wait_for(held.arrived.wait(), 10)
        erased = await client.delete("/api/v1/customers/skewed", headers=admin)
        assert erased.status_code == 200, erased.text
        held.release.set()
        before: httpx.Response = await queued
        after = await client.post("/api/v1/responses", headers=admin,
                                  json={"touchpoint": "delivery", "score": 5, "customer": "skewed", "comment": "after"})
    finally:
        held.release.set()
        app.state.intake = own
        await held.close()
    assert before.status_code == 409, before.text
    assert after.status_code == 201, after.text
    kept = await conn.fetch("SELECT comment FROM responses WHERE customer_ref = 'skewed'")
    assert [r["comment"] for r in kept] == ["after"]


class _ErasingWriter(ResponseWriter):
    """A writer whose every answer meets its customer's erasure on the way in."""

    async def write(self, item: Pending) -> bool:
        raise CustomerErased()


@pytest.mark.parametrize(("locale", "title", "body"), [
    ("en", "This answer was not kept", "deleted at the customer’s request"),
    ("ru", "Этот ответ не сохранён", "удалены по просьбе клиента"),
])
async def test_a_form_answer_dropped_by_an_erasure_says_so_in_the_invitations_language(
        app: Litestar, client: Client, admin: Headers, locale: str, title: str, body: str) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    token = token_of((await invite(client, admin, "delivery", "erased", locale=locale)).json()["url"])
    own, erasing = app.state.intake, _ErasingWriter(app.state.pool)
    app.state.intake = msgspec.structs.replace(own, writer=erasing)
    try:
        page = await client.post(f"/s/{token}", data={"score": "2"})
    finally:
        app.state.intake = own
        await erasing.close()
    assert page.status_code == 409 and page.headers["content-type"].startswith("text/html"), page.text
    assert f"<title>{title} ·" in page.text and f"<h1>{title}</h1>" in page.text and body in page.text
    assert f'lang="{locale}"' in page.text
    # Not the closed-survey page, nor one offering to change an answer that is not there.
    for untrue in (*_ERRORS[locale][410], TEXTS[locale]["change"]):
        assert untrue not in page.text


async def _row(client: Client, admin: Headers, customer: str) -> NewResponse:
    """An answer for `customer`, received now, as a writer would write it."""
    w = await world(client, admin)
    tp = await touchpoint(client, admin, w, "delivery")
    now = datetime.now(UTC)
    return NewResponse(
        touchpoint_id=tp["id"], id=new_id(), journey_id=w["journey"], stage_id=w["stage"],
        owner_id=w["owner"], kind="csat", scale_min=1, scale_max=5, score=2, comment="late",
        customer_ref=customer, locale="en", channel="email", source="api", context="{}",
        polarity=None, subjectivity=None, label=None, language=None, themes=[], analyzer_version=1,
        occurred_at=now, created_at=now)


async def test_an_erasure_waits_for_a_write_in_flight_and_erases_what_it_wrote(
        client: Client, admin: Headers, conn: Connection, database_url: str) -> None:
    # Another instance's flush has read the tombstones (none yet) and written, not committed:
    # the erasure's deletion must see its row, so it waits for the commit.
    row = await _row(client, admin, "in-flight")
    async with connect(database_url) as other:
        async with other.transaction():
            assert await repo.insert_batch(other, [(row, None)], shift=await repo.clock_shift(other)) == (set(), set())
            erasure = asyncio.create_task(client.delete("/api/v1/customers/in-flight", headers=admin))
            await asyncio.sleep(0.5)
            assert not erasure.done()  # it waits for the write, which has not committed
        r = await erasure
    assert r.status_code == 200 and r.json()["responses"] == 1, r.text
    assert await conn.fetchval("SELECT count(*) FROM responses") == 0


async def test_a_write_waiting_for_an_erasure_sees_its_tombstone(
        client: Client, admin: Headers, conn: Connection, database_url: str) -> None:
    # The write's statement starts (and takes its snapshot) while an erasure holds the lock,
    # and the tombstone commits after that snapshot: the write must still skip the answer.
    row = await _row(client, admin, "just-erased")
    async with connect(database_url) as barrier, connect(database_url) as writer:
        async with barrier.transaction():
            await repo.await_writes(barrier)  # held until this transaction ends
            shift = await repo.clock_shift(writer)
            write = asyncio.create_task(repo.insert_batch(writer, [(row, None)], shift=shift))
            await asyncio.sleep(0.3)
            assert not write.done()
            await repo.record_erasure(conn, customer_ref="just-erased")
        assert await write == (set(), {row.id})
    assert await conn.fetchval("SELECT count(*) FROM responses") == 0
    # Received after the tombstone: written.
    later = msgspec.structs.replace(row, id=new_id(), created_at=datetime.now(UTC))
    async with connect(database_url) as writer:
        assert await repo.insert_batch(writer, [(later, None)], shift=await repo.clock_shift(writer)) == (set(), set())
    assert await conn.fetchval("SELECT count(*) FROM responses") == 1


async def test_the_writer_follows_its_clock_being_set(
        client: Client, admin: Headers, conn: Connection, app: Litestar, monkeypatch: pytest.MonkeyPatch) -> None:
    # The writer read the clocks' difference, then this instance's clock was set an hour back:
    # once the reading is `clock_every` old it reads again, and an answer sent after an
    # erasure is kept (on the old reading it looked an hour older than the erasure).
    row = await _row(client, admin, "reset")
    writer = ResponseWriter(app.state.pool, clock_every=0.2)
    try:
        await writer.warm()
        monkeypatch.setattr(clock, "now", lambda: datetime.now(UTC) - timedelta(hours=1))
        await asyncio.sleep(0.3)
        await service.erase_customer(conn, "reset")
        assert await writer.write(Pending(msgspec.structs.replace(row, created_at=clock.now())))
    finally:
        await writer.close()
    assert await conn.fetchval("SELECT count(*) FROM responses WHERE customer_ref = 'reset'") == 1


async def test_a_link_opened_while_its_customer_is_erased_is_a_404_page_not_a_500(
        client: Client, admin: Headers, conn: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    # The link is read, then the erasure deletes its invitation before the click is logged:
    # the click's foreign key fails, and the person sees the unknown-link page.
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    token = token_of((await invite(client, admin, "delivery", "opening")).json()["url"])
    read_link = service._link

    async def read_then_erase(*args: Any, **kwargs: Any) -> Any:
        found = await read_link(*args, **kwargs)
        await repo.erase_customer(conn, customer_ref="opening")
        return found

    monkeypatch.setattr(service, "_link", read_then_erase)
    page = await client.get(f"/s/{token}?score=4")
    assert page.status_code == 404, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert await conn.fetchval("SELECT count(*) FROM invitation_clicks") == 0
