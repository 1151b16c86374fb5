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
import msgspec
from litestar import Litestar

from feedback.collection.models import BatchTrigger
from feedback.insight.service import CSV_COLUMNS
from feedback.service.apidocs import inline_code, operation_anchor, schema_anchor
from feedback.service.app import create_app
from feedback.service.openapi import ERROR_MEANINGS
from feedback.service.problems import BY_SLUG, FRAMEWORK_TYPES, PROBLEM_TYPES
from feedback.service.quickstart import KEY_COMMAND, STEPS, Step, curl
from feedback.settings import Settings, load_settings
from surveys.errors import ApplicationError
from surveys.models import Owner
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


def _fields_of(page: str, anchor: str) -> list[str]:
    """The field names tabled at an entry: from its id to the end of its table or list."""
    start = page.index(f'id="{anchor}"')
    end = min(at for at in (page.find("</table>", start), page.find("</ul>", start)) if at != -1)
    return _FIELD.findall(page[start:end])


def _entry(page: str, anchor: str) -> str:
    """The card an entry is in: the schema's own, or the operation that alone reads it."""
    at = page.index(f'id="{anchor}"')
    return page[page.rindex("<section", 0, at):page.index("</section>", at)]


_FIELD = re.compile(r'<span class="mono field">([^<]+)</span>')


async def test_each_operation_names_what_it_answers_and_links_to_where_its_fields_are(
        client: httpx.AsyncClient) -> None:
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
                assert _fields_of(page, schema_anchor(name)) == list(components[name].get("properties", {}))
                shown += 1
    assert shown >= 25
    scores = _section(page, operation_anchor("get", "/api/v1/scores"))
    assert 'Answers 200 OK: <span class="body"><a href="#schema-scores">Scores</a>' in scores
    # A nested object is named and linked from its parent's entry, not repeated.
    assert '<a href="#schema-scorevalue">ScoreValue</a>' in _entry(page, schema_anchor("Scores"))
    assert "ETag" in scores and "Answers 304 Not Modified" in scores


async def test_a_body_one_operation_reads_is_tabled_there_and_the_others_are_linked(
        client: httpx.AsyncClient) -> None:
    spec, page = await _document(client), (await client.get("/docs")).text
    components = spec["components"]["schemas"]
    for method, path, op in _operations(spec):
        if "requestBody" not in op:
            continue
        name = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        section = _section(page, operation_anchor(method, path))
        if f'id="{schema_anchor(name)}"' in section:  # this operation's own: what to send, where it is sent
            assert str(inline_code(components[name]["description"])) in section, (method, path)
        else:
            assert f'href="#{schema_anchor(name)}"' in section, (method, path)
    owners = _section(page, operation_anchor("post", "/api/v1/owners"))
    assert 'id="schema-ownercreate">JSON body: <span class="body">OwnerCreate</span>' in owners
    assert _fields_of(page, schema_anchor("OwnerCreate")) == ["name", "email"]
    # A body's nested type has an entry of its own, as it may be named in more than one place.
    assert 'href="#schema-batchtrigger"' in _section(page, operation_anchor("post", "/api/v1/invitations:batch"))


async def test_each_field_of_each_schema_is_tabled_once(client: httpx.AsyncClient) -> None:
    spec, page = await _document(client), (await client.get("/docs")).text
    components = spec["components"]["schemas"]
    for name, schema in components.items():
        if schema.get("properties"):
            assert _fields_of(page, schema_anchor(name)) == list(schema["properties"]), name
    # No field is shown anywhere else: not in an operation's answer, not a second entry.
    assert len(_FIELD.findall(page)) == sum(len(s.get("properties", {})) for s in components.values())
    # Folded entries open on their own when a link leads into them (tests/test_browser.py): the
    # target is inside the fold, never the <details> or its summary, which a browser leaves shut.
    for folded in re.findall(r"<details>.*?</details>", page, re.S):
        summary = folded[:folded.index("</summary>")]
        assert "id=" not in summary and re.search(r'<div class="fold" id="schema-[^"]+">', folded)


def _shared_errors(page: str) -> str:
    start = page.index('id="errors"')
    return page[start:page.index("</table>", start)]


