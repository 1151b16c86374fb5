"""201 Created answers name the new object's URL in Location (RFC 9110, 10.2.2)."""

from __future__ import annotations

from typing import TypeVar

from litestar import Response
from litestar.datastructures import ResponseHeader
from litestar.status_codes import HTTP_201_CREATED

T = TypeVar("T")


def location_doc(example: str) -> list[ResponseHeader]:
    """The OpenAPI document's word on a create route's Location (documentation_only: the value
    is the example; the route sets the real one)."""
    return [ResponseHeader(name="Location", documentation_only=True, value=example,
                           description="Where the new object is read back (GET).")]


def created(body: T, location: str) -> Response[T]:
    """A 201 whose Location lets a client store the URL rather than build it from the body.

    Relative to the request's URL, as RFC 9110 allows: right behind any proxy, whatever
    TOUCHPULSE_BASE_URL says."""
    return Response(body, status_code=HTTP_201_CREATED, headers={"Location": location})
