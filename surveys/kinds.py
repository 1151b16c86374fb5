"""Survey kinds: the closed set of micro-survey questions, their scales and how each is scored."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass


class SurveyKind(enum.StrEnum):
    """The one question a micro-survey asks."""

    NPS = "nps"
    CSAT = "csat"
    CES = "ces"


class Band(enum.StrEnum):
    """Where a score falls on its kind's scale: low hurts, high delights."""

    LOW = "low"
    MIDDLE = "middle"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class Scale:
    """A kind's answer scale and the words at its ends."""

    low: int
    high: int
    # Scores at or above this count as "high" (promoter, satisfied, easy).
    high_from: int
    # Scores at or below this count as "low" (detractor, dissatisfied, difficult).
    low_to: int
    # The metric a KPI target is written in, and its range.
    metric: str
    metric_unit: str
    metric_low: float
    metric_high: float
    # Per locale, the words at (low, high). Russian ones speak to the customer in the polite
    # plural, like the question does («насколько вы довольны?»), so none assumes a gender; «не» is
    # bound to its word by a non-breaking space, so a narrow screen does not leave it at a line's end.
    labels: Mapping[str, tuple[str, str]]

    @property
    def values(self) -> range:
        return range(self.low, self.high + 1)

    def contains(self, score: int) -> bool:
        return self.low <= score <= self.high

    def band(self, score: int) -> Band:
        if score >= self.high_from:
            return Band.HIGH
        if score <= self.low_to:
            return Band.LOW
        return Band.MIDDLE


class Category(enum.StrEnum):
    """A kind's own word for a band: what customer-experience people call the answer."""

    PROMOTER = "promoter"
    PASSIVE = "passive"
    DETRACTOR = "detractor"
    SATISFIED = "satisfied"
    NEUTRAL = "neutral"
    DISSATISFIED = "dissatisfied"
    EASY = "easy"
    DIFFICULT = "difficult"


SCALES: Mapping[SurveyKind, Scale] = {
    SurveyKind.NPS: Scale(
        low=0, high=10, high_from=9, low_to=6,
        metric="nps", metric_unit="points", metric_low=-100.0, metric_high=100.0,
        labels={
            "en": ("Not at all likely", "Extremely likely"),
            "ru": ("Крайне маловероятно", "Очень вероятно"),
        },
    ),
    SurveyKind.CSAT: Scale(
        low=1, high=5, high_from=4, low_to=2,
        metric="csat", metric_unit="%", metric_low=0.0, metric_high=100.0,
        labels={
            "en": ("Very dissatisfied", "Very satisfied"),
            "ru": ("Очень недовольны", "Очень довольны"),
        },
    ),
    SurveyKind.CES: Scale(
        low=1, high=7, high_from=5, low_to=3,
        metric="ces", metric_unit="mean (1–7)", metric_low=1.0, metric_high=7.0,
        labels={
            "en": ("Strongly disagree", "Strongly agree"),
            "ru": ("Полностью не\u00a0согласны", "Полностью согласны"),
        },
    ),
}
_SCALES_BY_TEXT: Mapping[str, Scale] = {kind.value: scale for kind, scale in SCALES.items()}

# Default wording per kind and locale; {touchpoint} is the touchpoint's name mid-sentence
# (see _mid_sentence), {Touchpoint} as written (starting a sentence). English puts "the" before
# it ("satisfied with the order confirmation email") unless the name brings its own ("Your
# order"). Russian names the touchpoint first, as written and in «», in the nominative: the name
# is usually English ("Support call") and cannot be declined, and a Russian name read as a
# label needs no case ending either.
DEFAULT_QUESTIONS: Mapping[SurveyKind, Mapping[str, str]] = {
    SurveyKind.NPS: {
        "en": "How likely are you to recommend us to a friend or colleague?",
        "ru": "Насколько вероятно, что вы порекомендуете нас другу или коллеге?",
    },
    SurveyKind.CSAT: {
        "en": "How satisfied are you with the {touchpoint}?",
        "ru": "«{Touchpoint}»: насколько вы довольны?",
    },
    SurveyKind.CES: {
        "en": "The {touchpoint} made it easy for me to get what I needed.",
        "ru": "«{Touchpoint}»: мне было легко получить то, что нужно.",
    },
}

SUPPORTED_LOCALES: tuple[str, ...] = ("en", "ru")


