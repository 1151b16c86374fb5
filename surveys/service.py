"""Rules for changing journeys, stages, touchpoints and owners."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from surveys import repository as repo
from surveys.errors import (
    FieldError,
    InvalidInput,
    KeyTaken,
    NameTaken,
    NotFound,
    StillInUse,
    invalid,
    invalid_each,
)
from surveys.kinds import scale_of, valid_target
from surveys.models import (
    LIFECYCLE_STAGES,
    Journey,
    JourneyCreate,
    JourneyUpdate,
    Owner,
    OwnerCreate,
    OwnerUpdate,
    Page,
    StagePlan,
    Touchpoint,
    TouchpointCreate,
    TouchpointFilter,
    TouchpointUpdate,
)
from surveys.paging import after_id, encode_cursor
from surveys.repository import Conn
from surveys.text import CONTROL_MESSAGE, PROSE_CONTROL_MESSAGE, has_control, name_key, unpadded


def _page(items: list[Any], limit: int) -> tuple[list[Any], str | None]:
    if len(items) > limit:
        items = items[:limit]
        return items, encode_cursor(items[-1].id)
    return items, None


# A name is one line wherever it shows (a heading, a table cell, a chart label, an email): a
# newline or tab inside it shows as a space at best, other control characters as nothing. The
# types' patterns (surveys.models.ONE_LINE, PROSE) refuse every other control at decoding.
# A description is prose and may run over lines; other control characters print nothing.
_PROSE = "\t\n\r"


def _trimmed(field: str, name: str) -> str:
    """A name without the spaces around it; one a person would see as empty, or one holding a
    control character once trimmed, is refused."""
    clean = unpadded(name)
    if not clean:
        raise invalid(field, "may not be blank")
    if has_control(clean):
        raise invalid(field, CONTROL_MESSAGE)
    return clean


def _described(description: str) -> str:
    if has_control(description, allowed=_PROSE):
        raise invalid("description", PROSE_CONTROL_MESSAGE)
    return description


def _wording(questions: dict[str, str]) -> dict[str, str]:
    """Questions without the spaces around them; a blank one would show customers no question.

    A question is the survey page's heading and title and the email's first line: one line, so
    a control character inside it is refused as in names."""
    clean = {locale: unpadded(text) for locale, text in questions.items()}
    errors = [FieldError(f"questions.{locale}", "may not be blank" if not text else CONTROL_MESSAGE)
              for locale, text in clean.items() if not text or has_control(text)]
    if errors:
        raise invalid_each(errors)
    return clean


async def _check_name_free(conn: Conn, kind: str, name: str) -> None:
    """NameTaken naming the first owner (journey) whose name has this name's key.

    Call under the kind's name lock. Keys are computed here, with the very function stage
    names use (PostgreSQL has no casefold), stored beside each name and looked up on an index
    (migration 0013). Names stored without one, before that or by the previous release during
    a rolling deploy, are keyed now, and compared here meanwhile (a row another transaction
    holds keeps no key until a later check).
    """
    key = name_key(name)
    unkeyed = [(i, n, name_key(n)) for i, n in await repo.unkeyed_names(conn, kind=kind)]
    if unkeyed:
        await repo.key_names(conn, kind=kind, keyed=unkeyed)
    twins = [(i, n) for i, n, k in unkeyed if k == key] + await repo.named(conn, kind=kind, key=key)
    if twins:
        existing_id, existing = min(twins)
        raise NameTaken(kind, existing, existing_id)


async def _check_touchpoint_name_free(conn: Conn, owner_id: int, name: str, but: str = "") -> None:
    """NameTaken naming the owner's first touchpoint, but the one keyed `but`, whose name has
    this name's key: an owner's report lists its touchpoints by name. As _check_name_free, under
    the touchpoint name lock, keying the owner's touchpoints stored without a key."""
    key = name_key(name)
    unkeyed = [(i, k, n, name_key(n)) for i, k, n in await repo.unkeyed_touchpoints(conn, owner_id=owner_id)]
    if unkeyed:
        await repo.key_touchpoints(conn, keyed=[(i, n, nk) for i, _, n, nk in unkeyed])
    twins = [(i, k, n) for i, k, n, nk in unkeyed if nk == key and k != but]
    twins += await repo.touchpoints_named(conn, owner_id=owner_id, name_key=key, but=but)
    if twins:
        _, existing_key, existing = min(twins)
        raise NameTaken("touchpoint", existing, existing_key, within=f"of owner {owner_id}")


# Owners