async def test_each_status_is_shown_with_its_meaning(client: httpx.AsyncClient) -> None:
    spec, page = await _document(client), (await client.get("/docs")).text
    shared = _shared_errors(page)
    for method, path, op in _operations(spec):
        section = _section(page, operation_anchor(method, path))
        for status, response in op["responses"].items():
            known = HTTPStatus(int(status))
            said = response["description"]
            if status.startswith(_ERROR):
                # Listed by code and phrase, linked to the shared table that says what it means.
                assert f'<a href="#error-{status}">{status}</a> {known.phrase}' in section, (method, path, status)
                assert f'<tr id="error-{status}"><td class="status">{status}</td>' in shared
                if said == ERROR_MEANINGS[status]:
                    assert str(inline_code(said)) in shared and str(inline_code(said)) not in section
                    continue
            if said != known.description:  # the stock wording is left out
                assert str(inline_code(said)) in section, (method, path, status)
    assert "Answers: 200, 400" not in page


async def test_an_operations_errors_take_one_line_and_each_meaning_is_said_once(client: httpx.AsyncClient) -> None:
    spec, page = await _document(client), (await client.get("/docs")).text
    for status, meaning in ERROR_MEANINGS.items():
        if any(status in op["responses"] for _, _, op in _operations(spec)):
            assert page.count(str(inline_code(meaning))) == 1, status
    for method, path, op in _operations(spec):
        section = _section(page, operation_anchor(method, path))
        errors = any(status.startswith(("4", "5")) for status in op["responses"])
        assert section.count('<p class="errors">') == errors and '<table class="errors"' not in section, (method, path)
    # What one operation means by a status is said under its line: the owner's name conflict.
    owners = _section(page, operation_anchor("post", "/api/v1/owners"))
    assert '<li><span class="status">409</span> Another owner has this name' in owners


async def test_every_link_on_the_page_has_one_target_and_each_schema_one_entry(client: httpx.AsyncClient) -> None:
    spec, page = await _document(client), (await client.get("/docs")).text
    ids = re.findall(r'id="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    targets = set(re.findall(r'href="#([^"]+)"', page))
    assert targets <= set(ids), targets - set(ids)
    # Every schema that has an entry is linked to from somewhere: nothing is tabled unreachable.
    linked = {i for i in ids if i.startswith("schema-")} - targets
    assert {entry for entry in linked if f'<h4 id="{entry}">' not in page} == set(), linked
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
    # The answer was the invitation's: it counts as answered, as through the survey link.
    invitation = await client.get(f"/api/v1/invitations/{kept['INVITATION']}", headers=bearer(kept["KEY"]))
    assert invitation.json()["answered_at"] is not None, invitation.text
    assert invitation.json()["response"]["invitation_id"] == kept["INVITATION"]
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
        # A documented method is allowed on its path; nothing under /api/ is rate-limited, and only
        # an answer naming its invitation can meet an expired one (as its survey link does).
        assert not statuses & {"405", "429"}, (method, path)
        assert ("410" in statuses) == ((method, path) == ("post", "/api/v1/responses")), (method, path)
        with_body = "requestBody" in op
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


async def test_each_operation_lists_the_input_errors_of_the_input_it_takes(client: httpx.AsyncClient) -> None:
    """A body can be unreadable, invalid, too large or not JSON; a parameter invalid, or missing
    if it is required and not in the path; a page that takes neither can answer none (an API
    operation still refuses a query parameter it does not take)."""
    spec = await _document(client)
    for method, path, op in _operations(spec):
        statuses, parameters = set(op["responses"]), op.get("parameters", [])
        body = "requestBody" in op
        missing = any(p["required"] and p["in"] != "path" for p in parameters)
        assert ("400" in statuses) == (body or missing), (method, path)
        # Any query parameter the API's operation does not take is a 422 (tests/test_api_queries.py).
        assert ("422" in statuses) == (body or bool(parameters) or path.startswith("/api/")), (method, path)
        assert ("413" in statuses) == ("415" in statuses) == (body and path.startswith("/api/")), (method, path)
    # Each kind is there: GETs with and without parameters, POSTs with and without a body.
    assert not {"400", "422"} & set(spec["paths"]["/healthz"]["get"]["responses"])
    assert {"422"} == {"400", "422", "413", "415"} & set(spec["paths"]["/api/v1/owners"]["get"]["responses"])
    revoke = set(spec["paths"]["/api/v1/owners/{owner_id}/share-links/revoke"]["post"]["responses"])
    assert "422" in revoke and not {"400", "413", "415"} & revoke


