"""HEAD wherever GET is, and an Allow header that lists every method a path takes."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute

from feedback.service.database import Connection
from tests.test_collection_support import Client, Headers, invite, token_of, touchpoint, world

# Litestar builds the OpenAPI routes (the document and a catch-all 404 under /schema): their
# HEAD is checked on its own below.
_LITESTAR_OWN = "/schema"
# Headers that differ between any two answers.
_PER_ANSWER = {"x-request-id", "date", "content-length"}


def _http_routes(app: Litestar) -> list[HTTPRoute]:
    return [r for r in app.routes if isinstance(r, HTTPRoute) and not r.path.startswith(_LITESTAR_OWN)]


def _fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+):\w+\}", lambda m: values[m.group(1)], path)


async def _one_of_each(client: Client, admin: Headers) -> dict[str, str]:
    """A value for each path parameter that names something that exists."""
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery")
    sent = (await invite(client, admin, "delivery")).json()
    answer = await client.post("/api/v1/responses", headers=admin,
                               json={"touchpoint": "delivery", "score": 4, "customer": "c-1"})
    assert answer.status_code == 201, answer.text
    alert = await client.post(f"/api/v1/owners/{w['owner']}/alerts", headers=admin,
                              json={"url": "https://hooks.example/methods"})
    assert alert.status_code == 201, alert.text
    return {"owner_id": str(w["owner"]), "journey_id": str(w["journey"]), "key": "delivery",
            "invitation_id": sent["id"], "token": token_of(sent["url"]), "customer": "c-1",
            "response_id": answer.json()["id"], "alert_id": str(alert.json()["id"])}


async def test_every_get_route_answers_head_as_get_does_without_a_body(
        app: Litestar, client: Client, admin: Headers) -> None:
    values = await _one_of_each(client, admin)
    checked = []
    for route in _http_routes(app):
        if "GET" not in route.methods:
            continue
        url = _fill(route.path, values)
        head = await client.head(url, headers=admin)
        get = await client.get(url, headers=admin)
        assert head.status_code == get.status_code, (url, head.status_code, get.status_code, head.text)
        assert head.content == b"", url
        same = {k: v for k, v in head.headers.items() if k not in _PER_ANSWER}
        assert same == {k: v for k, v in get.headers.items() if k not in _PER_ANSWER}, url
        if "content-length" in head.headers:
            assert head.headers["content-length"] == get.headers["content-length"], url
        checked.append(url)
    assert len(checked) >= 15 and any(u.startswith("/s/") for u in checked)
    assert {"/docs", "/", "/healthz"} <= set(checked)


async def test_head_on_a_survey_link_is_not_an_open(client: Client, admin: Headers,
                                                    conn: Connection) -> None:
    values = await _one_of_each(client, admin)
    r = await client.head(f"/s/{values['token']}?score=4", headers={"User-Agent": "Slackbot 1.0"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert await conn.fetchval("SELECT count(*) FROM invitation_clicks") == 0
    assert await conn.fetchval("SELECT first_clicked_at FROM invitations") is None
    # A GET is still an open.
    assert (await client.get(f"/s/{values['token']}?score=4")).status_code == 200
    assert await conn.fetchval("SELECT count(*) FROM invitation_clicks") == 1


def _allow(value: str) -> list[str]:
    return sorted(m.strip() for m in value.split(","))


async def test_options_lists_every_method_of_the_path(app: Litestar, client: Client) -> None:
    values: dict[str, Any] = {"owner_id": "1", "journey_id": "1", "key": "k", "token": "t", "customer": "c",
                              "invitation_id": "00000000-0000-7000-8000-000000000001",
                              "response_id": "00000000-0000-7000-8000-000000000002", "alert_id": "1"}
    for route in _http_routes(app):
        r = await client.options(_fill(route.path, values))
        assert r.status_code == 204, route.path
        assert _allow(r.headers["allow"]) == sorted(route.methods), route.path
        if "GET" in route.methods:
            assert "HEAD" in route.methods, route.path
    for path, methods in (("/api/v1/journeys/1", "DELETE, GET, HEAD, OPTIONS, PATCH"),
                          ("/api/v1/responses", "GET, HEAD, OPTIONS, POST"),
                          ("/s/t", "GET, HEAD, OPTIONS, POST"),
                          ("/api/v1/customers/c", "DELETE, OPTIONS")):
        assert (await client.options(path)).headers["allow"] == methods, path


async def test_a_405_names_every_method_the_path_takes(client: Client, admin: Headers) -> None:
    for method, path, methods in (("POST", "/docs", "GET, HEAD, OPTIONS"),
                                  ("PUT", "/api/v1/journeys/1", "DELETE, GET, HEAD, OPTIONS, PATCH"),
                                  ("HEAD", "/api/v1/touchpoints/k/invitations", "OPTIONS, POST"),
                                  ("PUT", "/reports/owners/1", "GET, HEAD, OPTIONS")):
        r = await client.request(method, path, headers=admin)
        assert r.status_code == 405, (method, path)
        assert _allow(r.headers["allow"]) == _allow(methods), (method, path, r.headers["allow"])


async def _head_answers_as_get(client: Client, url: str, status: int) -> None:
    """HEAD answers with GET's status and headers (Content-Length included), no body, and
    OPTIONS lists it."""
    head = await client.head(url)
    get = await client.get(url)
    assert get.status_code == status and head.status_code == status, (url, head.status_code, head.text)
    assert head.content == b"", url
    assert {k: v for k, v in head.headers.items() if k not in _PER_ANSWER} == {
        k: v for k, v in get.headers.items() if k not in _PER_ANSWER}, url
    assert head.headers["content-length"] == get.headers["content-length"], url
    options = await client.options(url)
    assert "HEAD" in _allow(options.headers["allow"]), (url, options.headers)


async def test_the_openapi_document_answers_head_as_get_does(client: Client) -> None:
    # Link checkers and API gateways probe the document with HEAD before fetching it.
    for url in ("/schema", "/schema/openapi.json", "/schema/openapi.yaml", "/schema/openapi.yml"):
        await _head_answers_as_get(client, url, 200)


async def test_an_unknown_path_under_schema_is_a_404_to_head_as_to_get(client: Client) -> None:
    # Litestar's catch-all 404 under /schema took GET only: HEAD there was a 405 naming GET.
    for url in ("/schema/nothing", "/schema/swagger", "/schema/nothing.json", "/schema/a.yaml"):
        await _head_answers_as_get(client, url, 404)
    # The document itself still answers HEAD (test_the_openapi_document_answers_head_as_get_does).
    assert (await client.head("/schema/openapi.json")).status_code == 200
