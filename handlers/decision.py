"""What routing decides about one message, as plain values the dispatcher carries out.

Routing never touches storage or the network: it says which replies to send, the
person's new state and the effects (close a ticket, forget the person); a handoff
request on the result means "open a ticket and alert staff". Keeping the decision
separate from the doing is what lets every rule be tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kernel.language import Detection
from kernel.types import EngineResult, Reply, UserState


@dataclass(frozen=True)
class CloseTicket:
    reference: str
    outcome: str


@dataclass(frozen=True)
class ForgetPerson:
    """Erase everything stored about the person; nothing about them is written afterwards."""


Effect = CloseTicket | ForgetPerson


@dataclass
class Decision:
    result: EngineResult
    state: UserState
    effects: tuple[Effect, ...] = ()


@dataclass(frozen=True)
class Opening:
    """What the first routing step learnt about a message it did not answer yet."""

    state: UserState
    language: str
    detection: Detection | None = None
    # Replies that go before the eventual answer (e.g. "you are back with the bot").
    replies: tuple[Reply, ...] = ()
    effects: tuple[Effect, ...] = ()

    def close(self, decision: Decision) -> Decision:
        """The later step's decision, with this step's replies first and effects kept."""
        result = replace(decision.result, replies=[*self.replies, *decision.result.replies])
        return replace(decision, result=result, effects=(*self.effects, *decision.effects))
