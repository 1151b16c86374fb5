"""Conditional GET: an ETag from a hash of the body, and 304 to a matching If-None-Match."""

from __future__ import annotations

from hashlib import blake2b
from typing import Any, TypeVar

from litestar import Request, Response
from litestar.datastructures import CacheControlHeader, ResponseHeader
from litestar.response import Template
from litestar.response.base import ASGIResponse

T = TypeVar("T")

# A 304 sends every header of the 200 it stands for (RFC 9110, 15.4.5) except these.
_BODY_HEADERS = ("content-type", "content-length")

# For answers a client may keep but must check before each use (no-cache): with the ETag, an
# unchanged one costs a 304. `private`: the answer depends on the caller's key.
REVALIDATE = CacheControlHeader(private=True, no_cache=True)
# The OpenAPI document's word on it, for the routes whose response_class is Conditional.
# (documentation_only: Litestar sends no such fixed header; the value is the example.)
ETAG_DOC = [ResponseHeader(
    name="ETag", documentation_only=True, value='"8c1f0a5e2d7b4c3a9e6f1d2b0a4c8e7f"',
    description="A hash of the answer; send it back in If-None-Match to get a 304 while it is unchanged.")]


def entity_tag(content_type: str, body: bytes) -> str:
    """A strong ETag for these exact bytes of this media type.

    The media type is hashed too: the JSON and the CSV of one URL (Vary: Accept) never share
    a tag, even were their bytes equal.
    """
    digest = blake2b(content_type.encode("latin-1") + b"\n" + body, digest_size=16)
    return f'"{digest.hexdigest()}"'


def none_match(if_none_match: str | None, tag: str) -> bool:
    """False when the client's If-None-Match names `tag` (weak comparison) or is `*`."""
    if if_none_match is None:
        return True
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == tag:
            return False
    return True


def revalidated(answer: ASGIResponse, request: Request[Any, Any, Any]) -> ASGIResponse:
    """`answer` with its ETag, or the 304 that stands for it when If-None-Match names the tag.

    Only a 200 gets a tag: an error page or problem is never revalidated.
    """
    if answer.status_code != 200:
        return answer
    tag = entity_tag(answer.headers.get("content-type", ""), answer.body)
    answer.headers["etag"] = tag
    if none_match(request.headers.get("if-none-match"), tag):
        return answer
    # The 200's headers (Cache-Control, Vary, ETag) without the body's own.
    answer.status_code, answer.body = 304, b""
    for name in _BODY_HEADERS:
        del answer.headers[name]
    return answer


class Conditional(Response[T]):
    """A route's `response_class` for bodies that dashboards poll: ETag, and 304 when unchanged.

    Only routes that name it pay for the hash; an error (raised, so answered by the exception
    handlers) never gets a tag. The body is rendered for HEAD too, so HEAD carries GET's ETag.
    """

    def to_asgi_response(self, app: Any, request: Request[Any, Any, Any], **kwargs: Any) -> ASGIResponse:
        return revalidated(super().to_asgi_response(app, request, **kwargs), request)


class ConditionalTemplate(Template):
    """A page with an ETag, and a 304 when unchanged: what Conditional is to a route's data.

    A handler that returns a response object bypasses `response_class`, so a page says it
    itself. Only for pages whose bytes are the same on every request (no nonce, no token made
    per answer): else the tag never matches.
    """

    def to_asgi_response(self, app: Any, request: Request[Any, Any, Any], **kwargs: Any) -> ASGIResponse:
        return revalidated(super().to_asgi_response(app, request, **kwargs), request)
