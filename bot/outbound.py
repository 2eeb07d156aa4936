"""Messages started by staff, sent through the person's own channel.

Each channel says whether the message went out and how; nothing is dropped
silently: a message that cannot be sent comes back with the reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from handlers.discreet import preview_line
from kernel.types import ContentStore, Deliver, Delivery, Reply, StateStore

# The neutral first line for a person in discreet mode ("" otherwise).
Preview = Callable[[str, str], Awaitable[str]]


class Outbound:
    def __init__(self, preview: Preview | None = None) -> None:
        """`preview` finds whether a person is in discreet mode: staff messages then start
        with the neutral line too, since they reach the same lock screen."""
        self._channels: dict[str, Deliver] = {}
        self._previewed: set[str] = set()
        self._preview = preview

    def register(self, channel: str, deliver: Deliver, notifies: bool = True) -> None:
        """`notifies`: the channel shows messages on a lock screen (not the web chat)."""
        self._channels[channel] = deliver
        if notifies:
            self._previewed.add(channel)

    async def _discreet(self, channel: str, address: str, replies: Sequence[Reply]) -> list[Reply]:
        if self._preview is None or channel not in self._previewed:
            return list(replies)
        line = await self._preview(channel, address)
        if not line:
            return list(replies)
        return [Reply(f"{line}\n\n{r.text}", r.buttons, r.content_key) for r in replies]

    async def send(self, channel: str, address: str, replies: Sequence[Reply]) -> Delivery:
        deliver = self._channels.get(channel)
        if deliver is None:
            return Delivery(
                False,
                "not_sent",
                f"the {channel} channel cannot receive messages started by staff",
            )
        try:
            return await deliver(address, await self._discreet(channel, address, replies))
        except Exception as exc:
            return Delivery(False, "not_sent", f"sending failed ({type(exc).__name__})")


async def staff_preview(
    states: StateStore, content: ContentStore, default_language: str, channel: str, address: str
) -> str:
    """The neutral line for a staff message to this person, "" when not in discreet mode."""
    state = await states.load(channel, address)
    return preview_line(content, state.language or default_language, state)
