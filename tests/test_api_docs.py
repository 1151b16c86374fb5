"""The API reference page (/docs) and the OpenAPI document it is read from."""

from __future__ import annotations

from typing import Any

import httpx

_ERROR = ("4", "5")


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:
    spec: dict[str, Any] = (await client.get("/schema/openapi.json")).json()
    return spec


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in spec["paths"].items() for method, op in item.items()
            if method in ("get", "post", "put", "patch", "delete")]


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
