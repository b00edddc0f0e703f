"""The grader contract, the opening every grader shares, and the registry of graders by name.

A grader is a `Grader` subclass. Its `grade` does the shared opening once (a failed generation is an
`error`; the answer region; no region is `unclosed_think`, `truncated` or `no_answer`) and hands
what is left to the subclass's `judge`. Capabilities are declared on the class, with defaults here:
`runs_code` (the grader executes model-written code: it takes the run's sandbox options and its
answers never vote), `votes` (its `Score.vote` keys make cons@k), `cache_key` (equal keys mean equal
Scores, so a pool grades a key once) and `job_timeout_s` (a hard limit above the run's default).

Graders run in worker processes (evalkit.graders.pool), so they are looked up by name in the worker
and built from plain options; the registry maps names to import paths to keep imports lazy.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from evalkit.answer import DEFAULT_MARKER, AnswerRegion, ThinkPolicy, answer_region
from evalkit.errors import EvalkitError
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


@dataclass(frozen=True)
class Answer:
    """The answer region of a response that has one: what a grader judges.

    `truncated`: the token limit cut the response off, so `text` may end mid-answer; graders then
    accept only a complete final answer (a closed box, a closed code block).
    """

    text: str
    truncated: bool = False


class Grader(ABC):
    """Grades one generation. Must be deterministic and must not raise on any model output.

    Subclasses set `name` and `version` (bump the version whenever a verdict can change: stored
    grades of another version are re-graded) and implement `judge`; the hooks below have defaults.
    A grader with `runs_code` accepts the options `sandbox` and `unsafe_no_isolation`.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    runs_code: ClassVar[bool] = False
    votes: ClassVar[bool] = False

    def grade(self, sample: Sample, generation: Generation, think: ThinkSettings) -> Score:
        """Score `generation` against `sample`: the shared opening, then `judge`."""
        opened = self.answer(sample, generation, think)
        return opened if isinstance(opened, Score) else self.judge(sample, generation, opened)

    def answer(self, sample: Sample, generation: Generation, think: ThinkSettings) -> Answer | Score:
        """The answer region to judge, or the Score of a response that has none.

        A failed generation is an `error` (an error is never an answer); then `check_inputs`; then
        the answer region. Without one: `unclosed_think` when the thinking never closed, `truncated`
        when the token limit cut the response off, else `no_answer`.
        """
        if generation.error is not None:
            return Score(0.0, "error", explanation=f"generation failed: {generation.error}")
        invalid = self.check_inputs(sample, generation)
        if invalid is not None:
            return invalid
        region = think.region(generation)
        if region.text is not None:
            return Answer(region.text, region.truncated)
        if region.unclosed_think:
            verdict = "unclosed_think"
            why = f"the thinking never closed ({think.marker!r} not found), so there is no answer"
        elif region.truncated:
            verdict, why = "truncated", "the response was cut off by the token limit before it gave any answer"
        else:
            verdict, why = "no_answer", "the response has no answer text"
        return Score(0.0, verdict, explanation=why, details=self.unanswered_details(sample, generation))

    @abstractmethod
    def judge(self, sample: Sample, generation: Generation, answer: Answer) -> Score:
        """Score the answer region of a response that has one."""

    def check_inputs(self, sample: Sample, generation: Generation) -> Score | None:
        """An `error` Score when the sample or generation lacks what this grader needs (checked
        before the answer region, so broken data is never counted as a model's missing answer)."""
        return None

    def unanswered_details(self, sample: Sample, generation: Generation) -> dict[str, Any]:
        """`Score.details` of a response without an answer region (what summaries read of every row)."""
        return {}

    def same_class(self, sample: Sample, a: str, b: str) -> bool:
        """Whether two vote keys of one problem are the same answer (cons@k equivalence classes)."""
        return a == b

    def cache_key(self, sample: Sample, generation: Generation, think: ThinkSettings) -> Hashable | None:
        """A key equal for jobs that get equal Scores, computed in the caller (cheaply); None: no reuse."""
        return None

    def job_timeout_s(self, sample: Sample) -> float | None:
        """The hard time limit one job of `sample` needs, when it may exceed the run's default."""
        return None


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


def register_grader(name: str, target: str) -> None:
    """Register a grader factory by import path (`package.module:Factory`)."""
    GRADERS[name] = target


def grader_target(name: str) -> str:
    """The import path registered for grader `name` (a plugin's included); EvalkitError naming the known ones otherwise."""
    try:
        return GRADERS.target(name)
    except KeyError:
        raise GRADERS.unknown(name) from None


@dataclass(frozen=True)
class GraderRef:
    """A picklable reference to a grader: its registry name and options."""

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)


_CACHE: dict[tuple[str, str, str], Grader] = {}


def make_grader(ref: GraderRef) -> Grader:
    """Build (and cache per process) the grader `ref` names."""
    target = grader_target(ref.name)
    key = (ref.name, target, repr(sorted(ref.options.items())))
    grader = _CACHE.get(key)
    if grader is None:
        built = GRADERS.load(ref.name)(**dict(ref.options))
        if not isinstance(built, Grader):
            raise EvalkitError(
                f"Grader '{ref.name}' ({target}) built a {type(built).__name__}, not a Grader: subclass "
                "evalkit.graders.base.Grader."
            )
        grader = _CACHE[key] = built
    return grader
