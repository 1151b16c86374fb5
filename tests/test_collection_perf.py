"""The ingest path's performance mechanics keep their promises: at most `lanes` flushes, one
lookup per touchpoint, expired Idempotency-Keys reusable, form answers through the writer."""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

import asyncpg
import pytest

from feedback.collection import repository as repo
from feedback.collection.repository import TouchpointCache
from feedback.collection.writer import LinkReader, Outcome, Pending, ResponseWriter
from feedback.service.database import Connection, Pool, create_pool
from surveys import repository as surveys_repo
from tests.test_collection_robustness import _row
from tests.test_collection_support import Client, Headers, invite, token_of, touchpoint, world


@pytest.mark.parametrize("lanes", [1, 2])
async def test_writer_runs_at_most_its_lanes_of_flushes_at_once(
        database_url: str, client: Client, admin: Headers, conn: Connection, lanes: int) -> None:
    w = await world(client, admin)
    tp = await touchpoint(client, admin, w, "delivery")
    running, most = 0, 0

    class Watched(ResponseWriter):
        async def _commit(self, items: list[Pending]) -> list[Outcome]:
            nonlocal running, most
            running += 1
            most = max(most, running)
            try:
                return await super()._commit(items)
            finally:
                running -= 1

    pool = await create_pool(database_url)
    try:
        writer = Watched(pool, max_rows=7, lanes=lanes)
        for wave in range(3):
            rows = [_row(n + 100 * wave, tp["id"], w) for n in range(40)]
            assert all(await asyncio.gather(*(writer.write(Pending(r)) for r in rows)))
        await writer.close()
    finally:
        await pool.close()
    assert most == lanes  # a burst of 40 rows, 7 a batch, keeps every lane busy
    assert await conn.fetchval("SELECT count(*) FROM responses") == 120
    await conn.execute("SELECT fold_rollups()")  # the rollups as a reader sees them
    assert await conn.fetchval("SELECT sum(responses) FROM touchpoint_daily") == 120


async def test_a_burst_of_answers_lets_the_batch_due_among_them_start_its_flush(
        database_url: str, client: Client, admin: Headers, conn: Connection) -> None:
    """32 answers ready in one turn of the event loop, each with 0.5 ms of CPU work (reading its
    comment): the batch whose 1 ms is up goes to PostgreSQL while the rest are still read, rather
    than all 32 waiting for one flush and PostgreSQL idle until then."""
    w = await world(client, admin)
    tp = await touchpoint(client, admin, w, "delivery")
    batches: list[int] = []

    class Watched(ResponseWriter):
        async def _commit(self, items: list[Pending]) -> list[Outcome]:
            batches.append(len(items))
            return await super()._commit(items)

    pool = await create_pool(database_url)
    try:
        writer = Watched(pool, max_wait=0.001)

        async def answer(n: int) -> bool:
            await writer.turn()
            time.sleep(0.0005)  # noqa: ASYNC251 - the request's CPU work, holding the event loop
            return await writer.write(Pending(_row(n, tp["id"], w)))

        assert all(await asyncio.gather(*(answer(n) for n in range(32))))
        await writer.close()
    finally:
        await pool.close()
    assert sum(batches) == 32 and len(batches) >= 2 and batches[0] <= 8
    assert await conn.fetchval("SELECT count(*) FROM responses") == 32


class _Turning(ResponseWriter):
    """A writer whose flushes take `commit_seconds` and store nothing, counting its loop's turns."""

    def __init__(self, commit_seconds: float, **options: Any) -> None:
        super().__init__(cast(Pool, None), **options)
        self.commit_seconds = commit_seconds
        self.turns: list[float] = []
        self.flushed: list[tuple[float, float]] = []

    async def _commit(self, items: list[Pending]) -> list[Outcome]:
        started = time.perf_counter()
        await asyncio.sleep(self.commit_seconds)
        self.flushed.append((started, time.perf_counter()))
        return ["stored"] * len(items)

    def _keep_turning(self) -> None:
        self.turns.append(time.perf_counter())
        super()._keep_turning()


async def test_a_busy_flush_keeps_the_event_loop_turning_for_spin_seconds_at_most() -> None:
    # 10 answers in one flush of 60 ms: the loop turns (never sleeping) for the 20 ms of `spin`,
    # then sleeps until the flush is back.
    writer = _Turning(0.06, spin=0.02, spin_rows=8)
    cpu = time.process_time()
    assert all(await asyncio.gather(*(writer.write(Pending(_row(n))) for n in range(10))))
    cpu = time.process_time() - cpu
    (started, _ended), = writer.flushed
    assert len(writer.turns) > 100, len(writer.turns)
    assert started - 0.005 <= writer.turns[0] and writer.turns[-1] <= started + 0.02 + 0.01
    assert writer.turns[-1] >= started + 0.015  # it did keep turning, nearly all of `spin`
    assert cpu < 0.045, cpu  # and then slept: not the 60 ms of the flush


