"""Theme extraction: concept grouping, normalisation, stop words, Russian, limits."""

from __future__ import annotations

import pytest

from feedback.sentiment import read_comment
from feedback.sentiment.lexicon import stem_ru
from feedback.sentiment.themes import MAX_THEMES, extract_themes


def test_three_late_sentences_share_a_theme() -> None:
    texts = ["courier was late", "late delivery", "the delivery was late again"]
    themes = [set(extract_themes(t, "en")) for t in texts]
    shared = set.intersection(*themes)
    assert "late delivery" in shared


@pytest.mark.parametrize(
    ("text", "theme"),
    [
        ("The driver dropped it at the wrong door", "courier"),
        ("The delivery guy was lovely", "courier"),
        ("My package is lost", "parcel"),
        ("Two parcels came in one box", "parcel"),
        ("I want my money back", "refund"),
        ("Still no refund after a month", "refund"),
        ("I was on hold for 40 minutes", "waiting time"),
        ("The waiting was unbearable", "waiting time"),
        ("The application is confusing", "app"),
        ("Customer service hung up on me", "support"),
        ("The waiter was rude to us", "rude staff"),
        ("Such friendly employees", "friendly staff"),
        ("The app keeps crashing", "crashes"),
        ("I was charged twice", "billing"),
    ],
)
def test_synonyms_map_to_concepts(text: str, theme: str) -> None:
    assert theme in extract_themes(text, "en")


def test_concepts_come_before_plain_words() -> None:
    themes = extract_themes("The courier was late and the hallway carpet got muddy", "en")
    assert themes[0] == "late delivery"
    assert themes.index("courier") < themes.index("hallway carpet")


def test_stop_words_and_judgements_are_not_themes() -> None:
    themes = extract_themes("It was really very great and the the of and but terrible", "en")
    assert themes == []
    themes = extract_themes("The battery life is great", "en")
    assert "battery" in themes
    for word in ("the", "is", "great", "life battery"):
        assert word not in themes


def test_light_lemmatiser_groups_inflections() -> None:
    assert extract_themes("parcels", "en") == extract_themes("parcel", "en") == ["parcel"]
    assert "delivery" in extract_themes("It arrived", "en")
    assert extract_themes("The door hinges", "en") == ["door hinge"]
    assert extract_themes("door hinge", "en") == ["door hinge"]


@pytest.mark.parametrize(("text", "theme"), [
    ("The landing page did not match the ad", "landing page"),
    ("They cancelled my booking without telling me", "booking"),
    ("Never again will I be dining here", "dining"),
    ("Water was off all day with no warning", "warning"),
    ("The patio seating was very comfortable", "patio seating"),
])
def test_an_ing_word_that_is_a_noun_keeps_its_form(text: str, theme: str) -> None:
    # "land page", "book", "din", "warn" read as other words to an owner (version 6).
    assert theme in extract_themes(text, "en")


def test_an_ing_noun_whose_stem_names_a_concept_is_that_concept() -> None:
    assert "communication" in extract_themes("The text messaging feature is tricky to use", "en")
    assert extract_themes("Delivering was slow", "en") == extract_themes("Delivery was slow", "en")


def test_deduplicated_and_at_most_eight() -> None:
    text = (
        "courier parcel refund app website billing price quality battery screen "
        "charger food menu store tracking courier parcel refund"
    )
    themes = extract_themes(text, "en")
    assert len(themes) == MAX_THEMES
    assert len(set(themes)) == len(themes)


def test_deterministic() -> None:
    text = "The courier was friendly but the parcel arrived two days late"
    assert extract_themes(text, "en") == extract_themes(text, "en")
    assert extract_themes(text, "en")[:2] == ["friendly staff", "late delivery"]


def test_russian_themes_use_shared_concept_keys() -> None:
    themes = extract_themes("Курьер опоздал на два часа, посылка пришла повреждённой", "ru")
    assert themes[0] == "late delivery"
    assert {"courier", "parcel", "damaged parcel"} <= set(themes)
    assert "на" not in themes
    assert "два" not in themes


