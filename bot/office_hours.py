"""Office hours of the team, as configured ("mon-fri 08:00-16:00"), in El Salvador's time zone.

Empty means unknown: the bot then makes no claim about hours at all.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_PATTERN = re.compile(r"^\s*(\w{3})\s*-\s*(\w{3})\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class OfficeHours:
    first_day: int
    last_day: int
    opens: dt.time
    closes: dt.time
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, zone: str = "America/El_Salvador") -> OfficeHours | None:
        if not text.strip():
            return None
        match = _PATTERN.match(text.lower())
        if not match or match[1] not in DAYS or match[2] not in DAYS:
            raise ValueError(f"office hours must look like 'mon-fri 08:00-16:00', not {text!r}")
        return cls(
            DAYS.index(match[1]),
            DAYS.index(match[2]),
            dt.time(int(match[3]), int(match[4])),
            dt.time(int(match[5]), int(match[6])),
            ZoneInfo(zone),
        )

    def is_open(self, now: dt.datetime | None = None) -> bool:
        local = (now or dt.datetime.now(dt.UTC)).astimezone(self.zone)
        return self.first_day <= local.weekday() <= self.last_day and (
            self.opens <= local.time() < self.closes
        )
