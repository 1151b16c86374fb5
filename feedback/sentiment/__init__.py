"""Comment sentiment and themes: one call per free-text survey answer."""

from __future__ import annotations

import msgspec

from feedback.sentiment import native

# Before the readers are first imported: compiled ones only if built from these sources.
COMPILED = native.use_current()

from feedback.sentiment.analyzer import ANALYZER_VERSION, analyse  # noqa: E402
from feedback.sentiment.reading import Sentiment  # noqa: E402
from feedback.sentiment.themes import extract_themes  # noqa: E402

__all__ = ["ANALYZER_VERSION", "COMPILED", "CommentInsight", "Sentiment", "analyse", "extract_themes",
           "read_comment"]


class CommentInsight(msgspec.Struct, frozen=True):
    """What one comment says: its sentiment and its themes."""

    sentiment: Sentiment
    themes: list[str]


_EMPTY = Sentiment(polarity=None, subjectivity=None, label=None, language="unknown")


def read_comment(text: str) -> CommentInsight:
    """Sentiment and themes of one comment; blank text is unscored with no themes."""
    if not text or text.isspace():
        return CommentInsight(sentiment=_EMPTY, themes=[])
    sentiment = analyse(text)
    return CommentInsight(sentiment=sentiment, themes=extract_themes(text, sentiment.language))
