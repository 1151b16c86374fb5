"""Link errors that carry the language of the person who opened the link."""

from __future__ import annotations

from surveys.errors import Gone, NotFound


class UnknownLink(NotFound):
    """This survey link does not exist."""

    def __init__(self, locale: str | None = None) -> None:
        super().__init__()
        self.locale = locale


class ExpiredLink(Gone):
    """This survey link has expired."""

    def __init__(self, locale: str | None = None) -> None:
        super().__init__()
        self.locale = locale


class UnknownWidget(NotFound):
    """No active survey has this key."""

    def __init__(self, locale: str | None = None) -> None:
        super().__init__()
        self.locale = locale
