"""Every answer the service can give is documented: each operation gets the error statuses it can
answer, and each Struct its docstring."""

from __future__ import annotations

import inspect
from http import HTTPStatus
from typing import TYPE_CHECKING

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.enums import ParamType
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    Schema,
)
from litestar.routes import HTTPRoute
from litestar.typing import FieldDefinition

from feedback.insight.service import CSV_COLUMNS, SCORE_CSV_COLUMNS
from feedback.service.created import ANSWER_HEADERS
from feedback.service.problems import PROBLEM_TYPES
from surveys.models import DOCUMENTED_ITEMS

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar._openapi.schema_generation import SchemaCreator

_PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    description="RFC 9457 problem details.",
    required=["type", "title", "status", "detail"],
    properties={
        "type": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.URI, description=(
            "The kind of problem, the same on every server: match on it, not on `detail`. It is "
            "`https://touchpulse.dev/problems/<slug>` (explained at /docs#problem-<slug>) for the slugs (status): "
            + ", ".join(f"`{t.slug}` ({t.status})" for t in PROBLEM_TYPES)
            + "; or `about:blank` for any other status, meaning no more than the status.")),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING),
        "instance": Schema(type=OpenAPIType.STRING),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(
                type=OpenAPIType.OBJECT, required=["field", "message"],
                properties={"field": Schema(type=OpenAPIType.STRING),
                            "message": Schema(type=OpenAPIType.STRING)},
            ),
        ),
    },
)

# What each error status means wherever it is answered; /docs explains each once, by these words.
ERROR_MEANINGS = {
    "400": "The request could not be read (bad JSON, bad encoding).",
    "401": "No API key, or not a valid one.",
    "403": "The key's role does not allow this.",
    "404": "No such object, or not one this key may see.",
    "406": "Accept refuses every media type the operation answers in (JSON, or JSON and CSV); `detail` "
           "names them.",
    "409": "The request conflicts with the current state.",
    "410": "Expired.",
    "413": "The body is too large.",
    "415": "The body is not `application/json`, or is compressed; `detail` names the type.",
    "422": "Invalid input (on the API, a query parameter the operation does not take, or one given "
           "twice, too); `errors` names each offending field.",
    "429": "Too many requests.",
    "503": "The database is unreachable; nothing was recorded.",
}
# What every /api/ operation may answer besides its own statuses. Not 405 (a documented method
# on its path is allowed), 410 or 429 (only survey, widget and share pages expire or limit).
# 406 too, unless it answers with no body (204): negotiation.acceptable_answers.
# 409 only where a handler names it (`responses=`): only changes can conflict. What it can
# answer about its input depends on the input it takes (_input_errors).
_API_ERRORS = ("401", "403", "503")
_PAGE_ERRORS = ("404", "409", "410", "429", "503")
# Erasure takes any customer reference, known or not: its path parameter finds nothing to miss.
_FINDS_NOTHING = frozenset({("delete", "/api/v1/customers/{customer}")})
# Query filters naming an object: one that does not exist is a 404 naming it, not an empty list.
_FILTER_IDS = frozenset({"touchpoint", "journey", "stage", "owner"})
# The GETs that answer in more than one media type, chosen by Accept, and the other types.
_NEGOTIATED: dict[str, dict[str, OpenAPIMediaType]] = {
    "/api/v1/responses": {"text/csv": OpenAPIMediaType(schema=Schema(
        type=OpenAPIType.STRING,
        description=("When Accept prefers `text/csv`: every answer of the selection, newest first, as an "
                     "attachment (Content-Disposition); `cursor` and `limit` do not apply. UTF-8 with a "
                     "byte order mark, CRLF line ends, a header row (" + ", ".join(CSV_COLUMNS) + "): "
                     "the JSON item's fields flattened (`sentiment.label` is `sentiment_label`), "
                     "`themes` joined with `;`, null an empty cell; a "
                     "cell that a spreadsheet would run as a formula starts with `'`.")))},
    "/api/v1/scores/touchpoints": {"text/csv": OpenAPIMediaType(schema=Schema(
        type=OpenAPIType.STRING,
        description=("When Accept prefers `text/csv`: one row per item, in the same order, as an attachment "
                     "(Content-Disposition); UTF-8 with a byte order mark, CRLF line ends, a header row ("
                     + ", ".join(SCORE_CSV_COLUMNS) + "): the item's fields flattened (`score.value` is "
                     "`score_value`), true and false as in the JSON, null an empty cell.")))},
}


