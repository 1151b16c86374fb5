"""201 Created answers name the new object's URL in Location (RFC 9110, 10.2.2); a 200 whose
body is an object as its GET shows it names that URL in Content-Location (8.7)."""

from __future__ import annotations

from typing import TypeVar

from litestar import Response
from litestar.datastructures import ResponseHeader
from litestar.status_codes import HTTP_201_CREATED

T = TypeVar("T")
# A handler's `opt` key: the headers its answers carry, by status, for the OpenAPI document
# (openapi.document_answer_headers). `response_headers=` reaches only the success status.
ANSWER_HEADERS = "answer_headers"


def location_doc(example: str) -> list[ResponseHeader]:
    """The OpenAPI document's word on a create route's Location (documentation_only: the value
    is the example; the route sets the real one)."""
    return [ResponseHeader(name="Location", documentation_only=True, value=example,
                           description="Where the new object is read back (GET).")]


def content_location_doc(example: str) -> list[ResponseHeader]:
    """The OpenAPI document's word on a 200's Content-Location, as location_doc's."""
    return [ResponseHeader(name="Content-Location", documentation_only=True, value=example,
                           description="Where the object this body shows is read (GET).")]


def created(body: T, location: str) -> Response[T]:
    """A 201 whose Location lets a client store the URL rather than build it from the body.

    Relative to the request's URL, as RFC 9110 allows: right behind any proxy, whatever
    TOUCHPULSE_BASE_URL says."""
    return Response(body, status_code=HTTP_201_CREATED, headers={"Location": location})