async def test_the_input_errors_listed_are_those_answered(
        client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    # A POST that takes no body reads none: any Content-Type, and any size, is no 415 or 413.
    for journey in (False, True):
        made = await client.post("/api/v1/journeys" if journey else "/api/v1/owners", headers=admin,
                                 json={"name": "Docs check", "stages": ["One"]} if journey else {"name": "Docs check"})
        assert made.status_code == 201, made.text
        kind = "journeys" if journey else "owners"
        revoke = f"/api/v1/{kind}/{made.json()['id']}/share-links/revoke"
        for content_type in ("text/xml", "application/x-made-up; charset=latin-1"):
            r = await client.post(revoke, headers={**admin, "content-type": content_type}, content=b"<a/>")
            assert r.status_code == 200, (revoke, content_type, r.text)
        r = await client.post(revoke, headers={**admin, "content-encoding": "gzip"}, content=b"x" * (3 << 20))
        assert r.status_code == 200, r.text
        # Its path parameter can still be invalid: the 422 it lists.
        r = await client.post(f"/api/v1/{kind}/99999999999999999999/share-links/revoke", headers=admin)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] in ("owner_id", "journey_id"), r.text
    # One that takes a body still refuses what it cannot read, as it lists.
    r = await client.post("/api/v1/owners", headers={**admin, "content-type": "text/xml"}, content=b"<a/>")
    assert r.status_code == 415
    r = await client.post("/api/v1/owners", headers={**admin, "content-type": "application/json"}, content=b"{")
    assert r.status_code == 400
    # A bad query parameter is the 422 a GET lists, not a 400 it does not.
    r = await client.get("/api/v1/owners?limit=abc", headers=admin)
    assert r.status_code == 422 and r.json()["errors"] == [{"field": "limit", "message": "must be a whole number, not text"}]


def _statuses(spec: dict[str, Any], status: str) -> set[tuple[str, str]]:
    return {(method, path) for method, path, op in _operations(spec) if status in op["responses"]}


async def test_an_operation_lists_only_the_errors_it_can_answer(client: httpx.AsyncClient) -> None:
    spec = await _document(client)
    # Only changes that can meet existing state conflict: names taken, objects still in use, an
    # event id reused, a paused touchpoint or an erased customer. No GET does.
    assert _statuses(spec, "409") == {
        ("post", "/api/v1/owners"), ("patch", "/api/v1/owners/{owner_id}"), ("delete", "/api/v1/owners/{owner_id}"),
        ("post", "/api/v1/journeys"), ("patch", "/api/v1/journeys/{journey_id}"),
        ("delete", "/api/v1/journeys/{journey_id}"),
        ("post", "/api/v1/touchpoints"), ("patch", "/api/v1/touchpoints/{key}"), ("delete", "/api/v1/touchpoints/{key}"),
        ("post", "/api/v1/touchpoints/{key}/invitations"), ("post", "/api/v1/responses"),
    }
    for method, path in _statuses(spec, "409"):
        conflict = spec["paths"][path][method]["responses"]["409"]
        assert conflict["description"] != ERROR_MEANINGS["409"], (method, path)  # says which conflict
        assert list(conflict["content"]) == ["application/problem+json"]
    # A 404 needs something named that may be missing: an object in the path, or a touchpoint,
    # journey, stage or owner to narrow a selection or list to. Unfiltered lists, creations and
    # erasure (any reference) find nothing to miss.
    missing = _statuses(spec, "404")
    assert {("get", "/api/v1/owners"), ("get", "/api/v1/journeys"), ("post", "/api/v1/owners"),
            ("post", "/api/v1/responses"), ("post", "/api/v1/invitations:batch"),
            ("delete", "/api/v1/customers/{customer}")}.isdisjoint(missing)
    assert {("get", "/api/v1/owners/{owner_id}"), ("get", "/api/v1/scores"), ("get", "/api/v1/responses"),
            ("get", "/api/v1/touchpoints"), ("post", "/api/v1/touchpoints/{key}/invitations")} <= missing


async def test_date_ranges_are_documented_as_dates_and_still_refused_by_name(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    spec = await _document(client)
    dated = 0
    for method, path, op in _operations(spec):
        for parameter in op.get("parameters", []):
            if parameter["name"] in ("from", "to"):
                assert parameter["schema"]["oneOf"] == [{"type": "string", "format": "date"}, {"type": "null"}], (
                    method, path)
                dated += 1
    assert dated == 2 * 6  # scores, the touchpoints' scores, responses and the three reports
    # Read as text, so a bad date is still the service's 422 naming the parameter.
    r = await client.get("/api/v1/scores?from=2024-1-1", headers=admin)
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "from", "message": "must be a date written YYYY-MM-DD"}]


