"""Invitations, clicks and responses in PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from feedback.collection import clock
from feedback.collection.models import Click, InvitationDetail, ResponseOut
from feedback.sentiment.models import stored_sentiment
from feedback.service.cache import TtlCache
from feedback.service.database import Connection, Pool
from surveys import repository as surveys_repo
from surveys.kinds import placing
from surveys.models import Touchpoint
from surveys.sql import load

Q = load(__file__)


@dataclass(frozen=True, slots=True)
class LinkInvitation:
    """An invitation found by its link token."""

    id: UUID
    touchpoint_id: int
    touchpoint: str
    customer_ref: str | None  # None once retention has forgotten it (the link has expired)
    locale: str
    channel: str
    context: str
    expires_at: datetime
    expired: bool
    answered: bool


@dataclass(frozen=True, slots=True)
class NewInvitation:
    """An invitation decision to store."""

    touchpoint_id: int
    id: UUID
    customer_ref: str
    locale: str
    channel: str
    context: str
    event_id: str | None
    decision: str
    token_hash: bytes | None
    token_nonce: bytes | None
    expires_at: datetime | None


class NewResponse(msgspec.Struct, frozen=True, gc=False):
    """A response row ready to insert; the group-commit writer takes many at once.

    A Struct, not a dataclass: made on every answer, and a frozen dataclass's __init__ sets
    its two dozen fields one object.__setattr__ at a time.
    """

    touchpoint_id: int
    id: UUID
    journey_id: int
    stage_id: int
    owner_id: int
    kind: str
    scale_min: int
    scale_max: int
    score: int
    comment: str | None
    customer_ref: str | None
    locale: str
    channel: str
    source: str
    context: str
    polarity: float | None
    subjectivity: float | None
    label: str | None
    language: str | None
    themes: list[str]
    analyzer_version: int
    occurred_at: datetime
    created_at: datetime
    invitation_id: UUID | None = None


class IdempotencyRecord(msgspec.Struct, frozen=True, gc=False):
    """A stored answer to an Idempotency-Key."""

    api_key_id: int
    key: str
    request_hash: bytes
    status: int
    body: bytes


class TouchpointCache:
    """Touchpoints by key for the ingest paths, so an answer costs no catalogue lookup.

    Per process, like the API-key cache: a touchpoint's change (kind, stage, owner, pause,
    deletion, its stage's or owner's name) drops its entry at once on every instance
    (feedback/service/invalidation.py); an entry lives `ttl` seconds at most, the fallback
    while that instance has no listening connection. Unknown keys are not cached: a
    touchpoint created a moment ago is found at once.
    """

    def __init__(self, ttl: float = 5.0, size: int = 10_000) -> None:
        self._cache: TtlCache[str, Touchpoint] = TtlCache(ttl, size, keep_none=False)

    def fresh(self, key: str) -> Touchpoint | None:
        """The cached touchpoint, or None when `get` must look (a hit without a coroutine)."""
        cached = self._cache.fresh(key)
        return None if cached is None else cached[1]

    async def get(self, pool: Pool, key: str) -> Touchpoint | None:
        async def load() -> Touchpoint | None:
            async with pool.acquire() as conn:
                return await surveys_repo.get_touchpoint(conn, key=key)

        return await self._cache.get(key, load)

    def drop(self, key: str) -> None:
        self._cache.drop(key)

    def clear(self) -> None:
        self._cache.clear()


async def lock_customer(conn: Connection, *, customer_ref: str) -> None:
    await conn.execute(Q["lock-customer"], customer_ref)


async def invitation_by_event(conn: Connection, *, touchpoint_id: int, event_id: str, context: str,
                              ) -> asyncpg.Record | None:
    """The invitation of an event, and whether its context is `context` (JSON text)."""
    return await conn.fetchrow(Q["invitation-by-event"], touchpoint_id, event_id, context)


async def asked_here(conn: Connection, *, customer_ref: str, touchpoint_id: int, days: int) -> bool:
    return bool(await conn.fetchval(Q["asked-here"], customer_ref, touchpoint_id, days))


async def asked_anywhere(conn: Connection, *, customer_ref: str, days: int) -> int:
    return int(await conn.fetchval(Q["asked-anywhere"], customer_ref, days))


async def insert_invitation(conn: Connection, new: NewInvitation) -> bool:
    """Store a decision; False when the event was already decided (the first answer stands)."""
    got = await conn.fetchval(
        Q["insert-invitation"], new.touchpoint_id, new.id, new.customer_ref, new.locale, new.channel,
        new.context, new.event_id, new.decision, new.token_hash, new.token_nonce, new.expires_at,
    )
    return got is not None


async def invitation_by_token(conn: Connection, *, token_hash: bytes) -> LinkInvitation | None:
    row = await conn.fetchrow(Q["invitation-by-token"], token_hash)
    return None if row is None else LinkInvitation(**dict(row))


async def invitations_by_token(conn: Connection, token_hashes: list[bytes]) -> dict[bytes, LinkInvitation]:
    rows = await conn.fetch(Q["invitations-by-token"], token_hashes)
    found: dict[bytes, LinkInvitation] = {}
    for row in rows:
        data = dict(row)
        token_hash = bytes(data.pop("token_hash"))
        found[token_hash] = LinkInvitation(**data)
    return found


async def record_click(conn: Connection, *, invitation: LinkInvitation, score: int | None,
                       user_agent: str) -> bool:
    """Log an opening of the link; False when the invitation is gone (its customer was erased
    between reading the link and this)."""
    try:
        await conn.execute(Q["record-click"], invitation.touchpoint_id, invitation.id, score, user_agent)
    except asyncpg.ForeignKeyViolationError:
        return False
    return True


def stored_response(row: asyncpg.Record) -> ResponseOut:
    """A response row, as the queries here and insight's select it, as the API shows it."""
    data = dict(row)
    band, category = placing(data["kind"], data["score"])
    return ResponseOut(
        id=data["id"], touchpoint=data["touchpoint"], invitation_id=data["invitation_id"],
        kind=data["kind"], score=data["score"], band=band, category=category,
        scale_min=data["scale_min"], scale_max=data["scale_max"], comment=data["comment"],
        customer=data["customer"], locale=data["locale"], channel=data["channel"],
        source=data["source"], context=msgspec.json.decode(data["context"]),
        sentiment=stored_sentiment(data["sentiment_polarity"], data["sentiment_subjectivity"],
                                   data["sentiment_label"], data["language"]),
        themes=list(data["themes"]), analyzer_version=data["analyzer_version"],
        occurred_at=data["occurred_at"], created_at=data["created_at"],
        updated_at=data["updated_at"], edits=data["edits"],
    )


