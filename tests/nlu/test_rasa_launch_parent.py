"""An NLU server never outlives the process that started it (nlu/rasa_launch.py), so a
killed app or test run does not leave a server holding its port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nlu.rasa_launch import PARENT_ENV

ROOT = Path(__file__).resolve().parents[2]

# The middle process starts a stand-in server the way nlu/server.py starts Rasa (its pid in
# PARENT_ENV), prints the server's pid and waits to be killed.
MIDDLE = f"""
import os, subprocess, sys, time
server = subprocess.Popen(
    [sys.executable, "-c", {{server!r}}],
    env={{**os.environ, {PARENT_ENV!r}: str(os.getpid())}},
    stdout=subprocess.PIPE,
    start_new_session=True,
)
assert server.stdout.readline().strip() == b"ready"
print(server.pid, flush=True)
time.sleep(600)
"""
SERVER = """
import os, time
from nlu.rasa_launch import die_with_parent
die_with_parent(os.environ)
print("ready", flush=True)
time.sleep(600)
"""


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has stopped running


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_server_stops_when_its_starter_is_killed() -> None:
    middle = subprocess.Popen(
        [sys.executable, "-c", MIDDLE.replace("{server!r}", repr(SERVER))],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert middle.stdout is not None
    server_pid = int(middle.stdout.readline())
    try:
        assert _running(server_pid)
        middle.send_signal(signal.SIGKILL)  # no clean-up code of the starter runs
        middle.wait()
        deadline = time.monotonic() + 60  # a liveness bound, not a measurement
        while _running(server_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(server_pid)
    finally:
        if _running(server_pid):
            os.kill(server_pid, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_server_whose_starter_is_already_gone_exits() -> None:
    # In a child of its own: the check arms the death signal of the process it runs in.
    gone = subprocess.run(
        [sys.executable, "-c", SERVER],
        env={**os.environ, "PYTHONPATH": str(ROOT), PARENT_ENV: "999999999"},
        capture_output=True,
        timeout=60,
    )
    assert gone.returncode != 0
    assert b"is gone" in gone.stderr
