"""Every answer the service can give is documented: the error statuses join each operation."""

from __future__ import annotations

from http import HTTPStatus

from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)

_PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    description="RFC 9457 problem details.",
    required=["type", "title", "status", "detail"],
    properties={
        "type": Schema(type=OpenAPIType.STRING),
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

# What an /api/ operation may answer besides its own statuses. Not 405 (a documented method
# on its path is allowed), 410 or 429 (only survey, widget and share pages expire or limit).
_API_ERRORS = {
    "400": "The request could not be read (bad JSON, bad encoding).",
    "401": "No API key, or not a valid one.",
    "403": "The key's role does not allow this.",
    "404": "No such object, or not one this key may see.",
    "409": "The request conflicts with the current state.",
    "413": "The body is too large.",
    "415": "The body is not `application/json`, or is compressed; `detail` names the type.",
    "422": "Invalid input; `errors` names each offending field.",
    "503": "The database is unreachable; nothing was recorded.",
}
_PAGE_ERRORS = {
    **{k: v for k, v in _API_ERRORS.items() if k not in ("401", "403", "415")},
    "410": "Expired.", "429": "Too many requests.",
}
# Only a request that carries a body can send one too large or of the wrong type.
_BODY_ERRORS = frozenset({"413", "415"})
_WITH_BODY = frozenset({"post", "put", "patch"})
# The GETs that answer in more than one media type, chosen by Accept.
_NEGOTIATED = {"/api/v1/responses"}


def _operations(path_item: object) -> list[tuple[str, Operation]]:
    found = []
    for method in ("get", "put", "post", "delete", "patch"):
        operation = getattr(path_item, method, None)
        if isinstance(operation, Operation):
            found.append((method, operation))
    return found


def document_errors(schema: OpenAPI) -> None:
    """Add the problem-details error responses to every operation that lacks them, and their
    body to those an operation describes itself."""
    components = schema.components
    if components.schemas is None:
        components.schemas = {}
    components.schemas["Problem"] = _PROBLEM
    problem = OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))
    for path, item in (schema.paths or {}).items():
        if path.startswith("/api/"):
            errors, media = _API_ERRORS, {"application/problem+json": problem}
        elif path in ("/healthz", "/readyz"):
            errors, media = {"503": _API_ERRORS["503"]}, {"application/json": OpenAPIMediaType(schema=Schema())}
        else:
            errors, media = _PAGE_ERRORS, {"text/html": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))}
        for method, operation in _operations(item):
            responses = operation.responses if operation.responses is not None else {}
            for status, description in errors.items():
                if status in _BODY_ERRORS and method not in _WITH_BODY:
                    continue
                if _framework_default(responses.get(status), status):
                    del responses[status]
                responses.setdefault(status, OpenAPIResponse(description=description, content=media))
                given = responses[status]
                if isinstance(given, OpenAPIResponse) and given.content is None:
                    # An operation's own wording of an error (`responses=` on its handler).
                    given.content = media
            operation.responses = responses
        if isinstance(item.get, Operation) and item.get.responses is not None:
            _document_not_modified(item.get.responses)
        if path in _NEGOTIATED and isinstance(item.get, Operation) and item.get.responses is not None:
            item.get.responses.setdefault("406", OpenAPIResponse(
                description="Accept refuses every media type offered; `detail` names them.",
                content=media))


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


def omit_head(schema: OpenAPI) -> None:
    """Leave HEAD out: it answers as GET does, without the body (the description says so once)."""
    for item in (schema.paths or {}).values():
        item.head = None
