"""Collection inputs and outputs: triggers, invitations, responses, erasure."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec

from feedback.sentiment.models import SentimentOut
from surveys.models import (
    DOCUMENTED_ITEMS,
    NO_NUL,
    AnswerBand,
    AnswerCategory,
    AnswerCustomer,
    Channel,
    Input,
    Locale,
    Output,
    TouchpointKey,
)

# No NUL (see NO_NUL): bad input stays a 422 naming its field, never a 500.
CustomerRef = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL,
                                          description="The caller's own customer reference.")]
EventId = Annotated[str, msgspec.Meta(
    min_length=1, max_length=200, pattern=NO_NUL,
    description="The caller's id of the touchpoint event. Sent again, for the same customer, it gets "
                "the first answer: each of locale, channel and context it gives must equal what the "
                "first request stored (else a 409 event-id-reused); one it leaves out is not compared.")]
ContextKey = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NO_NUL)]
ContextValue = str | int | float | bool | None
# Hidden fields: flat, scalar values only; the 4 KiB limit is checked on the encoded form.
Context = dict[ContextKey, ContextValue]
Comment = Annotated[str, msgspec.Meta(max_length=2000, pattern=NO_NUL)]
# Wide enough to hold any scale, narrow enough for smallint; the kind's scale is checked later.
RawScore = Annotated[int, msgspec.Meta(ge=-1000, le=1000)]
Moment = Annotated[datetime, msgspec.Meta(tz=True)]

CONTEXT_MAX_BYTES = 4096
BATCH_MAX = 1000


class InvitationCreate(Input):
    """A touchpoint event: ask this customer, unless a contact rule says not to."""

    customer: CustomerRef
    # Left out (or null): en, and the touchpoint's channel.
    locale: Locale | None = None
    channel: Channel | None = None
    # Left out: {} is stored. UNSET rather than {} tells a retry that leaves it out (not compared)
    # from one that sends {} (compared).
    context: Context | msgspec.UnsetType = msgspec.UNSET
    event_id: EventId | None = None


class BatchTrigger(Input):
    """One trigger of a batch: an invitation request naming its touchpoint."""

    touchpoint: TouchpointKey
    customer: CustomerRef
    locale: Locale | None = None
    channel: Channel | None = None
    context: Context | msgspec.UnsetType = msgspec.UNSET
    event_id: EventId | None = None

    def invitation(self) -> InvitationCreate:
        return InvitationCreate(customer=self.customer, locale=self.locale, channel=self.channel,
                                context=self.context, event_id=self.event_id)


class BatchCreate(Input):
    """Up to 1,000 triggers; each is validated on its own so one bad item sinks nothing else."""

    # Read as Any so that a bad item gets its own result (service.trigger_batch), one holding a
    # number beyond a float's range too (validation.WideNumbersRequest); documented as the
    # trigger it must be, so that generated clients are typed.
    items: Annotated[list[Any], msgspec.Meta(min_length=1, max_length=BATCH_MAX,
                                             extra={DOCUMENTED_ITEMS: BatchTrigger})]


# Tagged (a "decision" field in the JSON) so that the two answers form one documented union.
class InvitationSent(Output, tag_field="decision", tag="sent"):
    """The customer is to be asked: the link, its expiry and a ready email block."""

    id: UUID
    url: str
    expires_at: datetime
    email_html: str
    one_click_urls: dict[str, str]


class InvitationSkipped(Output, tag_field="decision", tag="skipped"):
    """The customer is not asked this time, and why."""

    id: UUID
    skipped: str


class ItemProblem(Output):
    """Why one batch item failed."""

    type: Annotated[str, msgspec.Meta(description="The problem type, as a Problem's `type` names it.")]
    title: str
    detail: str
    errors: list[dict[str, str]] = msgspec.field(default_factory=list)


class BatchResult(Output, omit_defaults=True):
    """The answer to one batch item: the status and body it would have had on its own."""

    status: int
    body: InvitationSent | InvitationSkipped | None = None
    problem: ItemProblem | None = None


class BatchResults(Output):
    """One result per batch item, in order."""

    results: list[BatchResult]


class ResponseOut(Output):
    """A stored answer: what `POST /api/v1/responses` answers, `GET /api/v1/responses` lists and
    `GET /api/v1/responses/{response_id}` reads. The CSV export has these fields in this order,
    `sentiment` flattened into `sentiment_polarity`, `sentiment_subjectivity`, `sentiment_label`
    and `sentiment_language`, `themes` joined with `;` and `context` as one JSON object."""

    id: UUID
    touchpoint: str
    invitation_id: UUID | None
    kind: str
    score: int
    band: AnswerBand
    category: AnswerCategory
    scale_min: int
    scale_max: int
    comment: str | None
    customer: AnswerCustomer
    locale: str
    channel: str
    source: str
    context: dict[str, Any]
    sentiment: SentimentOut
    themes: list[str]
    analyzer_version: int
    occurred_at: datetime
    created_at: datetime
    updated_at: datetime
    edits: int


class ResponseCreate(Input):
    """An answer collected by an app or website."""

    touchpoint: TouchpointKey
    score: RawScore
    comment: Comment | None = None
    customer: CustomerRef | None = None
    locale: Locale | None = None
    channel: Channel | None = None
    context: Context = msgspec.field(default_factory=dict)
    occurred_at: Moment | None = None
    # UNSET when left out, so that a request without it hashes (Idempotency-Key) as it always did.
    invitation_id: Annotated[UUID | None, msgspec.Meta(
        description="The invitation this answers (the `id` of `POST /api/v1/touchpoints/{key}/invitations`): "
                    "recorded as its answer, exactly as one sent through its survey link, so the invitation "
                    "counts as answered. Its touchpoint must be `touchpoint`, and `customer`, if given, its "
                    "customer; `customer`, `locale`, `channel` and `context` left out are the invitation's. "
                    "Answered again within the edit window, the answer is changed (200, `edits` counts); "
                    "after it, a 409 `already-answered`. An expired invitation is a 410 `link-expired`.")] | (
        msgspec.UnsetType) = msgspec.UNSET


class Click(Output):
    """One opening of a survey link."""

    score: int | None
    user_agent: str
    clicked_at: datetime


class InvitationDetail(Output):
    """An invitation with its decision, clicks and response."""

    id: UUID
    touchpoint: str
    customer: str | None  # None past TOUCHPULSE_INVITATION_RETENTION_DAYS
    locale: str
    channel: str
    context: dict[str, Any]
    event_id: str | None
    decision: str
    expires_at: datetime | None
    created_at: datetime
    first_clicked_at: datetime | None
    answered_at: datetime | None
    suspected_scanner: bool
    clicks: list[Click]
    response: ResponseOut | None


class Erasure(Output):
    """What a customer's erasure removed."""

    customer: str
    invitations: int
    clicks: int
    responses: int


class SurveyForm(Input):
    """The survey page's form, as the browser sends it."""

    score: str = ""
    comment: str = ""
    # The kind the page was shown with: a score is only read on the scale it was picked on.
    kind: str = ""
