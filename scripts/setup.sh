#!/usr/bin/env bash
# Create or refresh the two virtual environments; quick when nothing changed.
#   .venv       the app, Python 3.11+ with current libraries
#   .venv-rasa  Rasa Open Source 3.6.21 on Python 3.10 (it supports nothing newer)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .stamps

say() { printf '%s\n' "$*" >&2; }

# A candidate counts only if it runs and reports the wanted version: pyenv's
# shims exist on PATH even when that version is not selected, and then fail.
works() { "$1" -c "import sys, venv; sys.exit(0 if sys.version_info[:2] $2 else 1)" 2>/dev/null; }

find_python() {  # $1: version test such as '== (3, 10)'; $2...: candidates
  local test="$1"; shift
  for candidate in "$@"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] || command -v "$candidate" >/dev/null 2>&1; then
      if works "$candidate" "$test"; then command -v "$candidate" || echo "$candidate"; return 0; fi
    fi
  done
  return 1
}

pyenv_root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
py311=$(find_python '>= (3, 11)' "${VENTANILLA_PYTHON:-}" python3.11 "$pyenv_root"/versions/3.11.*/bin/python \
  python3.12 python3.13 python3 "$pyenv_root"/versions/3.1[23].*/bin/python) || {
  say "error: Python 3.11 or newer is needed for the app. Install it (for example 'pyenv install 3.11')"
  say "       or point VENTANILLA_PYTHON at it."; exit 1; }
py310=$(find_python '== (3, 10)' "${RASA_PYTHON:-}" "$pyenv_root"/versions/3.10.*/bin/python python3.10 \
  /usr/bin/python3.10 /usr/local/bin/python3.10) || {
  say "error: Python 3.10 is needed for Rasa 3.6 (it runs on nothing newer) and was not found."
  say "       Install it (for example 'pyenv install 3.10.13', or your system's python3.10 + venv package)"
  say "       or point RASA_PYTHON at it."; exit 1; }

stale() { [ ! -f "$1" ] || [ -n "$(find "${@:2}" -newer "$1" 2>/dev/null | head -n 1)" ]; }

if [ ! -x .venv/bin/python ] || stale .stamps/app pyproject.toml; then
  say "Setting up the app environment (.venv, $("$py311" --version)) ..."
  [ -x .venv/bin/python ] || "$py311" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[dev]'
  touch .stamps/app
fi

if [ ! -x .venv-rasa/bin/rasa ] || stale .stamps/rasa nlu/requirements-rasa.lock; then
  say "Setting up the Rasa environment (.venv-rasa, $("$py310" --version)); the first time takes a few minutes ..."
  [ -x .venv-rasa/bin/python ] || "$py310" -m venv .venv-rasa
  .venv-rasa/bin/python -m pip install --quiet --upgrade 'pip<25'
  .venv-rasa/bin/python -m pip install --quiet -r nlu/requirements-rasa.lock
  touch .stamps/rasa
fi