def test_russian_inflections_group() -> None:
    assert stem_ru("курьера") == stem_ru("курьер") == stem_ru("курьеру")
    assert "courier" in extract_themes("Спасибо курьеру", "ru")
    assert "late delivery" in extract_themes("Доставка с опозданием", "ru")
    assert "support" in extract_themes("Поддержка не отвечает", "ru")
    # Judgement words are not themes; a qualifier finds its concept in another clause.
    assert "хорошо" not in extract_themes("Курьер хорошо", "ru")
    assert "late delivery" in extract_themes("Курьер вежливый, но опоздал", "ru")


def test_unknown_language_has_no_themes() -> None:
    assert extract_themes("Das Paket kam zu spät", "unknown") == []
    assert read_comment("Das Paket kam zu spät").themes == []


def test_read_comment_themes_match_language() -> None:
    assert "late delivery" in read_comment("Курьер опоздал").themes
    assert "late delivery" in read_comment("The courier was late").themes


# --- Report headings: Russian cases, noun phrases only, no generic words ---------------------


@pytest.mark.parametrize(
    ("forms", "theme"),
    [
        (["чат", "чата", "чате", "чатом", "чаты"], "chat"),
        (["курьер", "курьера", "курьеру", "курьером", "курьеры", "курьеров"], "courier"),
        (["доставка", "доставки", "доставку", "доставкой", "доставке"], "delivery"),
        (["заказ", "заказа", "заказу", "заказом", "заказы"], "parcel"),
        (["возврат", "возврата", "возвратом", "возврате"], "refund"),
        (["приложение", "приложения", "приложению", "приложением", "приложении"], "app"),
        (["поддержка", "поддержки", "поддержку", "поддержкой"], "support"),
        (["настройка", "настройки", "настройку", "настройкой"], "setup"),
        (["очередь", "очереди", "ожидание", "ожидания"], "waiting time"),
    ],
)
def test_russian_nouns_map_to_one_concept_in_every_case(forms: list[str], theme: str) -> None:
    for form in forms:
        assert extract_themes(f"Про {form} скажу одно", "ru")[:1] == [theme], form


def test_russian_and_english_share_concept_keys() -> None:
    pairs = [
        ("Долго ждал на линии", "Waited on hold for 40 minutes", "waiting time"),
        ("Вежливый оператор в чате", "Friendly agent in chat", "friendly staff"),
        ("Отзывчивый оператор", "Helpful agent", "helpful staff"),
        ("Курьер опоздал", "The courier was late", "late delivery"),
        ("Простая настройка", "Easy setup", "ease of use"),
        ("Меня переключали три раза", "I was transferred three times", "transfer"),
        ("Чат работает отлично", "The chat works great", "chat"),
    ]
    for ru, en, theme in pairs:
        assert theme in extract_themes(ru, "ru"), ru
        assert theme in extract_themes(en, "en"), en


def test_on_the_line_is_waiting_and_the_hotline_is_support() -> None:
    assert extract_themes("Долго ждал на линии", "ru") == ["waiting time"]
    assert extract_themes("Висел на линии полчаса", "ru") == ["waiting time"]
    assert "support" in extract_themes("Горячая линия не отвечает", "ru")
    assert "waiting time" in extract_themes("Оператора не дождался", "ru")


def test_russian_operator_is_a_person_not_a_heading() -> None:
    themes = extract_themes("Вежливый и отзывчивый оператор в чате", "ru")
    assert themes == ["friendly staff", "helpful staff", "chat"]
    assert "rude staff" in extract_themes("Оператор нахамил", "ru")
    assert extract_themes("Общался с оператором", "ru") == []


def test_russian_inflected_or_non_noun_words_are_not_headings() -> None:
    # Oblique cases, verbs and adverbs are not readable headings when no concept maps them.
    assert extract_themes("Слишком дорого", "ru") == ["price"]
    for text in ("Всё сделали аккуратно", "Пришлось долго объяснять", "Сидел в машине"):
        themes = extract_themes(text, "ru")
        assert not any(t in text.lower() for t in themes), (text, themes)
    # A nominative noun and an adjective + noun phrase still make themes.
    assert extract_themes("Микроволновка шумит", "ru") == ["микроволновка"]
    assert extract_themes("Холодная пицца", "ru") == ["холодная пицца"]


