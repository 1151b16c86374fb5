"""Rule-based comment sentiment: TextBlob's lexicon plus customer-experience rules."""

from __future__ import annotations

import re
from functools import cache, lru_cache
from operator import itemgetter
from typing import Final

import msgspec

from feedback.sentiment import lexicon as lx
from feedback.sentiment.reading import Sentiment, SentimentLabel

# Bump whenever a change to the lexicon or rules can change any Sentiment output or theme.
ANALYZER_VERSION: Final[int] = 6
# Decimal places of polarity and subjectivity: few enough that the real columns storing them
# read back as written (feedback/sentiment/models.py).
PLACES: Final = 4

NEGATED_POSITIVE: Final = -0.75  # "not helpful" is nearly as bad as "unhelpful"
NEGATED_NEGATIVE: Final = -0.5  # "not bad" is only mildly good
WANTED_MISSING: Final = -0.5  # "no reply", "without a refund"
NEGATION_WINDOW: Final = 3  # words a negator reaches ("wasn't very helpful at all")
BEFORE_CONTRAST: Final = 0.5  # weight of what precedes "but" / follows "although"
CAPS_BOOST: Final = 1.3
EXCLAIM_STEP: Final = 0.15  # per "!", up to three
MIXED_MIN: Final = 0.35  # a part must be stronger than a mere mention ("refund")
NEUTRAL_BAND: Final = 0.05
SHOUTING: Final = 1.15  # a comment written all in capitals is said louder
COMPLAINT_QUESTION: Final = -0.4  # "why does it take 3 weeks?", "where is my refund?"
SLOW_DURATION: Final = -0.5  # "took three weeks", "waited 6 days"
FAST_DURATION: Final = 0.4  # "within an hour", "within 48 hours"
RETURN_AGAIN: Final = 0.5  # "will definitely book again"

_CLAUSE_END: Final = frozenset({".", "!", "?", ";", "..."})
_PAIR_STARTS: Final = frozenset(a for a, _ in (*lx.NEGATING_PAIRS, *lx.CONTRAST_PAIRS))
_COUNTED_UNITS: Final = lx.DURATION_UNITS | lx.SHORT_WAIT_UNITS | lx.CONTACT_UNITS


def analyse(text: str) -> Sentiment:
    """Score one comment from its text alone (pure and thread-safe)."""
    tokens = _tokens(text)
    words = [term for term, kind, _ in tokens if kind == "word"]
    language = _language(text, words)
    if language == "ru":
        return _score_ru(text)
    if language != "en":
        return Sentiment(polarity=None, subjectivity=None, label=None, language=language)
    return _score_en(tokens, len(words))


# --- tokens ---------------------------------------------------------------------------------

# (normalised term, kind, was ALL CAPS); kinds: word, num, emo, punct. Only a word is in caps.
Token = tuple[str, str, bool]
_TERM: Final = itemgetter(0)
_CAPS: Final = itemgetter(2)


@lru_cache(maxsize=65536)
def _word_tokens(raw: str) -> tuple[Token, ...]:
    """A word as written: its parts ("didn't" is "did", "not"), each remembering ALL CAPS."""
    caps = len(raw) > 1 and raw.isupper()
    return tuple((part, "word", caps) for part in lx.split_word(raw))


def _tokens(text: str) -> list[Token]:
    return [token for chunk in text.split() for token in _chunk_tokens(chunk)]


