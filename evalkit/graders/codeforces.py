"""The `codeforces` grader: judge a model's solution on a problem's tests like Codeforces would.

The solution is the program of the answer region (evalkit.graders.code_blocks: its last complete
fenced block in C++ or Python; ```cpp / ```c++ -> C++17, ```python / ```py -> Python 3; an untagged
block is C++ when it has an `#include` directive, else Python). It runs in the sandbox on the
official tests then the generated tests, under the problem's time limit (times `time_scale`) and
memory limit, stopping at the first failing test. Outputs are compared by
the problem's own checker program (run in the sandbox after the solution, never in this process),
else by the built-in checker `default_checker` (see `evalkit.codeforces.checkers`).

Verdicts: AC (score 1), WA, TLE, MLE, RE, CE (score 0), no_answer / unclosed_think when there is no
code, `truncated` when the token limit cut the response before a complete block or inside a block
opened after the last complete one (that unfinished block was the final answer), and `error` when
the sandbox or the problem data failed (never a wrong answer).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from evalkit.codeforces.checkers import CHECKER_KINDS, CheckerKind, checker_compiles, checker_program, compare
from evalkit.errors import EvalkitError
from evalkit.graders.base import Answer, Grader
from evalkit.graders.code_blocks import find_program
from evalkit.sandbox.base import (
    Language,
    Limits,
    OutputCheck,
    Program,
    RunResult,
    Sandbox,
    TestCase,
    TestResult,
    get_sandbox,
)
from evalkit.types import Generation, Sample, Score

CHECKER_TIMEOUT_S = 10.0
CHECKER_MEMORY_MB = 1024
MAX_SOURCE_CHARS = 200_000


class CodeforcesGrader(Grader):
    """Judges Codeforces solutions in the sandbox; deterministic given the sandbox's timing."""

    name = "codeforces"
    # 2: run-level thinking decision, `truncated` verdict; 3: the sandbox waits for a program's own
    # threads and calls ENOMEM from mmap an MLE; 4: the program as evalkit.graders.code_blocks finds
    # it (fences start a line; an `#include` directive, not the word anywhere, makes an untagged block
    # C++), and a response without any text cut off by the token limit is `truncated`.
    version = "4"
    runs_code = True

    def __init__(
        self,
        *,
        sandbox: str = "local",
        unsafe_no_isolation: bool = False,
        default_checker: str = "yesno",
        time_scale: float = 1.0,
    ) -> None:
        if default_checker not in CHECKER_KINDS:
            raise EvalkitError(f"Unknown checker '{default_checker}': use one of {', '.join(CHECKER_KINDS)}.")
        if not time_scale > 0:
            raise EvalkitError(f"time_scale must be > 0, got {time_scale}.")
        self.sandbox_name = sandbox
        self.sandbox_options: dict[str, Any] = (
            {"unsafe_no_isolation": unsafe_no_isolation} if sandbox == "local" else {}
        )
        self.default_checker: CheckerKind = default_checker  # type: ignore[assignment]
        self.time_scale = time_scale

    def _sandbox(self) -> Sandbox:
        return get_sandbox(self.sandbox_name, **self.sandbox_options)

    def job_timeout_s(self, sample: Sample) -> float:
        """The hard limit a grading pool should give one job of `sample` (the sandbox's own limits fire first)."""
        meta = sample.metadata
        tests = len(meta.get("official_tests") or ()) + int((meta.get("generated_tests") or {}).get("count", 0))
        solution = Limits(timeout_s=float(meta.get("time_limit_s", 1.0)) * self.time_scale).solution_budget_s(tests)
        checker = Limits(timeout_s=CHECKER_TIMEOUT_S).solution_budget_s(tests) if meta.get("checker") else 0.0
        return solution + checker + 15.0

    def judge(self, sample: Sample, generation: Generation, answer: Answer) -> Score:
        """Extract the solution and judge it on the problem's tests."""
        program = find_program(answer)
        if isinstance(program, Score):
            return program
        language, code = program.language, program.code
        if len(code) > MAX_SOURCE_CHARS:
            return Score(
                0.0, "CE", extracted=code[:1000], explanation=f"solution longer than {MAX_SOURCE_CHARS} characters"
            )
        try:
            return self._judge(sample, language, code)
        except EvalkitError as e:
            return Score(0.0, "error", extracted=code, explanation=str(e), details={"language": language})
        except Exception as e:  # the grader contract: never raise on any model output, never call it WA
            why = f"sandbox failure: {type(e).__name__}: {e}"
            return Score(0.0, "error", extracted=code, explanation=why, details={"language": language})

    def _judge(self, sample: Sample, language: Language, code: str) -> Score:
        from evalkit.codeforces.problems import load_generated_tests

        meta = sample.metadata
        raw = list(meta.get("official_tests") or [])
        if meta.get("generated_tests"):
            raw += load_generated_tests(meta["generated_tests"])
        if not raw:
            raise EvalkitError(f"Problem {sample.id} has no tests.")
        tests = [TestCase(input=_unix(t["input"]), output=_unix(t["output"])) for t in raw]
        limits = Limits(
            timeout_s=float(meta["time_limit_s"]) * self.time_scale,
            memory_mb=max(16, math.ceil(float(meta["memory_limit_mb"]))),
        )
        checker_source = meta.get("checker")
        sandbox = self._sandbox()
        if checker_source:
            broken = checker_compiles(checker_source)
            if broken:
                raise EvalkitError(f"The checker of problem {sample.id} does not compile ({broken}).")
            outputs: dict[int, str] = {}
            result = sandbox.run(Program(language, code), tests, limits, check=_recorder(outputs))
            result = self._apply_checker(sandbox, checker_source, tests, outputs, result)
            checker = "program"
        else:
            kind = self.default_checker
            result = sandbox.run(
                Program(language, code), tests, limits, check=lambda _, t, out: compare(kind, t.output, out)
            )
            checker = kind
        return _score(result, language, code, checker, len(tests))

    def _apply_checker(
        self, sandbox: Sandbox, source: str, tests: Sequence[TestCase], outputs: dict[int, str], result: RunResult
    ) -> RunResult:
        """Check the recorded outputs with the problem's checker; the first rejected test decides."""
        ran = sorted(outputs)
        if not ran or result.verdict in ("error", "CE"):
            return result
        cases = [
            TestCase(input=json.dumps({"input": tests[i].input, "answer": _drop_blank_lines(tests[i].output),
                                       "output": _drop_blank_lines(outputs[i])}), output="1")
            for i in ran
        ]  # fmt: skip
        checked = sandbox.run(
            Program("python", checker_program(source)),
            cases,
            Limits(timeout_s=CHECKER_TIMEOUT_S, memory_mb=CHECKER_MEMORY_MB, stop_on_first_failure=True),
        )
        if checked.verdict == "AC":
            return result
        if checked.verdict in ("error", "CE"):
            raise EvalkitError(f"The checker could not run in the sandbox: {checked.message}")
        position = next(r.index for r in checked.tests if r.verdict != "AC")
        failed = ran[position]
        why = (
            "the checker rejected the output" if checked.verdict == "WA" else f"the checker failed ({checked.verdict})"
        )
        tests_before = tuple(r for r in result.tests if r.index < failed)
        return RunResult(
            "WA",
            (*tests_before, TestResult(failed, "WA", message=why)),
            result.num_tests,
            f"test {failed + 1}: {why}",
            result.wall_s + checked.wall_s,
            result.sandbox,
        )


