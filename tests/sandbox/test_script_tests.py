"""Script tests (HumanEval-style asserts): the program, then the test code in its namespace, in a real sandbox.

humaneval_problems.jsonl holds real HumanEval problems in the dataset's own format (task_id, prompt,
canonical_solution, test, entry_point): HumanEval's harness runs prompt + solution, then the test
code and `check(entry_point)`; a script test does the same inside the sandbox.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evalkit.errors import EvalkitError
from evalkit.graders.base import ThinkSettings
from evalkit.graders.code import CodeGrader
from evalkit.sandbox.base import Limits, Program, RunResult, Sandbox, TestCase
from evalkit.testing import generation_for
from evalkit.types import Sample

PROBLEMS = [
    json.loads(line) for line in (Path(__file__).with_name("humaneval_problems.jsonl")).read_text().splitlines()
]
FAST = Limits(timeout_s=2.0, memory_mb=256, output_mb=4)
CHECK = "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n\ncheck(add)\n"


def script_test(problem: dict[str, Any]) -> TestCase:
    return TestCase(problem["test"] + f"\ncheck({problem['entry_point']})\n", "", "script")


def run(sandbox: Sandbox, source: str, tests: str | list[str] = CHECK, limits: Limits = FAST) -> RunResult:
    cases = [TestCase(t, "", "script") for t in ([tests] if isinstance(tests, str) else tests)]
    return sandbox.run(Program("python", source), cases, limits)


@pytest.mark.parametrize("problem", PROBLEMS, ids=[p["task_id"] for p in PROBLEMS])
def test_humaneval_canonical_solutions_pass(sandbox: Sandbox, problem: dict[str, Any]) -> None:
    result = sandbox.run(
        Program("python", problem["prompt"] + problem["canonical_solution"]), [script_test(problem)], FAST
    )
    assert result.verdict == "AC", result


def test_a_wrong_solution_fails_with_the_assertion(sandbox: Sandbox) -> None:
    problem = next(p for p in PROBLEMS if p["entry_point"] == "greatest_common_divisor")
    wrong = problem["prompt"] + "    return min(a, b)\n"
    result = sandbox.run(Program("python", wrong), [script_test(problem)], FAST)
    assert result.verdict == "WA", result
    assert "assertion failed at line 10 of the test: assert candidate(3, 7) == 1" in result.message


@pytest.mark.parametrize(
    ("source", "verdict", "words"),
    [
        ("def add(a, b):\n    return a + b\n", "AC", ""),
        ("def add(a, b):\n    return a - b\n", "WA", "assert candidate(2, 3) == 5"),
        ("def add(a, b):\n    return [a][b]\n", "RE", "IndexError"),
        ("def add(a, b):\n    assert a > 0, 'my own check'\n    return a + b\n", "RE", "AssertionError: my own check"),
        ("import numpy_that_is_not_there\ndef add(a, b):\n    return a + b\n", "RE", "ModuleNotFoundError"),
        ("def add(a: Number, b: Number) -> Number:\n    return a + b\n", "RE", "NameError: name 'Number'"),
        ("def add(a, b)\n    return a + b\n", "CE", "SyntaxError"),
        ("def add(a, b):\n    while True:\n        pass\n", "TLE", "time limit"),
        ("def add(a, b):\n    return len(bytearray(1 << 34))\n", "MLE", "memory"),
        ("def add(a, b):\n    return a + b\nif __name__ == '__main__':\n    raise SystemExit(add(1, 1))\n", "AC", ""),
        ("import sys\nfrom typing import List\nDATA = sys.stdin.read()\nassert DATA == ''\ndef add(a, b):\n    print('x' * 10)\n    return a + b\n", "AC", ""),
    ],
    ids=["pass", "wrong", "raises", "own-assert", "import", "annotation", "syntax", "loop", "memory", "main-guard", "stdin-empty"],
)  # fmt: skip
def test_verdicts(sandbox: Sandbox, source: str, verdict: str, words: str) -> None:
    result = run(sandbox, source)
    assert result.verdict == verdict, result
    assert words in result.message, result.message


def test_each_test_runs_in_a_fresh_program(sandbox: Sandbox) -> None:
    program = "SEEN = []\ndef add(a, b):\n    SEEN.append(a)\n    return a + b\n"
    again = "assert SEEN == []\nadd(1, 2)\nassert SEEN == [1]\n"
    result = run(sandbox, program, [again, again, again])
    assert result.verdict == "AC" and [t.verdict for t in result.tests] == ["AC"] * 3, result
    failing = run(sandbox, program, [again, "assert add(1, 1) == 3\n", again])
    assert failing.verdict == "WA" and len(failing.tests) == 2, "stops at the first failure by default"


@pytest.mark.parametrize(
    "source",
    [
        # Ending the process before the tests run: exit status 0, nothing asserted.
        "import os\nos._exit(0)\n",
        "import sys\nsys.exit(0)\n",
        "raise SystemExit\n",
        # Ending it from inside the test, once it calls the solution.
        "import os\ndef add(a, b):\n    os._exit(0)\n",
        # Writing a fake completion record on the result descriptor, then leaving.
        "import os\nos.write(3, b'evalkit passed')\nos.write(3, b'0' * 32)\nos._exit(0)\n",
        # Closing the result descriptor so nothing can be recorded, then passing the asserts.
        "import os\nos.close(3)\ndef add(a, b):\n    return a + b\n",
        # Killing the runner that reports the result (a pass could then only be forged).
        "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\ndef add(a, b):\n    return 0\n",
        # Disarming the test's own asserts through the builtins.
        "import builtins\nbuiltins.AssertionError = type('Quiet', (Exception,), {})\ndef add(a, b):\n    return 0\n",
    ],
    ids=["os-exit", "sys-exit", "system-exit", "exit-in-call", "forged-record", "closed-fd", "kill-runner", "builtins"],
)
def test_a_program_that_ends_or_tampers_before_its_tests_finish_does_not_pass(
    sandbox: Sandbox, source: str, planted: Path, sentinel: object
) -> None:
    result = run(sandbox, source)
    assert result.verdict not in ("AC", "error"), result
    after = run(sandbox, "def add(a, b):\n    return a + b\n")
    assert after.verdict == "AC", f"the harness stopped working after the attack: {after}"


def test_script_tests_are_checked_on_the_host(bwrap_sandbox: Sandbox) -> None:
    with pytest.raises(EvalkitError, match="not valid Python"):
        bwrap_sandbox.run(Program("python", "x = 1"), [TestCase("assert (", "", "script")], FAST)
    with pytest.raises(EvalkitError, match="only supported for Python"):
        bwrap_sandbox.run(Program("cpp", "int main() {}"), [TestCase("assert True", "", "script")], FAST)
    with pytest.raises(EvalkitError, match="mixes script and stdin tests"):
        bwrap_sandbox.run(Program("python", "x = 1"), [TestCase("", ""), TestCase("assert True", "", "script")], FAST)
    assert TestCase.from_dict({"input": "assert True", "testtype": "script"}) == TestCase("assert True", "", "script")


def test_the_code_grader_runs_script_tests_without_changes(bwrap_sandbox: Sandbox) -> None:
    """A HumanEval-style task needs nothing of the code grader but tests in its samples."""
    problem = PROBLEMS[0]
    tests = [{"input": problem["test"] + f"\ncheck({problem['entry_point']})\n", "testtype": "script"}]
    sample = Sample(id=problem["task_id"], input=problem["prompt"], target="", metadata={"tests": tests})
    grader = CodeGrader(language="python", timeout_s=3.0)
    for body, verdict in ((problem["canonical_solution"], "AC"), ("    return False\n", "WA")):
        answer = f"Here it is.\n```python\n{problem['prompt']}{body}```\n"
        gen = generation_for(sample, answer, task="humaneval")
        score = grader.grade(sample, gen, ThinkSettings(policy="none"))
        assert score.verdict == verdict, score
