"""What an OpenAI-compatible server's context allows each request (see evalkit.adapters.fit).

The context is the smallest `max_model_len` the servers' model cards list, or else the one a
context-length error names. A prompt's tokens are counted the way the server counts them: its
/tokenize endpoint (vLLM), else the usage of a one-token request; the adapter supplies both calls.
Counts are cached per distinct prompt, so the n samples of a problem cost one count.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import replace

from evalkit.adapters.fit import RoomProblem, fit_request, fit_requests, parse_context_error
from evalkit.types import Request

log = logging.getLogger(__name__)

CONTEXT_FIX = "the server's --max-model-len"
# Tokens a chat template may add around the messages. A prompt of B UTF-8 bytes has at most B tokens
# under byte-level BPE (and byte-fallback) tokenizers, so B + this margin + max tokens <= context
# means the request fits without counting it: no /tokenize or probe calls on a long-context server.
_TEMPLATE_MARGIN = 4096

# Count one prompt: tokens, or None when this way cannot tell (`unsupported` says it never will).
Counter = Callable[[Request], Awaitable[tuple[int | None, bool]]]


class ServerContext:
    """The context of the servers behind one adapter, and the prompt counts fitting needs."""

    def __init__(self, floor: int, concurrency: int) -> None:
        self.floor = floor
        self._concurrency = concurrency
        self._card_context: int | None = None
        self._learned_context: int | None = None
        self._prompt_tokens: dict[Hashable, int | None] = {}
        self._tokenize_works: bool | None = None

    def listed(self, max_model_len: int | None) -> None:
        """A server's model card says its context; a budget must fit the smallest of them."""
        if max_model_len and (self._card_context is None or max_model_len < self._card_context):
            self._card_context = max_model_len

    @property
    def context(self) -> int | None:
        known = [c for c in (self._card_context, self._learned_context) if c]
        return min(known) if known else None

    async def fit(self, requests: Sequence[Request], tokenize: Counter, usage: Counter) -> list[Request]:
        """`requests` fitted to the context (unchanged when it is unknown); EvalkitError if one cannot fit."""
        context = self.context
        if context is None or not requests:
            return list(requests)
        counted = [not _surely_fits(r, context) for r in requests]
        await self._count([r for r, count in zip(requests, counted, strict=True) if count], tokenize, usage)
        tokens = [
            self._prompt_tokens.get(_prompt_key(r)) if count else None
            for r, count in zip(requests, counted, strict=True)
        ]
        return fit_requests(requests, tokens, context, floor=self.floor, context_fix=CONTEXT_FIX)

    def refit(self, request: Request, message: str) -> Request | RoomProblem | None:
        """After an HTTP 400: the request fitted to the numbers a context-length error names.

        None when the message is no such error or fitting would not lower the request's budget.
        """
        limit = parse_context_error(message)
        if limit is None or limit.context is None:
            return None
        if self._card_context is None:
            self._learned_context = limit.context
        asked = request.params.max_tokens
        fitted: Request | RoomProblem
        if limit.prompt_tokens is None:
            # Only the context is known: ask for no more than it (a server then caps to what is left).
            fitted = replace(request, params=replace(request.params, max_tokens=limit.context))
        else:
            fitted = fit_request(request, limit.prompt_tokens, limit.context, self.floor)
        if isinstance(fitted, Request) and fitted.params.max_tokens >= asked:
            return None
        return fitted

    def effective(self, sent: int, prompt_tokens: int | None) -> int:
        """The budget a request really had: what was sent, or less where a server capped it to its context."""
        context = self.context
        if context is None or prompt_tokens is None:
            return sent
        return max(0, min(sent, context - prompt_tokens))

    async def _count(self, requests: Sequence[Request], tokenize: Counter, usage: Counter) -> None:
        """Count each distinct prompt not counted yet; the first alone, to learn whether /tokenize works."""
        todo: dict[Hashable, Request] = {}
        for request in requests:
            key = _prompt_key(request)
            if key not in self._prompt_tokens:
                todo.setdefault(key, request)
        if not todo:
            return
        first, *rest = todo.items()
        self._prompt_tokens[first[0]] = await self._count_one(first[1], tokenize, usage)
        limit = asyncio.Semaphore(self._concurrency)

        async def count(key: Hashable, request: Request) -> None:
            async with limit:
                self._prompt_tokens[key] = await self._count_one(request, tokenize, usage)

        await asyncio.gather(*(count(key, request) for key, request in rest))

    async def _count_one(self, request: Request, tokenize: Counter, usage: Counter) -> int | None:
        if self._tokenize_works is not False:
            tokens, unsupported = await tokenize(request)
            if tokens is not None:
                self._tokenize_works = True
                return tokens
            if unsupported:
                if self._tokenize_works is None:
                    log.info("The server has no usable /tokenize; counting prompts with one-token requests.")
                self._tokenize_works = False
        tokens, _ = await usage(request)
        return tokens


def _prompt_key(request: Request) -> Hashable:
    return (request.messages, request.prompt)


def _prompt_bytes(request: Request) -> int:
    if request.prompt is not None:
        return len(request.prompt.encode())
    return sum(len(m.content.encode()) for m in request.messages or ())


def _surely_fits(request: Request, context: int) -> bool:
    return _prompt_bytes(request) + _TEMPLATE_MARGIN + request.params.max_tokens <= context
