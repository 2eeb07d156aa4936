"""Discreet mode, for a person whose phone is watched or shared.

A lock screen shows the first line of a new message to anyone holding the
phone. In discreet mode every message the person receives starts with a
neutral line (content key `discreet_preview`, e.g. "Ventanilla: tenés una
respuesta") and the answer follows below it. The safety and crisis answers
offer the mode as an option, because those are the people who need it most.
"""

from __future__ import annotations

from dataclasses import replace

from handlers.answers import buttons_for
from kernel.types import ContentStore, EngineResult, Reply, UserState

DISCREET_ON = "discreet_on"
DISCREET_OFF = "discreet_off"
PREVIEW_KEY = "discreet_preview"
SWITCHES = frozenset({DISCREET_ON, DISCREET_OFF})


def switched(intent: str, state: UserState) -> UserState:
    """The person's state with the mode turned on or off by one of its two switches."""
    return replace(state, discreet=intent == DISCREET_ON)


def preview_line(content: ContentStore, language: str, state: UserState) -> str:
    """The neutral first line for this person, or "" when the mode is off."""
    if not state.discreet or not content.has(language, PREVIEW_KEY):
        return ""
    return content.get(language, PREVIEW_KEY).text.strip()


def apply(result: EngineResult, state: UserState, content: ContentStore) -> None:
    """Offer the mode with a safety answer; mark every reply of a discreet person."""
    if result.route.is_safety and not state.discreet and result.replies:
        first = result.replies[0]
        offered = buttons_for(content, result.language, [DISCREET_ON])
        if not any(b.payload == o.payload for b in first.buttons for o in offered):
            buttons = (*first.buttons, *offered)
            result.replies[0] = Reply(first.text, buttons, first.content_key)
    result.preview = preview_line(content, result.language, state)
