"""The sentiment of a stored answer's comment as every API output shows it."""

from __future__ import annotations

from typing import Annotated

import msgspec

from feedback.sentiment.analyzer import PLACES
from feedback.sentiment.reading import SentimentLabel
from surveys.models import Output


class SentimentOut(Output):
    """The sentiment read from a comment; nulls when there is no comment or it was unscored.

    The CSV export of `GET /api/v1/responses` has these fields flattened: `sentiment_polarity`,
    `sentiment_subjectivity`, `sentiment_label`, `sentiment_language`."""

    polarity: Annotated[float | None, msgspec.Meta(description="From −1 (negative) to 1 (positive).")]
    subjectivity: Annotated[float | None, msgspec.Meta(description="From 0 (factual) to 1 (opinion).")]
    label: Annotated[SentimentLabel | None, msgspec.Meta(
        description="`negative`, `neutral`, `positive` or `mixed`, as the `label` filter of "
                    "`GET /api/v1/responses` takes it.")]
    language: Annotated[str | None, msgspec.Meta(
        description="The comment's language as read: `en`, `ru` or `unknown`.")]


def stored_sentiment(polarity: float | None, subjectivity: float | None, label: str | None,
                     language: str | None, *, rounded: bool = False) -> SentimentOut:
    """A stored answer's sentiment as its write showed it: the real columns give back 0.35 as
    0.3499999940395355, so the numbers are rounded again to the analyser's places. An answer
    just read is `rounded` already by the analyser (round() costs it a few microseconds)."""
    if not rounded:
        polarity = None if polarity is None else round(polarity, PLACES)
        subjectivity = None if subjectivity is None else round(subjectivity, PLACES)
    return SentimentOut(
        polarity=polarity,
        subjectivity=subjectivity,
        # An answer just read carries the member already: no Enum call (a microsecond) for it.
        label=label if label is None or isinstance(label, SentimentLabel) else SentimentLabel(label),
        language=language)
