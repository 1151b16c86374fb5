"""Every route group of the runtime beyond the admin API, in one list the app factory reads."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