async def create_owner(conn: Conn, data: OwnerCreate) -> Owner:
    name = _trimmed("name", data.name)
    async with conn.transaction():
        await repo.lock_owner_names(conn)
        await _check_name_free(conn, "owner", name)
        return await repo.insert_owner(conn, name=name, email=data.email, key=name_key(name))


async def get_owner(conn: Conn, owner_id: int, scope: int | None = None) -> Owner:
    owner = await repo.get_owner(conn, owner_id=owner_id, scope=scope)
    if owner is None:
        raise NotFound(f"Owner {owner_id} does not exist.")
    return owner


async def list_owners(conn: Conn, *, cursor: str | None, limit: int, scope: int | None) -> Page[Owner]:
    items = await repo.list_owners(conn, after=after_id(cursor), limit=limit + 1, scope=scope)
    page, nxt = _page(items, limit)
    return Page(items=page, next_cursor=nxt)


async def update_owner(conn: Conn, owner_id: int, data: OwnerUpdate) -> Owner:
    async with conn.transaction():
        if not await repo.lock_owner(conn, owner_id=owner_id):
            raise NotFound(f"Owner {owner_id} does not exist.")
        current = await get_owner(conn, owner_id)
        name = current.name if data.name is msgspec.UNSET else _trimmed("name", data.name)
        email = current.email if data.email is msgspec.UNSET else data.email
        if name_key(name) != name_key(current.name):
            # Its own name in another case stays its own, even where duplicates from before
            # names were checked share it.
            await repo.lock_owner_names(conn)
            await _check_name_free(conn, "owner", name)
        owner = await repo.update_owner(conn, owner_id=owner_id, name=name, email=email, key=name_key(name))
    if owner is None:
        raise NotFound(f"Owner {owner_id} does not exist.")
    return owner


async def delete_owner(conn: Conn, owner_id: int) -> None:
    async with conn.transaction():
        if not await repo.lock_owner(conn, owner_id=owner_id, for_delete=True):
            raise NotFound(f"Owner {owner_id} does not exist.")
        owned = await repo.owned_touchpoint_count(conn, owner_id=owner_id)
        if owned:
            raise StillInUse(
                f"Owner {owner_id} still owns {owned} touchpoint(s); "
                "give them to another owner before deleting this one."
            )
        await repo.delete_owner(conn, owner_id=owner_id)


# Journeys


async def get_journey(conn: Conn, journey_id: int, scope: int | None = None) -> Journey:
    journey = await repo.get_journey(conn, journey_id=journey_id, scope=scope)
    if journey is None:
        raise NotFound(f"Journey {journey_id} does not exist.")
    return journey


def _new_stage(index: int, stage: str | StagePlan) -> str:
    """A new journey's stage name, given as a name or as PATCH's object (without id)."""
    if isinstance(stage, str):
        return _trimmed(f"stages[{index}]", stage)
    if stage.id is not None:
        raise invalid(f"stages[{index}].id", "a new journey's stages are all new: leave id out "
                                              "(PATCH keeps a stage by its id)")
    return _trimmed(f"stages[{index}].name", stage.name)


async def create_journey(conn: Conn, data: JourneyCreate) -> Journey:
    name = _trimmed("name", data.name)
    given = list(data.stages) if data.stages is not None else list(LIFECYCLE_STAGES)
    stages = [_new_stage(i, stage) for i, stage in enumerate(given)]
    if len({name_key(s) for s in stages}) != len(stages):
        raise invalid("stages", "stage names must differ within a journey")
    async with conn.transaction():
        await repo.lock_journey_names(conn)
        await _check_name_free(conn, "journey", name)
        journey_id = await repo.insert_journey(
            conn, name=name, description=_described(data.description), stages=stages, key=name_key(name)
        )
    return await get_journey(conn, journey_id)


async def list_journeys(conn: Conn, *, cursor: str | None, limit: int, scope: int | None) -> Page[Journey]:
    items = await repo.list_journeys(conn, after=after_id(cursor), limit=limit + 1, scope=scope)
    page, nxt = _page(items, limit)
    return Page(items=page, next_cursor=nxt)


async def update_journey(conn: Conn, journey_id: int, data: JourneyUpdate) -> Journey:
    async with conn.transaction():
        if not await repo.lock_journey(conn, journey_id=journey_id):
            raise NotFound(f"Journey {journey_id} does not exist.")
        current = await get_journey(conn, journey_id)
        name = current.name if data.name is msgspec.UNSET else _trimmed("name", data.name)
        description = current.description if data.description is msgspec.UNSET else _described(data.description)
        if name_key(name) != name_key(current.name):
            await repo.lock_journey_names(conn)
            await _check_name_free(conn, "journey", name)
        await repo.update_journey(conn, journey_id=journey_id, name=name, description=description,
                                  key=name_key(name))
        if data.stages is not msgspec.UNSET:
            await _replan_stages(conn, journey_id, data.stages)
    return await get_journey(conn, journey_id)


