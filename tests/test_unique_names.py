"""No two owners, no two journeys and no two touchpoints of one owner with one name (as stage
names: case, spacing and full-width forms aside); duplicates from before the rule keep working."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest

from feedback.demo.loader import load_demo
from feedback.service.database import Connection, connect
from feedback.settings import Settings
from surveys import service
from surveys.errors import NameTaken
from surveys.kinds import SurveyKind
from surveys.models import (
    Channel,
    JourneyCreate,
    JourneyUpdate,
    OwnerCreate,
    OwnerUpdate,
    TouchpointCreate,
    TouchpointUpdate,
)
from surveys.text import name_key
from tests.conftest import problem_type

Client = httpx.AsyncClient
PATHS = {"owner": "/api/v1/owners", "journey": "/api/v1/journeys"}
KINDS = pytest.mark.parametrize("kind", ["owner", "journey"])
Make = Callable[[Connection], Coroutine[Any, Any, Any]]


async def _create(client: Client, admin: dict[str, str], kind: str, name: str) -> httpx.Response:
    return await client.post(PATHS[kind], json={"name": name}, headers=admin)


async def _created(client: Client, admin: dict[str, str], kind: str, name: str) -> dict[str, Any]:
    r = await _create(client, admin, kind, name)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


@KINDS
async def test_a_second_one_with_the_same_name_is_a_conflict_naming_the_first(
    client: Client, admin: dict[str, str], kind: str
) -> None:
    first = await _created(client, admin, kind, "Customer Support")
    r = await _create(client, admin, kind, "Customer Support")
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    article = "An" if kind == "owner" else "A"
    assert r.json()["detail"] == f"{article} {kind} named 'Customer Support' already exists (id {first['id']})."
    assert [e["field"] for e in r.json()["errors"]] == ["name"]
    assert r.json()["type"] == problem_type("name-taken") and r.json()["title"] == "Conflict"
    listed = (await client.get(PATHS[kind], headers=admin)).json()["items"]
    assert [x["id"] for x in listed] == [first["id"]]


@KINDS
# A tab inside a name is no twin: it is refused outright (test_admin_api.py, control characters).
@pytest.mark.parametrize("twin", [
    "customer support", "CUSTOMER SUPPORT", "  Customer   Support ", "Customer\u00a0Support",
    "ＣＵＳＴＯＭＥＲ Ｓｕｐｐｏｒｔ", "Customer\u3000Support",
    # Characters that print nothing, inside or around the name.
    "Customer Support\u200b", "Cus\u00adtomer Support", "\ufeffCustomer Support", "Customer\u200d Support",
])
async def test_names_that_look_the_same_are_the_same_name(
    client: Client, admin: dict[str, str], kind: str, twin: str
) -> None:
    first = await _created(client, admin, kind, "Customer Support")
    r = await _create(client, admin, kind, twin)
    assert r.status_code == 409, r.text
    assert f"(id {first['id']})" in r.json()["detail"]
    # Names that do differ are still free.
    await _created(client, admin, kind, "Customer Support 2")


@KINDS
async def test_renaming_into_another_name_is_a_conflict_and_into_its_own_is_not(
    client: Client, admin: dict[str, str], kind: str
) -> None:
    support = await _created(client, admin, kind, "Customer Support")
    sales = await _created(client, admin, kind, "Sales")
    path = f"{PATHS[kind]}/{sales['id']}"
    r = await client.patch(path, json={"name": "customer  SUPPORT"}, headers=admin)
    assert r.status_code == 409, r.text
    assert f"named 'Customer Support' already exists (id {support['id']})" in r.json()["detail"]
    assert r.json()["type"] == problem_type("name-taken")
    assert r.json()["errors"][0]["field"] == "name"
    assert (await client.get(path, headers=admin)).json()["name"] == "Sales"
    for own in ("Sales", "SALES", "ｓａｌｅｓ"):
        r = await client.patch(path, json={"name": own}, headers=admin)
        assert r.status_code == 200, r.text
        assert r.json()["name"] == own
    r = await client.patch(path, json={"name": "Sales & Renewals"}, headers=admin)
    assert r.status_code == 200 and r.json()["name"] == "Sales & Renewals"


@KINDS
async def test_two_creates_at_once_give_one_201_and_one_409(
    client: Client, admin: dict[str, str], conn: Connection, kind: str
) -> None:
    for i in range(5):
        name = f"Team {i}"
        answers = await asyncio.gather(_create(client, admin, kind, name),
                                       _create(client, admin, kind, name.upper()))
        assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
    table = "owners" if kind == "owner" else "journeys"
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 5


async def test_a_create_waits_for_one_not_yet_committed_then_is_refused(
    conn: Connection, database_url: str
) -> None:
    # Deterministic form of the race: the first insert is not committed when the second checks.
    async with connect(database_url) as other:
        creates: list[tuple[Make, Make]] = [
            (lambda c: service.create_owner(c, OwnerCreate(name="Delivery")),
             lambda c: service.create_owner(c, OwnerCreate(name="DELIVERY"))),
            (lambda c: service.create_journey(c, JourneyCreate(name="Returns")),
             lambda c: service.create_journey(c, JourneyCreate(name="returns"))),
        ]
        for first, second in creates:
            tx = conn.transaction()
            await tx.start()
            made = await first(conn)
            task = asyncio.create_task(second(other))
            await asyncio.sleep(0.3)
            assert not task.done()
            await tx.commit()
            with pytest.raises(NameTaken) as taken:
                await asyncio.wait_for(task, 10)
            assert taken.value.existing_id == made.id


async def test_a_rename_waits_for_a_create_not_yet_committed_then_is_refused(
    conn: Connection, database_url: str
) -> None:
    owner = await service.create_owner(conn, OwnerCreate(name="Billing"))
    journey = await service.create_journey(conn, JourneyCreate(name="Shop"))
    async with connect(database_url) as other:
        tx = conn.transaction()
        await tx.start()
        await service.create_owner(conn, OwnerCreate(name="Care"))
        await service.create_journey(conn, JourneyCreate(name="Care journey"))
        owner_rename = asyncio.create_task(service.update_owner(other, owner.id, OwnerUpdate(name="care")))
        await asyncio.sleep(0.3)
        assert not owner_rename.done()
        await tx.commit()
        with pytest.raises(NameTaken):
            await asyncio.wait_for(owner_rename, 10)
        with pytest.raises(NameTaken):
            await service.update_journey(other, journey.id, JourneyUpdate(name="CARE JOURNEY"))


async def test_duplicates_from_before_the_rule_still_list_read_and_change(
    client: Client, admin: dict[str, str], conn: Connection
) -> None:
    owners = [r["id"] for r in await conn.fetch(
        "INSERT INTO owners (name) VALUES ('Support'), ('support'), ('Sales') RETURNING id")]
    journeys = [r["id"] for r in await conn.fetch(
        "INSERT INTO journeys (name) VALUES ('Shop'), ('SHOP') RETURNING id")]
    listed = (await client.get("/api/v1/owners", headers=admin)).json()["items"]
    assert [(o["id"], o["name"]) for o in listed] == list(zip(owners, ["Support", "support", "Sales"], strict=True))
    listed = (await client.get("/api/v1/journeys", headers=admin)).json()["items"]
    assert [j["name"] for j in listed] == ["Shop", "SHOP"]
    twin = f"/api/v1/owners/{owners[1]}"
    assert (await client.get(twin, headers=admin)).json()["name"] == "support"
    r = await client.patch(twin, json={"email": "care@x.example"}, headers=admin)
    assert r.status_code == 200 and r.json()["email"] == "care@x.example", r.text
    r = await client.patch(twin, json={"name": "SUPPORT"}, headers=admin)
    assert r.status_code == 200 and r.json()["name"] == "SUPPORT", r.text
    r = await client.patch(f"/api/v1/owners/{owners[2]}", json={"name": "Support"}, headers=admin)
    assert r.status_code == 409 and f"(id {owners[0]})" in r.json()["detail"]
    r = await _create(client, admin, "owner", "support")
    assert r.status_code == 409 and f"(id {owners[0]})" in r.json()["detail"]
    # Each twin can still be given work, and the second journey can be planned and renamed.
    path = f"/api/v1/journeys/{journeys[1]}"
    r = await client.patch(path, json={"description": "Returns too", "stages": [{"name": "Sale"}]},
                           headers=admin)
    assert r.status_code == 200 and [s["name"] for s in r.json()["stages"]] == ["Sale"], r.text
    r = await client.post("/api/v1/touchpoints", headers=admin, json={
        "key": "till", "name": "Till", "stage_id": r.json()["stages"][0]["id"], "channel": "store",
        "owner_id": owners[1], "kind": "csat"})
    assert r.status_code == 201, r.text
    r = await client.patch(path, json={"name": "Shop (old)"}, headers=admin)
    assert r.status_code == 200 and r.json()["name"] == "Shop (old)"
    assert (await client.delete(f"/api/v1/owners/{owners[0]}", headers=admin)).status_code == 204


async def _rows_read(conn: Connection, table: str) -> int:
    """Rows of `table` read so far, by scans and through indexes, as the statistics say."""
    await conn.execute("SELECT pg_stat_force_next_flush()")  # flushed once the session is idle
    read = await conn.fetchval("SELECT seq_tup_read + coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables "
                               "WHERE relname = $1", table)
    return int(read)


async def test_the_check_under_the_lock_reads_an_index_not_every_name(conn: Connection) -> None:
    # 5,000 names of each kind: the check ran with the lock held, so reading them all (about
    # 15 ms with 10,000) made every create and rename wait for the one before it that long.
    for table in ("owners", "journeys"):
        await conn.execute(f"INSERT INTO {table} (name) SELECT 'Team ' || g FROM generate_series(1, 5000) g")
    owner = await service.create_owner(conn, OwnerCreate(name="First"))
    journey = await service.create_journey(conn, JourneyCreate(name="First"))
    await conn.execute("ANALYZE owners; ANALYZE journeys")
    before = [await _rows_read(conn, table) for table in ("owners", "journeys")]
    await service.create_owner(conn, OwnerCreate(name="Second"))
    await service.create_journey(conn, JourneyCreate(name="Second"))
    await service.update_owner(conn, owner.id, OwnerUpdate(name="First, renamed"))
    await service.update_journey(conn, journey.id, JourneyUpdate(name="First, renamed"))
    with pytest.raises(NameTaken) as taken:
        await service.create_owner(conn, OwnerCreate(name="ＴＥＡＭ\u200b 4321"))
    assert taken.value.name == "Team 4321"
    with pytest.raises(NameTaken) as taken:
        await service.create_journey(conn, JourneyCreate(name="team  4321"))
    assert taken.value.name == "Team 4321"
    # A handful of rows (each lookup's, each renamed one), not 5,000 per check.
    after = [await _rows_read(conn, table) for table in ("owners", "journeys")]
    assert all(a - b < 20 for a, b in zip(after, before, strict=True)), (before, after)

async def test_names_stored_without_a_key_are_keyed_by_the_next_check_and_compared_until_then(
    conn: Connection, database_url: str
) -> None:
    # As before migration 0013, or by the previous release during a rolling deploy: no keys.
    support, sales = [r["id"] for r in await conn.fetch(
        "INSERT INTO owners (name) VALUES ('Support'), ('ｓａｌｅｓ\u200b') RETURNING id")]
    async with connect(database_url) as other, other.transaction():
        # A rename of Sales in flight holds its row and waits for the name lock: the check
        # must neither wait for the row (a deadlock) nor miss the name.
        await other.execute("SELECT 1 FROM owners WHERE id = $1 FOR NO KEY UPDATE", sales)
        with pytest.raises(NameTaken) as taken:
            await asyncio.wait_for(service.create_owner(conn, OwnerCreate(name="SALES")), 5)
        assert taken.value.existing_id == sales
        # Another name is free, and keys what it can: not the row held.
        await asyncio.wait_for(service.create_owner(conn, OwnerCreate(name="Care")), 5)
        keys = "SELECT id, name_key FROM owners ORDER BY id"
        assert [tuple(r) for r in await conn.fetch(keys)][:2] == [(support, "support"), (sales, None)]
    await service.create_owner(conn, OwnerCreate(name="Returns"))
    assert [tuple(r) for r in await conn.fetch(keys)][:2] == [(support, "support"), (sales, "sales")]
    # Renamed without its key (by hand, or by the previous release): the old key goes with it.
    await conn.execute("UPDATE owners SET name = 'Billing' WHERE id = $1", support)
    assert await conn.fetchval("SELECT name_key FROM owners WHERE id = $1", support) is None
    with pytest.raises(NameTaken) as taken:
        await service.create_owner(conn, OwnerCreate(name="billing"))
    assert taken.value.existing_id == support
    assert (await service.create_owner(conn, OwnerCreate(name="support"))).name == "support"
    # And each stored key is the one the check computes.
    for row in await conn.fetch("SELECT name, name_key FROM owners UNION ALL SELECT name, name_key FROM journeys"):
        assert row["name_key"] == name_key(row["name"])


async def test_the_demo_does_not_make_a_second_team_of_a_name_already_taken(
    conn: Connection, tmp_path: Path
) -> None:
    sales = await service.create_owner(conn, OwnerCreate(name="SALES"))
    summary = await load_demo(conn, Settings(secret_key="s" * 40, data_dir=tmp_path))
    assert not summary.created
    assert summary.skipped_because == f"the database already holds owner 'SALES' (id {sales.id})"
    assert await conn.fetchval("SELECT count(*) FROM owners") == 1
    assert await conn.fetchval("SELECT count(*) FROM journeys") == 0


async def test_openapi_documents_the_name_conflict(client: Client) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for path, method, word in [
        ("/api/v1/owners", "post", "owner"), ("/api/v1/owners/{owner_id}", "patch", "owner"),
        ("/api/v1/journeys", "post", "journey"), ("/api/v1/journeys/{journey_id}", "patch", "journey"),
    ]:
        conflict = paths[path][method]["responses"]["409"]
        assert f"Another {word} has this name" in conflict["description"], (path, method)
        assert "application/problem+json" in conflict["content"]
    # Deleting conflicts for another reason, and says so rather than naming the name.
    refused = paths["/api/v1/owners/{owner_id}"]["delete"]["responses"]["409"]["description"]
    assert "still owns touchpoints" in refused and "name" not in refused


# Touchpoints: names differ within an owner, whose report lists them by name.


async def _owner_and_stage(client: Client, admin: dict[str, str], owner: str = "Couriers") -> tuple[int, int]:
    owner_id = (await _created(client, admin, "owner", owner))["id"]
    journeys = (await client.get("/api/v1/journeys", headers=admin)).json()["items"]
    journey = journeys[0] if journeys else await _created(client, admin, "journey", "Delivery")
    return owner_id, journey["stages"][0]["id"]


async def _touchpoint(client: Client, admin: dict[str, str], key: str, name: str, owner_id: int,
                      stage_id: int) -> httpx.Response:
    return await client.post("/api/v1/touchpoints", headers=admin, json={
        "key": key, "name": name, "stage_id": stage_id, "channel": "app", "owner_id": owner_id, "kind": "csat"})


async def test_an_owners_second_touchpoint_of_a_name_is_a_conflict_naming_the_first_by_key(
    client: Client, admin: dict[str, str]
) -> None:
    owner, stage = await _owner_and_stage(client, admin)
    assert (await _touchpoint(client, admin, "courier-pickup", "Courier pickup", owner, stage)).status_code == 201
    for twin in ("Courier pickup", "courier  PICKUP", "Ｃｏｕｒｉｅｒ pickup\u200b"):
        r = await _touchpoint(client, admin, "courier-2", twin, owner, stage)
        assert r.status_code == 409, r.text
        assert r.json()["type"] == problem_type("name-taken")
        assert r.json()["detail"] == (f"A touchpoint of owner {owner} named 'Courier pickup' already exists "
                                      "(key 'courier-pickup').")
        assert [e["field"] for e in r.json()["errors"]] == ["name"]
    # Another owner's touchpoint may have the name: its own report tells them apart.
    other, _ = await _owner_and_stage(client, admin, "Warehouse")
    assert (await _touchpoint(client, admin, "warehouse-pickup", "Courier pickup", other, stage)).status_code == 201
    # A rename into the name, or a move to the owner that has it, is refused alike; a rename
    # into a case variant of its own name is not.
    assert (await _touchpoint(client, admin, "courier-drop", "Courier drop-off", owner, stage)).status_code == 201
    r = await client.patch("/api/v1/touchpoints/courier-drop", json={"name": "COURIER PICKUP"}, headers=admin)
    assert r.status_code == 409 and "(key 'courier-pickup')" in r.json()["detail"], r.text
    r = await client.patch("/api/v1/touchpoints/warehouse-pickup", json={"owner_id": owner}, headers=admin)
    assert r.status_code == 409 and "(key 'courier-pickup')" in r.json()["detail"], r.text
    r = await client.patch("/api/v1/touchpoints/courier-pickup", json={"name": "Courier Pickup"}, headers=admin)
    assert r.status_code == 200 and r.json()["name"] == "Courier Pickup", r.text
    r = await client.patch("/api/v1/touchpoints/courier-drop", json={"name": "Courier drop-off (late)"},
                           headers=admin)
    assert r.status_code == 200, r.text
    # Documented where it can happen.
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for path, method in (("/api/v1/touchpoints", "post"), ("/api/v1/touchpoints/{key}", "patch")):
        assert "Another touchpoint of the owner has this name" in paths[path][method]["responses"]["409"]["description"]


async def test_two_touchpoint_creates_of_one_name_at_once_give_one_201_and_one_409(
    client: Client, admin: dict[str, str], conn: Connection
) -> None:
    owner, stage = await _owner_and_stage(client, admin)
    for i in range(5):
        answers = await asyncio.gather(_touchpoint(client, admin, f"a-{i}", f"Step {i}", owner, stage),
                                       _touchpoint(client, admin, f"b-{i}", f"STEP {i}", owner, stage))
        assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
    assert await conn.fetchval("SELECT count(*) FROM touchpoints") == 5


async def test_a_touchpoint_create_waits_for_one_not_yet_committed_then_is_refused(
    conn: Connection, database_url: str
) -> None:
    owner = await service.create_owner(conn, OwnerCreate(name="Couriers"))
    stage = (await service.create_journey(conn, JourneyCreate(name="Delivery"))).stages[0].id
    other_owner = await service.create_owner(conn, OwnerCreate(name="Warehouse"))

    def new(key: str, name: str, owner_id: int) -> TouchpointCreate:
        return TouchpointCreate(key=key, name=name, stage_id=stage, channel=Channel("app"), owner_id=owner_id,
                                kind=SurveyKind.CSAT)

    async with connect(database_url) as other, connect(database_url) as third:
        await service.create_touchpoint(conn, new("moved", "Pickup", other_owner.id))
        tx = conn.transaction()
        await tx.start()
        await service.create_touchpoint(conn, new("pickup", "Pickup", owner.id))
        second = asyncio.create_task(service.create_touchpoint(other, new("pickup-2", "PICKUP", owner.id)))
        move = asyncio.create_task(service.update_touchpoint(third, "moved", TouchpointUpdate(owner_id=owner.id)))
        await asyncio.sleep(0.3)
        assert not second.done() and not move.done()
        await tx.commit()
        for task in (second, move):
            with pytest.raises(NameTaken) as taken:
                await asyncio.wait_for(task, 10)
            assert taken.value.existing_id == "pickup"


async def test_touchpoint_twins_from_before_the_rule_keep_working_and_pages_tell_them_apart(
    client: Client, admin: dict[str, str], conn: Connection
) -> None:
    owner, stage = await _owner_and_stage(client, admin)
    assert (await _touchpoint(client, admin, "courier-1", "Courier pickup", owner, stage)).status_code == 201
    # Twins as an earlier release stored them: no name key, one name.
    await conn.execute("INSERT INTO touchpoints (key, name, stage_id, channel, owner_id, kind) "
                       "VALUES ('courier-2', 'courier pickup', $1, 'app', $2, 'csat')", stage, owner)
    await conn.execute("UPDATE touchpoints SET name_key = NULL")
    assert (await _touchpoint(client, admin, "returns", "Returns desk", owner, stage)).status_code == 201
    r = await client.patch("/api/v1/touchpoints/courier-2", json={"sample_rate": 0.5}, headers=admin)
    assert r.status_code == 200 and r.json()["name"] == "courier pickup", r.text
    r = await client.patch("/api/v1/touchpoints/courier-2", json={"name": "Courier Pickup"}, headers=admin)
    assert r.status_code == 200, r.text
    r = await _touchpoint(client, admin, "courier-3", "COURIER PICKUP", owner, stage)
    assert r.status_code == 409 and "(key 'courier-1')" in r.json()["detail"], r.text
    # Each page that lists them shows the key beside a name two share; other names stand alone.
    report = (await client.get(f"/reports/owners/{owner}", headers=admin)).text
    glance = report.split("<h2>At a glance</h2>", 1)[1].split("</table>", 1)[0]
    assert '<a href="#tp-courier-1"><bdi>Courier pickup (courier-1)</bdi></a>' in glance
    assert '<a href="#tp-courier-2"><bdi>Courier Pickup (courier-2)</bdi></a>' in glance
    assert '<a href="#tp-returns"><bdi>Returns desk</bdi></a>' in glance
    assert "<h3><bdi>Courier pickup (courier-1)</bdi></h3>" in report and "<h3><bdi>Returns desk</bdi></h3>" in report
    journey = (await client.get("/api/v1/journeys", headers=admin)).json()["items"][0]["id"]
    page = (await client.get(f"/reports/journeys/{journey}", headers=admin)).text
    assert "<strong><bdi>Courier Pickup (courier-2)</bdi></strong>" in page and "<strong><bdi>Returns desk</bdi></strong>" in page
