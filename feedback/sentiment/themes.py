"""Theme keys for comments (placeholder until implemented)."""

from __future__ import annotations


def extract_themes(text: str, language: str) -> list[str]:
    """Normalised theme keys, most salient first, at most 8."""
    return []
