"""The API reference page (/docs) and the OpenAPI document it is read from."""

from __future__ import annotations

import asyncio
import html
import os
import re
import subprocess
import sys
from http import HTTPStatus
from typing import Any

import httpx
from litestar import Litestar

from feedback.service.apidocs import inline_code, operation_anchor, schema_anchor
from feedback.service.quickstart import KEY_COMMAND, STEPS, Step, curl
from tests.conftest import ROOT, bearer

_ERROR = ("4", "5")


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:
    spec: dict[str, Any] = (await client.get("/schema/openapi.json")).json()
    return spec


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in spec["paths"].items() for method, op in item.items()
            if method in ("get", "post", "put", "patch", "delete")]


def _section(page: str, anchor: str) -> str:
    start = page.index(f'id="{anchor}"')
    return page[start:page.index("</section>", start)]


def test_descriptions_show_backticks_as_code_and_bring_no_html() -> None:
    assert inline_code("Send `Authorization: Bearer <key>` & more") == (
        "Send <code>Authorization: Bearer &lt;key&gt;</code> &amp; more")
    assert inline_code("<b>bold</b> `<script>x</script>`") == (
        "&lt;b&gt;bold&lt;/b&gt; <code>&lt;script&gt;x&lt;/script&gt;</code>")
    # A lone backtick is text, not the start of code running to the end.
    assert inline_code("a ` b") == "a ` b"


async def test_the_page_renders_markdown_code_and_no_backticks(client: httpx.AsyncClient) -> None:
    r = await client.get("/docs")
    assert r.status_code == 200
    assert "<code>Authorization: Bearer &lt;key&gt;</code>" in r.text
    # The 422's description names `errors`: shown as code, as is every description's.
    assert "<code>errors</code> names each offending field" in r.text
    assert "`" not in r.text
    assert "<script" not in r.text


async def test_each_operation_shows_the_fields_of_what_it_answers(client: httpx.AsyncClient) -> None:
    spec, page = await _document(client), (await client.get("/docs")).text
    components = spec["components"]["schemas"]
    shown = 0
    for method, path, op in _operations(spec):
        section = _section(page, operation_anchor(method, path))
        for status, response in op["responses"].items():
            if status.startswith(_ERROR):
                continue
            assert f"Answers {status} {HTTPStatus(int(status)).phrase}" in section, (method, path, status)
            schema = (response.get("content") or {}).get("application/json", {}).get("schema", {})
            if "$ref" in schema:
                name = schema["$ref"].rsplit("/", 1)[-1]
                assert f'href="#{schema_anchor(name)}"' in section, (method, path, status)
                for field in components[name].get("properties", {}):
                    assert f'<td class="mono">{field}' in section, (method, path, status, field)
                shown += 1
    assert shown >= 25
    scores = _section(page, operation_anchor("get", "/api/v1/scores"))
    assert 'Answers 200 OK: <span class="body"><a href="#schema-scores">Scores</a>' in scores
    # A nested object is named and linked, not repeated.
    assert '<a href="#schema-scorevalue">ScoreValue</a>' in scores
    assert "ETag" in scores and "Answers 304 Not Modified" in scores


async def test_each_status_is_shown_with_its_meaning(client: httpx.AsyncClient) -> None:
    spec, page = await _document(client), (await client.get("/docs")).text
    for method, path, op in _operations(spec):
        section = _section(page, operation_anchor(method, path))
        for status, response in op["responses"].items():
            known = HTTPStatus(int(status))
            said = response["description"]
            if status.startswith(_ERROR):
                assert f'<td class="status">{status}</td><td><span class="phrase">{known.phrase}</span>' in section
            if said != known.description:  # the stock wording is left out
                assert str(inline_code(said)) in section, (method, path, status)
    assert "Answers: 200, 400" not in page


async def test_every_link_on_the_page_has_one_target_and_each_schema_one_entry(client: httpx.AsyncClient) -> None:
    spec, page = await _document(client), (await client.get("/docs")).text
    ids = re.findall(r'id="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    targets = set(re.findall(r'href="#([^"]+)"', page))
    assert targets <= set(ids), targets - set(ids)
    entries = [i for i in ids if i.startswith("schema-")]
    assert sorted(entries) == sorted(schema_anchor(name) for name in spec["components"]["schemas"])
    # The table of contents leads to the quick start, every operation and the schemas.
    toc = page[page.index('<nav class="toc"'):page.index("</nav>")]
    for method, path, _ in _operations(spec):
        assert f'href="#{operation_anchor(method, path)}"' in toc
    assert 'href="#quick-start"' in toc and 'href="#schemas"' in toc


