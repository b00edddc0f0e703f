"""The choice grader: golden extraction cases, letters mapped back through the stored permutation,
votes over choice identity, re-grades that match, and the reward function."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evalkit.errors import EvalkitError
from evalkit.graders.base import GraderRef, ThinkSettings, make_grader
from evalkit.graders.choice import ChoiceGrader, extract_choice
from evalkit.graders.jobs import GradeJob
from evalkit.graders.pool import LocalGradingPool
from evalkit.rewards import choice as reward
from evalkit.tasks import Task
from evalkit.testing import generation_for
from evalkit.types import Generation, Sample

CASES: list[dict[str, Any]] = [
    json.loads(line)
    for line in (Path(__file__).parent / "extraction_cases.jsonl").read_text("utf-8").splitlines()
    if line
]
ORDER = [2, 0, 3, 1]  # A shows incorrect answer 2, B the correct answer, C incorrect 3, D incorrect 1
SAMPLE = Sample(id="recFAKE1", input="q", target="the zorbon")


def _generation(text: str | None, order: list[int] | None = ORDER, index: int = 0, **fields: Any) -> Generation:
    metadata = {} if order is None else {"permutation": order}
    return generation_for(SAMPLE, text, task="gpqa_diamond", index=index, metadata=metadata, **fields)


def test_golden_file_covers_both_rules_and_no_answer_cases() -> None:
    assert len(CASES) >= 30
    assert {c["rule"] for c in CASES} == {"answer_line", "boxed", None}
    assert {c.get("verdict") for c in CASES if c["letter"] is None} == {"no_answer", "unclosed_think", "truncated"}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_golden_extraction(case: dict[str, Any]) -> None:
    generation = _generation(
        case["text"], reasoning=case.get("reasoning"), finish_reason=case.get("finish_reason", "stop")
    )
    score = ChoiceGrader().grade(SAMPLE, generation, ThinkSettings())
    assert score.extracted == case["letter"]
    assert score.details.get("rule") == case["rule"]
    if case["letter"] is None:
        assert score.verdict == case["verdict"] and score.value == 0.0 and score.vote is None
    else:
        assert score.verdict in ("correct", "wrong")


def test_the_letter_is_mapped_through_the_stored_permutation() -> None:
    grader = ChoiceGrader()
    right = grader.grade(SAMPLE, _generation("Answer: B"), ThinkSettings())
    assert (right.value, right.verdict, right.vote) == (1.0, "correct", "0")
    assert right.details == {"rule": "answer_line", "choice": 0, "correct_letter": "B"}
    wrong = grader.grade(SAMPLE, _generation("Answer: A"), ThinkSettings())
    assert (wrong.value, wrong.verdict, wrong.vote, wrong.details["choice"]) == (0.0, "wrong", "2", 2)


def test_votes_follow_the_choice_not_the_letter() -> None:
    grader = ChoiceGrader()
    # The correct answer shown under different letters in two samples: one vote class.
    first = grader.grade(SAMPLE, _generation("Answer: B", order=[2, 0, 3, 1]), ThinkSettings())
    second = grader.grade(SAMPLE, _generation("Answer: D", order=[1, 3, 2, 0], index=1), ThinkSettings())
    assert first.extracted != second.extracted
    assert first.vote == second.vote == "0"
    assert grader.same_class(SAMPLE, first.vote or "", second.vote or "")
    # The same letter for two different choices: two classes.
    third = grader.grade(SAMPLE, _generation("Answer: D", order=[2, 0, 3, 1], index=2), ThinkSettings())
    assert third.vote == "1" and not grader.same_class(SAMPLE, second.vote or "", third.vote or "")


@pytest.mark.parametrize("metadata_order", [None, [0, 1, 2], [0, 0, 1, 2], "0123"])
def test_a_generation_without_a_valid_permutation_is_an_error_not_a_guess(metadata_order: Any) -> None:
    generation = _generation("Answer: B", order=None)
    if metadata_order is not None:
        generation = Generation.from_dict({**generation.to_dict(), "metadata": {"permutation": metadata_order}})
    score = ChoiceGrader().grade(SAMPLE, generation, ThinkSettings())
    assert score.verdict == "error" and score.value == 0.0 and "permutation" in score.explanation


def test_a_failed_generation_is_an_error_row() -> None:
    failed = _generation(None, error="server returned 500", finish_reason="error")
    assert ChoiceGrader().grade(SAMPLE, failed, ThinkSettings()).verdict == "error"


def test_regrading_in_worker_processes_gives_identical_scores(gpqa: Task, fake_sample: Sample) -> None:
    texts = ["Answer: A", "**Answer:** (C)", "<think>Answer: B</think> \\boxed{D}", "<think>no end", "I give up."]
    generations = [
        Generation.from_dict({**_generation(text, index=i).to_dict(), "metadata": gpqa.prompt(fake_sample, i).metadata})
        for i, text in enumerate(texts)
    ]
    ref = GraderRef(gpqa.grader, dict(gpqa.grader_options))
    in_process = [make_grader(ref).grade(fake_sample, g, ThinkSettings()).to_dict() for g in generations]
    with LocalGradingPool(workers=1) as pool:
        jobs = [GradeJob(ref, fake_sample, g, ThinkSettings()) for g in generations]
        first = [pool.submit(job).result().to_dict() for job in jobs]
        second = [pool.submit(job).result().to_dict() for job in jobs]
    assert first == second == in_process
    assert [s["verdict"] for s in first][3:] == ["unclosed_think", "no_answer"]


def test_extract_choice_reports_the_rule() -> None:
    assert extract_choice("Answer: C") == ("C", "answer_line")
    assert extract_choice("so \\boxed{A}") == ("A", "boxed")
    assert extract_choice("no letter here") is None


def test_reward_grades_the_answer_region_against_the_letter() -> None:
    assert reward("Answer: B", "B") == 1.0
    assert reward("Answer: B", "C") == 0.0
    assert reward("<think>Answer: C</think>\nAnswer: B", "C") == 0.0
    assert reward("<think>Answer: C", "C") == 0.0
    assert reward("The answer is \\boxed{D}", "D") == 1.0
    assert reward("nothing", "A") == 0.0


TEXT_ONLY = [c for c in CASES if not c.get("reasoning") and not c.get("finish_reason")]


@pytest.mark.parametrize("case", TEXT_ONLY, ids=[c["name"] for c in TEXT_ONLY])
def test_reward_agrees_with_the_grader(case: dict[str, Any]) -> None:
    # The reward is the grader's path: the letter it credits is the one the grader extracts.
    credited = [letter for letter in "ABCD" if reward(case["text"], letter) == 1.0]
    assert credited == ([] if case["letter"] is None else [case["letter"]])


@pytest.mark.parametrize("letter", ["E", "b", "", "AB"])
def test_reward_rejects_a_gold_that_is_not_a_letter(letter: str) -> None:
    with pytest.raises(EvalkitError, match="correct_letter"):
        reward("Answer: A", letter)