async def test_the_idempotency_key_is_documented_with_its_bounds_and_what_it_does(
        client: httpx.AsyncClient) -> None:
    # It was documented as any string (or null); the service takes 1-255 characters
    # (tests/test_collection.py checks they are those refused).
    spec = await _document(client)
    taking = []
    for method, path, op in _operations(spec):
        for parameter in op.get("parameters", []):
            if parameter["name"].lower() == "idempotency-key":
                taking.append((method, path))
                assert parameter["in"] == "header" and not parameter["required"]
                schema = parameter["schema"]
                assert (schema["type"], schema["minLength"], schema["maxLength"]) == ("string", 1, 255)
                assert "oneOf" not in schema  # a header is never null
                said = " ".join(parameter["description"].split())
                for words in ("1–255 characters", "48 hours", "byte for byte", "`idempotency-key-reused`"):
                    assert words in said, (words, said)
    assert taking == [("post", "/api/v1/responses")]
    page = (await client.get("/docs")).text
    assert "any text of 1–255 characters" in page and "<code>idempotency-key-reused</code>" in page


async def test_a_batch_documents_its_items_and_still_answers_each_alone(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    spec = await _document(client)
    components = spec["components"]["schemas"]
    items = components["BatchCreate"]["properties"]["items"]
    assert items["items"] == {"$ref": "#/components/schemas/BatchTrigger"}
    assert set(components["BatchTrigger"]["properties"]) == {f.encode_name for f in msgspec.structs.fields(BatchTrigger)}
    # Each item is still read on its own: a bad one is its own 422, not the whole batch's.
    r = await client.post("/api/v1/invitations:batch", headers=admin,
                          json={"items": [{"touchpoint": "nowhere", "customer": "c-1"}, {"customer": 5}]})
    assert r.status_code == 200
    assert [result["status"] for result in r.json()["results"]] == [422, 422]


async def test_the_csv_export_is_documented_as_it_is_sent(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    spec = await _document(client)
    content = spec["paths"]["/api/v1/responses"]["get"]["responses"]["200"]["content"]
    assert list(content) == ["application/json", "text/csv"]
    said = content["text/csv"]["schema"]["description"]
    assert ", ".join(CSV_COLUMNS) in said
    r = await client.get("/api/v1/responses", headers={**admin, "Accept": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].split(";")[0] in content
    assert r.content.decode("utf-8-sig").split("\r\n")[0] == ",".join(CSV_COLUMNS)
    page = (await client.get("/docs")).text
    listed = _section(page, operation_anchor("get", "/api/v1/responses"))
    assert "<code>text/csv</code> (string). " + str(inline_code(said)) in listed


async def test_a_described_field_of_a_component_type_links_to_it(client: httpx.AsyncClient) -> None:
    # An answer's band and category: an enum with a description of its own, once shown as "any".
    listed = _section((await client.get("/docs")).text, schema_anchor("ResponseOut"))
    for name in ("Band", "Category"):
        assert f'<a href="#{schema_anchor(name)}">{name}</a>' in listed, name
    assert "any" not in re.sub(r"<[^>]+>", " ", listed).split()


async def test_request_and_answer_schemas_say_what_they_are(client: httpx.AsyncClient) -> None:
    spec, page = await _document(client), (await client.get("/docs")).text
    components = spec["components"]["schemas"]
    assert components["Owner"]["description"] == Owner.__doc__
    for name, schema in components.items():
        assert schema.get("description"), name
        assert str(inline_code(schema["description"])) in _entry(page, schema_anchor(name)), name


async def test_the_commands_use_the_configured_public_url(settings: Settings, database_url: str) -> None:
    """Behind a TLS proxy the request names http:// and the inner host: TOUCHPULSE_BASE_URL wins."""
    public = msgspec.structs.replace(settings, base_url="https://cx.shop.example", base_url_configured=True)
    app = create_app(public, database_url)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                                 base_url="http://10.0.0.7:8000") as inner:
        page = html.unescape((await inner.get("/docs")).text)
    for step in STEPS:
        assert curl(step, "https://cx.shop.example") in page
    assert "10.0.0.7" not in page
    env = {"TOUCHPULSE_SECRET_KEY": "s" * 40, "DATABASE_URL": database_url}
    assert load_settings({**env, "TOUCHPULSE_BASE_URL": "https://cx.shop.example/"}).base_url_configured
    assert not load_settings(env).base_url_configured


async def test_liveness_lists_no_error_and_readiness_says_why_it_is_not_ready(client: httpx.AsyncClient) -> None:
    spec = await _document(client)
    assert not [s for s in spec["paths"]["/healthz"]["get"]["responses"] if s.startswith(("4", "5"))]
    unready = spec["paths"]["/readyz"]["get"]["responses"]["503"]
    assert "migrations are pending" in unready["description"]
    assert unready["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Health"}


async def test_theme_schema_defines_impact_where_a_client_reads_it(client: httpx.AsyncClient) -> None:
    # The published description is all a client has: it may not send them to a file of ours.
    described = (await _document(client))["components"]["schemas"]["ThemeInsight"]["description"]
    assert "docs/" not in described and "100 · l / L − 100 · h / H" in described


def _error_classes(base: type[ApplicationError]) -> list[type[ApplicationError]]:
    found: list[type[ApplicationError]] = []
    for sub in base.__subclasses__():
        found += [sub, *_error_classes(sub)]
    return found


def test_every_application_error_maps_to_a_documented_type() -> None:
    # Every error class is imported by now (create_app above imports every feature).
    classes: list[type[ApplicationError]] = [ApplicationError, *_error_classes(ApplicationError)]
    assert len(classes) >= 20
    for cls in classes:
        assert cls.slug in BY_SLUG, cls
        assert BY_SLUG[cls.slug].status == cls.status, cls
    # Each kind a client must tell apart from its status's other causes has a type of its own.
    assert {c.__name__: c.slug for c in classes if c.status == 409} == {
        "Conflict": "conflict", "NameTaken": "name-taken", "KeyTaken": "key-taken", "StillInUse": "still-in-use",
        "CustomerErased": "customer-erased", "TouchpointPaused": "touchpoint-paused",
        "EventIdReused": "event-id-reused", "AlreadyAnswered": "already-answered"}
    # Nothing documented is dead: each type is some error's, or the framework's for its status.
    assert {c.slug for c in classes} | set(FRAMEWORK_TYPES.values()) == set(BY_SLUG)
    assert all(BY_SLUG[slug].status == status for status, slug in FRAMEWORK_TYPES.items())
    assert len(BY_SLUG) == len(PROBLEM_TYPES)
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", t.slug) for t in PROBLEM_TYPES)


async def test_the_page_lists_every_problem_type_and_a_problems_type_leads_to_its_row(
        client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    page = (await client.get("/docs")).text
    start = page.index('id="problem-types"')
    table = page[start:page.index("</table>", start)]
    for t in PROBLEM_TYPES:
        assert (f'<tr id="problem-{t.slug}"><td class="mono">{t.slug}</td><td class="status">{t.status}</td>'
                f"<td>{inline_code(t.when)}</td></tr>") in table, t.slug
    # A problem's type is one absolute URI per kind, whatever the server's address (a client
    # matches on it exactly), and the page has a row for its slug.
    r = await client.get("/api/v1/owners/999999", headers=admin)
    assert r.json()["type"] == "https://touchpulse.dev/problems/not-found"
    assert 'id="problem-not-found"' in page
    # The OpenAPI document names every type with its status, and a batch item's problem has one.
    spec = await _document(client)
    described = spec["components"]["schemas"]["Problem"]["properties"]["type"]["description"]
    assert all(f"`{t.slug}` ({t.status})" in described for t in PROBLEM_TYPES), described
    assert "about:blank" in described and "/docs#problem-<slug>" in described
    assert "type" in spec["components"]["schemas"]["ItemProblem"]["required"]


async def test_every_share_is_documented_as_a_percent(client: httpx.AsyncClient) -> None:
    # A stage's share_high was a fraction (0.45) beside its touchpoints' percent (31.41).
    spec = await _document(client)
    shares = 0
    for name, schema in spec["components"]["schemas"].items():
        for field, prop in (schema.get("properties") or {}).items():
            if field.startswith("share") or (field.endswith(("_share", "_rate")) and field != "sample_rate"):
                assert "Percent (0–100)" in prop.get("description", ""), (name, field, prop)
                shares += 1
    assert shares >= 8
