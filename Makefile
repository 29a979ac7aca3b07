# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA_DIR ?= vowkeep-data
POLICY ?= examples/policies/wsoutsourcer.yaml
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[demo]'
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,postgres]' ruff
	touch $@ $(VENV)/.installed

## Set up, create ./vowkeep-data with the sample declaration and fill it with demo data (once each), and serve on
## 127.0.0.1:8000 with the console at /admin and the demo shop at /demo.
run: $(VENV)/.installed
	@test -d $(DATA_DIR) || $(BIN)/vowkeep init --policy $(POLICY) --data-dir $(DATA_DIR)
	@test -f $(DATA_DIR)/demo.json || $(BIN)/vowkeep demo --data-dir $(DATA_DIR)
	$(BIN)/vowkeep serve --data-dir $(DATA_DIR) --host $(HOST) --port $(PORT)

## Set up and run the whole test suite (ruff, then pytest).
test: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks

## Run every benchmark and print its table.
bench: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