@lru_cache(maxsize=32768)  # about 230 bytes a chunk: at most 8 MB
def _chunk_tokens(chunk: str) -> tuple[Token, ...]:
    """Tokens of one run of non-space characters ("late,", "didn't", ":)"): no token holds or
    looks past a space (lx.TOKEN_RE), so a comment's tokens are its chunks' tokens, and a
    chunk read once is not read again."""
    out: list[Token] = []
    for match in lx.TOKEN_RE.finditer(chunk):
        kind = match.lastgroup or "punct"
        raw = match.group()
        if kind == "word":
            out.extend(_word_tokens(raw))
        elif kind == "punct":
            # "!!!" is one term that remembers up to three exclamations; "??" and "?!" keep
            # both their question and their emphasis ("?" or "??", then up to three "!").
            questions = raw.count("?")
            if "!" in raw or questions:
                term = "?" * min(2, questions) + "!" * min(3, raw.count("!"))
                out.append((term, "punct", False))
            else:
                out.append((raw[0], "punct", False))
        elif kind == "emoji":
            # The emoji presentation selector is optional; the lexicon lists most without it.
            low = raw if raw in lx.EMOTICONS else raw.replace("\ufe0f", "")
            out.append((low, kind, False))
        else:
            out.append((raw.lower(), kind, False))
    return tuple(out)


# --- language -------------------------------------------------------------------------------


_CYRILLIC: Final = re.compile("[\u0400-\u04ff]")
_LATIN: Final = re.compile("[A-Za-z]")


def _language(text: str, words: list[str]) -> str:
    # Russian: more Cyrillic letters than Latin ones (an all-ASCII text has none: no count).
    if (not text.isascii() and _CYRILLIC.search(text)
            and len(_CYRILLIC.findall(text)) > len(_LATIN.findall(text))):
        return "ru"
    if not words:
        return "unknown"
    vocabulary = lx.english_vocabulary()
    if vocabulary.issuperset(words):
        return "en"  # the common case, with the counts below all English
    unknown = [word for word in words if word not in vocabulary]
    english, foreign = len(words) - len(unknown), 0
    for word in unknown:
        if word in lx.FOREIGN_STOPWORDS:
            foreign += 1
        elif _spelling(word) is not None:
            english += 1
    # English must outweigh other languages' function words and cover a fair share of
    # the words (brand names and typos are common, so not all of them).
    if english and english > 2 * foreign and english * 3 >= len(words):
        return "en"
    return "unknown"


# --- English scoring --------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _word_score(word: str) -> tuple[float, float] | None:
    """Lexicon entry for a word: as written, by base form, or as a one-typo misspelling."""
    table = lx.word_table()
    hit = table.get(word)
    if hit is None:
        hit = next((table[b] for b in _base_forms(word) if b in table), None)
    if hit is None:
        fixed = _spelling(word)
        hit = table.get(fixed) if fixed else None
    if hit is None or hit[0] == 0.0:
        return None
    return hit


@lru_cache(maxsize=65536)
def _spelling(word: str) -> str | None:
    """The sentiment word one edit away from an unknown word ("satisifed"), if any: a letter
    left out, two swapped, one replaced or one added (a to z)."""
    if len(word) < 5 or not word.isascii() or not word.isalpha():
        return None
    if word in lx.english_vocabulary():
        return None  # a real word, not a typo
    scored, one_out = _misspelling_index()
    n = len(word)
    deletes = [word[:k] + word[k + 1 :] for k in range(n)]
    swaps = [word[:k] + word[k + 1] + word[k] + word[k + 2 :] for k in range(n - 1)]
    hits = [
        *scored.intersection(deletes), *scored.intersection(swaps),
        # One letter added: a sentiment word that, without one letter, is this word.
        *one_out.get(word, ()),
        # Letter k replaced: a sentiment word that, without one letter, is this word
        # without letter k, and is this word but for letter k.
        *(hit for k, key in enumerate(deletes) for hit in one_out.get(key, ())
          if hit[:k] == word[:k] and hit[k + 1 :] == word[k + 1 :]),
    ]
    # The smallest, so the choice between two equally close words is deterministic.
    return min(hits) if hits else None


