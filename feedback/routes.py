"""Every route group of the runtime beyond the admin API, in one list the app factory reads."""

from __future__ import annotations

from typing import Any

from litestar import Router

from feedback.alerts.controllers import ROUTES as ALERT_ROUTES
from feedback.collection.controllers import ROUTES as COLLECTION_ROUTES
from feedback.insight.controllers import ROUTES as INSIGHT_ROUTES

# One router around every group: Litestar refuses two controllers sharing a path (here
# GET and POST /api/v1/responses) when they are registered separately on the app.
ROUTES: list[Any] = [Router(path="/", route_handlers=[*COLLECTION_ROUTES, *INSIGHT_ROUTES, *ALERT_ROUTES])]
