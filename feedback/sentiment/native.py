"""Comment reading compiled to C with mypyc, used only when built from the sources beside it.

Reading a comment is about half of the CPU an answer costs the service, and the analyser,
its lexicon and the themes are plain typed Python: mypyc compiles them unchanged, and they
read the same comments with about a third fewer instructions. `make` builds them after
installing (`python -m feedback.sentiment.build_native`, about 30 s; it needs a C compiler and
the Python headers, and without them the service runs the same code as Python).

A compiled module sits beside its source and Python would import it first even after the
source changed, so the build writes a stamp of the sources it compiled, and `use_current()`,
called before the modules are first imported, loads the Python sources instead whenever the
stamp does not match them (with a warning naming the fix), or when TOUCHPULSE_PURE_SENTIMENT=1.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

log = logging.getLogger("touchpulse.sentiment")

HERE = Path(__file__).resolve().parent
# In import order: each imports only those before it.
MODULES = ("lexicon", "analyzer", "themes")
STAMP = HERE / "native.stamp"
GROUP = "feedback.sentiment.native_lib"  # the compiled modules' shared library, in this package

_SETUP = f"""
from setuptools import setup
from mypyc.build import mypycify

setup(name="touchpulse-sentiment-native", ext_modules=mypycify(
    [{", ".join(repr(f"feedback/sentiment/{m}.py") for m in MODULES)}],
    group_name={GROUP!r}, opt_level="3"))
"""


def fingerprint() -> str:
    """What a build depends on: the sources, the interpreter and mypyc's version."""
    digest = hashlib.sha256(sys.version.encode())
    try:
        from mypy.version import __version__ as mypy_version
    except ImportError:  # the service's own install has no mypy: the stamp then names the build's
        mypy_version = ""
    for name in MODULES:
        digest.update((HERE / f"{name}.py").read_bytes())
    return f"{digest.hexdigest()} {mypy_version}".strip()


def built() -> list[Path]:
    """The compiled files beside the sources (the modules and their shared library)."""
    return sorted(p for p in HERE.iterdir() if p.suffix in {".so", ".pyd"})


def current() -> bool:
    """Whether compiled modules exist and were built from exactly these sources."""
    if not built() or not STAMP.exists():
        return False
    stamped = STAMP.read_text().split()
    return bool(stamped) and stamped[0] == fingerprint().split()[0]


def use_current() -> bool:
    """Make the coming imports of the comment readers take the compiled modules only when they
    are current; returns whether they do. Called once, before the modules are imported."""
    if not built():
        return False
    forced = os.environ.get("TOUCHPULSE_PURE_SENTIMENT") == "1"
    if not forced and current():
        return True
    if not forced:
        log.warning("the compiled comment readers are older than their sources: reading comments as "
                    "Python (run `make` or `python -m feedback.sentiment.build_native` to compile them)")
    for name in MODULES:
        full = f"feedback.sentiment.{name}"
        if full in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(full, HERE / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[full] = module
        spec.loader.exec_module(module)
    return False


def build() -> int:
    """Compile the modules in a scratch copy of the packages and put the results beside the
    sources; returns the exit status (nonzero: they stay Python)."""
    root = HERE.parents[1]
    with tempfile.TemporaryDirectory(prefix="touchpulse-native-") as scratch:
        work = Path(scratch)
        for package in ("feedback", "surveys"):
            shutil.copytree(root / package, work / package,
                            ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyd", "native.stamp"))
        (work / "setup.py").write_text(_SETUP)
        done = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=work,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(done.stdout[-2000:], done.stderr[-4000:], sep="\n", file=sys.stderr)
            return done.returncode
        made = sorted((work / "feedback" / "sentiment").glob("*.so"))
        if not made:
            print("mypyc made no modules", file=sys.stderr)
            return 1
        for old in built():
            old.unlink()
        for path in made:
            shutil.copy2(path, HERE / path.name)
    STAMP.write_text(fingerprint() + "\n")
    print(f"compiled {', '.join(MODULES)} with mypyc: {len(made)} files in {HERE}")
    return 0


def clean() -> None:
    for path in built():
        path.unlink()
    STAMP.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "build"
    if command == "build":
        return build()
    if command == "clean":
        clean()
        return 0
    if command == "status":
        print("compiled, current" if current() else "compiled, stale" if built() else "not compiled")
        return 0
    print("usage: python -m feedback.sentiment.build_native [build|clean|status]", file=sys.stderr)
    return 2
