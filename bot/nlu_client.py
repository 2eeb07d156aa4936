"""HTTP client for the Rasa NLU server.

Rasa runs in its own Python 3.10 environment, so the app only ever talks to it
over HTTP; that also keeps parsing off the app's event loop. A message and its
sentences go in one request to the batch route our server adds
(`nlu/components/batch_parse.py`): one HTTP round and one pass of the sentence
encoder for all of them. A Rasa server without that route (an `NLU_URL` pointing
at a plain `rasa run`) answers 404, and the client then uses Rasa's own
`POST /model/parse`, one text per request.

The requests go through aiohttp, not httpx: measured on this machine against a
local server, an httpx request cost 1.9-2.3 ms of the app's CPU and an aiohttp one
0.4-0.6 ms, and the NLU requests were the largest share of the app's CPU under load
(docs/benchmarks.md). httpx stays for the occasional readiness check.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import aiohttp
import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from bot.batching import Batcher
from bot.metrics import Metrics
from bot.settings import NLUSettings
from kernel.normalize import normalize_text
from kernel.types import IntentResult, NLUUnavailableError
from nlu.server import serves_a_model

FALLBACK_LABEL = "nlu_fallback"
PARSE_PATH = "/model/parse"
BATCH_PATH = "/webhooks/batch/parse"
# The batch route's limit (nlu/components/batch_parse.py, MAX_TEXTS).
BATCH_LIMIT = 32
CACHE_METRIC = "ventanilla_nlu_cache_total"
RETRY_METRIC = "ventanilla_nlu_retries_total"


def _worth_another_try(exc: BaseException) -> bool:
    """A timeout, a dropped connection or a server error can pass; a refused token or a
    malformed request will not, so those fail at once."""
    if isinstance(exc, aiohttp.ClientResponseError):
        return exc.status >= 500
    return isinstance(exc, aiohttp.ClientConnectionError | TimeoutError)


def result_from_rasa(data: dict[str, Any]) -> IntentResult:
    """Turn Rasa's parse JSON into an IntentResult, keeping real intents in the ranking.

    When Rasa's FallbackClassifier fires it puts `nlu_fallback` on top; the engine
    decides about low confidence itself, so the label is dropped here and the
    best real intent is reported with its own confidence.
    """
    ranking_raw = data.get("intent_ranking") or []
    ranking = tuple(
        (str(item["name"]), float(item.get("confidence") or 0.0))
        for item in ranking_raw
        if item.get("name") and item.get("name") != FALLBACK_LABEL
    )
    if not ranking:
        intent = data.get("intent") or {}
        name = intent.get("name")
        if not name or name == FALLBACK_LABEL:
            raise NLUUnavailableError("NLU answered without any intent")
        ranking = ((str(name), float(intent.get("confidence") or 0.0)),)
    best_name, best_confidence = max(ranking, key=lambda item: item[1])
    return IntentResult(intent=best_name, confidence=best_confidence, ranking=ranking)


def _reading(item: Any) -> IntentResult | NLUUnavailableError:
    """One text's answer; a text the server could not parse (or a malformed answer) is an
    unavailable NLU for that text's message alone."""
    if isinstance(item, dict) and "error" in item:
        return NLUUnavailableError("NLU could not parse this text")
    try:
        return result_from_rasa(item)
    except NLUUnavailableError as exc:
        return exc
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        return NLUUnavailableError(f"NLU answer malformed: {type(exc).__name__}")


class _NoBatchRoute(Exception):
    """The server has no batch parse route (a plain Rasa server)."""


