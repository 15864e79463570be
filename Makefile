# The two commands: `make demo` runs the product, `make test` checks it.
# Each sets up what it needs: the virtual environment, the packages and the model pack.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
MODEL_DIR ?= $(or $(ANJU_MODEL_DIR),$(HOME)/.cache/anju/models)
export ANJU_MODEL_DIR := $(MODEL_DIR)

.PHONY: demo test models lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[dev,edge,central]'
	touch $(STAMP)

models: $(STAMP)
	$(BIN)/anju --log-level info models build --pack anju-open

demo: models
	$(BIN)/python scripts/demo.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: models lint
	$(BIN)/python -m pytest -q

# Every benchmark, then one report with plots: bench-report/README.md (BENCH_ARGS=--quick: short).
# face_recognition (the faces baseline) compiles dlib; if that fails the report says so.
bench: models
	$(BIN)/python -m pip install --quiet --editable '.[bench]' || \
		$(BIN)/python -m pip install --quiet 'matplotlib>=3.8'
	$(BIN)/python scripts/bench/report.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
