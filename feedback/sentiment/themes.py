"""Theme keys of a comment: concept-level key phrases in English and Russian, no corpora."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache, lru_cache
from importlib.util import find_spec
from pathlib import Path
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
    "host": "staff", "hostess": "staff",
    "support": "support", "helpdesk": "support", "help desk": "support",
    "customer service": "support", "customer support": "support", "call center": "support",
    "hotline": "support", "tech support": "support", "customer care": "support",
    "call centre": "support", "ticket": "support",
    "chat": "chat", "live chat": "chat", "chatbot": "chat", "bot": "chat", "web chat": "chat",
    "callback": "callback", "call back": "callback",
    "transfer": "transfer", "put through": "transfer", "redirect": "transfer",
    "reroute": "transfer", "pass around": "transfer",
    "retention": "retention", "retention offer": "retention", "retain": "retention",
    "counteroffer": "retention", "counter offer": "retention",
    "setup": "setup", "set up": "setup", "installation": "setup", "install": "setup",
    "onboarding": "setup",
    "confirmation": "confirmation", "confirm": "confirmation",
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
    "communication": "communication", "email": "communication",
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

# Words and phrases that belong to a concept family, so a judgement next to them makes a
# composite ("friendly agent" -> "friendly staff"), but that are too vague to be a heading
# on their own: "the agent", "the chat agent", "good service" name no problem to act on.
EN_FAMILY_ONLY: Final[dict[str, str]] = {
    "agent": "support", "operator": "support", "representative": "support", "rep": "support",
    "advisor": "support", "adviser": "support", "consultant": "support",
    "specialist": "support", "support agent": "support", "support rep": "support",
    "support staff": "support", "support team": "support", "service agent": "support",
    "customer service agent": "support",
    "team": "staff", "guy": "staff", "lady": "staff", "person": "staff", "people": "staff",
    "service": "service",
}

_PEOPLE: Final = frozenset({"staff", "courier", "support", "service"})
_DELIVERY: Final = frozenset({"delivery", "courier", "parcel", "tracking"})
_SERVICE: Final = frozenset({"support", "service", "staff", "food", "chat"})

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
    ("slow", _SERVICE, "slow service"),
    ("late", _SERVICE, "slow service"),
    ("fast", _SERVICE | {"callback"}, "fast service"),
    ("long", frozenset({"waiting time"}), "waiting time"),
    ("easy", frozenset({"app", "website", "checkout", "login", "setup"}), "ease of use"),
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Nouns too vague to head a report on their own ("department", "thing", "time"); they still
# count inside a concept phrase ("waiting time", "delivery guy").
EN_GENERIC: Final[frozenset[str]] = _words(
    "support department company business firm organisation organization service agent "
    "thing stuff item way lot people person guy lady man woman team day night time week "
    "month year hour minute moment place issue problem question situation reason "
    "experience matter kind sort type part end side point fact bit everything "
    "anything something nothing someone everyone anyone staff member customer client "
    "manner process option detail"
)

# Words that never make a theme on their own: function words, time units, fillers.
EN_THEME_STOPWORDS: Final[frozenset[str]] = lx.EN_STOPWORDS | lx.NEUTRAL_WORDS | EN_GENERIC | _words(

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

# Concept nouns by stem (the word minus a case ending, see _RU_ENDINGS): every case and
# number of "чат", "курьер", "доставка", "приложение" ... finds its stem.
RU_CONCEPT_STEMS: Final[dict[str, str]] = {
    "чат": "chat", "онлайн-чат": "chat", "чат-бот": "chat", "бот": "chat",
    "курьер": "courier", "водител": "courier", "доставщик": "courier",
    "доставк": "delivery", "доставлени": "delivery",
    "посылк": "parcel", "посылочк": "parcel", "заказ": "parcel", "отправлени": "parcel",
    "груз": "parcel", "коробк": "packaging", "упаковк": "packaging",
    "возврат": "refund", "компенсаци": "refund",
    "ожидани": "waiting time", "очеред": "waiting time",
    "приложени": "app", "сайт": "website",
    "поддержк": "support", "техподдержк": "support",
    "колл-центр": "support", "call-центр": "support",
    "оператор": "~support", "консультант": "~support", "специалист": "~support",
    "сотрудник": "staff", "персонал": "staff", "менеджер": "staff", "продавец": "staff",
    "продавц": "staff", "официант": "staff", "кассир": "staff",
    "цен": "price", "стоимост": "price", "ценник": "price",
    "оплат": "billing", "счет": "billing", "деньг": "billing", "денег": "billing",
    "списани": "billing", "подписк": "billing", "комисси": "billing",
    "качеств": "quality", "обслуживани": "~service", "сервис": "~service",
    # "Ошибка" is as often in a bill as in an app: like English "error", no heading alone.
    "отмен": "cancellation", "ошибк": "~crashes", "сбо": "crashes", "обновлени": "update",
    "звонок": "callback", "звонк": "callback", "уведомлени": "communication",
    "сообщени": "communication", "письм": "communication", "смс": "communication",
    "ответ": "communication", "переключени": "transfer", "удержани": "retention",
    "вход": "login", "логин": "login", "парол": "login", "авторизаци": "login",
    "настройк": "setup", "установк": "setup", "подключени": "setup",
    "подтверждени": "confirmation", "отслеживани": "tracking", "трек-номер": "tracking",
    "чистот": "cleanliness",
}

# Verb forms (and irregular nouns) that name a concept; looked up as written.
RU_CONCEPT_FORMS: Final[dict[str, str]] = {
    "доставили": "delivery", "доставил": "delivery", "доставлена": "delivery",
    "привезли": "delivery", "привез": "delivery", "пришла": "delivery", "пришел": "delivery",
    "пришло": "delivery", "вернуть": "refund", "вернули": "refund", "верните": "refund",
    "ждать": "waiting time", "ждал": "waiting time", "ждала": "waiting time",
    "ждали": "waiting time", "жду": "waiting time", "ждем": "waiting time",
    "дождался": "waiting time", "дождалась": "waiting time", "дождаться": "waiting time",
    "ждет": "waiting time", "ждут": "waiting time", "прождал": "waiting time", "прождала": "waiting time", "прождали": "waiting time",
    "подождать": "waiting time", "ожидал": "waiting time", "ожидала": "waiting time",
    "дорого": "price", "дешево": "price", "дороговато": "price", "списали": "billing",
    "еда": "food", "еды": "food", "еду": "food", "едой": "food",
    "отменили": "cancellation", "отменить": "cancellation", "отменил": "cancellation",
    "вылетает": "crashes", "зависает": "crashes", "глючит": "crashes",
    "перезвонил": "callback", "перезвонили": "callback", "перезвонить": "callback",
    "отвечает": "communication", "отвечают": "communication", "ответили": "communication",
    "ответил": "communication", "ответила": "communication",
    "перевели": "transfer", "переводили": "transfer", "переключили": "transfer",
    "переключали": "transfer", "перекидывали": "transfer", "футболили": "transfer",
    "навязывали": "retention", "навязывать": "retention", "уговаривали": "retention",
    "отговаривали": "retention", "войти": "login", "зайти": "login",
    "настроить": "setup", "установить": "setup", "подтвердили": "confirmation",
}

# Judgement stems, matched as word prefixes ("вежлив" -> вежливый, вежливая, вежливо).
RU_QUALIFIER_PREFIXES: Final[dict[str, str]] = {
    "опозд": "late", "опаздыв": "late", "задерж": "late", "поздн": "late", "поздно": "late",
    "долго": "slow", "долгий": "slow", "долгая": "slow", "долгое": "slow", "медлен": "slow",
    "быстр": "fast", "оператив": "fast", "вовремя": "fast", "моментальн": "fast",
    "вежлив": "friendly", "приветлив": "friendly", "доброжелат": "friendly",
    "любезн": "friendly", "дружелюб": "friendly",
    "груб": "rude", "хам": "rude", "нахам": "rude", "невежлив": "rude",
    "отзывчив": "helpful", "помог": "helpful", "помогл": "helpful",
    "поврежд": "damaged", "слома": "damaged", "разбит": "damaged", "помят": "damaged",
    "потерял": "missing", "потеря": "missing",
    "прост": "easy", "удобн": "easy", "понятн": "easy", "легк": "easy", "легко": "easy",
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
        "снова опять все всё очень постоянно вообще никто ничто дважды так слишком "
        "совершенно абсолютно вроде итоге итог целом общем"

) | _words(
    # Russian counterparts of EN_GENERIC.
    "служба службы службу службе компания компании компанию отдел отдела отделы отделов "
    "вещь вещи штука дело время раз способ вопрос вопросы ситуация случай человек люди "
    "товар товара товары минут минуты неделю недели месяц месяца полчаса сутки суток"
)

# Oblique-case, verb, adjective and adverb endings: an unmapped Russian word written with
# one of these is not a readable heading ("чате", "слишком"), so it is not shown alone.
_RU_NOT_HEADING: Final = tuple(sorted(_words(
    "ть ться л ла ло ли лся лась лось лись ет ут ют ит ат ят ешь ишь ем им ете ите ся "
    "сь ый ий ой ая яя ое ее ые ого его ому ему ым ых их ыми ими ую юю ом ами ями ах ях ов "
    "ев е у ю ы и о"
), key=len, reverse=True))
_RU_ADJECTIVE: Final = ("ый", "ий", "ой", "ая", "яя", "ое", "ее", "ые", "ие")
# Noun and adjective case endings, shortest first: the longest stem is tried first.
_RU_ENDINGS: Final = ("", *sorted(_words(
    "а я о е ы и у ю ь й ой ей ом ем ам ям ах ях ов ев ами ями ью ия ие ии ию ией ием иям "
    "иях иями ья ье ьи ьев ьям ьях ьями ый ий ая ое ые ого его ому ему ым им ых их ыми ими "
    "ую юю ою ею"
), key=lambda e: (len(e), e)))

# Words that open a new clause; "anything but helpful" is one negated judgement, not two.
_CLAUSE_WORDS: Final = (r"but(?<!\banything but)", "however", "although", "though", "но", "однако", "а")
# The lookahead holds every character a split can start with, so that most positions fail
# on one test (the split takes half the time it did without).
_SENTENCE_SPLIT: Final = re.compile(
    "(?=[.!?;" + "".join(sorted({word[0] for word in _CLAUSE_WORDS})) + "])"
    r"(?:[.!?;]+|\b(?:" + "|".join(_CLAUSE_WORDS) + r")\b)", re.IGNORECASE)

# A judgement after a negator names its opposite where the vocabulary has one ("not very
# fast" is slow, "не вежливый" rude) and nothing where it has none ("not late", "without
# delay", "без повреждений"): never the judgement itself. "long" and "easy" head neutral
# themes ("waiting time", "ease of use"), so a negation leaves them as they are.
_NEGATED_QUALIFIER: Final[dict[str, str | None]] = {
    "fast": "slow", "friendly": "rude", "helpful": "unhelpful", "rude": None,
    "unhelpful": None, "late": None, "slow": None, "damaged": None, "missing": None,
    "wrong": None,
}


def extract_themes(text: str, language: str) -> list[str]:
    """Normalised theme keys, most salient first, deduplicated, at most 8."""
    if language == "ru":
        return _themes(text, _terms_ru)
    if language == "en":
        return _themes(text, _terms_en)
    return []


# A term: (lemma, concept family or None, qualifier or None, role, concept shown alone).
# Role: 0 not a theme word, 1 content but not a noun (verbs: no heading), 2 a modifier that
# may start a two-word phrase (adjective), 3 a noun, 4 a base-form verb that may also be a
# noun and so may end a two-word phrase ("door hinge") but is not shown alone ("call").
Term = tuple[str, str | None, str | None, int, bool]
TermReader = Callable[[str], list[Term]]
_MODIFIER: Final = 2
_NOUN: Final = 3
_VERB_OR_NOUN: Final = 4
_HEADS: Final = (_NOUN, _VERB_OR_NOUN)
_MODIFIERS: Final = (_MODIFIER, _NOUN)


# Qualifier -> its (concept family, heading) pairs, in _COMPOSITES order.
_COMPOSITES_OF: Final[dict[str, tuple[tuple[frozenset[str], str], ...]]] = {
    needed: tuple((family, heading) for q, family, heading in _COMPOSITES if q == needed)
    for needed, _, _ in _COMPOSITES
}


def _themes(text: str, terms_of: TermReader) -> list[str]:
    composites: list[str] = []
    concepts: list[str] = []
    bigrams: list[str] = []
    singles: list[str] = []
    clauses = [terms_of(clause) for clause in _SENTENCE_SPLIT.split(text)]
    everywhere: set[str] | None = None
    for terms in clauses:
        found: set[str] | None = None  # the concepts the qualifiers pair with
        modifier = None  # the word before, if it may start a two-word theme
        for lemma, concept, qualifier, role, shown in terms:
            if not (role or concept or qualifier):  # a stop word: no theme, nor part of one
                modifier = None
                continue
            if qualifier:
                if found is None:
                    # A qualifier pairs with concepts in its own clause, or anywhere in the
                    # comment when its clause names none ("the courier was polite but late").
                    found = {c for _, c, _, _, _ in terms if c}
                    if not found:
                        if everywhere is None:
                            everywhere = {c for t in clauses for _, c, _, _, _ in t if c}
                        found = everywhere
                for family, heading in _COMPOSITES_OF.get(qualifier, ()):
                    if not found.isdisjoint(family):
                        composites.append(heading)
            if concept or qualifier:
                if concept and shown:
                    concepts.append(concept)
                modifier = None
                continue
            if role == _NOUN:
                singles.append(lemma)
            # Two-word themes are noun phrases only: (adjective or noun) + noun.
            if modifier is not None and role in _HEADS:
                bigrams.append(f"{modifier} {lemma}")
            modifier = lemma if role in _MODIFIERS else None
    ordered = [*composites, *concepts, *bigrams, *singles]
    # Words already inside a chosen bigram don't repeat as single themes.
    in_bigrams = {w for phrase in bigrams for w in phrase.split()} if bigrams else set()
    out: list[str] = []
    for theme in ordered:
        if theme in out or (" " not in theme and theme in in_bigrams):
            continue
        out.append(theme)
        if len(out) == MAX_THEMES:
            break
    return out


# First words of the two-word concepts ("customer" of "customer service").
_PAIR_STARTS_EN: Final = frozenset(k.split()[0] for k in (*EN_CONCEPTS, *EN_FAMILY_ONLY) if " " in k)


def _en_concept(key: str) -> tuple[str | None, bool]:
    concept = EN_CONCEPTS.get(key)
    if concept:
        return concept, True
    return EN_FAMILY_ONLY.get(key), False


# Words a negator reaches, as in the analyser ("wasn't very quick", "not helpful at all").
_EN_NEGATION_WINDOW: Final = 3
# Words after a negator that undo it: "not only fast", "couldn't be more helpful", "no doubt",
# "can't fault the friendly staff".
_EN_UNNEGATING: Final = frozenset({"only", "just", "more", "doubt", "wonder", "matter", "need",
                                   "fault", "complain", "beat", "recommend"})
# "Never been so quick" is praise; "not so quick" is not.
_EN_UNNEGATING_NEVER: Final = frozenset({"so", "such", "this"})
# A negated judgement word with no opposite of its own: "didn't arrive early" is not late.
_EN_NO_OPPOSITE: Final = frozenset({"early"})
# Words that may start a negation: a negator, or the first of "anything but", "far from".
_EN_NEGATION_STARTS: Final = lx.NEGATORS | {first for first, _ in lx.NEGATING_PAIRS}
# "wasn't helpful or friendly", "not always friendly and helpful": one negation, both words.
_EN_NEGATION_GOES_ON: Final = frozenset({"or", "nor", "and"})


def _terms_en(clause: str) -> list[Term]:
    """Terms of an English clause, two-word concepts ("customer service") merged."""
    words: list[str] = []
    own: list[Term] = []  # each word's own term
    commas: list[int] = []  # indexes of the words that follow a comma
    start = -1  # the first word that may start a negation or a two-word concept
    for chunk in clause.split():
        chunk_words, chunk_terms, chunk_commas, chunk_plain = _chunk_en(chunk)
        if chunk_commas:
            commas += [len(words) + k for k in chunk_commas]
        if not chunk_plain and start < 0:
            start = len(words)
        words += chunk_words
        own += chunk_terms
    if start < 0:
        return own  # no negation and no two-word concept
    # Up to `start`, each word is its own term.
    terms, i, n = own[:start], start, len(words)
    negation, negator = 0, ""
    while i < n:
        word = words[i]
        term = own[i]
        # Most words start no two-word concept: look the pair up only for those that may.
        if i + 1 < n and term[0] in _PAIR_STARTS_EN:
            pair = f"{term[0]} {_lemma_en(words[i + 1])}"
            concept, shown = _en_concept(pair)
            if concept:
                terms.append((pair, concept, None, _NOUN, shown))
                negation = max(0, negation - 1)
                i += 2
                continue
        if negation and i in commas:  # a negation does not reach past a comma
            negation = 0
        if negation:
            negation -= 1
            if word in _EN_UNNEGATING or (negator == "never" and word in _EN_UNNEGATING_NEVER):
                negation = 0
            elif term[2]:
                term = _negated_en(term)
                # A praise negated reaches a second one right after "or", "and".
                negation, negator = (2, "") if term[2] else (0, negator)
            elif (negator == "" and word not in _EN_NEGATION_GOES_ON) or word in lx.word_table():
                # Spent: a carried negation met no "or"/"and", or another judgement took it.
                negation = 0
        if word in _EN_NEGATION_STARTS and (
                word in lx.NEGATORS or (i + 1 < n and (word, words[i + 1]) in lx.NEGATING_PAIRS)):
            negation, negator = _EN_NEGATION_WINDOW + (word not in lx.NEGATORS), word
        terms.append(term)
        i += 1
    return terms


# One run of non-space characters: (words, terms, indexes of the words after a comma, plain).
_EnChunk = tuple[tuple[str, ...], tuple[Term, ...], tuple[int, ...], bool]


@lru_cache(maxsize=32768)  # about 320 bytes a chunk: at most 10 MB
def _chunk_en(chunk: str) -> _EnChunk:
    """One run of non-space characters: its words of lx.words_of that can be terms (no
    numbers, no emoji), their terms, the indexes of the words that follow a comma, and
    whether it is plain (no word that may start a negation or a two-word concept).

    No token holds or looks past a space (lx.TOKEN_RE), so a clause's words are its chunks'
    words, and a chunk is read once."""
    words: list[str] = []
    commas: list[int] = []
    for match in lx.TOKEN_RE.finditer(chunk):
        kind = match.lastgroup
        if kind == "word":
            words.extend(lx.split_word(match.group()))
        elif kind == "punct":
            if "," in match.group():
                commas.append(len(words))
        elif kind == "emo" and match.group().isalpha():  # "xD" reads as a word
            words.append(match.group().lower())
    terms = tuple(_term_en(word) for word in words)
    plain = not any(word in _EN_NEGATION_STARTS or term[0] in _PAIR_STARTS_EN
                    for word, term in zip(words, terms, strict=True))
    return tuple(words), terms, tuple(commas), plain


def _negated_en(term: Term) -> Term:
    """A judgement term under a negation: its opposite, or no judgement and no theme."""
    lemma, concept, qualifier, role, shown = term
    opposite = None if lemma in _EN_NO_OPPOSITE else _NEGATED_QUALIFIER.get(qualifier or "", qualifier)
    return lemma, concept, opposite, role if opposite else 0, shown


@lru_cache(maxsize=65536)
def _term_en(word: str) -> Term:
    """The term of one word read alone: a comment's words repeat across comments."""
    lemma = _lemma_en(word)
    concept, shown = _en_concept(lemma)
    return lemma, concept, EN_QUALIFIERS.get(lemma), _role_en(word, lemma), shown


