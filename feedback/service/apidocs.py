"""API reference as a plain server-rendered page: no JavaScript, no CDN, readable offline."""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import HttpMethod, MediaType, Request, Router, route
from litestar._openapi.plugin import handle_schema_path_not_found
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin, YamlRenderPlugin
from litestar.response import Redirect, Template
from markupsafe import Markup, escape

from feedback.service.methods import get_and_head
from feedback.service.openapi import ERROR_MEANINGS
from feedback.service.pages import branding
from feedback.service.problems import PROBLEM_TYPES, problem_type
from feedback.service.quickstart import KEY_COMMAND, STEPS, Step, curl

_METHODS = ("get", "post", "put", "patch", "delete")
_CODE = re.compile(r"`([^`\n]+)`")
# Litestar names a generic Struct by its module path: Page_surveys.models.Owner_.
_GENERIC = re.compile(r"([A-Za-z]+)_(?:\w+\.)+(\w+)_")
# A scheme, a host name or bracketed IPv6 address, and a port: nothing a shell would read.
_ORIGIN = re.compile(r"https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


def inline_code(text: str) -> Markup:
    """Text with `x` shown as code; escaped first, so a description brings no HTML of its own."""
    return Markup(_CODE.sub(r"<code>\1</code>", str(escape(text))))  # noqa: S704 - escaped above


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def schema_anchor(name: str) -> str:
    return "schema-" + _slug(name)


def schema_title(name: str) -> str:
    generic = _GENERIC.fullmatch(name)
    return f"{generic[1]}[{generic[2]}]" if generic else name


def operation_anchor(method: str, path: str) -> str:
    return "op-" + _slug(f"{method} {path}")


def _ref_name(schema: dict[str, Any]) -> str:
    return str(schema["$ref"]).rsplit("/", 1)[-1]


def type_of(schema: dict[str, Any]) -> Markup:
    """A schema's type in a few words, each component schema named and linked to its entry."""
    if "$ref" in schema:
        name = _ref_name(schema)
        return Markup('<a href="#{}">{}</a>').format(schema_anchor(name), schema_title(name))
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return Markup(" | ").join(type_of(s) for s in schema[key])
    # A described field of a component type is written {"allOf": [{"$ref": ...}], "description": ...}.
    if len(schema.get("allOf", ())) == 1:
        return type_of(schema["allOf"][0])
    if "const" in schema:
        return escape(json.dumps(schema["const"]))
    if "enum" in schema:
        return Markup(" | ").join(escape(json.dumps(v)) for v in schema["enum"])
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return Markup(" | ").join(type_of({**schema, "type": k}) for k in kind)
    if kind == "array":
        return Markup("list of ") + type_of(schema.get("items", {}))
    if kind == "object":
        if schema.get("properties"):
            return escape("object {" + ", ".join(schema["properties"]) + "}")
        extra = schema.get("additionalProperties")
        return Markup("map of ") + type_of(extra) if isinstance(extra, dict) and extra else Markup("object")
    return escape(str(schema.get("format", kind)))


class Field(msgspec.Struct, frozen=True):
    """One property or parameter: one row of a table."""

    name: str
    type: Markup
    required: bool
    description: Markup
    where: str = ""


class Answer(msgspec.Struct, frozen=True):
    """One status an operation answers: what it means and, for a success, its body: named and
    linked to the one place its fields are tabled, or tabled here when it has no name."""

    status: str
    phrase: str
    description: Markup
    body: Markup | None = None
    media: str = ""
    fields: list[Field] = []
    headers: list[Field] = []
    # The other media types it comes in, chosen by Accept (a CSV export): name, type, what it holds.
    also: list[Field] = []


class ErrorStatus(msgspec.Struct, frozen=True):
    """An error status as an operation lists it, in one line with the others: its code, its
    phrase, and a note where this operation means more by it than the shared meaning."""

    status: str
    phrase: str
    note: Markup


class RequestBody(msgspec.Struct, frozen=True):
    """What an operation reads, as the page shows it: its type and, where this is the one place
    they are tabled (`anchor` is then its schema's entry), its description and fields."""

    type: Markup
    fields: list[Field]
    anchor: str = ""
    description: Markup = Markup("")


class Operation(msgspec.Struct, frozen=True):
    """One method on one path, as the page shows it."""

    anchor: str
    method: str
    path: str
    summary: Markup
    description: Markup
    secured: bool
    parameters: list[Field]
    body: RequestBody | None
    answers: list[Answer]
    errors: list[ErrorStatus]
    problem_errors: bool


class Group(msgspec.Struct, frozen=True):
    """The operations of one tag, in document order."""

    tag: str
    anchor: str
    operations: list[Operation]


class SchemaEntry(msgspec.Struct, frozen=True):
    """A component schema named in more than one place, tabled once at the foot of the page."""

    name: str
    title: str
    anchor: str
    description: Markup
    values: list[str]
    fields: list[Field]
    # Sent by clients: its table marks the fields a request must carry, not those an answer may lack.
    sent: bool


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        found: dict[str, Any] = spec.get("components", {}).get("schemas", {}).get(_ref_name(schema), {})
        return found
    return schema


def _fields(spec: dict[str, Any], schema: dict[str, Any]) -> list[Field]:
    """The top-level properties of a (referenced) object schema; nested objects are named, not opened."""
    schema = _resolve(spec, schema)
    required = set(schema.get("required", []))
    return [Field(name, type_of(prop), name in required, inline_code(str(prop.get("description", ""))))
            for name, prop in schema.get("properties", {}).items()]


def _phrase(status: str) -> tuple[str, str]:
    """A status's reason phrase and Litestar's stock description of it ("" for "2XX" and the like)."""
    try:
        known = HTTPStatus(int(status))
    except ValueError:
        return "", ""
    return known.phrase, known.description


def _answer(spec: dict[str, Any], status: str, response: dict[str, Any]) -> Answer:
    phrase, stock = _phrase(status)
    said = str(response.get("description", ""))
    # The stock wording ("Request fulfilled, document follows") says nothing the phrase does not.
    description = inline_code("" if said == stock else said)
    headers = [Field(name, type_of(header.get("schema", {})), False, inline_code(str(header["description"])))
               for name, header in (response.get("headers") or {}).items() if header.get("description")]
    content: dict[str, dict[str, Any]] = response.get("content") or {}
    media, body = next(iter(content.items()), ("", {}))
    schema: dict[str, Any] = body.get("schema") or {}
    if not schema:
        return Answer(status, phrase, description, headers=headers)
    also = [Field(other, type_of(given.get("schema", {})), False,
                  inline_code(str(given.get("schema", {}).get("description", ""))))
            for other, given in list(content.items())[1:]]
    # A named schema is linked to its entry, which tables its fields; an unnamed object has no
    # other place, so its fields are tabled here.
    unnamed = "$ref" not in schema and schema.get("type") == "object"
    return Answer(status, phrase, description, type_of(schema), "" if media == "application/json" else media,
                  _fields(spec, schema) if unnamed else [], headers, also)


def _error(status: str, response: dict[str, Any]) -> ErrorStatus:
    phrase, stock = _phrase(status)
    said = str(response.get("description", ""))
    # What every operation means by it is said once, in the conventions (error_meanings).
    return ErrorStatus(status, phrase, inline_code("" if said in (stock, ERROR_MEANINGS.get(status)) else said))


def error_meanings(spec: dict[str, Any]) -> list[ErrorStatus]:
    """Each error status the document's operations answer, once, with what it means."""
    used = {status for item in spec.get("paths", {}).values() for method, op in item.items()
            if method in _METHODS for status in op.get("responses", {}) if status.startswith(("4", "5"))}
    return [ErrorStatus(status, _phrase(status)[0], inline_code(ERROR_MEANINGS.get(status, "")))
            for status in sorted(used)]


def _body_schema(op: dict[str, Any]) -> dict[str, Any] | None:
    content: dict[str, dict[str, Any]] = op.get("requestBody", {}).get("content", {})
    first = next(iter(content.values()), {})
    schema: dict[str, Any] | None = first.get("schema")
    return schema


def body_homes(spec: dict[str, Any]) -> dict[str, str]:
    """The request bodies whose fields are tabled in their operation, by schema name: those named
    by one operation's body and nowhere else, as a create's or a change's body is. The reader
    sees what to send where they send it; a schema named elsewhere too keeps its own entry."""
    named: dict[str, int] = {}
    for name in re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(spec)):
        named[name] = named.get(name, 0) + 1
    homes = {}
    for path, item in spec.get("paths", {}).items():
        for method in _METHODS:
            body = _body_schema(item.get(method, {})) or {}
            if "$ref" in body and named.get(_ref_name(body)) == 1:
                homes[_ref_name(body)] = operation_anchor(method, path)
    return homes


