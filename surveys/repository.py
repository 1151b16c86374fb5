"""Owners, journeys, stages and touchpoints in PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg
import msgspec

from surveys.kinds import SUPPORTED_LOCALES, default_question
from surveys.models import Journey, Owner, Touchpoint, TouchpointFilter
from surveys.sql import load

Q = load(__file__)
if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Conn: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
else:
    Conn = asyncpg.Connection


def _one(row: asyncpg.Record | None) -> asyncpg.Record:
    # RETURNING on an INSERT always yields its row.
    assert row is not None
    return row


def _owner(row: asyncpg.Record) -> Owner:
    return msgspec.convert(dict(row), Owner)


def _journey(row: asyncpg.Record) -> Journey:
    data = dict(row)
    stages = data["stages"]
    if isinstance(stages, str):
        data["stages"] = msgspec.json.decode(stages)
    return msgspec.convert(data, Journey)


def _touchpoint(row: asyncpg.Record) -> Touchpoint:
    data = dict(row)
    custom = data["custom_questions"]
    if isinstance(custom, str):
        custom = msgspec.json.decode(custom)
    data["custom_questions"] = custom
    data["questions"] = {
        loc: custom.get(loc) or default_question(data["kind"], loc, data["name"]) for loc in SUPPORTED_LOCALES
    }
    return msgspec.convert(data, Touchpoint)


# Owners


async def insert_owner(conn: Conn, *, name: str, email: str | None, key: str) -> Owner:
    return _owner(_one(await conn.fetchrow(Q["insert-owner"], name, email, key)))


async def get_owner(conn: Conn, *, owner_id: int, scope: int | None = None) -> Owner | None:
    row = await conn.fetchrow(Q["get-owner"], owner_id, scope)
    return None if row is None else _owner(row)


async def list_owners(conn: Conn, *, after: int, limit: int, scope: int | None = None) -> list[Owner]:
    return [_owner(r) for r in await conn.fetch(Q["list-owners"], after, scope, limit)]


async def update_owner(conn: Conn, *, owner_id: int, name: str, email: str | None, key: str) -> Owner | None:
    row = await conn.fetchrow(Q["update-owner"], owner_id, name, email, key)
    return None if row is None else _owner(row)


async def lock_owner_names(conn: Conn) -> None:
    await conn.execute(Q["lock-owner-names"])


# Name keys: `kind` is "owner" or "journey".


async def named(conn: Conn, *, kind: str, key: str) -> list[tuple[int, str]]:
    """Those of the kind whose name has this key."""
    return [(int(r["id"]), str(r["name"])) for r in await conn.fetch(Q[f"{kind}-named"], key)]


async def unkeyed_names(conn: Conn, *, kind: str) -> list[tuple[int, str]]:
    """Names of the kind stored without their key."""
    return [(int(r["id"]), str(r["name"])) for r in await conn.fetch(Q[f"{kind}s-unkeyed"])]


async def key_names(conn: Conn, *, kind: str, keyed: list[tuple[int, str, str]]) -> None:
    """Store (id, name, key) keys, for rows whose name is still that one and no other
    transaction holds."""
    ids, names, keys = (list(c) for c in zip(*keyed, strict=True))
    await conn.execute(Q[f"key-{kind}s"], ids, names, keys)


async def lock_owner(conn: Conn, *, owner_id: int, for_delete: bool = False) -> bool:
    query = Q["lock-owner-for-delete"] if for_delete else Q["lock-owner"]
    return await conn.fetchval(query, owner_id) is not None


async def hold_owner(conn: Conn, *, owner_id: int) -> bool:
    return await conn.fetchval(Q["hold-owner"], owner_id) is not None


async def owned_touchpoint_count(conn: Conn, *, owner_id: int) -> int:
    return int(await conn.fetchval(Q["owned-touchpoint-count"], owner_id))


async def delete_owner(conn: Conn, *, owner_id: int) -> bool:
    return await conn.fetchval(Q["delete-owner"], owner_id) is not None


# Journeys and stages


async def insert_journey(conn: Conn, *, name: str, description: str, stages: list[str], key: str) -> int:
    journey_id = int(await conn.fetchval(Q["insert-journey"], name, description, key))
    await conn.execute(Q["insert-stages"], journey_id, stages)
    return journey_id


async def get_journey(conn: Conn, *, journey_id: int, scope: int | None = None) -> Journey | None:
    row = await conn.fetchrow(Q["get-journey"], journey_id, scope)
    return None if row is None else _journey(row)


async def list_journeys(conn: Conn, *, after: int, limit: int, scope: int | None = None) -> list[Journey]:
    return [_journey(r) for r in await conn.fetch(Q["list-journeys"], after, scope, limit)]


async def lock_journey_names(conn: Conn) -> None:
    await conn.execute(Q["lock-journey-names"])


async def lock_journey(conn: Conn, *, journey_id: int) -> bool:
    return await conn.fetchval(Q["lock-journey"], journey_id) is not None


async def update_journey(conn: Conn, *, journey_id: int, name: str, description: str, key: str) -> None:
    await conn.execute(Q["update-journey"], journey_id, name, description, key)


async def journey_stage_ids(conn: Conn, *, journey_id: int) -> set[int]:
    return {int(r["id"]) for r in await conn.fetch(Q["journey-stage-ids"], journey_id)}


async def lock_stages(conn: Conn, *, stage_ids: list[int]) -> None:
    await conn.execute(Q["lock-stages"], stage_ids)


async def lock_journey_stages(conn: Conn, *, journey_id: int) -> None:
    await conn.execute(Q["lock-journey-stages"], journey_id)


async def stage_touchpoint_counts(conn: Conn, *, stage_ids: list[int]) -> dict[str, int]:
    rows = await conn.fetch(Q["stage-touchpoint-counts"], stage_ids)
    return {str(r["name"]): int(r["touchpoints"]) for r in rows}


async def replace_stages(
    conn: Conn, *, journey_id: int, plan: list[tuple[int | None, str]], removed: list[int]
) -> None:
    await conn.execute(Q["delete-stages"], removed)
    await conn.execute(Q["move-stages-aside"], journey_id)
    for position, (stage_id, name) in enumerate(plan):
        if stage_id is None:
            await conn.execute(Q["add-stage"], journey_id, name, position)
        else:
            await conn.execute(Q["place-stage"], stage_id, name, position)


async def journey_touchpoint_count(conn: Conn, *, journey_id: int) -> int:
    return int(await conn.fetchval(Q["journey-touchpoint-count"], journey_id))


async def delete_journey(conn: Conn, *, journey_id: int) -> bool:
    return await conn.fetchval(Q["delete-journey"], journey_id) is not None


async def hold_stage(conn: Conn, *, stage_id: int) -> bool:
    return await conn.fetchval(Q["hold-stage"], stage_id) is not None


# Touchpoints


async def missing_filters(conn: Conn, *, journey: int | None, stage: int | None, owner: int | None,
                          scope: int | None) -> tuple[list[tuple[str, int]], int | None]:
    """The (filter, id) pairs naming a journey, stage or owner the caller cannot see, and the
    journey of the stage filter's stage (None without one, or when the caller cannot see it)."""
    row = _one(await conn.fetchrow(Q["visible-filters"], journey, stage, owner, scope))
    named = (("journey", journey), ("stage", stage), ("owner", owner))
    missing = [(field, value) for field, value in named if value is not None and not row[field]]
    seen_stage = stage is not None and row["stage"]
    return missing, row["stage_journey"] if seen_stage else None


