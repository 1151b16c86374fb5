"""Request dependencies: a pooled connection, the principal behind the API key, plain path ids."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any, TypeAlias

from litestar import Request
from litestar.datastructures import State
from litestar.di import Dependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import PathParameter, QueryParameter

from feedback.access.models import Principal
from feedback.service.database import Connection, Pool
from surveys.models import KEY_PATTERN

# What handlers ask for by name; Litestar injects them.
Db: TypeAlias = Annotated[Connection, Dependency(kind="named")]
Caller: TypeAlias = Annotated[Principal, Dependency(kind="named")]
PoolDep: TypeAlias = Annotated[Pool, Dependency(kind="named")]

# Path ids are checked before any query: PostgreSQL's bigint is the ceiling, and each controller
# with `{...:int}` paths runs `plain_ids` before its handlers.
IdParam = Annotated[int, PathParameter(ge=1, le=2**63 - 1, description="A positive integer id.")]
# Text in a path is checked as closely: a key no touchpoint can have (too long, a capital, a
# space, a NUL) is a 422 naming `key`, not a 404 or the database's refusal of it.
KeyParam = Annotated[str, PathParameter(min_length=1, max_length=64, pattern=KEY_PATTERN,
                                        description="A touchpoint key: lowercase letters, digits and "
                                                    "dashes, 1–64 characters.")]
QueryId = Annotated[int | None, QueryParameter(ge=1, le=2**63 - 1, description="A positive integer id.")]
# A stage filter beside a journey filter that does not hold it would select nothing: a 422 says so.
StageQuery = Annotated[int | None, QueryParameter(
    ge=1, le=2**63 - 1, description="A stage id (a positive integer). With `journey`, it must be one "
                                    "of that journey's stages: another journey's is a 422 naming `stage`.")]
CursorParam = Annotated[
    str | None, QueryParameter(max_length=500, description="The next_cursor of the previous page.")
]
LimitParam = Annotated[int, QueryParameter(ge=1, le=500, description="Items per page, 1–500.")]


async def plain_ids(request: Request[Any, Any, Any]) -> None:
    """A 404, as the router gives for "abc", for an int path parameter not in ASCII digits.

    Litestar reads `{id:int}` with int(), which also takes "1_0", "+10", " 10" and fullwidth
    "１０": each would open (or delete) record 10 under another URL.
    """
    template = request.scope["path_template"].split("/")
    path = request.scope["path"].split("/")
    for name, value in request.path_params.items():
        if isinstance(value, int):
            text = path[template.index("{" + name + "}")]
            if not (text.isascii() and text.isdigit()):
                raise NotFoundException()


async def provide_conn(state: State, principal: Caller) -> AsyncGenerator[Connection, None]:
    # Depends on the principal so that a refused key never holds a connection.
    del principal
    async with state.pool.acquire() as conn:
        yield conn


def provide_pool(state: State) -> Pool:
    pool: Pool = state.pool
    return pool


async def authenticate(request: Request[Any, Any, Any], state: State) -> Principal:
    """The principal behind the request's API key; 401 without a valid one.

    Also called directly by the ingest route, the one route where Litestar's dependency
    resolution (two signature models per request) is a measurable share of the request.
    """
    principal: Principal = await state.key_cache.principal(state.pool, request.headers.get("authorization"))
    return principal


async def provide_principal(request: Request[Any, Any, Any], state: State) -> Principal:
    return await authenticate(request, state)


DEPENDENCIES = {
    "conn": Provide(provide_conn),
    "principal": Provide(provide_principal),
    "pool": Provide(provide_pool, sync_to_thread=False),
}