async def _replan_stages(conn: Conn, journey_id: int, plan: list[Any]) -> None:
    existing = await repo.journey_stage_ids(conn, journey_id=journey_id)
    errors: list[FieldError] = []
    seen_ids: set[int] = set()
    seen_names: set[str] = set()
    names = [unpadded(stage.name) for stage in plan]
    for i, stage in enumerate(plan):
        if not names[i]:
            errors.append(FieldError(f"stages[{i}].name", "may not be blank"))
        elif has_control(names[i]):
            errors.append(FieldError(f"stages[{i}].name", CONTROL_MESSAGE))
        if stage.id is not None and stage.id not in existing:
            errors.append(FieldError(f"stages[{i}].id", f"stage {stage.id} is not in journey {journey_id}"))
        if stage.id is not None and stage.id in seen_ids:
            errors.append(FieldError(f"stages[{i}].id", f"stage {stage.id} is listed twice"))
        key = name_key(names[i])
        if names[i] and key in seen_names:
            errors.append(FieldError(f"stages[{i}].name", f"stage name {names[i]!r} is listed twice"))
        if stage.id is not None:
            seen_ids.add(stage.id)
        seen_names.add(key)
    if errors:
        raise invalid_each(errors)
    removed = sorted(existing - seen_ids)
    if removed:
        await repo.lock_stages(conn, stage_ids=removed)
        in_use = {n: c for n, c in (await repo.stage_touchpoint_counts(conn, stage_ids=removed)).items() if c}
        if in_use:
            held = ", ".join(f"{n} ({c})" for n, c in sorted(in_use.items()))
            raise StillInUse(f"These stages still hold touchpoints and cannot be removed: {held}.")
    await repo.replace_stages(
        conn, journey_id=journey_id, plan=[(s.id, n) for s, n in zip(plan, names, strict=True)],
        removed=removed
    )


async def delete_journey(conn: Conn, journey_id: int) -> None:
    async with conn.transaction():
        if not await repo.lock_journey(conn, journey_id=journey_id):
            raise NotFound(f"Journey {journey_id} does not exist.")
        await repo.lock_journey_stages(conn, journey_id=journey_id)
        count = await repo.journey_touchpoint_count(conn, journey_id=journey_id)
        if count:
            raise StillInUse(f"Journey {journey_id} still holds {count} touchpoint(s); move or delete them first.")
        await repo.delete_journey(conn, journey_id=journey_id)


# Touchpoints


async def check_filters(conn: Conn, *, journey: int | None, stage: int | None, owner: int | None,
                        scope: int | None) -> None:
    """A 404 naming each journey, stage or owner filter whose id the caller cannot see, then a 422
    naming `stage` when it is a stage of another journey than the `journey` filter's.

    Called when a filtered list or score came back empty: a typo in an id is told, not answered
    with nothing, while an owner or journey without touchpoints yet is still an empty answer.
    Another owner's ids get the very answer of ids that do not exist (scope: an owner key's)."""
    conflict = await seen_filters(conn, journey=journey, stage=stage, owner=owner, scope=scope)
    if conflict is not None:
        raise conflict


async def seen_filters(conn: Conn, *, journey: int | None, stage: int | None, owner: int | None,
                       scope: int | None) -> InvalidInput | None:
    """check_filters, but the 422 of filters that contradict each other is returned, not raised:
    a caller with a 404 of its own to tell (a named touchpoint) tells it first."""
    if journey is None and stage is None and owner is None:
        return None
    missing, stage_journey = await repo.missing_filters(conn, journey=journey, stage=stage,
                                                        owner=owner, scope=scope)
    if missing:
        errors = [FieldError(field, f"{field} {value} does not exist") for field, value in missing]
        raise NotFound(" ".join(f"{e.message[0].upper()}{e.message[1:]}." for e in errors),
                       errors=errors)
    # Both are seen here, so the stage's journey is one the caller may see and be told of.
    if journey is not None and stage_journey is not None and stage_journey != journey:
        return invalid("stage", f"stage {stage} is in journey {stage_journey}, not {journey}")
    return None


async def get_touchpoint(conn: Conn, key: str, scope: int | None = None) -> Touchpoint:
    touchpoint = await repo.get_touchpoint(conn, key=key, scope=scope)
    if touchpoint is None:
        raise NotFound(f"Touchpoint {key!r} does not exist.")
    return touchpoint


