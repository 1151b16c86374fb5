"""Rules of alert subscriptions: who may see them, which URLs they take."""

from __future__ import annotations

from urllib.parse import urlsplit

import asyncpg

from feedback.alerts import repository as repo
from feedback.alerts.models import Alert, AlertCreate, AlertDelivery, DeliveryStatus, trigger_flags
from feedback.service.database import Connection
from surveys import service as surveys_service
from surveys.errors import NotFound, invalid
from surveys.models import Page
from surveys.paging import MAX_ID, after_id, decode_cursor, encode_cursor


def checked_url(url: str) -> str:
    """The URL if a POST can go there: http(s), a host, a port that is a number, no credentials."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises on a port that is not a number or out of range
    except ValueError as exc:
        raise invalid("url", f"is not a URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise invalid("url", "must be an http or https URL")
    if not parts.hostname:
        raise invalid("url", "names no host")
    if parts.username is not None or parts.password is not None:
        raise invalid("url", "may not carry a user name or password; give a `secret` to sign the posts instead")
    return url


async def create_alert(conn: Connection, owner_id: int, data: AlertCreate) -> Alert:
    url = checked_url(data.url)
    await surveys_service.get_owner(conn, owner_id)
    try:
        return await repo.insert_alert(conn, owner_id=owner_id, url=url, secret=data.secret,
                                       **trigger_flags(data.triggers))
    except asyncpg.ForeignKeyViolationError:  # the owner was deleted a moment ago
        raise NotFound(f"Owner {owner_id} does not exist.") from None


async def list_alerts(conn: Connection, owner_id: int, *, scope: int | None, cursor: str | None,
                      limit: int) -> Page[Alert]:
    await surveys_service.get_owner(conn, owner_id, scope)
    items = await repo.list_alerts(conn, owner_id=owner_id, after=after_id(cursor), limit=limit + 1)
    if len(items) > limit:
        items = items[:limit]
        return Page(items=items, next_cursor=encode_cursor(items[-1].id))
    return Page(items=items, next_cursor=None)


async def get_alert(conn: Connection, owner_id: int, alert_id: int, *, scope: int | None) -> Alert:
    await surveys_service.get_owner(conn, owner_id, scope)
    alert = await repo.get_alert(conn, owner_id=owner_id, alert_id=alert_id)
    if alert is None:
        raise NotFound(f"Owner {owner_id} has no alert {alert_id}.")
    return alert


async def delete_alert(conn: Connection, owner_id: int, alert_id: int) -> None:
    await surveys_service.get_owner(conn, owner_id)
    if not await repo.delete_alert(conn, owner_id=owner_id, alert_id=alert_id):
        raise NotFound(f"Owner {owner_id} has no alert {alert_id}.")


async def list_deliveries(conn: Connection, owner_id: int, alert_id: int, *, scope: int | None,
                          status: DeliveryStatus | None, cursor: str | None,
                          limit: int) -> Page[AlertDelivery]:
    """Newest first."""
    await get_alert(conn, owner_id, alert_id, scope=scope)
    values = decode_cursor(cursor)
    before = MAX_ID if values is None else int(values[0])
    items = await repo.list_deliveries(conn, alert_id=alert_id, before=before,
                                       status=None if status is None else status.value, limit=limit + 1)
    if len(items) > limit:
        items = items[:limit]
        return Page(items=items, next_cursor=encode_cursor(items[-1].id))
    return Page(items=items, next_cursor=None)
