"""Catch-up: after an upgrade of the analyser, the service re-reads old answers by itself.

At start, in the background, one instance (a session-level advisory lock) counts the responses
read by an older analyser, on the index of analyzer_version: a few pages when there are none.
If there are any, it re-reads them with `rescore_next`, the batches of `touchpulse rescore`,
small and spaced so that the analysis (on the event loop) takes a small share of one core.
Instances that find the lock taken try again every few minutes, in case its holder died.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from litestar import Litestar

from feedback.insight import repository as repo
from feedback.insight.rescore import START, Key, rescore_next
from feedback.sentiment import ANALYZER_VERSION
from feedback.service.background import running_beside
from feedback.service.database import Connection, Pool

log = logging.getLogger("touchpulse.rescore")

# Key family 74630219xx (see surveys/queries.sql): 05 migrations, 06 demo loader, 07 owner
# names, 08 journey names, 09 this catch-up, 10 touchpoint names. A test checks that no two locks share a key.
LOCK_KEY = 7_463_021_909
# At most about 1 ms of analysis a comment (0.1–0.2 ms on typical ones), with a yield every
# few comments (rescore._SLICE).
BATCH = 50
# Share of wall-clock time spent in batches: each batch is followed by a pause of
# (1 - SHARE) / SHARE times its own duration, and at least MIN_PAUSE.
SHARE = 0.15
MIN_PAUSE = 0.02
RETRY_EVERY = 300.0
LOG_EVERY = 60.0


async def _walk(conn: Connection, batch: int) -> None:
    total = await repo.rescore_count(conn, everything=False, version=ANALYZER_VERSION)
    if total == 0:
        return
    log.info("rescore: %d response(s) were read by an older analyser; re-reading them with version %d",
             total, ANALYZER_VERSION)
    started = last_log = time.monotonic()
    done = 0
    after: Key | None = START
    while after is not None:
        t0 = time.perf_counter()
        n, after = await rescore_next(conn, after=after, batch=batch)
        done += n
        if time.monotonic() - last_log >= LOG_EVERY:
            last_log = time.monotonic()
            log.info("rescore: %d of %d response(s) re-read", done, total)
        if after is not None:
            took = time.perf_counter() - t0
            await asyncio.sleep(max(MIN_PAUSE, took * (1 - SHARE) / SHARE))
    log.info("rescore: done, %d response(s) re-read with analyser version %d in %.1f s",
             done, ANALYZER_VERSION, time.monotonic() - started)


async def catch_up(pool: Pool, *, batch: int | None = None) -> bool:
    """Re-read every stale response, holding the lock; False if another instance holds it."""
    async with pool.acquire() as conn:
        if not await repo.rescore_try_lock(conn, key=LOCK_KEY):
            return False
        try:
            await _walk(conn, batch or BATCH)
        finally:
            # Releasing the connection to the pool unlocks too (its reset); if this fails, the
            # pool closes the connection, and the server drops the lock with the session.
            with suppress(Exception):
                await asyncio.wait_for(repo.rescore_unlock(conn, key=LOCK_KEY), 2)
    return True


async def catch_up_forever(pool: Pool) -> None:
    """catch_up until this instance has done it (or found nothing); until cancelled."""
    while True:
        try:
            if await catch_up(pool):
                return
            log.info("rescore: another instance is re-reading old answers; trying again in %.0f s",
                     RETRY_EVERY)
        except Exception as exc:  # the database may be away for a while: try again later
            log.warning("rescore: failed (%s); trying again in %.0f s", exc, RETRY_EVERY)
        await asyncio.sleep(RETRY_EVERY)


@asynccontextmanager
async def catchup_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Lifespan hook: the catch-up runs beside the app; stopping cancels it mid-walk."""
    if not app.state.settings.auto_rescore:
        yield
        return
    async with running_beside(catch_up_forever(app.state.pool)):
        yield
