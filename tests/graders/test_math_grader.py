"""The math grader: golden cases through the real pool, caches, limits, same_class and rewards."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import evalkit.graders.math as math_grader
from evalkit.errors import EvalkitError
from evalkit.graders.base import GraderRef, ThinkSettings
from evalkit.graders.jobs import GradeJob, GradingPool
from evalkit.graders.math import MathGrader
from evalkit.graders.math_answer import final_boxes
from evalkit.rewards import math as reward
from evalkit.rewards import math_batch as reward_batch
from evalkit.testing import generation_for
from evalkit.types import Sample

GOLDEN_FILE = Path(__file__).parent / "golden_math.jsonl"
GOLDEN: list[dict[str, Any]] = [json.loads(line) for line in GOLDEN_FILE.read_text("utf-8").splitlines() if line]
VERDICTS = {"correct", "wrong", "no_answer", "unclosed_think", "truncated"}
FIELDS = {"response", "gold", "integer_answers", "expected", "note", "reasoning", "finish_reason", "think_policy"}
THINK = ThinkSettings()


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    """Empties the per-process caches so cache statistics start from zero."""
    for cached in (math_grader._judge, math_grader._parse_gold, math_grader._parse_answer):
        cached.cache_clear()
    yield


def golden_think(case: dict[str, Any]) -> ThinkSettings:
    """The case's run-level thinking decision: `think_policy` ("none" when the case has no thinking)."""
    return ThinkSettings(policy=case.get("think_policy", "none"))


def test_golden_file_is_well_formed_and_covers_every_verdict() -> None:
    assert len(GOLDEN) >= 100
    for case in GOLDEN:
        assert set(case) <= FIELDS, case
        assert case["expected"] in VERDICTS, case
        assert case["note"], case
        # Where thinking or a cut-off could matter, the case says which run-level decision it is graded under.
        involved = "think>" in case["response"] or "reasoning" in case or case.get("finish_reason", "stop") != "stop"
        assert not involved or case.get("think_policy") in {"auto", "required", "none"}, case
    assert {c["expected"] for c in GOLDEN} == VERDICTS


@pytest.mark.parametrize("case", GOLDEN, ids=[f"{i}-{c['note'][:40]}" for i, c in enumerate(GOLDEN)])
def test_golden_case_through_the_pool(case: dict[str, Any], pool: GradingPool) -> None:
    grader = GraderRef("math", {"integer_answers": bool(case.get("integer_answers", False))})
    generation = generation_for(
        "p1", case["response"], reasoning=case.get("reasoning"), finish_reason=case.get("finish_reason", "stop")
    )
    job = GradeJob(grader=grader, sample=Sample("p", "", case["gold"]), generation=generation, think=golden_think(case))
    score = pool.submit(job).result(timeout=120)
    assert score.verdict == case["expected"], f"{case['note']}: {score.explanation}"
    assert score.value == (1.0 if case["expected"] == "correct" else 0.0)
    if case["expected"] in {"correct", "wrong"}:
        assert score.extracted is not None
        assert score.vote is not None
    else:
        assert score.vote is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no box here", None),
        ("\\boxed{}", ""),
        ("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
        ("\\boxed {7}", "7"),
        ("\\fbox{7}", "7"),
        ("\\boxed{3} hmm, no: \\boxed{5}", "5"),
        ("\\boxed{2}, \\boxed{3}", "2, 3"),
        ("$\\boxed{2}$ or $\\boxed{-2}$", "2, -2"),
        ("\\boxed{\\boxed{7}}", "\\boxed{7}"),
        ("\\boxed{\\{1, 2\\}} so", "\\{1, 2\\}"),
        ("\\boxed{12", "12"),
        ("\\boxed{1}, \\boxed{}", ""),
        ("$$\\boxed{(2, 2)} \\quad \\text{and} \\quad \\boxed{(6, 2)}$$", "(2, 2), (6, 2)"),
        ("\\($y_1 = \\boxed{a} \\) and \\( y_2 = \\boxed{b} \\)", "a, b"),
        ("$\\boxed{(3, 3)} \\text{ for part (a) and } \\boxed{(1, 1)}$", "(3, 3), (1, 1)"),
        ("\\boxed{6}. Wait, no: \\boxed{5}", "5"),
        ("\\boxed{6}, no wait, \\boxed{5}", "5"),
        ("\\boxed{3} then \\boxed{5}", "5"),
        ("\\boxed{4}, \\boxed{4}", "4"),
    ],
)
def test_final_boxed(text: str, expected: str | None) -> None:
    boxes = final_boxes(text)
    assert (boxes.answer if boxes is not None else None) == expected