async def list_touchpoints(
    conn: Conn, *, cursor: str | None, limit: int, filters: TouchpointFilter, scope: int | None
) -> Page[Touchpoint]:
    items = await repo.list_touchpoints(
        conn, after=after_id(cursor), limit=limit + 1, filters=filters, scope=scope
    )
    if not items:
        await check_filters(conn, journey=filters.journey, stage=filters.stage, owner=filters.owner,
                            scope=scope)
    page, nxt = _page(items, limit)
    return Page(items=page, next_cursor=nxt)


async def _check_touchpoint(conn: Conn, fields: dict[str, Any]) -> None:
    # Held until commit, so a stage or owner cannot be removed under the touchpoint (a 409 there,
    # or a 422 here when the removal came first) instead of a foreign-key error.
    errors: list[FieldError] = []
    if not await repo.hold_stage(conn, stage_id=fields["stage_id"]):
        errors.append(FieldError("stage_id", f"stage {fields['stage_id']} does not exist"))
    if not await repo.hold_owner(conn, owner_id=fields["owner_id"]):
        errors.append(FieldError("owner_id", f"owner {fields['owner_id']} does not exist"))
    target = fields["target"]
    if target is not None and not valid_target(fields["kind"], target):
        scale = scale_of(fields["kind"])
        errors.append(FieldError(
            "target",
            f"{_article(fields['kind'])} target is {_article(scale.metric)} value between "
            f"{scale.metric_low:g} and {scale.metric_high:g}",
        ))
    if errors:
        raise invalid_each(errors)


def _article(metric: str) -> str:
    """The metric's name with its article: read letter by letter, NPS takes "an", CSAT and CES "a"."""
    return ("an " if metric[0] in "naeiou" else "a ") + metric.upper()


async def create_touchpoint(conn: Conn, data: TouchpointCreate) -> Touchpoint:
    fields = msgspec.structs.asdict(data)
    fields["name"] = _trimmed("name", data.name)
    fields["questions"] = _wording(data.questions)
    fields["name_key"] = name_key(fields["name"])
    async with conn.transaction():
        await _check_touchpoint(conn, fields)
        await repo.lock_touchpoint_names(conn)
        await _check_touchpoint_name_free(conn, data.owner_id, fields["name"])
        try:
            await repo.insert_touchpoint(conn, key=data.key, fields=fields)
        except asyncpg.UniqueViolationError:
            raise KeyTaken(f"A touchpoint with key {data.key!r} already exists.",
                           errors=[FieldError("key", "another touchpoint has this key")]) from None
    return await get_touchpoint(conn, data.key)


async def update_touchpoint(conn: Conn, key: str, data: TouchpointUpdate) -> Touchpoint:
    async with conn.transaction():
        if not await repo.lock_touchpoint(conn, key=key):
            raise NotFound(f"Touchpoint {key!r} does not exist.")
        current = await get_touchpoint(conn, key)
        fields: dict[str, Any] = {
            "name": current.name, "stage_id": current.stage_id, "channel": current.channel,
            "owner_id": current.owner_id, "kind": current.kind, "questions": current.custom_questions,
            "target": current.target, "sample_rate": current.sample_rate,
            "recontact_days": current.recontact_days, "expiry_days": current.expiry_days,
            "active": current.active,
        }
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        if "name" in changes:
            changes["name"] = _trimmed("name", changes["name"])
        if "questions" in changes:
            changes["questions"] = _wording(changes["questions"])
        if "kind" in changes and changes["kind"] != current.kind and "target" not in changes:
            # A target is written in its kind's metric: it cannot carry over to another kind.
            changes["target"] = None
        fields.update(changes)
        await _check_touchpoint(conn, fields)
        fields["name_key"] = name_key(fields["name"])
        # Only a new name, or a new owner, is checked: a duplicate from before names were
        # checked keeps working, and may take its own name in another case.
        if fields["owner_id"] != current.owner_id or fields["name_key"] != name_key(current.name):
            await repo.lock_touchpoint_names(conn)
            await _check_touchpoint_name_free(conn, fields["owner_id"], fields["name"], but=key)
        await repo.update_touchpoint(conn, key=key, fields=fields)
    return await get_touchpoint(conn, key)


async def delete_touchpoint(conn: Conn, key: str) -> None:
    async with conn.transaction():
        if not await repo.lock_touchpoint(conn, key=key, for_delete=True):
            raise NotFound(f"Touchpoint {key!r} does not exist.")
        responses, invitations = await repo.touchpoint_history(conn, key=key)
        if responses or invitations:
            raise StillInUse(
                f"Touchpoint {key!r} has {responses} response(s) and {invitations} invitation(s); "
                "deactivate it (active=false) to keep its history."
            )
        await repo.delete_touchpoint(conn, key=key)
