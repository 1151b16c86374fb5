"""The URLs `make run` prints: where to look first."""

from __future__ import annotations

import secrets

from feedback.service.database import Connection, connect
from feedback.settings import Settings


async def demo_survey_link(conn: Connection, settings: Settings) -> str | None:
    """A fresh invitation on a demo touchpoint, so there is always a link to try."""
    from feedback.collection.models import InvitationCreate, InvitationSent
    from feedback.collection.service import trigger
    from surveys.errors import NotFound

    try:
        # A new customer each start: the contact rules would skip a returning one.
        decision = await trigger(conn, settings, "order-confirmation-email",
                                 InvitationCreate(customer=f"banner-{secrets.token_hex(4)}"))
    except NotFound:
        return None
    return decision.body.url if isinstance(decision.body, InvitationSent) else None


async def startup_banner(settings: Settings, url: str, *, demo: bool = False) -> str:
    """Where to look first; share links and a survey link only for a demo (`serve --demo`).

    Those links are bearer secrets (a share link opens reports that quote customers for 30 days,
    until an admin revokes the owner's or journey's links), and the banner goes to the log with
    everything else.
    """
    base = settings.base_url
    lines = [
        "",
        "Touchpulse is starting. Open:",
        f"  API docs            {base}/docs",
        f"  OpenAPI document    {base}/schema/openapi.json",
        f"  Health              {base}/healthz",
    ]
    if demo:
        lines += await _demo_links(settings, url)
    lines.append("Create an API key:    .venv/bin/touchpulse keys create --role admin")
    lines.append("Stop with Ctrl-C.")
    return "\n".join(lines)


async def _demo_links(settings: Settings, url: str) -> list[str]:
    """The demo's journey map and owner report (30-day share links) and a live survey link."""
    lines = []
    async with connect(url) as conn:
        # The demo's story is courier delivery, the one touchpoint significantly worse than the
        # period before: its owner's report (Delivery & Logistics) is where to look first.
        story = await conn.fetchrow(
            "SELECT o.id, o.name FROM owners o JOIN touchpoints t ON t.owner_id = o.id "
            "WHERE t.key = 'courier-delivery'")
        owner = story["id"] if story is not None else await conn.fetchval("SELECT min(id) FROM owners")
        journey = await conn.fetchval("SELECT min(id) FROM journeys")
        # Signed share links: the pages open in a browser without an API key, until revoked.
        from feedback.insight.service import share_link

        maps = None if journey is None else await share_link(conn, settings, "journey", int(journey), 30)
        report = None if owner is None else await share_link(conn, settings, "owner", int(owner), 30)
        survey = await demo_survey_link(conn, settings)
    if maps is not None:
        lines.append(f"  Journey map         {maps.url}")
    if report is not None:
        lines.append(f"  Demo owner report   {report.url}")
        if story is not None:
            lines.append(f"                      ({story['name']}: courier delivery, significantly worse "
                         "than the period before)")
    if survey is not None:
        lines.append(f"  A live demo survey  {survey}")
    return lines