def test_gold_parsed_once_and_repeated_answers_verified_once(fresh_caches: None) -> None:
    grader = MathGrader()
    sample = Sample("p", "", "\\frac{3}{4}")
    texts = [f"Attempt {i}: reasoning differs each time. So $\\boxed{{\\dfrac{{3}}{{4}}}}$." for i in range(10)]
    texts += [f"Take {i}, I get $\\boxed{{0.7}}$" for i in range(5)]
    verdicts = [grader.grade(sample, generation_for("p1", t), THINK).verdict for t in texts]
    assert verdicts == ["correct"] * 10 + ["wrong"] * 5
    assert math_grader._parse_gold.cache_info().misses == 1
    judged = math_grader._judge.cache_info()
    assert (judged.misses, judged.hits) == (2, 13)


def test_cache_key_is_the_gold_and_final_box() -> None:
    grader, sample = MathGrader(), Sample("p", "", "5")
    a = grader.cache_key(sample, generation_for("p1", "<think>\\boxed{4}</think> first text \\boxed{5}"), THINK)
    b = grader.cache_key(sample, generation_for("p1", "other words entirely $\\boxed{5}$."), THINK)
    assert a is not None
    assert a == b
    assert a != grader.cache_key(sample, generation_for("p1", "\\boxed{6}"), THINK)
    assert a != grader.cache_key(Sample("q", "", "6"), generation_for("p1", "\\boxed{5}"), THINK)
    assert a != MathGrader(integer_answers=True).cache_key(sample, generation_for("p1", "\\boxed{5}"), THINK)
    assert grader.cache_key(sample, generation_for("p1", "The answer is 5."), THINK) is None
    assert grader.cache_key(sample, generation_for("p1", "<think>\\boxed{5}"), THINK) is None


@pytest.mark.parametrize(
    "text",
    [
        "x" * 2_000_000,
        "\\boxed{" * 5_000,
        "}" * 10_000 + "\\boxed{" + "}" * 10_000,
        "$" * 30_000 + "\\boxed{1}" + "$" * 10,
        "\\frac{" * 3_000 + "1" + "}{2}" * 3_000,
        "\\boxed{" + "a" * 5_000 + "}",
        "\x00\x01\ufffd \\boxed{\ud800}",
        "\\boxed{\\sqrt{\\sqrt{\\sqrt{}}}}",
        "answer: " + "9" * 5_000,
    ],
    ids=[
        "2MB-text",
        "many-open-boxes",
        "stray-braces",
        "dollars",
        "nested-fracs",
        "long-box",
        "bad-unicode",
        "empty-sqrt",
        "huge-number",
    ],
)
def test_garbage_never_raises(text: str) -> None:
    score = MathGrader().grade(Sample("p", "", "7"), generation_for("p1", text), THINK)
    assert score.verdict in {"wrong", "no_answer", "timeout"}
    assert score.value == 0.0


def test_parse_time_limit_is_a_timeout_verdict(monkeypatch: pytest.MonkeyPatch, fresh_caches: None) -> None:
    import time

    import math_verify.parser

    monkeypatch.setattr(math_grader, "PARSE_TIMEOUT_S", 1)

    def stuck_parser(*args: object, **kwargs: object) -> None:
        # Stands in for ANTLR backtracking over pathological LaTeX, deterministically.
        time.sleep(5)

    monkeypatch.setattr(math_verify.parser, "extract_latex", stuck_parser)
    score = MathGrader().grade(Sample("p", "", "1"), generation_for("p1", "\\boxed{" + "{" * 500 + "1"), THINK)
    assert score.verdict == "timeout"
    assert score.value == 0.0


def test_failed_generation_is_an_error_not_an_answer() -> None:
    gen = generation_for("p", None, finish_reason="error", error="HTTP 500 after 5 retries")
    score = MathGrader().grade(Sample("p", "", "1"), gen, THINK)
    assert (score.verdict, score.value) == ("error", 0.0)
    assert "HTTP 500" in score.explanation


