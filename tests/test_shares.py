"""Journey-map share links: the whole map opens without a key, and only the map it was made for."""

from __future__ import annotations

import httpx

from feedback.insight.sharing import journey_share_link, share_link
from feedback.settings import Settings


async def test_a_journey_share_link_opens_the_whole_map_and_nothing_else(
    client: httpx.AsyncClient, admin: dict[str, str], settings: Settings
) -> None:
    journey = (await client.post("/api/v1/journeys", json={"name": "Shop"}, headers=admin)).json()
    other = (await client.post("/api/v1/journeys", json={"name": "Other"}, headers=admin)).json()
    owner = (await client.post("/api/v1/owners", json={"name": "Support"}, headers=admin)).json()
    link = journey_share_link(settings, journey["id"], days=7)
    path = link.url.removeprefix(settings.base_url)
    r = await client.get(path)
    assert r.status_code == 200
    assert "Acquisition" in r.text
    # Opened by the token in its URL, with no Authorization: a shared cache must not keep it
    # (the browser may, and revalidates it: it quotes no one, see test_insight_http.py).
    assert r.headers.get("cache-control") == "no-cache, private", r.headers
    token = path.split("share=")[1]
    assert (await client.get(f"/reports/journeys/{other['id']}?share={token}")).status_code == 404
    # A journey token is not an owner token, even when the ids coincide.
    assert (await client.get(f"/reports/owners/{journey['id']}?share={token}")).status_code == 404
    assert (await client.get(f"/reports/journeys/{journey['id']}?share={token[:-2]}xx")).status_code == 404
    expired = journey_share_link(settings, journey["id"], days=1, now=0).url.removeprefix(settings.base_url)
    assert (await client.get(expired)).status_code == 410
    owner_token = share_link(settings, owner["id"], days=7).url.split("share=")[1]
    assert (await client.get(f"/reports/journeys/{journey['id']}?share={owner_token}")).status_code == 404