async def get_touchpoint(conn: Conn, *, key: str, scope: int | None = None) -> Touchpoint | None:
    row = await conn.fetchrow(Q["get-touchpoint"], key, scope)
    return None if row is None else _touchpoint(row)


async def list_touchpoints(
    conn: Conn, *, after: int, limit: int, filters: TouchpointFilter, scope: int | None = None
) -> list[Touchpoint]:
    rows = await conn.fetch(
        Q["list-touchpoints"], after, scope, filters.journey, filters.stage, filters.owner,
        filters.channel, filters.kind, filters.active, limit,
    )
    return [_touchpoint(r) for r in rows]


async def lock_touchpoint(conn: Conn, *, key: str, for_delete: bool = False) -> bool:
    query = Q["lock-touchpoint-for-delete"] if for_delete else Q["lock-touchpoint"]
    return await conn.fetchval(query, key) is not None


def _touchpoint_values(fields: dict[str, Any]) -> list[Any]:
    return [
        fields["name"], fields["stage_id"], fields["channel"], fields["owner_id"], fields["kind"],
        fields["questions"], fields["target"], fields["sample_rate"], fields["recontact_days"],
        fields["expiry_days"], fields["active"], fields["name_key"],
    ]


async def insert_touchpoint(conn: Conn, *, key: str, fields: dict[str, Any]) -> None:
    await conn.fetchval(Q["insert-touchpoint"], key, *_touchpoint_values(fields))


async def update_touchpoint(conn: Conn, *, key: str, fields: dict[str, Any]) -> None:
    await conn.execute(Q["update-touchpoint"], key, *_touchpoint_values(fields))


async def lock_touchpoint_names(conn: Conn) -> None:
    await conn.execute(Q["lock-touchpoint-names"])


async def touchpoints_named(conn: Conn, *, owner_id: int, name_key: str, but: str) -> list[tuple[int, str, str]]:
    """(id, key, name) of the owner's touchpoints but `but` whose name has this key."""
    rows = await conn.fetch(Q["touchpoint-named"], owner_id, name_key, but)
    return [(int(r["id"]), str(r["key"]), str(r["name"])) for r in rows]


async def unkeyed_touchpoints(conn: Conn, *, owner_id: int) -> list[tuple[int, str, str]]:
    """(id, key, name) of the owner's touchpoints stored without a name key."""
    rows = await conn.fetch(Q["touchpoints-unkeyed"], owner_id)
    return [(int(r["id"]), str(r["key"]), str(r["name"])) for r in rows]


async def key_touchpoints(conn: Conn, *, keyed: list[tuple[int, str, str]]) -> None:
    """As key_names, for touchpoints."""
    ids, names, keys = (list(c) for c in zip(*keyed, strict=True))
    await conn.execute(Q["key-touchpoints"], ids, names, keys)


async def touchpoint_history(conn: Conn, *, key: str) -> tuple[int, int]:
    row = await conn.fetchrow(Q["touchpoint-history"], key)
    return (0, 0) if row is None else (int(row["responses"]), int(row["invitations"]))


async def delete_touchpoint(conn: Conn, *, key: str) -> bool:
    return await conn.fetchval(Q["delete-touchpoint"], key) is not None
