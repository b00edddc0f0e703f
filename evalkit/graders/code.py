"""Code grader (LiveCodeBench): run the answer's last fenced code block against the problem's tests.

The answer region (evalkit.answer) comes first, so code inside the thinking never runs. The last
complete fenced block of the answer is the program; its language comes from the fence tag unless
the grader fixes it (LiveCodeBench runs everything as Python). The program runs in a sandbox
(evalkit.sandbox, never in this process) with LiveCodeBench's semantics (docs/livecodebench.md):
6 s per test, no memory limit of its own (the sandbox's machine cap still applies), integers up to
50,000 digits. `Score.verdict` is AC, WA, TLE, MLE, RE, CE, `no_answer`, `unclosed_think`,
`truncated` (cut off by the token limit before a complete block, or inside a block opened after the
last complete one: that unfinished block was the final answer, so the earlier one is not run), or
`error` when the sandbox itself failed. Only AC scores 1.0.

Samples carry their tests in `metadata["tests"]`: LiveCodeBench dicts (input, output, testtype), or
a reference to a set in evalkit.testsets (the LiveCodeBench loader stores them there, so grading
jobs do not carry them); the functional entry point is `metadata["fn_name"]`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, overload

from evalkit import testsets
from evalkit.answer import answer_region
from evalkit.errors import EvalkitError
from evalkit.graders.base import ThinkSettings
from evalkit.sandbox.base import Language, Limits, Program, RunResult, TestCase, get_sandbox
from evalkit.types import Generation, Sample, Score

_FENCE = re.compile(r"^[ \t]*```[ \t]*([^\n`]*)\n(.*?)^[ \t]*```", re.DOTALL | re.MULTILINE)
_FENCE_LINE = re.compile(r"^[ \t]*```", re.MULTILINE)
_TAGS: dict[str, Language] = {
    "python": "python", "py": "python", "python3": "python", "py3": "python",
    "cpp": "cpp", "c++": "cpp", "cc": "cpp", "cxx": "cpp", "c++17": "cpp",
}  # fmt: skip
MAX_EXTRACTED = 20_000
# lcb_runner's compute_code_generation_metrics sets sys.set_int_max_str_digits(50000) for its runs.
LCB_INT_MAX_STR_DIGITS = 50_000


def lcb_limits(timeout_s: float = 6.0, memory_mb: int | None = None, stop_on_first_failure: bool = True) -> Limits:
    """LiveCodeBench's harness: `timeout_s` per test, no memory limit, 50,000-digit ints, fast top-level
    locals, numpy."""
    return Limits(
        timeout_s=timeout_s,
        memory_mb=memory_mb,
        stop_on_first_failure=stop_on_first_failure,
        int_max_str_digits=LCB_INT_MAX_STR_DIGITS,
        fast_locals=True,
        shared_packages=True,
    )


def extract_code(answer: str) -> tuple[str, str] | None:
    """The last complete fenced block of `answer` as (fence tag, code), or None when there is none."""
    blocks = _FENCE.findall(answer)
    if not blocks:
        return None
    tag, code = blocks[-1]
    return tag.strip().lower(), code


def cut_off_block(answer: str) -> bool:
    """Whether a fenced block opens after the last complete one and never closes."""
    ends = [m.end() for m in _FENCE.finditer(answer)]
    return _FENCE_LINE.search(answer, ends[-1] if ends else 0) is not None


def _language(tag: str, fixed: Language | None) -> Language | None:
    if fixed is not None:
        return fixed
    return _TAGS.get(tag.split()[0] if tag else "python")


def _tests(sample_tests: Any) -> list[TestCase]:
    """The TestCases of a sample's `tests` metadata: the dicts themselves, or a stored set's reference."""
    stored: Sequence[Mapping[str, Any]] = testsets.get(sample_tests) if testsets.is_ref(sample_tests) else sample_tests
    return [TestCase.from_dict(dict(t)) for t in stored]


def _num_tests(sample_tests: Any) -> int:
    return int(sample_tests["count"]) if testsets.is_ref(sample_tests) else len(sample_tests or ())


def run_code(
    code: str,
    tests: Sequence[TestCase],
    *,
    language: Language,
    fn_name: str | None,
    limits: Limits,
    sandbox: str = "local",
    unsafe_no_isolation: bool = False,
) -> RunResult:
    """Run `code` on `tests` in the named sandbox; a sandbox or test-data failure is an `error` result."""
    try:
        backend = get_sandbox(sandbox, unsafe_no_isolation=unsafe_no_isolation)
        return backend.run(Program(language, code, fn_name), tests, limits)
    except Exception as e:  # the grader contract: never raise on any model output, never call it WA
        return RunResult("error", (), len(tests), f"sandbox failure: {type(e).__name__}: {e}")


class CodeGrader:
    """Grades code answers by running the problem's tests in a sandbox (see module docstring)."""

    name = "code"
    version = "3"  # 2: run-level thinking decision, `truncated` verdict; 3: lcb_runner parity (docs/livecodebench.md)

    def __init__(
        self,
        *,
        language: Language | None = None,
        timeout_s: float = 6.0,
        memory_mb: int | None = None,
        sandbox: str = "local",
        unsafe_no_isolation: bool = False,
        stop_on_first_failure: bool = True,
    ) -> None:
        if language is not None and language not in _TAGS.values():
            raise EvalkitError(f"Code grader language '{language}' is not supported: use 'python' or 'cpp'.")
        self.language: Language | None = language
        self.limits = lcb_limits(timeout_s, memory_mb, stop_on_first_failure)
        self.sandbox = sandbox
        self.unsafe_no_isolation = unsafe_no_isolation

    def job_timeout_s(self, sample: Sample) -> float:
        """The hard limit a grading pool should give one job of `sample` (the grader's own limits fire first)."""
        return self.limits.solution_budget_s(_num_tests(sample.metadata.get("tests"))) + 15.0

    def grade(self, sample: Sample, generation: Generation, think: ThinkSettings) -> Score:
        """Extract the program from the answer region and run the sample's tests on it."""
        if generation.error is not None:
            return Score(0.0, "error", explanation=f"generation failed: {generation.error}")
        region = think.region(generation)
        if region.text is None:
            verdict = "unclosed_think" if region.unclosed_think else "no_answer"
            return Score(0.0, verdict, explanation="the response has no answer region")
        block = extract_code(region.text)
        if region.truncated and (block is None or cut_off_block(region.text)):
            return Score(0.0, "truncated", explanation="cut off by the token limit before its code block was complete")
        if block is None:
            return Score(0.0, "no_answer", explanation="no fenced code block in the answer")
        tag, code = block
        language = _language(tag, self.language)
        if language is None:
            return Score(
                0.0, "CE", extracted=code[:MAX_EXTRACTED], explanation=f"unsupported code block language '{tag}'"
            )
        try:
            tests = _tests(sample.metadata.get("tests") or ())
        except (EvalkitError, KeyError, TypeError) as e:
            return Score(0.0, "error", explanation=f"sample {sample.id} has malformed tests: {e}")
        if not tests:
            return Score(0.0, "error", explanation=f"sample {sample.id} has no tests")
        result = run_code(
            code,
            tests,
            language=language,
            fn_name=sample.metadata.get("fn_name") or None,
            limits=self.limits,
            sandbox=self.sandbox,
            unsafe_no_isolation=self.unsafe_no_isolation,
        )
        return Score(
            value=1.0 if result.passed else 0.0,
            verdict=result.verdict,
            extracted=code[:MAX_EXTRACTED],
            explanation=result.message,
            details={
                "language": language,
                "num_tests": result.num_tests,
                "passed": sum(t.verdict == "AC" for t in result.tests),
                "wall_s": round(result.wall_s, 4),
                "tests": [t.to_dict() for t in result.tests],
                "sandbox": result.sandbox,
            },
        )

    def same_class(self, sample: Sample, a: str, b: str) -> bool:
        """Code answers do not vote (no cons@k); identical programs are one class."""
        return a == b


