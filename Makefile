# Ingrain: `make run` serves the API on an embedded Postgres; `make test` runs the whole suite.
# The first Python ≥ 3.11 on the PATH (`python3` may be older where a newer one sits beside it).
PYTHON ?= $(shell for p in python3 python3.14 python3.13 python3.12 python3.11; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint typecheck contract-lint pytest openapi migrate demo bench-ingest bench-status bench-load bench-webhooks install install-dev lock clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Ingrain needs Python 3.11 or newer on the PATH" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Dependencies come from the lock files, every download checked against its hash; the package itself
# goes in afterwards, editable and without resolving anything again.
$(VENV)/.installed: pyproject.toml requirements/runtime.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/runtime.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml requirements/dev.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## lock: compile requirements/*.lock from pyproject.toml after its dependencies change (the versions
## already locked are kept where they still fit; LOCK_UPGRADE=--upgrade takes the newest)
LOCK_FLAGS = --universal --python-version 3.11 --generate-hashes --custom-compile-command 'make lock' \
	--quiet $(LOCK_UPGRADE)
lock: install-dev
	$(BIN)/python -m pip install --quiet 'uv>=0.5'
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_FLAGS) -o requirements/dev.lock
	$(BIN)/uv pip compile pyproject.toml -c requirements/dev.lock $(LOCK_FLAGS) -o requirements/runtime.lock

## run: install, start the embedded Postgres, migrate, load the demo on first start, serve on :8000
run: install
	$(BIN)/ingrain serve

## test: lint, type-check and the whole test suite on a throwaway embedded Postgres (the suite lints
## the contract too: tests/contract/test_contract_lint.py runs what contract-lint runs)
test: install-dev lint typecheck pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy service tests bench

# The contract's linters and TypeScript generator, pinned in tools/contract/package-lock.json; npm ci
# runs again only when the lock file changes.
CONTRACT_TOOLS := tools/contract
CONTRACT_BIN   := $(CONTRACT_TOOLS)/node_modules/.bin

$(CONTRACT_TOOLS)/node_modules/.installed: $(CONTRACT_TOOLS)/package-lock.json
	cd $(CONTRACT_TOOLS) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

## contract-lint: openapi/openapi.json against Redocly's recommended rules (0 errors) and Spectral's
## spectral:oas (0 warnings; waivers with their reasons in .spectral.yaml)
contract-lint: $(CONTRACT_TOOLS)/node_modules/.installed
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
		$(CONTRACT_BIN)/redocly lint openapi/openapi.json --extends=recommended --format=summary
	$(CONTRACT_BIN)/spectral lint openapi/openapi.json --ruleset .spectral.yaml --fail-severity=warn

# Two workers (one per core of CI), each with its own throwaway Postgres; coverage of service/ is
# measured in both and printed as one table of the files not fully covered, with the total. Work
# stealing: an idle worker takes tests queued for the other, so neither waits out the other's tail.
PYTEST_WORKERS ?= 2
pytest: install-dev
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal --cov --cov-report=term

## openapi: export openapi/openapi.json and openapi/schema.graphql from the code
openapi: install
	$(BIN)/ingrain openapi --out openapi

migrate: install
	$(BIN)/ingrain migrate

demo: install
	$(BIN)/ingrain demo

## bench-ingest: HTTP batch ingest against raw COPY, on the embedded Postgres
bench-ingest: install-dev
	$(BIN)/python -m bench.ingest

## bench-status: status reads at 100k and 1M touchpoints, projected against computed on read and a raw
## SQL aggregate; recompute cost, freshness under ingest, a 500-provider commissioner portfolio
bench-status: install-dev
	$(BIN)/python -m bench.status

## bench-load: 60 s of mixed load (INGRAIN_BENCH_LOAD_SECONDS) against one served instance, ingest alone as baseline
bench-load: install-dev
	$(BIN)/python -m bench.mixed

## bench-webhooks: status events pushed to three webhook endpoints by two worker loops (one retrying),
## time from status change to delivery, against the same signed bodies POSTed straight
bench-webhooks: install-dev
	$(BIN)/python -m bench.webhooks

clean:
	rm -rf $(VENV) .data .bench
