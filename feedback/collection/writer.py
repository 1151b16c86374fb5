"""Group commit: concurrent response inserts share one transaction and one multi-row INSERT."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from litestar import Litestar

from feedback.collection import repository as repo
from feedback.collection.ratelimit import TokenBuckets
from feedback.collection.repository import IdempotencyRecord, NewResponse
from feedback.service.database import Pool

log = logging.getLogger("touchpulse.writer")


@dataclass(frozen=True, slots=True)
class Pending:
    """A response to write, with the Idempotency-Key record that must commit with it."""

    row: NewResponse
    idempotency: IdempotencyRecord | None = None


class ResponseWriter:
    """Collects rows for up to `max_wait` seconds or `max_rows` rows, then writes them at once.

    `write` returns only after the row's transaction committed: True when stored, False when
    another request with the same Idempotency-Key won (the caller replays the winner's answer).
    A failed flush raises in every waiter, so nobody gets a false acknowledgement.
    """

    def __init__(self, pool: Pool, *, max_wait: float = 0.002, max_rows: int = 200) -> None:
        self.pool = pool
        self.max_wait = max_wait
        self.max_rows = max_rows
        self._pending: list[tuple[Pending, asyncio.Future[bool]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Task[None]] = set()

    async def write(self, item: Pending) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if len(self._pending) >= self.max_rows:
            self._flush_now()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.max_wait, self._flush_now)
        # Shielded: a client that hangs up must not cancel the batch it shares with others.
        return await asyncio.shield(future)

    def _flush_now(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if batch:
            task = asyncio.get_running_loop().create_task(self._flush(batch))
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)

    async def _flush(self, batch: list[tuple[Pending, asyncio.Future[bool]]]) -> None:
        try:
            won = await self._commit([item for item, _ in batch])
        except Exception as exc:  # every waiter learns of the failure
            log.warning("group commit of %d responses failed: %s", len(batch), exc)
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_item, future), stored in zip(batch, won, strict=True):
            if not future.done():
                future.set_result(stored)

    async def _commit(self, items: list[Pending]) -> list[bool]:
        async with self.pool.acquire() as conn, conn.transaction():
            # Explicit, so a server default of 'off' can never turn a 201 into a lost answer.
            await conn.execute("SET LOCAL synchronous_commit = on")
            records = [i.idempotency for i in items if i.idempotency is not None]
            winners = await repo.insert_idempotency_keys(conn, records)
            stored = [i.idempotency is None or (i.idempotency.api_key_id, i.idempotency.key) in winners
                      for i in items]
            # Two requests with one key in one batch: only the first is written.
            seen: set[tuple[int, str]] = set()
            for n, item in enumerate(items):
                if item.idempotency is not None and stored[n]:
                    pair = (item.idempotency.api_key_id, item.idempotency.key)
                    stored[n] = pair not in seen
                    seen.add(pair)
            rows = [i.row for i, ok in zip(items, stored, strict=True) if ok]
            if rows:
                await repo.insert_responses(conn, rows)
        return stored

    async def close(self) -> None:
        """Write what is queued and wait for every flush in flight."""
        self._flush_now()
        if self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)


@asynccontextmanager
async def writer_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Lifespan hook: one writer per app, on the app's pool; drained before the pool closes."""
    writer = ResponseWriter(app.state.pool)
    app.state.response_writer = writer
    # Ten widget answers a minute per address: enough for people, too few for a script.
    app.state.widget_limiter = TokenBuckets(rate=10, per=60.0)
    try:
        yield
    finally:
        await writer.close()
