# `make demo` and `make test` work on a fresh machine: each creates .venv and installs first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The real LangGraph server of the connector's tests, in its own environment.
LANGGRAPH_VENV := .venv-langgraph
LANGGRAPH_STAMP := $(LANGGRAPH_VENV)/.installed

.PHONY: install langgraph-env demo lint test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres]'
	touch $(STAMP)

install: $(STAMP)

$(LANGGRAPH_STAMP): tests/langgraph-requirements.txt
	test -x $(LANGGRAPH_VENV)/bin/python || $(PYTHON) -m venv $(LANGGRAPH_VENV)
	$(LANGGRAPH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LANGGRAPH_VENV)/bin/python -m pip install --quiet -r tests/langgraph-requirements.txt
	touch $(LANGGRAPH_STAMP)

langgraph-env: $(LANGGRAPH_STAMP)

demo: $(STAMP)
	$(BIN)/assay quickstart
	@echo 'Next: run ". .venv/bin/activate" to put assay on your PATH for the README'"'"'s commands.'

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# Three workers on two cores: most tests wait on servers they started, not on the CPU; a
# fourth starved SQLite lock holders and shutdowns into timeouts.
test: lint $(LANGGRAPH_STAMP)
	$(BIN)/pytest -n 3 --durations=15

bench: $(STAMP)
	$(BIN)/python benchmarks/user_path.py

clean:
	rm -rf $(VENV) $(LANGGRAPH_VENV) .assay assay.db assay.db-wal assay.db-shm .pytest_cache .mypy_cache .ruff_cache
