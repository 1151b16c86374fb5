"""Revoking share links one owner (or one journey map) at a time, without touching the rest."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from feedback.insight import service, sharing
from feedback.insight.models import ShareTarget
from feedback.settings import Settings
from surveys.errors import NotFound
from tests.conftest import MakeKey, bearer
from tests.test_insight_data import catalogue

Client = httpx.AsyncClient
Headers = dict[str, str]


async def _link(client: Client, admin: Headers, what: str, target_id: int, days: int = 7) -> str:
    """The path and query of a new share link from the API."""
    r = await client.get(f"/api/v1/{what}/{target_id}/share-link", headers=admin, params={"days": days})
    assert r.status_code == 200, r.text
    url = urlsplit(r.json()["url"])
    return f"{url.path}?{url.query}"


async def _revoke(client: Client, headers: Headers, what: str, target_id: int | str) -> httpx.Response:
    return await client.post(f"/api/v1/{what}/{target_id}/share-links/revoke", headers=headers)


async def test_revoking_an_owners_links_closes_that_owners_old_links_only(
        client: Client, admin: Headers, conn: Any, settings: Settings) -> None:
    cat = await catalogue(conn)
    support, onboarding = cat.owners["support"], cat.owners["onboarding"]
    # A link signed the way links were before revocation existed (no epoch in the MAC).
    legacy = f"/reports/owners/{support}?share=" + sharing.make_token(
        settings.secret_key, support, int(time.time()) + 600)
    old = [await _link(client, admin, "owners", support, days) for days in (1, 30)]
    others = await _link(client, admin, "owners", onboarding)
    on_map = old[0].replace(f"/reports/owners/{support}?",
                            f"/reports/journeys/{cat.journey}?owner={support}&")
    for path in (legacy, *old, others, on_map):
        assert (await client.get(path)).status_code == 200, path

    r = await _revoke(client, admin, "owners", support)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"revoked_at"}
    assert "no-store" in r.headers["cache-control"]

    # Revoked: the page a damaged link gets, byte for byte, so nobody learns the link existed.
    unknown = await client.get(f"/reports/owners/{support}", params={"share": "A" * 54})
    assert unknown.status_code == 404 and "text/html" in unknown.headers["content-type"]
    for path in (legacy, *old, on_map.replace(f"/reports/journeys/{cat.journey}", f"/reports/owners/{support}")):
        r = await client.get(path)
        assert (r.status_code, r.headers["content-type"], r.text) == (
            unknown.status_code, unknown.headers["content-type"], unknown.text), path
        assert (await client.head(path)).status_code == 404
    assert (await client.get(on_map)).status_code == 404
    # Expired and revoked: 404 like unknown, not the "expired" 410 that says it once existed.
    expired = sharing.make_token(settings.secret_key, support, int(time.time()) - 1)
    assert (await client.get(f"/reports/owners/{support}", params={"share": expired})).status_code == 404

    # Another owner's links keep working; a link made after the revocation works.
    assert (await client.get(others)).status_code == 200
    fresh = await _link(client, admin, "owners", support)
    assert (await client.get(fresh)).status_code == 200
    # Revoking again closes that one too, and still only that owner's.
    assert (await _revoke(client, admin, "owners", support)).status_code == 200
    assert (await client.get(fresh)).status_code == 404
    assert (await client.get(others)).status_code == 200
    # The admin API is not a share link: keys go on working.
    assert (await client.get(f"/reports/owners/{support}", headers=admin)).status_code == 200


async def test_revoking_a_journey_maps_links_closes_that_maps_old_links_only(
        client: Client, admin: Headers, conn: Any, settings: Settings) -> None:
    cat = await catalogue(conn)
    other = (await client.post("/api/v1/journeys", json={"name": "Other"}, headers=admin)).json()["id"]
    support = cat.owners["support"]
    legacy = f"/reports/journeys/{cat.journey}?share=" + sharing.make_token(
        settings.secret_key, cat.journey, int(time.time()) + 600, sharing.JOURNEY_PURPOSE)
    old = await _link(client, admin, "journeys", cat.journey)
    others = await _link(client, admin, "journeys", other)
    # An owner's link shown on this map is the owner's to revoke, not the map's.
    owners = (await _link(client, admin, "owners", support)).replace(
        f"/reports/owners/{support}?", f"/reports/journeys/{cat.journey}?owner={support}&")
    for path in (legacy, old, others, owners):
        assert (await client.get(path)).status_code == 200, path

    r = await _revoke(client, admin, "journeys", cat.journey)
    assert r.status_code == 200 and set(r.json()) == {"revoked_at"}, r.text
    unknown = await client.get(f"/reports/journeys/{cat.journey}", params={"share": "A" * 54})
    for path in (legacy, old):
        r = await client.get(path)
        assert (r.status_code, r.text) == (404, unknown.text), path
    assert (await client.get(others)).status_code == 200
    assert (await client.get(owners)).status_code == 200
    fresh = await _link(client, admin, "journeys", cat.journey)
    assert (await client.get(fresh)).status_code == 200
    # Nor does revoking an owner close a whole-map link.
    assert (await _revoke(client, admin, "owners", support)).status_code == 200
    assert (await client.get(fresh)).status_code == 200
    assert (await client.get(owners)).status_code == 404


async def test_only_admins_revoke_share_links(
        client: Client, admin: Headers, conn: Any, make_key: MakeKey) -> None:
    cat = await catalogue(conn)
    support = cat.owners["support"]
    link = await _link(client, admin, "owners", support)
    journey_link = await _link(client, admin, "journeys", cat.journey)
    own = bearer(await make_key("owner", support))
    other = bearer(await make_key("owner", cat.owners["onboarding"]))
    ingest = bearer(await make_key("ingest"))
    # As with making links: owner keys may not, not even their own owner's.
    for headers, status in ((own, 403), (other, 403), (ingest, 403), ({}, 401)):
        for what, target in (("owners", support), ("journeys", cat.journey)):
            r = await _revoke(client, headers, what, target)
            assert r.status_code == status, (what, headers, r.text)
            assert r.headers["content-type"] == "application/problem+json"
    assert (await client.get(link)).status_code == 200
    assert (await client.get(journey_link)).status_code == 200
    # Unknown ids: the neighbours' 404, as problem details naming the object.
    for what, name in (("owners", "Owner"), ("journeys", "Journey")):
        r = await _revoke(client, admin, what, 2**40)
        assert r.status_code == 404 and r.json()["detail"] == f"{name} {2**40} does not exist.", r.text
        for bad in ("0", "abc", "\uff11", "1_0", str(2**64)):
            r = await _revoke(client, admin, what, bad)
            assert 400 <= r.status_code < 500, (what, bad, r.status_code)
            assert r.headers["content-type"] == "application/problem+json"
        r = await client.get(f"/api/v1/{what}/{support}/share-links/revoke", headers=admin)
        assert r.status_code == 405 and "POST" in r.headers["allow"]


async def test_a_link_asked_for_during_a_revocation_is_signed_after_it(
        client: Client, admin: Headers, conn: Any) -> None:
    cat = await catalogue(conn)
    support = cat.owners["support"]
    cases: list[tuple[str, ShareTarget, int]] = [("owners", "owner", support),
                                                 ("journeys", "journey", cat.journey)]
    for what, shared, target in cases:
        tx = conn.transaction()
        await tx.start()
        await service.revoke_share_links(conn, shared, target)  # held, not committed yet
        asking = asyncio.ensure_future(_link(client, admin, what, target))
        await asyncio.sleep(0.3)
        assert not asking.done(), "signing did not wait for the revocation in flight"
        await tx.commit()
        # Signed with the epoch the revocation committed: it opens.
        assert (await client.get(await asyncio.wait_for(asking, 10))).status_code == 200


def test_epoch_zero_signs_what_links_signed_before_revocation_existed() -> None:
    secret, owner, expires_at = "s" * 40, 7, 2_000_000_000
    expiry = expires_at.to_bytes(8, "big")
    # The formula of docs/reports.md before migration 0005.
    mac = hmac.new(secret.encode(), b"owner-report:7" + expiry, hashlib.sha256).digest()
    before = base64.urlsafe_b64encode(expiry + mac).decode().rstrip("=")
    assert sharing.make_token(secret, owner, expires_at) == before
    assert sharing.check_token(secret, owner, before, now=0) == expires_at
    after = sharing.make_token(secret, owner, expires_at, epoch=1)
    assert len(after) == len(before) and after != before
    assert sharing.check_token(secret, owner, after, now=0, epoch=1) == expires_at
    for epoch, token in ((1, before), (0, after), (2, after)):
        with pytest.raises(NotFound):
            sharing.check_token(secret, owner, token, now=0, epoch=epoch)
    # Owner 71 at epoch 0 and owner 7 at epoch 1 never sign the same message.
    with pytest.raises(NotFound):
        sharing.check_token(secret, 71, after, now=0)


async def test_the_revocations_are_in_the_openapi_document(client: Client) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for what in ("owners/{owner_id}", "journeys/{journey_id}"):
        operation = paths[f"/api/v1/{what}/share-links/revoke"]["post"]
        assert operation["security"] == [{"BearerAuth": []}]
        assert {"200", "401", "403", "404"} <= set(operation["responses"])
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith("/ShareRevocation")