def test_custom_think_marker_and_required_policy() -> None:
    sample = Sample("p", "", "5")
    marker = ThinkSettings(marker="<|end_of_thought|>", policy="required")
    text = "\\boxed{4} thinking <|end_of_thought|> so \\boxed{5}"
    assert MathGrader().grade(sample, generation_for("p1", text), marker).verdict == "correct"
    assert MathGrader().grade(sample, generation_for("p1", "\\boxed{5}"), marker).verdict == "unclosed_think"


def test_grading_outside_a_main_thread_is_refused() -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            MathGrader().grade(Sample("p", "", "1"), generation_for("p1", "\\boxed{1}"), THINK)
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert len(errors) == 1
    assert "GradingPool" in str(errors[0])


@pytest.mark.parametrize(
    ("a", "b", "integer_answers", "same"),
    [
        ("\\frac{1}{2}", "0.5", False, True),
        ("0.5", "\\frac{1}{2}", False, True),
        ("x = 3", "3", False, True),
        ("1,000", "1000", False, True),
        ("(1, 2]", "[1, 2)", False, False),
        ("2, 1", "\\{1, 2\\}", False, True),
        ("3", "4", False, False),
        ("025", "25", True, True),
        ("25", "25.0000001", True, False),
        ("\\text{Evelyn}", "\\text{evelyn}", False, True),
    ],
)
def test_same_class(a: str, b: str, integer_answers: bool, same: bool) -> None:
    grader = MathGrader(integer_answers=integer_answers)
    sample = Sample("p", "", "0")
    assert grader.same_class(sample, a, b) is same
    assert grader.same_class(sample, b, a) is same


def test_votes_of_equivalent_answers_fall_in_one_class(pool: GradingPool) -> None:
    sample = Sample("p", "", "\\frac{1}{2}")
    texts = ["$\\boxed{0.5}$", "$\\boxed{\\frac12}$", "$\\boxed{\\dfrac{2}{4}}$", "$\\boxed{3}$", "no answer"]
    scores = [
        pool.submit(GradeJob(GraderRef("math"), sample, generation_for("p1", t), THINK)).result(60) for t in texts
    ]
    votes = [s.vote for s in scores if s.vote is not None]
    assert len(votes) == 4
    assert pool.same_class(GraderRef("math"), sample, votes).result(timeout=60) == [0, 0, 0, 1]


def test_reward_and_reward_batch() -> None:
    assert reward("<think>maybe 3</think> The answer is $\\boxed{\\frac{1}{2}}$.", "0.5") == 1.0
    assert reward("$\\boxed{3}$", "4") == 0.0
    assert reward("<think>$\\boxed{4}$ and still thinking", "4") == 0.0
    responses = ["$\\boxed{1}$", "$\\boxed{2}$", "", "$\\boxed{x=4}$"]
    assert reward_batch(responses, ["1", "3", "1", "4"], workers=2) == [1.0, 0.0, 0.0, 1.0]


def test_reward_batch_bounds_the_time_per_item() -> None:
    # This answer makes math-verify's parser backtrack for seconds; the pool kills it at 1 s.
    stuck = "\\boxed{" + "{" * 500 + "1"
    assert reward_batch([stuck, "$\\boxed{1}$"], ["1", "1"], workers=2, timeout_s=1.0) == [0.0, 1.0]


def test_reward_batch_needs_one_gold_per_response() -> None:
    with pytest.raises(EvalkitError, match="2 responses but 1 golds"):
        reward_batch(["a", "b"], ["1"])
    with pytest.raises(EvalkitError, match="2 responses but 1 finish_reasons"):
        reward_batch(["a", "b"], ["1", "2"], finish_reasons=["stop"])
    with pytest.raises(EvalkitError, match="think_policy must be"):
        reward_batch(["a"], ["1"], think_policy="sometimes")  # type: ignore[arg-type]


def test_reward_applies_truncation_and_the_thinking_decision() -> None:
    assert reward("So the answer is \\boxed{204", "204") == 1.0  # an unclosed box at a natural stop
    assert reward("So the answer is \\boxed{204", "204", finish_reason="length") == 0.0
    thinking = "Okay, let me think. Maybe the answer is \\boxed{204}? Let me double-check the"
    assert reward(thinking, "204", think_policy="required") == 0.0
    assert reward(thinking, "204", think_policy="none") == 1.0
    assert reward("<think>still thinking \\boxed{4}", "4", reasoning="First, 2 + 2.") == 0.0
    assert reward("The answer is \\boxed{4}.", "4", reasoning="First, 2 + 2.") == 1.0
