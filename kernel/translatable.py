"""Text written in one layer and shown, translated, in another.

The NLU trainer and the content rules speak English to the terminal, and the same
words reach the staff pages, which speak the staff member's language. A `Message`
is that English text (it is a `str`, so a terminal, a log line or a test sees
nothing new) that also keeps its template and fields, so the staff pages can look
the template up in their gettext catalog and fill the fields in again. `N_` marks
a template for extraction (`pybabel extract` knows it by default).
"""

from __future__ import annotations

from collections.abc import Mapping

Field = str | int | float


def N_(message: str) -> str:
    """Mark a string for the catalogs; it is translated where it is shown."""
    return message


class Message(str):
    """English text with the template and fields it was made from."""

    template: str
    fields: dict[str, Field]

    def __new__(cls, template: str, **fields: Field) -> Message:
        made = super().__new__(cls, template.format(**fields))
        made.template = template
        made.fields = dict(fields)
        return made

    @classmethod
    def of(cls, template: str, fields: Mapping[str, Field]) -> Message:
        return cls(template, **fields)
