"""The send worker: holds the lease, starts due jobs, and works through their recipients.

Every web worker runs one of these; the lease in the database lets exactly one
of them send at a time, and a worker that dies loses the lease when it stops
renewing it. Each channel is a lane of its own (Telegram and Twilio have
separate limits), and each lane sends one message at a time and records it
before the next, so a crash can repeat at most the one message in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
from collections.abc import Mapping

from bot.broadcast.config import BroadcastConfig
from bot.broadcast.senders import Result, Sender
from bot.db.broadcasts import BroadcastJobs, Job
from bot.db.models import utcnow
from bot.db.subscriptions import Subscriptions
from kernel.types import ContentStore

log = logging.getLogger(__name__)


def announcement(job: Job, language: str, content: ContentStore) -> str:
    """The staff text in the person's language, ending with how to stop."""
    footer = content.get(language, "alerts_footer").text.strip()
    return f"{job.text(language).strip()}\n\n{footer}"


class BroadcastRunner:
    def __init__(
        self,
        jobs: BroadcastJobs,
        subscriptions: Subscriptions,
        senders: Mapping[str, Sender],
        content: ContentStore,
        config: BroadcastConfig,
        holder: str | None = None,
    ) -> None:
        self._jobs = jobs
        self._subscriptions = subscriptions
        self._senders = senders
        self._content = content
        self._config = config
        self.holder = holder or f"worker-{secrets.token_hex(6)}"
        self._lost = asyncio.Event()

    async def _keep_lease(self) -> None:
        while True:
            await asyncio.sleep(self._config.lease_seconds / 3)
            try:
                held = await self._jobs.acquire_lease(self.holder, self._config.lease_seconds)
            except Exception:
                log.exception("could not renew the broadcast lease")
                held = False
            if not held:
                self._lost.set()
                return

    async def run_once(self) -> int:
        """Run every due job to the end if this worker gets the lease; returns jobs run."""
        if not await self._jobs.acquire_lease(self.holder, self._config.lease_seconds):
            return 0
        self._lost.clear()
        keeper = asyncio.create_task(self._keep_lease())
        ran = 0
        try:
            for job in await self._jobs.due():
                if self._lost.is_set():
                    break
                await self._run(job)
                ran += 1
            await self._expire_inactive()
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        return ran

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("broadcast worker failed; trying again")
            await asyncio.sleep(self._config.poll_seconds)

    async def _run(self, job: Job) -> None:
        await self._jobs.start(job.id)
        await self._jobs.release_claims(job.id)
        channels = await self._jobs.channels_left(job.id)
        log.info("broadcast %d: sending on %s", job.id, ", ".join(channels) or "nothing")
        await asyncio.gather(*(self._lane(job, channel) for channel in channels))
        if not self._lost.is_set() and not await self._jobs.channels_left(job.id):
            await self._jobs.complete(job.id)

    async def _lane(self, job: Job, channel: str) -> None:
        sender = self._senders.get(channel)
        while not self._lost.is_set():
            claims = await self._jobs.claim(job.id, channel, self._config.batch_size)
            if not claims:
                return
            people = await self._subscriptions.recipients([c.subscriber_id for c in claims])
            for claim in claims:
                if self._lost.is_set():
                    return  # the rows stay claimed; the next lease holder releases them
                recipient = people.get(claim.subscriber_id)
                if recipient is None:
                    await self._jobs.finish(claim.delivery_id, "skipped", error="unsubscribed")
                    continue
                if sender is None:
                    await self._jobs.finish(claim.delivery_id, "failed", error="channel off")
                    continue
                outcome = await sender.send(
                    recipient, announcement(job, recipient.language, self._content)
                )
                if outcome.result is Result.SENT:
                    await self._jobs.finish(claim.delivery_id, "sent", outcome.mode)
                    continue
                await self._jobs.finish(claim.delivery_id, "failed", error=outcome.error)
                if outcome.result is Result.GONE:
                    await self._subscriptions.remove_ids([recipient.subscriber_id])

    async def _expire_inactive(self, now: dt.datetime | None = None) -> int:
        """After `inactive_days` without a message: a last notice, then the address goes."""
        cutoff = (now or utcnow()) - dt.timedelta(days=self._config.inactive_days)
        expired = await self._subscriptions.inactive(cutoff)
        for recipient in expired:
            sender = self._senders.get(recipient.channel)
            if sender is not None:
                text = self._content.get(recipient.language, "alerts_expired").text.replace(
                    "{inactive_days}", str(self._config.inactive_days)
                )
                await sender.send(recipient, text.strip())
            await self._subscriptions.remove_ids([recipient.subscriber_id])
        return len(expired)