async def test_a_busy_flush_stops_the_turning_when_it_is_back() -> None:
    writer = _Turning(0.01, spin=1.0, spin_rows=8)
    assert all(await asyncio.gather(*(writer.write(Pending(_row(n))) for n in range(10))))
    await asyncio.sleep(0.05)
    (_started, ended), = writer.flushed
    assert writer.turns and writer.turns[-1] <= ended + 0.005, (writer.turns[-1] - ended)


async def test_a_quiet_writer_sleeps_while_it_flushes() -> None:
    # Fewer than spin_rows answers at once: an ordinary idle server, asleep until PostgreSQL answers.
    writer = _Turning(0.03, spin=0.02, spin_rows=8)
    for n in range(3):
        assert all(await asyncio.gather(*(writer.write(Pending(_row(10 * n + k))) for k in range(7))))
    assert len(writer.flushed) == 3 and writer.turns == []
    off = _Turning(0.03, spin=0.0, spin_rows=1)  # spin=0 turns it off
    assert all(await asyncio.gather(*(off.write(Pending(_row(n))) for n in range(10))))
    assert off.turns == []


async def test_touchpoint_cache_looks_up_once_for_a_burst(database_url: str, client: Client, admin: Headers,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    calls: list[str] = []
    real = surveys_repo.get_touchpoint

    async def counted(conn: Connection, *, key: str, scope: int | None = None) -> Any:
        calls.append(key)
        await asyncio.sleep(0.01)
        return await real(conn, key=key, scope=scope)

    monkeypatch.setattr(surveys_repo, "get_touchpoint", counted)
    pool = await create_pool(database_url)
    try:
        cache = TouchpointCache(ttl=60)
        found = await asyncio.gather(*(cache.get(pool, "delivery") for _ in range(30)))
        assert {tp.key for tp in found if tp is not None} == {"delivery"} and calls == ["delivery"]
        # Unknown keys are not cached: a touchpoint made a moment later is found at once.
        assert await cache.get(pool, "later") is None
        await touchpoint(client, admin, w, "later")
        assert await cache.get(pool, "later") is not None
    finally:
        await pool.close()


async def test_an_expired_idempotency_key_can_be_used_again(client: Client, admin: Headers,
                                                            conn: Connection) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "checkout", kind="ces")
    first = await client.post("/api/v1/responses", headers={**admin, "Idempotency-Key": "old"},
                              json={"touchpoint": "checkout", "score": 5})
    assert first.status_code == 201
    await conn.execute("UPDATE idempotency_keys SET created_at = now() - interval '49 hours'")
    again = await client.post("/api/v1/responses", headers={**admin, "Idempotency-Key": "old"},
                              json={"touchpoint": "checkout", "score": 4})
    assert again.status_code == 201 and again.json()["id"] != first.json()["id"]
    assert await conn.fetchval("SELECT count(*) FROM responses") == 2
    replay = await client.post("/api/v1/responses", headers={**admin, "Idempotency-Key": "old"},
                               json={"touchpoint": "checkout", "score": 4})
    assert replay.status_code == 201 and replay.content == again.content


async def test_a_replay_wins_over_a_check_that_would_now_fail(client: Client, admin: Headers,
                                                              conn: Connection) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "checkout", kind="ces")
    payload = {"touchpoint": "checkout", "score": 5}
    first = await client.post("/api/v1/responses", headers={**admin, "Idempotency-Key": "k"}, json=payload)
    assert first.status_code == 201
    await conn.execute("UPDATE touchpoints SET key = 'renamed'")
    await asyncio.sleep(0)  # whether or not the cache has heard of the rename yet, the key replays
    again = await client.post("/api/v1/responses", headers={**admin, "Idempotency-Key": "k"}, json=payload)
    assert again.status_code == 201 and again.content == first.content
    assert await conn.fetchval("SELECT count(*) FROM responses") == 1


