"""Rate limits against floods: one place that says "not now, retry in N seconds".

Staff attention is the scarcest resource the service has; a script that opens
tickets or fills the web chat takes it from people in real danger. The
counting is done by the maintained `limits` library (moving windows, in
memory); each uvicorn worker counts on its own, so with N workers a limit is
at most N times as generous.

Keys are hashed before they reach the limiter: chat ids and addresses are not
kept in plain text, not even in memory for an hour.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from bot.metrics import Metrics
from kernel.types import IncomingMessage

# name -> default; config.yml `limits:` (or VENTANILLA_LIMITS_<NAME>) overrides.
DEFAULT_LIMITS: dict[str, str] = {
    "web_per_identity": "20/minute",  # messages one web chat visitor may send
    "web_per_ip": "60/minute",  # messages from one address, all visitors together
    "web_new_identity_per_ip": "20/hour",  # new web chat identities one address may obtain
    "web_updates_per_identity": "60/minute",  # polls for staff replies (the page asks every 4 s)
    "handoff_per_identity": "3/hour",  # tickets one person may open, on any channel
    "login_per_ip": "10/minute",  # failed staff logins from one address
}
METRIC = "ventanilla_rate_limited_total"


def _key(value: str) -> str:
    return hashlib.blake2b(value.encode("utf-8", "replace"), digest_size=16).hexdigest()


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds, for the Retry-After header


class RateLimits:
    def __init__(self, limits: Mapping[str, str] | None = None, metrics: Metrics | None = None):
        merged = {**DEFAULT_LIMITS, **{k: str(v) for k, v in (limits or {}).items()}}
        self._items: dict[str, RateLimitItem] = {}
        for name, text in merged.items():
            try:
                self._items[name] = parse(text)
            except ValueError as exc:
                raise ValueError(f"limits.{name}: {text!r} is not a rate like 20/minute") from exc
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self.metrics = metrics or Metrics()
        self.metrics.describe(METRIC, "Requests refused by a rate limit, by limit")

    @classmethod
    def from_settings(cls, raw: Mapping[str, Any], metrics: Metrics | None = None) -> RateLimits:
        return cls({k: str(v) for k, v in raw.items() if k in DEFAULT_LIMITS}, metrics)

    async def hit(self, name: str, key: str) -> Verdict:
        """Count one event; refused (and counted in metrics) once the window is full."""
        item = self._items[name]
        hashed = _key(key)
        if await self._limiter.hit(item, name, hashed):
            return Verdict(True)
        self.metrics.inc(METRIC, limit=name)
        stats = await self._limiter.get_window_stats(item, name, hashed)
        return Verdict(False, max(1, math.ceil(stats.reset_time - time.time())))

    async def peek(self, name: str, key: str) -> Verdict:
        """Whether the next event would be allowed, without counting it."""
        item = self._items[name]
        hashed = _key(key)
        if await self._limiter.test(item, name, hashed):
            return Verdict(True)
        self.metrics.inc(METRIC, limit=name)
        stats = await self._limiter.get_window_stats(item, name, hashed)
        return Verdict(False, max(1, math.ceil(stats.reset_time - time.time())))

    async def clear(self, name: str, key: str) -> None:
        await self._limiter.clear(self._items[name], name, _key(key))


def handoff_cooldown(limits: RateLimits) -> Callable[[IncomingMessage], Awaitable[bool]]:
    """The dispatcher's handoff gate: a person (any channel) opens at most
    `handoff_per_identity` new tickets per window; a button payload repeated by a
    script cannot open them in bulk."""

    async def gate(message: IncomingMessage) -> bool:
        key = f"{message.channel}\x00{message.user_id}"
        return (await limits.hit("handoff_per_identity", key)).allowed

    return gate
