"""Rules for what a person may be shown: no internal notes, fits a phone, dated sources.

They live apart from the loader so that `ventanilla content check` and the staff
publishing gate apply exactly the same rules to a text before anyone reads it.
"""

from __future__ import annotations

import re

from kernel.translatable import N_, Message
from kernel.types import ContentEntry

# A phone screen. On a 6-inch phone at the default font size, WhatsApp and
# Telegram show about 16 lines of 40-45 characters in one message bubble,
# i.e. 650-720 characters. A longer answer makes a person scroll before the
# last line (often the next step), so the limit is 700 characters and 16
# lines; details belong in a follow-up option.
SCREEN_CHARS = 700
SCREEN_LINES = 16

# Internal notes and placeholders that must never reach a person. Upper-case
# markers are matched case-sensitively ("todo" is an ordinary Spanish word).
_NOTE_MARKERS = re.compile(r"\b(TODO|FIXME|XXX|TBD|TBC)\b")
_NOTE_PHRASES = re.compile(
    r"falta confirmar|por confirmar|pendiente de confirmar|sin confirmar:"
    r"|to be confirmed|needs? confirming|confirm this|facts\.md|lorem ipsum",
    re.IGNORECASE,
)
# Brackets and braces are template or editing leftovers ("[nombre]", "{phone}").
_PLACEHOLDER_CHARS = re.compile(r"[\[\]{}<>]")

# A source line must say when it was published (a year) or admit it is undated.
_YEAR = re.compile(r"\b(19|20)\d{2}\b")
_UNDATED = re.compile(r"\bundated\b", re.IGNORECASE)

# Entries people never read as answers (kind) need no place to confirm.
_USER_FACING_KINDS = frozenset({"intent", "topic"})
# Engine messages (kind system) may carry named fields the code fills in ("{topics}");
# answers (intent, topic) are shown exactly as written, so there a brace is a leftover.
_CODE_FIELD = re.compile(r"\{[a-z_]+\}")


def internal_notes(text: str) -> list[str]:
    """The internal notes or placeholders found in a user-facing text."""
    found = [m.group(0) for m in _NOTE_MARKERS.finditer(text)]
    found += [m.group(0) for m in _NOTE_PHRASES.finditer(text)]
    found += [m.group(0) for m in _PLACEHOLDER_CHARS.finditer(text)]
    return list(dict.fromkeys(found))


# What text_problems says: English for `ventanilla content check`, translated on the
# staff pages' publishing gate (kernel.translatable).
_NOTE_IN = {
    "text": N_("text contains an internal note or placeholder: {notes}"),
    "title": N_("title contains an internal note or placeholder: {notes}"),
}
_TOO_LONG = N_(
    "text has {chars} characters (max {max}, one phone screen);"
    " shorten it and move details to a follow-up option"
)
_TOO_MANY_LINES = N_("text has {lines} lines (max {max}, one phone screen)")
_NO_CONFIRM_AT = N_("needs_review is set but confirm_at (where to confirm) is empty")
_NOTE_IN_CONFIRM_AT = N_("confirm_at contains an internal note or placeholder")


def text_problems(entry: ContentEntry) -> list[str]:
    """Why this entry's text or title cannot be shown to a person as it is."""
    problems: list[str] = []
    for field_name, value in (("text", entry.text), ("title", entry.title)):
        if entry.kind == "system":
            value = _CODE_FIELD.sub("", value)
        notes = internal_notes(value)
        if notes:
            problems.append(Message(_NOTE_IN[field_name], notes=", ".join(notes)))
    if len(entry.text) > SCREEN_CHARS:
        problems.append(Message(_TOO_LONG, chars=len(entry.text), max=SCREEN_CHARS))
    lines = len(entry.text.splitlines())
    if lines > SCREEN_LINES:
        problems.append(Message(_TOO_MANY_LINES, lines=lines, max=SCREEN_LINES))
    if entry.needs_review and entry.kind in _USER_FACING_KINDS:
        if not entry.confirm_at:
            problems.append(Message(_NO_CONFIRM_AT))
        elif internal_notes(entry.confirm_at):
            problems.append(Message(_NOTE_IN_CONFIRM_AT))
    return problems


def source_problems(entry: ContentEntry) -> list[str]:
    """Every source line is dated or says 'undated'; at least one carries a date."""
    if not entry.sources:
        return ["source is missing"]
    problems = [
        f"source line {number} has no date (a year) and does not say 'undated'"
        for number, line in enumerate(entry.sources, start=1)
        if not _YEAR.search(line) and not _UNDATED.search(line)
    ]
    if not any(_YEAR.search(line) for line in entry.sources):
        problems.append("no source line carries a date")
    return problems
