# `make test` installs everything the test suite needs (system packages when run as root, Python
# packages with the CPU torch pin) and runs the whole suite, real engines and browser included.
PYTHON ?= python3

.PHONY: test test-quick install-test-deps lint bench

test: install-test-deps
	$(PYTHON) -m pytest -q

test-quick:
	$(PYTHON) -m pytest -q -m "not slow and not vllm and not ray and not docker and not browser"

install-test-deps:
	bash scripts/install-test-deps.sh

lint:
	ruff check evalkit tasks tests benchmarks examples && ruff format --check evalkit tasks tests benchmarks examples && mypy evalkit tasks examples

bench:
	$(PYTHON) benchmarks/run_all.py