async def test_the_commands_use_the_host_the_page_was_asked_on(client: httpx.AsyncClient, app: Litestar) -> None:
    page = html.unescape((await client.get("/docs", headers={"Host": "cx.shop.example:8443"})).text)
    for step in STEPS:
        assert curl(step, "http://cx.shop.example:8443") in page
    assert f"KEY=$(touchpulse {' '.join(KEY_COMMAND)} | tail -1)" in page
    # The commands are shell: a Host header holding more than a host gives the configured URL.
    forged = html.unescape((await client.get("/docs", headers={"Host": "x.example$(id)"})).text)
    assert "$(id)" not in forged
    assert curl(STEPS[0], app.state.settings.base_url) in forged


def test_a_command_names_the_method_curl_would_not_send_by_itself() -> None:
    revoke = curl(Step(says="", method="POST", path="/api/v1/owners/1/share-links/revoke"), "http://h")
    assert " -X POST " in revoke
    assert " -X " not in curl(Step(says="", method="POST", path="/api/v1/owners", body="{}"), "http://h")
    assert " -X PATCH " in curl(Step(says="", method="PATCH", path="/api/v1/owners/1", body="{}"), "http://h")


def _get(answer: Any, where: tuple[str | int, ...]) -> Any:
    for part in where:
        answer = answer[part]
    return answer


async def test_the_quick_start_runs_as_shown(client: httpx.AsyncClient, database_url: str, tmp_path: Any) -> None:
    """The key from the command shown, then each request's path and body bytes as the page has them."""
    env = {**os.environ, "DATABASE_URL": database_url, "TOUCHPULSE_SECRET_KEY": "s" * 40,
           "TOUCHPULSE_DATA_DIR": str(tmp_path)}
    created = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "feedback.cli", *KEY_COMMAND], env=env, capture_output=True,
        text=True, timeout=120, cwd=ROOT, check=False)
    assert created.returncode == 0, created.stderr
    kept = {"KEY": created.stdout.strip().splitlines()[-1]}
    spec, page = await _document(client), (await client.get("/docs")).text

    def fill(text: str) -> str:
        for name, value in kept.items():
            text = text.replace(f"${name}", str(value))
        assert "$" not in text, text
        return text

    for step in STEPS:
        assert "'" not in (step.body or ""), "a body is single-quoted in the shell"
        headers = {**bearer(kept["KEY"]), **dict(step.headers)}
        if step.body is not None:
            headers["content-type"] = "application/json"
        body = fill(step.body).encode() if step.body is not None else None
        r = await client.request(step.method, fill(step.path), content=body, headers=headers)
        assert r.status_code == step.status, (step.method, step.path, r.text)
        answer = r.json()
        assert set(step.fields) <= set(answer), (step.path, set(step.fields) - set(answer))
        if step.keep is not None:
            name, where = step.keep
            kept[name] = _get(answer, where)
        if step.headers or "event_id" in (step.body or ""):  # the retry it promises gets the first answer
            again = await client.request(step.method, fill(step.path), content=body, headers=headers)
            assert (again.status_code, again.json()) == (r.status_code, answer)
    # Each step links to the operation it calls, on the same page.
    quick = page[page.index('id="quick-start"'):page.index('id="conventions"')]
    references = re.findall(r'Reference: <a href="#([^"]+)">([A-Z]+) ([^<]+)</a>', quick)
    assert [method for _, method, _ in references] == [step.method for step in STEPS]
    for (anchor, method, path), step in zip(references, STEPS, strict=True):
        assert anchor == operation_anchor(method, path) and path in spec["paths"], step.path
        assert re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", path), step.path.split("?")[0])


async def test_api_operations_document_the_errors_they_can_answer(client: httpx.AsyncClient) -> None:
    spec = await _document(client)
    for method, path, op in _operations(spec):
        if not path.startswith("/api/"):
            continue
        statuses = set(op["responses"])
        # A documented method is allowed on its path; nothing under /api/ expires or is rate-limited.
        assert not statuses & {"405", "410", "429"}, (method, path)
        with_body = method in ("post", "put", "patch")
        assert ({"413", "415"} <= statuses) == with_body and bool(statuses & {"413", "415"}) == with_body, (
            method, path)
        for status, response in op["responses"].items():
            if status.startswith(_ERROR):
                # Litestar's own 400 said application/json with a body the service never sends.
                assert list(response["content"]) == ["application/problem+json"], (method, path, status)
    trigger = spec["paths"]["/api/v1/touchpoints/{key}/invitations"]["post"]["responses"]
    assert trigger["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/InvitationSent"}
    assert trigger["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/InvitationSkipped"}
