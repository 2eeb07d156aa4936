"""Load generator: signed Twilio webhooks (and secret-checked Telegram updates) to a running server.

Run by hand, never by the tests:

    .venv/bin/python -m bench.load --url http://127.0.0.1:8000 --twilio-token T --rate 120 \\
        --duration 30 --pid $(pgrep -f 'ventanilla run')
    .venv/bin/python -m bench.load --rasa-url http://127.0.0.1:5006 --rate 0 --duration 20

Offered rate 0 means "as fast as the connections allow". Prints sustained
messages/s, p50/p95/p99 latency, errors, the server's peak RSS (with children) and how
much of the machine's CPU time the host took back (steal) during the run.
WhatsApp replies come back in the webhook response, so their latency is end to
end; Telegram's webhook only acknowledges, so its figure is the ack time.

Messages come from `bench.corpus`: most are composed on the fly and never sent
twice, so the app's parse cache cannot stand in for the NLU; the app's own
cache counters (`/metrics`) give the hit rate of the measured part of the run.
Every target gets the same sequence of messages.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import statistics
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import uvloop
from twilio.request_validator import RequestValidator

from bench.corpus import messages
from bot.nlu_client import CACHE_METRIC

# Each person sends a few messages, then a new person writes: with a fixed set of
# senders, every one of them would soon have asked for a human and have every
# later message routed to the staff inbox, a cheaper path than answering.
MESSAGES_PER_PERSON = 5
# Share of the machine taken by the host above which a run's tail is not the code's alone.
NOISY_STEAL = 0.07


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    started: float = 0.0
    finished: float = 0.0

    def report(self, label: str, peak_rss_mb: float | None) -> str:
        done = len(self.latencies)
        elapsed = self.finished - self.started
        quantiles = statistics.quantiles(self.latencies, n=100) if done >= 2 else [0.0] * 99
        lines = [
            f"{label}: {done} answered, {sum(self.errors.values())} errors in {elapsed:.1f}s",
            f"  sustained {done / elapsed:.1f} messages/s" if elapsed else "",
            f"  latency p50 {quantiles[49] * 1000:.1f} ms  p95 {quantiles[94] * 1000:.1f} ms"
            f"  p99 {quantiles[98] * 1000:.1f} ms",
        ]
        if self.errors:
            lines.append(f"  errors: {dict(self.errors)}")
        if peak_rss_mb is not None:
            lines.append(f"  app peak RSS {peak_rss_mb:.0f} MB (NLU server excluded)")
        return "\n".join(line for line in lines if line)


def texts(seed: int) -> Iterator[str]:
    return (text for _, text in messages(seed))


def cache_counts(url: str) -> dict[str, float]:
    """The app's parse-cache hits and misses so far, from its /metrics page."""
    with urllib.request.urlopen(url.rstrip("/") + "/metrics", timeout=10) as response:
        page = response.read().decode()
    pattern = re.compile(rf'^{CACHE_METRIC}{{result="(\w+)"}} ([0-9.e+]+)$', re.MULTILINE)
    return {name: float(value) for name, value in pattern.findall(page)}


def cache_report(before: dict[str, float], after: dict[str, float], answered: int) -> str:
    hits = after.get("hit", 0.0) - before.get("hit", 0.0)
    misses = after.get("miss", 0.0) - before.get("miss", 0.0)
    lookups = hits + misses
    rate = hits / lookups if lookups else 0.0
    return (
        f"  NLU lookups {lookups:.0f} ({lookups / max(answered, 1):.2f} per message),"
        f" parse-cache hit rate {rate:.1%}, NLU server parses {misses:.0f}"
    )


def _tree(pid: int) -> list[tuple[int, bool]]:
    """The process and its descendants, each with whether it is a Rasa process."""
    found: list[tuple[int, bool]] = []
    pending = [pid]
    while pending:
        one = pending.pop()
        try:
            rasa = b"rasa" in Path(f"/proc/{one}/cmdline").read_bytes()
            found.append((one, rasa))
            for task in Path(f"/proc/{one}/task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time used so far by the process tree: (everything but Rasa, Rasa processes).

    On a machine shared with other work, wall-clock throughput says as much about
    the neighbours as about us; CPU time per message does not.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    app = rasa = 0.0
    for one, is_rasa in _tree(pid):
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        if is_rasa:
            rasa += used
        else:
            app += used
    return app, rasa


def machine_times() -> tuple[int, int, int]:
    """The whole machine's CPU time so far, in clock ticks: (busy, stolen, total).

    On a shared virtual machine the host can take back part of our two cores
    ("steal"); the same code then answers fewer messages with a longer tail at the
    same CPU per message, so a run's figures are read next to this.
    """
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is already in user)
    idle, steal, total = fields[3] + fields[4], fields[7], sum(fields[:8])
    return total - idle - steal, steal, total


