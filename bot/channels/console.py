"""Terminal channel for `ventanilla chat`: a line in, numbered text out."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot.channels.render import numbered_text
from kernel.types import EngineResult, IncomingMessage

CHANNEL = "console"


def to_incoming(line: str, user_id: str, sequence: int) -> IncomingMessage:
    return IncomingMessage(
        channel=CHANNEL, user_id=user_id, text=line, message_id=f"{user_id}:{sequence}"
    )


async def chat_loop(
    handle: Callable[[IncomingMessage], Awaitable[EngineResult]],
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> None:
    user_id = f"console-{uuid.uuid4().hex[:8]}"
    sequence = 0
    loop = asyncio.get_running_loop()
    while True:
        stdout.write("> ")
        stdout.flush()
        line = await loop.run_in_executor(None, stdin.readline)
        if not line:
            stdout.write("\n")
            return
        sequence += 1
        result = await handle(to_incoming(line.rstrip("\n"), user_id, sequence))
        for reply in result.replies:
            stdout.write(numbered_text(reply) + "\n\n")
        if result.handoff is not None:
            stdout.write(f"[handoff: {result.handoff.reason}, {result.handoff.urgency.value}]\n\n")
        stdout.flush()
