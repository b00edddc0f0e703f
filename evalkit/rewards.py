"""Grader functions for RL training loops and scripts: a response in, a reward out.

Each reward wraps the response in a Generation and grades it with the same grader `evalkit run`
uses, through the same `Grader.grade` (answer region, extraction, verdicts), so a reward during
training means what the evaluation number means and the two cannot drift apart. Math is graded in a
pool of worker processes (math-verify's time limits need a process's main thread); the others grade
in this process (code still runs only in the sandbox). A response that could not be graded (a
crashed worker, a sandbox failure, malformed tests) raises EvalkitError: an error is never a reward.
Heavy grader modules are imported on first use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from evalkit.answer import ThinkPolicy
from evalkit.errors import EvalkitError
from evalkit.types import Generation, Sample, Score

if TYPE_CHECKING:
    from evalkit.graders.base import Grader

_THINK_POLICIES = ("auto", "required", "none")


def math(
    response: str,
    gold: str,
    *,
    reasoning: str | None = None,
    finish_reason: str | None = None,
    think_policy: ThinkPolicy = "auto",
) -> float:
    """1.0 when the response's final answer (after thinking) is math-equivalent to `gold`, else 0.0.

    `finish_reason` "length" (cut off by the token limit) counts only a complete `\\boxed{}`;
    `think_policy` is `evalkit run --think-policy` ("required" for R1-style templates that open
    `<think>` in the prompt); `reasoning` is the server's separate reasoning field, if any.
    """
    return math_batch(
        [response], [gold], reasonings=[reasoning], finish_reasons=[finish_reason], think_policy=think_policy
    )[0]


def math_batch(
    responses: Sequence[str],
    golds: Sequence[str],
    *,
    reasonings: Sequence[str | None] | None = None,
    finish_reasons: Sequence[str | None] | None = None,
    think_policy: ThinkPolicy = "auto",
    workers: int | None = None,
    timeout_s: float = 20.0,
) -> list[float]:
    """`math` over many responses in parallel worker processes; an item that takes longer than
    `timeout_s` scores 0.0.

    The same rules as `evalkit run`: the answer is what follows the last `</think>`; with
    `think_policy` "required" (an R1-style template opened the thinking) a response without it has
    no answer, with "none" the whole response is the answer, and with "auto" each response is judged
    alone (an opened `<think>`, or a cut-off response, without `</think>` has no answer). Pass the
    server's separate `reasonings` when it splits them off, and `finish_reasons` so that a response
    cut off by the token limit ("length") counts only with a complete box.

    Grading runs in a pool hosted by a child process (evalkit.graders.host), started on first use per
    `workers` value and closed at exit, so a script needs no `if __name__ == "__main__":` guard.
    """
    from evalkit.graders.base import GraderRef, ThinkSettings
    from evalkit.graders.host import shared_host
    from evalkit.graders.jobs import GradeJob

    n = len(responses)
    for name, values in (("golds", golds), ("reasonings", reasonings), ("finish_reasons", finish_reasons)):
        if values is not None and len(values) != n:
            raise EvalkitError(f"math_batch got {n} responses but {len(values)} {name}; pass one per response.")
    if think_policy not in _THINK_POLICIES:
        raise EvalkitError(f"think_policy must be 'auto', 'required' or 'none', got {think_policy!r}.")
    think = ThinkSettings(policy=think_policy)
    jobs = [
        GradeJob(
            grader=GraderRef("math"),
            sample=Sample(id=str(i), input="", target=golds[i]),
            generation=_generation(
                response,
                sample_id=str(i),
                reasoning=reasonings[i] if reasonings is not None else None,
                finish_reason=finish_reasons[i] if finish_reasons is not None else None,
            ),
            think=think,
            timeout_s=timeout_s,
        )
        for i, response in enumerate(responses)
    ]
    scores = shared_host(workers).grade(jobs) if jobs else []
    failed = [(i, s) for i, s in enumerate(scores) if s.verdict == "error"]
    if failed:
        i, score = failed[0]
        raise EvalkitError(
            f"{len(failed)} of {len(scores)} responses could not be graded (item {i}: {score.explanation})."
        )
    return [s.value for s in scores]


def choice(response: str, correct_letter: str) -> float:
    """1.0 when the response's `Answer: X` (or boxed letter) is `correct_letter`, else 0.0."""
    from evalkit.choices import LETTERS, PERMUTATION_KEY

    if len(correct_letter) != 1 or correct_letter not in LETTERS:
        raise EvalkitError(f"correct_letter must be one of {', '.join(LETTERS)}, got {correct_letter!r}.")
    # The grader maps shown letters to original choices (0 is the correct one): show choice 0 under
    # `correct_letter`.
    order = list(range(len(LETTERS)))
    shown = LETTERS.index(correct_letter)
    order[0], order[shown] = order[shown], order[0]
    generation = _generation(response, metadata={PERMUTATION_KEY: order})
    return _value(_grade("choice", {}, Sample("reward", "", ""), generation))


