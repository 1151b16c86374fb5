"""The admin API over HTTP against real PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from feedback.service.database import connect
from surveys import service
from surveys.errors import Conflict, InvalidInput
from surveys.kinds import SurveyKind
from surveys.models import (
    ONE_LINE,
    PROSE,
    Channel,
    JourneyCreate,
    JourneyUpdate,
    OwnerCreate,
    OwnerUpdate,
    StagePlan,
    TouchpointCreate,
    TouchpointUpdate,
)
from tests.conftest import MakeKey, bearer, problem_type

Client = httpx.AsyncClient


async def _journey(client: Client, admin: dict[str, str]) -> dict[str, Any]:
    r = await client.post("/api/v1/journeys", json={"name": "Shop"}, headers=admin)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def _owner(client: Client, admin: dict[str, str], name: str = "Support") -> dict[str, Any]:
    r = await client.post("/api/v1/owners", json={"name": name, "email": "s@x.example"}, headers=admin)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def _touchpoint(client: Client, admin: dict[str, str], stage_id: int, owner_id: int,
                      key: str = "support-call", **extra: Any) -> dict[str, Any]:
    # An owner's touchpoints have names of their own: the first "Support call", the others their key.
    name = "Support call" if key == "support-call" else f"Support call ({key})"
    payload = {"key": key, "name": name, "stage_id": stage_id, "channel": "phone",
               "owner_id": owner_id, "kind": "csat", "target": 85, **extra}
    r = await client.post("/api/v1/touchpoints", json=payload, headers=admin)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_default_journey_has_the_eight_lifecycle_stages(client: Client, admin: dict[str, str]) -> None:
    journey = await _journey(client, admin)
    assert [s["name"] for s in journey["stages"]] == [
        "Acquisition", "Selection", "Sale", "Onboarding", "Solution", "Evolution", "Loyalty", "Offboarding"]


async def test_a_new_journey_takes_stages_as_names_or_as_patch_objects(client: Client, admin: dict[str, str]) -> None:
    r = await client.post("/api/v1/journeys", json={"name": "Returns", "stages": [
        {"name": "Request"}, "Collection", {"name": "  Refund "}]}, headers=admin)
    assert r.status_code == 201, r.text
    assert [s["name"] for s in r.json()["stages"]] == ["Request", "Collection", "Refund"]
    # What a GET answers can be sent back as a PATCH, and a create's shape as a PATCH's.
    stages = [{"id": s["id"], "name": s["name"]} for s in r.json()["stages"]]
    again = await client.patch(f"/api/v1/journeys/{r.json()['id']}", json={"stages": stages}, headers=admin)
    assert again.status_code == 200, again.text
    # Every stage of a new journey is new: an id there is refused by name, not ignored.
    cases: list[tuple[list[Any], str]] = [([{"name": "Request", "id": 1}], "stages[0].id"),
             (["Request", {"name": " "}], "stages[1].name"),
             (["Request", {"name": "x", "colour": "red"}], "stages[1].colour"),
             ([{"name": "Request"}, "request"], "stages")]
    for stages, field in cases:
        r = await client.post("/api/v1/journeys", json={"name": "Other", "stages": stages}, headers=admin)
        assert r.status_code == 422, (stages, r.text)
        assert [e["field"] for e in r.json()["errors"]] == [field], (stages, r.json())


async def test_stages_can_be_added_renamed_reordered_and_removed(client: Client, admin: dict[str, str]) -> None:
    journey = await _journey(client, admin)
    s = journey["stages"]
    plan = [{"id": s[1]["id"], "name": "Choice"}, {"id": s[0]["id"], "name": "Acquisition"},
            {"name": "Advocacy"}, *({"id": x["id"], "name": x["name"]} for x in s[2:7])]
    r = await client.patch(f"/api/v1/journeys/{journey['id']}", json={"stages": plan}, headers=admin)
    assert r.status_code == 200, r.text
    names = [x["name"] for x in r.json()["stages"]]
    assert names == ["Choice", "Acquisition", "Advocacy", "Sale", "Onboarding", "Solution", "Evolution", "Loyalty"]
    assert [x["position"] for x in r.json()["stages"]] == list(range(8))
    assert r.json()["stages"][0]["id"] == s[1]["id"]


async def test_removing_a_stage_with_touchpoints_is_a_conflict(client: Client, admin: dict[str, str]) -> None:
    journey = await _journey(client, admin)
    owner = await _owner(client, admin)
    stage = journey["stages"][4]
    await _touchpoint(client, admin, stage["id"], owner["id"])
    plan = [{"id": x["id"], "name": x["name"]} for x in journey["stages"] if x["id"] != stage["id"]]
    r = await client.patch(f"/api/v1/journeys/{journey['id']}", json={"stages": plan}, headers=admin)
    assert r.status_code == 409
    assert "Solution" in r.json()["detail"] and r.json()["type"] == problem_type("still-in-use")


async def test_deleting_a_journey_that_holds_touchpoints_is_a_conflict(
        client: Client, admin: dict[str, str]) -> None:
    journey = await _journey(client, admin)
    owner = await _owner(client, admin)
    await _touchpoint(client, admin, journey["stages"][0]["id"], owner["id"])
    r = await client.delete(f"/api/v1/journeys/{journey['id']}", headers=admin)
    assert r.status_code == 409 and "still holds 1 touchpoint" in r.json()["detail"], r.text
    assert r.json()["type"] == problem_type("still-in-use") and r.json()["title"] == "Conflict"


async def test_touchpoint_crud_and_defaults(client: Client, admin: dict[str, str]) -> None:
    journey = await _journey(client, admin)
    owner = await _owner(client, admin)
    tp = await _touchpoint(client, admin, journey["stages"][4]["id"], owner["id"],
                           questions={"en": "How was your call?"})
    assert tp["stage"] == "Solution" and tp["owner"] == "Support"
    assert tp["questions"]["en"] == "How was your call?"
    assert "довольны" in tp["questions"]["ru"]
    assert tp["sample_rate"] == 1.0 and tp["active"] is True
    r = await client.patch("/api/v1/touchpoints/support-call", json={"kind": "nps"}, headers=admin)
    assert r.status_code == 200
    assert r.json()["kind"] == "nps" and r.json()["target"] is None
    r = await client.patch("/api/v1/touchpoints/support-call", json={"target": 500}, headers=admin)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "target" and r.json()["type"] == problem_type("invalid-input")
    r = await client.get("/api/v1/touchpoints/support-call", headers=admin)
    assert r.json()["kind"] == "nps"
    r = await client.delete("/api/v1/touchpoints/support-call", headers=admin)
    assert r.status_code == 204
    r = await client.get("/api/v1/touchpoints/support-call", headers=admin)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == problem_type("not-found")


async def test_duplicate_touchpoint_key_is_a_conflict(client: Client, admin: dict[str, str]) -> None:
    journey = await _journey(client, admin)
    owner = await _owner(client, admin)
    await _touchpoint(client, admin, journey["stages"][0]["id"], owner["id"], key="dup")
    payload = {"key": "dup", "name": "X", "stage_id": journey["stages"][0]["id"], "channel": "web",
               "owner_id": owner["id"], "kind": "ces"}
    r = await client.post("/api/v1/touchpoints", json=payload, headers=admin)
    assert r.status_code == 409
    assert [e["field"] for e in r.json()["errors"]] == ["key"], r.text
    assert r.json()["type"] == problem_type("key-taken") and r.json()["title"] == "Conflict"


async def test_a_created_object_says_where_to_read_it_in_location(client: Client, admin: dict[str, str]) -> None:
    r = await client.post("/api/v1/journeys", json={"name": "Shop"}, headers=admin)
    journey = r.json()
    assert r.status_code == 201 and r.headers["location"] == f"/api/v1/journeys/{journey['id']}"
    r = await client.post("/api/v1/owners", json={"name": "Support"}, headers=admin)
    owner = r.json()
    assert r.status_code == 201 and r.headers["location"] == f"/api/v1/owners/{owner['id']}"
    tp = await client.post("/api/v1/touchpoints", headers=admin, json={
        "key": "support-call", "name": "Support call", "stage_id": journey["stages"][0]["id"],
        "channel": "phone", "owner_id": owner["id"], "kind": "csat"})
    assert tp.status_code == 201 and tp.headers["location"] == "/api/v1/touchpoints/support-call"
    for created in (r, tp):
        read = await client.get(created.headers["location"], headers=admin)
        assert read.status_code == 200 and read.json() == created.json()
    # Documented, for a client generated from the OpenAPI document.
    spec = (await client.get("/schema/openapi.json")).json()
    for path in ("/api/v1/owners", "/api/v1/journeys", "/api/v1/touchpoints"):
        assert "Location" in spec["paths"][path]["post"]["responses"]["201"]["headers"], path


async def test_a_refused_touchpoint_or_stage_order_says_why_in_its_detail(
        client: Client, admin: dict[str, str]) -> None:
    # A client that logs only `detail` learns which field and why, as from every other 422.
    journey = await _journey(client, admin)
    r = await client.post("/api/v1/touchpoints", headers=admin, json={
        "key": "x", "name": "X", "stage_id": journey["stages"][0]["id"], "channel": "web",
        "owner_id": 999999, "kind": "nps", "target": 500})
    assert r.status_code == 422
    assert r.json()["detail"] == ("owner_id: owner 999999 does not exist; "
                                  "target: an NPS target is an NPS value between -100 and 100")
    r = await client.patch(f"/api/v1/journeys/{journey['id']}", headers=admin,
                           json={"stages": [{"name": "A"}, {"name": "a"}]})
    assert r.status_code == 422
    assert r.json()["detail"] == "stages[1].name: stage name 'a' is listed twice", r.text


async def test_deleting_an_owner_who_owns_touchpoints_is_a_conflict(
    client: Client, admin: dict[str, str]
) -> None:
    journey = await _journey(client, admin)
    owner = await _owner(client, admin)
    await _touchpoint(client, admin, journey["stages"][0]["id"], owner["id"])
    r = await client.delete(f"/api/v1/owners/{owner['id']}", headers=admin)
    assert r.status_code == 409
    assert "still owns 1 touchpoint" in r.json()["detail"]
    assert r.json()["type"] == problem_type("still-in-use")
    other = await _owner(client, admin, "Other")
    r = await client.delete(f"/api/v1/owners/{other['id']}", headers=admin)
    assert r.status_code == 204


async def test_lists_filter_and_paginate_with_cursors(client: Client, admin: dict[str, str]) -> None:
    journey = await _journey(client, admin)
    a = await _owner(client, admin, "A")
    b = await _owner(client, admin, "B")
    for i in range(5):
        await _touchpoint(client, admin, journey["stages"][i]["id"], a["id"] if i % 2 else b["id"],
                          key=f"tp-{i}", channel="web" if i < 3 else "app")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        r = await client.get("/api/v1/touchpoints", params=params, headers=admin)
        assert r.status_code == 200
        seen += [t["key"] for t in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"tp-{i}" for i in range(5)]
    r = await client.get("/api/v1/touchpoints", params={"owner": a["id"], "channel": "web"}, headers=admin)
    assert [t["key"] for t in r.json()["items"]] == ["tp-1"]
    r = await client.get("/api/v1/touchpoints", params={"stage": journey["stages"][4]["id"]}, headers=admin)
    assert [t["key"] for t in r.json()["items"]] == ["tp-4"]
    r = await client.get("/api/v1/touchpoints", params={"active": "false"}, headers=admin)
    assert r.json()["items"] == []
    r = await client.get("/api/v1/touchpoints", params={"cursor": "not-a-cursor"}, headers=admin)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "cursor"


async def test_validation_lists_every_offending_field(client: Client, admin: dict[str, str]) -> None:
    payload = {"key": "Bad Key!", "name": "", "stage_id": "x", "channel": "fax", "owner_id": 1,
               "kind": "nps", "sample_rate": 2, "colour": "red"}
    r = await client.post("/api/v1/touchpoints", json=payload, headers=admin)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"key", "name", "stage_id", "channel", "sample_rate", "colour"}
    channel = next(e["message"] for e in r.json()["errors"] if e["field"] == "channel")
    assert channel.endswith("expected one of: email, sms, app, web, phone, chat, store, other"), channel


async def test_a_touchpoint_takes_every_channel_the_api_names(client: Client, admin: dict[str, str]) -> None:
    # The vocabulary, the API document and the database's CHECK (migration 0014 added sms) agree.
    journey, owner = await _journey(client, admin), await _owner(client, admin)
    spec = (await client.get("/schema/openapi.json")).json()
    assert spec["components"]["schemas"]["Channel"]["enum"] == [c.value for c in Channel]
    assert "sms" in [c.value for c in Channel]
    for channel in Channel:
        tp = await _touchpoint(client, admin, journey["stages"][0]["id"], owner["id"], key=f"on-{channel.value}",
                               channel=channel.value)
        assert tp["channel"] == channel.value
    r = await client.post("/api/v1/touchpoints/on-email/invitations",
                          json={"customer": "c-1", "channel": "sms"}, headers=admin)
    assert r.status_code == 201, r.text
    invitation = await client.get(f"/api/v1/invitations/{r.json()['id']}", headers=admin)
    assert invitation.json()["channel"] == "sms"


async def test_keys_roles_and_owner_isolation(client: Client, admin: dict[str, str], make_key: MakeKey) -> None:
    journey = await _journey(client, admin)
    mine = await _owner(client, admin, "Mine")
    theirs = await _owner(client, admin, "Theirs")
    await _touchpoint(client, admin, journey["stages"][0]["id"], mine["id"], key="mine")
    await _touchpoint(client, admin, journey["stages"][1]["id"], theirs["id"], key="theirs")
    owner_key = bearer(await make_key("owner", mine["id"]))
    ingest_key = bearer(await make_key("ingest"))

    r = await client.get("/api/v1/touchpoints", headers=owner_key)
    assert [t["key"] for t in r.json()["items"]] == ["mine"]
    missing = await client.get("/api/v1/touchpoints/nope", headers=owner_key)
    other = await client.get("/api/v1/touchpoints/theirs", headers=owner_key)
    assert missing.status_code == other.status_code == 404
    assert (await client.get(f"/api/v1/owners/{theirs['id']}", headers=owner_key)).status_code == 404
    assert (await client.get(f"/api/v1/owners/{mine['id']}", headers=owner_key)).status_code == 200
    r = await client.post("/api/v1/owners", json={"name": "X"}, headers=owner_key)
    assert r.status_code == 403 and r.json()["type"] == problem_type("forbidden")
    assert (await client.get("/api/v1/touchpoints", headers=ingest_key)).status_code == 403
    assert (await client.get("/api/v1/touchpoints")).status_code == 401
    bad = await client.get("/api/v1/touchpoints", headers=bearer("tp_nothing_here"))
    assert bad.status_code == 401
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["type"] == problem_type("unauthenticated")


async def test_health_and_readiness(client: Client) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok", "detail": ""}
    for path in ("/healthz", "/readyz"):  # what uptime monitors send
        r = await client.head(path)
        assert r.status_code == 200 and r.content == b"", (path, r.status_code)
    r = await client.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert r.headers["x-request-id"]
    assert "script-src" not in r.headers["content-security-policy"]
    assert "default-src 'none'" in r.headers["content-security-policy"]


async def test_answers_the_router_gives_carry_a_request_id_and_are_logged(
        client: Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="touchpulse.access")
    for method, path in (("GET", "/api/v1/nothing"), ("PUT", "/healthz")):
        r = await client.request(method, path, headers={"X-Request-ID": f"probe-{method}"})
        assert r.status_code in (404, 405) and r.headers["x-request-id"] == f"probe-{method}"
        slug = "not-found" if r.status_code == 404 else "method-not-allowed"
        assert r.json()["type"] == problem_type(slug), r.text
        assert any(path in m and str(r.status_code) in m for m in caplog.messages), caplog.messages
    r = await client.get("/api/v1/nothing")
    assert len(r.headers["x-request-id"]) == 32  # one of our own when the caller sent none


async def test_changing_kind_or_wording_never_rewrites_history(
    client: Client, admin: dict[str, str], conn: Any
) -> None:
    journey = await _journey(client, admin)
    owner = await _owner(client, admin)
    tp = await _touchpoint(client, admin, journey["stages"][4]["id"], owner["id"])
    await conn.execute(
        """INSERT INTO responses (touchpoint_id, id, journey_id, stage_id, owner_id, kind, scale_min,
               scale_max, score, channel, source)
           VALUES ($1, gen_random_uuid(), $2, $3, $4, 'csat', 1, 5, 4, 'phone', 'api')""",
        tp["id"], journey["id"], tp["stage_id"], owner["id"],
    )
    r = await client.patch("/api/v1/touchpoints/support-call",
                           json={"kind": "nps", "questions": {"en": "Would you recommend our support?"}},
                           headers=admin)
    assert r.status_code == 200
    row = await conn.fetchrow("SELECT kind, scale_min, scale_max, score FROM responses")
    assert dict(row) == {"kind": "csat", "scale_min": 1, "scale_max": 5, "score": 4}
    await conn.execute("SELECT fold_rollups()")  # the rollups as a reader sees them
    rollup = await conn.fetchrow("SELECT kind, s4, responses FROM touchpoint_daily")
    assert dict(rollup) == {"kind": "csat", "s4": 1, "responses": 1}
    r = await client.delete("/api/v1/touchpoints/support-call", headers=admin)
    assert r.status_code == 409
    assert "deactivate" in r.json()["detail"] and r.json()["type"] == problem_type("still-in-use")


async def _seeded(conn: Any) -> tuple[int, int, int]:
    """A journey, an owner and a CSAT touchpoint 'support-call' (target 85), committed."""
    journey = await service.create_journey(conn, JourneyCreate(name="Shop"))
    owner = await service.create_owner(conn, OwnerCreate(name="Support"))
    await service.create_touchpoint(conn, TouchpointCreate(
        key="support-call", name="Support call", stage_id=journey.stages[4].id, channel=Channel.PHONE,
        owner_id=owner.id, kind=SurveyKind.CSAT, target=85))
    return journey.id, journey.stages[4].id, owner.id


async def _blocked(task: Any) -> None:
    """Fail unless `task` is still waiting (on a row lock) a moment after it started."""
    await asyncio.sleep(0.3)
    assert not task.done(), task.result()


async def test_two_touchpoint_changes_at_once_both_take_effect(conn: Any, database_url: str) -> None:
    # One manager sets the target while another halves the sample rate: neither change is lost.
    await _seeded(conn)
    async with connect(database_url) as other:
        tx = conn.transaction()
        await tx.start()
        await service.update_touchpoint(conn, "support-call", TouchpointUpdate(target=70))
        task = asyncio.create_task(
            service.update_touchpoint(other, "support-call", TouchpointUpdate(sample_rate=0.5)))
        await asyncio.sleep(0.3)
        await tx.commit()
        tp = await asyncio.wait_for(task, 10)
    assert (tp.target, tp.sample_rate) == (70, 0.5)
    row = await conn.fetchrow("SELECT target, sample_rate FROM touchpoints WHERE key = 'support-call'")
    assert tuple(row) == (70, 0.5)


async def test_two_owner_changes_at_once_both_take_effect(conn: Any, database_url: str) -> None:
    _, _, owner_id = await _seeded(conn)
    async with connect(database_url) as other:
        tx = conn.transaction()
        await tx.start()
        await service.update_owner(conn, owner_id, OwnerUpdate(name="Customer Care"))
        task = asyncio.create_task(service.update_owner(other, owner_id, OwnerUpdate(email="care@x.example")))
        await asyncio.sleep(0.3)
        await tx.commit()
        owner = await asyncio.wait_for(task, 10)
    assert (owner.name, owner.email) == ("Customer Care", "care@x.example")


async def test_giving_a_touchpoint_to_an_owner_being_deleted_is_a_clear_refusal(
    conn: Any, database_url: str
) -> None:
    await _seeded(conn)
    doomed = await service.create_owner(conn, OwnerCreate(name="Temp"))
    async with connect(database_url) as other:
        # The deletion first: the move waits for it, then is told the owner is gone.
        tx = conn.transaction()
        await tx.start()
        await service.delete_owner(conn, doomed.id)
        move = asyncio.create_task(
            service.update_touchpoint(other, "support-call", TouchpointUpdate(owner_id=doomed.id)))
        await _blocked(move)
        await tx.commit()
        with pytest.raises(InvalidInput) as refused:
            await asyncio.wait_for(move, 10)
        assert refused.value.errors[0].field == "owner_id"

        # The move first: the deletion waits for it, then finds the owner owns a touchpoint.
        doomed = await service.create_owner(conn, OwnerCreate(name="Temp"))
        tx = other.transaction()
        await tx.start()
        await service.update_touchpoint(other, "support-call", TouchpointUpdate(owner_id=doomed.id))
        deletion = asyncio.create_task(service.delete_owner(conn, doomed.id))
        await _blocked(deletion)
        await tx.commit()
        with pytest.raises(Conflict):
            await asyncio.wait_for(deletion, 10)
    assert (await service.get_touchpoint(conn, "support-call")).owner_id == doomed.id


async def test_moving_a_touchpoint_into_a_stage_being_removed_is_a_clear_refusal(
    conn: Any, database_url: str
) -> None:
    journey_id, _, _ = await _seeded(conn)
    journey = await service.get_journey(conn, journey_id)
    last = journey.stages[-1]
    without_last = JourneyUpdate(stages=[StagePlan(id=s.id, name=s.name) for s in journey.stages[:-1]])
    async with connect(database_url) as other:
        tx = conn.transaction()
        await tx.start()
        await service.update_journey(conn, journey_id, without_last)
        move = asyncio.create_task(
            service.update_touchpoint(other, "support-call", TouchpointUpdate(stage_id=last.id)))
        await _blocked(move)
        await tx.commit()
        with pytest.raises(InvalidInput) as refused:
            await asyncio.wait_for(move, 10)
        assert refused.value.errors[0].field == "stage_id"

        # The move first into the last stage of a second journey, then that journey's deletion.
        second = await service.create_journey(conn, JourneyCreate(name="Returns", stages=["Return"]))
        tx = other.transaction()
        await tx.start()
        await service.update_touchpoint(other, "support-call",
                                        TouchpointUpdate(stage_id=second.stages[0].id))
        deletion = asyncio.create_task(service.delete_journey(conn, second.id))
        await _blocked(deletion)
        await tx.commit()
        with pytest.raises(Conflict):
            await asyncio.wait_for(deletion, 10)


async def test_an_answer_arriving_while_its_touchpoint_is_deleted_is_never_lost(
    conn: Any, database_url: str
) -> None:
    journey_id, stage_id, owner_id = await _seeded(conn)
    tp = await service.get_touchpoint(conn, "support-call")
    async with connect(database_url) as other:
        tx = other.transaction()
        await tx.start()
        await other.execute(
            """INSERT INTO responses (touchpoint_id, id, journey_id, stage_id, owner_id, kind, scale_min,
                   scale_max, score, channel, source)
               VALUES ($1, gen_random_uuid(), $2, $3, $4, 'csat', 1, 5, 4, 'phone', 'api')""",
            tp.id, journey_id, stage_id, owner_id)
        deletion = asyncio.create_task(service.delete_touchpoint(conn, "support-call"))
        await asyncio.sleep(0.3)
        await tx.commit()
        with pytest.raises(Conflict):
            await asyncio.wait_for(deletion, 10)
    assert await conn.fetchval("SELECT count(*) FROM responses") == 1


async def test_names_are_trimmed_and_never_blank(client: Client, admin: dict[str, str]) -> None:
    r = await client.post("/api/v1/owners", json={"name": "  Delivery  "}, headers=admin)
    assert r.status_code == 201 and r.json()["name"] == "Delivery"
    for path, body, field in [
        ("/api/v1/owners", {"name": " \t "}, "name"),
        ("/api/v1/journeys", {"name": "   "}, "name"),
        ("/api/v1/journeys", {"name": "Shop", "stages": ["Sale", "\u3000"]}, "stages[1]"),
    ]:
        r = await client.post(path, json=body, headers=admin)
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == [field], r.text
        assert "blank" in r.json()["errors"][0]["message"]
    owner_id = (await _owner(client, admin))["id"]
    r = await client.patch(f"/api/v1/owners/{owner_id}", json={"name": "  "}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"
    journey = await _journey(client, admin)
    await _touchpoint(client, admin, journey["stages"][0]["id"], owner_id)
    r = await client.patch("/api/v1/touchpoints/support-call", json={"name": " "}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"
    r = await client.patch(f"/api/v1/journeys/{journey['id']}", json={"name": "  Shop 2 "}, headers=admin)
    assert r.status_code == 200 and r.json()["name"] == "Shop 2"


@pytest.mark.parametrize("invisible", ["\u200b", "\u00ad", "\ufeff", "\u200d\u2060", " \u200e\u3000"])
async def test_a_name_of_characters_that_print_nothing_is_blank(
    client: Client, admin: dict[str, str], invisible: str
) -> None:
    for path, body, field in [
        ("/api/v1/owners", {"name": invisible}, "name"),
        ("/api/v1/journeys", {"name": invisible}, "name"),
        ("/api/v1/journeys", {"name": "Shop", "stages": ["Sale", invisible]}, "stages[1]"),
    ]:
        r = await client.post(path, json=body, headers=admin)
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == [field], r.text
        assert "blank" in r.json()["errors"][0]["message"]
    journey = await _journey(client, admin)
    plan = [{"id": s["id"], "name": s["name"]} for s in journey["stages"]] + [{"name": invisible}]
    r = await client.patch(f"/api/v1/journeys/{journey['id']}", json={"stages": plan}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "stages[8].name", r.text
    # Around a visible name they are dropped like spaces.
    r = await client.post("/api/v1/owners", json={"name": f"{invisible}Delivery{invisible}"}, headers=admin)
    assert r.status_code == 201 and r.json()["name"] == "Delivery", r.text


async def test_control_characters_inside_names_and_questions_are_refused(
    client: Client, admin: dict[str, str]
) -> None:
    # A name and a question are one line wherever they show; a tab or newline inside is a 422.
    for path, body, field in [
        ("/api/v1/owners", {"name": "Sup\tport"}, "name"),
        ("/api/v1/owners", {"name": "Support\x80"}, "name"),  # a C1 control is one too
        ("/api/v1/journeys", {"name": "Shop\nfront"}, "name"),
        ("/api/v1/journeys", {"name": "Shop", "stages": ["Sale", "Re\x85turn"]}, "stages[1]"),
    ]:
        r = await client.post(path, json=body, headers=admin)
        assert r.status_code == 422, (body, r.text)
        assert [e["field"] for e in r.json()["errors"]] == [field], r.text
        assert "control characters" in r.json()["errors"][0]["message"]
    # Around a name they are spaces, trimmed as before.
    r = await client.post("/api/v1/owners", json={"name": "\tDelivery\r\n"}, headers=admin)
    assert r.status_code == 201 and r.json()["name"] == "Delivery", r.text
    owner = r.json()
    r = await client.patch(f"/api/v1/owners/{owner['id']}", json={"name": "Deli\x1bvery"}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name", r.text
    journey = await _journey(client, admin)
    plan = [{"id": s["id"], "name": s["name"]} for s in journey["stages"]] + [{"name": "Re\tturn"}]
    r = await client.patch(f"/api/v1/journeys/{journey['id']}", json={"stages": plan}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "stages[8].name", r.text
    await _touchpoint(client, admin, journey["stages"][0]["id"], owner["id"])
    for body, field in [({"name": "Support\ncall"}, "name"),
                        ({"questions": {"en": "How was\nyour call?"}}, "questions.en")]:
        r = await client.patch("/api/v1/touchpoints/support-call", json=body, headers=admin)
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == [field], r.text
    # A description is prose: its lines and tabs are kept, other control characters refused.
    prose = "Line one\r\nLine two\tand a tab"
    r = await client.patch(f"/api/v1/journeys/{journey['id']}", json={"description": prose}, headers=admin)
    assert r.status_code == 200 and r.json()["description"] == prose, r.text
    r = await client.post("/api/v1/journeys", json={"name": "Bell", "description": "ding\x07"}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "description", r.text


async def test_control_characters_are_refused_with_the_other_bad_fields_and_documented(
    client: Client, admin: dict[str, str]
) -> None:
    # Refused by the names' type, as NUL is: every bad field of the body is named at once, and
    # the API document says so, for a client generated from it.
    control = "may not contain control characters (tab, newline and the like)"
    r = await client.post("/api/v1/owners", json={"name": "Sup\u0007port", "email": "nope"}, headers=admin)
    assert r.status_code == 422, r.text
    assert sorted(e["field"] for e in r.json()["errors"]) == ["email", "name"], r.text
    assert {"field": "name", "message": control} in r.json()["errors"]
    r = await client.post("/api/v1/journeys", headers=admin, json={
        "name": "\u009bShop", "description": "a\u0007", "stages": ["Sale", "\u0007Return"]})
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [
        {"field": "name", "message": control},
        {"field": "description", "message": "may not contain control characters other than tab and newline"},
        {"field": "stages[1]", "message": control}], r.text
    journey = await _journey(client, admin)
    owner = await _owner(client, admin)
    plan = [{"id": s["id"], "name": s["name"]} for s in journey["stages"]] + [{"name": "Re\u001bturn"}]
    r = await client.patch(f"/api/v1/journeys/{journey['id']}", json={"stages": plan, "name": "X\u0085"},
                           headers=admin)
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["stages[8].name"], r.text
    r = await client.post("/api/v1/touchpoints", headers=admin, json={
        "key": "call", "name": "Call\u0080", "stage_id": journey["stages"][0]["id"], "channel": "phone",
        "owner_id": owner["id"], "kind": "csat", "questions": {"en": "Fine?", "ru": "\u001b[31mКак?"}})
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": "name", "message": control},
                                  {"field": "questions.ru", "message": control}], r.text
    # A format character is no control: the pages print it as text (see surveys.models).
    r = await client.post("/api/v1/owners", json={"name": "Team \u202egnirahs"}, headers=admin)
    assert r.status_code == 201, r.text
    schemas = (await client.get("/schema/openapi.json")).json()["components"]["schemas"]
    for schema, field, pattern in (("OwnerCreate", "name", ONE_LINE), ("JourneyCreate", "name", ONE_LINE),
                                   ("JourneyCreate", "description", PROSE), ("StagePlan", "name", ONE_LINE)):
        described = schemas[schema]["properties"][field]
        assert described["pattern"] == pattern and "control characters" in described["description"], (
            schema, field, described)


async def test_blank_question_wording_is_refused_and_wording_is_trimmed(
    client: Client, admin: dict[str, str]
) -> None:
    # A blank custom question would replace the kind's default and show customers no question.
    journey = await _journey(client, admin)
    owner = await _owner(client, admin)
    payload = {"key": "support-call", "name": "Support call", "stage_id": journey["stages"][0]["id"],
               "channel": "phone", "owner_id": owner["id"], "kind": "csat",
               "questions": {"en": "   ", "ru": "\u200b"}}
    r = await client.post("/api/v1/touchpoints", json=payload, headers=admin)
    assert r.status_code == 422, r.text
    assert sorted(e["field"] for e in r.json()["errors"]) == ["questions.en", "questions.ru"]
    tp = await _touchpoint(client, admin, journey["stages"][0]["id"], owner["id"],
                           questions={"en": "  How was your call? "})
    assert tp["questions"]["en"] == tp["custom_questions"]["en"] == "How was your call?"
    r = await client.patch("/api/v1/touchpoints/support-call", json={"questions": {"en": " \t"}},
                           headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "questions.en", r.text
    r = await client.get("/api/v1/touchpoints/support-call", headers=admin)
    assert r.json()["questions"]["en"] == "How was your call?"


@pytest.mark.parametrize("twin", ["Sale ", " sale", "SALE", "Ｓａｌｅ", "Sale\u00a0"])
async def test_stage_names_that_look_the_same_are_refused(
    client: Client, admin: dict[str, str], twin: str
) -> None:
    r = await client.post("/api/v1/journeys", json={"name": "Shop", "stages": ["Sale", twin]}, headers=admin)
    assert r.status_code == 422, r.text
    journey = await _journey(client, admin)
    plan = [{"id": s["id"], "name": s["name"]} for s in journey["stages"]] + [{"name": twin}]
    r = await client.patch(f"/api/v1/journeys/{journey['id']}", json={"stages": plan}, headers=admin)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "stages[8].name"
