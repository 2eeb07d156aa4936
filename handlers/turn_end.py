"""What every answer gets once it is decided: ticket notes, the privacy notice, discreet mode.

These run after the dispatcher carried out the decision's effects, because they
depend on what happened (was a ticket opened, is it new, is the office open).
"""

from __future__ import annotations

from dataclasses import replace

from handlers import discreet
from handlers.answers import REFERRAL_PREFIX, answer, topic_from_payload
from handlers.decision import Decision
from handlers.intents import HUMAN_KEY
from kernel.types import ContentStore, Reply

# Tickets the person asked for: only then do their messages go to the inbox.
REQUESTED_TICKETS = (HUMAN_KEY, REFERRAL_PREFIX)


def ticket_opened(
    content: ContentStore, decision: Decision, reference: str, created: bool, office_open: bool
) -> Decision:
    """The person's ticket is `reference`: say so, and how the conversation goes on."""
    result, state = decision.result, replace(decision.state, open_ticket=reference)
    assert result.handoff is not None
    language, reason = result.language, result.handoff.reason
    replies = list(result.replies)
    if reason.startswith(REQUESTED_TICKETS):
        state.with_human = True
    elif created and not result.route.is_safety:
        # The bot goes on answering; the person should know a person will write too.
        replies.append(answer(content, language, "handoff_auto"))
    if reason == HUMAN_KEY:
        key = "handoff_opened" if office_open else "handoff_outside_hours"
        replies.append(answer(content, language, key))
    label = content.get(language, "reference_code").text
    replies.append(Reply(f"{label} {reference}", content_key="reference_code"))
    return replace(decision, result=replace(result, replies=replies), state=state)


def finished(content: ContentStore, decision: Decision) -> Decision:
    """The privacy notice once per person, discreet mode, and the options just offered."""
    result, state = decision.result, replace(decision.state)
    replies = list(result.replies)
    if not state.privacy_notice_shown and replies:
        state.privacy_notice_shown = True
        notice = answer(content, result.language, "privacy_notice")
        # Danger first: the emergency numbers are never pushed below a notice.
        replies.insert(len(replies) if result.route.is_safety else 0, notice)
    result = replace(result, replies=replies)
    discreet.apply(result, state, content)
    offered = [
        key
        for reply in result.replies
        for key in (topic_from_payload(b.payload) for b in reply.buttons)
        if key
    ]
    state.last_options = offered or state.last_options
    return replace(decision, result=result, state=state)
