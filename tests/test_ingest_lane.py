"""The ingest fast lane: what it serves itself, what it passes to the framework, and that
both answer alike (same bytes stored, same headers, same problem details)."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from litestar import Litestar

from feedback.collection.lane import ingest_lane
from feedback.service.database import Connection
from feedback.service.dependencies import authenticate
from tests.conftest import MakeKey, bearer
from tests.test_collection_support import Client, Headers, touchpoint, world

PATH = "/api/v1/responses"


class Exchange:
    """One request through the lane alone, the framework's handler replaced by a recorder."""

    def __init__(self, app: Litestar) -> None:
        self.app = app
        self.passed_on: list[bytes] = []  # bodies the lane handed to the framework
        self.sent: list[dict[str, Any]] = []

    async def framework(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.passed_on.append(body)

    async def __call__(self, body: bytes, headers: dict[str, str], method: str = "POST",
                       chunks: list[bytes] | None = None, disconnect: bool = False,
                       repeated: list[tuple[str, str]] | None = None) -> None:
        raw = [(k.lower().encode(), v.encode()) for k, v in [*(repeated or []), *headers.items()]]
        scope: Any = {"type": "http", "method": method, "path": PATH, "raw_path": PATH.encode(),
                      "query_string": b"", "root_path": "", "scheme": "http", "http_version": "1.1",
                      "headers": raw, "server": ("testserver.local", 80), "client": ("127.0.0.1", 5000),
                      "app": self.app, "litestar_app": self.app, "state": {}, "path_params": {}}
        parts = chunks if chunks is not None else [body]
        messages: list[dict[str, Any]] = [
            {"type": "http.request", "body": p, "more_body": i < len(parts) - 1} for i, p in enumerate(parts)]
        if disconnect:
            messages = [{"type": "http.disconnect"}]

        async def receive() -> Any:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: Any) -> None:
            self.sent.append(message)

        await ingest_lane(self.framework)(scope, receive, send)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def json(self) -> Any:
        return json.loads(b"".join(m.get("body", b"") for m in self.sent[1:]))


def _json_headers(key: str, body: bytes, **extra: str) -> dict[str, str]:
    return {**bearer(key), "content-type": "application/json", "content-length": str(len(body)), **extra}


@pytest.fixture
async def ingest(client: Client, admin: Headers, make_key: MakeKey) -> str:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "checkout", kind="ces")
    return await make_key("ingest")


async def test_the_lane_serves_an_ordinary_answer_itself(app: Litestar, ingest: str, conn: Connection) -> None:
    body = json.dumps({"touchpoint": "checkout", "score": 6, "comment": "Quick and easy"}).encode()
    exchange = Exchange(app)
    await exchange(body, _json_headers(ingest, body, **{"idempotency-key": "k-1"}))
    assert exchange.passed_on == [] and exchange.status == 201
    stored = exchange.json
    assert stored["score"] == 6 and stored["sentiment"]["label"] == "positive"
    assert await conn.fetchval("SELECT comment FROM responses WHERE id = $1::uuid", stored["id"]) == "Quick and easy"
    # A body in several chunks is the same answer; the key replays the first one's bytes.
    again = Exchange(app)
    await again(body, _json_headers(ingest, body, **{"idempotency-key": "k-1"}), chunks=[body[:10], body[10:]])
    assert again.passed_on == [] and again.json == stored
    assert await conn.fetchval("SELECT count(*) FROM responses") == 1


@pytest.mark.parametrize("case", ["coerced", "wrong type", "not json", "empty"])
async def test_bodies_the_strict_decoder_refuses_go_to_the_framework_unchanged(
        app: Litestar, ingest: str, conn: Connection, case: str) -> None:
    body = {"coerced": b'{"touchpoint": "checkout", "score": "6"}',
            "wrong type": b'{"touchpoint": "checkout", "score": [6]}',
            "not json": b'{"touchpoint": "checkout", ',
            "empty": b"{}"}[case]
    exchange = Exchange(app)
    await exchange(body, _json_headers(ingest, body))
    assert exchange.passed_on == [body] and exchange.sent == []
    assert await conn.fetchval("SELECT count(*) FROM responses") == 0


