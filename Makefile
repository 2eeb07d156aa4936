# Two commands on a fresh machine:  `make run`  and  `make test`.
.PHONY: setup run test lint bench translations

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/ventanilla run

test: setup
	.venv/bin/ruff check bot handlers kernel nlu tests bench
	.venv/bin/mypy
	.venv/bin/lint-imports --no-cache
	.venv/bin/python -m pytest

lint: setup
	.venv/bin/ruff check bot handlers kernel nlu tests
	.venv/bin/mypy
	.venv/bin/lint-imports --no-cache

bench: setup
	@echo "Start the server (see docs/benchmarks.md), then:"
	@echo ".venv/bin/python -m bench.load --url http://127.0.0.1:8000 --rate 120 --duration 15"

# Staff pages: extract the strings, merge them into each language's .po (translate the new
# ones there, then run this again), compile the .mo files that are committed.
LOCALE := bot/admin/locale
translations:
	.venv/bin/pybabel -q extract -F bot/admin/babel.cfg -k N_ --no-location --sort-output \
	  --project=ventanilla --copyright-holder="Ventanilla contributors" -o $(LOCALE)/messages.pot .
	.venv/bin/pybabel -q update -i $(LOCALE)/messages.pot -d $(LOCALE) --no-fuzzy-matching \
	  --ignore-obsolete --width 100
	.venv/bin/pybabel -q compile -d $(LOCALE)
