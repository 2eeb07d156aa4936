"""Which language a `change_language` request asks for."""

from __future__ import annotations

from kernel.normalize import normalize_text, words

_ASKS_FOR = {
    "en": ("ingles", "english", "ingl", "inglish", "englis"),
    "es": ("espanol", "spanish", "castellano", "espaniol", "espanish"),
}


def requested_language(text: str, current: str, supported: tuple[str, ...]) -> str:
    """The language named in the text; with none named, the other supported one."""
    tokens = words(normalize_text(text))
    for language, stems in _ASKS_FOR.items():
        if language in supported and any(t.startswith(stems) for t in tokens):
            return language
    others = [lang for lang in supported if lang != current]
    return others[0] if others else current
