"""No input makes the service answer 500: bad bodies and ids thrown at every documented route."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import UUID

import asyncpg
import httpx
import msgspec
from litestar import Litestar, Request
from litestar.exceptions import HTTPException
from litestar.routes import HTTPRoute

from feedback.service.database import Connection
from feedback.service.problems import EXCEPTION_HANDLERS
from tests.conftest import problem_type

BAD_IDS = ["abc", "-1", "0", "99999999999999999999999", "1.5", "%00", "a" * 300, "' OR 1=1 --"]
BAD_BODIES: list[tuple[str, bytes]] = [
    ("malformed JSON", b'{"name": '),
    ("not an object", b"[1, 2, 3]"),
    ("unknown fields", b'{"surprise": true, "name": "x"}'),
    ("wrong types", b'{"name": 12, "email": [], "key": {}, "score": "ten", "customer": 5}'),
    ("null", b"null"),
    ("a number out of range", b'{"name": "x", "score": 1e400, "context": {"x": [-1e999]}}'),
    ("deep nesting", b"[" * 5000 + b"]" * 5000),
    ("huge", b'{"name": "' + b"x" * (3 * 1024 * 1024) + b'"}'),
    ("not UTF-8", b'{"name": "\xff\xfe"}'),
]


async def _operations(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    spec: dict[str, Any] = (await client.get("/schema/openapi.json")).json()
    return [(method.upper(), path) for path, item in spec["paths"].items() for method in item
            if method in ("get", "post", "put", "patch", "delete")]


def _fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


async def test_every_route_is_documented(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/schema/openapi.json")).json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                assert operation.get("summary"), f"{method.upper()} {path} has no summary"


async def test_bad_ids_and_bodies_never_cause_a_server_error(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    failures: list[str] = []
    for method, path in await _operations(client):
        for bad in BAD_IDS if "{" in path else ["-"]:
            url = _fill(path, bad) if "{" in path else path
            if method in ("POST", "PUT", "PATCH"):
                for label, body in BAD_BODIES:
                    r = await client.request(method, url, content=body, headers={
                        **admin, "content-type": "application/json"})
                    if r.status_code >= 500:
                        failures.append(f"{method} {url} with {label}: {r.status_code} {r.text[:200]}")
                    elif "/api/" in url and not r.headers.get("content-type", "").startswith(
                        "application/problem+json"
                    ):
                        failures.append(f"{method} {url} with {label}: not problem+json ({r.status_code})")
            else:
                r = await client.request(method, url, headers=admin)
                if r.status_code >= 500:
                    failures.append(f"{method} {url}: {r.status_code} {r.text[:200]}")
    assert not failures, "\n".join(failures[:20])


async def test_validation_problem_names_each_field(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    r = await client.post("/api/v1/owners", content=b'{"name": 12, "email": "nope", "extra": 1}',
                          headers={**admin, "content-type": "application/json"})
    assert r.status_code == 422
    problem = r.json()
    assert problem["status"] == 422
    assert {e["field"] for e in problem["errors"]} == {"name", "email", "extra"}
    assert "name" in problem["detail"] and problem["type"] == problem_type("invalid-input")


async def test_huge_body_is_413_problem(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    r = await client.post("/api/v1/owners", content=b'{"name": "' + b"x" * (3 * 1024 * 1024) + b'"}',
                          headers={**admin, "content-type": "application/json"})
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == problem_type("payload-too-large")


async def test_unknown_route_is_a_problem(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.json()["detail"] == "Nothing is served at /api/v1/nothing-here."
    assert r.json()["type"] == problem_type("not-found") and r.json()["title"] == "Not found"
    # A HEAD answers with the GET's headers, the body's length included.
    head = await client.head("/api/v1/nothing-here")
    assert head.status_code == 404 and head.content == b""
    assert head.headers["content-length"] == r.headers["content-length"]


def _valid_path(path: str, operation: dict[str, Any]) -> str:
    """The path with each parameter filled by a well-formed value of its documented type."""
    for param in operation.get("parameters", []):
        if param.get("in") == "path":
            schema = param.get("schema", {})
            value = "00000000-0000-7000-8000-000000000001" if schema.get("format") == "uuid" else (
                "1" if schema.get("type") == "integer" else "some-key")
            path = path.replace("{" + param["name"] + "}", value)
    return path


async def test_every_api_route_refuses_a_missing_or_bad_key(client: httpx.AsyncClient) -> None:
    refused: list[str] = []
    spec: dict[str, Any] = (await client.get("/schema/openapi.json")).json()
    for path, item in spec["paths"].items():
        for method_name, operation in item.items():
            if not path.startswith("/api/") or method_name not in ("get", "post", "put", "patch", "delete"):
                continue
            method, url = method_name.upper(), _valid_path(path, operation)
            for headers in ({}, {"Authorization": "Bearer tp_forged_key"}, {"Authorization": "Basic eDp5"}):
                r = await client.request(method, url, headers=headers, json={})
                if r.status_code != 401 or not r.headers["content-type"].startswith(
                    "application/problem+json"
                ):
                    refused.append(f"{method} {url} {headers}: {r.status_code}")
    assert not refused, "\n".join(refused)


async def test_security_headers_on_every_answer_even_unknown_paths(client: httpx.AsyncClient) -> None:
    for path in ("/nowhere", "/s/unknown-token", "/healthz", "/schema/openapi.json", "/reports/owners/1"):
        r = await client.get(path)
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp, path
        assert "script-src" not in csp, path
        assert r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors *" in (await client.get("/w/unknown")).headers["content-security-policy"]


async def test_the_api_reference_page_lists_every_operation_without_scripts(client: httpx.AsyncClient) -> None:
    r = await client.get("/docs")
    assert r.status_code == 200
    assert "<script" not in r.text
    for method, path in await _operations(client):
        assert path in r.text, f"{method} {path} missing from /docs"
    assert "/api/v1/touchpoints/{key}/invitations" in r.text
    assert "stage_id" in r.text  # the body fields of POST /api/v1/touchpoints


async def test_the_root_leads_to_the_api_reference(client: httpx.AsyncClient) -> None:
    r = await client.get("/")
    assert r.status_code in (302, 307)
    assert r.headers["location"] == "/docs"


async def test_api_bodies_that_are_not_json_get_a_415_naming_the_type(client: Any, admin: Any) -> None:
    body = b'{"name": "Ops"}'
    for headers in ({"content-type": "application/xml"}, {"content-type": "text/plain"},
                    {"content-type": "application/jsonfoo"},
                    {"content-type": "application/json", "content-encoding": "gzip"}):
        r = await client.post("/api/v1/owners", content=body, headers={**admin, **headers})
        assert r.status_code == 415, (headers, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert (headers.get("content-encoding") or headers["content-type"]) in r.json()["detail"]
        assert r.json()["type"] == problem_type("unsupported-media-type")
    for i, headers in enumerate(({"content-type": "application/json; charset=utf-8"},
                                 {"content-type": "application/merge-patch+json"}, {})):
        named = b'{"name": "Ops %d"}' % i  # owner names differ
        r = await client.post("/api/v1/owners", content=named, headers={**admin, **headers})
        assert r.status_code == 201, (headers, r.text)
    # The ingest route, lane and all, refuses the same way.
    r = await client.post("/api/v1/responses", content=b'{"touchpoint": "x", "score": 1}',
                          headers={**admin, "content-type": "text/plain"})
    assert r.status_code == 415 and r.json()["type"] == problem_type("unsupported-media-type")


async def test_ids_in_paths_are_plain_digits_or_nothing_is_found(
        app: Litestar, client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    # int() reads "0_1", "+1", " 1", "1\n" and fullwidth "１" as 1: each would open record 1.
    owner = (await client.post("/api/v1/owners", json={"name": "Ops"}, headers=admin)).json()["id"]
    journey = (await client.post("/api/v1/journeys", json={"name": "Shop"}, headers=admin)).json()["id"]

    def variants(n: int) -> list[str]:
        fullwidth = "".join(chr(0xFF10 + int(d)) for d in str(n))
        return [f"0_{n}", f"+{n}", f" {n}", f"{n} ", f"{n}\n", f"\t{n}", fullwidth, f"{n}_"]

    routes = [r for r in app.routes if isinstance(r, HTTPRoute) and ":int}" in r.path]
    assert len(routes) >= 8
    for route in routes:
        for bad_owner, bad_journey in zip(variants(owner), variants(journey), strict=True):
            path = route.path.replace("{owner_id:int}", quote(bad_owner)).replace(
                "{journey_id:int}", quote(bad_journey))
            for method in sorted(route.methods - {"OPTIONS"}):
                r = await client.request(method, path, headers=admin, json={} if method == "PATCH" else None)
                assert r.status_code == 404, (method, path, r.status_code, r.text[:200])
                wanted = "text/html" if path.startswith("/reports/") else "application/problem+json"
                assert r.headers["content-type"].startswith(wanted), (method, path)
    # Nothing was changed or removed, and the plain ids still open their records.
    assert (await client.get(f"/api/v1/owners/{owner}", headers=admin)).json()["name"] == "Ops"
    assert (await client.get(f"/api/v1/journeys/{journey}", headers=admin)).status_code == 200
    assert (await client.get(f"/reports/journeys/{journey}", headers=admin)).status_code == 200


def _template(path: str) -> str:
    """A route's path as the OpenAPI document writes it: `{key}` for `{key:str}`."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