def scale_of(kind: SurveyKind | str) -> Scale:
    # A StrEnum member hashes and compares as its text, so the text finds its scale without
    # making the member (an Enum call is a microsecond, and an answer asks several times).
    scale = _SCALES_BY_TEXT.get(kind)
    return scale if scale is not None else SCALES[SurveyKind(kind)]  # else: ValueError, naming it


def default_question(kind: SurveyKind | str, locale: str, touchpoint_name: str) -> str:
    return "".join(question_parts(kind, locale, touchpoint_name))


def question_parts(kind: SurveyKind | str, locale: str, touchpoint_name: str) -> tuple[str, str, str]:
    """The default wording as (before, name, after), so that a page can mark the name's language."""
    wording = DEFAULT_QUESTIONS[SurveyKind(kind)]
    template = wording.get(locale, wording["en"])
    for field, name in (("{Touchpoint}", touchpoint_name), ("{touchpoint}", _mid_sentence(touchpoint_name))):
        before, found, after = template.partition(field)
        if found:
            if before.lower().endswith("the ") and _brings_determiner(touchpoint_name):
                before = before[:-4]
                if not before:  # the name now starts the sentence: as written
                    name = touchpoint_name
            return before, name, after
    return template, "", ""


_DETERMINERS = frozenset({"the", "a", "an", "our", "your", "my", "this", "that", "their", "its"})


def _brings_determiner(name: str) -> bool:
    words = name.split(maxsplit=1)
    return bool(words) and words[0].lower() in _DETERMINERS


def _mid_sentence(name: str) -> str:
    """The name inside a sentence: an ordinary capitalised first word is lowered ("Order
    confirmation email"), anything else stays as written, so acronyms and names with inner
    capitals keep them ("IVR menu", "McDonald's drive-thru", "iPhone app")."""
    words = name.split(maxsplit=1)
    if not words:
        return name
    first = words[0]
    if len(first) > 1 and first[0].isupper() and first[1:] == first[1:].lower():
        return name[0].lower() + name[1:]
    return name


_CYRILLIC = re.compile("[\u0400-\u04ff]")
_LATIN = re.compile("[A-Za-z]")


def name_language(name: str) -> str | None:
    """The language a touchpoint's name is written in, as far as its letters tell (en or ru)."""
    if _CYRILLIC.search(name):
        return "ru"
    return "en" if _LATIN.search(name) else None


def band_name(kind: SurveyKind | str, score: int) -> Category:
    """The customer-experience word for a score: promoter, passive, detractor and the like."""
    return placing(kind, score)[1]


def placing(kind: SurveyKind | str, score: int) -> tuple[Band, Category]:
    """A score's band and its kind's word for it: every output of an answer shows both."""
    band = scale_of(kind).band(score)
    return band, _BAND_NAMES[kind][band]  # kind is known by then, as text or member (scale_of)


_BAND_NAMES: Mapping[str, Mapping[Band, Category]] = {
    SurveyKind.NPS: {Band.HIGH: Category.PROMOTER, Band.MIDDLE: Category.PASSIVE,
                     Band.LOW: Category.DETRACTOR},
    SurveyKind.CSAT: {Band.HIGH: Category.SATISFIED, Band.MIDDLE: Category.NEUTRAL,
                      Band.LOW: Category.DISSATISFIED},
    SurveyKind.CES: {Band.HIGH: Category.EASY, Band.MIDDLE: Category.NEUTRAL,
                     Band.LOW: Category.DIFFICULT},
}


def metric_value(kind: SurveyKind | str, counts: Mapping[int, int]) -> float | None:
    """The kind's headline metric from a score histogram; None when nobody answered.

    NPS: % promoters − % detractors. CSAT: % of 4–5. CES: mean score.
    """
    kind = SurveyKind(kind)
    scale = SCALES[kind]
    n = sum(counts.values())
    if n == 0:
        return None
    high = sum(c for s, c in counts.items() if s >= scale.high_from)
    if kind is SurveyKind.NPS:
        low = sum(c for s, c in counts.items() if s <= scale.low_to)
        return 100.0 * (high - low) / n
    if kind is SurveyKind.CSAT:
        return 100.0 * high / n
    return sum(s * c for s, c in counts.items()) / n


def meets_target(kind: SurveyKind | str, value: float, target: float) -> bool:
    # Every metric here is "higher is better", so a target is a floor.
    del kind
    return value >= target


def valid_target(kind: SurveyKind | str, target: float) -> bool:
    scale = scale_of(kind)
    return scale.metric_low <= target <= scale.metric_high
