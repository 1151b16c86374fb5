"""The URLs `make run` prints: where to look first."""

from __future__ import annotations

from feedback.service.database import connect
from feedback.settings import Settings


async def startup_banner(settings: Settings, url: str) -> str:
    base = settings.base_url
    lines = [
        "",
        "Touchpulse is starting. Open:",
        f"  API docs            {base}/schema/swagger",
        f"  OpenAPI document    {base}/schema/openapi.json",
        f"  Health              {base}/healthz",
    ]
    async with connect(url) as conn:
        owner = await conn.fetchval("SELECT min(id) FROM owners")
        journey = await conn.fetchval("SELECT min(id) FROM journeys")
    if journey is not None:
        lines.append(f"  Journey map         {base}/reports/journeys/{journey}")
    if owner is not None:
        lines.append(f"  Demo owner report   {base}/reports/owners/{owner}")
    lines.append("Create an API key:    .venv/bin/touchpulse keys create --role admin")
    lines.append("Stop with Ctrl-C.")
    return "\n".join(lines)
