"""Fitting max tokens to a model's context: the R1 report's 32,768 generated tokens is a ceiling.

A model with a context of C tokens can generate at most C - P tokens after a P-token prompt. Every
backend sends min(requested, C - P) and stores that effective budget with the generation
(`Generation.max_tokens`), so a deployment with `--max-model-len 32768` (or a small test model) runs
with the default `--max-tokens`, and the summary says how many samples got less than was asked.

When a sample would get less than a floor (`--max-tokens-floor`, 1,024 tokens by default, and never
more than was asked) the run is refused before anything is generated: such a budget measures the
truncation, not the model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from evalkit.errors import EvalkitError
from evalkit.types import Request

# What context-length errors say, by server. The numbers are all that is read.
_CONTEXT = re.compile(r"(?:maximum context length (?:is|of)|max_model_len=|context length \()\s*(\d+)", re.IGNORECASE)
_PROMPT = re.compile(
    r"(?:\((\d+) in the messages"  # OpenAI, vLLM <= 0.8: "(232 in the messages, 32768 in the completion)"
    r"|(?:request has|prompt contains(?: at least)?) (\d+) input tokens"  # vLLM 0.9+
    r"|: (\d+) tokens from the input"  # SGLang: "... 33000 tokens: 232 tokens from the input messages"
    r"|the input \((\d+) tokens\)"  # SGLang: "The input (2049 tokens) is longer than the model's context length"
    r"|input length \((\d+)\))",  # vLLM get_max_tokens: "Input length (2049) exceeds model's maximum ..."
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ContextLimit:
    """The numbers a server's context-length error names (None: not named)."""

    context: int | None
    prompt_tokens: int | None


def parse_context_error(message: str) -> ContextLimit | None:
    """Read the context length and prompt tokens from a server's 400 message; None if it is no such error.

    Handles the wordings of OpenAI, vLLM (old and new) and SGLang, e.g. vLLM 0.32's "max_tokens=32768
    cannot be greater than max_model_len=2048" (context only) and "This model's maximum context length
    is 2048 tokens. However, your prompt contains at least 2049 input tokens" (both).
    """
    context = _CONTEXT.search(message)
    if context is None:
        return None
    prompt = _PROMPT.search(message)
    prompt_tokens = next((int(g) for g in prompt.groups() if g is not None), None) if prompt else None
    return ContextLimit(int(context.group(1)), prompt_tokens)


@dataclass(frozen=True)
class RoomProblem:
    """One sample whose room left in the context is below the floor."""

    request: Request
    prompt_tokens: int
    context: int
    floor: int

    @property
    def room(self) -> int:
        return self.context - self.prompt_tokens

    def describe(self, context_fix: str) -> str:
        """What is wrong with both numbers, and the fixes."""
        asked, p, room = self.request.params.max_tokens, self.prompt_tokens, self.room
        where = f"{self.request.task} sample {self.request.sample_id} has a {p:,}-token prompt"
        if room < 1:
            left = f"{where}, which alone fills the context of {self.context:,} tokens"
            accept = ""
        else:
            left = (
                f"{where}, so the context of {self.context:,} tokens leaves {room:,} tokens to generate, "
                f"below the floor of {min(self.floor, asked):,} (--max-tokens asks {asked:,})"
            )
            accept = f", or pass --max-tokens {room} to accept that budget (--max-tokens-floor sets the floor)"
        return f"{left}. Raise {context_fix} to at least {p + asked:,} for the full budget{accept}."


def fit_request(request: Request, prompt_tokens: int, context: int, floor: int) -> Request | RoomProblem:
    """`request` with max tokens min(asked, context - prompt), or the problem when that is below the floor.

    The floor never exceeds what was asked: a request that fits as asked is always accepted.
    """
    asked = request.params.max_tokens
    room = context - prompt_tokens
    if room >= asked:
        return request
    if room < min(floor, asked):
        return RoomProblem(request, prompt_tokens, context, floor)
    return replace(request, params=replace(request.params, max_tokens=room))


def fit_requests(
    requests: Sequence[Request],
    prompt_tokens: Sequence[int | None],
    context: int,
    *,
    floor: int,
    context_fix: str,
) -> list[Request]:
    """Fit every request whose prompt length is known; refuse them all (EvalkitError) if one cannot fit.

    `context_fix` names the setting that raises the context (e.g. "the server's --max-model-len").
    """
    fitted: list[Request] = []
    problems: list[RoomProblem] = []
    for request, tokens in zip(requests, prompt_tokens, strict=True):
        result = request if tokens is None else fit_request(request, tokens, context, floor)
        if isinstance(result, RoomProblem):
            problems.append(result)
        else:
            fitted.append(result)
    if problems:
        worst = min(problems, key=lambda p: p.room)
        raise EvalkitError(
            f"{len(problems)} of {len(requests)} samples leave too little room to generate, so nothing was sent: "
            + worst.describe(context_fix)
        )
    return fitted


def fitted_note(requests: Sequence[Request], asked: Mapping[str, int]) -> str | None:
    """A one-line note on how many requests got less than their task asked (None when none did)."""
    short = [r for r in requests if r.params.max_tokens < asked.get(r.task, r.params.max_tokens)]
    if not short:
        return None
    smallest = min(short, key=lambda r: r.params.max_tokens)
    return (
        f"max tokens fitted to the model's context for {len(short)} of {len(requests)} samples "
        f"(smallest {smallest.params.max_tokens:,} of the {asked[smallest.task]:,} asked, {smallest.task}); "
        "each sample's budget is stored in generations.jsonl (max_tokens)."
    )
