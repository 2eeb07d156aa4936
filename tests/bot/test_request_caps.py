"""Request caps hold in a real server process: huge bodies are refused without being read,
hostile JSON is a 400, and a malformed Telegram update is a 200 and a log line."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes.app_process import app_process
from tests.fakes.server import serve
from tests.fakes.telegram_api import FakeBotAPI

TELEGRAM_SECRET = "caps-test-telegram-secret-0123456789"
HUGE = 500 * 1024 * 1024
CHUNK = b"a" * (1024 * 1024)


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    data = tmp_path_factory.mktemp("caps")
    with serve(FakeBotAPI("123:CAPS").app()) as api_url:
        env = {
            "TELEGRAM_BOT_TOKEN": "123:CAPS",
            "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
            "TELEGRAM_API_BASE_URL": api_url,
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": "caps-test-twilio-token",
            "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
        }
        with app_process(data, env) as app:
            yield app.url, app.pid, app.log


def _send_raw(url: str, path: str, headers: dict[str, str], total: int) -> bytes:
    """Stream up to `total` bytes of body over a plain socket; the reply, whatever came."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode())
        chunked = headers.get("Transfer-Encoding") == "chunked"
        sent = 0
        try:
            while sent < total:
                piece = CHUNK if not chunked else b"%x\r\n" % len(CHUNK) + CHUNK + b"\r\n"
                sock.sendall(piece)
                sent += len(CHUNK)
        except OSError:
            pass  # the server closed the connection: what a refusal looks like mid-upload
        try:
            return sock.recv(4096)
        except OSError:
            return b""


@pytest.mark.parametrize("path", ["/api/chat", "/webhooks/whatsapp", "/webhooks/telegram"])
def test_a_500_mb_body_is_refused_without_growing_the_server(
    server: tuple[str, int, Path], path: str
) -> None:
    url, pid, _ = server
    before = _rss_kib(pid)
    declared = _send_raw(
        url,
        path,
        {"Content-Type": "application/json", "Content-Length": str(HUGE)},
        HUGE,
    )
    assert declared.startswith(b"HTTP/1.1 413")
    # No length announced: counted as it arrives (the Telegram webhook refuses even
    # earlier, on the missing secret, which is as good: the body is never read).
    streamed = _send_raw(
        url, path, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}, HUGE
    )
    assert streamed[:12] in (b"HTTP/1.1 413", b"HTTP/1.1 403")
    grown_mib = (_rss_kib(pid) - before) / 1024
    assert grown_mib < 50, f"server RSS grew by {grown_mib:.0f} MiB"
    assert httpx.get(f"{url}/healthz").status_code == 200


def test_hostile_json_is_a_400_and_the_server_answers_on(server: tuple[str, int, Path]) -> None:
    url, _, _ = server
    nested = httpx.post(
        f"{url}/api/chat", content=b"[" * 30000, headers={"Content-Type": "application/json"}
    )
    assert nested.status_code == 400
    deep = httpx.post(
        f"{url}/api/chat",
        content=b'{"text": ' + b"[" * 100 + b"]" * 100 + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert deep.status_code == 400
    wrong_types = httpx.post(f"{url}/api/chat", json={"text": ["hola"], "payload": 3})
    assert wrong_types.status_code == 400
    lone = httpx.post(
        f"{url}/api/chat",
        content=b'{"text": "ayuda \\ud800 por favor"}',
        headers={"Content-Type": "application/json"},
    )
    assert lone.status_code == 200 and lone.json()["replies"]


def test_malformed_telegram_updates_are_a_200_and_a_log_line(
    server: tuple[str, int, Path],
) -> None:
    url, _, log = server
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    for body in (
        b"not json",
        b"[" * 30000,
        b'{"update_id": 1, "message": {"message_id": "x", "chat": 5, "date": "today"}}',
        b'{"update_id": "one"}',
    ):
        response = httpx.post(f"{url}/webhooks/telegram", content=body, headers=headers)
        assert response.status_code == 200
    deadline = time.monotonic() + 10
    while "malformed telegram update" not in log.read_text():
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    assert "Traceback" not in log.read_text()
