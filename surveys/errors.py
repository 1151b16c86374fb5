"""One error hierarchy; the service maps it to HTTP in one place (feedback/service/problems.py)."""

from __future__ import annotations

import msgspec


class FieldError(msgspec.Struct, frozen=True):
    """One offending input field and what is wrong with it."""

    field: str
    message: str


class ApplicationError(Exception):
    """Something went wrong in Touchpulse."""

    status: int = 500
    title: str = "Internal error"
    # The problem type a client matches on (RFC 9457 `type`, /docs#problem-<slug>): stable, one
    # status each, and documented in feedback/service/problems.py.
    slug: str = "internal-error"

    def __init__(self, detail: str | None = None, *, errors: list[FieldError] | None = None) -> None:
        self.detail = detail or (self.__doc__ or self.title).strip()
        self.errors = errors or []
        super().__init__(self.detail)


class ClientError(ApplicationError):
    """The request cannot be served as sent."""

    status = 400
    title = "Bad request"
    slug = "bad-request"


class InvalidInput(ClientError):
    """The request holds invalid fields."""

    status = 422
    title = "Invalid input"
    slug = "invalid-input"


class NotFound(ClientError):
    """No such object."""

    status = 404
    title = "Not found"
    slug = "not-found"


class Gone(ClientError):
    """This link has expired."""

    status = 410
    title = "Gone"
    slug = "link-expired"


class Conflict(ClientError):
    """The request conflicts with the current state."""

    status = 409
    title = "Conflict"
    slug = "conflict"


class NameTaken(Conflict):
    """Another object of this kind already has this name."""

    slug = "name-taken"

    def __init__(self, kind: str, name: str, existing_id: int | str, within: str = "") -> None:
        """`existing_id`: the one that has the name, by its id (or a touchpoint's key);
        `within`: where names must differ, if not everywhere ("of owner 3")."""
        self.kind, self.name, self.existing_id = kind, name, existing_id
        known = f"id {existing_id}" if isinstance(existing_id, int) else f"key {existing_id!r}"
        message = (f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}{f' {within}' if within else ''} named "
                   f"{name!r} already exists ({known})")
        super().__init__(message[0].upper() + message[1:] + ".", errors=[FieldError("name", message)])


class KeyTaken(Conflict):
    """Another touchpoint already has this key."""

    slug = "key-taken"


class StillInUse(Conflict):
    """The object is still in use, so it cannot be removed."""

    slug = "still-in-use"


class Unauthorized(ClientError):
    """A valid API key is required: send it as 'Authorization: Bearer <key>'."""

    status = 401
    title = "Unauthorized"
    slug = "unauthenticated"


class Forbidden(ClientError):
    """This API key's role does not allow this."""

    status = 403
    title = "Forbidden"
    slug = "forbidden"


class NotAcceptable(ClientError):
    """None of the media types this operation answers in is acceptable to the client."""

    status = 406
    title = "Not acceptable"
    slug = "not-acceptable"


class UnsupportedMediaType(ClientError):
    """The body's media type or encoding is not one this operation reads."""

    status = 415
    title = "Unsupported media type"
    slug = "unsupported-media-type"


class TooManyRequests(ClientError):
    """Too many requests; slow down and retry later."""

    status = 429
    title = "Too many requests"
    slug = "too-many-requests"


def invalid(field: str, message: str) -> InvalidInput:
    """An InvalidInput naming one field."""
    return InvalidInput(f"{field}: {message}", errors=[FieldError(field, message)])


def invalid_each(errors: list[FieldError]) -> InvalidInput:
    """An InvalidInput naming every offending field in its detail too, for a client that logs
    only `detail` (as `invalid` and the body checks do)."""
    return InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)