@cache
def _misspelling_index() -> tuple[frozenset[str], dict[str, tuple[str, ...]]]:
    """The sentiment words, and those of five or more letters a to z by each way of leaving
    one letter out: a typo is found in a few look-ups, not among 54 candidates per letter.
    (A typo has five letters or more, so a word one letter added or replaced away has too.)"""
    scored = frozenset(word for word, (polarity, _) in lx.word_table().items() if polarity != 0.0)
    one_out: dict[str, set[str]] = {}
    for word in scored:
        if len(word) >= 5 and word.isascii() and word.isalpha() and word.islower():
            for k in range(len(word)):
                one_out.setdefault(word[:k] + word[k + 1 :], set()).add(word)
    return scored, {key: tuple(sorted(words)) for key, words in one_out.items()}


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
    if word.endswith("ier") or word.endswith("iest"):
        forms.append(word[: -3 if word.endswith("ier") else -4] + "y")
    if word.endswith("er") or word.endswith("est"):
        cut = 2 if word.endswith("er") else 3
        forms += [word[:-cut], word[: -cut + 1]]
        if len(word) > cut + 3 and word[-cut - 1] == word[-cut - 2]:
            forms.append(word[: -cut - 1])
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


def _score_en(tokens: list[Token], words: int) -> Sentiment:
    # When most words are capitals, capitals are no longer emphasis.
    all_caps = sum(map(_CAPS, tokens)) * 2 > words
    items = _assess(tokens, all_caps)
    if words > 1 and all_caps:
        # Shouting: an all-capitals comment means what it says more strongly.
        for item in items:
            item.polarity = _clip(item.polarity * SHOUTING)
    if not items:
        return Sentiment(polarity=0.0, subjectivity=0.0, label=SentimentLabel.NEUTRAL, language="en")
    total = sum(item.weight for item in items)
    polarity = sum(item.polarity * item.weight for item in items) / total
    subjectivity = sum(item.subjectivity * item.weight for item in items) / total
    polarity = _clip(polarity)
    return Sentiment(
        polarity=round(polarity, PLACES),
        subjectivity=round(_clip(subjectivity, 0.0), PLACES),
        label=_label(polarity, items),
        language="en",
    )


def _label(polarity: float, items: list[_Item]) -> SentimentLabel:
    positive = sum(i.polarity * i.weight for i in items if i.polarity >= MIXED_MIN)
    negative = -sum(i.polarity * i.weight for i in items if i.polarity <= -MIXED_MIN)
    if positive and negative:
        share = positive / (positive + negative)
        if 0.2 <= share <= 0.8:
            return SentimentLabel.MIXED
    if polarity > NEUTRAL_BAND:
        return SentimentLabel.POSITIVE
    if polarity < -NEUTRAL_BAND:
        return SentimentLabel.NEGATIVE
    return SentimentLabel.NEUTRAL


_RAISING: Final = frozenset({
    "think", "thought", "believe", "feel", "suppose", "guess", "expect",
})
# -ly words that are adjectives ("friendly staff"), not adverbs grading the next word.
_LY_ADJECTIVES: Final = frozenset({
    "friendly", "lovely", "ugly", "costly", "timely", "lively", "silly", "smelly", "curly",
    "elderly", "unfriendly", "user-friendly", "likely", "unlikely", "lonely", "only",
})


# Words with a rule of their own (Reader.word); any other word only scores, if at all.
_RULE_WORDS: Final = frozenset({
    *lx.EMOTICONS, *_PAIR_STARTS, *lx.CONTRAST_AFTER, *lx.CONTRAST_BEFORE, *_COUNTED_UNITS,
    *lx.NEGATORS, *lx.INTENSIFIERS, "again", "within",
})