def test_retention_offers_are_a_concept_not_verb_fragments() -> None:
    themes = extract_themes("Hard to cancel, the agent kept pushing retention offers", "en")
    assert themes == ["cancellation", "retention"]
    assert "retention" in extract_themes(
        "Pushy retention offers when I just wanted to cancel", "en"
    )
    assert "retention" in extract_themes("They tried to retain me with a counter offer", "en")


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("The agent kept pushing retention offers", ["kept push", "push retention", "kept"]),
        ("The courier didn't call before coming", ["call", "coming", "come"]),
        ("Courier did not call, just left a note", ["left", "call", "left note"]),
        ("Easy to log in and get started", ["start", "get start"]),
        ("Long waiting time before anyone answered", ["answer", "anyone answer"]),
        ("The fliptop started to get loose", ["fliptop start", "start"]),
    ],
)
def test_no_verb_fragments(text: str, fragments: list[str]) -> None:
    themes = extract_themes(text, "en")
    for fragment in fragments:
        assert fragment not in themes, (text, themes)


def test_two_word_themes_are_noun_phrases() -> None:
    assert extract_themes("The hallway carpet got muddy", "en") == ["hallway carpet"]
    assert extract_themes("The door hinge squeaks", "en") == ["door hinge"]
    assert "outdoor patio" in extract_themes("You can dine in a charming outdoor patio", "en")
    # Adjacent words that are not adjective/noun + noun make no phrase.
    assert extract_themes("I didn't want the clip going over my ear", "en") == ["clip", "ear"]


@pytest.mark.parametrize(
    "text",
    [
        "They transferred me between departments several times",
        "The company never wrote back",
        "Good service overall",
        "The agent was there the whole time",
        "Great people, great team, a lot of things done the right way",
        "It took the guy a day to reply to my question",
        "Support agent solved the issue",
    ],
)
def test_generic_words_are_never_themes_alone(text: str) -> None:
    generic = {
        "support",
        "department",
        "service",
        "agent",
        "company",
        "thing",
        "time",
        "day",
        "way",
        "lot",
        "people",
        "guy",
        "team",
        "issue",
        "question",
    }
    themes = extract_themes(text, "en")
    assert not generic & set(themes), (text, themes)
    for theme in themes:
        assert not generic & set(theme.split()), (text, themes)


def test_generic_words_still_count_inside_concepts() -> None:
    assert "waiting time" in extract_themes("Long waiting time", "en")
    assert "friendly staff" in extract_themes("The whole team was friendly", "en")
    assert "rude staff" in extract_themes("The support agent was rude", "en")
    assert "slow service" in extract_themes("Service was slow", "en")
    assert "friendly staff" in extract_themes("And service was super friendly", "en")
    assert "courier" in extract_themes("The delivery guy rang twice", "en")
    # The support channel named outright stays a theme; a support person does not.
    assert "support" in extract_themes("Customer service hung up on me", "en")
    assert "support" not in extract_themes("The support agent in chat was friendly", "en")


def test_chat_is_its_own_concept() -> None:
    for text in ("Friendly and helpful agent in chat", "The chat agent was really helpful"):
        themes = extract_themes(text, "en")
        assert "chat" in themes and "support" not in themes, themes
    assert extract_themes("Чат не работает", "ru") == ["chat"]


def test_demo_comments_still_carry_their_seeded_themes() -> None:
    from feedback.demo.responses import COMMENTS, SEEDED_TRUTH

    for key, truth in SEEDED_TRUTH.items():
        for mood, band in (("pain", "low"), ("delight", "high")):
            english, russian = COMMENTS[key][band]
            found = {t for text in english for t in extract_themes(text, "en")}
            found |= {t for text in russian for t in extract_themes(text, "ru")}
            for theme in truth[mood]:
                assert theme in found, (key, theme, found)


def test_russian_negated_judgement_names_its_opposite() -> None:
    # "Delivered not on time" is a late delivery, not a fast one.
    assert extract_themes("Заказ доставили не вовремя", "ru")[0] == "late delivery"
    assert extract_themes("Доставка не очень быстрая", "ru")[0] == "late delivery"
    assert extract_themes("Оператор не вежливый", "ru")[0] == "rude staff"
    assert "late delivery" not in extract_themes("Курьер не опоздал", "ru")
    assert extract_themes("Курьеры всегда опаздывают", "ru")[0] == "late delivery"


def test_russian_error_in_a_bill_is_not_an_app_crash() -> None:
    # Like English "error", "ошибка" alone is no heading; a glitch or a crash still is.
    assert "crashes" not in extract_themes("Счёт пришёл с ошибкой", "ru")
    assert "crashes" not in extract_themes("The bill came with an error", "en")
    assert "crashes" in extract_themes("Приложение глючит", "ru")


