"""What counts as blank, invisible or a control character in names and references."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable

# What a name (or a question's wording) holding a control character is told, by the pattern
# of its type (surveys.models.ONE_LINE) or by the check after trimming.
CONTROL_MESSAGE = "may not contain control characters (tab, newline and the like)"
# A description is prose: it keeps tab and newline (and CR), and refuses the other controls.
PROSE_CONTROL_MESSAGE = "may not contain control characters other than tab and newline"


def invisible(char: str) -> bool:
    """Whether the character prints nothing: a format character (category Cf)."""
    # Format characters print nothing (zero-width space, soft hyphen, byte order mark, direction
    # marks); tag characters are kept, as they end the flag emoji of Scotland or Wales.
    return unicodedata.category(char) == "Cf" and not "\U000e0000" <= char <= "\U000e007f"


def _blank(char: str) -> bool:
    return char.isspace() or invisible(char)


def unpadded(text: str) -> str:
    """The text without the spaces and invisible characters around it."""
    start, end = 0, len(text)
    while start < end and _blank(text[start]):
        start += 1
    while end > start and _blank(text[end - 1]):
        end -= 1
    return text[start:end]


def blank(text: str) -> bool:
    """Whether a person would see the text as empty: nothing but spaces and invisible characters."""
    return not unpadded(text)


def control(char: str) -> bool:
    """Whether the character is a C0 or C1 control (tab, newline, escape, NEL, ...)."""
    return unicodedata.category(char) == "Cc"


def has_control(text: str, allowed: str = "") -> bool:
    """Whether the text holds a control character other than those `allowed`."""
    return any(control(c) and c not in allowed for c in text)


def name_key(name: str) -> str:
    """What two names a person cannot tell apart share (on the journey map or a report): case,
    compatibility forms (full-width letters), runs of spaces and characters that print nothing
    do not make a stage, an owner, a journey or an owner's touchpoint different."""
    visible = "".join(c for c in name if not invisible(c))
    return " ".join(unicodedata.normalize("NFKC", visible).casefold().split())


def touchpoint_labels(touchpoints: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Each (key, name)'s name by its key, and its key beside it where another's name looks the
    same, "Courier pickup (courier-2)": twins made before an owner's names were checked stay,
    and a page listing both must tell them apart."""
    pairs = list(touchpoints)
    seen = Counter(name_key(name) for _, name in pairs)
    return {key: f"{name} ({key})" if seen[name_key(name)] > 1 else name for key, name in pairs}
