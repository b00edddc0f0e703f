"""summarize_task is pure: hand-made ledgers in, summary entries out, no pool, no run directory."""

from __future__ import annotations

from math import comb

import pytest

from evalkit.ledger import GenInfo, TaskLedger
from evalkit.summary import summarize_task
from evalkit.tasks import get_task
from evalkit.types import Generation, Sample, Score

N = 5
SAMPLES = [Sample("p1", "q1", "1"), Sample("p2", "q2", "2")]
# (value, vote) per sample index: p1 is right 3 times of 5; p2 twice, its three wrong votes all differ.
ROWS = {
    "p1": [(1, "a"), (1, "a"), (1, "a"), (0, "w0"), (0, "w1")],
    "p2": [(0, "w0"), (0, "w1"), (0, "w2"), (1, "b"), (1, "b")],
}


def ledger(rows: dict[str, list[tuple[int, str]]] = ROWS, error_at: tuple[str, int] | None = None) -> TaskLedger:
    out = TaskLedger([s.id for s in SAMPLES], N)
    for p, sample in enumerate(SAMPLES):
        for i, (value, vote) in enumerate(rows.get(sample.id, [])):
            out.add_generation((p, i), GenInfo.of(Generation("aime24", "v", sample.id, i, 0, "h", text=vote)))
            score = Score(float(value), "correct" if value else "wrong", vote=vote)
            if (sample.id, i) == error_at:
                score = Score(0.0, "error", explanation="the grader raised RuntimeError: boom")
            out.add_score((p, i), score)
    return out


def separate(rows: dict[str, list[tuple[int, str]]]) -> dict[str, dict[str, int]]:
    """Every distinct vote its own class."""
    return {sid: {v: i for i, v in enumerate(sorted({vote for _, vote in r}))} for sid, r in rows.items()}


def pass_at(k: int) -> float:
    # The unbiased estimator, per problem, averaged (Chen et al. 2021), computed here independently.
    correct = [sum(v for v, _ in r) for r in ROWS.values()]
    return sum(1 - comb(N - c, k) / comb(N, k) for c in correct) / len(correct)


def test_pass_at_k_is_the_unbiased_estimator_over_the_ledger() -> None:
    entry = summarize_task(get_task("aime24"), SAMPLES, ledger(), separate(ROWS), 1000)
    assert entry["error"] is None and entry["n"] == N and entry["sample_ids"] == ["p1", "p2"]
    for k in (1, 2, 4):
        assert entry["metrics"][f"pass@{k}"]["value"] == pytest.approx(pass_at(k))
    assert entry["metrics"]["pass@1"]["value"] == pytest.approx(0.5)


def test_cons_at_n_counts_votes_by_the_classes_it_is_given() -> None:
    # Apart, p2's right answer "b" (2 votes) beats each wrong one (1 vote); merged into one class by
    # the grader's relation, the wrong answers win 3 to 2. The summary judges nothing itself.
    apart = summarize_task(get_task("aime24"), SAMPLES, ledger(), separate(ROWS), 1000)
    merged_classes = {**separate(ROWS), "p2": {"w0": 0, "w1": 0, "w2": 0, "b": 1}}
    merged = summarize_task(get_task("aime24"), SAMPLES, ledger(), merged_classes, 1000)
    assert apart["metrics"][f"cons@{N}"]["value"] == pytest.approx(1.0)
    assert merged["metrics"][f"cons@{N}"]["value"] == pytest.approx(0.5)


def test_a_missing_sample_is_an_error_not_a_smaller_denominator() -> None:
    short = {"p1": ROWS["p1"], "p2": ROWS["p2"][:4]}
    entry = summarize_task(get_task("aime24"), SAMPLES, ledger(short), separate(short), 1000)
    assert entry["metrics"] == {} and "9 of 10 samples graded" in entry["error"]


def test_a_grade_error_is_an_error_not_a_wrong_answer() -> None:
    entry = summarize_task(get_task("aime24"), SAMPLES, ledger(error_at=("p1", 0)), separate(ROWS), 1000)
    assert entry["metrics"] == {}
    assert "1 could not be graded" in entry["error"] and "RuntimeError: boom" in entry["error"]
    assert entry["rates"]["error"] == pytest.approx(0.1)
