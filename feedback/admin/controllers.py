"""HTTP routes for owners, journeys and touchpoints; the rules live in surveys.service."""

from __future__ import annotations

from litestar import Controller, Response, delete, patch, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from feedback.access.models import Role
from feedback.access.service import require
from feedback.service.created import created, location_doc
from feedback.service.dependencies import (
    Caller,
    CursorParam,
    Db,
    IdParam,
    KeyParam,
    LimitParam,
    QueryId,
    StageQuery,
    plain_ids,
)
from feedback.service.methods import get_and_head
from surveys import service
from surveys.kinds import SurveyKind
from surveys.models import (
    Channel,
    Journey,
    JourneyCreate,
    JourneyUpdate,
    Owner,
    OwnerCreate,
    OwnerUpdate,
    Page,
    Touchpoint,
    TouchpointCreate,
    TouchpointFilter,
    TouchpointUpdate,
)

SECURITY: list[dict[str, list[str]]] = [{"BearerAuth": []}]
# Problem details join them in feedback/service/openapi.py.
OWNER_NAME_TAKEN = {409: ResponseSpec(None, description=(
    "Another owner has this name, ignoring case, spacing and full-width forms; `detail` names "
    "it and its id, `errors` points at `name`."))}
_JOURNEY_NAME_TAKEN = (
    "Another journey has this name, ignoring case, spacing and full-width forms; `detail` names "
    "it and its id, `errors` points at `name`.")
JOURNEY_NAME_TAKEN = {409: ResponseSpec(None, description=_JOURNEY_NAME_TAKEN)}
JOURNEY_CHANGE_CONFLICT = {409: ResponseSpec(None, description=(
    _JOURNEY_NAME_TAKEN + " Or a stage to be removed still holds touchpoints."))}
OWNER_STILL_OWNS = {409: ResponseSpec(None, description=(
    "The owner still owns touchpoints; `detail` says how many. Give them to another owner first."))}
JOURNEY_STILL_HOLDS = {409: ResponseSpec(None, description=(
    "The journey still holds touchpoints; `detail` says how many. Move or delete them first."))}
_TOUCHPOINT_NAME_TAKEN = ("Another touchpoint of the owner has this name, ignoring case, spacing and "
                          "full-width forms (`name-taken`); `detail` names it and its key, `errors` points at `name`.")
TOUCHPOINT_KEY_TAKEN = {409: ResponseSpec(None, description=(
    f"A touchpoint with this `key` already exists (`key-taken`). {_TOUCHPOINT_NAME_TAKEN}"))}
TOUCHPOINT_NAME_TAKEN = {409: ResponseSpec(None, description=_TOUCHPOINT_NAME_TAKEN)}
TOUCHPOINT_HAS_HISTORY = {409: ResponseSpec(None, description=(
    "The touchpoint has invitations or responses; deactivate it (`active: false`) to keep its history."))}


class OwnerController(Controller):
    """Owners: the teams that answer for touchpoints."""

    path = "/api/v1/owners"
    tags = ("Owners",)
    security = SECURITY
    before_request = staticmethod(plain_ids)

    @post("/", summary="Create an owner", responses=OWNER_NAME_TAKEN,
          response_headers=location_doc("/api/v1/owners/7"))
    async def create(self, data: JSONBody[OwnerCreate], conn: Db, principal: Caller) -> Response[Owner]:
        require(principal)
        owner = await service.create_owner(conn, data)
        return created(owner, f"{self.path}/{owner.id}")

    @get_and_head("/", summary="List owners")
    async def list(self, conn: Db, principal: Caller, cursor: CursorParam = None,
                   limit: LimitParam = 50) -> Page[Owner]:
        require(principal, Role.OWNER)
        return await service.list_owners(conn, cursor=cursor, limit=limit, scope=principal.owner_scope)

    @get_and_head("/{owner_id:int}", summary="Read an owner")
    async def read(self, owner_id: IdParam, conn: Db, principal: Caller) -> Owner:
        require(principal, Role.OWNER)
        return await service.get_owner(conn, owner_id, principal.owner_scope)

    @patch("/{owner_id:int}", summary="Change an owner", responses=OWNER_NAME_TAKEN)
    async def update(self, owner_id: IdParam, data: JSONBody[OwnerUpdate], conn: Db,
                     principal: Caller) -> Owner:
        require(principal)
        return await service.update_owner(conn, owner_id, data)

    @delete("/{owner_id:int}", summary="Delete an owner who owns no touchpoints",
             status_code=HTTP_204_NO_CONTENT, responses=OWNER_STILL_OWNS)
    async def remove(self, owner_id: IdParam, conn: Db, principal: Caller) -> None:
        require(principal)
        await service.delete_owner(conn, owner_id)