def machine_report(before: tuple[int, int, int], after: tuple[int, int, int]) -> str:
    busy, steal, total = (a - b for a, b in zip(after, before, strict=True))
    if total <= 0:
        return ""
    line = (
        f"  machine: {busy / total:.0%} of CPU time busy,"
        f" {steal / total:.0%} stolen by the host (steal)"
    )
    if steal / total >= NOISY_STEAL:
        # At 120/s the servers and this generator use about 80 % of two cores: a few
        # percent taken by the host is what separates a p99 of 250 ms from one of 330.
        line += "\n  the host took a noticeable share: this run's latency measures the host too"
    return line


def cpu_report(before: tuple[float, float], after: tuple[float, float], answered: int) -> str:
    n = max(answered, 1)
    app, rasa = after[0] - before[0], after[1] - before[1]
    return (
        f"  CPU per message: {1000 * app / n:.2f} ms outside Rasa,"
        f" {1000 * rasa / n:.2f} ms in Rasa processes"
    )


def rss_mb(pid: int) -> float:
    """Resident memory of the app: the process and its uvicorn workers, not the NLU server."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for child in children:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"rasa" not in cmdline:
                pids.append(int(child))
    except OSError:
        pass
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


@dataclass(frozen=True)
class Request:
    path: str
    body: bytes
    headers: dict[str, str]


class Target:
    base: str = ""

    def build(self, n: int, text: str) -> Request:
        raise NotImplementedError


class WhatsAppTarget(Target):
    def __init__(self, url: str, token: str, public: str) -> None:
        self.base = url
        self.validator = RequestValidator(token)
        self.public = public.rstrip("/") + "/webhooks/whatsapp"

    def build(self, n: int, text: str) -> Request:
        params = {
            "From": f"whatsapp:+5037{n // MESSAGES_PER_PERSON:07d}",
            "Body": text,
            "MessageSid": f"SM{time.time_ns():020d}{n:012d}",
            "NumMedia": "0",
        }
        signature = self.validator.compute_signature(self.public, params)
        return Request(
            "/webhooks/whatsapp",
            urlencode(params).encode(),
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            },
        )


class TelegramTarget(Target):
    def __init__(self, url: str, secret: str) -> None:
        self.base = url
        self.secret = secret

    def build(self, n: int, text: str) -> Request:
        chat = 10_000_000 + n // MESSAGES_PER_PERSON
        update = {
            "update_id": n,
            "message": {
                "message_id": n,
                "date": int(time.time()),
                "text": text,
                "chat": {"id": chat, "type": "private"},
                "from": {"id": chat, "is_bot": False, "first_name": "L"},
            },
        }
        return Request(
            "/webhooks/telegram",
            json.dumps(update).encode(),
            {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": self.secret},
        )


class RasaRestTarget(Target):
    """Rasa's own server (`rasa run` with the REST channel), for the side-by-side figure."""

    def __init__(self, url: str) -> None:
        self.base = url

    def build(self, n: int, text: str) -> Request:
        body = json.dumps({"sender": f"user-{n // MESSAGES_PER_PERSON}", "message": text}).encode()
        return Request("/webhooks/rest/webhook", body, {"Content-Type": "application/json"})


