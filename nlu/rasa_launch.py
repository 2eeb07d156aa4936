"""`rasa` with its auth token taken from the environment instead of the command line.

Rasa 3.6 accepts the token only as `--auth-token`; on a command line it is
visible to every user of the machine in `ps`. This launcher runs in Rasa's own
virtual environment, reads `NLU_AUTH_TOKEN` (readable only by the same user,
in /proc/<pid>/environ), removes it from the environment and hands Rasa the
option in its own argument list, which `ps` does not show.

The same token guards the batch parse route (`nlu/components/batch_parse.py`),
which Rasa's option does not cover, so it is handed to that module here.

It also ties the server's life to the process that started it (`PARENT_ENV`): on
Linux the kernel sends SIGTERM when that process dies, so an app or a test run
killed with SIGKILL never leaves an NLU server behind holding its port.

    python -m nlu.rasa_launch run --enable-api --model MODEL ...
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

TOKEN_ENV = "NLU_AUTH_TOKEN"
PARENT_ENV = "NLU_PARENT_PID"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def rasa_arguments(argv: list[str], environ: dict[str, str] | os._Environ[str]) -> list[str]:
    token = environ.pop(TOKEN_ENV, "")
    if not token:
        raise SystemExit(f"{TOKEN_ENV} is not set: the NLU server never runs without a token")
    # "=" form: a random token may start with "-", which argparse takes for an option.
    return ["rasa", *argv, f"--auth-token={token}"]


def die_with_parent(environ: dict[str, str] | os._Environ[str]) -> None:
    """SIGTERM from the kernel when the starting process dies (Linux only; elsewhere the
    starter's own `stop` is all there is). Exits at once if it died already."""
    parent = environ.pop(PARENT_ENV, "")
    if not parent or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
        return  # not fatal: the server still stops when its starter calls stop()
    if os.getppid() != int(parent):
        raise SystemExit("the process that started this NLU server is gone")


def main() -> None:  # pragma: no cover - runs in Rasa's environment
    die_with_parent(os.environ)
    token = os.environ.get(TOKEN_ENV, "")
    sys.argv = rasa_arguments(sys.argv[1:], os.environ)
    # The batch parse route checks the same token itself (Rasa's covers only its own API).
    from nlu.components import batch_parse

    batch_parse.expected_token = token
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":  # pragma: no cover
    main()
