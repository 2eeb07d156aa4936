"""A minimal SMTP server on 127.0.0.1 that records the messages it receives."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class FakeSMTP:
    messages: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def say(line: str) -> None:
            writer.write((line + "\r\n").encode())

        say("220 fake smtp ready")
        await writer.drain()
        while line := (await reader.readline()).decode().strip():
            verb = line.split(" ", 1)[0].upper()
            if verb in {"EHLO", "HELO"}:
                say("250 fake")
            elif verb == "MAIL":
                say("250 ok")
            elif verb == "RCPT":
                self.recipients.append(line.split(":", 1)[1].strip(" <>"))
                say("250 ok")
            elif verb == "DATA":
                say("354 go on")
                await writer.drain()
                lines = []
                while (data := (await reader.readline()).decode()) not in {".\r\n", ""}:
                    lines.append(data)
                self.messages.append("".join(lines))
                say("250 queued")
            elif verb == "QUIT":
                say("221 bye")
                await writer.drain()
                break
            else:
                say("250 ok")
            await writer.drain()
        writer.close()
