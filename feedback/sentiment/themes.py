"""Theme keys of a comment: concept-level key phrases in English and Russian, no corpora."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache, lru_cache
from itertools import pairwise
from typing import Final

from feedback.sentiment import lexicon as lx
from feedback.sentiment.lexicon import stem_ru

MAX_THEMES: Final = 8

# --- English -------------------------------------------------------------------------------

# Customer-experience synonyms -> one report heading. Keys are lemmas (see _lemma_en);
# two-word keys are matched on adjacent lemmas first.
EN_CONCEPTS: Final[dict[str, str]] = {
    "courier": "courier", "driver": "courier", "deliveryman": "courier",
    "postman": "courier", "mailman": "courier", "delivery guy": "courier",
    "delivery man": "courier", "delivery driver": "courier", "delivery person": "courier",
    "parcel": "parcel", "package": "parcel", "packet": "parcel", "shipment": "parcel",
    "packaging": "packaging", "box": "packaging", "wrapping": "packaging",
    "delivery": "delivery", "deliver": "delivery", "shipping": "delivery",
    "ship": "delivery", "dispatch": "delivery", "arrive": "delivery", "arrival": "delivery",
    "tracking": "tracking", "track": "tracking", "tracking number": "tracking",
    "refund": "refund", "reimbursement": "refund", "reimburse": "refund",
    "money back": "refund", "chargeback": "refund",
    "wait": "waiting time", "waiting": "waiting time", "hold": "waiting time",
    "queue": "waiting time", "wait time": "waiting time", "waiting time": "waiting time",
    "app": "app", "application": "app", "mobile app": "app",
    "website": "website", "site": "website", "web site": "website", "checkout": "checkout",
    "crash": "crashes", "freeze": "crashes", "bug": "crashes", "glitch": "crashes",
    "buggy": "crashes", "glitchy": "crashes", "login": "login", "log": "login",
    "password": "login", "sign": "login", "update": "update", "upgrade": "update",
    "staff": "staff", "employee": "staff", "personnel": "staff", "worker": "staff",
    "waiter": "staff", "waitress": "staff", "server": "staff", "cashier": "staff",
    "clerk": "staff", "receptionist": "staff", "manager": "staff", "bartender": "staff",
    "host": "staff", "hostess": "staff", "team": "staff",
    "support": "support", "helpdesk": "support", "help desk": "support",
    "customer service": "support", "customer support": "support", "call center": "support",
    "hotline": "support", "agent": "support", "operator": "support",
    "representative": "support", "rep": "support", "advisor": "support",
    "chat": "support", "chatbot": "support", "bot": "support",
    "ticket": "support", "callback": "callback", "call back": "callback",
    "price": "price", "pricing": "price", "cost": "price", "expensive": "price",
    "pricey": "price", "overprice": "price", "overpriced": "price", "cheap": "price",
    "affordable": "price", "value": "price",
    "bill": "billing", "billing": "billing", "invoice": "billing", "charge": "billing",
    "payment": "billing", "pay": "billing", "fee": "billing", "subscription": "billing",
    "overcharge": "billing",
    "cancel": "cancellation", "cancellation": "cancellation",
    "return": "returns", "exchange": "returns",
    "quality": "quality", "battery": "battery", "battery life": "battery",
    "sound": "sound", "audio": "sound", "sound quality": "sound", "volume": "sound",
    "screen": "screen", "display": "screen", "charger": "charger",
    "food": "food", "meal": "food", "dish": "food", "taste": "taste", "flavor": "taste",
    "flavour": "taste", "portion": "portion size", "menu": "menu",
    "service": "service", "communication": "communication", "email": "communication",
    "notification": "communication", "message": "communication", "reply": "communication",
    "response": "communication", "store": "store", "shop": "store", "branch": "store",
    "clean": "cleanliness", "dirty": "cleanliness", "cleanliness": "cleanliness",
}

# Judgement words that, next to a concept, name a kind of it ("late" + delivery).
EN_QUALIFIERS: Final[dict[str, str]] = {
    "late": "late", "delay": "late", "overdue": "late", "slow": "slow",
    "fast": "fast", "quick": "fast", "speedy": "fast", "prompt": "fast", "swift": "fast",
    "early": "fast", "friendly": "friendly", "polite": "friendly", "courteous": "friendly",
    "kind": "friendly", "nice": "friendly", "lovely": "friendly", "rude": "rude",
    "impolite": "rude", "unfriendly": "rude", "arrogant": "rude", "helpful": "helpful",
    "unhelpful": "unhelpful", "useless": "unhelpful", "damage": "damaged",
    "broken": "damaged", "broke": "damaged", "crush": "damaged", "crack": "damaged",
    "missing": "missing", "lose": "missing", "lost": "missing", "wrong": "wrong",
    "long": "long", "easy": "easy", "intuitive": "easy", "simple": "easy",
}

_PEOPLE: Final = frozenset({"staff", "courier", "support"})
_DELIVERY: Final = frozenset({"delivery", "courier", "parcel", "tracking"})

# (qualifier, concept family) -> heading; the concept family is checked by membership.
_COMPOSITES: Final[tuple[tuple[str, frozenset[str], str], ...]] = (
    ("late", _DELIVERY, "late delivery"),
    ("slow", _DELIVERY, "late delivery"),
    ("fast", _DELIVERY, "fast delivery"),
    ("damaged", _DELIVERY | {"packaging"}, "damaged parcel"),
    ("missing", _DELIVERY, "missing parcel"),
    ("wrong", _DELIVERY, "wrong item"),
    ("friendly", _PEOPLE, "friendly staff"),
    ("rude", _PEOPLE, "rude staff"),
    ("helpful", _PEOPLE, "helpful staff"),
    ("unhelpful", _PEOPLE, "unhelpful staff"),
    ("slow", frozenset({"support", "service", "staff", "food"}), "slow service"),
    ("late", frozenset({"support", "service", "staff", "food"}), "slow service"),
    ("fast", frozenset({"support", "service", "staff", "callback"}), "fast service"),
    ("long", frozenset({"waiting time"}), "waiting time"),
    ("easy", frozenset({"app", "website", "checkout", "login"}), "ease of use"),
)

def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that never make a theme on their own: function words, time units, fillers.
EN_THEME_STOPWORDS: Final[frozenset[str]] = lx.EN_STOPWORDS | lx.NEUTRAL_WORDS | _words(

        "also again ever still even just really much many lot lots bit thing things way "
        "day days week weeks month months year years hour hours minute minutes time times "
        "today yesterday tomorrow morning night people person guy one two three four five "
        "first second last next would could should might must shall may will can cannot "
        "get got go went come came make made take took give gave say said tell told know "
        "think thought want wanted need needed try tried use used see seem look put keep "
        "let find found feel felt like well back yet already ever anything something "
        "nothing everything anyone someone everyone nobody else though although however "
        "since while without within upon per via etc ok okay yes yeah oh please thank "
        "thanks us im ive id ill dont cant wont isnt wasnt didnt doesnt its it's not no "
        "twice once always never sometimes often"

)

# --- Russian -------------------------------------------------------------------------------

RU_CONCEPTS: Final[dict[str, str]] = {
    "курьер": "courier", "курьера": "courier", "курьеру": "courier", "водитель": "courier",
    "доставщик": "courier", "доставка": "delivery", "доставку": "delivery",
    "доставки": "delivery", "доставили": "delivery", "доставил": "delivery",
    "привезли": "delivery", "привез": "delivery", "пришла": "delivery", "пришел": "delivery",
    "посылка": "parcel", "посылку": "parcel", "посылки": "parcel", "заказ": "parcel",
    "заказа": "parcel", "заказы": "parcel", "коробка": "packaging", "упаковка": "packaging",
    "упаковку": "packaging", "возврат": "refund", "возврата": "refund",
    "деньги": "billing", "вернуть": "refund", "вернули": "refund",
    "верните": "refund", "ожидание": "waiting time", "ждать": "waiting time",
    "ждал": "waiting time", "ждали": "waiting time", "жду": "waiting time",
    "очередь": "waiting time", "приложение": "app", "приложения": "app",
    "сайт": "website", "сайте": "website", "оператор": "support",
    "оператора": "support", "поддержка": "support", "поддержку": "support",
    "поддержки": "support", "сотрудник": "staff", "персонал": "staff", "менеджер": "staff",
    "продавец": "staff", "официант": "staff", "цена": "price", "цены": "price",
    "стоимость": "price", "дорого": "price", "дешево": "price", "оплата": "billing",
    "оплату": "billing", "счет": "billing", "счёт": "billing", "списали": "billing",
    "качество": "quality", "еда": "food", "обслуживание": "service",
    "отмена": "cancellation", "отменили": "cancellation", "вылетает": "crashes",
    "зависает": "crashes", "глючит": "crashes", "ошибка": "crashes",
    "обновление": "update", "звонок": "callback", "перезвонил": "callback",
    "перезвонили": "callback", "отвечает": "communication", "ответа": "communication",
    "ответили": "communication", "ответ": "communication",
}

RU_QUALIFIERS: Final[dict[str, str]] = {
    "опоздал": "late", "опоздала": "late", "опоздали": "late", "опоздание": "late",
    "опозданием": "late", "задержка": "late", "задержали": "late", "поздно": "late",
    "долго": "slow", "медленно": "slow", "медленный": "slow", "быстро": "fast",
    "быстрый": "fast", "быстрая": "fast", "вовремя": "fast", "вежливый": "friendly",
    "вежливо": "friendly", "вежливая": "friendly", "приветливый": "friendly",
    "грубый": "rude", "грубо": "rude", "хамство": "rude", "нахамил": "rude",
    "грубая": "rude", "помог": "helpful", "помогли": "helpful", "отзывчивый": "helpful",
    "повреждена": "damaged", "повреждённая": "damaged", "сломан": "damaged",
    "сломана": "damaged", "разбита": "damaged", "потеряли": "missing",
}

RU_STOPWORDS: Final[frozenset[str]] = _words(

        "и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по "
        "только ее её мне было вот от меня еще ещё нет о из ему теперь когда даже ну ли если "
        "уже или ни быть был него до вас опять уж вам ведь там потом себя ничего ей может "
        "они тут где есть надо ней для мы тебя их чем была сам без чего раз тоже себе под "
        "будет ж тогда кто этот того потому этого какой совсем ним здесь этом один почти мой "
        "тем чтобы нее сейчас были куда зачем всех никогда можно при два об другой хоть "
        "после над больше тот через эти нас про всего них какая много три эту моя свою этой "
        "перед иногда лучше чуть том нельзя такой им более всегда конечно всю между очень "
        "это мой наш ваш свой весь день дня дней час часа часов раза спасибо просто уже "
        "снова опять все всё очень постоянно вообще никто ничто дважды так"

)

_SENTENCE_SPLIT: Final = re.compile(r"[.!?;]+|\b(?:but|however|although|though|но|однако|а)\b",
                                    re.IGNORECASE)


def extract_themes(text: str, language: str) -> list[str]:
    """Normalised theme keys, most salient first, deduplicated, at most 8."""
    if language == "ru":
        return _themes(text, _terms_ru)
    if language == "en":
        return _themes(text, _terms_en)
    return []


# A term: (lemma, concept or None, qualifier or None, counts as content word).
Term = tuple[str, str | None, str | None, bool]
TermReader = Callable[[str], list[Term]]


def _themes(text: str, terms_of: TermReader) -> list[str]:
    composites: list[str] = []
    concepts: list[str] = []
    bigrams: list[str] = []
    singles: list[str] = []
    clauses = [terms_of(clause) for clause in _SENTENCE_SPLIT.split(text)]
    everywhere = {concept for terms in clauses for _, concept, _, _ in terms if concept}
    for terms in clauses:
        # A qualifier pairs with concepts in its own clause, or anywhere in the comment
        # when its clause names none ("the courier was polite but late").
        found = {concept for _, concept, _, _ in terms if concept} or everywhere
        for _, _, qualifier, _ in terms:
            for needed, family, heading in _COMPOSITES:
                if qualifier == needed and found & family:
                    composites.append(heading)
        for lemma, concept, qualifier, content in terms:
            if concept:
                concepts.append(concept)
            elif content and not qualifier:
                singles.append(lemma)
        for (a, ca, qa, ok_a), (b, cb, qb, ok_b) in pairwise(terms):
            if ok_a and ok_b and not (ca or cb or qa or qb):
                bigrams.append(f"{a} {b}")
    ordered = [*composites, *concepts, *bigrams, *singles]
    # Words already inside a chosen bigram don't repeat as single themes.
    in_bigrams = {w for phrase in bigrams for w in phrase.split()}
    out: list[str] = []
    for theme in ordered:
        if theme in out or (" " not in theme and theme in in_bigrams):
            continue
        out.append(theme)
        if len(out) == MAX_THEMES:
            break
    return out


def _terms_en(clause: str) -> list[Term]:
    """Terms of an English clause, two-word concepts ("customer service") merged."""
    words = [w for w in lx.words_of(clause) if w.isalpha() or "-" in w or "'" in w]
    lemmas = [_lemma_en(w) for w in words]
    terms: list[Term] = []
    i = 0
    while i < len(lemmas):
        if i + 1 < len(lemmas):
            pair = f"{lemmas[i]} {lemmas[i + 1]}"
            concept = EN_CONCEPTS.get(pair)
            if concept:
                terms.append((pair, concept, None, True))
                i += 2
                continue
        lemma = lemmas[i]
        concept = EN_CONCEPTS.get(lemma)
        qualifier = EN_QUALIFIERS.get(lemma)
        terms.append((lemma, concept, qualifier, _is_content_en(words[i], lemma)))
        i += 1
    return terms


@lru_cache(maxsize=65536)
def _is_content_en(word: str, lemma: str) -> bool:
    if word in EN_THEME_STOPWORDS or lemma in EN_THEME_STOPWORDS or len(lemma) < 3:
        return False
    if lemma in lx.NEGATORS or lemma in lx.INTENSIFIERS or "'" in word:
        return False
    # Pure judgement words ("great", "terrible") say how, not what.
    score = lx.word_table().get(word) or lx.word_table().get(lemma)
    return not (score and abs(score[0]) >= 0.1)


@lru_cache(maxsize=65536)
def _lemma_en(word: str) -> str:
    """Light lemma: plural -s/-es/-ies, -ed, -ing, -ly, checked against a word list."""
    if word in EN_CONCEPTS or word in EN_QUALIFIERS or len(word) < 4:
        return word
    known = lx.english_vocabulary()
    for candidate in _en_candidates(word):
        if candidate in EN_CONCEPTS or candidate in EN_QUALIFIERS or candidate in known:
            return candidate
    return word


def _en_candidates(word: str) -> list[str]:
    out: list[str] = []
    if word.endswith("ies"):
        out.append(word[:-3] + "y")
    if word.endswith(("ses", "xes", "zes", "ches", "shes")):
        out.append(word[:-2])
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        out.append(word[:-1])
    if word.endswith("ied"):
        out.append(word[:-3] + "y")
    if word.endswith("ed"):
        out += [word[:-2], word[:-1]]
        if word[-3] == word[-4]:
            out.append(word[:-3])  # "stopped"
    if word.endswith("ing") and len(word) > 5:
        out += [word[:-3], word[:-3] + "e"]
        if word[-4] == word[-5]:
            out.append(word[:-4])  # "shipping"
    if word.endswith("ily"):
        out.append(word[:-3] + "y")
    if word.endswith("ly") and len(word) > 5:
        out.append(word[:-2])
    return [c for c in out if len(c) >= 3]


_RU_WORD: Final = re.compile(r"[а-яё]+(?:-[а-яё]+)*", re.IGNORECASE)


def _terms_ru(clause: str) -> list[Term]:
    """Terms of a Russian clause: stems mapped through the synonym tables."""
    concepts, qualifiers = _ru_tables()
    terms: list[Term] = []
    for match in _RU_WORD.finditer(clause):
        word = match.group().lower().replace("ё", "е")
        stem = stem_ru(word)
        concept = concepts.get(stem)
        qualifier = qualifiers.get(stem)
        # Judgement words ("хорошо") say how, not what.
        judgement = stem in lx.ru_word_table()
        content = word not in RU_STOPWORDS and len(word) > 3 and not qualifier and not judgement
        # Unmapped words keep their written form: a stem alone is not a readable heading.
        terms.append((word, concept, qualifier, content))
    return terms


@cache
def _ru_tables() -> tuple[dict[str, str], dict[str, str]]:
    concepts = {stem_ru(w): c for w, c in RU_CONCEPTS.items()}
    qualifiers = {stem_ru(w): q for w, q in RU_QUALIFIERS.items()}
    return concepts, qualifiers
