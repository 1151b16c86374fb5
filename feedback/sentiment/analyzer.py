"""Rule-based comment sentiment: TextBlob's lexicon plus customer-experience rules."""

from __future__ import annotations

from functools import lru_cache
from typing import Final

import msgspec

from feedback.sentiment import lexicon as lx

# Bump whenever a change to the lexicon or rules can change any Sentiment output.
ANALYZER_VERSION: Final[int] = 1

NEGATED_POSITIVE: Final = -0.75  # "not helpful" is nearly as bad as "unhelpful"
NEGATED_NEGATIVE: Final = -0.5  # "not bad" is only mildly good
WANTED_MISSING: Final = -0.5  # "no reply", "without a refund"
NEGATION_WINDOW: Final = 3  # words a negator reaches ("wasn't very helpful at all")
BEFORE_CONTRAST: Final = 0.5  # weight of what precedes "but" / follows "although"
CAPS_BOOST: Final = 1.3
EXCLAIM_STEP: Final = 0.15  # per "!", up to three
MIXED_MIN: Final = 0.3  # a part must be at least this strong to count toward "mixed"
NEUTRAL_BAND: Final = 0.05

_CLAUSE_END: Final = frozenset({".", "!", "?", ";", "..."})


class Sentiment(msgspec.Struct, frozen=True):
    """Sentiment of one comment; all scores None when its language can't be read."""

    polarity: float | None
    subjectivity: float | None
    label: str | None
    language: str


def analyse(text: str) -> Sentiment:
    """Score one comment from its text alone (pure and thread-safe)."""
    tokens = _tokens(text)
    language = _language(text, tokens)
    if language == "ru":
        return _score_ru(text)
    if language != "en":
        return Sentiment(polarity=None, subjectivity=None, label=None, language=language)
    return _score_en(tokens)


# --- tokens ---------------------------------------------------------------------------------

# (normalised term, kind, was ALL CAPS); kinds: word, num, emo, punct.
Token = tuple[str, str, bool]


def _tokens(text: str) -> list[Token]:
    out: list[Token] = []
    for match in lx.TOKEN_RE.finditer(text):
        kind = match.lastgroup or "punct"
        raw = match.group()
        if kind == "word":
            caps = len(raw) > 1 and raw.isupper()
            out.extend((part, "word", caps) for part in lx.split_word(raw))
        elif kind == "punct":
            # "!!!" is one term that remembers up to three exclamations.
            if "!" in raw:
                out.append(("!" * min(3, raw.count("!")), "punct", False))
            elif "?" in raw:
                out.append(("?", "punct", False))
            else:
                out.append((raw[0], "punct", False))
        else:
            out.append((raw.lower(), kind, False))
    return out


# --- language -------------------------------------------------------------------------------


def _language(text: str, tokens: list[Token]) -> str:
    cyrillic = latin = 0
    for char in text:
        if "\u0400" <= char <= "\u04ff":
            cyrillic += 1
        elif char.isascii() and char.isalpha():
            latin += 1
    if cyrillic > latin:
        return "ru"
    words = [tok for tok, kind, _ in tokens if kind == "word"]
    if not words:
        return "unknown"
    vocabulary = lx.english_vocabulary()
    english = sum(1 for w in words if w in vocabulary)
    foreign = sum(1 for w in words if w in lx.FOREIGN_STOPWORDS and w not in vocabulary)
    # Any recognised English word decides short comments ("Excellent!"); longer ones need
    # English to outweigh other languages' function words and cover a fair share.
    if english and english >= 2 * foreign and english * 4 >= len(words):
        return "en"
    return "unknown"


# --- English scoring --------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _word_score(word: str) -> tuple[float, float] | None:
    """Lexicon entry for a word, falling back to its base form (-s, -ed, -ing, -ly)."""
    table = lx.word_table()
    hit = table.get(word)
    if hit is not None:
        return hit
    for base in _base_forms(word):
        hit = table.get(base)
        if hit is not None:
            return hit
    return None


def _base_forms(word: str) -> list[str]:
    forms: list[str] = []
    if len(word) < 4:
        return forms
    if word.endswith("ies"):
        forms.append(word[:-3] + "y")
    if word.endswith("es"):
        forms.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss"):
        forms.append(word[:-1])
    if word.endswith("ied"):
        forms.append(word[:-3] + "y")
    if word.endswith("ed"):
        forms += [word[:-2], word[:-1]]
        if len(word) > 5 and word[-3] == word[-4]:
            forms.append(word[:-3])
    if word.endswith("ing") and len(word) > 5:
        forms += [word[:-3], word[:-3] + "e"]
        if word[-4] == word[-5]:
            forms.append(word[:-4])
    if word.endswith("ily"):
        forms.append(word[:-3] + "y")
    if word.endswith("ly"):
        forms.append(word[:-2])
    return forms


class _Item(msgspec.Struct):
    polarity: float
    subjectivity: float
    weight: float
    clause: int


def _score_en(tokens: list[Token]) -> Sentiment:
    items = _assess(tokens)
    if not items:
        return Sentiment(polarity=0.0, subjectivity=0.0, label="neutral", language="en")
    total = sum(item.weight for item in items)
    polarity = sum(item.polarity * item.weight for item in items) / total
    subjectivity = sum(item.subjectivity * item.weight for item in items) / total
    polarity = max(-1.0, min(1.0, polarity))
    return Sentiment(
        polarity=round(polarity, 4),
        subjectivity=round(max(0.0, min(1.0, subjectivity)), 4),
        label=_label(polarity, items),
        language="en",
    )