def test_english_words_in_a_russian_comment_share_english_headings() -> None:
    # Russian customers write product words in English: one "support" heading, not two.
    assert extract_themes("Support был полезный, спасибо", "ru") == ["support"]
    assert extract_themes("The app is ok, но доставка ужасная", "ru") == ["app", "delivery"]
    assert "courier" in extract_themes("Courier опоздал", "ru")


def test_english_negated_praise_names_its_opposite_never_itself() -> None:
    # A heading "fast delivery" over "not very fast delivery" tells the owner the opposite.
    for text in ("not very fast delivery", "The delivery was not fast.", "Delivery wasn't quick at all.",
                 "Hardly a quick delivery."):
        themes = extract_themes(text, "en")
        assert "fast delivery" not in themes and themes[0] == "late delivery", (text, themes)
    assert extract_themes("The service is far from fast.", "en") == ["slow service"]
    for text in ("The agent was not helpful at all.", "Support was anything but helpful."):
        themes = extract_themes(text, "en")
        assert "helpful staff" not in themes and themes[0] == "unhelpful staff", (text, themes)
    for text in ("The courier wasn't friendly.", "Staff were not very polite."):
        themes = extract_themes(text, "en")
        assert "friendly staff" not in themes and themes[0] == "rude staff", (text, themes)
    # One negation reaches both judgements joined by "or"/"and".
    assert extract_themes("The waiter wasn't helpful or friendly", "en")[:2] == ["unhelpful staff", "rude staff"]
    assert extract_themes("The workers are not always friendly and helpful", "en")[:2] == [
        "rude staff", "unhelpful staff"]
    assert extract_themes("The delivery was not fast and the courier was friendly", "en")[:2] == [
        "late delivery", "friendly staff"]


def test_english_negated_complaint_is_no_theme() -> None:
    # "Without any delay" is not a late delivery; "not early" is not late either.
    for text, gone in (("Delivered without any delay.", "late delivery"),
                       ("The courier was friendly and not late.", "late delivery"),
                       ("Never late, always friendly couriers.", "late delivery"),
                       ("The parcel arrived, not damaged.", "damaged parcel"),
                       ("Nothing was missing from the parcel.", "missing parcel"),
                       ("The courier didn't lose the parcel.", "missing parcel"),
                       ("The courier was not rude at all.", "rude staff"),
                       ("The delivery did not arrive early.", "fast delivery")):
        themes = extract_themes(text, "en")
        assert gone not in themes and "late delivery" not in themes, (text, themes)
        assert "delay" not in themes, (text, themes)
    assert extract_themes("Delivered without any delay.", "en") == ["delivery"]


def test_what_only_looks_like_a_negation_keeps_the_praise() -> None:
    for text, heading in (("Not only fast but friendly couriers.", "fast delivery"),
                          ("The agent couldn't have been more helpful.", "helpful staff"),
                          ("Delivery has never been so quick.", "fast delivery"),
                          ("No issues quick delivery", "fast delivery"),
                          ("No delay, fast delivery.", "fast delivery"),
                          ("Can't complain, quick delivery", "fast delivery"),
                          ("Couldn't fault the friendly staff", "friendly staff"),
                          ("Not cheap, but fast delivery.", "fast delivery")):
        assert heading in extract_themes(text, "en"), (text, extract_themes(text, "en"))


def test_russian_negation_reaches_softeners_and_denials_after_the_word() -> None:
    assert extract_themes("Доставка не так быстро, как обещали", "ru")[0] == "late delivery"
    assert extract_themes("Курьер не особо вежливый", "ru")[0] == "rude staff"
    assert extract_themes("Доставили без задержек", "ru") == ["delivery"]
    assert "damaged parcel" not in extract_themes("Посылка пришла без повреждений", "ru")
    assert extract_themes("Задержек не было, курьер вежливый", "ru") == ["friendly staff", "courier"]
    assert "late delivery" not in extract_themes("Опозданий нет, доставка быстрая", "ru")
    # "не было" that does not end its clause denies nothing; a comma stops a negation.
    assert extract_themes("Задержка не была долгой, курьер вежливый", "ru")[0] == "late delivery"
    assert extract_themes("Нет, курьер вежливый", "ru")[0] == "friendly staff"
