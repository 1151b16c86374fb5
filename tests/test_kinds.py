"""Survey kinds, their scales and scoring rules: pure functions, no database."""

from __future__ import annotations

import json
import logging

import pytest

from feedback.service.logs import JsonLines, request_id
from surveys.kinds import (
    Band,
    SurveyKind,
    band_name,
    default_question,
    meets_target,
    metric_value,
    scale_of,
    valid_target,
)


@pytest.mark.parametrize(
    ("kind", "low", "high"), [(SurveyKind.NPS, 0, 10), (SurveyKind.CSAT, 1, 5), (SurveyKind.CES, 1, 7)]
)
def test_scales(kind: SurveyKind, low: int, high: int) -> None:
    scale = scale_of(kind)
    assert (scale.low, scale.high) == (low, high)
    assert list(scale.values) == list(range(low, high + 1))
    assert not scale.contains(low - 1)
    assert not scale.contains(high + 1)


def test_nps_bands() -> None:
    assert [band_name("nps", s) for s in range(11)] == ["detractor"] * 7 + ["passive"] * 2 + ["promoter"] * 2


def test_csat_and_ces_bands() -> None:
    assert [scale_of("csat").band(s) for s in range(1, 6)] == [Band.LOW, Band.LOW, Band.MIDDLE, Band.HIGH, Band.HIGH]
    assert [band_name("ces", s) for s in range(1, 8)] == ["difficult"] * 3 + ["neutral"] + ["easy"] * 3


def test_metric_values() -> None:
    assert metric_value("nps", {10: 50, 8: 30, 3: 20}) == pytest.approx(30.0)
    assert metric_value("csat", {5: 6, 4: 2, 3: 1, 1: 1}) == pytest.approx(80.0)
    assert metric_value("ces", {7: 1, 5: 1, 3: 2}) == pytest.approx(4.5)
    assert metric_value("nps", {}) is None


def test_targets_are_in_the_kinds_own_metric() -> None:
    assert valid_target("nps", -100) and valid_target("nps", 30) and not valid_target("nps", 101)
    assert valid_target("csat", 85) and not valid_target("csat", -1)
    assert valid_target("ces", 5.5) and not valid_target("ces", 8)
    assert meets_target("csat", 85.0, 85.0) and not meets_target("csat", 84.9, 85.0)


def test_default_questions_per_locale() -> None:
    assert "recommend" in default_question("nps", "en", "x")
    assert "порекомендуете" in default_question("nps", "ru", "x")
    assert default_question("csat", "en", "Courier delivery") == "How satisfied are you with the courier delivery?"
    assert default_question("ces", "fr", "First login") == "The first login made it easy for me to get what I needed."


def test_default_english_questions_read_as_sentences_and_keep_the_names_capitals() -> None:
    # Lower-casing the whole name mangled acronyms and inner capitals ("the ivr menu").
    assert default_question("csat", "en", "IVR menu") == "How satisfied are you with the IVR menu?"
    assert default_question("csat", "en", "iPhone app") == "How satisfied are you with the iPhone app?"
    assert (default_question("csat", "en", "McDonald's drive-thru")
            == "How satisfied are you with the McDonald's drive-thru?")
    assert (default_question("csat", "en", "Order confirmation email sent by CRM")
            == "How satisfied are you with the order confirmation email sent by CRM?")
    # A name that brings its own determiner gets no second one, and starts a sentence as written.
    assert default_question("csat", "en", "Your order") == "How satisfied are you with your order?"
    assert default_question("csat", "en", "The app") == "How satisfied are you with the app?"
    assert default_question("ces", "en", "Our app") == "Our app made it easy for me to get what I needed."
    assert (default_question("ces", "en", "Theatre booking")
            == "The theatre booking made it easy for me to get what I needed.")


def test_default_russian_questions_quote_the_touchpoint_name_in_the_nominative() -> None:
    # A foreign name mid-sentence reads as broken Russian ("Насколько вы довольны: support call?").
    assert default_question("csat", "ru", "Support call") == "«Support call»: насколько вы довольны?"
    assert default_question("csat", "ru", "Доставка курьером") == "«Доставка курьером»: насколько вы довольны?"
    assert (default_question("ces", "ru", "First login")
            == "«First login»: мне было легко получить то, что нужно.")


def test_log_lines_are_json_with_the_request_id() -> None:
    token = request_id.set("req-42")
    try:
        record = logging.LogRecord("touchpulse.test", logging.INFO, __file__, 1, "hello %s", ("world",), None)
        record.status = 201
        line = json.loads(JsonLines().format(record))
    finally:
        request_id.reset(token)
    assert line["message"] == "hello world"
    assert line["request_id"] == "req-42"
    assert line["level"] == "info"
    assert line["status"] == 201
