"""Golden readings: read_comment on 675 fixed comments gives exactly the recorded output.

Any change to a polarity, subjectivity, label, language or theme list (its order too) fails
here, so a speed-up cannot change a reading unnoticed, and a deliberate change to the rules
shows what it changes. After such a change, bump ANALYZER_VERSION and rewrite the file:
`python -m tests.test_readings_golden --write`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from feedback.sentiment import ANALYZER_VERSION, read_comment

GOLDEN = Path(__file__).with_name("readings_golden.jsonl")


def reading(text: str) -> list[Any]:
    """One line of the file: the text, then everything read_comment says about it."""
    insight = read_comment(text)
    s = insight.sentiment
    label = None if s.label is None else s.label.value
    return [text, s.polarity, s.subjectivity, label, s.language, insight.themes]


def load() -> tuple[int, list[list[Any]]]:
    head, *lines = GOLDEN.read_text(encoding="utf-8").splitlines()
    return json.loads(head)["analyzer_version"], [json.loads(line) for line in lines]


def test_golden_readings_are_unchanged() -> None:
    version, expected = load()
    assert version == ANALYZER_VERSION, "readings recorded for another version: rewrite the file"
    assert len(expected) > 600
    changed = [(want, got) for want in expected if (got := reading(want[0])) != want]
    assert not changed, f"{len(changed)} readings changed, first: {changed[0]}"


def write() -> None:
    """Re-record the readings of the file's texts with the current analyser."""
    _, expected = load()
    lines = [json.dumps({"analyzer_version": ANALYZER_VERSION})]
    lines += [json.dumps(reading(want[0]), ensure_ascii=False) for want in expected]
    GOLDEN.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.test_readings_golden --write")
    write()
