"""A retraining's progress lines, kept as templates and fields so each staff member reads
them in their own language, live and after the job is stored.

The job runs in the background, outside any request, so it cannot know who will read
its progress: it records `Message`s (English text that keeps its template), and the
page translates them when it shows them. Stored jobs keep the same in JSON; jobs
stored before that kept plain text, which is shown as it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from bot.admin.i18n import translate
from kernel.translatable import N_, Message

KEEP = 40  # lines a job keeps: the start, the last steps and the verdict fit

QUEUED = N_("queued")
TRAINING = N_("training on {train} examples, {held} held out")
STARTING = N_("starting the new model to evaluate it")
EVALUATING = N_("evaluating on {held} held-out and {tests} test questions")
DEVELOPMENT = N_("development: also evaluating on {count} dev-set messages")
SWAPPED = N_("the new model is not worse: it is now serving")
KEPT_OLD = N_("the new model is worse: the old one keeps serving")
FAILED = N_("failed: {error}")  # {error}: the exception, as the code raised it


@dataclass
class Progress:
    lines: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines = [*self.lines[-KEEP:], line]

    def shown(self) -> list[str]:
        return [translate(line) for line in self.lines]

    def dumps(self) -> str:
        """For the job's row: templates and fields, so a later reader gets their language."""
        return json.dumps(
            [
                [line.template, line.fields] if isinstance(line, Message) else line
                for line in self.lines
            ],
            ensure_ascii=False,
        )


def stored(text: str | None) -> list[str]:
    """A stored job's progress in the current locale (old plain-text rows as they are)."""
    if not text:
        return []
    try:
        lines = json.loads(text)
    except ValueError:
        return text.splitlines()
    if not isinstance(lines, list):
        return text.splitlines()
    return [translate(_message(line)) for line in lines]


def _message(line: object) -> str:
    if isinstance(line, list) and len(line) == 2 and isinstance(line[1], dict):
        template, fields = line
        try:
            return Message.of(str(template), fields)
        except (KeyError, IndexError, ValueError):
            return str(template)
    return str(line)
