# pbx-control: `make run` starts the whole PBX; `make test` runs every test.
PY := .venv/bin/python

.PHONY: run test setup bench bench-smoke lint fmt

run: setup
	$(PY) -m pbx_control stack

test: setup
	$(PY) -m pytest

setup:
	@bash scripts/setup.sh

bench: setup
	$(PY) -m pytest -m bench -p no:cacheprovider -q bench

lint: setup
	.venv/bin/ruff check pbx_control tests

fmt: setup
	.venv/bin/ruff format pbx_control tests
