"""Code grader (LiveCodeBench): run the program of the answer against the problem's tests.

The answer region (evalkit.answer) comes first, so code inside the thinking never runs. The program
is the answer's last complete fenced block in a language evalkit runs (evalkit.graders.code_blocks);
the grader may fix the language (LiveCodeBench runs every block as Python, as lcb_runner does). It
runs in a sandbox (evalkit.sandbox, never in this process) with LiveCodeBench's semantics
(docs/livecodebench.md): 6 s per test, no memory limit of its own (the sandbox's machine cap still
applies), integers up to 50,000 digits. `Score.verdict` is AC, WA, TLE, MLE, RE, CE, `no_answer`,
`unclosed_think`, `truncated` (cut off by the token limit before a complete block, or inside a block
opened after the last complete one: that unfinished block was the final answer, so the earlier one
is not run), or `error` when the sandbox itself failed. Only AC scores 1.0.

Samples carry their tests in `metadata["tests"]`: dicts of input, output and testtype (`stdin` and
`functional` as in LiveCodeBench, or `script`: HumanEval-style test code run after the program, which
passes when it exits cleanly; see evalkit.sandbox.base.TestCase), or a reference to a set in
evalkit.testsets (the LiveCodeBench loader stores them there, so grading jobs do not carry them); the
functional entry point is `metadata["fn_name"]`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from evalkit import testsets
from evalkit.errors import EvalkitError
from evalkit.graders.base import Answer, Grader
from evalkit.graders.code_blocks import LANGUAGES, find_program
from evalkit.sandbox.base import Language, Limits, Program, RunResult, TestCase, get_sandbox
from evalkit.types import Generation, Sample, Score

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


class CodeGrader(Grader):
    """Grades code answers by running the problem's tests in a sandbox (see module docstring)."""

    name = "code"
    # 2: run-level thinking decision, `truncated` verdict; 3: lcb_runner parity (docs/livecodebench.md);
    # 4: the program as evalkit.graders.code_blocks finds it (an untagged block with an `#include` is
    # C++, blocks in other languages and empty ones are skipped), and a response without any text cut
    # off by the token limit is `truncated` (evalkit.graders.base).
    version = "4"
    runs_code = True

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
        if language is not None and language not in LANGUAGES:
            raise EvalkitError(f"Code grader language '{language}' is not supported: use 'python' or 'cpp'.")
        self.language: Language | None = language
        self.limits = lcb_limits(timeout_s, memory_mb, stop_on_first_failure)
        self.sandbox = sandbox
        self.unsafe_no_isolation = unsafe_no_isolation

    def job_timeout_s(self, sample: Sample) -> float:
        """The hard limit a grading pool should give one job of `sample` (the grader's own limits fire first)."""
        return self.limits.solution_budget_s(_num_tests(sample.metadata.get("tests"))) + 15.0

    def judge(self, sample: Sample, generation: Generation, answer: Answer) -> Score:
        """Extract the program from the answer region and run the sample's tests on it."""
        program = find_program(answer, self.language)
        if isinstance(program, Score):
            return program
        try:
            tests = _tests(sample.metadata.get("tests") or ())
        except (EvalkitError, KeyError, TypeError) as e:
            return Score(0.0, "error", explanation=f"sample {sample.id} has malformed tests: {e}")
        if not tests:
            return Score(0.0, "error", explanation=f"sample {sample.id} has no tests")
        result = run_code(
            program.code,
            tests,
            language=program.language,
            fn_name=sample.metadata.get("fn_name") or None,
            limits=self.limits,
            sandbox=self.sandbox,
            unsafe_no_isolation=self.unsafe_no_isolation,
        )
        return Score(
            value=1.0 if result.passed else 0.0,
            verdict=result.verdict,
            extracted=program.code[:MAX_EXTRACTED],
            explanation=result.message,
            details={
                "language": program.language,
                "num_tests": result.num_tests,
                "passed": sum(t.verdict == "AC" for t in result.tests),
                "wall_s": round(result.wall_s, 4),
                "tests": [t.to_dict() for t in result.tests],
                "sandbox": result.sandbox,
            },
        )
