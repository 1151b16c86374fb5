"""HTTP routes of an owner's alert subscriptions and their deliveries."""

from __future__ import annotations

from litestar import Controller, Response, delete, post
from litestar.datastructures import State
from litestar.params import FromQuery, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from feedback.access.models import Role
from feedback.access.service import require
from feedback.alerts import service
from feedback.alerts.models import Alert, AlertCreate, AlertDelivery, DeliveryStatus
from feedback.service.created import created, location_doc
from feedback.service.dependencies import Caller, CursorParam, Db, IdParam, LimitParam, plain_ids
from feedback.service.methods import get_and_head
from feedback.service.pages import PRIVATE_DATA
from surveys.models import Page


class AlertController(Controller):
    """Webhook alerts: an admin subscribes an owner's URL; an owner key reads its own owner's."""

    path = "/api/v1/owners/{owner_id:int}/alerts"
    tags = ("Alerts",)
    security = [{"BearerAuth": []}]  # noqa: RUF012 - Litestar reads it as a class attribute
    before_request = staticmethod(plain_ids)
    # A webhook URL is a credential of its own (anyone holding a Slack one may post there).
    cache_control = PRIVATE_DATA

    @post("/", summary="Subscribe a webhook to the owner's low scores or negative comments",
          response_headers=location_doc("/api/v1/owners/4/alerts/2"))
    async def create(self, owner_id: IdParam, data: JSONBody[AlertCreate], conn: Db,
                     principal: Caller, state: State) -> Response[Alert]:
        require(principal)
        alert = await service.create_alert(conn, owner_id, data)
        # Committed: this instance's writer learns at once; the others by notification.
        state.alert_rules.clear()
        return created(alert, f"/api/v1/owners/{owner_id}/alerts/{alert.id}")

    @get_and_head("/", summary="List the owner's webhook alerts")
    async def list(self, owner_id: IdParam, conn: Db, principal: Caller, cursor: CursorParam = None,
                   limit: LimitParam = 50) -> Page[Alert]:
        require(principal, Role.OWNER)
        return await service.list_alerts(conn, owner_id, scope=principal.owner_scope, cursor=cursor,
                                         limit=limit)

    @get_and_head("/{alert_id:int}", summary="Read a webhook alert")
    async def read(self, owner_id: IdParam, alert_id: IdParam, conn: Db, principal: Caller) -> Alert:
        require(principal, Role.OWNER)
        return await service.get_alert(conn, owner_id, alert_id, scope=principal.owner_scope)

    @delete("/{alert_id:int}", summary="Delete a webhook alert and the deliveries it has not made",
            status_code=HTTP_204_NO_CONTENT)
    async def remove(self, owner_id: IdParam, alert_id: IdParam, conn: Db, principal: Caller,
                     state: State) -> None:
        require(principal)
        await service.delete_alert(conn, owner_id, alert_id)
        state.alert_rules.clear()

    @get_and_head("/{alert_id:int}/deliveries",
                  summary="A webhook alert's deliveries, newest first: status, attempts, last error")
    async def deliveries(self, owner_id: IdParam, alert_id: IdParam, conn: Db, principal: Caller,
                         status: FromQuery[DeliveryStatus | None] = None, cursor: CursorParam = None,
                         limit: LimitParam = 50) -> Page[AlertDelivery]:
        require(principal, Role.OWNER)
        return await service.list_deliveries(conn, owner_id, alert_id, scope=principal.owner_scope,
                                             status=status, cursor=cursor, limit=limit)


ROUTES = [AlertController]
