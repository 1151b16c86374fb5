"""Loading the whole demo: the catalogue, then its invitations and responses."""

from __future__ import annotations

from feedback.demo.catalogue import create_catalogue, has_data
from feedback.demo.responses import seed_responses
from feedback.settings import Settings
from surveys.errors import NameTaken
from surveys.repository import Conn


class DemoSummary:
    """What the demo loader created."""

    def __init__(self, created: bool, owners: dict[str, int], skipped_because: str = "") -> None:
        self.created = created
        self.owners = owners
        self.skipped_because = skipped_because


async def load_demo(conn: Conn, settings: Settings) -> DemoSummary:
    """Create the demo when the database holds no journey; otherwise leave it alone."""
    del settings
    try:
        async with conn.transaction():
            # One loader at a time: two `make run`s starting together must not both seed.
            await conn.execute("SELECT pg_advisory_xact_lock(7463021906)")
            if await has_data(conn):
                return DemoSummary(False, {}, "the database already holds a journey")
            owners = await create_catalogue(conn)
            # The history goes in with the catalogue: a demo is never half loaded.
            await seed_responses(conn)
    except NameTaken as taken:
        # Owners made before any journey: the demo does not add a second team of that name,
        # nor give its made-up answers to the real one. Nothing of it is kept.
        return DemoSummary(False, {}, f"the database already holds {taken.kind} {taken.name!r} "
                                      f"(id {taken.existing_id})")
    return DemoSummary(True, owners)
