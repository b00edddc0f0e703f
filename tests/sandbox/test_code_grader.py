"""The code grader and `reward`: golden responses in code_grader_cases.jsonl, run in the real sandbox."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from evalkit import rewards
from evalkit.graders.base import GraderRef, ThinkSettings, make_grader
from evalkit.graders.code import CodeGrader
from evalkit.sandbox.base import Sandbox
from evalkit.testing import generation_for
from evalkit.types import Sample, Score

CASES = [json.loads(line) for line in (Path(__file__).parent / "code_grader_cases.jsonl").read_text().splitlines()]
# The cases a reward can express: the response text alone (no split reasoning, no finish reason).
TEXT_ONLY = [c for c in CASES if not c.get("reasoning") and not c.get("finish_reason")]


_generation = partial(generation_for, "s")


def _sample(case: dict[str, Any]) -> Sample:
    return Sample(id="s", input="q", target="", metadata={"tests": case["tests"], "fn_name": case.get("fn_name")})


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_golden_cases(bwrap_sandbox: Sandbox, case: dict[str, Any]) -> None:
    grader = CodeGrader(timeout_s=2.0)
    generation = _generation(case["text"], reasoning=case.get("reasoning"), finish_reason=case.get("finish_reason"))
    score = grader.grade(_sample(case), generation, ThinkSettings())
    assert score.verdict == case["verdict"], score.explanation
    assert score.value == (1.0 if case["verdict"] == "AC" else 0.0)
    if case["verdict"] in ("AC", "WA"):
        assert score.details["tests"] and score.details["num_tests"] == len(case["tests"])


def test_registered_by_name() -> None:
    grader = make_grader(GraderRef("code", {"timeout_s": 3.0}))
    assert isinstance(grader, CodeGrader) and grader.limits.timeout_s == 3.0


def test_reasoning_field_is_not_the_answer(bwrap_sandbox: Sandbox) -> None:
    case = CASES[0]
    reasoning_only = _generation("", reasoning=case["text"])
    assert CodeGrader().grade(_sample(case), reasoning_only, ThinkSettings()).verdict == "unclosed_think"


def test_sandbox_failure_is_error_not_wrong(bwrap_sandbox: Sandbox) -> None:
    grader = CodeGrader(sandbox="no-such-backend")
    score = grader.grade(_sample(CASES[0]), _generation(CASES[0]["text"]), ThinkSettings())
    assert score.verdict == "error" and score.value == 0.0 and "sandbox" in score.explanation


def test_failed_generation_is_error() -> None:
    score = CodeGrader().grade(_sample(CASES[0]), _generation(None, error="HTTP 500"), ThinkSettings())
    assert score.verdict == "error"


def test_job_timeout_covers_the_solution_budget() -> None:
    grader = CodeGrader(timeout_s=6.0)
    sample = _sample({"tests": [CASES[0]["tests"][0]] * 10})
    assert grader.job_timeout_s(sample) >= 10 * 6.0


def test_reward_function(bwrap_sandbox: Sandbox) -> None:
    tests = [{"input": "2\n", "output": "4\n", "testtype": "stdin"}]
    assert rewards.code("```python\nprint(int(input()) * 2)\n```", tests) == 1.0
    assert rewards.code("```python\nprint(int(input()) * 3)\n```", tests) == 0.0
    assert rewards.code("<think>```python\nprint(4)\n```</think>", tests) == 0.0
    detailed = rewards.code("```python\nwhile True: pass\n```", tests, timeout_s=1.0, detailed=True)
    assert (
        isinstance(detailed, Score) and detailed.verdict == "TLE" and detailed.details["tests"][0]["verdict"] == "TLE"
    )
    functional = [{"input": "3\n4", "output": "7", "testtype": "functional"}]
    assert rewards.code("```python\ndef add(a, b):\n    return a + b\n```", functional, fn_name="add") == 1.0


@pytest.mark.parametrize("case", TEXT_ONLY, ids=[c["name"] for c in TEXT_ONLY])
def test_reward_gives_the_graders_verdict(bwrap_sandbox: Sandbox, case: dict[str, Any]) -> None:
    # The reward is the grader path: a missing code block is `no_answer` in both, never CE in one.
    detailed = rewards.code(case["text"], case["tests"], fn_name=case.get("fn_name"), timeout_s=2.0, detailed=True)
    assert detailed.verdict == case["verdict"], detailed.explanation
    assert rewards.code(case["text"], case["tests"], fn_name=case.get("fn_name"), timeout_s=2.0) == detailed.value


def test_reward_raises_when_the_response_cannot_be_graded(bwrap_sandbox: Sandbox) -> None:
    from evalkit.errors import EvalkitError

    with pytest.raises(EvalkitError, match="could not be graded.*no tests"):
        rewards.code("```python\nprint(1)\n```", [])
