"""SMS text: the GSM 03.38 alphabet where possible, segment counting, cutting to a budget.

A message in the GSM-7 alphabet holds 160 characters (153 per part when it is
split), one outside it travels as UCS-2 and holds only 70 (67). Spanish needs
á, í, ó, ú, which GSM-7 lacks (é, ñ, ü, ¿ and ¡ are in it), so those few letters
are written without their accent: the text stays readable and costs about half.
Characters with no GSM-7 equivalent (an emoji) are kept, and that message is
sent as UCS-2; the segment count says so honestly.
"""

from __future__ import annotations

import codecs
import importlib
import math
import unicodedata
from collections.abc import Callable

CODEC = "gsm03.38"
GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67
# Typography that has no GSM-7 character but a plain one that reads the same.
PLAIN_PUNCTUATION = {  # escapes: several of these look like ASCII
    "\u00ab": '"',  # «
    "\u00bb": '"',  # »
    "\u201c": '"',  # left double quote
    "\u201d": '"',  # right double quote
    "\u201e": '"',  # low double quote
    "\u2018": "'",  # left single quote
    "\u2019": "'",  # right single quote
    "\u00b4": "'",  # acute accent
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2026": "...",  # ellipsis
    "\u2022": "-",  # bullet
    "\u00b7": ".",  # middle dot
    "\u00a0": " ",  # no-break space
    "\u2009": " ",  # thin space
}


importlib.import_module("gsm0338")  # registers the codec; the package has no typed API
GSM7 = codecs.lookup(CODEC)


def septets(text: str) -> int | None:
    """Septets `text` takes in GSM-7 (extension characters take two), None if it can't be."""
    try:
        encoded, _ = GSM7.encode(text)
    except UnicodeEncodeError:
        return None
    return len(encoded)


def is_gsm7(text: str) -> bool:
    return septets(text) is not None


def _plain(char: str) -> str:
    if is_gsm7(char):
        return char
    if char in PLAIN_PUNCTUATION:
        return PLAIN_PUNCTUATION[char]
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return base if base and is_gsm7(base) else char


def to_gsm7(text: str) -> str:
    """The text in the GSM-7 alphabet where a plain equivalent exists (á -> a, « -> ")."""
    if is_gsm7(text):
        return text
    return "".join(_plain(char) for char in text)


def segments(text: str) -> int:
    """How many SMS segments the text costs (1 for an empty text)."""
    count = septets(text)
    if count is not None:
        return 1 if count <= GSM_SINGLE else math.ceil(count / GSM_PART)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= UCS2_SINGLE else math.ceil(units / UCS2_PART)


Wrap = Callable[[str, bool], str]


def fit(text: str, max_segments: int, wrap: Wrap) -> tuple[str, str]:
    """The message to send now and the rest of `text` for later.

    `wrap(body, more)` builds the message around a body (a neutral first line,
    the "reply MORE" hint when `more`); the body is cut at a paragraph, line or
    word boundary so that the wrapped message costs at most `max_segments`.
    """
    whole = wrap(text, False)
    if segments(whole) <= max_segments:
        return whole, ""
    low, high = 0, len(text)
    while low < high:  # the longest prefix that still fits, by bisection
        middle = (low + high + 1) // 2
        if segments(wrap(text[:middle].rstrip(), True)) <= max_segments:
            low = middle
        else:
            high = middle - 1
    limit = max(low, 1)
    window = text[:limit]
    at = window.rfind("\n\n")
    if at < limit // 2:
        at = window.rfind("\n")
    if at < limit // 2:
        at = window.rfind(" ")
    if at <= 0:
        at = limit
    return wrap(text[:at].rstrip(), True), text[at:].strip()