async def test_text_in_a_path_is_checked_before_the_database_and_named(
        app: Litestar, client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    # A NUL in a touchpoint key reached PostgreSQL, and the 422 said "A value was refused by the
    # database: invalid byte sequence ..." without naming `key`. Every route with a text
    # parameter in its path: the API names it and what is wrong; a page that a person opens
    # answers as for an unknown link or widget (a key too long for any touchpoint was a 422).
    spec: dict[str, Any] = (await client.get("/schema/openapi.json")).json()
    unknown = {"/s/": (await client.get("/s/" + "A" * 43)).text, "/w/": (await client.get("/w/no-such")).text}
    walked: set[str] = set()
    for route in app.routes:
        texts = [p for p in route.path_parameters.values() if p.type in (str, Path)]
        if not isinstance(route, HTTPRoute) or not texts or route.path.startswith("/schema"):
            continue
        (param,) = texts
        path = _template(route.path)
        walked.add(path)
        page = next((prefix for prefix in unknown if path.startswith(prefix)), None)
        for method in sorted(route.methods - {"OPTIONS"}):
            documented = {p["name"]: p["schema"] for p in
                          spec["paths"].get(path, {}).get("get" if method == "HEAD" else method.lower(),
                                                          {}).get("parameters", [])
                          if p["in"] == "path"}
            longest = 64 if page is not None else documented[param.name]["maxLength"]
            # A touchpoint key with characters no key can hold (the touchpoints table refuses
            # them too) was looked up, and the API said 404 as for a key that might exist.
            odd = ("Delivery", "two words", "-edge", "caf\u00e9", "a_b") if param.name == "key" else ()
            for value in ("a\x00b", "x" * (longest + 1), "x" * 5000, *odd):
                url = path.replace("{" + param.name + "}", quote(value, safe=""))
                body: dict[str, Any] = (
                    {"data": {"score": "5"}} if page is not None and method == "POST" else
                    {"json": {"customer": "crm-1"}} if method in ("POST", "PATCH") else {})
                r = await client.request(method, url, headers=admin, **body)
                said = (method, path, value[:8], r.status_code, r.text[:300])
                assert "database" not in r.text, said
                if page is not None:
                    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), said
                    if method != "HEAD":
                        assert r.text == unknown[page], said
                    continue
                assert r.status_code == 422, said
                if method == "HEAD":
                    continue
                problem = r.json()
                assert problem["type"] == problem_type("invalid-input"), said
                named = {e["field"]: e["message"] for e in problem["errors"]}
                assert param.name in named, said
                wanted = "NUL" if "\x00" in value else "lowercase letters" if value in odd else str(longest)
                assert wanted in named[param.name], said
    assert walked >= {"/api/v1/touchpoints/{key}", "/api/v1/touchpoints/{key}/invitations",
                      "/api/v1/touchpoints/{key}/report", "/api/v1/customers/{customer}",
                      "/s/{token}", "/w/{key}"}, walked


