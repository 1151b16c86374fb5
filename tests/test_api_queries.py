"""Query strings on the API are strict; people's pages keep working with whatever links carry."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import problem_type
from tests.test_collection_support import invite, touchpoint, world
from tests.test_insight_data import answers, catalogue, days_ago

Client = httpx.AsyncClient
Headers = dict[str, str]


def _errors(r: httpx.Response) -> dict[str, str]:
    assert r.status_code == 422, (r.request.url, r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == problem_type("invalid-input")
    return {e["field"]: e["message"] for e in r.json()["errors"]}


async def test_a_repeated_filter_is_a_422_not_its_last_value(client: Client, admin: Headers, conn: Any) -> None:
    await catalogue(conn)
    await answers(conn, "support-call", [5, 4, 2], day=days_ago(1))
    for path, query in (("/api/v1/scores", "touchpoint=support-chat&touchpoint=support-call"),
                        ("/api/v1/responses", "band=low&band=high"),
                        ("/api/v1/responses", "limit=5&limit=5"),
                        ("/api/v1/owners", "cursor=&cursor=")):
        for method in ("GET", "HEAD"):
            r = await client.request(method, f"{path}?{query}", headers=admin)
            if method == "HEAD":
                assert r.status_code == 422, (path, query)
                continue
            name = query.partition("=")[0]
            assert _errors(r) == {name: "given 2 times; it takes one value"}, (path, query)
            assert name in r.json()["detail"]
    # OPTIONS reads no parameters: a CORS preflight carries the query of the request it asks about.
    r = await client.options("/api/v1/scores?touchpoint=a&touchpoint=b&utm_source=x")
    assert r.status_code in (200, 204) and "GET" in r.headers["allow"], r.text
    # Given once, each is read as before.
    r = await client.get("/api/v1/scores?touchpoint=support-call", headers=admin)
    assert r.status_code == 200 and r.json()["touchpoints"] == ["support-call"]


async def test_an_unknown_or_misspelt_parameter_is_a_422_naming_it_and_those_taken(
        client: Client, admin: Headers, conn: Any) -> None:
    cat = await catalogue(conn)
    r = await client.get("/api/v1/scores", headers=admin,
                         params={"touchpoint": "support-call", "form": "2026-01-01", "group_by": "touchpoint"})
    errors = _errors(r)
    assert set(errors) == {"form", "group_by"}
    assert errors["form"] == ("unknown query parameter; this operation takes: bucket, channel, from, journey, "
                              "kind, owner, stage, to, touchpoint")
    assert "form" in r.json()["detail"] and "group_by" in r.json()["detail"]
    # Every kind of operation: lists, reads, reports, changes, and one that takes no query at all.
    for method, path in (("GET", "/api/v1/touchpoints"), ("GET", f"/api/v1/journeys/{cat.journey}"),
                         ("GET", f"/api/v1/journeys/{cat.journey}/map"), ("GET", "/api/v1/responses"),
                         ("DELETE", f"/api/v1/owners/{cat.owners['support']}"),
                         ("POST", f"/api/v1/owners/{cat.owners['support']}/share-links/revoke"),
                         ("POST", "/api/v1/responses")):
        r = await client.request(method, f"{path}?utm_source=mail", headers=admin)
        assert "utm_source" in _errors(r), (method, path)
    r = await client.get(f"/api/v1/owners/{cat.owners['support']}?x=1", headers=admin)
    assert _errors(r) == {"x": "unknown query parameter; this operation takes none"}
    # Nothing was done: the owner is still there (its touchpoints would make it a 409 anyway).
    assert (await client.get(f"/api/v1/owners/{cat.owners['support']}", headers=admin)).status_code == 200
    # The names a client sends count, not the handler's: `from`, not `start`.
    r = await client.get("/api/v1/scores", headers=admin, params={"touchpoint": "support-call", "start": "x"})
    assert set(_errors(r)) == {"start"}
    r = await client.get("/api/v1/scores", headers=admin,
                         params={"touchpoint": "support-call", "from": str(days_ago(3))})
    assert r.status_code == 200, r.text


async def test_the_document_says_query_strings_are_strict(client: Client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    assert "query parameter the operation does not list is a 422" in document["info"]["description"]
    docs = (await client.get("/docs")).text
    assert "query parameter the operation does not list is a 422" in docs


async def test_pages_take_the_parameters_links_gain_on_their_way(
        client: Client, admin: Headers, conn: Any) -> None:
    # Mail clients and marketing tools add utm_* (and others) to the links people open.
    w = await world(client, admin)
    await touchpoint(client, admin, w, "delivery", "csat")
    sent = (await invite(client, admin, "delivery")).json()
    tracking = "utm_source=newsletter&utm_medium=email&utm_source=again&fbclid=x"
    r = await client.get(f"{sent['url']}?{tracking}")
    assert r.status_code == 200 and "<form" in r.text, r.text[:300]
    r = await client.get(f"{sent['one_click_urls']['4']}&{tracking}")
    assert r.status_code == 200, r.text[:300]
    r = await client.get(f"/w/delivery?{tracking}")
    assert r.status_code == 200, r.text[:300]
    link = (await client.get(f"/api/v1/owners/{w['owner']}/share-link", headers=admin)).json()["url"]
    r = await client.get(f"{link}&{tracking}")
    assert r.status_code == 200 and "<html" in r.text, r.text[:300]
    journey = (await client.get(f"/api/v1/journeys/{w['journey']}/share-link", headers=admin)).json()["url"]
    r = await client.get(f"{journey}&{tracking}")
    assert r.status_code == 200 and "<html" in r.text, r.text[:300]
