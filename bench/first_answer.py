"""Time from a fresh clone to the first web chat answer, as a newcomer lives it (run by hand).

    python3 bench/first_answer.py [REPO] [--keep]

Clones REPO (default: this checkout's git repository) into a temporary folder, points every
package cache (PIP_CACHE_DIR, UV_CACHE_DIR, XDG_CACHE_HOME) at empty folders, runs `make run`
there, and sends "hola" to the web chat until it answers. Prints each line `make run` writes,
stamped with the seconds since the start, then the total. Standard library only: the fresh
clone has no virtual environment yet.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answer(url: str) -> str | None:
    body = json.dumps({"user_id": "first-answer-bench", "text": "hola"}).encode()
    request = urllib.request.Request(
        url + "/api/chat", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            replies = json.loads(response.read()).get("replies") or []
    except (OSError, ValueError):
        return None
    return str(replies[0].get("text", ""))[:60] if replies else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", nargs="?", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--branch", help="branch to clone (default: the repository's HEAD)")
    parser.add_argument("--keep", action="store_true", help="keep the clone afterwards")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="ventanilla-fresh-"))
    clone = scratch / "ventanilla"
    branch = ["--branch", args.branch] if args.branch else []
    subprocess.run(["git", "clone", "--quiet", *branch, args.repo, str(clone)], check=True)
    caches = {name: scratch / name.lower() for name in ("PIP_CACHE_DIR", "UV_CACHE_DIR")}
    caches["XDG_CACHE_HOME"] = scratch / "xdg-cache"
    for folder in caches.values():
        folder.mkdir()
    web_port, nlu_port = _free_port(), _free_port()
    env = {
        **os.environ,
        **{k: str(v) for k, v in caches.items()},
        "VENTANILLA_SERVER_PORT": str(web_port),
        "VENTANILLA_NLU_PORT": str(nlu_port),
    }
    url = f"http://127.0.0.1:{web_port}"
    print(f"$ make run   (in {clone}, caches empty, web chat on {url})", flush=True)
    started = time.monotonic()
    process = subprocess.Popen(
        ["make", "run"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )

    def echo() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            print(f"[{time.monotonic() - started:6.0f}s] {line.rstrip()}", flush=True)

    threading.Thread(target=echo, daemon=True).start()
    answer = None
    try:
        while answer is None and process.poll() is None:
            if time.monotonic() - started > args.timeout:
                break
            time.sleep(1)
            answer = _answer(url)
        total = time.monotonic() - started
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    if answer is None:
        print(f"no answer after {total:.0f}s", flush=True)
        return 1
    print(f"first answer after {total:.0f}s ({total / 60:.1f} min): {answer!r}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
