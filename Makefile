# pbx-control: `make run` starts the whole PBX; `make test` runs every test.
# lint, fmt and test-unit need only the Python virtual environment (no root, apt or Asterisk).
PY := .venv/bin/python
PY_SOURCES := pbx_control tests bench

.PHONY: run test test-unit setup setup-python bench bench-smoke lint fmt

run: setup
	$(PY) -m pbx_control stack

# Two workers (pytest-xdist), each with its own PostgreSQL and Asterisk (tests/support/workers.py);
# a file's tests stay together on one worker.
test: setup
	$(PY) -m pytest -n 2 --dist loadfile

# Pure logic only: no PostgreSQL, Asterisk or SIPp.
test-unit: setup-python
	$(PY) -m pytest -m unit

# Everything (as root): Debian packages, the virtual environment, the Asterisk root.
setup:
	@bash scripts/setup.sh

# The virtual environment only.
setup-python:
	@bash scripts/setup.sh --python-only

# The full benchmark (about an hour: 1,000, 10,000 and 100,000 users, every measurement 3 times; its
# own stack on ports 38000..45999, PBX_BENCH_PORT_BASE); prints every goal as met or missed.
# `make test` runs it in smoke mode (tests/bench, marker `bench`), as does `make bench-smoke`.
bench: setup
	$(PY) -m bench

bench-smoke: setup
	$(PY) -m bench --smoke

lint: setup-python
	.venv/bin/ruff check $(PY_SOURCES)
	.venv/bin/ruff format --check $(PY_SOURCES)
	.venv/bin/mypy

fmt: setup-python
	.venv/bin/ruff format $(PY_SOURCES)
