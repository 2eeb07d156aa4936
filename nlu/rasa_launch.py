"""`rasa` with its auth token taken from the environment instead of the command line.

Rasa 3.6 accepts the token only as `--auth-token`; on a command line it is
visible to every user of the machine in `ps`. This launcher runs in Rasa's own
virtual environment, reads `NLU_AUTH_TOKEN` (readable only by the same user,
in /proc/<pid>/environ), removes it from the environment and hands Rasa the
option in its own argument list, which `ps` does not show.

    python -m nlu.rasa_launch run --enable-api --model MODEL ...
"""

from __future__ import annotations

import os
import sys

TOKEN_ENV = "NLU_AUTH_TOKEN"


def rasa_arguments(argv: list[str], environ: dict[str, str] | os._Environ[str]) -> list[str]:
    token = environ.pop(TOKEN_ENV, "")
    if not token:
        raise SystemExit(f"{TOKEN_ENV} is not set: the NLU server never runs without a token")
    # "=" form: a random token may start with "-", which argparse takes for an option.
    return ["rasa", *argv, f"--auth-token={token}"]


def main() -> None:  # pragma: no cover - runs in Rasa's environment
    sys.argv = rasa_arguments(sys.argv[1:], os.environ)
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":  # pragma: no cover
    main()