class JourneyController(Controller):
    """Journeys and their ordered stages."""

    path = "/api/v1/journeys"
    tags = ("Journeys",)
    security = SECURITY
    before_request = staticmethod(plain_ids)

    @post("/", summary="Create a journey (default: the eight lifecycle stages)", responses=JOURNEY_NAME_TAKEN,
          response_headers=location_doc("/api/v1/journeys/2"))
    async def create(self, data: JSONBody[JourneyCreate], conn: Db, principal: Caller) -> Response[Journey]:
        require(principal)
        journey = await service.create_journey(conn, data)
        return created(journey, f"{self.path}/{journey.id}")

    @get_and_head("/", summary="List journeys")
    async def list(self, conn: Db, principal: Caller, cursor: CursorParam = None,
                   limit: LimitParam = 50) -> Page[Journey]:
        require(principal, Role.OWNER)
        return await service.list_journeys(conn, cursor=cursor, limit=limit, scope=principal.owner_scope)

    @get_and_head("/{journey_id:int}", summary="Read a journey with its stages")
    async def read(self, journey_id: IdParam, conn: Db, principal: Caller) -> Journey:
        require(principal, Role.OWNER)
        return await service.get_journey(conn, journey_id, principal.owner_scope)

    @patch("/{journey_id:int}", summary="Rename a journey; add, rename, reorder or remove its stages",
           responses=JOURNEY_CHANGE_CONFLICT)
    async def update(self, journey_id: IdParam, data: JSONBody[JourneyUpdate], conn: Db,
                     principal: Caller) -> Journey:
        require(principal)
        return await service.update_journey(conn, journey_id, data)

    @delete("/{journey_id:int}", summary="Delete a journey that holds no touchpoints",
            status_code=HTTP_204_NO_CONTENT, responses=JOURNEY_STILL_HOLDS)
    async def remove(self, journey_id: IdParam, conn: Db, principal: Caller) -> None:
        require(principal)
        await service.delete_journey(conn, journey_id)


class TouchpointController(Controller):
    """Touchpoints: where and how customers are asked."""

    path = "/api/v1/touchpoints"
    tags = ("Touchpoints",)
    security = SECURITY

    @post("/", summary="Create a touchpoint", responses=TOUCHPOINT_KEY_TAKEN,
          response_headers=location_doc("/api/v1/touchpoints/support-call"))
    async def create(self, data: JSONBody[TouchpointCreate], conn: Db, principal: Caller) -> Response[Touchpoint]:
        require(principal)
        touchpoint = await service.create_touchpoint(conn, data)
        return created(touchpoint, f"{self.path}/{touchpoint.key}")

    @get_and_head("/", summary="List touchpoints")
    async def list(
        self, conn: Db, principal: Caller, cursor: CursorParam = None, limit: LimitParam = 50,
        journey: QueryId = None, stage: StageQuery = None, owner: QueryId = None,
        channel: FromQuery[Channel | None] = None, kind: FromQuery[SurveyKind | None] = None,
        active: FromQuery[bool | None] = None,
    ) -> Page[Touchpoint]:
        require(principal, Role.OWNER)
        filters = TouchpointFilter(journey=journey, stage=stage, owner=owner, channel=channel,
                                   kind=kind, active=active)
        return await service.list_touchpoints(conn, cursor=cursor, limit=limit, filters=filters,
                                              scope=principal.owner_scope)

    @get_and_head("/{key:str}", summary="Read a touchpoint")
    async def read(self, key: KeyParam, conn: Db, principal: Caller) -> Touchpoint:
        require(principal, Role.OWNER)
        return await service.get_touchpoint(conn, key, principal.owner_scope)

    @patch("/{key:str}", summary="Change a touchpoint (answers keep the kind they were given on)",
           responses=TOUCHPOINT_NAME_TAKEN)
    async def update(self, key: KeyParam, data: JSONBody[TouchpointUpdate], conn: Db,
                     principal: Caller) -> Touchpoint:
        require(principal)
        return await service.update_touchpoint(conn, key, data)

    @delete("/{key:str}", summary="Delete a touchpoint with no history", status_code=HTTP_204_NO_CONTENT,
            responses=TOUCHPOINT_HAS_HISTORY)
    async def remove(self, key: KeyParam, conn: Db, principal: Caller) -> None:
        require(principal)
        await service.delete_touchpoint(conn, key)


ROUTES = [OwnerController, JourneyController, TouchpointController]
