"""Retention: personal data is kept only as long as something needs it.

Each process, once a minute: stored answers of Idempotency-Keys are deleted after their
48 hours; clicks lose their user agent after TOUCHPULSE_CLICK_RETENTION_DAYS; invitations
forget their customer reference, context and event id after
TOUCHPULSE_INVITATION_RETENTION_DAYS; erasures' tombstones (a digest of the erased customer's
reference) go after a day. Clicks and invitations stay as rows, so the funnel
counts and response rates of every report stay what they were.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from litestar import Litestar

from feedback.collection import repository as repo
from feedback.service.background import running_beside
from feedback.service.database import Connection, Pool
from feedback.settings import Settings

log = logging.getLogger("touchpulse.retention")

# Each process purges this often, whether or not requests come: the stored answers hold
# comments and customer references, so they may not outlive their 48 hours by more than this.
PURGE_EVERY = 60.0
# Rows per statement: each batch is its own short transaction, so the purge never holds
# many row locks at once, and a backlog (the first run on years of history) drains in steps.
BATCH = 1000


async def _drain(pool: Pool, what: str, step: Callable[[Connection], Awaitable[int]]) -> int:
    """Run `step` batch after batch until a batch comes back short; returns the rows done."""
    done = 0
    try:
        while True:
            async with pool.acquire() as conn:
                n = await step(conn)
            done += n
            if n < BATCH:
                return done
    except Exception as exc:  # the database may be away for a while: try again next time
        log.warning("retention: %s failed after %d row(s): %s", what, done, exc)
        return done


async def purge_once(pool: Pool, settings: Settings) -> None:
    """One pass of every retention rule; a rule that fails is logged and tried next pass."""
    async def keys(conn: Connection) -> int:
        return await repo.purge_idempotency_keys(conn, batch=BATCH)

    async def clicks(conn: Connection) -> int:
        return await repo.forget_click_agents(conn, days=settings.click_retention_days, batch=BATCH)

    async def invitations(conn: Connection) -> int:
        return await repo.forget_invitations(conn, days=settings.invitation_retention_days, batch=BATCH)

    async def erasures(conn: Connection) -> int:
        return await repo.forget_erasures(conn)

    await _drain(pool, "purging expired Idempotency-Keys", keys)
    await _drain(pool, "forgetting erasures past their day", erasures)
    agents = await _drain(pool, "clearing old clicks' user agents", clicks)
    refs = await _drain(pool, "clearing old invitations' customer references", invitations)
    if agents or refs:
        log.info("retention: cleared the user agent of %d click(s) and the customer of %d invitation(s)",
                 agents, refs)


async def purge_forever(pool: Pool, settings: Settings) -> None:
    """purge_once now and every PURGE_EVERY seconds, until cancelled."""
    while True:
        await purge_once(pool, settings)
        await asyncio.sleep(PURGE_EVERY)


@asynccontextmanager
async def retention_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Lifespan hook: the purge runs beside the app, off every request's path."""
    async with running_beside(purge_forever(app.state.pool, app.state.settings)):
        yield
