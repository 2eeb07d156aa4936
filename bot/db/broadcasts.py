"""Broadcast jobs as durable rows: the job, one row per recipient, and the worker lease.

Progress lives in the per-recipient rows, committed one message at a time, so a
worker that dies loses at most the message it was sending, and the next worker
carries on from the rows instead of starting again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.models import (
    Broadcast,
    BroadcastDelivery,
    Subscriber,
    SubscriptionTopic,
    WorkerLease,
    utcnow,
)

_JOBS = cast(Table, Broadcast.__table__)
_ROWS = cast(Table, BroadcastDelivery.__table__)
_SUBSCRIBERS = cast(Table, Subscriber.__table__)
_TOPICS = cast(Table, SubscriptionTopic.__table__)
_LEASES = cast(Table, WorkerLease.__table__)
SEND_LEASE = "broadcast_sender"
FINAL = ("sent", "failed", "skipped")


class ApprovalError(Exception):
    """The approval is refused; the message says why, for the staff page."""


@dataclass(frozen=True)
class Job:
    id: int
    topic: str
    text_es: str
    text_en: str
    status: str
    author: str
    approver: str | None
    send_at: dt.datetime | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    def text(self, language: str) -> str:
        return self.text_en if language == "en" else self.text_es


@dataclass(frozen=True)
class Progress:
    pending: int
    sent: int
    failed: int
    skipped: int
    by_mode: dict[str, int]

    @property
    def left(self) -> int:
        return self.pending

    @property
    def total(self) -> int:
        return self.pending + self.sent + self.failed + self.skipped


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    subscriber_id: int


def _job(row: Any) -> Job:
    return Job(
        id=int(row.id),
        topic=str(row.topic),
        text_es=str(row.text_es),
        text_en=str(row.text_en),
        status=str(row.status),
        author=str(row.author),
        approver=row.approver,
        send_at=row.send_at,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


class BroadcastJobs:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    # --- staff side -------------------------------------------------------------------

    async def create(
        self, topic: str, text_es: str, text_en: str, author: str, send_at: dt.datetime | None
    ) -> int:
        async with self._engine.begin() as connection:
            created = await connection.execute(
                insert(_JOBS).returning(_JOBS.c.id),
                {
                    "topic": topic,
                    "text_es": text_es,
                    "text_en": text_en,
                    "status": "draft",
                    "author": author,
                    "send_at": send_at,
                    "created_at": utcnow(),
                },
            )
            return int(created.scalar_one())

    async def get(self, job_id: int) -> Job | None:
        async with self._engine.connect() as connection:
            row = (await connection.execute(select(_JOBS).where(_JOBS.c.id == job_id))).first()
            return None if row is None else _job(row)

    async def recent(self, limit: int = 50) -> list[Job]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(select(_JOBS).order_by(_JOBS.c.id.desc()).limit(limit))
            return [_job(row) for row in rows]

    async def approve(self, job_id: int, approver: str, max_per_week: int) -> Job:
        """A second person must approve; the weekly ceiling promised to subscribers holds."""
        now = utcnow()
        async with self._engine.begin() as connection:
            row = (await connection.execute(select(_JOBS).where(_JOBS.c.id == job_id))).first()
            if row is None:
                raise ApprovalError("no such broadcast")
            job = _job(row)
            if job.status != "draft":
                raise ApprovalError(f"only a draft can be approved (this one is {job.status})")
            if job.author == approver:
                raise ApprovalError("the author cannot approve their own broadcast")
            week = now - dt.timedelta(days=7)
            recent = (
                await connection.execute(
                    select(func.count())
                    .select_from(_JOBS)
                    .where(
                        _JOBS.c.status.in_(("approved", "sending", "done")),
                        func.coalesce(_JOBS.c.started_at, _JOBS.c.send_at, now) > week,
                    )
                )
            ).scalar_one()
            if int(recent) >= max_per_week:
                raise ApprovalError(
                    f"subscribers were promised at most {max_per_week} messages a week"
                )
            await connection.execute(
                update(_JOBS)
                .where(_JOBS.c.id == job_id, _JOBS.c.status == "draft")
                .values(status="approved", approver=approver)
            )
        approved = await self.get(job_id)
        assert approved is not None
        return approved

    async def cancel(self, job_id: int) -> bool:
        """Stops a job that has not finished; recipients not yet reached get nothing."""
        async with self._engine.begin() as connection:
            changed = await connection.execute(
                update(_JOBS)
                .where(_JOBS.c.id == job_id, _JOBS.c.status.in_(("draft", "approved", "sending")))
                .values(status="cancelled", finished_at=utcnow())
            )
            await connection.execute(
                update(_ROWS)
                .where(_ROWS.c.broadcast_id == job_id, _ROWS.c.status.in_(("pending", "claimed")))
                .values(status="skipped", error="cancelled", done_at=utcnow())
            )
            return bool(getattr(changed, "rowcount", 0))

    async def progress(self, job_id: int) -> Progress:
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(_ROWS.c.status, _ROWS.c.mode, func.count())
                .where(_ROWS.c.broadcast_id == job_id)
                .group_by(_ROWS.c.status, _ROWS.c.mode)
            )
            status: dict[str, int] = {}
            modes: dict[str, int] = {}
            for state, mode, count in rows.all():
                status[str(state)] = status.get(str(state), 0) + int(count)
                if state == "sent" and mode:
                    modes[str(mode)] = modes.get(str(mode), 0) + int(count)
        return Progress(
            pending=status.get("pending", 0) + status.get("claimed", 0),
            sent=status.get("sent", 0),
            failed=status.get("failed", 0),
            skipped=status.get("skipped", 0),
            by_mode=modes,
        )

    # --- worker side ------------------------------------------------------------------

    async def acquire_lease(self, holder: str, seconds: float, name: str = SEND_LEASE) -> bool:
        """Take or renew the lease; True while this holder has it. Atomic on both databases."""
        now = utcnow()
        until = now + dt.timedelta(seconds=seconds)
        async with self._engine.begin() as connection:
            taken = await connection.execute(
                update(_LEASES)
                .where(
                    _LEASES.c.name == name,
                    or_(_LEASES.c.holder == holder, _LEASES.c.expires_at < now),
                )
                .values(holder=holder, expires_at=until)
            )
            if getattr(taken, "rowcount", 0):
                return True
        try:
            async with self._engine.begin() as connection:
                await connection.execute(
                    insert(_LEASES), {"name": name, "holder": holder, "expires_at": until}
                )
            return True
        except IntegrityError:
            return False  # another worker holds it

    async def release_lease(self, holder: str, name: str = SEND_LEASE) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(_LEASES)
                .where(_LEASES.c.name == name, _LEASES.c.holder == holder)
                .values(expires_at=dt.datetime(1970, 1, 1))
            )

    async def due(self, now: dt.datetime | None = None) -> list[Job]:
        """Jobs to run now: sending ones (resumed) first, then approved ones whose time came."""
        now = now or utcnow()
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(_JOBS)
                .where(
                    or_(
                        _JOBS.c.status == "sending",
                        and_(
                            _JOBS.c.status == "approved",
                            or_(_JOBS.c.send_at.is_(None), _JOBS.c.send_at <= now),
                        ),
                    )
                )
                .order_by(_JOBS.c.status.desc(), _JOBS.c.id)
            )
            return [_job(row) for row in rows]

    async def start(self, job_id: int) -> None:
        """One row per current subscriber of the topic, written once with the status change."""
        async with self._engine.begin() as connection:
            started = await connection.execute(
                update(_JOBS)
                .where(_JOBS.c.id == job_id, _JOBS.c.status == "approved")
                .values(status="sending", started_at=utcnow())
            )
            if not getattr(started, "rowcount", 0):
                return  # already started (resumed) or cancelled
            topic = (
                await connection.execute(select(_JOBS.c.topic).where(_JOBS.c.id == job_id))
            ).scalar_one()
            recipients = (
                await connection.execute(
                    select(_SUBSCRIBERS.c.id, _SUBSCRIBERS.c.channel)
                    .join(_TOPICS, _TOPICS.c.subscriber_id == _SUBSCRIBERS.c.id)
                    .where(_TOPICS.c.topic == topic)
                    .order_by(_SUBSCRIBERS.c.id)
                )
            ).all()
            if recipients:
                await connection.execute(
                    insert(_ROWS),
                    [
                        {
                            "broadcast_id": job_id,
                            "subscriber_id": int(r.id),
                            "channel": str(r.channel),
                            "status": "pending",
                            "attempts": 0,
                        }
                        for r in recipients
                    ],
                )

    async def release_claims(self, job_id: int) -> None:
        """Rows claimed by a worker that died go back to the queue (the lease is ours now)."""
        async with self._engine.begin() as connection:
            await connection.execute(
                update(_ROWS)
                .where(_ROWS.c.broadcast_id == job_id, _ROWS.c.status == "claimed")
                .values(status="pending")
            )

    async def claim(self, job_id: int, channel: str, size: int) -> list[Claim]:
        async with self._engine.begin() as connection:
            status = (
                await connection.execute(select(_JOBS.c.status).where(_JOBS.c.id == job_id))
            ).scalar_one()
            if status != "sending":
                return []  # cancelled while sending
            rows = (
                await connection.execute(
                    select(_ROWS.c.id, _ROWS.c.subscriber_id)
                    .where(
                        _ROWS.c.broadcast_id == job_id,
                        _ROWS.c.channel == channel,
                        _ROWS.c.status == "pending",
                    )
                    .order_by(_ROWS.c.id)
                    .limit(size)
                )
            ).all()
            if rows:
                await connection.execute(
                    update(_ROWS)
                    .where(_ROWS.c.id.in_([int(r.id) for r in rows]))
                    .values(status="claimed", attempts=_ROWS.c.attempts + 1)
                )
            return [Claim(int(r.id), int(r.subscriber_id)) for r in rows]

    async def finish(
        self, delivery_id: int, status: str, mode: str | None = None, error: str | None = None
    ) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(_ROWS)
                .where(_ROWS.c.id == delivery_id, _ROWS.c.status == "claimed")
                .values(status=status, mode=mode, error=error and error[:64], done_at=utcnow())
            )

    async def channels_left(self, job_id: int) -> list[str]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(_ROWS.c.channel)
                .where(_ROWS.c.broadcast_id == job_id, _ROWS.c.status.in_(("pending", "claimed")))
                .distinct()
            )
            return sorted(str(c) for c in rows.scalars())

    async def left_by_channel(self, job_id: int) -> dict[str, int]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(_ROWS.c.channel, func.count())
                .where(_ROWS.c.broadcast_id == job_id, _ROWS.c.status.in_(("pending", "claimed")))
                .group_by(_ROWS.c.channel)
            )
            return {str(c): int(n) for c, n in rows.all()}

    async def complete(self, job_id: int) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(_JOBS)
                .where(_JOBS.c.id == job_id, _JOBS.c.status == "sending")
                .values(status="done", finished_at=utcnow())
            )