async def get_invitation(conn: Connection, *, invitation_id: UUID, scope: int | None) -> InvitationDetail | None:
    row = await conn.fetchrow(Q["get-invitation"], invitation_id, scope)
    if row is None:
        return None
    data: dict[str, Any] = dict(row)
    touchpoint_id = data.pop("touchpoint_id")
    clicks = [msgspec.convert(dict(r), Click) for r in
              await conn.fetch(Q["invitation-clicks"], touchpoint_id, invitation_id)]
    answer = await conn.fetchrow(Q["invitation-response"], touchpoint_id, invitation_id)
    data["context"] = msgspec.json.decode(data["context"])
    return InvitationDetail(**data, clicks=clicks, response=None if answer is None else stored_response(answer))


# Responses


async def link_response(conn: Connection, *, invitation: LinkInvitation,
                        edit_days: int) -> asyncpg.Record | None:
    return await conn.fetchrow(Q["link-response"], invitation.touchpoint_id, invitation.id, edit_days)


async def insert_responses(conn: Connection, rows: list[NewResponse]) -> None:
    columns = list(zip(*[
        (r.touchpoint_id, r.id, r.journey_id, r.stage_id, r.owner_id, r.kind, r.scale_min,
         r.scale_max, r.score, r.comment, r.customer_ref, r.locale, r.channel, r.source, r.context,
         r.polarity, r.subjectivity, r.label, r.language,
         msgspec.json.encode(r.themes).decode(), r.analyzer_version, r.occurred_at, r.created_at,
         r.invitation_id)
        for r in rows], strict=True))
    await conn.execute(Q["insert-responses"], *[list(c) for c in columns])


class _Keyed(msgspec.Struct):
    """An Idempotency-Key record as insert-batch reads it, tied to its response by id and to its
    stored answer by position (from 1) in the array of answers sent beside it."""

    response_id: UUID
    api_key_id: int
    key: str
    request_hash: bytes
    status: int
    body: int


async def clock_shift(conn: Connection) -> timedelta:
    """How far the database's clock is ahead of this instance's (negative: behind), at most.

    The database's time is read before this instance's, so an answer's received time plus this
    is never later than the database's time at that moment: an erasure compares with its own.
    """
    database_time: datetime = await conn.fetchval(Q["database-time"])
    return database_time - clock.now()


async def insert_batch(conn: Connection, rows: list[tuple[NewResponse, IdempotencyRecord | None]],
                       *, shift: timedelta) -> tuple[set[tuple[int, str]], set[UUID]]:
    """One statement for a group commit: rows without a key, and rows whose key this call wins.

    Each (api key, key) pair may appear at most once. Returns the pairs won, and the rows not
    written because their customer was erased after they were received (their keys unclaimed;
    `shift` is clock_shift's, to compare their received times with the erasures').
    """
    keyed: list[_Keyed] = []
    bodies: list[bytes] = []
    for row, r in rows:
        if r is not None:
            bodies.append(r.body)
            keyed.append(_Keyed(row.id, r.api_key_id, r.key, r.request_hash, r.status, len(bodies)))
    # Rows and keys are json (the connection's codec encodes them with msgspec); the stored
    # answers are bytea.
    got = await conn.fetch(Q["insert-batch"], [row for row, _ in rows], keyed, shift, bodies)
    won = {(int(r["api_key_id"]), str(r["key"])) for r in got if r["erased"] is None}
    return won, {r["erased"] for r in got if r["erased"] is not None}


