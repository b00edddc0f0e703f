"""OpenAI-compatible adapter: any server speaking /v1/chat/completions or /v1/completions.

vLLM serve, SGLang, llama.cpp, hosted APIs. A fixed set of `concurrency` worker tasks pulls
requests from the caller's sequence (so 100k requests never become 100k tasks), sends each to the
base URL with the fewest requests in flight, and yields a Generation as each one completes.

Every request asks for one choice (n=1) with its own seed: that seed is what keeps a sample
reproducible on its own, so a resumed run regenerates exactly the samples that are missing. One
request with n=k for the k samples of a problem would tie all k to a single seed, so this adapter
does not group. `--no-send-seed` leaves the seed out for servers that reject or mishandle it.

Max tokens are fitted to the server's context before anything is sent (`fit`; see
evalkit.adapters.fit and evalkit.adapters.server_context): the context is the served model's
`max_model_len` (GET /models), a prompt's length comes from the server's /tokenize (vLLM) or else
from the usage of a one-token request. A request whose prompt length stayed unknown is sent as it
is; if the server answers with a context-length error, the numbers in its message fit the request
and it is sent again. Each generation stores the budget it really had: min(sent, context - prompt
tokens of its usage), since some servers (vLLM 0.32) silently cap a budget that overruns the context.

`--api completions` sends `Request.prompt`, or, for tasks that build chat messages, their text as
is (no chat template), which is what a base model is asked.

Failures are retried a bounded number of times with exponential backoff and full jitter: HTTP 408,
409, 429 (Retry-After honoured) and 5xx, connection errors, timeouts, malformed JSON and responses
without choices. Other 4xx are the request's fault and are not retried. A request that still fails
becomes `Generation.failed` with "<kind>: <detail> after N attempts" — never answer text.

The HTTP client is aiohttp rather than httpx: httpx's connection pool does work per request that
grows with the number of open connections (encode/httpx#3215). Measured here at concurrency 256
with 8 kB replies, one shared httpx pool reached 5% of aiohttp's request rate, and even one small
pool per worker cost about 3x aiohttp's CPU per request (0.8-1.3 ms vs 0.26-0.31 ms).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import os
import random
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from evalkit.adapters.base import Adapter
from evalkit.adapters.fit import RoomProblem, parse_context_error
from evalkit.adapters.options import NoEngineOptions
from evalkit.adapters.server_context import CONTEXT_FIX, ServerContext
from evalkit.config import RunConfig
from evalkit.errors import EvalkitError
from evalkit.types import Generation, Request

if TYPE_CHECKING:
    import aiohttp

log = logging.getLogger(__name__)

# Only stable fields of a /v1/models card go into the identity: vLLM's `created` is the time of the
# listing request and `permission` carries fresh ids, which would make every run look different.
_CARD_FIELDS = ("id", "root", "parent", "owned_by", "max_model_len")
_RETRYABLE_4XX = frozenset({408, 409, 429})
# A base URL that refused a connection sits out this long, so least-outstanding balancing does not
# pour requests into a dead server that fails them instantly.
_DOWN_COOLDOWN_S = 5.0
_MAX_DETAIL = 300
# A context-length error may first name only the context (vLLM 0.32), then the prompt too (older vLLM).
_MAX_REFITS = 2


class _AttemptError(Exception):
    """One failed attempt. `retry` False: the request itself is bad, do not send it again."""

    def __init__(
        self,
        kind: str,
        detail: str,
        *,
        retry: bool = True,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail[:_MAX_DETAIL]
        self.retry = retry
        self.retry_after = retry_after
        self.status = status


@dataclass
class _Endpoint:
    url: str
    outstanding: int = 0
    down_until: float = 0.0


@dataclass(frozen=True)
class ParsedCompletion:
    """The fields evalkit keeps from one completion response (its first choice)."""

    text: str | None
    reasoning: str | None
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None


def parse_completion(data: Any, *, chat: bool) -> ParsedCompletion:
    """Read the first choice of a (chat) completion response; raise a retryable error if unusable.

    Reasoning split off by the server is read from `reasoning_content` (vLLM, DeepSeek) or
    `reasoning` (newer vLLM, OpenRouter).
    """
    if not isinstance(data, dict):
        raise _AttemptError("malformed", f"the response is a JSON {type(data).__name__}, not an object")
    choices = data.get("choices")
    if not choices or not isinstance(choices, list):
        error = data.get("error")
        if error:
            message = error.get("message") if isinstance(error, dict) else error
            raise _AttemptError("server error", str(message))
        raise _AttemptError("empty_choices", "the response has no choices")
    choice = choices[0]
    if not isinstance(choice, dict):
        raise _AttemptError("malformed", "choices[0] is not an object")
    reasoning: Any = None
    if chat:
        message = choice.get("message")
        if not isinstance(message, dict):
            raise _AttemptError("malformed", "choices[0] has no message")
        text = message.get("content")
        reasoning = message.get("reasoning_content")
        if reasoning is None:
            reasoning = message.get("reasoning")
    else:
        text = choice.get("text")
    if not isinstance(text, (str, type(None))) or not isinstance(reasoning, (str, type(None))):
        raise _AttemptError("malformed", "the choice's content is not a string")
    usage = data.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    return ParsedCompletion(
        text=text,
        reasoning=reasoning,
        finish_reason=choice.get("finish_reason"),
        prompt_tokens=_int_or_none(usage.get("prompt_tokens")),
        completion_tokens=_int_or_none(usage.get("completion_tokens")),
    )


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _server_message(raw: bytes) -> str:
    try:
        data = json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace").strip() or "(empty body)"
    error = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(error, dict) and "message" in error:
        return str(error["message"])
    return json.dumps(error)


class OpenAICompatAdapter(Adapter):
    """Requests to one or more OpenAI-compatible base URLs. Build it with `create(config)`.

    `backoff_base_s`/`backoff_max_s` shape the retry delays (full jitter: uniform in
    [0, min(max, base * 2**attempt))); a Retry-After header replaces that delay, capped at
    `max_retry_after_s`. `connect_timeout_s` bounds opening a connection; the whole request is
    bounded by `config.backend.request_timeout_s`. `check_attempts` is how often `check` tries each URL.
    Latency is the wall time of a request including its retries.
    """

    name = "openai"

    def __init__(
        self,
        config: RunConfig,
        *,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
        max_retry_after_s: float = 120.0,
        connect_timeout_s: float = 10.0,
        check_attempts: int = 3,
    ) -> None:
        NoEngineOptions.of(config, "openai")
        if not config.backend.base_urls:
            raise EvalkitError(
                "The OpenAI-compatible backend needs at least one base URL: --base-url http://127.0.0.1:8000/v1."
            )
        self.config = config
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.max_retry_after_s = max_retry_after_s
        self.connect_timeout_s = min(connect_timeout_s, config.backend.request_timeout_s)
        self.check_attempts = max(1, check_attempts)
        self._endpoints = [_Endpoint(url) for url in config.backend.base_urls]
        self._next = 0
        self._chat = config.backend.api == "chat"
        self._path = "/chat/completions" if self._chat else "/completions"
        self._headers = {"Content-Type": "application/json"}
        api_key = config.backend.api_key or os.environ.get("OPENAI_API_KEY")
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._card: dict[str, Any] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._context = ServerContext(config.sampling.max_tokens_floor, config.backend.concurrency)

    def identity(self) -> dict[str, Any]:
        """Engine, model and base URLs, plus the server's /v1/models card for the model when known.

        The card is read by `check()`; without it, one quick lookup is tried here and skipped if
        the server does not answer.
        """
        if self._card is None:
            self._card = self._lookup_card_sync()
        identity: dict[str, Any] = {
            "engine": "openai-compatible",
            "model": self.config.model,
            "base_urls": [e.url for e in self._endpoints],
        }
        if self._card:
            identity["served_model"] = self._card
        return identity

    async def check(self) -> None:
        """Make sure a server answers GET /models before a run starts; raise EvalkitError if none does.

        Base URLs that do not answer are dropped with a warning when another one does. A server
        that lists models but not `config.model` is an error too (every request would fail).
        """
        import aiohttp

        timeout = aiohttp.ClientTimeout(
            total=min(10.0, self.config.backend.request_timeout_s), connect=self.connect_timeout_s
        )
        async with aiohttp.ClientSession(timeout=timeout, headers=self._headers) as session:
            results = await asyncio.gather(*(self._probe(session, e.url) for e in self._endpoints))
        reachable = [(e, models) for e, (models, err) in zip(self._endpoints, results, strict=True) if err is None]
        failures = [(e.url, err) for e, (_, err) in zip(self._endpoints, results, strict=True) if err is not None]
        if not reachable:
            where = "; ".join(f"{url}: {err}" for url, err in failures)
            raise EvalkitError(
                f"Cannot reach the OpenAI-compatible server at {where}. Start it (e.g. python -m "
                "vllm.entrypoints.openai.api_server --model MODEL --port 8000) or fix --base-url."
            )
        for url, err in failures:
            log.warning("Skipping unreachable base URL %s (%s); continuing with the others.", url, err)
        self._endpoints = [e for e, _ in reachable]
        for endpoint, models in reachable:
            ids = [m.get("id") for m in models]
            if ids and self.config.model not in ids:
                raise EvalkitError(
                    f"The server at {endpoint.url} serves {', '.join(map(str, ids))}, not '{self.config.model}'. "
                    "Pass --model with one of those names (vLLM: the --served-model-name)."
                )
            card = next((m for m in models if m.get("id") == self.config.model), None)
            if card is not None and self._card is None:
                self._card = {k: card[k] for k in _CARD_FIELDS if k in card}
            if card is not None:
                self._context.listed(_int_or_none(card.get("max_model_len")))
        if self._card is None:
            self._card = {}

    async def fit(self, requests: Sequence[Request]) -> list[Request]:
        """`requests` with max tokens fitted to the server's context; EvalkitError if one cannot fit.

        Nothing is generated here: prompts are counted with /tokenize, or else with one-token
        requests, and only those that might not fit are counted at all.
        """
        if self._card is None:
            await self.check()
        session = self._open_session()

        async def tokenize(request: Request) -> tuple[int | None, bool]:
            return await self._tokenize_count(session, request)

        async def usage(request: Request) -> tuple[int | None, bool]:
            return await self._usage_count(session, request), False

        return await self._context.fit(requests, tokenize, usage)

    async def _tokenize_count(self, session: aiohttp.ClientSession, request: Request) -> tuple[int | None, bool]:
        """(tokens, False) from POST /tokenize; (None, True) when the server has no usable one."""
        import aiohttp

        body: dict[str, Any] = {"model": self.config.model}
        if self._chat:
            body.update(messages=self._messages(request), add_generation_prompt=True)
        else:
            body["prompt"] = _completion_prompt(request)
        # vLLM serves /tokenize beside /v1, not under it.
        url = self._pick().url.removesuffix("/v1") + "/tokenize"
        try:
            async with session.post(url, json=body) as response:
                data = await response.json(content_type=None) if response.status == 200 else None
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            return None, False
        count = _int_or_none(data.get("count")) if isinstance(data, dict) else None
        return count, count is None

    async def _usage_count(self, session: aiohttp.ClientSession, request: Request) -> int | None:
        """Prompt tokens from the usage of a one-token request (its prefill is what a server caches)."""
        try:
            data = await self._post(session, self._pick(), self._body(request, max_tokens=1, seed=False))
            return parse_completion(data, chat=self._chat).prompt_tokens
        except _AttemptError as err:
            limit = parse_context_error(err.detail) if err.status == 400 else None
            return limit.prompt_tokens if limit is not None else None

    async def generate(self, requests: Sequence[Request]) -> AsyncGenerator[Generation, None]:
        """Yield one Generation per request as each completes (completion order)."""
        if not requests:
            return
        session = self._open_session()
        done: asyncio.Queue[Generation | BaseException] = asyncio.Queue(maxsize=2 * self.config.backend.concurrency)
        pending = iter(requests)

        async def worker() -> None:
            try:
                for request in pending:
                    await done.put(await self._complete(session, request))
            except Exception as exc:  # a usage error or a bug, not a server fault: surface it, do not hang
                await done.put(exc)

        workers = [asyncio.create_task(worker()) for _ in range(min(self.config.backend.concurrency, len(requests)))]
        try:
            for _ in range(len(requests)):
                item = await done.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _open_session(self) -> aiohttp.ClientSession:
        import aiohttp

        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.config.backend.concurrency, limit_per_host=0, ttl_dns_cache=300)
            timeout = aiohttp.ClientTimeout(total=self.config.backend.request_timeout_s, connect=self.connect_timeout_s)
            self._session = aiohttp.ClientSession(connector=connector, timeout=timeout, headers=self._headers)
        return self._session

    def _messages(self, request: Request) -> list[dict[str, str]]:
        if request.messages is None:
            raise EvalkitError(f"Task '{request.task}' builds plain prompts; use --api completions for a base model.")
        return [m.to_dict() for m in request.messages]

    def _body(self, request: Request, *, max_tokens: int | None = None, seed: bool = True) -> bytes:
        params = request.params
        body: dict[str, Any] = {"model": self.config.model}
        if self._chat:
            body["messages"] = self._messages(request)
        else:
            body["prompt"] = _completion_prompt(request)
        body.update(
            temperature=params.temperature,
            top_p=params.top_p,
            max_tokens=params.max_tokens if max_tokens is None else max_tokens,
            n=1,
        )
        if seed and self.config.sampling.send_seed:
            body["seed"] = request.seed
        return json.dumps(body).encode()

    def _pick(self) -> _Endpoint:
        now = time.monotonic()
        healthy = [e for e in self._endpoints if e.down_until <= now] or self._endpoints
        # Rotate the starting point so ties do not all land on the first URL.
        self._next = (self._next + 1) % len(healthy)
        ordered = healthy[self._next :] + healthy[: self._next]
        return min(ordered, key=lambda e: e.outstanding)

    async def _complete(self, session: aiohttp.ClientSession, request: Request) -> Generation:
        body = self._body(request)
        start = time.perf_counter()
        attempts = self.config.backend.max_retries + 1
        attempt = refits = 0
        while True:
            endpoint = self._pick()
            endpoint.outstanding += 1
            try:
                parsed = parse_completion(await self._post(session, endpoint, body), chat=self._chat)
            except _AttemptError as err:
                refitted = (
                    self._context.refit(request, err.detail) if err.status == 400 and refits < _MAX_REFITS else None
                )
                if isinstance(refitted, RoomProblem):
                    error = f"context: {refitted.describe(CONTEXT_FIX)} (not retried)"
                    return Generation.failed(refitted.request, error, self._since(start))
                if refitted is not None:
                    # A fitted request is a new request, not a retry: it does not use up an attempt.
                    request, body, refits, delay = refitted, self._body(refitted), refits + 1, 0.0
                elif not err.retry:
                    return Generation.failed(request, f"{err.kind}: {err.detail} (not retried)", self._since(start))
                elif attempt + 1 == attempts:
                    error = f"{err.kind}: {err.detail} after {attempts} attempt{'s' if attempts > 1 else ''}"
                    return Generation.failed(request, error, self._since(start))
                else:
                    delay = self._delay(attempt, err.retry_after)
                    attempt += 1
            else:
                return Generation.completed(
                    request,
                    parsed.text,
                    reasoning=parsed.reasoning,
                    finish_reason=parsed.finish_reason,
                    prompt_tokens=parsed.prompt_tokens,
                    completion_tokens=parsed.completion_tokens,
                    latency_s=self._since(start),
                    max_tokens=self._context.effective(request.params.max_tokens, parsed.prompt_tokens),
                )
            finally:
                endpoint.outstanding -= 1
            await asyncio.sleep(delay)

    async def _post(self, session: aiohttp.ClientSession, endpoint: _Endpoint, body: bytes) -> Any:
        import aiohttp

        try:
            async with session.post(endpoint.url + self._path, data=body) as response:
                raw = await response.read()
                status = response.status
                retry_after = response.headers.get("Retry-After")
        except asyncio.TimeoutError:
            raise _AttemptError(
                "timeout", f"no complete response within {self.config.backend.request_timeout_s:g} s"
            ) from None
        except aiohttp.ClientConnectorError as exc:
            endpoint.down_until = time.monotonic() + _DOWN_COOLDOWN_S
            raise _AttemptError("connection", f"{endpoint.url}: {exc.os_error or exc}") from None
        except aiohttp.ClientError as exc:
            raise _AttemptError("connection", f"{type(exc).__name__}: {exc}") from None
        if not 200 <= status < 300:
            retry = status >= 500 or status in _RETRYABLE_4XX
            raise _AttemptError(
                f"http {status}",
                _server_message(raw),
                retry=retry,
                retry_after=parse_retry_after(retry_after),
                status=status,
            )
        try:
            return json.loads(raw)
        except ValueError:
            raise _AttemptError("malformed", f"invalid JSON in a {len(raw)}-byte response") from None

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after_s)
        return random.uniform(0.0, min(self.backoff_max_s, self.backoff_base_s * 2**attempt))

    @staticmethod
    def _since(start: float) -> float:
        return time.perf_counter() - start

    async def _probe(self, session: aiohttp.ClientSession, url: str) -> tuple[list[dict[str, Any]], str | None]:
        """GET {url}/models with bounded retries: (model cards, None) or ([], reason)."""
        import aiohttp

        reason = ""
        for attempt in range(self.check_attempts):
            if attempt:
                await asyncio.sleep(self._delay(attempt - 1, None))
            try:
                async with session.get(url + "/models") as response:
                    raw = await response.read()
                    status = response.status
            except asyncio.TimeoutError:
                reason = "no answer (timeout)"
                continue
            except aiohttp.ClientError as exc:
                reason = str(getattr(exc, "os_error", None) or exc) or type(exc).__name__
                continue
            if status in (401, 403):
                raise EvalkitError(
                    f"The server at {url} refused the request (HTTP {status}: {_server_message(raw)}). "
                    "Set OPENAI_API_KEY to a key the server accepts."
                )
            if status >= 500:
                reason = f"HTTP {status}: {_server_message(raw)}"
                continue
            return _model_cards(raw), None
        return [], reason or "no answer"

    def _lookup_card_sync(self) -> dict[str, Any]:
        import httpx

        for endpoint in self._endpoints:
            try:
                response = httpx.get(endpoint.url + "/models", headers=self._headers, timeout=2.0)
            except httpx.HTTPError:
                continue
            for card in _model_cards(response.content) if response.status_code == 200 else []:
                if card.get("id") == self.config.model:
                    return {k: card[k] for k in _CARD_FIELDS if k in card}
        return {}


def _completion_prompt(request: Request) -> str:
    """What /completions is sent: the task's plain prompt, else its chat messages' text (no template)."""
    if request.prompt is not None:
        return request.prompt
    if request.messages is None:
        raise EvalkitError(f"Task '{request.task}' builds neither chat messages nor a prompt.")
    return "\n\n".join(m.content for m in request.messages)


def _model_cards(raw: bytes) -> list[dict[str, Any]]:
    """The model entries of a /v1/models listing ([] when the body is not one)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return []
    cards = data.get("data") if isinstance(data, dict) else None
    return [c for c in cards if isinstance(c, dict)] if isinstance(cards, list) else []


def create(config: RunConfig) -> OpenAICompatAdapter:
    """The `openai` backend: see OpenAICompatAdapter."""
    return OpenAICompatAdapter(config)