class _Reader:
    """Left-to-right pass over one comment's tokens, collecting weighted items."""

    def __init__(self, tokens: list[Token], all_caps: bool) -> None:
        self.tokens = tokens
        self.all_caps = all_caps
        self.items: list[_Item] = []
        self.clause = 0
        self.clause_start = 0  # index into items where the current clause begins
        self.weak_clause = False  # clause opened by "although" / "despite"
        self.negation = 0  # words left in a negator's reach
        self.boost = 1.0
        self.boost_left = 0
        self.excess = False  # after "too": a good word turns into a complaint

    def read(self) -> list[_Item]:
        tokens, pairs = self.tokens, lx.phrase_pairs()
        i, n = 0, len(tokens)
        while i < n:
            term, kind, caps = tokens[i]
            if kind == "word" and term not in _RULE_WORDS and (
                    i + 1 == n or (term, tokens[i + 1][0]) not in pairs):
                # Most words start no phrase and have no rule: only their score counts.
                score = _word_score(term)
                if score is not None or self.negation or self.excess or self.boost_left:
                    self.plain_word(i, term, caps, score)
            elif kind == "punct":
                self.punctuation(i, term)
            elif kind in {"emo", "emoji"}:
                polarity = lx.EMOTICONS.get(term)
                if polarity is not None:
                    self.add(polarity, 1.0)
            else:
                i += self.word(i, term, kind, caps) - 1
            i += 1
        return self.items

    def reset(self) -> None:
        self.negation, self.boost, self.boost_left, self.excess = 0, 1.0, 0, False

    def new_clause(self, weak: bool = False) -> None:
        self.clause += 1
        self.clause_start = len(self.items)
        self.weak_clause = weak

    def add(self, polarity: float, subjectivity: float) -> None:
        weight = BEFORE_CONTRAST if self.weak_clause else 1.0
        self.items.append(_Item(_clip(polarity), subjectivity, weight, self.clause))
        self.reset()

    def punctuation(self, i: int, term: str) -> None:
        if term[0] == "?" and self.is_complaint_question(i, term):
            self.add(COMPLAINT_QUESTION, 0.6)
        exclaims = term.count("!")
        if exclaims:
            # Each "!" strengthens the clause it closes, up to three.
            for item in self.items[self.clause_start :]:
                item.polarity = _clip(item.polarity * (1 + EXCLAIM_STEP * exclaims))
        if term[0] in ".!" and self.clause_words(i, 2) == ["again"]:
            self.add(COMPLAINT_QUESTION, 0.6)  # "Again." on its own is exasperation
        if term == ",":
            if self.weak_clause:
                self.new_clause()
            # "never, ever" keeps its negation across the comma.
            if self.negation < NEGATION_WINDOW:
                self.reset()
        elif term[0] in _CLAUSE_END:
            self.new_clause()
            self.reset()

    def word(self, i: int, term: str, kind: str, caps: bool) -> int:
        """Handle the word at i; returns how many tokens it used."""
        length = self.phrase(i, term)
        if length:
            return length
        if kind == "num":
            if not self.rating(term):
                self.skip(term)
            return 1
        if kind == "word" and term in lx.EMOTICONS:  # "xd", "d:" read as words
            self.add(lx.EMOTICONS[term], 1.0)
            return 1
        if term in _PAIR_STARTS:
            length = self.pair(i, term)
            if length:
                return length
        if term in lx.CONTRAST_AFTER and not (term == "though" and self.clause_final(i)):
            # What came before the contrast counts for less ("friendly but late").
            self.contrast()
            return 1
        opens_clause = self.clause_start == len(self.items)
        if term in lx.CONTRAST_BEFORE or (term == "though" and opens_clause):
            self.new_clause(weak=True)
            return 1
        if term in _COUNTED_UNITS and self.is_long_wait(i, term):
            self.add(SLOW_DURATION, 0.5)  # "took three weeks", "waited 40 minutes"
            return 1
        if term == "again" and self.return_intent(i):
            return 1
        if term == "within" and self.is_short_span(i):
            self.add(FAST_DURATION, 0.5)  # "within an hour", "within 48 hours"
            return 1
        if term in lx.NEGATORS:
            # "lacked" is itself a complaint and also negates what follows ("lacked flavor").
            score = _word_score(term)
            if score is not None:
                polarity = score[0] * self.boost
                self.add(_negate(polarity) if self.negation else polarity, score[1])
            self.negation = NEGATION_WINDOW
            return 1
        factor = lx.INTENSIFIERS.get(term)
        if factor is not None:
            self.boost *= factor
            self.boost_left = 2
            self.excess = self.excess or term == "too"
            return 1
        self.plain_word(i, term, caps, _word_score(term))
        return 1

    def plain_word(self, i: int, term: str, caps: bool, score: tuple[float, float] | None) -> None:
        """A word with no rule of its own: scored, a wanted thing negated, or skipped."""
        if score is not None and self.is_adverb_of_next(i, term):
            # "quickly disappointed": the adverb grades the next word, its own sign is moot.
            self.boost *= 1.2
            self.boost_left = 1
        elif score is not None:
            self.score_word(term, score, caps)
        elif self.negation and term in lx.WANTED_NOUNS:
            self.add(WANTED_MISSING, 0.5)
        else:
            self.skip(term)

    def pair(self, i: int, term: str) -> int:
        """Two-word negators and contrasts; returns the tokens used, or 0."""
        following = self.tokens[i + 1][0] if i + 1 < len(self.tokens) else ""
        pair = (term, following)
        if pair in lx.NEGATING_PAIRS:
            self.negation = NEGATION_WINDOW  # "anything but helpful", "far from perfect"
            return 2
        length = lx.CONTRAST_PAIRS.get(pair, 0)
        if not length:
            return 0
        after = self.tokens[i + length][0] if i + length < len(self.tokens) else ""
        if pair in lx.EXCEPT_PAIRS and after not in {"that", "this", "those", "these"}:
            self.new_clause(weak=True)  # "apart from the delay, all good"
            return length
        self.contrast()  # "that said", "even so", "other than that"
        return length + 1 if pair in lx.EXCEPT_PAIRS else length

    def contrast(self) -> None:
        for item in self.items:
            item.weight *= BEFORE_CONTRAST
        self.new_clause()
        self.reset()

    def rating(self, term: str) -> bool:
        """A score out of 5 or 10 ("10/10", "2/5") read as a verdict; False if not one."""
        top, sep, bottom = term.partition("/")
        if not sep or bottom not in {"5", "10"} or not top.isdigit():
            return False
        share = int(top) / int(bottom)
        if share > 1:
            return False
        self.add((share - 0.55) * 2.2, 0.8)
        return True

    def clause_words(self, i: int, limit: int) -> list[str]:
        """Up to `limit` words before token i, back to the last comma or clause end."""
        out: list[str] = []
        for term, kind, _ in reversed(self.tokens[max(0, i - 12) : i]):
            if kind == "punct" and (term[0] in _CLAUSE_END or term == ","):
                break
            if kind in {"word", "num"}:
                out.append(term)
                if len(out) >= limit:
                    break
        return out

    def is_complaint_question(self, i: int, term: str) -> bool:
        """A question that is really a complaint: "why …?", "where is my …?", "…??"."""
        words = self.clause_words(i, 12)[::-1]
        if not words:
            return False
        # A clause that already praises is a real question ("why did I wait so long?").
        if sum(item.polarity for item in self.items[self.clause_start :]) > 0:
            return False
        first = words[0]
        second = words[1] if len(words) > 1 else ""
        if (first == "why" and second != "not") or (first, second) in lx.COMPLAINT_OPENERS:
            return True
        if len(words) == 1 and first in {"seriously", "really", "again", "still"}:
            return True
        return len(term) > 1  # "??" and "?!" are disbelief

    def is_long_wait(self, i: int, term: str) -> bool:
        """A long wait or repeated contact: "took three weeks", "waited 40 minutes",
        "called 4 times", "explained it to five different people"."""
        if term in lx.DURATION_UNITS:
            triggers, single = lx.WAIT_WORDS, True
        elif term in lx.SHORT_WAIT_UNITS:
            triggers, single = lx.SHORT_WAIT_WORDS, True
        elif term in lx.CONTACT_UNITS:
            triggers, single = lx.CONTACT_WORDS, False
        else:
            return False
        # The quantity is right before the unit, or one word before ("two engineer visits").
        for back in (1, 2):
            if i - back < 0:
                return False
            word, kind, _ = self.tokens[i - back]
            if kind == "punct":
                return False
            if kind == "num" or word in lx.QUANTITY_WORDS:
                if not single and word in {"a", "an", "one", "1", "whole"}:
                    return False  # once is not "again and again"
                return any(w in triggers for w in self.clause_words(i - back, 6))
        return False

    def return_intent(self, i: int) -> bool:
        """ "will stay here again" is praise, "wouldn't use them again" a farewell."""
        words = self.clause_words(i, 8)
        if not any(word in lx.RETURN_INTENT for word in words):
            return False
        if sum(item.polarity for item in self.items[self.clause_start :]) < 0:
            return False  # "I would hate to go through that again"
        negated = any(word in lx.NEGATORS for word in words)
        self.add(RETURN_AGAIN * (-1.2 if negated else 1.0), 0.6)
        return True

    def is_short_span(self, i: int) -> bool:
        for term, kind, _ in self.tokens[i + 1 : i + 4]:
            if kind == "punct":
                return False
            if term in lx.SHORT_UNITS:
                return True
        return False

    def score_word(self, term: str, score: tuple[float, float], caps: bool) -> None:
        polarity, subjectivity = score
        polarity *= self.boost
        if self.excess and polarity > 0:
            polarity = -0.4  # "too sweet", "too big"
        if caps and not self.all_caps:
            polarity *= CAPS_BOOST
        if self.negation:
            polarity = WANTED_MISSING if term in lx.WANTED_NOUNS else _negate(polarity)
        self.add(polarity, subjectivity)

    def skip(self, term: str) -> None:
        if self.excess and term not in lx.EN_STOPWORDS:
            self.add(-0.3, 0.5)  # "too high", "too salty": excess is a complaint
            return
        if self.negation:
            if term in _RAISING:
                self.negation = NEGATION_WINDOW  # "I don't think we'll be back"
            elif len(term) > 2:
                self.negation -= 1  # small words keep it ("not a good")
        if self.boost_left:
            self.boost_left -= 1
            if not self.boost_left:
                self.boost = 1.0
                self.excess = False

    def phrase(self, i: int, term: str) -> int:
        """Match the longest lexicon phrase starting at i; returns its length or 0."""
        lengths = lx.phrase_lengths().get(term)
        tokens = self.tokens
        if not lengths or i + 1 >= len(tokens) or (term, tokens[i + 1][0]) not in lx.phrase_pairs():
            return 0
        phrases = lx.phrase_table()
        for length in lengths:
            if length > len(tokens) - i:
                continue
            key = tuple(map(_TERM, tokens[i : i + length]))
            value = phrases.get(key)
            if value is None:
                continue
            if value:
                polarity = value * self.boost
                if self.negation and lx.NEGATORS.isdisjoint(key):
                    polarity = _negate(polarity)
                if not self.all_caps and any(map(_CAPS, tokens[i : i + length])):
                    polarity *= CAPS_BOOST
                self.add(polarity, _phrase_subjectivity(value))
            return length
        return 0

    def is_adverb_of_next(self, i: int, term: str) -> bool:
        if not term.endswith("ly") or term in _LY_ADJECTIVES or i + 1 >= len(self.tokens):
            return False
        nxt, kind, _ = self.tokens[i + 1]
        return kind == "word" and _word_score(nxt) is not None

    def clause_final(self, i: int) -> bool:
        return i + 1 >= len(self.tokens) or self.tokens[i + 1][1] == "punct"


