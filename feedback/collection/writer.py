"""Group commit: concurrent answers share one transaction, written by one flush at a time."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Literal, TypeAlias
from uuid import UUID

import asyncpg
import msgspec
from litestar import Litestar

from feedback.access.service import KeyCache
from feedback.alerts import repository as alerts_repo
from feedback.alerts.repository import AlertRules, Candidate, Wanted
from feedback.collection import repository as repo
from feedback.collection.errors import CustomerErased
from feedback.collection.ratelimit import TokenBuckets
from feedback.collection.repository import (
    IdempotencyRecord,
    LinkInvitation,
    NewResponse,
    TouchpointCache,
)
from feedback.sentiment import read_comment
from feedback.sentiment.reader import CommentReader
from feedback.service.database import Connection, Pool
from surveys.kinds import Band, scale_of

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    PoolConnection: TypeAlias = PoolConnectionProxy[asyncpg.Record]

log = logging.getLogger("touchpulse.writer")


def _usable(conn: PoolConnection | None) -> bool:
    """False for no connection, a closed one, or one the pool took back when it broke."""
    if conn is None:
        return False
    try:
        return not conn.is_closed()
    except asyncpg.InterfaceError:  # released back to the pool (it does so when a connection is lost)
        return False


class Pending(msgspec.Struct, frozen=True, gc=False):
    """A response to write, with the Idempotency-Key record that must commit with it.

    With `link`, the row is the answer to that invitation: inserted, or an edit of its one
    response while `edit_days` allow (False when the window has closed).
    """

    row: NewResponse
    idempotency: IdempotencyRecord | None = None
    link: LinkInvitation | None = None
    edit_days: int = 0


# What became of one row of a group commit: "stored"; "not stored" (another request with the
# same Idempotency-Key won, or a link's edit window had closed); or "erased" (its customer was
# erased after it was received, migration 0008: not written). Strings, not an Enum: on Python
# 3.11 each read of an Enum class's member goes through EnumType.__getattr__'s slow hook (about
# 1,300 instructions), and the writer read them twice an answer.
Outcome: TypeAlias = Literal["stored", "not stored", "erased"]


class _OnOneLoop:
    """Remembers the event loop it works on (its connections are bound to it anyway): on
    Python 3.11 asyncio.get_running_loop() asks the kernel for the process id every time (to
    notice a fork), and the writer asked twice an answer, about 2 % of the worker's time each
    under load."""

    _loop: asyncio.AbstractEventLoop | None = None

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        return loop


class ResponseWriter(_OnOneLoop):
    """Collects rows, then writes them at once: group commit, `lanes` flushes in flight at most.

    A row arriving while a flush commits waits for the next one, so under load batches form by
    themselves. One lane is the default: on two cores a second one (one batch executing while
    the other commits) measured no faster, and flushes then wait on each other's rollup rows.
    Flushes of other instances meet this one's all the same: every statement locks rollup rows
    in key order, so one waits for the other's commit; should a multi-statement flush (a
    survey answer edited twice in one batch) still deadlock with another, PostgreSQL aborts
    one and its whole batch is written again. An idle writer waits `max_wait` seconds for
    company; a batch holds at most `max_rows` rows. While a flush of `spin_rows` answers or more
    commits, the event loop keeps turning instead of sleeping, `spin` seconds at most (_flush).

    `write` returns only after the row's transaction committed (synchronous_commit on): True
    when stored, False when another request with the same Idempotency-Key won (the caller
    replays the winner's answer) or a link's edit window had closed. It raises CustomerErased
    when the row's customer was erased after it was received: every statement skips such rows,
    so an erasure is complete even for answers that waited in a queue here while it ran. A
    failed flush raises in every waiter, so nobody gets a false acknowledgement.

    Which answers were received before an erasure is decided on the database's clock: the
    writer reads how far it is ahead of this instance's (repository.clock_shift) when it starts
    and again before a flush once the last reading is `clock_every` seconds old, so a clock
    being set (or slewed by NTP) is followed within that time.

    An answer that an owner's alert subscription wants (feedback/alerts/) queues its delivery
    in the same transaction, one statement per batch; with no subscriptions anywhere (the
    `alerts` cache says so) a batch costs nothing more.
    """

    def __init__(self, pool: Pool, *, max_wait: float = 0.001, max_rows: int = 200, lanes: int = 1,
                 retries: int = 3, clock_every: float = 1.0, alerts: AlertRules | None = None,
                 spin: float = 0.005, spin_rows: int = 8) -> None:
        self.pool = pool
        self.alerts = alerts
        self.max_wait = max_wait
        self.max_rows = max_rows
        self.lanes = lanes
        self.retries = retries
        self.clock_every = clock_every
        self._shift: timedelta | None = None
        self._shift_read = 0.0  # time.monotonic() of the reading
        self._pending: list[tuple[Pending, asyncio.Future[bool]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._starting = 0  # flushes created that have not taken their batch yet
        self._flushes: set[asyncio.Task[None]] = set()
        # The writer's own connections, kept between flushes: no pool round trip per batch,
        # and synchronous_commit is set once per session.
        self._idle: list[PoolConnection] = []
        # Rows committed by this writer's flushes (the rollups' folder folds by it).
        self.written = 0
        self.spin = spin
        self.spin_rows = spin_rows
        self._busy = 0  # flushes in flight of spin_rows answers or more
        self._spin_until = 0.0
        self._spinning = False

    async def write(self, item: Pending) -> bool:
        loop = self._running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._pending.append((item, future))
        if len(self._flushes) < self.lanes:  # else a flush in flight takes this row next
            if len(self._pending) >= self.max_rows:
                self._flush_now()
            elif self._timer is None:
                self._timer = loop.call_later(self.max_wait, self._flush_now)
        # A client that hangs up cancels only its own future: the flush is a task of its own,
        # and it skips futures already done.
        return await future

    def due(self) -> bool:
        """Whether `turn` would wait: a flush is starting, or a batch's wait is over."""
        return bool(self._starting) or (self._timer is not None and self._timer.when() <= self._running_loop().time())

    async def turn(self) -> None:
        """Let a batch whose wait is over start its flush before this request's CPU work.

        The event loop runs every request that is ready before it looks at its timers, so a
        burst of answers would otherwise all be read before the batch due among them is sent,
        and PostgreSQL would sit idle while the worker reads, then the worker while it writes.
        """
        # No event marks a timer falling due: this looks once a turn, for a turn or two.
        while self.due():  # noqa: ASYNC110
            await asyncio.sleep(0)

    def _keep_turning(self) -> None:
        """Turn the event loop again while a busy flush commits (see _flush), `spin` at most."""
        if self._busy and time.perf_counter() < self._spin_until:
            self._running_loop().call_soon(self._keep_turning)
        else:
            self._spinning = False

    def _flush_now(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        # The lanes in flight are busy with their own batches: the waiting rows need new ones,
        # one per `max_rows` of them, as many as are free.
        batches = -(-len(self._pending) // self.max_rows)
        for _ in range(min(batches, self.lanes - len(self._flushes))):
            task = self._running_loop().create_task(self._drain())
            self._starting += 1
            self._flushes.add(task)
            task.add_done_callback(self._lane_done)

    def _lane_done(self, task: asyncio.Task[None]) -> None:
        self._flushes.discard(task)
        # Rows that arrived as this lane was leaving: another lane, or a fresh one, takes them.
        if self._pending and self._timer is None and len(self._flushes) < self.lanes:
            self._timer = self._running_loop().call_later(self.max_wait, self._flush_now)

    async def _drain(self) -> None:
        self._starting -= 1
        while self._pending:
            batch, self._pending = self._pending[:self.max_rows], self._pending[self.max_rows:]
            await self._flush(batch)

    async def _flush(self, batch: list[tuple[Pending, asyncio.Future[bool]]]) -> None:
        # Under load, the worker does not sleep while a flush commits: with nothing else to do,
        # its loop turns (polling for I/O, never blocking) until the flush is back, `spin` at
        # most. Asleep, it lost its core to PostgreSQL and the load's other processes and woke
        # late: on two cores, an eighth of (b)'s time went to waiting for a core again, and the
        # flush's answers, and the next batch, waited as long. A quiet writer (flushes of fewer
        # than `spin_rows` answers) sleeps as any idle server does.
        busy = self.spin > 0 and len(batch) >= self.spin_rows
        if busy:
            self._busy += 1
            self._spin_until = time.perf_counter() + self.spin
            if not self._spinning:
                self._spinning = True
                self._running_loop().call_soon(self._keep_turning)
        try:
            await self._flush_batch(batch)
        finally:
            if busy:
                self._busy -= 1

    async def _flush_batch(self, batch: list[tuple[Pending, asyncio.Future[bool]]]) -> None:
        items = [item for item, _ in batch]
        for attempt in range(self.retries + 1):
            try:
                won = await self._commit(items)
                break
            except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError) as exc:
                if attempt == self.retries:  # nothing was written: every waiter learns of it
                    self._fail(batch, exc)
                    return
                log.info("group commit of %d responses met another; writing it again: %s", len(batch), exc)
            except Exception as exc:  # every waiter learns of the failure
                self._fail(batch, exc)
                return
        for (_item, future), outcome in zip(batch, won, strict=True):
            if future.done():
                continue
            if outcome == "erased":
                future.set_exception(CustomerErased())
            else:
                future.set_result(outcome == "stored")

    @staticmethod
    def _fail(batch: list[tuple[Pending, asyncio.Future[bool]]], exc: Exception) -> None:
        log.warning("group commit of %d responses failed: %s", len(batch), exc)
        for _, future in batch:
            if not future.done():
                future.set_exception(exc)

    async def _commit(self, items: list[Pending]) -> list[Outcome]:
        stored: list[Outcome] = ["stored"] * len(items)
        rows: list[tuple[NewResponse, IdempotencyRecord | None]] = []
        keyed: list[tuple[int, tuple[int, str]]] = []
        seen: set[tuple[int, str]] = set()
        links: list[int] = []
        for n, item in enumerate(items):
            if item.link is not None:
                links.append(n)
            elif item.idempotency is None:
                rows.append((item.row, None))
            else:
                pair = (item.idempotency.api_key_id, item.idempotency.key)
                if pair in seen:  # two requests with one key in one batch: only the first is written
                    stored[n] = "not stored"
                    continue
                seen.add(pair)
                keyed.append((n, pair))
                rows.append((item.row, item.idempotency))
        rounds = self._rounds(items, links)
        conn = await self._connection()
        try:
            shift = await self._clock_shift(conn)
            rules = {} if self.alerts is None else await self.alerts.get(conn)
            alerting = self._alerting(items, rules) if rules else []
            if len(rounds) + bool(rows) + bool(alerting) == 1:
                # One statement is its own transaction: committed (and flushed to disk, as the
                # session's synchronous_commit says) before the server answers it.
                winners, erased = await self._write(conn, rows, rounds, stored, shift)
            else:
                async with conn.transaction():
                    winners, erased = await self._write(conn, rows, rounds, stored, shift)
                    queued = [c for n, c in alerting
                              if self._kept(items[n], stored[n], winners, erased)]
                    if queued:
                        await alerts_repo.queue_deliveries(conn, queued)
        except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
            self._idle.append(conn)  # rolled back; the connection is fine
            raise
        except BaseException:
            await self._release(conn)
            raise
        self._idle.append(conn)
        self.written += len(items)
        if alerting and self.alerts is not None:
            self.alerts.queued.set()  # this process's worker posts them now, not at its next poll
        for n, pair in keyed:
            if pair not in winners:
                stored[n] = "not stored"
        if erased:
            for n, item in enumerate(items):
                if item.row.id in erased:
                    stored[n] = "erased"
        return stored

    @staticmethod
    def _alerting(items: list[Pending], rules: dict[int, Wanted]) -> list[tuple[int, Candidate]]:
        """The rows an owner's subscription may want: a low score, or a negative comment."""
        found = []
        for n, item in enumerate(items):
            row = item.row
            wanted = rules.get(row.owner_id)
            if wanted is None:
                continue
            low = wanted[0] and scale_of(row.kind).band(row.score) is Band.LOW
            negative = wanted[1] and row.label == "negative"
            if low or negative:
                # A survey-link answer is found by its invitation: an edit keeps the first id.
                link = item.link
                found.append((n, Candidate(
                    touchpoint_id=row.touchpoint_id, response_id=row.id if link is None else None,
                    invitation_id=None if link is None else link.id, low=low, negative=negative)))
        return found

    async def queue_alerts(self, conn: Connection, item: Pending) -> bool:
        """Queue the deliveries one answer written outside the group commit wants (in the
        caller's transaction, after the write); True when any may have been queued."""
        rules = {} if self.alerts is None else await self.alerts.get(conn)
        found = self._alerting([item], rules) if rules else []
        if found:
            await alerts_repo.queue_deliveries(conn, [c for _, c in found])
        return bool(found)

    def alerts_queued(self) -> None:
        """Wake this process's delivery worker (after the commit that queued them)."""
        if self.alerts is not None:
            self.alerts.queued.set()

    @staticmethod
    def _kept(item: Pending, outcome: Outcome, winners: set[tuple[int, str]], erased: set[UUID]) -> bool:
        """Whether the batch's statements wrote this row (its outcome is settled after commit)."""
        if outcome != "stored" or item.row.id in erased:
            return False
        key = item.idempotency
        return item.link is not None or key is None or (key.api_key_id, key.key) in winners

    @staticmethod
    def _rounds(items: list[Pending], links: list[int]) -> list[tuple[int, list[tuple[int, NewResponse, LinkInvitation]]]]:
        """Survey-form answers in statements: an invitation answered twice in one batch is edited in order."""
        rounds: dict[tuple[int, int], list[tuple[int, NewResponse, LinkInvitation]]] = {}
        times: dict[UUID, int] = {}
        for n in links:
            item = items[n]
            assert item.link is not None
            turn = times.get(item.link.id, 0)
            times[item.link.id] = turn + 1
            rounds.setdefault((turn, item.edit_days), []).append((n, item.row, item.link))
        return [(edit_days, members) for (_turn, edit_days), members in sorted(rounds.items())]

    async def _clock_shift(self, conn: Connection) -> timedelta:
        """The database's clock ahead of this instance's, read again once `clock_every` old."""
        if self._shift is None or time.monotonic() - self._shift_read >= self.clock_every:
            self._shift = await repo.clock_shift(conn)
            self._shift_read = time.monotonic()
        return self._shift

    @staticmethod
    async def _write(conn: Connection, rows: list[tuple[NewResponse, IdempotencyRecord | None]],
                     rounds: list[tuple[int, list[tuple[int, NewResponse, LinkInvitation]]]],
                     stored: list[Outcome], shift: timedelta) -> tuple[set[tuple[int, str]], set[UUID]]:
        """Returns the Idempotency-Keys won and the rows skipped as erased."""
        winners, erased = await repo.insert_batch(conn, rows, shift=shift) if rows else (set(), set())
        for edit_days, members in rounds:
            done, gone = await repo.upsert_link_responses(
                conn, [(row, link) for _, row, link in members], edit_days, shift=shift)
            erased |= gone
            for n, _row, link in members:
                if link.id not in done:
                    stored[n] = "not stored"
        return winners, erased

    async def _connection(self) -> PoolConnection:
        """An idle writer connection that still works, or a new one from the pool."""
        while self._idle:
            conn = self._idle.pop()
            if _usable(conn):
                return conn
            await self._release(conn)
        conn = await self.pool.acquire()
        try:
            # Explicit, so a server default of 'off' can never turn a 201 into a lost answer.
            await conn.execute("SET synchronous_commit = on")
        except BaseException:
            await self.pool.release(conn)
            raise
        return conn

    async def _release(self, conn: PoolConnection) -> None:
        """Give a connection back (the pool resets or discards it); a later flush takes another."""
        try:
            await self.pool.release(conn)
        except Exception as exc:  # a broken connection: the pool has already let it go
            log.warning("writer connection release failed: %s", exc)

    async def warm(self) -> None:
        """Take the lanes' connections and run each statement once with no rows on each, so
        that the first answers do not wait for statement preparation or the triggers' plans."""
        conns: list[PoolConnection] = []
        try:
            for _ in range(self.lanes):
                conn = await self._connection()
                conns.append(conn)
                shift = await self._clock_shift(conn)
                await repo.insert_batch(conn, [], shift=shift)
                await repo.upsert_link_responses(conn, [], 0, shift=shift)
        except Exception as exc:  # the first flushes will try again
            log.warning("writer warm-up failed: %s", exc)
            for conn in conns:
                await self._release(conn)
            return
        self._idle.extend(conns)

    async def close(self) -> None:
        """Write what is queued, wait for every flush in flight, give the connections back."""
        self._flush_now()
        while self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)
            self._flush_now()
        while self._idle:
            await self._release(self._idle.pop())


class LinkReader(_OnOneLoop):
    """Survey-link lookups by token hash, many in one query on a connection of its own.

    Lookups arriving while a query runs go in the next one; an idle reader queries at once.
    Saves the survey form a pool round trip per request (the pool resets a connection on
    every release).
    """

    def __init__(self, pool: Pool, *, max_rows: int = 500) -> None:
        self.pool = pool
        self.max_rows = max_rows
        self._pending: list[tuple[bytes, asyncio.Future[LinkInvitation | None]]] = []
        self._task: asyncio.Task[None] | None = None
        self._conn: PoolConnection | None = None

    async def get(self, token_hash: bytes) -> LinkInvitation | None:
        loop = self._running_loop()
        future: asyncio.Future[LinkInvitation | None] = loop.create_future()
        self._pending.append((token_hash, future))
        if self._task is None:
            self._task = loop.create_task(self._drain())
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[:self.max_rows], self._pending[self.max_rows:]
                try:
                    if self._conn is None or not _usable(self._conn):
                        await self._drop_connection()
                        self._conn = await self.pool.acquire()
                    found = await repo.invitations_by_token(self._conn, list({h for h, _ in batch}))
                except Exception as exc:
                    await self._drop_connection()
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for token_hash, future in batch:
                    if not future.done():
                        future.set_result(found.get(token_hash))
        finally:
            self._task = None

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await self.pool.release(conn)
            except Exception as exc:  # a broken connection: the pool has already let it go
                log.warning("link reader connection release failed: %s", exc)

    async def warm(self) -> None:
        """Take the connection and prepare the lookup."""
        await self.get(b"")

    async def close(self) -> None:
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        await self._drop_connection()


class Intake(msgspec.Struct, frozen=True, gc=False):
    """Where answers go in: the app's writer and comment reader, with what taking an answer needs
    beside them, as one entry of the app's state (`state.intake`; the ingest lane reads it as
    `state["intake"]`).

    One entry rather than six: Litestar's State keeps its entries in a dict behind `__getattr__`,
    so each `state.name` first raises and clears an AttributeError and then runs a Python method.
    Six of them cost an answer about 39k instructions, a tenth of the app's share of it
    (bench.answer_cost under callgrind); an item (`state["name"]`) raises nothing.
    """

    pool: Pool
    keys: KeyCache
    touchpoints: TouchpointCache
    writer: ResponseWriter
    comments: CommentReader
    edit_days: int


@asynccontextmanager
async def writer_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Lifespan hook: one writer per app, on the app's pool; drained before the pool closes."""
    writer = ResponseWriter(app.state.pool, alerts=app.state.alert_rules,
                            spin=app.state.settings.commit_spin_ms / 1000)
    reader = LinkReader(app.state.pool)
    app.state.link_reader = reader
    comments = CommentReader(offload=app.state.settings.sentiment_process)
    app.state.intake = Intake(pool=app.state.pool, keys=app.state.key_cache, touchpoints=app.state.touchpoints,
                              writer=writer, comments=comments, edit_days=app.state.settings.edit_window_days)
    # Ten widget answers a minute per address: enough for people, too few for a script.
    app.state.widget_limiter = TokenBuckets(rate=10, per=60.0)
    # Wrong survey tokens cost a client one token each: 30 a minute, then 429s.
    app.state.guess_limiter = TokenBuckets(rate=30, per=60.0)
    await writer.warm()
    try:
        await reader.warm()
    except Exception as exc:  # the first lookup will try again
        log.warning("link reader warm-up failed: %s", exc)
    # The sentiment lexicons load on first use (~80 ms): not in the first customer's request,
    # here or (with the comment-reading process) in the child, which reads one before it counts.
    read_comment("The courier was late but the support team was helpful, thank you")
    read_comment("Курьер опоздал, но поддержка помогла, спасибо")
    await comments.start()
    # What start-up made (modules, templates, the sentiment lexicons) lives as long as the
    # process: out of the collector's sight, a full collection under load takes a few ms
    # instead of ~45 ms, a stall every request in flight would wait out.
    gc.freeze()
    # A request allocates a few hundred objects and frees nearly all of them by reference
    # counting; at the default threshold (700) the young generation was collected every
    # other request, ~11 µs of each. Cycles still get collected, every 50,000 allocations.
    threshold = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        await comments.close()
        await writer.close()
        await reader.close()
