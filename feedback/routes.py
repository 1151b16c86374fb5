"""Every route group of the runtime beyond the admin API, in one list the app factory reads."""

from __future__ import annotations

from typing import Any

from feedback.collection.controllers import ROUTES as COLLECTION_ROUTES
from feedback.insight.controllers import ROUTES as INSIGHT_ROUTES

ROUTES: list[Any] = [*COLLECTION_ROUTES, *INSIGHT_ROUTES]