# Of a phrase's polarity, one of a few dozen values: rounding costs more than a look-up.
_phrase_subjectivity: Final = cache(lx.phrase_subjectivity)


def _assess(tokens: list[Token], all_caps: bool) -> list[_Item]:
    """Turn tokens into weighted sentiment items, applying the rules left to right."""
    return _Reader(tokens, all_caps).read()


def _negate(polarity: float) -> float:
    return polarity * (NEGATED_POSITIVE if polarity > 0 else NEGATED_NEGATIVE)


def _clip(value: float, low: float = -1.0) -> float:
    """max(low, min(1.0, value)), without two calls that each parse keyword arguments."""
    value = value if value < 1.0 else 1.0
    return value if value > low else low


_RU_TOKEN: Final = re.compile(r"[а-яё]+|!+|[.?;,]", re.IGNORECASE)


def _score_ru(text: str) -> Sentiment:
    """Russian: a small lexicon with negation, intensifiers and contrast; no hit, no score."""
    table = lx.ru_word_table()
    wanted = lx.ru_wanted_stems()
    items: list[_Item] = []
    clause = clause_start = negation = 0
    boost = 1.0
    words = [match.group().lower().replace("ё", "е") for match in _RU_TOKEN.finditer(text)]
    i = 0
    # The item the word just before made (or a wanted thing it named), for a negation that
    # follows: "проблем не было", "ответа нет".
    last_item: _Item | None = None
    last_wanted = False
    while i < len(words):
        word, i = words[i], i + 1
        follows, last_item, last_wanted = (last_item, last_wanted), None, False
        if word[0] == "!":
            for item in items[clause_start:]:
                item.polarity = _clip(item.polarity * (1 + EXCLAIM_STEP * min(3, len(word))))
        if word == ",":  # "Нет, всё хорошо": a negation does not reach past a comma
            negation, boost = 0, 1.0
            continue
        if not word[0].isalpha():
            clause, clause_start, negation, boost = clause + 1, len(items), 0, 1.0
            continue
        if word in lx.RU_CONTRAST:
            for item in items:
                item.weight *= BEFORE_CONTRAST
            clause, clause_start, negation, boost = clause + 1, len(items), 0, 1.0
            continue
        # "не было" denies what precedes only when it ends the clause: "проблема не была
        # решена" is a complaint.
        denied = word == "нет" or (word == "не" and i < len(words) and words[i] in lx.RU_DENIED_AFTER
                                    and (i + 1 == len(words) or not words[i + 1][0].isalpha()))
        if denied and (follows[0] is not None or follows[1]):
            before = follows[0]
            if before is not None:
                before.polarity = _negate(before.polarity)
            else:
                items.append(_Item(WANTED_MISSING, lx.phrase_subjectivity(WANTED_MISSING), 1.0, clause))
            i += word == "не"  # "было" is read with it
            continue
        if word in lx.RU_NEGATORS:
            negation = 2  # "не" binds to the next word or two ("не очень хорошо")
            continue
        factor = lx.RU_INTENSIFIERS.get(word)
        if factor is not None:
            boost *= factor
            continue
        polarity: float | None = None
        if word in lx.RU_PHRASE_STARTS:
            for phrase, value in lx.RU_PHRASES.items():
                if tuple(words[i - 1:i - 1 + len(phrase)]) == phrase:
                    polarity, i = value, i - 1 + len(phrase)
                    break
        stem = lx.stem_ru(word)
        if polarity is None:
            # A bare genitive plural ("проблем") loses a letter that looks like an ending.
            polarity = table.get(stem, table.get(word))
        is_wanted = stem in wanted or word in wanted
        if polarity is None and negation and is_wanted:
            polarity = WANTED_MISSING / NEGATED_NEGATIVE  # negated below to WANTED_MISSING
        if polarity is None:
            negation = max(0, negation - 1)
            last_wanted = is_wanted
            continue
        polarity *= boost
        if negation:
            polarity = WANTED_MISSING if is_wanted else _negate(polarity)
        last_item = _Item(_clip(polarity), lx.phrase_subjectivity(polarity), 1.0, clause)
        items.append(last_item)
        negation, boost = 0, 1.0
    if not items:
        # The Russian lexicon is small: silence means "can't tell", not "neutral".
        return Sentiment(polarity=None, subjectivity=None, label=None, language="ru")
    total = sum(item.weight for item in items)
    polarity = _clip(sum(item.polarity * item.weight for item in items) / total)
    subjectivity = sum(item.subjectivity * item.weight for item in items) / total
    return Sentiment(polarity=round(polarity, PLACES), subjectivity=round(subjectivity, PLACES),
                     label=_label(polarity, items), language="ru")
