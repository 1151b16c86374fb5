"""Retention: stored answers of Idempotency-Keys are deleted once their 48 hours are over."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from litestar import Litestar

from feedback.collection import repository as repo
from feedback.service.database import Pool

log = logging.getLogger("touchpulse.retention")

# Each process purges this often, whether or not requests come: the stored answers hold
# comments and customer references, so they may not outlive their 48 hours by more than this.
PURGE_EVERY = 60.0


async def purge_expired_keys(pool: Pool) -> None:
    """Delete expired Idempotency-Key records now and every PURGE_EVERY seconds, until cancelled."""
    while True:
        try:
            async with pool.acquire() as conn:
                await repo.purge_idempotency_keys(conn)
        except Exception as exc:  # the database may be away for a while: try again next time
            log.warning("purging expired Idempotency-Keys failed: %s", exc)
        await asyncio.sleep(PURGE_EVERY)


@asynccontextmanager
async def retention_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Lifespan hook: the purge runs beside the app, off every request's path."""
    task = asyncio.create_task(purge_expired_keys(app.state.pool))
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
