"""Loading the whole demo: the catalogue, then its invitations and responses."""

from __future__ import annotations

from feedback.demo.catalogue import create_catalogue, has_data
from feedback.demo.responses import seed_responses
from feedback.settings import Settings
from surveys.repository import Conn


class DemoSummary:
    """What the demo loader created."""

    def __init__(self, created: bool, owners: dict[str, int]) -> None:
        self.created = created
        self.owners = owners


async def load_demo(conn: Conn, settings: Settings) -> DemoSummary:
    """Create the demo when the database holds no journey; otherwise leave it alone."""
    del settings
    async with conn.transaction():
        # One loader at a time: two `make run`s starting together must not both seed.
        await conn.execute("SELECT pg_advisory_xact_lock(7463021906)")
        if await has_data(conn):
            return DemoSummary(False, {})
        owners = await create_catalogue(conn)
        # The history goes in with the catalogue: a demo is never half loaded.
        await seed_responses(conn)
    return DemoSummary(True, owners)
