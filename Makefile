# Two commands on a fresh machine:  `make run`  and  `make test`.
.PHONY: setup run test lint bench

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/ventanilla run

test: setup
	.venv/bin/ruff check bot handlers nlu tests bench
	.venv/bin/mypy
	.venv/bin/python -m pytest

lint: setup
	.venv/bin/ruff check bot handlers nlu tests
	.venv/bin/mypy

bench: setup
	@echo "Start the server (see docs/benchmarks.md), then:"
	@echo ".venv/bin/python -m bench.load --url http://127.0.0.1:8000 --rate 120 --duration 15"