class DescribedStructs(StructSchemaPlugin):
    """Structs documented as Litestar does, with what it leaves out: the class docstring as the
    schema's description, and the item type of a list read as `list[Any]` (DOCUMENTED_ITEMS)."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        struct = field_definition.type_  # Page for Page[Owner]
        # Its own docstring only: a struct without one does not borrow its base's.
        doc = vars(struct).get("__doc__")
        if doc and schema.description is None:
            schema.description = inspect.cleandoc(doc)
        info = msgspec.inspect.type_info(struct)
        for field in info.fields if isinstance(info, msgspec.inspect.StructType) else ():
            kind = field.type
            documented = (kind.extra or {}).get(DOCUMENTED_ITEMS) if isinstance(kind, msgspec.inspect.Metadata) else None
            listed = (schema.properties or {}).get(field.encode_name)
            if documented is not None and isinstance(listed, Schema):
                listed.items = schema_creator.for_field_definition(FieldDefinition.from_annotation(documented))
        return schema


def _operations(path_item: object) -> list[tuple[str, Operation]]:
    found = []
    for method in ("get", "put", "post", "delete", "patch"):
        operation = getattr(path_item, method, None)
        if isinstance(operation, Operation):
            found.append((method, operation))
    return found


def _finds(method: str, path: str, operation: Operation) -> bool:
    """Whether the request names an object that may be missing: a path parameter, or the
    touchpoint, journey, stage or owner a selection or list is narrowed to."""
    names = {(p.param_in, p.name) for p in operation.parameters or [] if isinstance(p, Parameter)}
    if (method, path) in _FINDS_NOTHING:
        return False
    return any(where == ParamType.PATH or (where == ParamType.QUERY and name in _FILTER_IDS)
               for where, name in names)


def _input_errors(operation: Operation, *, api: bool = True) -> list[str]:
    """What an operation can answer about its input, from the input it takes.

    A body can be unreadable (400), invalid (422), too large (413) or not JSON (415; a page's form
    is not JSON, so only the API's). A parameter can be invalid (422); one that is required and
    left out is Litestar's 400. Without a body nothing is read from one: json_bodies lets any
    Content-Type through, and Litestar never reads it, so nor is it too large. On the API, any
    query parameter the operation does not take is a 422 (strict_queries), so every one lists it.
    """
    parameters = [p for p in operation.parameters or [] if isinstance(p, Parameter)]
    statuses = []
    if operation.request_body is not None:
        statuses += ["400", "413", "415"] if api else ["400", "413"]
    elif any(p.required and p.param_in != ParamType.PATH for p in parameters):
        statuses.append("400")
    if operation.request_body is not None or parameters or api:
        statuses.append("422")
    return statuses


def _api_errors(method: str, path: str, operation: Operation) -> list[str]:
    statuses = [*_API_ERRORS, *_input_errors(operation)]
    if "204" not in (operation.responses or {}):
        statuses.append("406")
    if _finds(method, path, operation):
        statuses.append("404")
    return sorted(statuses)


def document_errors(schema: OpenAPI) -> None:
    """Add the problem-details error responses each operation can answer, and their body to
    those an operation describes itself."""
    components = schema.components
    if components.schemas is None:
        components.schemas = {}
    components.schemas["Problem"] = _PROBLEM
    problem = OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))
    for path, item in (schema.paths or {}).items():
        for method, operation in _operations(item):
            if path.startswith("/api/"):
                errors, media = _api_errors(method, path, operation), {"application/problem+json": problem}
            elif path in ("/healthz", "/readyz"):
                # Liveness answers whenever the process does; readiness names its own 503.
                errors, media = [], {"application/json": OpenAPIMediaType(schema=Schema())}
            else:
                errors = sorted([*_PAGE_ERRORS, *_input_errors(operation, api=False)])
                media = {"text/html": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))}
            responses = operation.responses if operation.responses is not None else {}
            # Litestar puts its own 400 wherever there are parameters, whether or not one can be
            # missing: the service's own goes in its place, or none.
            if _framework_default(responses.get("400"), "400"):
                del responses["400"]
            for status in errors:
                responses.setdefault(status, OpenAPIResponse(description=ERROR_MEANINGS[status], content=media))
            for status, given in responses.items():
                if status.startswith(("4", "5")) and isinstance(given, OpenAPIResponse) and given.content is None:
                    # An operation's own wording of an error (`responses=` on its handler).
                    given.content = media
            operation.responses = responses
        if isinstance(item.get, Operation) and item.get.responses is not None:
            _document_not_modified(item.get.responses)
        if path in _NEGOTIATED and isinstance(item.get, Operation) and item.get.responses is not None:
            _document_alternatives(item.get.responses, _NEGOTIATED[path], {"application/problem+json": problem})


def _document_alternatives(responses: dict[str, OpenAPIResponse | Reference],
                           others: dict[str, OpenAPIMediaType], problem: dict[str, OpenAPIMediaType]) -> None:
    """The other media types a negotiated GET answers in, and its 406 when Accept takes none."""
    ok = responses.get("200")
    if isinstance(ok, OpenAPIResponse) and ok.content is not None:
        ok.content.update(others)
    responses.setdefault("406", OpenAPIResponse(description=ERROR_MEANINGS["406"], content=problem))


def _framework_default(response: OpenAPIResponse | Reference | None, status: str) -> bool:
    """Litestar's own 400 for handlers with parameters: a JSON body the service never sends,
    described by the status's stock phrase ("Bad request syntax or unsupported method")."""
    return isinstance(response, OpenAPIResponse) and response.description == HTTPStatus(int(status)).description


def _document_not_modified(responses: dict[str, OpenAPIResponse | Reference]) -> None:
    """A GET whose 200 carries an ETag also answers 304 (feedback/service/conditional.py)."""
    ok = responses.get("200")
    tag = ok.headers.get("ETag") if isinstance(ok, OpenAPIResponse) and ok.headers else None
    if tag is not None:
        responses.setdefault("304", OpenAPIResponse(
            description="Not modified: If-None-Match names the current ETag. No body.",
            headers={"ETag": tag}))


def document_answer_headers(app: Litestar) -> None:
    """Each route's headers on the answers that carry them. Litestar documents a route's
    `response_headers` on its success status only, and not at all when `responses=` words that
    status itself (a 201 with its own description); opt[ANSWER_HEADERS] gives them by status."""
    for route in app.routes:
        item = (app.openapi_schema.paths or {}).get(route.path_format)
        if not isinstance(route, HTTPRoute) or item is None:
            continue
        for handler in route.route_handlers:
            by_status = {handler.status_code: list(handler.resolve_response_headers()),
                         **handler.opt.get(ANSWER_HEADERS, {})}
            for method in handler.http_methods:
                operation = getattr(item, method.lower(), None)
                responses = operation.responses if isinstance(operation, Operation) else None
                for status, headers in by_status.items():
                    response = (responses or {}).get(str(status))
                    if not isinstance(response, OpenAPIResponse) or not headers:
                        continue
                    response.headers = response.headers or {}
                    for header in headers:
                        response.headers.setdefault(header.name, OpenAPIHeader(
                            schema=Schema(type=OpenAPIType.STRING), description=header.description))


def omit_head(schema: OpenAPI) -> None:
    """Leave HEAD out: it answers as GET does, without the body (the description says so once)."""
    for item in (schema.paths or {}).values():
        item.head = None
