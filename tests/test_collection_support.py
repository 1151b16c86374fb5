"""Shared set-up for the collection tests: a journey, an owner and touchpoints over HTTP."""

from __future__ import annotations

import re
from typing import Any

import httpx

Client = httpx.AsyncClient
Headers = dict[str, str]


async def world(client: Client, admin: Headers) -> dict[str, Any]:
    """A journey and an owner; returns their ids and the Solution stage."""
    journey = (await client.post("/api/v1/journeys", json={"name": "Shop"}, headers=admin)).json()
    owner = (await client.post("/api/v1/owners", json={"name": "Support"}, headers=admin)).json()
    return {"journey": journey["id"], "stage": journey["stages"][4]["id"], "owner": owner["id"]}


async def touchpoint(client: Client, admin: Headers, w: dict[str, Any], key: str, kind: str = "csat",
                     **extra: Any) -> dict[str, Any]:
    payload = {"key": key, "name": key.replace("-", " ").title(), "stage_id": w["stage"],
               "channel": "email", "owner_id": w["owner"], "kind": kind, **extra}
    r = await client.post("/api/v1/touchpoints", json=payload, headers=admin)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def invite(client: Client, admin: Headers, key: str, customer: str = "c-1",
                 **extra: Any) -> httpx.Response:
    return await client.post(f"/api/v1/touchpoints/{key}/invitations",
                             json={"customer": customer, **extra}, headers=admin)


def token_of(url: str) -> str:
    match = re.search(r"/s/([A-Za-z0-9_-]+)", url)
    assert match
    return match.group(1)
