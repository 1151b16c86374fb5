"""API reference as a plain server-rendered page: no JavaScript, no CDN, readable offline."""

from __future__ import annotations

from typing import Any

from litestar import HttpMethod, MediaType, Request, Router, route
from litestar._openapi.plugin import handle_schema_path_not_found
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin, YamlRenderPlugin
from litestar.response import Redirect, Template

from feedback.service.methods import get_and_head
from feedback.service.pages import branding

_METHODS = ("get", "post", "put", "patch", "delete")


def _type_of(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return " | ".join(_type_of(s) for s in schema[key])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {_type_of(schema.get('items', {}))}"
    if "enum" in schema:
        return " | ".join(repr(v) for v in schema["enum"])
    return str(schema.get("format", kind))


def _fields(spec: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, str]]:
    """The properties of a (referenced) object schema, one row each."""
    if "$ref" in schema:
        schema = spec.get("components", {}).get("schemas", {}).get(str(schema["$ref"]).rsplit("/", 1)[-1], {})
    required = set(schema.get("required", []))
    return [
        {"name": name, "type": _type_of(prop), "required": "yes" if name in required else "",
         "description": str(prop.get("description", ""))}
        for name, prop in schema.get("properties", {}).items()
    ]


def reference(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Operations grouped by tag, in document order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, item in spec.get("paths", {}).items():
        for method in _METHODS:
            op = item.get(method)
            if op is None:
                continue
            body: dict[str, Any] = op.get("requestBody", {}).get("content", {})
            first: dict[str, Any] = next(iter(body.values()), {})
            body_schema = first.get("schema")
            groups.setdefault((op.get("tags") or ["Other"])[0], []).append({
                "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                "description": op.get("description", ""),
                "parameters": [
                    {"name": p["name"], "in": p["in"], "type": _type_of(p.get("schema", {})),
                     "required": "yes" if p.get("required") else "",
                     "description": p.get("description", "")}
                    for p in op.get("parameters", [])
                ],
                "body": _fields(spec, body_schema) if body_schema else [],
                "statuses": sorted(op.get("responses", {})),
                "secured": bool(op.get("security")),
            })
    return [{"tag": tag, "operations": ops} for tag, ops in groups.items()]


@get_and_head("/docs", summary="The API reference as a page", tags=["Operations"], include_in_schema=False)
async def api_docs(request: Request[Any, Any, Any]) -> Template:
    spec = request.app.openapi_schema.to_schema()
    return Template(template_name="api_docs.html", context={
        "title": spec["info"]["title"], "intro": spec["info"].get("description", ""),
        "groups": reference(spec), "locale": "en", **branding(request),
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
