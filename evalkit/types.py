"""The typed objects that cross module boundaries: Sample -> Request -> Generation -> Score.

Each stage hands the next one of these and nothing downstream re-parses what an upstream stage
already parsed. They are frozen and JSON-friendly so they can cross process boundaries (grading
workers, Ray) and be stored as one line of JSONL.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any, Literal

Role = Literal["system", "user", "assistant"]

Key = tuple[str, str, int]
"""(task, sample id, sample index): what a generation, a grade row and a ledger cell are keyed by."""


@dataclass(frozen=True)
class Message:
    """One chat turn."""

    role: Role
    content: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class Sample:
    """One benchmark problem: what is asked, the gold target, and whatever the grader needs."""

    id: str
    input: str
    target: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SamplingParams:
    """Sampling settings shared by every request of one task in a run."""

    temperature: float = 0.6
    top_p: float = 0.95
    max_tokens: int = 32768

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Request:
    """One sampled completion to make: sample `sample_index` (0..n-1) of problem `sample_id`.

    `messages` is set for chat models, `prompt` for plain-completion (base) models. `metadata` is
    stored with the generation (for example GPQA's choice permutation) so grading never has to
    recompute it.
    """

    task: str
    task_version: str
    sample_id: str
    sample_index: int
    seed: int
    prompt_hash: str
    params: SamplingParams
    messages: tuple[Message, ...] | None = None
    prompt: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> Key:
        return (self.task, self.sample_id, self.sample_index)


FinishReason = Literal["stop", "length", "error"] | str


@dataclass(frozen=True)
class Generation:
    """What a model produced for one Request (or the error that stopped it).

    `max_tokens` is the generation budget this sample really had: the requested max tokens, or less
    when it was fitted to the model's context (None: unknown, e.g. a replayed generation).
    """

    task: str
    task_version: str
    sample_id: str
    sample_index: int
    seed: int
    prompt_hash: str
    text: str | None
    reasoning: str | None = None
    finish_reason: FinishReason | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float = 0.0
    error: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    max_tokens: int | None = None

    @cached_property
    def key(self) -> Key:
        """(task, sample id, sample index); one tuple per generation, shared by whatever is keyed by it."""
        return (self.task, self.sample_id, self.sample_index)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Generation:
        # Task names and sample ids repeat n times each: interned, a run's keys share their strings.
        return cls(
            task=sys.intern(d["task"]),
            task_version=d["task_version"],
            sample_id=sys.intern(str(d["sample_id"])),
            sample_index=int(d["sample_index"]),
            seed=int(d["seed"]),
            prompt_hash=d["prompt_hash"],
            text=d.get("text"),
            reasoning=d.get("reasoning"),
            finish_reason=_intern(d.get("finish_reason")),
            prompt_tokens=d.get("prompt_tokens"),
            completion_tokens=d.get("completion_tokens"),
            latency_s=float(d.get("latency_s") or 0.0),
            error=d.get("error"),
            metadata=dict(d.get("metadata") or {}),
            max_tokens=d.get("max_tokens"),
        )

    @classmethod
    def completed(cls, request: Request, text: str | None, **fields: Any) -> Generation:
        """The generation for `request`: its identity fields, plus `text` and any other fields given.

        `max_tokens` defaults to the request's (already fitted) budget.
        """
        fields.setdefault("max_tokens", request.params.max_tokens)
        return cls(
            task=request.task,
            task_version=request.task_version,
            sample_id=request.sample_id,
            sample_index=request.sample_index,
            seed=request.seed,
            prompt_hash=request.prompt_hash,
            text=text,
            metadata=dict(request.metadata),
            **fields,
        )

    @classmethod
    def failed(cls, request: Request, error: str, latency_s: float = 0.0) -> Generation:
        """An error row: the request could not be completed. Never graded as an answer."""
        return cls.completed(request, None, finish_reason="error", latency_s=latency_s, error=error)


@dataclass(frozen=True, slots=True)
class Score:
    """A grader's judgement of one generation.

    `value` is in [0, 1]. `vote` is the key this sample votes with in cons@k (None: it does not vote);
    graders make equal keys for equivalent answers. `details` carries grader-specific structure
    (IFEval per-instruction booleans, per-test code results) that reports read without re-parsing.
    `verdict` names what happened: correct, wrong, no_answer, unclosed_think, truncated, timeout, a
    code judge's AC, WA, TLE, MLE, RE or CE, or `error` when the harness (server, sandbox), not the
    model, failed.
    """

    value: float
    verdict: str
    extracted: str | None = None
    explanation: str = ""
    vote: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _intern(value: str | None) -> str | None:
    return None if value is None else sys.intern(value)
