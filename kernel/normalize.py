"""One text normalisation for training, parsing and phrase matching.

Most people type without accents and with stretched letters ("holaaa"); the
model and the danger lists see the same simplified form, so "dónde" and
"donde" are one word to them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_REPEATS = re.compile(r"(\w)\1{2,}")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def strip_accents(text: str) -> str:
    if text.isascii():
        return text  # nothing to decompose; most messages take this path
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # ñ survives NFKD as n + tilde; keep the distinction readable as plain "n".
    return kept


# One message is normalised by several readers (danger lists, commands, vocabulary,
# the parse cache); a profile under load had this at 6% of the event loop's time.
@lru_cache(maxsize=4096)
def normalize_text(text: str) -> str:
    lowered = strip_accents(text).lower()
    squeezed = _REPEATS.sub(r"\1\1", lowered)
    return _SPACES.sub(" ", squeezed).strip()


def words(text: str) -> list[str]:
    """Alphabetic words of an already normalised text."""
    return _WORD.findall(text)