def _request_body(spec: dict[str, Any], op: dict[str, Any], homes: dict[str, str]) -> RequestBody | None:
    schema = _body_schema(op)
    if schema is None:
        return None
    if "$ref" not in schema:  # unnamed: nowhere else to table it
        return RequestBody(type_of(schema), _fields(spec, schema))
    name = _ref_name(schema)
    if name not in homes:
        return RequestBody(type_of(schema), [])
    # Named, not linked: its entry is this one.
    return RequestBody(escape(schema_title(name)), _fields(spec, schema), schema_anchor(name),
                       inline_code(str(_resolve(spec, schema).get("description", ""))))


def _operation(spec: dict[str, Any], method: str, path: str, op: dict[str, Any], homes: dict[str, str]) -> Operation:
    parameters = [
        Field(p["name"], type_of(p.get("schema", {})), bool(p.get("required")),
              inline_code(str(p.get("description") or p.get("schema", {}).get("description", ""))), p["in"])
        for p in op.get("parameters", [])
    ]
    responses = sorted(op.get("responses", {}).items())
    answers = [_answer(spec, status, r) for status, r in responses if not status.startswith(("4", "5"))]
    errors = [_error(status, r) for status, r in responses if status.startswith(("4", "5"))]
    problem_errors = bool(errors) and all(
        "application/problem+json" in (r.get("content") or {})
        for status, r in responses if status.startswith(("4", "5")))
    summary = str(op.get("summary", ""))
    description = str(op.get("description", ""))
    return Operation(
        anchor=operation_anchor(method, path), method=method.upper(), path=path,
        summary=inline_code(summary), description=inline_code(description if description != summary else ""),
        secured=bool(op.get("security")), parameters=parameters,
        body=_request_body(spec, op, homes), answers=answers, errors=errors, problem_errors=problem_errors,
    )


