"""The browser's language (Accept-Language, RFC 9110) among the languages we speak.

Shared by the staff pages (before login) and the web chat page (its greeting)."""

from __future__ import annotations

from collections.abc import Sequence

from babel.core import negotiate_locale


def parse_accept_language(header: str) -> list[str]:
    """Language tags in the order the browser prefers them (q-values, then position)."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _sep, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            weighted.append((-quality, position, tag.replace("-", "_")))
    return [tag for _q, _p, tag in sorted(weighted)]


def negotiate(header: str, available: Sequence[str], default: str) -> str:
    """The best of `available` for a browser; `default` when nothing fits."""
    # Lower case: Babel hands back the browser's own spelling ("EN" for "EN-gb").
    preferred = [tag.lower() for tag in parse_accept_language(header)]
    found = negotiate_locale(preferred, list(available), sep="_")
    return found if found is not None and found in available else default
