# The README's commands. `make run` and `make test` work on a fresh machine (Python 3.11).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= data
SEEDS ?= ../shared/corpus/seeds

.PHONY: install run demo test lint bench browser-deps clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch is pinned first: the CPU wheel on local disk; an unpinned torch would pull CUDA builds.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/regiograph --data $(DATA) ingest $(SEEDS)

run: demo
	$(BIN)/regiograph --data $(DATA) app

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy regiograph ingest kg search views app.py

browser-deps:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium fonts-dejavu-core)

clean:
	rm -rf $(VENV) $(DATA) .pytest_cache .mypy_cache .ruff_cache