def _label(polarity: float, items: list[_Item]) -> str:
    positive = sum(i.polarity * i.weight for i in items if i.polarity >= MIXED_MIN)
    negative = -sum(i.polarity * i.weight for i in items if i.polarity <= -MIXED_MIN)
    if positive and negative:
        share = positive / (positive + negative)
        if 0.2 <= share <= 0.8:
            return "mixed"
    if polarity > NEUTRAL_BAND:
        return "positive"
    if polarity < -NEUTRAL_BAND:
        return "negative"
    return "neutral"


def _assess(tokens: list[Token]) -> list[_Item]:
    """Turn tokens into weighted sentiment items, applying the rules left to right."""
    phrases = lx.phrase_table()
    longest = lx.max_phrase_len()
    starts = lx.phrase_starts()
    all_caps = sum(1 for _, kind, caps in tokens if kind == "word" and caps) * 2 > sum(
        1 for _, kind, _ in tokens if kind == "word"
    )
    items: list[_Item] = []
    clause = 0
    clause_start = 0  # index into items where the current clause begins
    weak_clause = False  # clause opened by "although"/"despite"
    negation = 0  # words left in a negator's reach
    boost = 1.0
    boost_left = 0
    n = len(tokens)
    i = 0
    while i < n:
        term, kind, caps = tokens[i]
        if kind == "punct":
            if term[0] == "!":
                _exclaim(items, clause_start, len(term))
            if term[0] in _CLAUSE_END or term == ",":
                if term != "," or weak_clause:
                    clause += 1
                    clause_start = len(items)
                    weak_clause = False
                negation, boost, boost_left = 0, 1.0, 0
            i += 1
            continue
        if kind == "emo" or kind == "emoji":
            polarity = lx.EMOTICONS.get(term)
            if polarity is not None:
                items.append(_Item(polarity, 1.0, 1.0, clause))
            i += 1
            continue
        # Longest phrase first, so "not worth it" wins over "not" + "worth".
        matched = 0
        for length in range(min(longest, n - i), 1, -1) if term in starts else ():
            key = tuple(t for t, _, _ in tokens[i : i + length])
            value = phrases.get(key)
            if value is not None:
                matched = length
                if value:
                    own_negation = any(t in lx.NEGATORS for t in key)
                    polarity = value * boost
                    if negation and not own_negation:
                        polarity = _negate(polarity)
                    if any(c for _, _, c in tokens[i : i + length]) and not all_caps:
                        polarity *= CAPS_BOOST
                    items.append(_Item(_clip(polarity), lx.phrase_subjectivity(value),
                                       _weight(weak_clause), clause))
                    negation, boost, boost_left = 0, 1.0, 0
                break
        if matched:
            i += matched
            continue
        if term in lx.CONTRAST_AFTER and not (term == "though" and _clause_final(tokens, i)):
            # What came before the contrast counts for less ("friendly but late").
            for item in items:
                item.weight *= BEFORE_CONTRAST
            clause += 1
            clause_start = len(items)
            negation, boost, boost_left = 0, 1.0, 0
            i += 1
            continue
        if term in lx.CONTRAST_BEFORE or (term == "though" and clause_start == len(items)):
            clause += 1
            clause_start = len(items)
            weak_clause = True
            i += 1
            continue
        if term in lx.NEGATORS:
            negation = NEGATION_WINDOW
            i += 1
            continue
        factor = lx.INTENSIFIERS.get(term)
        if factor is not None:
            boost *= factor
            boost_left = 2
            i += 1
            continue
        score = _word_score(term) if kind == "word" else None
        if score is not None:
            polarity, subjectivity = score
            polarity *= boost
            if caps and not all_caps:
                polarity *= CAPS_BOOST
            if negation:
                polarity = _negate(polarity)
                if term in lx.WANTED_NOUNS:
                    polarity = WANTED_MISSING
            items.append(_Item(_clip(polarity), subjectivity, _weight(weak_clause), clause))
            negation, boost, boost_left = 0, 1.0, 0
        elif negation and term in lx.WANTED_NOUNS:
            items.append(_Item(WANTED_MISSING, 0.5, _weight(weak_clause), clause))
            negation, boost, boost_left = 0, 1.0, 0
        else:
            if negation:
                negation -= 1
            if boost_left:
                boost_left -= 1
                if not boost_left:
                    boost = 1.0
        i += 1
    return items


def _negate(polarity: float) -> float:
    return polarity * (NEGATED_POSITIVE if polarity > 0 else NEGATED_NEGATIVE)


def _clip(value: float) -> float:
    return max(-1.0, min(1.0, value))


def _weight(weak_clause: bool) -> float:
    return BEFORE_CONTRAST if weak_clause else 1.0


def _clause_final(tokens: list[Token], index: int) -> bool:
    nxt = tokens[index + 1][1] if index + 1 < len(tokens) else "punct"
    return nxt == "punct"


def _exclaim(items: list[_Item], start: int, count: int) -> None:
    # Each "!" strengthens the clause it closes, up to three.
    for item in items[start:]:
        item.polarity = _clip(item.polarity * (1 + EXCLAIM_STEP * count))


def _score_ru(text: str) -> Sentiment:
    return Sentiment(polarity=None, subjectivity=None, label=None, language="ru")
