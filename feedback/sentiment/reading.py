"""What the analyser says of one comment.

Apart from the analyser so that it stays Python when the analyser is compiled (native.py):
msgspec reads a Struct's field types from its annotations, which mypyc does not keep.
"""

from __future__ import annotations

import enum

import msgspec


class SentimentLabel(enum.StrEnum):
    """A comment's sentiment label: as the analyser gives it, answers show it and `label` filters."""

    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"
    MIXED = "mixed"


class Sentiment(msgspec.Struct, frozen=True):
    """Sentiment of one comment; all scores None when its language can't be read."""

    polarity: float | None
    subjectivity: float | None
    label: SentimentLabel | None
    language: str