def ifeval(
    response: str, instruction_id_list: Sequence[str], kwargs: Sequence[Mapping[str, Any]]
) -> dict[str, list[bool]]:
    """Per-instruction IFEval results: {"strict": [...], "loose": [...]}, in instruction order.

    A response whose thinking is still open follows no instruction. Unknown ids or bad kwargs raise
    EvalkitError, even for a response with no answer.
    """
    from evalkit.ifeval import build_checks

    build_checks(instruction_id_list, kwargs)
    sample = Sample(
        "reward", "", "", metadata={"instruction_id_list": list(instruction_id_list), "kwargs": list(kwargs)}
    )
    score = _grade("ifeval", {}, sample, _generation(response))
    _value(score)
    return {"strict": list(score.details["strict"]), "loose": list(score.details["loose"])}


@overload
def code(
    response: str,
    tests: Sequence[Mapping[str, Any]],
    *,
    fn_name: str | None = ...,
    language: Literal["python", "cpp"] | None = ...,
    timeout_s: float = ...,
    detailed: Literal[False] = ...,
) -> float: ...


@overload
def code(
    response: str,
    tests: Sequence[Mapping[str, Any]],
    *,
    fn_name: str | None = ...,
    language: Literal["python", "cpp"] | None = ...,
    timeout_s: float = ...,
    detailed: Literal[True],
) -> Score: ...


def code(
    response: str,
    tests: Sequence[Mapping[str, Any]],
    *,
    fn_name: str | None = None,
    language: Literal["python", "cpp"] | None = None,
    timeout_s: float = 6.0,
    detailed: bool = False,
) -> float | Score:
    """1.0 if the program of the response's answer passes every test in the sandbox, else 0.0.

    `tests` are dicts of `input`, `output` and `testtype`: stdin|functional as in LiveCodeBench, or
    script (HumanEval-style test code in `input`, run after the program, no `output`); `fn_name` names
    the functional entry point; `language` runs every code block as that language (by default the
    fence tag decides). The program is found as the `code` grader finds it
    (evalkit.graders.code_blocks). With `detailed=True` returns the grader's Score instead: `verdict`
    is AC, WA, TLE, MLE, RE, CE, `no_answer` (no code block), `unclosed_think`, `truncated` or
    `error`, and `details["tests"]` holds the per-test results. Code always runs in the default
    (local) sandbox, never in this process.

    >>> code("```python\\nprint(int(input()) * 2)\\n```", [{"input": "2", "output": "4", "testtype": "stdin"}])
    1.0
    """
    sample = Sample("reward", "", "", metadata={"tests": [dict(t) for t in tests], "fn_name": fn_name})
    score = _grade("code", {"language": language, "timeout_s": timeout_s}, sample, _generation(response))
    return score if detailed else _value(score)


def _grade(name: str, options: Mapping[str, Any], sample: Sample, generation: Generation) -> Score:
    from evalkit.graders.base import GraderRef, ThinkSettings, make_grader

    grader: Grader = make_grader(GraderRef(name, options))
    return grader.grade(sample, generation, ThinkSettings())


def _value(score: Score) -> float:
    if score.verdict == "error":
        raise EvalkitError(f"The response could not be graded: {score.explanation}")
    return score.value


def _generation(
    text: str,
    *,
    sample_id: str = "reward",
    reasoning: str | None = None,
    finish_reason: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Generation:
    """A response as the stored generation graders read."""
    return Generation(
        task="reward",
        task_version="",
        sample_id=sample_id,
        sample_index=0,
        seed=0,
        prompt_hash="",
        text=text,
        reasoning=reasoning,
        finish_reason=finish_reason,  # type: ignore[arg-type]
        metadata=metadata or {},
    )
