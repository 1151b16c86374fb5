"""Alert subscriptions and their deliveries, as the API shows them; the webhook's body."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec

from feedback.collection.models import ResponseOut
from surveys.models import Input, Output

# Printable, no spaces or controls: the URL is checked again, part by part, by the service.
WebhookUrl = Annotated[str, msgspec.Meta(
    min_length=1, max_length=2000, pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://[\x21-\x7e]+$",
    description="Where to POST: an http or https URL with a host, at most 2,000 characters. A Slack "
                "or Mattermost incoming-webhook URL works as is (the body's `text`).",
    examples=["https://hooks.slack.com/services/T000/B000/XXXX"])]
Secret = Annotated[str, msgspec.Meta(
    min_length=16, max_length=200, pattern=r"^[\x21-\x7e]+$",
    description="Signs every body (the `Touchpulse-Signature` header, HMAC-SHA256): 16–200 printable "
                "ASCII characters, no spaces. Stored to sign with and never shown again.")]


class AlertTrigger(enum.StrEnum):
    """Which answers post an alert."""

    # The kind's low band: NPS 0–6 (detractors), CSAT 1–2, CES 1–3 (docs/scores.md).
    LOW_SCORE = "low_score"
    # A comment the sentiment reader labels negative, whatever the score.
    NEGATIVE_COMMENT = "negative_comment"


Triggers = Annotated[list[AlertTrigger], msgspec.Meta(
    min_length=1, max_length=2,
    description="`low_score`: a score in its kind's low band (NPS 0–6, CSAT 1–2, CES 1–3); "
                "`negative_comment`: a comment read as negative, whatever the score. An answer "
                "that is both posts once.")]


class AlertCreate(Input):
    """A webhook subscription of an owner: answers to the owner's touchpoints that match post here."""

    url: WebhookUrl
    triggers: Triggers = msgspec.field(default_factory=lambda: [AlertTrigger.LOW_SCORE])
    secret: Secret | None = None


class Alert(Output):
    """A webhook subscription. The secret is never shown: `signed` says whether there is one."""

    id: int
    owner_id: int
    url: str
    triggers: list[AlertTrigger]
    signed: bool
    created_at: datetime


class DeliveryStatus(enum.StrEnum):
    """Where a delivery stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class AlertDelivery(Output):
    """One answer's alert to one subscription: what became of it so far."""

    id: int
    alert_id: int
    response_id: UUID
    touchpoint: str
    reason: AlertTrigger
    status: DeliveryStatus
    attempts: Annotated[int, msgspec.Meta(description="Posts tried so far.")]
    last_status: Annotated[int | None, msgspec.Meta(
        description="The HTTP status the endpoint last answered; null when it gave none (a timeout, "
                    "a refused connection) or nothing was tried yet.")]
    last_error: Annotated[str | None, msgspec.Meta(
        description="What went wrong last (the start of the endpoint's answer, or the network "
                    "error); null after a delivery.")]
    last_attempt_at: datetime | None
    next_attempt_at: Annotated[datetime | None, msgspec.Meta(
        description="When it is tried next; null once delivered or failed.")]
    delivered_at: datetime | None
    created_at: datetime


# The webhook's body -------------------------------------------------------------------------


class Named(msgspec.Struct, kw_only=True):
    """An id and its name."""

    id: int
    name: str


class AlertTouchpoint(msgspec.Struct, kw_only=True):
    """The touchpoint answered."""

    id: int
    key: str
    name: str


class AlertSource(msgspec.Struct, kw_only=True):
    """Which subscription and delivery this post is, and why it was sent."""

    id: int
    delivery_id: int
    reason: AlertTrigger


class AlertPayload(msgspec.Struct, kw_only=True):
    """The JSON body posted to the subscription's URL."""

    # Slack and Mattermost incoming webhooks show `text` and ignore the rest.
    text: str
    alert: AlertSource
    answer: ResponseOut
    touchpoint: AlertTouchpoint
    stage: Named
    journey: Named
    owner: Named
    # A share link to the owner's report, open for seven days (revocable like any other).
    report_url: str


def trigger_flags(triggers: list[AlertTrigger]) -> dict[str, Any]:
    return {"on_low_score": AlertTrigger.LOW_SCORE in triggers,
            "on_negative_comment": AlertTrigger.NEGATIVE_COMMENT in triggers}