@pytest.mark.parametrize("case", ["form", "chunked", "too large", "get"])
async def test_unusual_requests_go_to_the_framework_unread(app: Litestar, ingest: str, case: str) -> None:
    body = json.dumps({"touchpoint": "checkout", "score": 6}).encode()
    headers = _json_headers(ingest, body)
    method = "POST"
    if case == "form":
        headers["content-type"] = "application/x-www-form-urlencoded"
    elif case == "chunked":
        del headers["content-length"]
    elif case == "too large":
        headers["content-length"] = str(3 * 1024 * 1024)
    else:
        method = "GET"
    exchange = Exchange(app)
    await exchange(body, headers, method=method)
    assert exchange.passed_on == [body] and exchange.sent == []


async def test_the_lane_answers_errors_through_the_error_map(app: Litestar, ingest: str, make_key: MakeKey,
                                                            conn: Connection) -> None:
    body = json.dumps({"touchpoint": "checkout", "score": 6}).encode()
    owner = await conn.fetchval("SELECT min(id) FROM owners")
    for headers, status in [({"content-length": str(len(body))}, 401),
                            (_json_headers("tp_" + "x" * 40, body), 401),
                            (_json_headers(await make_key("owner", owner), body), 403)]:
        exchange = Exchange(app)
        await exchange(body, headers)
        assert exchange.status == status and exchange.passed_on == []
        assert (b"content-type", b"application/problem+json") in exchange.sent[0]["headers"]
    bad = json.dumps({"touchpoint": "checkout", "score": 9}).encode()
    exchange = Exchange(app)
    await exchange(bad, _json_headers(ingest, bad))
    assert exchange.status == 422 and exchange.json["errors"][0]["field"] == "score"
    assert exchange.json["instance"] == PATH
    assert await conn.fetchval("SELECT count(*) FROM responses") == 0


async def test_a_client_gone_before_its_body_gets_nothing_stored(app: Litestar, ingest: str,
                                                                 conn: Connection) -> None:
    body = json.dumps({"touchpoint": "checkout", "score": 6}).encode()
    exchange = Exchange(app)
    await exchange(body, _json_headers(ingest, body), disconnect=True)
    assert exchange.sent == [] and exchange.passed_on == []
    assert await conn.fetchval("SELECT count(*) FROM responses") == 0


