"""The customer-journey vocabulary as msgspec Structs: owners, journeys, stages, touchpoints."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Generic, TypeVar

import msgspec

from surveys.kinds import Band, Category, SurveyKind


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every API input: unknown fields are refused, not silently dropped."""


class Output(msgspec.Struct, kw_only=True):
    """Base of every API output."""


# msgspec.Meta(extra={DOCUMENTED_ITEMS: T}) on a list read as list[Any]: the API document
# shows its items as T (feedback/service/openapi.py).
DOCUMENTED_ITEMS = "documented_items"

# PostgreSQL text cannot hold NUL: every text input refuses it, so the 422 names the field.
NO_NUL = r"^[^\x00]*$"

# A name (or a question's wording) is one line wherever it shows: no control character, C0
# (U+0000–U+001F) or C1 (U+007F–U+009F). The whitespace ones (tab, newline, CR, VT, FF, U+001C–
# U+001F, NEL) pass the pattern only to be trimmed around the name like spaces: one left inside
# it is refused by surveys.service. Format characters (U+202E and the like) are not controls
# and are allowed (they spell some scripts and emoji); pages print them as text, escaped and
# isolated from the words around them (feedback/insight/typeset.py).
ONE_LINE = r"^[^\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]*$"
# A description is prose: tab, newline and CR only.
PROSE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
_ONE_LINE_DOC = ("No control characters: tab, newline and the other whitespace ones are trimmed "
                 "around it like spaces and refused inside it.")

Id = Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1, description="A positive integer id.")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=ONE_LINE,
                                   description=f"A name, one line. {_ONE_LINE_DOC}")]
EMAIL_PATTERN = r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$"
Email = Annotated[str, msgspec.Meta(pattern=EMAIL_PATTERN, max_length=320, description="An email address.")]
# The touchpoints table checks it too (0001): a key outside it cannot exist. Its length is a rule
# of its own, so that a key too long is told so, not that it breaks the pattern.
KEY_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
# What a key outside the pattern is told (feedback/service/validation.py), rather than the regex.
KEY_MESSAGE = "must be lowercase letters, digits and dashes, beginning and ending with a letter or digit"
TouchpointKey = Annotated[
    str,
    msgspec.Meta(
        min_length=1, max_length=64, pattern=KEY_PATTERN,
        description="A slug: lowercase letters, digits and dashes, 1–64 characters.",
        examples=["order-confirmation-email"],
    ),
]
Locale = Annotated[str, msgspec.Meta(pattern=r"^(en|ru)$", description="en or ru")]
Wording = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=ONE_LINE,
                                      description=f"A question, one line. {_ONE_LINE_DOC}")]
SampleRate = Annotated[float, msgspec.Meta(ge=0, le=1)]
Days = Annotated[int, msgspec.Meta(ge=0, le=3650)]
# The longest a survey link stays open; invitation retention must outlast it.
MAX_EXPIRY_DAYS = 365
ExpiryDays = Annotated[int, msgspec.Meta(ge=1, le=MAX_EXPIRY_DAYS)]
Description = Annotated[str, msgspec.Meta(
    max_length=2000, pattern=PROSE,
    description="Prose: it keeps tabs and newlines; other control characters are refused.")]
StageName = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=ONE_LINE,
                                        description=f"A stage's name, one line. {_ONE_LINE_DOC}")]

# A stored answer's fields, named and described once for every output that shows one (the
# answer to POST /api/v1/responses, an invitation's response, GET /api/v1/responses and its CSV).
AnswerBand = Annotated[Band, msgspec.Meta(
    description="Where the score falls on its kind's scale: `low`, `middle` or `high`, as the "
                "`band` filter of `GET /api/v1/responses` takes it.")]
AnswerCategory = Annotated[Category, msgspec.Meta(
    description="The kind's own word for the band: `detractor`, `passive`, `promoter` (NPS); "
                "`dissatisfied`, `neutral`, `satisfied` (CSAT); `difficult`, `neutral`, `easy` (CES).")]
AnswerCustomer = Annotated[str | None, msgspec.Meta(
    description="The customer reference sent with the answer or with its invitation, as the "
                "`customer` filter of `GET /api/v1/responses` takes it; null when none was sent.")]


class Channel(enum.StrEnum):
    """Where the customer meets the touchpoint."""

    EMAIL = "email"
    SMS = "sms"  # the survey url in a text message
    APP = "app"
    WEB = "web"
    PHONE = "phone"
    CHAT = "chat"
    STORE = "store"
    OTHER = "other"