async def test_a_bad_path_parameter_beside_a_body_is_named_with_the_bodys_faults(
        client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    # With a body to read, the 422 spoke of the body only: "body: does not match the expected
    # shape" for a good one, and not a word of the key too long beside a bad one.
    long_key = "k" * 65
    r = await client.post(f"/api/v1/touchpoints/{long_key}/invitations", json={"customer": "crm-1"}, headers=admin)
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "key", "message": "must be at most 64 characters"}]
    r = await client.patch(f"/api/v1/touchpoints/{long_key}", json={"name": 5}, headers=admin)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["name", "key"]
    # A body alone at fault is told as before.
    r = await client.patch("/api/v1/touchpoints/delivery", json={"name": 5}, headers=admin)
    assert r.status_code == 422 and r.json()["detail"] == "Invalid fields: name: must be text, not a whole number"


async def test_a_nul_character_in_a_body_is_refused_naming_its_field(
        client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    # PostgreSQL text cannot hold NUL; the answer says which field holds one.
    owner = (await client.post("/api/v1/owners", json={"name": "Ops"}, headers=admin)).json()["id"]
    journey = (await client.post("/api/v1/journeys", json={"name": "Shop"}, headers=admin)).json()
    stage = journey["stages"][0]["id"]
    r = await client.post("/api/v1/touchpoints", headers=admin, json={
        "key": "delivery", "name": "Delivery", "stage_id": stage, "channel": "web", "owner_id": owner,
        "kind": "csat"})
    assert r.status_code == 201, r.text
    tp = {"key": "zz", "name": "Z", "stage_id": stage, "channel": "web", "owner_id": owner, "kind": "csat"}
    nul = "a\x00b"
    attempts: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", "/api/v1/responses", {"touchpoint": "delivery", "score": 3, "comment": nul}, "comment"),
        ("POST", "/api/v1/responses", {"touchpoint": "delivery", "score": 3, "customer": nul}, "customer"),
        ("POST", "/api/v1/responses", {"touchpoint": "delivery", "score": 3, "context": {"k": nul}},
         "context"),
        ("POST", "/api/v1/responses", {"touchpoint": "delivery", "score": 3, "context": {nul: 1}},
         "context"),
        ("POST", "/api/v1/touchpoints/delivery/invitations", {"customer": nul}, "customer"),
        ("POST", "/api/v1/touchpoints/delivery/invitations", {"customer": "c", "event_id": nul},
         "event_id"),
        ("POST", "/api/v1/touchpoints/delivery/invitations", {"customer": "c", "context": {"k": nul}},
         "context"),
        ("POST", "/api/v1/owners", {"name": nul}, "name"),
        ("POST", "/api/v1/owners", {"name": "Ops", "email": "a\x00@b.example"}, "email"),
        ("PATCH", f"/api/v1/owners/{owner}", {"name": nul}, "name"),
        ("POST", "/api/v1/journeys", {"name": nul}, "name"),
        ("POST", "/api/v1/journeys", {"name": "J", "description": nul}, "description"),
        ("POST", "/api/v1/journeys", {"name": "J", "stages": ["A", nul]}, "stages[1]"),
        ("PATCH", f"/api/v1/journeys/{journey['id']}", {"description": nul}, "description"),
        ("PATCH", f"/api/v1/journeys/{journey['id']}", {"stages": [{"name": nul}]}, "stages[0].name"),
        ("POST", "/api/v1/touchpoints", {**tp, "name": nul}, "name"),
        ("POST", "/api/v1/touchpoints", {**tp, "questions": {"en": nul}}, "questions.en"),
        ("PATCH", "/api/v1/touchpoints/delivery", {"name": nul}, "name"),
        ("PATCH", "/api/v1/touchpoints/delivery", {"questions": {"ru": nul}}, "questions.ru"),
    ]
    for method, path, body, field in attempts:
        r = await client.request(method, path, json=body, headers=admin)
        assert r.status_code == 422, (method, path, body, r.status_code, r.text[:300])
        problem = r.json()
        assert f"{field}: may not contain the NUL character" in problem["detail"], (path, body, problem)
        assert {"field": field, "message": "may not contain the NUL character"} in problem["errors"], (
            path, body, problem)
    r = await client.post("/api/v1/invitations:batch", headers=admin,
                          json={"items": [{"touchpoint": "delivery", "customer": nul}]})
    assert r.json()["results"][0]["problem"]["errors"] == [
        {"field": "customer", "message": "may not contain the NUL character"}]


