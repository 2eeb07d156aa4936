#!/usr/bin/env bash
# Create or refresh the two virtual environments; quick when nothing changed.
#   .venv       the app, Python 3.11+ with current libraries
#   .venv-rasa  Rasa Open Source 3.6.21 on Python 3.10 (it supports nothing newer)
# Both are installed at the same time by uv (a Rust installer, several times faster than
# pip on a 2-core machine); pip is the fallback when uv cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .stamps

say() { printf '%s\n' "$*" >&2; }
started=$SECONDS
since() { printf '%ds' $((SECONDS - ${1:-$started})); }

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
  say "error: Python 3.11 or newer is needed for the app. Install it (Debian: apt install python3.11"
  say "       python3.11-venv; or 'pyenv install 3.11') or point VENTANILLA_PYTHON at it."; exit 1; }
py310=$(find_python '== (3, 10)' "${RASA_PYTHON:-}" "$pyenv_root"/versions/3.10.*/bin/python python3.10 \
  /usr/bin/python3.10 /usr/local/bin/python3.10) || {
  say "error: Python 3.10 is needed for Rasa 3.6 (it runs on nothing newer) and was not found."
  say "       Install it (Debian: apt install python3.10 python3.10-venv; or 'pyenv install 3.10.13')"
  say "       or point RASA_PYTHON at it."; exit 1; }

stale() { [ ! -f "$1" ] || [ -n "$(find "${@:2}" -newer "$1" 2>/dev/null | head -n 1)" ]; }
need_app=0; need_rasa=0
{ [ ! -x .venv/bin/python ] || stale .stamps/app pyproject.toml; } && need_app=1
{ [ ! -x .venv-rasa/bin/rasa ] || stale .stamps/rasa nlu/requirements-rasa.lock; } && need_rasa=1
[ $need_app = 0 ] && [ $need_rasa = 0 ] && exit 0

# uv reads neither pip.conf nor PIP_* variables: hand it the same indexes, links,
# constraints and certificates pip would use on this machine.
uv_settings() {
  local line key value
  while IFS= read -r line; do
    key=${line%%=*}; key=${key##*.}; value=${line#*=}; value=${value#\'}; value=${value%\'}
    case $key in
      index-url) export UV_DEFAULT_INDEX="$value" ;;
      extra-index-url) export UV_INDEX="$value" UV_INDEX_STRATEGY=unsafe-best-match ;;
      find-links) export UV_FIND_LINKS="$value" ;;
      constraint) export UV_CONSTRAINT="$value" ;;
      cert) export SSL_CERT_FILE="$value" ;;
    esac
  done < <("$py311" -m pip config list 2>/dev/null || true)
  if [ -n "${UV_INDEX:-}" ]; then UV_INDEX=$(printf '%s' "$UV_INDEX" | tr '\n' ' '); fi
  export UV_LINK_MODE=copy UV_NO_PROGRESS=1 UV_PYTHON_DOWNLOADS=never
}

say "Setting up (first time: about 4 minutes on 2 cores; later: seconds) ..."

# uv itself: on PATH, or a private copy in .stamps/uv (no virtual environment needed for it).
uv=""
if [ -z "${VENTANILLA_NO_UV:-}" ]; then
  t=$SECONDS
  if command -v uv >/dev/null 2>&1; then
    uv=$(command -v uv)
  elif [ -x .stamps/uv/bin/uv ] || "$py311" -m pip install --quiet --target .stamps/uv 'uv>=0.4' \
      >.stamps/uv.log 2>&1; then
    uv=.stamps/uv/bin/uv
  fi
  if [ -n "$uv" ]; then
    uv_settings
    say "  [1/3] installer: uv $("$uv" --version | cut -d' ' -f2) ($(since $t))"
  else
    say "  [1/3] installer: uv unavailable (see .stamps/uv.log), using pip: slower"
  fi
fi
if [ $need_app = 1 ] && [ ! -x .venv/bin/python ]; then
  if [ -n "$uv" ]; then "$uv" venv --quiet --seed --python "$py311" .venv; else "$py311" -m venv .venv; fi
fi

install_app() {
  if [ -n "$uv" ]; then
    "$uv" pip install --python .venv/bin/python -e '.[dev]'
  else
    .venv/bin/python -m pip install --quiet --upgrade pip && .venv/bin/python -m pip install --quiet -e '.[dev]'
  fi
}

install_rasa() {
  if [ -n "$uv" ]; then
    [ -x .venv-rasa/bin/python ] || "$uv" venv --quiet --seed --python "$py310" .venv-rasa
    "$uv" pip install --python .venv-rasa/bin/python -r nlu/requirements-rasa.lock
  else
    [ -x .venv-rasa/bin/python ] || "$py310" -m venv .venv-rasa
    .venv-rasa/bin/python -m pip install --quiet --upgrade 'pip<25'
    .venv-rasa/bin/python -m pip install --quiet -r nlu/requirements-rasa.lock
  fi
}

# Both environments at once: downloads overlap with unpacking and compiling.
pids=()
if [ $need_app = 1 ]; then
  say "  [2/3] app environment (.venv, $("$py311" --version)): about 1 minute ..."
  ( t=$SECONDS; install_app >.stamps/app.log 2>&1 && touch .stamps/app \
      && say "        app environment ready ($(since $t)); log: .stamps/app.log" ) &
  pids+=($!)
fi
if [ $need_rasa = 1 ]; then
  say "  [3/3] Rasa environment (.venv-rasa, $("$py310" --version)): about 3 minutes ..."
  ( t=$SECONDS; install_rasa >.stamps/rasa.log 2>&1 && touch .stamps/rasa \
      && say "        Rasa environment ready ($(since $t)); log: .stamps/rasa.log" ) &
  pids+=($!)
fi
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
if [ $failed = 1 ]; then
  for log in app rasa; do
    if [ -f .stamps/$log.log ] && [ ! -f .stamps/$log ]; then
      say "error: setting up the $log environment failed; the end of .stamps/$log.log:"
      tail -n 15 .stamps/$log.log >&2
    fi
  done
  exit 1
fi
say "Setup done in $(since)."