async def upsert_link_responses(conn: Connection, rows: list[tuple[NewResponse, LinkInvitation]],
                                edit_days: int, *, shift: timedelta) -> tuple[set[UUID], set[UUID]]:
    """Insert or edit each invitation's one response (each invitation at most once here).

    Returns the invitations whose answer was stored (the others' edit window has closed), and
    the rows not written because their customer was erased after they were received (`shift`
    as for insert_batch).
    """
    columns: list[list[Any]] = [list(c) for c in zip(*[
        (r.touchpoint_id, r.id, inv.id, r.scale_min, r.scale_max, r.score, r.comment,
         r.customer_ref, r.locale, r.channel, r.context, r.polarity, r.subjectivity, r.label,
         r.language, msgspec.json.encode(r.themes).decode(), r.analyzer_version, r.kind)
        for r, inv in rows], strict=True)] or [[] for _ in range(18)]
    got = await conn.fetch(Q["upsert-link-responses"], *columns, edit_days, [r.created_at for r, _ in rows],
                           shift, [r.source for r, _ in rows], [r.occurred_at for r, _ in rows])
    done = {r["invitation_id"] for r in got if r["erased"] is None}
    return done, {r["erased"] for r in got if r["erased"] is not None}


async def invitation_by_id(conn: Connection, *, invitation_id: UUID) -> tuple[LinkInvitation, str] | None:
    """An invitation an API answer names, as a link finds it, and its decision."""
    row = await conn.fetchrow(Q["invitation-by-id"], invitation_id)
    if row is None:
        return None
    data = dict(row)
    decision = str(data.pop("decision"))
    return LinkInvitation(**data), decision


async def invitation_answer(conn: Connection, *, invitation: LinkInvitation) -> ResponseOut | None:
    row = await conn.fetchrow(Q["invitation-response"], invitation.touchpoint_id, invitation.id)
    return None if row is None else stored_response(row)


async def claim_idempotency_key(conn: Connection, *, api_key_id: int, key: str, request_hash: bytes) -> bool:
    return await conn.fetchval(Q["claim-idempotency-key"], api_key_id, key, request_hash) is not None


async def set_idempotency_answer(conn: Connection, *, api_key_id: int, key: str, status: int, body: bytes) -> None:
    await conn.execute(Q["set-idempotency-answer"], api_key_id, key, status, body)


async def get_idempotency_key(conn: Connection, *, api_key_id: int, key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(Q["get-idempotency-key"], api_key_id, key)


async def purge_idempotency_keys(conn: Connection, *, batch: int) -> int:
    """Delete up to `batch` stored answers past their 48 hours; returns how many."""
    return int(await conn.fetchval(Q["purge-idempotency-keys"], batch))


async def forget_click_agents(conn: Connection, *, days: int, batch: int) -> int:
    """Clear the user agent of up to `batch` clicks older than `days`; returns how many."""
    return int(await conn.fetchval(Q["forget-click-agents"], days, batch))


async def forget_invitations(conn: Connection, *, days: int, batch: int) -> int:
    """Clear who up to `batch` invitations older than `days` were for; returns how many."""
    return int(await conn.fetchval(Q["forget-invitations"], days, batch))


async def insert_invitations(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Many invitations in one statement (the demo's history): rows in the query's column order."""
    columns = list(zip(*rows, strict=True))
    await conn.execute(Q["insert-invitations"], *[list(c) for c in columns])


# Privacy


async def record_erasure(conn: Connection, *, customer_ref: str) -> None:
    """Leave the customer's tombstone: the writer skips their answers received before now."""
    await conn.execute(Q["record-erasure"], customer_ref)


async def await_writes(conn: Connection) -> None:
    """Wait for the writer statements in flight, on every instance, to commit."""
    await conn.execute(Q["await-writes"])


async def forget_erasures(conn: Connection) -> int:
    """Delete the tombstones past their day; returns how many."""
    return int(await conn.fetchval(Q["forget-erasures"]))


async def erase_customer(conn: Connection, *, customer_ref: str) -> tuple[int, int, int]:
    """Delete a customer's responses, invitations and clicks; returns the three counts."""
    # The invitation decisions' lock: an invitation being made for the customer right now is
    # committed before the erasure looks (and erased), never left behind with its link.
    await lock_customer(conn, customer_ref=customer_ref)
    row = await conn.fetchrow(Q["erase-customer"], customer_ref)
    assert row is not None
    await conn.execute(Q["erase-invitations"], customer_ref)
    return int(row["invitations"]), int(row["clicks"]), int(row["responses"])
