"""Accuracy and macro-F1 of plain TextBlob, VADER and our analyser on labelled sentences."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

import msgspec

from feedback.sentiment.analyzer import analyse

DATA_FILES: Final = ("amazon_cells_labelled.txt", "yelp_labelled.txt")
ENV_DATA: Final = "TOUCHPULSE_EVAL_DATA"
REPO_ROOT: Final = Path(__file__).resolve().parents[2]
DEFAULT_DATA: Final = REPO_ROOT.parent / "shared" / "data" / "labelled-sentences"
CX_SET: Final = REPO_ROOT / "tests" / "cx_comments.txt"
# Written before the second round of lexicon work, across domains the first set lacks
# (telecom, banking, travel, SaaS, utilities, returns, public transport).
CX_HOLDOUT: Final = REPO_ROOT / "tests" / "cx_comments_holdout.txt"

# A predictor answers "positive?" for a sentence; None means it gave no answer (a miss).
Predictor = Callable[[str], bool | None]


class Example(msgspec.Struct, frozen=True):
    """One labelled sentence: True for positive, False for negative."""

    text: str
    positive: bool


class Score(msgspec.Struct, frozen=True):
    """Binary accuracy and macro-F1 of one analyser on one data set."""

    dataset: str
    analyser: str
    n: int
    accuracy: float | None
    macro_f1: float | None
    unscored: int = 0


def load_examples(path: Path) -> list[Example]:
    """Read "sentence<TAB>label" lines (1 positive, 0 negative)."""
    examples: list[Example] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        text, sep, label = line.rpartition("\t")
        if sep and label.strip() in {"0", "1"}:
            examples.append(Example(text=text.strip(), positive=label.strip() == "1"))
    return examples


def score(dataset: str, analyser: str, examples: Sequence[Example], predict: Predictor) -> Score:
    """Accuracy and macro-F1 where an unanswered example counts as wrong."""
    tp = fp = fn = tn = unscored = 0
    for example in examples:
        guess = predict(example.text)
        if guess is None:
            unscored += 1
            # A miss: count it against whichever class the example belongs to.
            if example.positive:
                fn += 1
            else:
                fp += 1
        elif guess and example.positive:
            tp += 1
        elif guess:
            fp += 1
        elif example.positive:
            fn += 1
        else:
            tn += 1
    n = len(examples)
    f1_pos = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    f1_neg = 2 * tn / (2 * tn + fn + fp) if tn + fn + fp else 1.0
    return Score(dataset=dataset, analyser=analyser, n=n,
                 accuracy=round((tp + tn) / n, 3) if n else None,
                 macro_f1=round((f1_pos + f1_neg) / 2, 3) if n else None,
                 unscored=unscored)


def ours(text: str) -> bool | None:
    """Our analyser: positive when polarity > 0; no polarity is no answer."""
    polarity = analyse(text).polarity
    return None if polarity is None else polarity > 0


def predictors() -> dict[str, Predictor | None]:
    """The three analysers; None stands for a reference library that is not installed."""
    found: dict[str, Predictor | None] = {"textblob": None, "vader": None, "touchpulse": ours}
    try:
        from textblob.en.sentiments import PatternAnalyzer
    except ImportError:
        pass
    else:
        pattern = PatternAnalyzer()
        found["textblob"] = lambda text: float(pattern.analyze(text)[0]) > 0
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        pass
    else:
        vader = SentimentIntensityAnalyzer()
        found["vader"] = lambda text: float(vader.polarity_scores(text)["compound"]) > 0
    return found


def evaluate(data_dir: Path, extra: Sequence[Path] = ()) -> list[Score]:
    """Score every analyser on every data file that exists."""
    datasets = [data_dir / name for name in DATA_FILES] + list(extra)
    found = predictors()
    scores: list[Score] = []
    for path in datasets:
        if not path.is_file():
            print(f"missing data file: {path}", file=sys.stderr)
            continue
        examples = load_examples(path)
        for name, predict in found.items():
            if predict is None:
                scores.append(Score(dataset=path.name, analyser=name, n=len(examples),
                                    accuracy=None, macro_f1=None))
            else:
                scores.append(score(path.name, name, examples, predict))
    return scores


def to_markdown(scores: Sequence[Score]) -> str:
    """Scores as a markdown table, one row per data set and analyser."""
    lines = ["| data set | analyser | n | accuracy | macro-F1 | unscored |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    for s in scores:
        acc = "not installed" if s.accuracy is None else f"{s.accuracy:.3f}"
        f1 = "not installed" if s.macro_f1 is None else f"{s.macro_f1:.3f}"
        lines.append(f"| {s.dataset} | {s.analyser} | {s.n} | {acc} | {f1} | {s.unscored} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print the table, optionally write it as markdown."""
    parser = argparse.ArgumentParser(prog="python -m feedback.sentiment.evaluate",
                                     description=__doc__)
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get(ENV_DATA, DEFAULT_DATA)),
                        help=f"folder with the labelled files (env {ENV_DATA})")
    parser.add_argument("--out", type=Path, help="also write the table as markdown here")
    parser.add_argument("--no-cx", action="store_true",
                        help="skip the hand-written customer-service sets in tests/")
    args = parser.parse_args(argv)
    extra = [] if args.no_cx else [p for p in (CX_SET, CX_HOLDOUT) if p.is_file()]
    scores = evaluate(args.data, extra)
    if not scores:
        print(f"no labelled data found under {args.data}", file=sys.stderr)
        return 1
    table = to_markdown(scores)
    print(table, end="")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
