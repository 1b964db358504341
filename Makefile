# pbx-control: `make run` starts the whole PBX; `make test` runs every test.
PY := .venv/bin/python

.PHONY: run test setup bench bench-smoke lint fmt

run: setup
	$(PY) -m pbx_control stack

test: setup
	$(PY) -m pytest

setup:
	@bash scripts/setup.sh

# The full benchmark (about 10 minutes; its own stack on ports 38000..45999, PBX_BENCH_PORT_BASE).
# `make test` runs it in smoke mode (tests/bench, marker `bench`), as does `make bench-smoke`.
bench: setup
	$(PY) -m bench

bench-smoke: setup
	$(PY) -m bench --smoke

lint: setup
	.venv/bin/ruff check pbx_control tests bench
	.venv/bin/ruff format --check pbx_control tests bench
	.venv/bin/mypy

fmt: setup
	.venv/bin/ruff format pbx_control tests bench