LIFECYCLE_STAGES: tuple[str, ...] = (
    "Acquisition", "Selection", "Sale", "Onboarding",
    "Solution", "Evolution", "Loyalty", "Offboarding",
)


class Owner(Output):
    """The team or person who answers for touchpoints."""

    id: int
    name: str
    email: str | None
    created_at: datetime
    updated_at: datetime


class OwnerCreate(Input):
    """An owner to create."""

    name: Name
    email: Email | None = None


class OwnerUpdate(Input):
    """Fields of an owner to change; absent fields stay as they are."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    email: Email | msgspec.UnsetType | None = msgspec.UNSET


class Stage(Output):
    """One step of a journey, in order."""

    id: int
    name: str
    position: int


class Journey(Output):
    """A customer journey and its ordered stages."""

    id: int
    name: str
    description: str
    stages: list[Stage]
    created_at: datetime
    updated_at: datetime


class StagePlan(Input):
    """A stage in a journey's new order: an existing id to keep (and rename), or a new name."""

    name: StageName
    id: Id | None = None


class JourneyCreate(Input):
    """A journey to create; without stages it gets the eight lifecycle stages."""

    name: Name
    description: Description = ""
    # Names, or objects as PATCH takes them, so one client shape serves both; every stage of a
    # new journey is new, so an id is refused (surveys/service.py).
    stages: Annotated[list[StageName | StagePlan], msgspec.Meta(
        min_length=1, max_length=50,
        description="The stages in order, each a name (`\"Request\"`) or an object `{\"name\": \"Request\"}` "
                    "as `PATCH` takes it; an object with an `id` is a 422 naming `stages[N].id`, as every "
                    "stage of a new journey is new. Left out: the eight lifecycle stages.")] | None = None


class JourneyUpdate(Input):
    """Journey changes. `stages`, when given, is the complete new order: listed ids are kept
    (renamed when the name differs), entries without id are added, missing stages are removed."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    stages: Annotated[list[StagePlan], msgspec.Meta(min_length=1, max_length=50)] | msgspec.UnsetType = (
        msgspec.UNSET
    )


class Touchpoint(Output):
    """A moment in the journey where the customer is asked one question."""

    id: int
    key: str
    name: str
    journey_id: int
    stage_id: int
    stage: str
    channel: Channel
    owner_id: int
    owner: str
    kind: SurveyKind
    # The wording shown, per locale: the touchpoint's own or the kind's default.
    questions: dict[str, str]
    custom_questions: dict[str, str]
    target: float | None
    sample_rate: float
    recontact_days: int
    expiry_days: int
    active: bool
    created_at: datetime
    updated_at: datetime


class TouchpointCreate(Input):
    """A touchpoint to create."""

    key: TouchpointKey
    name: Name
    stage_id: Id
    channel: Channel
    owner_id: Id
    kind: SurveyKind
    questions: dict[Locale, Wording] = msgspec.field(default_factory=dict)
    target: float | None = None
    sample_rate: SampleRate = 1.0
    recontact_days: Days = 30
    expiry_days: ExpiryDays = 14
    active: bool = True


class TouchpointUpdate(Input):
    """Fields of a touchpoint to change. Answers already given keep their kind and scale."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    stage_id: Id | msgspec.UnsetType = msgspec.UNSET
    channel: Channel | msgspec.UnsetType = msgspec.UNSET
    owner_id: Id | msgspec.UnsetType = msgspec.UNSET
    kind: SurveyKind | msgspec.UnsetType = msgspec.UNSET
    questions: dict[Locale, Wording] | msgspec.UnsetType = msgspec.UNSET
    target: float | msgspec.UnsetType | None = msgspec.UNSET
    sample_rate: SampleRate | msgspec.UnsetType = msgspec.UNSET
    recontact_days: Days | msgspec.UnsetType = msgspec.UNSET
    expiry_days: ExpiryDays | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class TouchpointFilter(Input):
    """Filters of the touchpoint list."""

    journey: int | None = None
    stage: int | None = None
    owner: int | None = None
    channel: Channel | None = None
    kind: SurveyKind | None = None
    active: bool | None = None


T = TypeVar("T")


class Page(Output, Generic[T]):
    """One page of a list and the cursor of the next; null when this is the last."""

    items: list[T]
    next_cursor: str | None