@lru_cache(maxsize=65536)
def _role_en(word: str, lemma: str) -> int:
    if word in EN_THEME_STOPWORDS or lemma in EN_THEME_STOPWORDS or len(lemma) < 3:
        return 0
    if lemma in lx.NEGATORS or lemma in lx.INTENSIFIERS or "'" in word:
        return 0
    # Pure judgement words ("great", "terrible") say how, not what.
    score = lx.word_table().get(word) or lx.word_table().get(lemma)
    if score and abs(score[0]) >= 0.1:
        return 0
    tags = en_tags()
    tag = tags.get(word) or tags.get(lemma) or "NN"  # an unknown word is most likely a name
    if tag.startswith("NN"):
        return _NOUN
    if tag.startswith("JJ"):
        return _MODIFIER
    if tag in ("VB", "VBP") and word == lemma:
        return _VERB_OR_NOUN
    return 1


@cache
def en_tags() -> dict[str, str]:
    """Most frequent part-of-speech tag of a lower-case English word (TextBlob's Brill lexicon)."""
    spec = find_spec("textblob")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations))) / "en" / "en-lexicon.txt"
    tags: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, tag = line.partition(" ")
        if word.islower() and word not in tags:
            tags[word] = tag
    return tags


@lru_cache(maxsize=65536)
def _lemma_en(word: str) -> str:
    """Light lemma: plural -s/-es/-ies, -ed, -ing, -ly, checked against a word list.

    An -ing word that is mostly a noun keeps its form unless its stem names a concept
    ("messaging" is communication): "landing page", "booking", "dining" and "warning" are
    things an owner looks for, where "land page", "book", "din" and "warn" read as other words."""
    if word in EN_CONCEPTS or word in EN_QUALIFIERS or word in EN_FAMILY_ONLY or len(word) < 4:
        return word
    if word.endswith("ing") and en_tags().get(word, "").startswith("NN"):
        return next((c for c in _en_candidates(word)
                     if c in EN_CONCEPTS or c in EN_QUALIFIERS or c in EN_FAMILY_ONLY), word)
    known = lx.english_vocabulary()
    for candidate in _en_candidates(word):
        if (candidate in EN_CONCEPTS or candidate in EN_QUALIFIERS
                or candidate in EN_FAMILY_ONLY or candidate in known):
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


