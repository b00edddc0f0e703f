"""The grader contract and the registry of graders by name.

Graders run in worker processes (evalkit.graders.pool), so they are looked up by name in the worker
and built from plain options; the registry maps names to import paths to keep imports lazy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from evalkit.answer import DEFAULT_MARKER, AnswerRegion, ThinkPolicy, answer_region
from evalkit.registry import Registry
from evalkit.types import Generation, Sample, Score


@dataclass(frozen=True)
class ThinkSettings:
    """How the answer region is found for a model (see evalkit.answer).

    `reasoning_model` is the run's `auto` decision (`evalkit.answer.ReasoningDetector`): True for a
    reasoning model, False for a model that never thinks, None when undecided (a reward computed on
    one string), in which case each sample is judged alone. `required` and `none` ignore it.
    """

    marker: str = DEFAULT_MARKER
    policy: ThinkPolicy = "auto"
    reasoning_model: bool | None = None

    def region(self, generation: Generation) -> AnswerRegion:
        """The graded part of `generation` under these settings."""
        return answer_region(
            generation.text,
            generation.reasoning,
            marker=self.marker,
            policy=self.policy,
            finish_reason=generation.finish_reason,
            reasoning_model=self.reasoning_model,
        )


@runtime_checkable
class Grader(Protocol):
    """Grades one generation. Must be deterministic and must not raise on any model output."""

    name: str
    version: str

    def grade(self, sample: Sample, generation: Generation, think: ThinkSettings) -> Score:
        """Score `generation` against `sample` (answer region first, then extraction)."""
        ...

    def same_class(self, sample: Sample, a: str, b: str) -> bool:
        """Whether two vote keys of one problem are the same answer (cons@k equivalence classes)."""
        ...


# name -> "module:attribute" of a factory taking the task's grader options as keyword arguments.
_BUILTIN_GRADERS = {
    "math": "evalkit.graders.math:MathGrader",
    "choice": "evalkit.graders.choice:ChoiceGrader",
    "ifeval": "evalkit.graders.ifeval:IFEvalGrader",
    "codeforces": "evalkit.graders.codeforces:CodeforcesGrader",
    "code": "evalkit.graders.code:CodeGrader",
}
# Plugins add graders through the entry point group evalkit.graders (see evalkit.registry).
GRADERS: Registry[Any] = Registry("grader", "graders", "evalkit.graders", _BUILTIN_GRADERS)


# Graders that execute model-written code: they take the run's sandbox options.
CODE_GRADERS = frozenset({"code", "codeforces"})


def register_grader(name: str, target: str) -> None:
    """Register a grader factory by import path (`package.module:Factory`)."""
    GRADERS[name] = target


@dataclass(frozen=True)
class GraderRef:
    """A picklable reference to a grader: its registry name and options."""

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)


_CACHE: dict[tuple[str, str], Grader] = {}


def make_grader(ref: GraderRef) -> Grader:
    """Build (and cache per process) the grader `ref` names."""
    key = (ref.name, repr(sorted(ref.options.items())))
    grader = _CACHE.get(key)
    if grader is None:
        grader = GRADERS.load(ref.name)(**dict(ref.options))
        _CACHE[key] = grader
    return grader
