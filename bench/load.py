"""Load generator: signed Twilio webhooks (and secret-checked Telegram updates) to a running server.

Run by hand, never by the tests:

    .venv/bin/python -m bench.load --url http://127.0.0.1:8000 --twilio-token T --rate 120 \\
        --duration 30 --pid $(pgrep -f 'ventanilla run')
    .venv/bin/python -m bench.load --rasa-url http://127.0.0.1:5006 --rate 0 --duration 20

Offered rate 0 means "as fast as the connections allow". Prints sustained
messages/s, p50/p95/p99 latency, errors and the server's peak RSS (with children).
WhatsApp replies come back in the webhook response, so their latency is end to
end; Telegram's webhook only acknowledges, so its figure is the ack time.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from twilio.request_validator import RequestValidator

CORPUS = Path(__file__).with_name("corpus.jsonl")
WEIGHTS = {"question": 50, "menu_number": 20, "greeting": 10, "thanks": 10, "long": 10}


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


def corpus(seed: int) -> itertools.cycle[str]:
    items = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]
    rng = random.Random(seed)
    by_kind: dict[str, list[str]] = {}
    for item in items:
        by_kind.setdefault(item["kind"], []).append(item["text"])
    kinds = [k for k in WEIGHTS if k in by_kind]
    picks = [
        rng.choice(by_kind[rng.choices(kinds, [WEIGHTS[k] for k in kinds])[0]]) for _ in range(5000)
    ]
    return itertools.cycle(picks)


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


class Target:
    async def send(self, client: httpx.AsyncClient, n: int, text: str) -> httpx.Response:
        raise NotImplementedError


class WhatsAppTarget(Target):
    def __init__(self, url: str, token: str, public: str) -> None:
        self.url = url.rstrip("/") + "/webhooks/whatsapp"
        self.validator = RequestValidator(token)
        self.public = public.rstrip("/") + "/webhooks/whatsapp"

    async def send(self, client: httpx.AsyncClient, n: int, text: str) -> httpx.Response:
        params = {
            "From": f"whatsapp:+5037{n % 500:07d}",
            "Body": text,
            "MessageSid": f"SM{time.time_ns():020d}{n:012d}",
            "NumMedia": "0",
        }
        signature = self.validator.compute_signature(self.public, params)
        return await client.post(self.url, data=params, headers={"X-Twilio-Signature": signature})


class TelegramTarget(Target):
    def __init__(self, url: str, secret: str) -> None:
        self.url = url.rstrip("/") + "/webhooks/telegram"
        self.secret = secret

    async def send(self, client: httpx.AsyncClient, n: int, text: str) -> httpx.Response:
        chat = 10_000_000 + n % 500
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
        return await client.post(
            self.url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": self.secret}
        )


class RasaRestTarget(Target):
    """Rasa's own server (`rasa run` with the REST channel), for the side-by-side figure."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/") + "/webhooks/rest/webhook"

    async def send(self, client: httpx.AsyncClient, n: int, text: str) -> httpx.Response:
        return await client.post(self.url, json={"sender": f"user-{n % 500}", "message": text})


async def run(
    target: Target, rate: float, duration: float, concurrency: int, pid: int | None, seed: int = 7
) -> tuple[Result, float | None]:
    texts = corpus(seed)
    result = Result()
    peak = [0.0]
    stop = asyncio.Event()

    async def sample_rss() -> None:
        while pid and not stop.is_set():
            peak[0] = max(peak[0], rss_mb(pid))
            await asyncio.sleep(0.1)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        semaphore = asyncio.Semaphore(concurrency)
        counter = itertools.count()

        async def one() -> None:
            n = next(counter)
            begun = time.perf_counter()
            try:
                response = await target.send(client, n, next(texts))
                if response.status_code >= 400:
                    result.errors[str(response.status_code)] += 1
                else:
                    result.latencies.append(time.perf_counter() - begun)
            except httpx.HTTPError as exc:
                result.errors[type(exc).__name__] += 1
            finally:
                semaphore.release()

        sampler = asyncio.create_task(sample_rss())
        result.started = time.perf_counter()
        end = result.started + duration
        tasks: set[asyncio.Task[None]] = set()
        interval = 1 / rate if rate > 0 else 0.0
        next_at = result.started
        while time.perf_counter() < end:
            await semaphore.acquire()
            if interval:
                now = time.perf_counter()
                if next_at > now:
                    await asyncio.sleep(next_at - now)
                next_at += interval
            task = asyncio.create_task(one())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
        result.finished = time.perf_counter()
        stop.set()
        await sampler
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
    print(f"offered rate {rate}, {args.duration:g}s, concurrency {args.concurrency}")
    for label, target in targets:
        pid = None if isinstance(target, RasaRestTarget) else args.pid  # RSS of our app only
        result, peak = asyncio.run(run(target, args.rate, args.duration, args.concurrency, pid))
        print(result.report(label, peak))


if __name__ == "__main__":
    main()
