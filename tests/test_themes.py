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