def _recorder(outputs: dict[int, str]) -> OutputCheck:
    """A check that accepts every output and keeps it, for the checker program to judge afterwards."""

    def record(index: int, test: TestCase, output: str) -> str | None:
        outputs[index] = output
        return None

    return record


def _score(result: RunResult, language: Language, code: str, checker: str, num_tests: int) -> Score:
    passed = sum(1 for t in result.tests if t.verdict == "AC")
    failed = next((t for t in result.tests if t.verdict != "AC"), None)
    details = {
        "language": language,
        "checker": checker,
        "num_tests": num_tests,
        "tests_passed": passed,
        "failed_test": None if failed is None else failed.index,
        "max_time_s": max((t.cpu_s for t in result.tests), default=0.0),
        "max_memory_kb": max((t.memory_kb for t in result.tests), default=0),
    }
    explanation = result.message if result.verdict != "AC" else f"passed all {num_tests} tests"
    if failed is not None:
        explanation = f"test {failed.index + 1}: {failed.message or failed.verdict}"
    return Score(
        1.0 if result.verdict == "AC" else 0.0, result.verdict, extracted=code, explanation=explanation, details=details
    )


def _unix(text: str) -> str:
    return text.replace("\r\n", "\n")


def _drop_blank_lines(text: str) -> str:
    # open-r1's judge deletes empty lines from both outputs before calling a checker.
    return "\n".join(line for line in text.split("\n") if line != "") + "\n"
