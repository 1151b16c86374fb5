"""The rollups' folder: answers are summed into the rollups beside the ingest, not inside it.

Migration 0018 queues what the rollups need of every written answer, in the answer's own
transaction; `fold_rollups()` sums the queue into the rollup tables. Every reader of the
rollups folds first (insight/service.py), so reports are exact whenever they are read. This
folder, one per service instance, folds every thousand answers or every second so that a
reader seldom finds much left to fold, and vacuums the queue's deleted rows long before
autovacuum's next visit would: a fold reads the whole queue table, dead rows included.

A fold's commit does not wait for the disk (synchronous_commit off): lost in a crash, it
takes its deletions from the queue with it, so the next fold sums those rows again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from litestar import Litestar

from feedback.insight import repository as repo
from feedback.service.background import running_beside
from feedback.service.database import Pool

log = logging.getLogger("touchpulse.folding")

# A fold costs PostgreSQL about 8 ms whatever its size, then about 25 µs a row image (measured
# with `python -m bench.flush_cost --fold N`: 48, 29 and 25 µs an answer at 320, 1,280 and
# 5,120 answers a fold). So the folder waits for a thousand answers written here, or a second,
# whichever comes first: under a steady ingest a fold costs a third less than at ten a second,
# and a reader that meets the queue (it folds first) finds at most about that much to fold.
FOLD_AFTER = 1000
FOLD_EVERY = 1.0
# How often the folder looks at the count: no database call when it does not fold.
LOOK_EVERY = 0.05
# Vacuum the queue once its file passes this many pages (2 MB with 8 kB pages, a few seconds
# of answers at full speed): the fold's scan then stays a few hundred pages long.
VACUUM_PAGES = 256


async def fold_once(pool: Pool) -> int:
    """One fold, skipped when another instance's is in progress; returns the row images folded."""
    async with pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute("SET LOCAL synchronous_commit = off")
            folded = await repo.fold_rollups(conn, wait=False)
        if folded and await repo.rollup_queue_pages(conn) >= VACUUM_PAGES:
            await conn.execute("VACUUM rollup_queue")
    return folded


async def fold_forever(pool: Pool, written: Callable[[], int], *, after: int = FOLD_AFTER,
                       every: float = FOLD_EVERY, look: float = LOOK_EVERY) -> None:
    """fold_once once `written()` (answers this instance wrote) grew by `after` since the last
    fold, or `every` seconds after it (rows from other instances, imports and erasures), until
    cancelled."""
    failing = False
    folded_at, count = time.monotonic(), written()
    while True:
        await asyncio.sleep(look)
        wait = every if not failing else max(every, 1.0)
        if written() - count < after and time.monotonic() - folded_at < wait:
            continue
        folded_at, count = time.monotonic(), written()
        try:
            await fold_once(pool)
            failing = False
        except Exception as exc:  # the database may be away for a while: the queue waits
            if not failing:
                log.warning("folding the rollups failed (%s); trying again", exc)
            failing = True


@asynccontextmanager
async def folding_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Lifespan hook: the folder runs beside the app; stopping cancels it between folds."""

    def written() -> int:
        # The writer starts after the folder (which stops after it, to fold what it wrote last).
        intake = app.state.get("intake")
        return 0 if intake is None else int(intake.writer.written)

    async with running_beside(fold_forever(app.state.pool, written)):
        yield