@overload
def reward(
    response: str,
    tests: Sequence[Mapping[str, Any]],
    *,
    fn_name: str | None = ...,
    language: Language | None = ...,
    timeout_s: float = ...,
    detailed: Literal[False] = ...,
) -> float: ...


@overload
def reward(
    response: str,
    tests: Sequence[Mapping[str, Any]],
    *,
    fn_name: str | None = ...,
    language: Language | None = ...,
    timeout_s: float = ...,
    detailed: Literal[True],
) -> RunResult: ...


def reward(
    response: str,
    tests: Sequence[Mapping[str, Any]],
    *,
    fn_name: str | None = None,
    language: Language | None = None,
    timeout_s: float = 6.0,
    detailed: bool = False,
) -> float | RunResult:
    """1.0 if the last fenced code block of `response`'s answer passes every test, else 0.0.

    `tests` are LiveCodeBench dicts (`input`, `output`, `testtype` stdin|functional); `fn_name`
    names the functional entry point. The response's thinking (before `</think>`) is ignored.
    With `detailed=True` returns the RunResult: `verdict` in AC, WA, TLE, MLE, RE, CE, error and
    per-test results in `tests`. Code always runs in the default (local) sandbox, never in-process.

    >>> reward("```python\\nprint(int(input()) * 2)\\n```", [{"input": "2", "output": "4", "testtype": "stdin"}])
    1.0
    """
    region = answer_region(response)
    block = extract_code(region.text) if region.text is not None else None
    cases = _tests(tests)
    if block is None:
        result = RunResult("CE", (), len(cases), "no fenced code block in the answer")
    else:
        tag, code = block
        lang = _language(tag, language)
        if lang is None:
            result = RunResult("CE", (), len(cases), f"unsupported code block language '{tag}'")
        else:
            result = run_code(code, cases, language=lang, fn_name=fn_name, limits=lcb_limits(timeout_s))
    if detailed:
        return result
    return 1.0 if result.passed else 0.0