class Connection:
    """A bare HTTP/1.1 keep-alive connection.

    The generator shares the machine's cores with the servers it measures; a full
    client library spent more CPU per request than the servers' own routing did,
    which capped both sides alike. This does the minimum: write, read the status,
    headers and body.
    """

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def send(self, request: Request) -> int:
        if self._writer is None or self._reader is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        headers = "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
        self._writer.write(
            f"POST {request.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Length: {len(request.body)}\r\n{headers}\r\n".encode()
            + request.body
        )
        try:
            head = await self._reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            fields = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in lines[1:] if line)
            }
            if fields.get("transfer-encoding", "").lower() == "chunked":
                while True:
                    size = int((await self._reader.readuntil(b"\r\n")).strip(), 16)
                    await self._reader.readexactly(size + 2)
                    if size == 0:
                        break
            else:
                await self._reader.readexactly(int(fields.get("content-length", "0")))
            if fields.get("connection", "").lower() == "close":
                self.close()
            return status
        except (OSError, asyncio.IncompleteReadError, ValueError):
            self.close()
            raise

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def run(
    target: Target,
    rate: float,
    duration: float,
    concurrency: int,
    pid: int | None,
    corpus: Iterator[str],
    first: int = 0,
) -> tuple[Result, float | None]:
    result = Result()
    peak = [0.0]
    stop = asyncio.Event()

    async def sample_rss() -> None:
        while pid and not stop.is_set():
            peak[0] = max(peak[0], rss_mb(pid))
            await asyncio.sleep(0.1)

    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(concurrency):
        idle.put_nowait(Connection(target.base))
    counter = itertools.count(first)  # message numbers, and so senders, start here

    async def one(connection: Connection) -> None:
        n = next(counter)
        request = target.build(n, next(corpus))
        begun = time.perf_counter()
        try:
            status = await connection.send(request)
            if status >= 400:
                result.errors[str(status)] += 1
            else:
                result.latencies.append(time.perf_counter() - begun)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            result.errors[type(exc).__name__] += 1
        finally:
            idle.put_nowait(connection)

    sampler = asyncio.create_task(sample_rss())
    result.started = time.perf_counter()
    end = result.started + duration
    tasks: set[asyncio.Task[None]] = set()
    interval = 1 / rate if rate > 0 else 0.0
    next_at = result.started
    while time.perf_counter() < end:
        connection = await idle.get()
        if interval:
            now = time.perf_counter()
            if next_at > now:
                await asyncio.sleep(next_at - now)
            next_at += interval
        task = asyncio.create_task(one(connection))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    result.finished = time.perf_counter()
    stop.set()
    await sampler
    while not idle.empty():
        idle.get_nowait().close()
    return result, (peak[0] if pid else None)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="Ventanilla server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--channel", choices=["whatsapp", "telegram"], default="whatsapp")
    parser.add_argument("--twilio-token", default="bench-token")
    parser.add_argument("--public-url", default="https://bench.example.org")
    parser.add_argument("--telegram-secret", default="bench-secret")
    parser.add_argument("--rasa-url", help="Rasa's own server with the REST channel")
    parser.add_argument("--rate", type=float, default=0.0, help="offered messages/s; 0 = maximum")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--pid", type=int, help="server process to sample for peak RSS")
    parser.add_argument("--rasa-pid", type=int, help="Rasa side's process, for its CPU time")
    parser.add_argument("--seed", type=int, default=7, help="seed of the composed corpus")
    parser.add_argument(
        "--warmup",
        type=float,
        default=5.0,
        help="seconds of unmeasured load first (caches, connection pools)",
    )
    args = parser.parse_args()
    targets: list[tuple[str, Target]] = []
    if args.url:
        target: Target = (
            WhatsAppTarget(args.url, args.twilio_token, args.public_url)
            if args.channel == "whatsapp"
            else TelegramTarget(args.url, args.telegram_secret)
        )
        targets.append((f"ventanilla ({args.channel})", target))
    if args.rasa_url:
        targets.append(("rasa run (REST channel)", RasaRestTarget(args.rasa_url)))
    if not targets:
        parser.error("give --url and/or --rasa-url")
    rate = "max" if args.rate <= 0 else f"{args.rate:g}/s"
    print(
        f"offered rate {rate}, {args.duration:g}s after {args.warmup:g}s of warm-up,"
        f" concurrency {args.concurrency}"
    )
    for label, target in targets:
        ours = not isinstance(target, RasaRestTarget)
        pid = args.pid if ours else None  # RSS of our app only
        tree = args.pid if ours else args.rasa_pid
        corpus = texts(args.seed)  # the same messages for every target; none sent twice
        if args.warmup > 0:
            uvloop.run(run(target, 0.0, args.warmup, args.concurrency, None, corpus, 5_000_000))
        before = cache_counts(target.base) if ours else {}
        cpu_before = cpu_seconds(tree) if tree else (0.0, 0.0)
        machine_before = machine_times()
        # uvloop, as the server uses: the generator's own overhead stays small.
        result, peak = uvloop.run(
            run(target, args.rate, args.duration, args.concurrency, pid, corpus)
        )
        print(result.report(label, peak))
        print(machine_report(machine_before, machine_times()))
        if tree:
            print(cpu_report(cpu_before, cpu_seconds(tree), len(result.latencies)))
        if ours:
            print(cache_report(before, cache_counts(target.base), len(result.latencies)))


if __name__ == "__main__":
    main()
