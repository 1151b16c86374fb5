"""Odd input to every collection route is refused politely: never a 500."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime
from typing import Any

from feedback.collection.repository import NewResponse
from feedback.collection.tokens import new_id
from feedback.collection.writer import Outcome, Pending, ResponseWriter
from feedback.service.database import create_pool
from feedback.service.logs import fresh_request_id
from tests.test_collection_support import Client, Headers, invite, token_of, touchpoint, world


async def test_odd_input_never_makes_a_server_error(client: Client, admin: Headers) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    token = token_of((await invite(client, admin, "delivery")).json()["url"])
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", f"/s/{token}?score=²", {}),
        ("GET", f"/s/{token}?score=-1", {}),
        ("GET", f"/s/{token}?score=" + "9" * 50, {}),
        ("GET", "/s/%00%01", {}),
        ("POST", f"/s/{token}", {"content": b"score=%C2%B2&comment=%00", "headers": form}),
        ("POST", f"/s/{token}", {"content": b"score=3&score=4&comment=a&comment=b", "headers": form}),
        ("POST", f"/s/{token}", {"content": b"\xff\xfe\x00", "headers": form}),
        ("POST", f"/s/{token}", {"json": {"score": 3}}),
        ("POST", f"/s/{token}", {"content": b""}),
        ("POST", f"/s/{token}", {"files": {"score": ("a.txt", b"3")}}),
        ("POST", "/w/delivery", {"content": b"score=%ED%A0%80", "headers": form}),
        ("POST", "/w/UPPER", {"data": {"score": "3"}}),
        ("GET", "/w/" + "a" * 300, {}),
        ("POST", "/api/v1/invitations:batch", {"json": {"items": [1, "x", None, [], {"touchpoint": 5}]}}),
        ("POST", "/api/v1/invitations:batch", {"json": {"items": "nope"}}),
        ("POST", "/api/v1/invitations:batch", {"content": b"{", "headers": {"Content-Type": "application/json"}}),
        ("POST", "/api/v1/touchpoints/delivery/invitations", {"json": {"customer": "x", "context": [1]}}),
        ("POST", "/api/v1/touchpoints/delivery/invitations",
         {"json": {"customer": "x", "context": {"n": 10**40}}}),
        ("POST", "/api/v1/touchpoints/delivery/invitations", {"json": {"customer": "x", "locale": "de"}}),
        ("POST", "/api/v1/touchpoints/delivery/invitations", {"json": {"customer": "x", "event_id": ""}}),
        ("POST", "/api/v1/responses", {"json": {"touchpoint": "delivery", "score": 10**30}}),
        ("POST", "/api/v1/responses", {"json": {"touchpoint": "delivery", "score": 3.5}}),
        ("POST", "/api/v1/responses", {"json": {"touchpoint": "delivery", "score": 3, "comment": "x" * 2001}}),
        ("POST", "/api/v1/responses", {"json": {"touchpoint": "delivery", "score": 3, "occurred_at": "yesterday"}}),
        ("POST", "/api/v1/responses", {"json": {"touchpoint": "delivery", "score": 3},
                                        "headers": {"Idempotency-Key": "k" * 300}}),
        ("POST", "/api/v1/responses", {"json": {"touchpoint": "delivery", "score": 3, "comment": "a\x00b"}}),
        ("GET", "/api/v1/invitations/not-a-uuid", {}),
        ("DELETE", "/api/v1/customers/%00", {}),
        ("DELETE", "/api/v1/customers/" + "c" * 300, {}),
    ]
    for method, url, extra in attempts:
        headers = {**admin, **extra.pop("headers", {})}
        r = await client.request(method, url, headers=headers, **extra)
        assert r.status_code < 500, (method, url, r.status_code, r.text[:300])
    r = await client.post("/api/v1/invitations:batch", headers=admin,
                          json={"items": [1, {"touchpoint": "delivery", "customer": "ok"}]})
    assert [x["status"] for x in r.json()["results"]] == [422, 201]


class _DownPool:
    """A pool whose database is gone."""

    def acquire(self) -> Any:
        raise ConnectionError("database down")


async def test_writer_failure_reaches_every_waiter() -> None:
    writer = ResponseWriter(_DownPool())  # type: ignore[arg-type]
    outcomes = await asyncio.gather(*(writer.write(Pending(_row(n))) for n in range(5)), return_exceptions=True)
    assert all(isinstance(o, ConnectionError) for o in outcomes)


async def test_writer_groups_concurrent_rows_into_few_transactions(database_url: str, client: Client,
                                                                   admin: Headers, conn: Any) -> None:
    w = await world(client, admin)
    tp = await touchpoint(client, admin, w, "delivery")
    commits: list[int] = []

    class Counting(ResponseWriter):
        async def _commit(self, items: list[Pending]) -> list[Outcome]:
            commits.append(len(items))
            return await super()._commit(items)

    pool = await create_pool(database_url)
    try:
        writer = Counting(pool)
        rows = [_row(n, tp["id"], w) for n in range(300)]
        assert all(await asyncio.gather(*(writer.write(Pending(r)) for r in rows)))
        await writer.close()
    finally:
        await pool.close()
    assert sum(commits) == 300 and len(commits) <= 3 and max(commits) == 200
    assert await conn.fetchval("SELECT count(*) FROM responses") == 300


def _row(n: int, touchpoint_id: int = 1, w: dict[str, Any] | None = None) -> NewResponse:
    w = w or {"journey": 1, "stage": 1, "owner": 1}
    now = datetime.now(UTC)
    return NewResponse(
        touchpoint_id=touchpoint_id, id=new_id(), journey_id=w["journey"], stage_id=w["stage"],
        owner_id=w["owner"], kind="csat", scale_min=1, scale_max=5, score=1 + n % 5, comment=None,
        customer_ref=None, locale="en", channel="web", source="api", context="{}", polarity=None,
        subjectivity=None, label=None, language=None, themes=[], analyzer_version=1, occurred_at=now,
        created_at=now)


async def test_collection_routes_are_in_the_openapi_document(client: Client) -> None:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in ("/api/v1/touchpoints/{key}/invitations", "/api/v1/invitations:batch",
                 "/api/v1/invitations/{invitation_id}", "/api/v1/responses", "/api/v1/customers/{customer}"):
        assert path in paths


def test_answer_ids_are_uuid7_unique_ordered_and_not_shared_with_a_forked_child() -> None:
    ids = [new_id() for _ in range(20_000)]  # several 4 kB refills of the random bytes
    assert len(set(ids)) == len(ids) and {i.version for i in ids} == {7}
    assert all(i.variant == uuid.RFC_4122 for i in ids)
    assert [i.bytes[:6] for i in ids] == sorted(i.bytes[:6] for i in ids)  # by millisecond
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, through the pipe
        os.write(write, new_id().bytes)
        os._exit(0)
    os.close(write)
    child = uuid.UUID(bytes=os.read(read, 16))
    os.waitpid(pid, 0)
    os.close(read)
    parent_next = new_id()
    # Without the reset at fork, both would take the same next bytes of one inherited buffer.
    assert child.bytes[6:] != parent_next.bytes[6:] and child not in ids


def test_request_ids_are_unique_hex_and_not_shared_with_a_forked_child() -> None:
    ids = [fresh_request_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert len({i[0] for i in ids}) == 16  # leading zeros kept: always 32 digits
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child (a uvicorn worker is one): its next id, through the pipe
        os.write(write, fresh_request_id().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 32).decode()
    os.waitpid(pid, 0)
    os.close(read)
    assert child != fresh_request_id() and child not in ids
