"""The rollups' folder: answers are summed into the rollups beside the ingest, not inside it.

Migration 0018 queues what the rollups need of every written answer, in the answer's own
transaction; `fold_rollups()` sums the queue into the rollup tables. Every reader of the
rollups folds first (insight/service.py), so reports are exact whenever they are read. This
folder, one per service instance, folds a few times a second so that a reader seldom finds
much left to fold, and vacuums the queue's deleted rows long before autovacuum's next visit
would: a fold reads the whole queue table, dead rows included.

A fold's commit does not wait for the disk (synchronous_commit off): lost in a crash, it
takes its deletions from the queue with it, so the next fold sums those rows again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from feedback.insight import repository as repo
from feedback.service.background import running_beside
from feedback.service.database import Pool

log = logging.getLogger("touchpulse.folding")

# Seconds between folds: under a steady ingest a fold takes a few hundred answers at once.
FOLD_EVERY = 0.1
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


async def fold_forever(pool: Pool, *, every: float = FOLD_EVERY) -> None:
    """fold_once every `every` seconds, until cancelled."""
    failing = False
    while True:
        try:
            await fold_once(pool)
            failing = False
        except Exception as exc:  # the database may be away for a while: the queue waits
            if not failing:
                log.warning("folding the rollups failed (%s); trying again", exc)
            failing = True
        await asyncio.sleep(every if not failing else max(every, 1.0))


@asynccontextmanager
async def folding_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Lifespan hook: the folder runs beside the app; stopping cancels it between folds."""
    async with running_beside(fold_forever(app.state.pool)):
        yield
