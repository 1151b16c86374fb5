"""Collection's errors: link errors carry the language of the person who opened the link; the
others name the problem a shop or app must tell apart from its status's other causes."""

from __future__ import annotations

from surveys.errors import Conflict, Gone, InvalidInput, NotFound


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


class InvitationExpired(Gone):
    """This invitation's link has expired: it takes no answer, through the link or the API."""


class AlreadyAnswered(Conflict):
    """This invitation was answered, and its answer can no longer be changed."""

    slug = "already-answered"


class CustomerErased(Conflict):
    """The customer was erased after this answer was received, so it was not stored."""

    slug = "customer-erased"


class TouchpointPaused(Conflict):
    """This touchpoint is paused (active=false): it takes no new answers."""

    slug = "touchpoint-paused"


class EventIdReused(Conflict):
    """This event_id was already used for another customer or with other fields."""

    slug = "event-id-reused"


class IdempotencyKeyReused(InvalidInput):
    """This Idempotency-Key was already used with a different request body."""

    slug = "idempotency-key-reused"


class IdempotencyKeyInFlight(InvalidInput):
    """The concurrent requests with this Idempotency-Key did not finish."""

    slug = "idempotency-key-in-flight"