_RU_WORD: Final = re.compile(r"[а-яёa-z]+(?:-[а-яёa-z]+)*", re.IGNORECASE)


# Between a negator and its judgement: "не очень быстро", "не так быстро", "не особо вежливый".
_RU_NOT_SO: Final = frozenset({*lx.RU_INTENSIFIERS, "так", "особо", "особенно", "столь", "настолько"})


def _terms_ru(clause: str) -> list[Term]:
    """Terms of a Russian clause: words mapped through the concept and qualifier tables."""
    terms: list[Term] = []
    previous = before = ""
    matches = list(_RU_WORD.finditer(clause))
    for k, match in enumerate(matches):
        word = match.group().lower().replace("ё", "е")
        if k and "," in clause[matches[k - 1].end():match.start()]:
            previous = before = ""  # "Нет, вежливый": a negation does not reach past a comma
        if word.isascii():
            # Russian customers write product words in English ("support", "app").
            terms.append(_term_en(word))
            previous, before = word, previous
            continue
        concept, qualifier, role = _ru_word(word)
        # "не вовремя", "не очень быстро", "без задержек"; "задержек не было", "опозданий нет".
        if qualifier and (previous in lx.RU_NEGATORS
                          or (previous in _RU_NOT_SO and before in lx.RU_NEGATORS)
                          or _ru_denied_after(clause, matches, k)):
            qualifier = _NEGATED_QUALIFIER.get(qualifier, qualifier)
        if concept == "~line":
            # "ждал на линии" is a wait on hold; "горячая линия" is the support line.
            concept = ("waiting time" if previous == "на"
                       else "support" if previous.startswith("горяч") else None)
        shown = not (concept or "").startswith("~")
        terms.append((word, concept.lstrip("~") if concept else None, qualifier, role, shown))
        previous, before = word, previous
    return terms


