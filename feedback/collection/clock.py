"""This instance's clock, in one place: the time it stamps answers with when they arrive."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """This instance's time; another machine's (the database's) may differ from it."""
    return datetime.now(UTC)