def reference(spec: dict[str, Any]) -> list[Group]:
    """Operations grouped by tag, in document order."""
    groups: dict[str, list[Operation]] = {}
    homes = body_homes(spec)
    for path, item in spec.get("paths", {}).items():
        for method in _METHODS:
            if method in item:
                tag = (item[method].get("tags") or ["Other"])[0]
                groups.setdefault(tag, []).append(_operation(spec, method, path, item[method], homes))
    return [Group(tag, "tag-" + _slug(tag), ops) for tag, ops in groups.items()]


def _refs(schema: Any) -> set[str]:
    """The component schemas a schema names, at any depth of it (not through them)."""
    if isinstance(schema, dict):
        found = {_ref_name(schema)} if "$ref" in schema else set()
        return found.union(*(_refs(v) for v in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_refs(v) for v in schema))
    return set()


def input_schemas(spec: dict[str, Any]) -> set[str]:
    """The schemas a client sends: request bodies and everything they name, transitively."""
    components = spec.get("components", {}).get("schemas", {})
    todo = set().union(*(_refs(op.get("requestBody", {})) for item in spec.get("paths", {}).values()
                         for method, op in item.items() if method in _METHODS))
    found: set[str] = set()
    while todo:
        name = todo.pop()
        found.add(name)
        todo |= _refs(components.get(name, {})) - found
    return found


def schemas(spec: dict[str, Any]) -> list[SchemaEntry]:
    """Every component schema not tabled in its operation (body_homes), once, by name."""
    found = spec.get("components", {}).get("schemas", {})
    sent, homed = input_schemas(spec), body_homes(spec)
    return [
        SchemaEntry(name, schema_title(name), schema_anchor(name), inline_code(str(s.get("description", ""))),
                    [json.dumps(v) for v in s.get("enum", [])], _fields(spec, s), name in sent)
        for name, s in sorted(found.items(), key=lambda item: schema_title(item[0]).lower()) if name not in homed
    ]


class QuickStep(msgspec.Struct, frozen=True):
    """A quick-start step as the page shows it, linked to the operation it calls."""

    says: Markup
    command: str
    answers: Markup
    anchor: str
    operation: str