def _ru_denied_after(clause: str, matches: list[re.Match[str]], k: int) -> bool:
    """Whether "нет" or a clause-ending "не было" follows word k and denies it."""
    after = [m.group().lower() for m in matches[k + 1:k + 3]]
    if after[:1] == ["нет"]:
        return True
    if len(after) < 2 or after[0] != "не" or after[1] not in lx.RU_DENIED_AFTER:
        return False
    # "Задержка не была долгой" does not deny the delay: "не было" must end the clause.
    return k + 3 >= len(matches) or "," in clause[matches[k + 2].end():matches[k + 3].start()]


@lru_cache(maxsize=65536)
def _ru_word(word: str) -> tuple[str | None, str | None, int]:
    """(concept, qualifier, role) of one lower-case Russian word."""
    concept = RU_CONCEPT_FORMS.get(word) or _ru_concept(word)
    qualifier = None if concept else _ru_qualifier(word)
    if concept or qualifier or word in RU_STOPWORDS or len(word) <= 3:
        return concept, qualifier, 0
    if stem_ru(word) in lx.ru_word_table():  # judgement words ("хорошо") say how, not what
        return None, None, 0
    if word.endswith(_RU_ADJECTIVE):
        return None, None, _MODIFIER
    if word.endswith(_RU_NOT_HEADING):
        return None, None, 1
    return None, None, _NOUN


def _ru_concept(word: str) -> str | None:
    if word.startswith("лини"):
        return "~line" if word[4:] in ("", "я", "и", "ю", "ей", "е") else None
    for ending in _RU_ENDINGS:
        if word.endswith(ending):
            stem = word[: len(word) - len(ending)]
            if len(stem) >= 3 and stem in RU_CONCEPT_STEMS:
                return RU_CONCEPT_STEMS[stem]
    return None


def _ru_qualifier(word: str) -> str | None:
    for prefix, qualifier in RU_QUALIFIER_PREFIXES.items():
        if word.startswith(prefix):
            return qualifier
    return None
