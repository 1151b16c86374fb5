"""Link errors that carry the language of the person who opened the link."""

from __future__ import annotations

from surveys.errors import Conflict, Gone, NotFound


class UnknownLink(NotFound):
    """This survey link does not exist."""

    def __init__(self, locale: str | None = None) -> None:
        super().__init__()
        self.locale = locale


class ExpiredLink(Gone):
    """This survey link has expired."""

    def __init__(self, locale: str | None = None, *, answered: bool = False) -> None:
        super().__init__()
        self.locale = locale
        # Answered before it expired: the page thanks rather than says the survey is closed.
        self.answered = answered


class UnknownWidget(NotFound):
    """No active survey has this key."""

    def __init__(self, locale: str | None = None) -> None:
        super().__init__()
        self.locale = locale


class CustomerErased(Conflict):
    """The customer was erased after this answer was received, so it was not stored."""