def quick_start(spec: dict[str, Any], origin: str) -> list[QuickStep]:
    steps = []
    for step in STEPS:
        path = documented_path(spec, step)
        steps.append(QuickStep(inline_code(step.says), curl(step, origin), inline_code(step.answers),
                               operation_anchor(step.method, path) if path else "", f"{step.method} {path}"))
    return steps


def documented_path(spec: dict[str, Any], step: Step) -> str:
    """The document's path for the one a step calls, or "" when no operation matches."""
    called = step.path.split("?", 1)[0]
    for path, item in spec.get("paths", {}).items():
        pattern = "[^/]+".join(re.escape(part) for part in re.split(r"\{[^}]+\}", path))
        if step.method.lower() in item and re.fullmatch(pattern, called):
            return str(path)
    return ""


def origin_of(request: Request[Any, Any, Any]) -> str:
    """Where the commands send their requests, so that they can be pasted as they are.

    TOUCHPULSE_BASE_URL when it is set: behind a TLS proxy the request says http:// and the
    inner host. Otherwise where this page was asked for; a Host header holding more than a host
    name and port gets the default base URL instead: the commands are shell, and the header is
    the client's to write.
    """
    settings = request.app.state.settings
    origin = str(request.base_url).rstrip("/")
    if settings.base_url_configured or not _ORIGIN.fullmatch(origin):
        return str(settings.base_url)
    return origin


@get_and_head("/docs", summary="The API reference as a page", tags=["Operations"], include_in_schema=False)
async def api_docs(request: Request[Any, Any, Any]) -> Template:
    spec = request.app.openapi_schema.to_schema()
    return Template(template_name="api_docs.html", context={
        "title": spec["info"]["title"], "intro": inline_code(spec["info"].get("description", "")),
        "key_command": f"KEY=$(touchpulse {' '.join(KEY_COMMAND)} | tail -1)",
        "steps": quick_start(spec, origin_of(request)), "errors": error_meanings(spec),
        "problem_types": [(t.slug, t.status, inline_code(t.when)) for t in PROBLEM_TYPES],
        "type_example": problem_type("name-taken"),
        "groups": reference(spec), "schemas": schemas(spec),
        "locale": "en", **branding(request),
    })


@get_and_head("/", summary="Where to start", include_in_schema=False)
async def home() -> Redirect:
    return Redirect(path="/docs")


# --- the OpenAPI document --------------------------------------------------------------------


def _head_of(plugin: OpenAPIRenderPlugin) -> HTTPRouteHandler:
    """HEAD on the paths a render plugin serves, with the headers its GET sends.

    Litestar registers the document's routes with `get` only, so HEAD was a 405 there alone.
    The body is rendered for its Content-Length; the server sends the headers only.
    """

    @route(plugin.paths, http_method=HttpMethod.HEAD, media_type=plugin.media_type,
           sync_to_thread=False, include_in_schema=False)
    def document_head(request: Request[Any, Any, Any]) -> bytes:
        return plugin.render(request, request.app.openapi_schema.to_schema())

    return document_head


# Litestar answers any other path under /schema with a 404 of its own, but registers it for GET
# only: HEAD there was a 405 naming GET. The same handler for HEAD gives the same 404 (an HTML
# page, or a problem for a .json/.yaml/.yml name), headers and all; the server drops the body.
_unknown_path_head = route("/{path:str}", http_method=HttpMethod.HEAD, media_type=MediaType.HTML,
                           sync_to_thread=False, include_in_schema=False)(handle_schema_path_not_found)


class JsonDocument(JsonRenderPlugin):
    """The document as JSON at /schema/openapi.json and /schema, answering HEAD as well.

    It also gives HEAD to the 404 for unknown paths under /schema (once, so here).
    """

    def __init__(self) -> None:
        super().__init__(path=["/openapi.json", "/"])

    def receive_router(self, router: Router) -> None:
        super().receive_router(router)
        router.register(_head_of(self))
        router.register(_unknown_path_head)


class YamlDocument(YamlRenderPlugin):
    """The document as YAML at /schema/openapi.yaml and .yml, answering HEAD as well."""

    def receive_router(self, router: Router) -> None:
        super().receive_router(router)
        router.register(_head_of(self))
