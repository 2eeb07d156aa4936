"""A throwaway PostgreSQL server for one test run, so the PostgreSQL tests run wherever
PostgreSQL's server binaries are installed: no root, no system service, no setup step.

`initdb` builds a cluster in a temporary directory, `pg_ctl` starts it on a free port of
127.0.0.1 with a random password (and durability off: nothing here must survive), and it is
stopped and deleted when the run ends. PostgreSQL refuses to run as root, so as root (CI
containers) the server runs as the unprivileged user `nobody`, via util-linux's setpriv.
`TEST_POSTGRES_URL` still wins: CI or a developer can point the tests at any server.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

UNPRIVILEGED_USER = "nobody"
INSTALL_HINT = (
    "install PostgreSQL's server binaries (Debian/Ubuntu: apt install postgresql) "
    "and `make test` starts a throwaway server by itself, or set TEST_POSTGRES_URL"
)


def server_binaries() -> Path | None:
    """The newest installed PostgreSQL bin directory that has initdb (Debian's layout)."""

    def version(path: str) -> tuple[int, ...]:
        found = re.search(r"/postgresql/([\d.]+)/", path)
        return tuple(int(p) for p in found.group(1).split(".")) if found else (0,)

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    if candidates:
        return Path(candidates[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    url: str
    root: Path
    _bin: Path
    _as_user: list[str]

    def stop(self) -> None:
        subprocess.run(
            [*self._as_user, str(self._bin / "pg_ctl"), "-D", str(self.root / "data"),
             "-m", "immediate", "-w", "stop"],
            cwd=self.root, capture_output=True, check=False,
        )  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)


def start(bindir: Path) -> Cluster:
    """initdb + pg_ctl start; raises RuntimeError with PostgreSQL's own words on failure."""
    root = Path(tempfile.mkdtemp(prefix="ventanilla-test-pg-"))
    as_user: list[str] = []
    uid = gid = -1
    if os.geteuid() == 0:
        user = pwd.getpwnam(UNPRIVILEGED_USER)
        uid, gid = user.pw_uid, user.pw_gid
        as_user = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]
    password = secrets.token_urlsafe(18)
    pwfile = root / "password"
    pwfile.write_text(password + "\n")
    if uid >= 0:
        for path in (root, pwfile):
            os.chown(path, uid, gid)
    port = _free_port()
    options = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    steps = [
        [str(bindir / "initdb"), "-D", str(root / "data"), "-U", "ventanilla",
         f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"],
        [str(bindir / "pg_ctl"), "-D", str(root / "data"), "-l", str(root / "server.log"),
         "-o", options, "-w", "-t", "120", "start"],
    ]  # fmt: skip
    cluster = Cluster(
        f"postgresql+psycopg://ventanilla:{password}@127.0.0.1:{port}/postgres",
        root,
        bindir,
        as_user,
    )
    env = {**os.environ, "LC_ALL": "C", "HOME": str(root)}
    for step in steps:
        done = subprocess.run(
            [*as_user, *step], cwd=root, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            log = root / "server.log"
            detail = (done.stderr or done.stdout).strip()
            if log.exists():
                detail += "\n" + log.read_text(errors="replace")[-2000:]
            cluster.stop()
            raise RuntimeError(f"{Path(step[0]).name} failed: {detail}")
    return cluster
