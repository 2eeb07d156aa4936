# Two commands on a fresh machine:  `make run`  and  `make test`.
.PHONY: setup run test lint bench

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/ventanilla run

test: setup
	.venv/bin/python -m pytest

lint: setup
	.venv/bin/ruff check bot handlers nlu tests
	.venv/bin/mypy

bench: setup
	.venv/bin/python -m bench.engine_throughput