async def test_lane_and_framework_answers_look_alike_over_http(client: Client, ingest: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # The framework's handler checks the key in its before-request hook; the lane does not call it.
    hooks: list[str] = []
    checked = authenticate

    async def counted(request: Any, state: Any) -> Any:
        hooks.append(request.url.path)
        return await checked(request, state)

    monkeypatch.setattr("feedback.collection.controllers.authenticate", counted)
    headers = bearer(ingest)
    lane = await client.post(PATH, headers=headers, json={"touchpoint": "checkout", "score": 6})
    assert hooks == []  # the lane is on the route
    framework = await client.post(PATH, headers=headers, content=b'{"touchpoint": "checkout", "score": "6"}')
    assert hooks == [PATH]
    for r in (lane, framework):
        assert r.headers["x-request-id"] and "script-src" not in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
    assert lane.status_code == 201 and lane.headers["content-type"] == "application/json"
    # The framework's handler takes the strict decoder's types too: "6" is no number.
    assert framework.status_code == 422 and framework.json()["errors"][0]["field"] == "score"
    assert framework.headers["content-type"] == "application/problem+json"
    refused = await client.post(PATH, headers=headers, json={"touchpoint": "nope", "score": 6})
    assert refused.status_code == 422 and refused.headers["x-request-id"]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["content-security-policy"]


async def test_a_repeated_header_counts_by_its_first_value_even_empty(app: Litestar, ingest: str,
                                                                     conn: Connection) -> None:
    body = json.dumps({"touchpoint": "checkout", "score": 6}).encode()
    headers = _json_headers(ingest, body)
    del headers["Authorization"]
    exchange = Exchange(app)
    await exchange(body, headers, repeated=[("authorization", ""), ("authorization", f"Bearer {ingest}")])
    assert exchange.status == 401 and exchange.passed_on == []
    exchange = Exchange(app)
    await exchange(body, _json_headers(ingest, body), repeated=[("idempotency-key", ""), ("idempotency-key", "abc")])
    assert exchange.status == 422 and exchange.json["errors"][0]["field"] == "Idempotency-Key"
    assert await conn.fetchval("SELECT count(*) FROM responses") == 0


async def test_a_body_running_past_its_content_length_goes_to_the_framework(app: Litestar, ingest: str,
                                                                            conn: Connection) -> None:
    body = json.dumps({"touchpoint": "checkout", "score": 6}).encode()
    # A server that passes a chunked body through under a Content-Length: the framework
    # counts what arrives and refuses it past its limit; the lane stops reading.
    exchange = Exchange(app)
    await exchange(body, _json_headers(ingest, body), chunks=[body, b" " * 100, b" " * 100])
    assert exchange.passed_on == [body + b" " * 200] and exchange.sent == []
    exchange = Exchange(app)
    await exchange(body, _json_headers(ingest, body, **{"transfer-encoding": "chunked"}))
    assert exchange.passed_on == [body] and exchange.sent == []
    assert await conn.fetchval("SELECT count(*) FROM responses") == 0


class FrameworkSpy:
    """Counts the requests that reach the framework's stack (router, app-wide middlewares)."""

    def __init__(self, app: Litestar, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[str] = []
        handler = app.asgi_handler

        async def spy(scope: Any, receive: Any, send: Any) -> None:
            self.paths.append(scope["path"])
            await handler(scope, receive, send)

        monkeypatch.setattr(app, "asgi_handler", spy)


async def test_the_front_door_serves_an_ordinary_answer_before_the_framework(
        app: Litestar, client: Client, ingest: str, conn: Connection, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    spy = FrameworkSpy(app, monkeypatch)
    caplog.set_level(logging.INFO, "touchpulse.access")
    headers = {**bearer(ingest), "Accept": "application/json", "X-Request-ID": "trace-42"}
    door = await client.post(PATH, headers=headers, json={"touchpoint": "checkout", "score": 6, "comment": "Easy"})
    assert spy.paths == [] and door.status_code == 201
    stored = door.json()
    assert door.headers["location"] == f"{PATH}/{stored['id']}" and door.headers["x-request-id"] == "trace-42"
    assert await conn.fetchval("SELECT comment FROM responses WHERE id = $1::uuid", stored["id"]) == "Easy"
    assert [r.getMessage() for r in caplog.records if r.name == "touchpulse.access"] == [f"POST {PATH} 201"]
    # The same answer through the framework's handler (a JSON type the lane leaves to it): the
    # same headers, names and values, but for the length, the new answer's URL and the request id.
    framework = await client.post(PATH, headers={**bearer(ingest), "Content-Type": "application/vnd.shop+json"},
                                  content=b'{"touchpoint": "checkout", "score": 6, "comment": "Easy"}')
    assert spy.paths == [PATH] and framework.status_code == 201

    def shown(r: httpx.Response) -> dict[str, str]:
        return {k: v for k, v in r.headers.items() if k not in {"content-length", "location", "x-request-id", "date"}}

    assert shown(door) == shown(framework) and framework.headers["x-request-id"] != "trace-42"
    # Errors keep the error map, the security headers and a request id of their own.
    refused = await client.post(PATH, headers=bearer(ingest), json={"touchpoint": "nope", "score": 6})
    assert spy.paths == [PATH] and refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["content-security-policy"] and len(refused.headers["x-request-id"]) == 32
    assert await conn.fetchval("SELECT count(*) FROM responses") == 2


@pytest.mark.parametrize(("case", "status"), [
    ("query", 422), ("accept csv", 406), ("two accepts", 406), ("gzip", 415), ("text", 415),
    ("bad host", 400), ("vendor json", 201)])
async def test_what_the_framework_checks_goes_through_the_framework(
        app: Litestar, client: Client, ingest: str, conn: Connection, monkeypatch: pytest.MonkeyPatch,
        case: str, status: int) -> None:
    spy = FrameworkSpy(app, monkeypatch)
    body = json.dumps({"touchpoint": "checkout", "score": 6}).encode()
    headers: list[tuple[str, str]] = [*bearer(ingest).items(), ("Content-Type", "application/json")]
    url = PATH + ("?touchpoint=checkout" if case == "query" else "")
    extra = {"accept csv": [("Accept", "text/csv")],
             "two accepts": [("Accept", "application/json;q=0"), ("Accept", "text/csv")],
             "gzip": [("Content-Encoding", "gzip")],
             "bad host": [("Host", "exa mple.com")]}.get(case, [])
    if case in {"text", "vendor json"}:
        headers[-1] = ("Content-Type", "text/plain" if case == "text" else "application/vnd.shop+json")
    answer = await client.post(url, headers=[*headers, *extra], content=body)
    assert answer.status_code == status and spy.paths == [PATH]
    assert await conn.fetchval("SELECT count(*) FROM responses") == (status == 201)
