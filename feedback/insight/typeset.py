"""Numbers and names as the pages print them for people.

Numbers: a minus sign (U+2212), not a hyphen; 1,175 rather than 1175; no sign on a value that
rounds to zero. JSON and CSV keep plain numbers.

Names (and comments, themes, question wording): text that people typed, set apart from the
sentence around it, so that right-to-left letters or a direction control inside it (U+202E and
the like, which names may hold: surveys.models) cannot reorder the words and numbers beside
it. In HTML, `bdi` (an isolating element), or a quote's `<q dir="auto">` around `balanced`
text; where markup cannot go (a page's <title>, an attribute, an SVG label, an email block whose
mail app may drop unknown elements), `isolated`: the text between FSI (U+2068) and PDI (U+2069).
Either way every character is kept, escaped like any text (only a stray PDI is left out: see
`balanced`), so a name reads as it was typed.

Python, not Jinja macros: a year-long owner report prints about a thousand numbers, and a
macro call costs several microseconds where a function call costs a fraction of one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Final, NamedTuple

from markupsafe import Markup, escape

from surveys.kinds import Category, SurveyKind, band_name, scale_of

MINUS: Final = "\u2212"
NONE: Final = "–"  # an en dash: no value


def _unsigned_zero(text: str) -> str:
    """ "-0.0" and "+0.0" are "0.0"; any other "-" is a minus sign."""
    if not text.strip("+-0."):
        return text.lstrip("+-")
    return text.replace("-", MINUS)


def num(value: float | None, digits: int = 1, unit: str = "") -> str:
    return NONE if value is None else _unsigned_zero(f"{value:.{digits}f}") + unit


def signed(value: float | None, digits: int = 1) -> str:
    """With its sign, as a change is read: +2.5, −0.41."""
    return NONE if value is None else _unsigned_zero(f"{value:+.{digits}f}")


def count(n: int) -> str:
    return f"{n:,}"


FSI: Final = "\u2068"  # first strong isolate: the text takes the direction of its first letter
PDI: Final = "\u2069"  # pop directional isolate: the end of the isolated text
_OPENERS: Final = frozenset("\u2066\u2067\u2068")  # LRI, RLI, FSI
_ISOLATE_MARKS: Final = re.compile("[\u2066-\u2069]")
# Bidi classes that can move the text around a name: right-to-left letters (R, AL), Arabic
# digits (AN), the embeddings, overrides and isolates. Marks of class L are harmless in a left-
# to-right page, but not beside right-to-left text: the left-to-right mark is isolated too.
_MOVERS: Final = frozenset({"R", "AL", "AN", "LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"})
_LRM: Final = "\u200e"


def balanced(text: str) -> str:
    """The text with its isolates paired, so that it stays inside whatever isolates it.

    Browsers isolate an element (bdi, or one with `dir`) by the same FSI … PDI: a PDI the text
    never opened would close the element's isolate early and let the rest of it out (with an
    RLO before it, reversing the sentence that follows), and an isolate it never closes would
    take the rest of the line in. The first is left out (inside the text it does nothing), the
    second closed at its end. Embeddings and overrides (U+202A–U+202E) need nothing: an isolate
    ends them all.
    """
    if text.isascii() or not _ISOLATE_MARKS.search(text):
        return text
    kept: list[str] = []
    depth = 0
    for char in text:
        if char in _OPENERS:
            depth += 1
        elif char == PDI:
            if not depth:
                continue
            depth -= 1
        kept.append(char)
    return "".join(kept) + PDI * depth


def moves_text(text: str) -> bool:
    """Whether the text could reorder what is printed beside it: right-to-left letters or
    digits, or a direction control or mark."""
    return not text.isascii() and any(
        char == _LRM or unicodedata.bidirectional(char) in _MOVERS for char in text)


def isolated(text: str) -> str:
    """The text between FSI and PDI when it could reorder its surroundings (moves_text), as
    it is otherwise: for a <title>, an attribute or an SVG label, where no element can."""
    return FSI + balanced(text) + PDI if moves_text(text) else text


def bdi(text: str, lang: str | None = None) -> Markup:
    """The text in a <bdi> (with its `lang` when given), escaped: a name inside a sentence."""
    opening = f'<bdi lang="{escape(lang)}">' if lang else "<bdi>"
    return Markup(f"{opening}{escape(balanced(text))}</bdi>")  # noqa: S704 - both escaped


class BandWords(NamedTuple):
    """A kind's own words for its low and high bands, as a page names them to a reader: an
    answer's ("detractor answers", "satisfied answers") and a share's ("% detractors", "% satisfied")."""

    low: str
    high: str
    lows: str
    highs: str


# NPS's words are nouns, counted in the plural; CSAT's and CES's are adjectives.
_NOUNS: Final = frozenset({Category.PROMOTER, Category.PASSIVE, Category.DETRACTOR})


def band_words(kinds: Iterable[str]) -> BandWords:
    """The words of the kinds given (surveys.kinds.band_name), several joined by a slash in the
    kinds' order ("detractor/dissatisfied"); "low-band" and "high-band" for none. The API's
    `band` stays low/high: this is for the pages, where "high band" meant nothing to a reader."""
    given = set(kinds)
    chosen = [k for k in SurveyKind if k.value in given]
    if not chosen:
        return BandWords("low-band", "high-band", "low-band", "high-band")
    ends = [(band_name(k, scale_of(k).low), band_name(k, scale_of(k).high)) for k in chosen]

    def said(words: Iterable[Category], plural: bool) -> str:
        return "/".join(f"{w}s" if plural and w in _NOUNS else w.value for w in words)

    return BandWords(said((low for low, _ in ends), False), said((high for _, high in ends), False),
                     said((low for low, _ in ends), True), said((high for _, high in ends), True))


# The names the templates use (report_macros.html hands the numbers on to the report pages).
TEMPLATE_GLOBALS: Final = {"typeset_num": num, "typeset_signed": signed, "typeset_count": count,
                           "bdi": bdi, "isolated": isolated, "balanced": balanced,
                           "band_words": band_words}
