"""Messages started by staff, sent through the person's own channel.

Each channel says whether the message went out and how; nothing is dropped
silently: a message that cannot be sent comes back with the reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.core import Reply


@dataclass(frozen=True)
class Delivery:
    sent: bool
    mode: str  # free_text | template | telegram | not_sent
    reason: str = ""


Deliver = Callable[[str, Sequence[Reply]], Awaitable[Delivery]]


class Outbound:
    def __init__(self) -> None:
        self._channels: dict[str, Deliver] = {}

    def register(self, channel: str, deliver: Deliver) -> None:
        self._channels[channel] = deliver

    async def send(self, channel: str, address: str, replies: Sequence[Reply]) -> Delivery:
        deliver = self._channels.get(channel)
        if deliver is None:
            return Delivery(
                False,
                "not_sent",
                f"the {channel} channel cannot receive messages started by staff",
            )
        try:
            return await deliver(address, replies)
        except Exception as exc:
            return Delivery(False, "not_sent", f"sending failed ({type(exc).__name__})")
