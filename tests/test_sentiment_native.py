"""The comment readers compiled with mypyc read every comment exactly as their Python sources do,
and are used only when built from those very sources (feedback/sentiment/native.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import feedback.sentiment
from feedback.demo.responses import COMMENTS as DEMO_COMMENTS
from feedback.sentiment import native, read_comment

ROOT = Path(__file__).resolve().parents[1]


def _comments() -> list[str]:
    texts = [line.split("\t")[0] for name in ("cx_comments.txt", "cx_comments_holdout.txt")
             for line in (ROOT / "tests" / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    texts += [text for bands in DEMO_COMMENTS.values() for english, russian in bands.values()
              for text in (*english, *russian)]
    # The rules' edges: capitals, emphasis, questions, negation, contrast, other languages.
    texts += [t.upper() for t in texts[:40]] + [t + "!!!" for t in texts[:40]] + [t + "??" for t in texts[:20]]
    texts += ["not bad at all", "NOT good", "too sweet", "10/10", "2/5 would not recommend",
              "Доставка быстрая, но курьер грубый", "très bien, merci", "", "   ", "🙂👍", ":(",
              "waited 40 minutes", "within an hour", "will definitely book again", "why does it take 3 weeks?"]
    return texts


def _readings(texts: list[str]) -> list[object]:
    return [json.loads(json.dumps([r.sentiment.polarity, r.sentiment.subjectivity,
                                   None if r.sentiment.label is None else r.sentiment.label.value,
                                   r.sentiment.language, r.themes]))
            for r in map(read_comment, texts)]


_PURE = """
import json, sys
import feedback.sentiment as s
from tests.test_sentiment_native import _comments, _readings
print(json.dumps({"compiled": s.COMPILED, "module": s.analyse.__module__,
                  "file": sys.modules["feedback.sentiment.analyzer"].__file__,
                  "readings": _readings(_comments())}))
"""


def _pure_run() -> dict[str, object]:
    env = {**os.environ, "TOUCHPULSE_PURE_SENTIMENT": "1"}
    done = subprocess.run([sys.executable, "-c", _PURE], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True, timeout=120)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_make_compiles_the_readers_where_there_is_a_compiler() -> None:
    if not os.environ.get("MAKELEVEL") or shutil.which("cc") is None:
        pytest.skip("run under make on a machine with a C compiler: make compiles them first")
    assert native.current() and feedback.sentiment.COMPILED
    assert sys.modules["feedback.sentiment.analyzer"].__file__.endswith(".so")  # type: ignore[union-attr]


def test_compiled_readers_read_every_comment_as_the_python_sources_do() -> None:
    if not feedback.sentiment.COMPILED:
        pytest.skip("the comment readers are not compiled here (make compiles them)")
    pure = _pure_run()
    assert pure["compiled"] is False and str(pure["file"]).endswith("analyzer.py")
    texts = _comments()
    assert len(texts) > 400
    assert pure["readings"] == _readings(texts)


def test_the_sources_can_be_forced_and_a_stale_build_is_not_used(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    pure = _pure_run()  # TOUCHPULSE_PURE_SENTIMENT=1: the sources, compiled or not
    assert pure["compiled"] is False and str(pure["file"]).endswith("analyzer.py")
    if not native.built():
        pytest.skip("not compiled here: nothing can be stale")
    assert native.current()
    stale = tmp_path / "native.stamp"
    stale.write_text("0" * 64 + "\n")  # built from other sources
    monkeypatch.setattr(native, "STAMP", stale)
    assert not native.current()
    monkeypatch.setattr(native, "STAMP", tmp_path / "missing.stamp")
    assert not native.current()