async def _delivery(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """A CSAT touchpoint `delivery` on the web, with an owner and a journey of its own."""
    owner = (await client.post("/api/v1/owners", json={"name": "Ops"}, headers=admin)).json()["id"]
    stage = (await client.post("/api/v1/journeys", json={"name": "Shop"}, headers=admin)).json()["stages"][0]["id"]
    r = await client.post("/api/v1/touchpoints", headers=admin, json={
        "key": "delivery", "name": "Delivery", "stage_id": stage, "channel": "web", "owner_id": owner,
        "kind": "csat"})
    assert r.status_code == 201, r.text


async def test_a_context_that_writes_out_a_backslash_u0000_is_stored_as_sent(
        client: httpx.AsyncClient, admin: dict[str, str], conn: Connection) -> None:
    # Only a real NUL is refused: the six characters \u0000 are ordinary text.
    await _delivery(client, admin)
    context = {"note": "JSON writes NUL as \\u0000", "\\u0000": "\\\\u0000"}
    r = await client.post("/api/v1/responses", headers=admin,
                          json={"touchpoint": "delivery", "score": 4, "context": context})
    assert r.status_code == 201, r.text
    assert r.json()["context"] == context
    stored = await conn.fetchval("SELECT context FROM responses WHERE id = $1", UUID(r.json()["id"]))
    assert stored == context
    r = await client.post("/api/v1/touchpoints/delivery/invitations", headers=admin,
                          json={"customer": "c-1", "context": context})
    assert r.status_code in (200, 201), r.text


async def test_a_body_that_cannot_be_read_is_a_bad_request(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    for body in (b'{"name": ', b'{"name": "\xff\xfe"}', b"[" * 5000 + b"]" * 5000):
        for path in ("/api/v1/owners", "/api/v1/responses"):  # the ingest lane answers alike
            r = await client.post(path, content=body, headers={**admin, "content-type": "application/json"})
            assert r.status_code == 400, (path, body[:20], r.text)
            assert r.json()["type"] == problem_type("bad-request"), (path, body[:20], r.text)


async def test_a_number_out_of_range_is_a_bad_request_naming_its_field(
        client: httpx.AsyncClient, admin: dict[str, str], conn: Connection) -> None:
    # Valid JSON that no float holds (1e400): msgspec's own path elides keys (`$[...][...]`).
    await _delivery(client, admin)
    attempts = [
        ("/api/v1/touchpoints/delivery/invitations", b'{"customer": "c", "context": {"x": 1e400}}',
         ["context.x"]),
        # Outside the items, a batch's body cannot be read as a whole: nothing in it is decided.
        ("/api/v1/invitations:batch", b'{"items": [{"touchpoint": "delivery", "customer": "c"}], "x": 1e400}',
         ["x"]),
        ("/api/v1/responses", b'{"touchpoint": "delivery", "score": 4, "context": {"x": 1e400}}', ["context.x"]),
        ("/api/v1/responses", b'{"touchpoint": "delivery", "score": 1e999}', ["score"]),
    ]
    for path, body, fields in attempts:
        r = await client.post(path, content=body, headers={**admin, "content-type": "application/json"})
        assert r.status_code == 400, (path, r.text)
        problem = r.json()
        assert problem["type"] == problem_type("bad-request"), (path, problem)
        assert [e["field"] for e in problem["errors"]] == fields, (path, problem)
        assert "out of range" in problem["errors"][0]["message"] and fields[0] in problem["detail"], problem
    assert await conn.fetchval("SELECT count(*) FROM invitations") == 0
    assert await conn.fetchval("SELECT count(*) FROM responses") == 0


async def test_a_batch_item_that_cannot_be_read_gets_its_own_problem_and_sinks_nothing(
        client: httpx.AsyncClient, admin: dict[str, str], conn: Connection) -> None:
    # One item's 1e400 failed the whole batch with a 400: the good items were not decided. Each
    # item now gets the answer it would have had on its own, and the others go ahead.
    await _delivery(client, admin)
    body = (b'{"items": [{"touchpoint": "delivery", "customer": "a"}, '
            b'{"touchpoint": "delivery", "customer": "b", "context": {"x": -1e400, "y": 2e308}}, '
            b'{"touchpoint": "delivery", "customer": "c", "context": {"n": 1e308}}, '
            b'{"touchpoint": "delivery", "customer": 1e999}, '
            b'{"touchpoint": "delivery", "customer": "d", "locale": "de"}]}')
    r = await client.post("/api/v1/invitations:batch", content=body,
                          headers={**admin, "content-type": "application/json"})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == [201, 400, 201, 400, 422], results
    out_of_range = "is a number out of range (beyond ±1.8e308)"
    assert results[1]["problem"] == {
        "type": problem_type("bad-request"), "title": "Bad request",
        "detail": "A number in this item is out of range: context.x, context.y",
        "errors": [{"field": "context.x", "message": out_of_range},
                   {"field": "context.y", "message": out_of_range}]}, results[1]
    assert results[3]["problem"]["errors"] == [{"field": "customer", "message": out_of_range}]
    assert results[4]["problem"]["type"] == problem_type("invalid-input")
    r = await client.post("/api/v1/invitations/batch", content=b'{"items": [{"touchpoint": "delivery", '
                          b'"customer": "z", "context": {"x": 1e400}}]}',
                          headers={**admin, "content-type": "application/json"})
    assert r.json()["results"][0]["problem"]["errors"][0]["field"] == "context.x", r.text  # the twin alike
    # What the answer acknowledged is committed before it leaves; nothing of the bad items is.
    stored = await conn.fetch("SELECT customer_ref, context FROM invitations ORDER BY customer_ref")
    assert [row["customer_ref"] for row in stored] == ["a", "c"]
    assert stored[0]["context"] == {} and float(stored[1]["context"]["n"]) == 1e308  # in range: kept
    # A body that cannot be read at all stays one 400, nothing in it decided: bad JSON, a text
    # that is not UTF-8 in any item, or one nested too deeply.
    for unreadable in (body[:-3], body.replace(b'"d"', b'"\xff"'),
                       b'{"items": [{"touchpoint": "delivery", "customer": "e"}, ' + b"[" * 5000 + b"]" * 5000 + b"]}"):
        r = await client.post("/api/v1/invitations:batch", content=unreadable,
                              headers={**admin, "content-type": "application/json"})
        assert r.status_code == 400 and r.json()["type"] == problem_type("bad-request"), r.text[:300]
    assert await conn.fetchval("SELECT count(*) FROM invitations") == 2


async def test_failures_outside_the_handlers_name_their_type(app: Litestar) -> None:
    scope: Any = {
        "type": "http", "app": app, "litestar_app": app, "method": "GET", "path": "/api/v1/scores", "raw_path": b"/api/v1/scores",
        "query_string": b"", "headers": [], "scheme": "http", "server": ("testserver.local", 80),
        "root_path": ""}
    request: Request[Any, Any, Any] = Request(scope)
    cases: list[tuple[Exception, int, str]] = [
        (ConnectionError("refused"), 503, problem_type("service-unavailable")),
        (RuntimeError("a bug"), 500, problem_type("internal-error")),
        (asyncpg.DataError("invalid byte sequence"), 422, problem_type("invalid-input")),
        (HTTPException(status_code=405), 405, problem_type("method-not-allowed")),
        # A status no type names means no more than itself (RFC 9457 §4.2.1).
        (HTTPException(status_code=418), 418, "about:blank"),
    ]
    for exc, status, kind in cases:
        handler = next(EXCEPTION_HANDLERS[c] for c in type(exc).__mro__ if c in EXCEPTION_HANDLERS)
        response = handler(request, exc)
        problem = msgspec.json.decode(response.content)
        assert (response.status_code, problem["type"], problem["status"]) == (status, kind, status), exc


# One bad value of each kind our types and parameters constrain: what msgspec says of it
# ("Expected `str` of length <= 64", a regex) must reach no answer; each names its field.
_TOO_BIG = 2**63  # one past PostgreSQL's bigint
_PLAIN_BODIES: list[tuple[str, str, Any, str, str]] = [
    # (method, path, body, field, words the message holds)
    ("POST", "/api/v1/owners", {"name": ""}, "name", "may not be empty"),
    ("POST", "/api/v1/owners", {"name": "n" * 201}, "name", "at most 200 characters"),
    ("POST", "/api/v1/owners", {"name": "a\x01b"}, "name", "control characters"),
    ("POST", "/api/v1/owners", {"name": 12}, "name", "must be text, not a whole number"),
    ("POST", "/api/v1/owners", {"name": "Ops", "email": "nope"}, "email", "an email address"),
    ("POST", "/api/v1/owners", {"name": "Ops", "email": "a@b." + "c" * 320}, "email", "at most 320 characters"),
    ("POST", "/api/v1/owners", {"name": "Ops", "extra": 1}, "extra", "unknown field"),
    ("POST", "/api/v1/owners", {}, "name", "is required"),
    ("POST", "/api/v1/journeys", {"name": "J", "description": "a\x01b"}, "description", "control characters"),
    ("POST", "/api/v1/journeys", {"name": "J", "stages": []}, "stages", "may not be empty"),
    ("POST", "/api/v1/journeys", {"name": "J", "stages": [f"s{n}" for n in range(51)]}, "stages",
     "at most 50 items"),
    ("POST", "/api/v1/journeys", {"name": "J", "stages": ["s" * 101]}, "stages[0]", "at most 100 characters"),
    ("POST", "/api/v1/journeys", {"name": "J", "stages": [1]}, "stages[0]",
     "must be text or an object, not a whole number"),
    ("POST", "/api/v1/journeys", {"name": "J", "stages": "A"}, "stages", "must be an array or null, not text"),
    ("PATCH", "/api/v1/journeys/{journey}", {"stages": [{"name": "A", "id": 0}]}, "stages[0].id",
     "a whole number from 1 to 9223372036854775807"),
    ("PATCH", "/api/v1/journeys/{journey}", {"stages": [{"name": "A", "id": _TOO_BIG}]}, "stages[0].id",
     "a whole number from 1 to 9223372036854775807"),
    ("PATCH", "/api/v1/journeys/{journey}", {"stages": [{"id": 1}]}, "stages[0].name", "is required"),
    ("PATCH", "/api/v1/journeys/{journey}", {"stages": [{"name": "A", "x": 1}]}, "stages[0].x", "unknown field"),
    ("POST", "/api/v1/touchpoints", {"key": "Bad Key"}, "key", "lowercase letters, digits and dashes"),
    ("POST", "/api/v1/touchpoints", {"key": "k" * 65}, "key", "at most 64 characters"),
    ("POST", "/api/v1/touchpoints", {"kind": "xyz"}, "kind", "Invalid value 'xyz'; expected one of: nps, csat, ces"),
    ("POST", "/api/v1/touchpoints", {"channel": "fax"}, "channel", "Invalid value 'fax'; expected one of"),
    ("POST", "/api/v1/touchpoints", {"sample_rate": 1.5}, "sample_rate", "a number from 0 to 1"),
    ("POST", "/api/v1/touchpoints", {"sample_rate": -0.5}, "sample_rate", "a number from 0 to 1"),
    ("POST", "/api/v1/touchpoints", {"recontact_days": -1}, "recontact_days", "a whole number from 0 to 3650"),
    ("POST", "/api/v1/touchpoints", {"expiry_days": 366}, "expiry_days", "a whole number from 1 to 365"),
    ("POST", "/api/v1/touchpoints", {"recontact_days": 1.5}, "recontact_days",
     "must be a whole number from 0 to 3650, not a decimal number"),
    ("POST", "/api/v1/touchpoints", {"stage_id": 0}, "stage_id", "a whole number from 1 to 9223372036854775807"),
    ("POST", "/api/v1/touchpoints", {"owner_id": _TOO_BIG}, "owner_id", "from 1 to 9223372036854775807"),
    ("POST", "/api/v1/touchpoints", {"owner_id": 2**70}, "owner_id", "from 1 to 9223372036854775807"),
    ("POST", "/api/v1/touchpoints", {"questions": {"fr": "?"}}, "questions", "Invalid key 'fr'"),
    ("POST", "/api/v1/touchpoints", {"questions": {"en": ""}}, "questions.en", "may not be empty"),
    ("POST", "/api/v1/touchpoints", {"questions": {"en": "q" * 501}}, "questions.en", "at most 500 characters"),
    ("POST", "/api/v1/touchpoints", {"questions": ["en"]}, "questions", "must be an object, not an array"),
    ("POST", "/api/v1/touchpoints", {"target": "high"}, "target", "must be a number or null, not text"),
    ("POST", "/api/v1/touchpoints", {"active": "yes"}, "active", "must be true or false, not text"),
    ("PATCH", "/api/v1/touchpoints/delivery", {"sample_rate": 2}, "sample_rate", "a number from 0 to 1"),
    ("POST", "/api/v1/responses", {"touchpoint": "delivery", "score": 5000}, "score",
     "a whole number from -1000 to 1000"),
    ("POST", "/api/v1/responses", {"touchpoint": "Delivery!", "score": 4}, "touchpoint",
     "lowercase letters, digits and dashes"),
    ("POST", "/api/v1/responses", {"touchpoint": "delivery", "score": 4, "comment": "c" * 2001}, "comment",
     "at most 2000 characters"),
    ("POST", "/api/v1/responses", {"touchpoint": "delivery", "score": 4, "customer": ""}, "customer",
     "may not be empty"),
    ("POST", "/api/v1/responses", {"touchpoint": "delivery", "score": 4, "context": {"k": [1]}}, "context.k",
     "must be text, a number, true, false or null, not an array"),
    ("POST", "/api/v1/responses", {"touchpoint": "delivery", "score": 4, "context": {"k" * 101: 1}}, "context",
     "each key must be at most 100 characters"),
    ("POST", "/api/v1/responses", {"touchpoint": "delivery", "score": 4, "context": {"": 1}}, "context",
     "each key may not be empty"),
    ("POST", "/api/v1/responses", {"touchpoint": "delivery", "score": 4, "occurred_at": "2026-01-01T10:00:00"},
     "occurred_at", "time zone"),
    ("POST", "/api/v1/responses", {"touchpoint": "delivery", "score": 4, "occurred_at": "yesterday"},
     "occurred_at", "a date and time"),
    ("POST", "/api/v1/responses", {"touchpoint": "delivery", "score": 4, "locale": "fr"}, "locale",
     "Invalid value 'fr'; expected one of: en, ru"),
    ("POST", "/api/v1/touchpoints/delivery/invitations", {"customer": "c" * 201}, "customer",
     "at most 200 characters"),
    ("POST", "/api/v1/touchpoints/delivery/invitations", {"customer": "c", "event_id": ""}, "event_id",
     "may not be empty"),
    ("POST", "/api/v1/touchpoints/delivery/invitations", {"customer": "c", "context": "x"}, "context",
     "must be an object, not text"),
    ("POST", "/api/v1/invitations:batch", {"items": []}, "items", "may not be empty"),
    ("POST", "/api/v1/invitations:batch", {"items": [{}] * 1001}, "items", "at most 1000 items"),
    ("POST", "/api/v1/invitations:batch", {"items": {}}, "items", "must be an array, not an object"),
]
_PLAIN_PARAMETERS: list[tuple[str, str, str, str]] = [
    # (path with its query, the parameter, words the message holds)
    ("GET", "/api/v1/owners?limit=0", "limit", "a whole number from 1 to 500"),
    ("GET", "/api/v1/owners?limit=501", "limit", "a whole number from 1 to 500"),
    ("GET", "/api/v1/owners?limit=abc", "limit", "must be a whole number"),
    ("GET", "/api/v1/owners?cursor=" + "c" * 501, "cursor", "at most 500 characters"),
    ("GET", "/api/v1/touchpoints?stage=0", "stage", "a whole number from 1 to 9223372036854775807"),
    ("GET", f"/api/v1/touchpoints?journey={_TOO_BIG}", "journey", "from 1 to 9223372036854775807"),
    ("GET", "/api/v1/touchpoints?owner=x", "owner", "must be a whole number"),
    ("GET", "/api/v1/touchpoints?channel=fax", "channel", "Invalid value 'fax'; expected one of"),
    ("GET", "/api/v1/touchpoints?active=maybe", "active", "true or false"),
    ("GET", "/api/v1/responses?touchpoint=" + "t" * 65, "touchpoint", "at most 64 characters"),
    ("GET", "/api/v1/responses?customer=", "customer", "may not be empty"),
    ("GET", "/api/v1/responses?has_comment=2", "has_comment", "true or false"),
    ("GET", "/api/v1/responses?band=top", "band", "Invalid value 'top'; expected one of: low, middle, high"),
    ("GET", "/api/v1/scores?bucket=year", "bucket", "Invalid value 'year'; expected one of"),
    ("GET", "/api/v1/owners/{owner}/share-link?days=0", "days", "a whole number from 1 to 365"),
    ("GET", "/api/v1/owners/{owner}/share-link?days=366", "days", "a whole number from 1 to 365"),
    ("GET", f"/api/v1/owners/{_TOO_BIG}", "owner_id", "a whole number from 1 to 9223372036854775807"),
    ("GET", f"/api/v1/journeys/{_TOO_BIG}/share-link", "journey_id", "from 1 to 9223372036854775807"),
    ("GET", "/api/v1/touchpoints/" + "k" * 65, "key", "at most 64 characters"),
    ("GET", "/api/v1/touchpoints/Delivery", "key", "lowercase letters, digits and dashes"),
    ("POST", "/api/v1/responses", "Idempotency-Key", "1–255 characters"),
]


async def test_every_kind_of_bad_value_is_told_plainly_naming_its_field(
        client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    await _delivery(client, admin)
    owner = (await client.get("/api/v1/owners", headers=admin)).json()["items"][0]["id"]
    journey = (await client.get("/api/v1/journeys", headers=admin)).json()["items"][0]["id"]
    stage = (await client.get(f"/api/v1/journeys/{journey}", headers=admin)).json()["stages"][0]["id"]
    fill = {"{owner}": str(owner), "{journey}": str(journey)}
    # A new touchpoint's other fields are valid: the one at fault is the only one named.
    whole = {"key": "zz", "name": "Z", "stage_id": stage, "channel": "web", "owner_id": owner, "kind": "csat"}
    told: list[tuple[str, httpx.Response, str, str]] = []
    for method, path, body, field, words in _PLAIN_BODIES:
        for name, value in fill.items():
            path = path.replace(name, value)
        if (method, path) == ("POST", "/api/v1/touchpoints"):
            body = {**whole, **body}
        told.append((f"{method} {path} {str(body)[:60]}", await client.request(
            method, path, headers=admin, json=body), field, words))
    for method, path, field, words in _PLAIN_PARAMETERS:
        for name, value in fill.items():
            path = path.replace(name, value)
        extra = {"Idempotency-Key": ""} if field == "Idempotency-Key" else {}
        told.append((f"{method} {path[:80]}", await client.request(
            method, path, headers={**admin, **extra},
            json={"touchpoint": "delivery", "score": 4} if method == "POST" else None), field, words))
    leaks: list[str] = []
    for said, r, field, words in told:
        if r.status_code not in (400, 422) or not r.headers["content-type"].startswith("application/problem+json"):
            leaks.append(f"{said}: {r.status_code} {r.text[:200]}")
            continue
        problem = r.json()
        messages = {e["field"]: e["message"] for e in problem["errors"]}
        if field not in messages or words not in messages[field] or f"{field}: " not in problem["detail"]:
            leaks.append(f"{said}: wanted {field}: …{words}…, got {problem['detail']!r}")
        if "Expected `" in r.text or "regex" in r.text or "^[" in r.text or "`" in problem["detail"]:
            leaks.append(f"{said}: msgspec's words: {problem['detail']!r}")
    assert not leaks, "\n".join(leaks)
    # A batch item is told in the same words.
    r = await client.post("/api/v1/invitations:batch", headers=admin, json={"items": [
        {"touchpoint": "delivery", "customer": "c" * 201}, {"touchpoint": "Delivery", "customer": "c"}]})
    problems = [result["problem"] for result in r.json()["results"]]
    assert problems[0]["errors"] == [{"field": "customer", "message": "must be at most 200 characters"}], problems
    assert problems[1]["errors"][0]["field"] == "touchpoint" and "lowercase" in problems[1]["errors"][0]["message"]
    assert "`" not in r.text and "regex" not in r.text, r.text



# What a JSON number or boolean is sent as in text: values the framework's lenient conversion took.
_AS_TEXT = {"integer": "1", "number": "0.5", "boolean": "true"}


def _typed_fields(spec: dict[str, Any], schema: dict[str, Any]) -> list[tuple[str, Any]]:
    """Every place in a documented body that holds a number or a boolean and never text: where,
    as an error names it after the field (`.stages[0].id`), and a value holding text there."""
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    variants = [spec["components"]["schemas"][v["$ref"].rsplit("/", 1)[1]] if "$ref" in v else v
                for v in schema.get("oneOf", [schema])]
    types = {v.get("type") for v in variants}
    found: list[tuple[str, Any]] = [("", _AS_TEXT[t]) for t in types & set(_AS_TEXT) if "string" not in types]
    for variant in variants:
        properties: dict[str, Any] = variant.get("properties", {})
        # A nested object's required text is given, so that the field at fault is the one named.
        given = {n: "A" for n in variant.get("required", []) if properties[n].get("type") == "string"}
        for name, field in properties.items():
            found += [(f".{name}{inner}", {**given, name: value}) for inner, value in _typed_fields(spec, field)]
        if "items" in variant:
            found += [(f"[0]{inner}", [value]) for inner, value in _typed_fields(spec, variant["items"])]
    return found


async def test_a_number_or_boolean_sent_as_text_is_refused_on_every_json_body(
        client: httpx.AsyncClient, admin: dict[str, str], conn: Connection) -> None:
    # The framework converts a body leniently: `"target": "85"` and `"sample_rate": "0.5"` were
    # stored as numbers, `"active": "true"` as true. JSON has numbers and booleans of its own,
    # and a client sending text for them has a bug it should hear of: a 422 naming the field.
    await _delivery(client, admin)
    owner = (await client.get("/api/v1/owners", headers=admin)).json()["items"][0]["id"]
    journey = (await client.get("/api/v1/journeys", headers=admin)).json()["items"][0]["id"]
    fill = {"{owner_id}": str(owner), "{journey_id}": str(journey), "{key}": "delivery"}
    spec: dict[str, Any] = (await client.get("/schema/openapi.json")).json()
    before = await conn.fetch("SELECT * FROM touchpoints ORDER BY id")
    tried: set[str] = set()
    wrong: list[str] = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if schema is None:
                continue
            url = path
            for name, value in fill.items():
                url = url.replace(name, value)
            for where, body in _typed_fields(spec, schema):
                field = where.removeprefix(".")
                tried.add(f"{method.upper()} {path} {field}")
                r = await client.request(method, url, headers=admin, json=body)
                said = f"{method.upper()} {path} {body}: {r.status_code} {r.text[:300]}"
                named = {e["field"]: e["message"] for e in r.json().get("errors", [])} if r.content else {}
                if r.status_code != 422 or not named.get(field, "").endswith(", not text"):
                    wrong.append(said)
    assert not wrong, "\n".join(wrong)
    # The walk reached the fields clients send most, nested ones too.
    assert {"POST /api/v1/touchpoints target", "POST /api/v1/touchpoints sample_rate",
            "POST /api/v1/touchpoints active", "PATCH /api/v1/touchpoints/{key} recontact_days",
            "POST /api/v1/responses score",
            "POST /api/v1/journeys stages[0].id", "PATCH /api/v1/journeys/{journey_id} stages[0].id"} <= tried, tried
    assert await conn.fetch("SELECT * FROM touchpoints ORDER BY id") == before
    # In the words every other miss of the field is told in: its rule whole.
    r = await client.post("/api/v1/touchpoints", headers=admin, json={"sample_rate": "0.5"})
    assert {"field": "sample_rate", "message": "must be a number from 0 to 1, not text"} in r.json()["errors"]