async def test_form_answers_in_one_batch_store_and_edit_in_order(client: Client, admin: Headers,
                                                                 conn: Connection) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    tokens = [token_of((await invite(client, admin, "delivery", customer=f"c-{n}")).json()["url"]) for n in range(5)]
    answers = await asyncio.gather(*(client.post(f"/s/{t}", data={"score": str(1 + k)})
                                     for k in range(3) for t in tokens))
    assert {a.status_code for a in answers} == {200}
    rows = await conn.fetch("SELECT score, edits FROM responses")
    assert len(rows) == 5 and {(r["score"], r["edits"]) for r in rows} == {(3, 2)}
    assert await conn.fetchval("SELECT count(*) FROM invitations WHERE answered_at IS NOT NULL") == 5
    assert await conn.fetchval("SELECT sum(answered) FROM touchpoint_daily_funnel") == 5
    await conn.execute("SELECT fold_rollups()")  # the rollups as a reader sees them
    assert await conn.fetchval("SELECT sum(responses) FROM touchpoint_daily") == 5
    assert await conn.fetchval("SELECT sum(s3) FROM touchpoint_daily") == 5


async def test_link_reader_answers_many_lookups_with_one_query(database_url: str, client: Client,
                                                               admin: Headers) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    from feedback.collection import tokens as link_tokens

    hashes = [link_tokens.digest(token_of((await invite(client, admin, "delivery", customer=f"c-{n}")).json()["url"]))
              for n in range(4)]
    queries: list[int] = []
    real = repo.invitations_by_token

    async def counted(conn: Connection, token_hashes: list[bytes]) -> Any:
        queries.append(len(token_hashes))
        return await real(conn, token_hashes)

    pool = await create_pool(database_url)
    try:
        reader = LinkReader(pool)
        setattr(repo, "invitations_by_token", counted)  # noqa: B010 - restored below
        try:
            found = await asyncio.gather(*(reader.get(h) for h in [*hashes, b"nope" * 8]))
        finally:
            setattr(repo, "invitations_by_token", real)  # noqa: B010
        await reader.close()
    finally:
        await pool.close()
    assert [f is not None for f in found] == [True] * 4 + [False]
    assert queries == [5]


async def test_a_batch_that_meets_a_deadlock_is_written_again(database_url: str, client: Client, admin: Headers,
                                                              conn: Connection) -> None:
    w = await world(client, admin)
    tp = await touchpoint(client, admin, w, "delivery")
    failures = [asyncpg.DeadlockDetectedError("deadlock detected"), asyncpg.SerializationError("could not serialize")]

    class Unlucky(ResponseWriter):
        async def _commit(self, items: list[Pending]) -> list[Outcome]:
            if failures:  # PostgreSQL rolled the batch back: nothing of it was written
                raise failures.pop()
            return await super()._commit(items)

    pool = await create_pool(database_url)
    try:
        writer = Unlucky(pool, max_rows=50)
        rows = [_row(n, tp["id"], w) for n in range(20)]
        assert all(await asyncio.gather(*(writer.write(Pending(r)) for r in rows)))
        await writer.close()
    finally:
        await pool.close()
    assert not failures
    assert await conn.fetchval("SELECT count(*) FROM responses") == 20
    await conn.execute("SELECT fold_rollups()")  # the rollups as a reader sees them
    assert await conn.fetchval("SELECT sum(responses) FROM touchpoint_daily") == 20


async def test_a_group_commit_sends_the_stored_answers_as_bytea_and_keeps_them_byte_for_byte(
        client: Client, admin: Headers, conn: Connection) -> None:
    # The keys' stored answers travel beside the JSON, as one bytea array: as base64 inside the
    # JSON, reading and decoding them cost PostgreSQL more than the rows themselves.
    statement = await conn.prepare(repo.Q["insert-batch"])
    assert [t.name for t in statement.get_parameters()] == ["json", "json", "interval", "bytea[]"]
    w = await world(client, admin)
    tp = await touchpoint(client, admin, w, "delivery")
    rows = [_row(n, tp["id"], w) for n in range(3)]
    records = [repo.IdempotencyRecord(7, f"key-{n}", bytes([n]) * 32, 201, b'{"a":"\xc3\xa9"}\x00\xff' * (n + 1))
               for n in range(2)]
    won, erased = await repo.insert_batch(conn, [(rows[0], records[0]), (rows[1], None), (rows[2], records[1])],
                                          shift=await repo.clock_shift(conn))
    assert won == {(7, "key-0"), (7, "key-1")} and erased == set()
    for record in records:
        stored = await repo.get_idempotency_key(conn, api_key_id=7, key=record.key)
        assert stored is not None
        assert (bytes(stored["request_hash"]), stored["status"], bytes(stored["body"])) == \
            (record.request_hash, record.status, record.body)
    assert await conn.fetchval("SELECT count(*) FROM responses") == 3
