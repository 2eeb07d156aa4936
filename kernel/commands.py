"""Exact commands recognised before the NLU; the word lists come from `nlu/commands.yml`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kernel.normalize import normalize_text, words


def _clean(text: str) -> str:
    return normalize_text(text).strip(" .!¡?¿")


@dataclass(frozen=True)
class Commands:
    delete_data: frozenset[str]
    confirm_yes: frozenset[str]
    language_names: dict[str, str]
    opt_out: frozenset[str]
    opt_in: frozenset[str]
    child_alone: frozenset[str]
    back_to_menu: frozenset[str]
    discreet_on: frozenset[str] = frozenset()
    discreet_off: frozenset[str] = frozenset()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Commands:
        return cls(
            delete_data=frozenset(_clean(str(p)) for p in data["delete_data"]),
            confirm_yes=frozenset(_clean(str(p)) for p in data["confirm_yes"]),
            language_names={str(k): str(v) for k, v in data["language_names"].items()},
            opt_out=frozenset(_clean(str(p)) for p in data["opt_out"]),
            opt_in=frozenset(_clean(str(p)) for p in data["opt_in"]),
            child_alone=frozenset(_clean(str(p)) for p in data["child_alone"]),
            back_to_menu=frozenset(_clean(str(p)) for p in data["back_to_menu"]),
            discreet_on=frozenset(_clean(str(p)) for p in data.get("discreet_on", [])),
            discreet_off=frozenset(_clean(str(p)) for p in data.get("discreet_off", [])),
        )

    def asks_to_delete(self, text: str) -> bool:
        return _clean(text) in self.delete_data

    def opts_out(self, text: str) -> bool:
        return _clean(text) in self.opt_out

    def opts_in(self, text: str) -> bool:
        return _clean(text) in self.opt_in

    def says_child_is_alone(self, text: str) -> bool:
        padded = f" {' '.join(words(normalize_text(text)))} "
        return any(f" {marker} " in padded for marker in self.child_alone)

    def asks_for_menu(self, text: str) -> bool:
        return _clean(text) in self.back_to_menu

    def discreet_switch(self, text: str) -> str | None:
        """`discreet_on` / `discreet_off` when the text asks to turn discreet mode on or off."""
        cleaned = _clean(text)
        if cleaned in self.discreet_off:
            return "discreet_off"
        return "discreet_on" if cleaned in self.discreet_on else None

    def confirms(self, text: str) -> bool:
        return _clean(text) in self.confirm_yes
