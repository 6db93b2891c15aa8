# Everything runs from a virtual environment in .venv, made on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STORE  ?= store

.PHONY: serve index test test-fast lint proto bench eval clean

$(BIN)/normalizer-installed-cpu: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet '.[cpu]'
	touch $@

$(BIN)/normalizer-installed-dev: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[cpu,dev]'
	# Only for the Compose Specification schema it ships (tests/e2e/test_deploy_manifests.py):
	# its dependency charset-normalizer installs a console script named `normalizer`.
	$(BIN)/pip install --quiet --no-deps 'check-jsonschema==0.39.0'
	touch $@

## serve: install, build the index from canonical_queries/ into $(STORE), serve on :50051
serve: $(BIN)/normalizer-installed-cpu
	$(BIN)/normalizer index build --queries canonical_queries --out $(STORE)
	$(BIN)/normalizer serve --index $(STORE)

## test: install with test tools and run every test (unit, integration, e2e)
test: $(BIN)/normalizer-installed-dev
	$(BIN)/python -m pytest

## test-fast: unit tests only
test-fast: $(BIN)/normalizer-installed-dev
	$(BIN)/python -m pytest tests/unit

lint: $(BIN)/normalizer-installed-dev
	$(BIN)/ruff check normalizer tests loadtest scripts deploy
	$(BIN)/mypy normalizer

## proto: regenerate normalizer/_proto from proto/
proto: $(BIN)/normalizer-installed-dev
	$(BIN)/python scripts/gen_proto.py

## bench: Normalize latency and throughput against a real server (figures printed)
bench: $(BIN)/normalizer-installed-dev
	$(BIN)/python -m loadtest.normalize_latency

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