class RasaClient:
    """Implements `IntentClassifier` against a running Rasa server."""

    def __init__(
        self,
        base_url: str,
        auth_token: str = "",
        timeout_seconds: float = 5.0,
        cache_size: int = 10_000,
        metrics: Metrics | None = None,
        attempts: int = 3,
        in_flight: int = 2,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._params = {"token": auth_token} if auth_token else {}
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        # Made on first use: an aiohttp session belongs to the event loop it starts in.
        self._http: aiohttp.ClientSession | None = None
        # Many people send the same few messages ("hola", "gracias", "menu"): the model's
        # answer for a normalised text does not change until the model does.
        self._cache: OrderedDict[str, IntentResult] = OrderedDict()
        self._cache_size = cache_size
        # Hits and misses, so a benchmark can say how much of the NLU the cache stood in for.
        self._metrics = metrics
        if metrics is not None:
            metrics.describe(CACHE_METRIC, "NLU lookups answered from the parse cache or not")
            metrics.describe(RETRY_METRIC, "NLU parses tried again after a timeout or error")
        # Under a burst the first try may time out in the server's queue; a message whose
        # parse fails is guarded only by the phrase lists, so it gets more tries.
        self._attempts = max(1, attempts)
        # Until a server answers 404 there: then this client parses one text per request.
        self._batch_route = True
        # Texts of messages that arrive while `in_flight` requests are out go together.
        self._batcher = Batcher(self._parse_many, BATCH_LIMIT, in_flight)

    async def classify(self, text: str) -> IntentResult:
        return (await self.classify_many([text]))[0]

    async def classify_many(self, texts: Sequence[str]) -> list[IntentResult]:
        """One result per text, in order; the texts not in the cache go in one request."""
        normalized = [normalize_text(t) for t in texts]
        if not all(normalized):
            raise ValueError("text is empty after normalisation; the engine guards this")
        found: dict[str, IntentResult] = {}
        missing: list[str] = []
        for text in normalized:
            cached = self._cache.get(text)
            if self._metrics is not None:
                self._metrics.inc(CACHE_METRIC, result="miss" if cached is None else "hit")
            if cached is not None:
                self._cache.move_to_end(text)
                found[text] = cached
            elif text not in missing:
                missing.append(text)
        if missing:
            for text, result in zip(missing, await self._batcher.parse(missing), strict=True):
                found[text] = result
                self._remember(text, result)
        return [found[text] for text in normalized]

    def _remember(self, normalized: str, result: IntentResult) -> None:
        if self._cache_size:
            self._cache[normalized] = result
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    async def _parse_many(self, texts: list[str]) -> list[IntentResult | NLUUnavailableError]:
        if self._batch_route:
            try:
                data = await self._post(BATCH_PATH, {"texts": texts})
            except _NoBatchRoute:
                self._batch_route = False
            else:
                results = data.get("results") if isinstance(data, dict) else None
                if not isinstance(results, list) or len(results) != len(texts):
                    raise NLUUnavailableError("NLU answered a batch without one result per text")
                return [_reading(item) for item in results]
        return list(await asyncio.gather(*(self._parse_one(text) for text in texts)))

    async def _parse_one(self, text: str) -> IntentResult | NLUUnavailableError:
        return _reading(await self._post(PARSE_PATH, {"text": text}))

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self._attempts),
                wait=wait_exponential(multiplier=0.2, max=1.0),
                retry=retry_if_exception(_worth_another_try),
                before_sleep=lambda _: self._count_retry(),
                reraise=True,
            ):
                with attempt:
                    async with self._session().post(
                        f"{self._base_url}{path}", params=self._params, json=body
                    ) as response:
                        if response.status == 404 and path == BATCH_PATH:
                            raise _NoBatchRoute
                        response.raise_for_status()
                        payload = await response.read()
            return json.loads(payload)
        except (TimeoutError, aiohttp.ClientError, ValueError, KeyError, TypeError) as exc:
            # The exception text may hold the URL with the token: keep only its type.
            raise NLUUnavailableError(f"NLU request failed: {type(exc).__name__}") from None

    @classmethod
    def configured(
        cls, url: str, auth_token: str, nlu: NLUSettings, metrics: Metrics | None = None
    ) -> RasaClient:
        """The client the engine uses: the configured timeout, tries and requests at once."""
        return cls(
            url,
            auth_token,
            nlu.timeout_seconds,
            metrics=metrics,
            attempts=nlu.attempts,
            in_flight=nlu.requests_in_flight,
        )

    def _count_retry(self) -> None:
        if self._metrics is not None:
            self._metrics.inc(RETRY_METRIC)

    def switch(self, base_url: str, auth_token: str) -> None:
        """Point at another NLU server (a freshly started one serving a new model)."""
        self._base_url = base_url.rstrip("/")
        self._params = {"token": auth_token} if auth_token else {}
        self._cache.clear()
        self._batch_route = True

    @property
    def base_url(self) -> str:
        return self._base_url

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=self._timeout)
        return self._http

    async def is_ready(self) -> bool:
        async with httpx.AsyncClient(timeout=self._timeout.total or 5.0) as client:
            return await serves_a_model(client, self._base_url, self._params.get("token", ""))

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
