"""The Russian a customer reads: every text present, polite, gender-neutral, typeset alike."""

from __future__ import annotations

import re

import pytest

from feedback.collection.texts import TEXTS, characters, plural_ru
from feedback.service.pages import _AGAIN, _ERRORS, TEMPLATES_DIR
from surveys.kinds import DEFAULT_QUESTIONS, SCALES, SurveyKind

# The short adjectives and past tenses these texts would need, in the forms that assume a man
# or a woman: «Очень доволен» reads wrong to half the customers. The polite plural does not.
GENDERED = re.compile(r"\b(?:не)?(?:доволен|довольна|согласен|согласна|уверен|уверена|рад|рада"
                      r"|выбрал|выбрала|ответил|ответила|поставил|поставила|хотел|хотела)\b",
                      re.IGNORECASE)
POLITE = frozenset({"Вы", "Вас", "Вам", "Вами", "Ваш", "Ваша", "Ваше", "Ваши", "Вашего", "Вашей",
                    "Вашему", "Вашу", "Вашим", "Вашими", "Вашем", "Ваших"})
# Words these texts use that are spelt with «ё»: written with «е» they break the policy.
WITHOUT_YO = frozenset({"еще", "ее", "нем", "ведет", "истек", "вернемся", "сохранен", "получен"})


def russian_texts() -> list[str]:
    """Every Russian string a customer can see, on the survey page, email, widget or error page."""
    found = [*TEXTS["ru"].values(), _AGAIN["ru"]]
    found += [part for title_and_message in _ERRORS["ru"].values() for part in title_and_message]
    found += [label for scale in SCALES.values() for label in scale.labels["ru"]]
    found += [wording["ru"] for wording in DEFAULT_QUESTIONS.values()]
    # Russian written into a template ("Ошибка 404" on the error page).
    for template in TEMPLATES_DIR.glob("*.html"):
        found += re.findall(r"[А-Яа-яЁё][^<>{}\"]*", template.read_text("utf-8"))
    return found


@pytest.mark.parametrize("kind", list(SurveyKind))
def test_every_kind_has_both_russian_end_labels_in_the_polite_plural(kind: SurveyKind) -> None:
    low, high = SCALES[kind].labels["ru"]
    assert low.strip() and high.strip() and low != high
    assert (low, high) != SCALES[kind].labels["en"]
    for label in (low, high):
        assert re.search("[А-Яа-яЁё]", label), label
        assert not GENDERED.search(label), f"{label!r} assumes the customer's gender"
        # The labels sit in narrow columns on a phone: «не» must not end a line.
        assert not re.search(r"\bне ", label), label
    expected = {SurveyKind.NPS: "вероятно", SurveyKind.CSAT: "довольны", SurveyKind.CES: "согласны"}
    assert expected[kind] in high.lower() and expected[kind] in low.lower()


def test_no_russian_text_assumes_a_gender() -> None:
    assert "Ошибка" in russian_texts()  # the templates' Russian is read too
    for text in russian_texts():
        assert not GENDERED.search(text), text


def test_every_text_has_its_russian_and_the_same_placeholders() -> None:
    assert TEXTS["ru"].keys() == TEXTS["en"].keys() and _ERRORS["ru"].keys() == _ERRORS["en"].keys()
    for key, english in TEXTS["en"].items():
        assert TEXTS["ru"][key].strip(), key
        assert set(re.findall(r"\{\w+\}", TEXTS["ru"][key])) == set(re.findall(r"\{\w+\}", english)), key
    for kind in SurveyKind:
        question = DEFAULT_QUESTIONS[kind]["ru"]
        assert set(re.findall(r"\{\w+\}", question)) <= {"{Touchpoint}", "{touchpoint}"}


def test_russian_typography_is_one_policy() -> None:
    for text in russian_texts():
        # «вы» in lower case inside a sentence; a capital only where a sentence starts.
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            assert not POLITE & set(re.findall(r"\w+", sentence)[1:]), text
        # Quotes «»; a dash «—» (not a hyphen or «–») after a non-breaking space, never starting a line.
        assert not re.search("[\"“”„']", text), text
        assert not re.search(r"\s[-–]\s", text), text
        assert not re.search("(?<!\u00a0)—", text), text
        assert not WITHOUT_YO & set(re.findall(r"\w+", text.lower())), text


@pytest.mark.parametrize(("n", "words"), [
    (1, "1 символ"), (2, "2 символа"), (4, "4 символа"), (5, "5 символов"), (11, "11 символов"),
    (12, "12 символов"), (14, "14 символов"), (21, "21 символ"), (22, "22 символа"), (111, "111 символов"),
    (2001, "2001 символ"), (2002, "2002 символа"), (2011, "2011 символов"), (2024, "2024 символа"),
    (12001, "12\u00a0001 символ"),
])
def test_russian_counts_take_the_plural_their_number_needs(n: int, words: str) -> None:
    assert characters("ru", n) == words


def test_plural_forms_and_english_counts() -> None:
    assert [plural_ru(n, "день", "дня", "дней") for n in (0, 1, 2, 5, 11, 21, 104, 112)] == [
        "дней", "день", "дня", "дней", "дней", "день", "дня", "дней"]
    assert characters("en", 1) == "1 character" and characters("en", 2001) == "2,001 characters"
    assert characters("fr", 3) == "3 characters"
