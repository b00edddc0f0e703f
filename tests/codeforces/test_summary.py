"""The codeforces summary entry: rating against a brute-force reference, percentile, contest table, errors."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from evalkit.codeforces.task_summary import summarize_codeforces
from evalkit.data import load_task_samples
from evalkit.tasks import Task, get_task
from evalkit.types import Sample, Score

# Accepted flags per sample index (n = 4) for each judged problem.
RESULTS = {
    "9001/A": [True, True, False, True],
    "9001/B": [True, False, False, False],
    "9002/A": [True, True, True, False],
    "9002/B": [False, True, False, False],
}


def _setup(synthetic: ModuleType, tmp_path: Path, **build: bool) -> tuple[Task, list[Sample]]:
    data = synthetic.build(tmp_path, **build)
    task = get_task("codeforces", contests=data.task_option)
    return task, load_task_samples(task, tmp_path).samples


def _scores(results: dict[str, list[bool]]) -> dict[str, list[Score]]:
    return {sid: [Score(1.0, "AC") if ok else Score(0.0, "WA") for ok in flags] for sid, flags in results.items()}


def test_rating_is_the_mean_contest_rating_of_the_virtual_participants(synthetic: ModuleType, tmp_path: Path) -> None:
    task, samples = _setup(synthetic, tmp_path)
    entry = summarize_codeforces(task, samples, _scores(RESULTS), tmp_path)
    assert "error" not in entry, entry.get("error")
    rating = entry["metrics"]["rating"]
    assert rating["value"] == pytest.approx(synthetic.expected_rating(RESULTS))
    assert rating["ci95"][0] <= rating["value"] <= rating["ci95"][1] and rating["stderr"] > 0
    assert entry["n"] == 4 and entry["num_problems"] == 4
    assert entry["metrics"]["pass@1"]["value"] == pytest.approx(8 / 16)
    json.dumps(entry)  # summary.json must be able to hold it


def test_percentile_is_a_fraction_of_the_population_below_the_rating(synthetic: ModuleType, tmp_path: Path) -> None:
    task, samples = _setup(synthetic, tmp_path)
    entry = summarize_codeforces(task, samples, _scores(RESULTS), tmp_path)
    value = entry["metrics"]["rating"]["value"]
    below = sum(1 for r in synthetic.POPULATION if r < value) / len(synthetic.POPULATION)
    percentile = entry["metrics"]["percentile"]
    assert percentile["value"] == pytest.approx(below)
    assert percentile["ci95"][0] <= percentile["value"] <= percentile["ci95"][1]


def test_contest_table_has_score_place_and_rating_per_participant(synthetic: ModuleType, tmp_path: Path) -> None:
    task, samples = _setup(synthetic, tmp_path)
    entry = summarize_codeforces(task, samples, _scores(RESULTS), tmp_path)
    cf, icpc = entry["contests"]
    assert cf["contest_id"] == 9001 and cf["type"] == "CF" and cf["excluded"] == {"C": "interactive"}
    first = cf["participants"][0]  # solved A and B: 1500 points, behind the 12 rows at 2900
    assert first["score"] == 1500.0 and first["place"] == 13
    pre = synthetic.effective_pre_ratings(9001)
    assert first["rating"] == synthetic.brute_force_rating(13, pre)
    assert icpc["participants"][3]["score"] == 0.0 and icpc["participants"][3]["place"] == 41
    assert entry["breakdown"]["problem"]["9001/A"]["solve_rate"] == 0.75


def test_a_perfect_and_an_empty_model_bracket_the_rating(synthetic: ModuleType, tmp_path: Path) -> None:
    task, samples = _setup(synthetic, tmp_path)
    best = summarize_codeforces(task, samples, _scores({k: [True] * 2 for k in RESULTS}), tmp_path)
    worst = summarize_codeforces(task, samples, _scores({k: [False] * 2 for k in RESULTS}), tmp_path)
    assert best["metrics"]["rating"]["value"] > worst["metrics"]["rating"]["value"]
    # Identical participants: the only spread left is between contests.
    assert all(len({p["rating"] for p in c["participants"]}) == 1 for c in best["contests"])


def test_judge_errors_block_the_rating_instead_of_counting_as_wrong(synthetic: ModuleType, tmp_path: Path) -> None:
    task, samples = _setup(synthetic, tmp_path)
    scores = _scores(RESULTS)
    scores["9002/A"][1] = Score(0.0, "error", explanation="sandbox failure: boom")
    entry = summarize_codeforces(task, samples, scores, tmp_path)
    assert entry["metrics"] == {} and "evalkit grade" in entry["error"] and "boom" in entry["error"]


def test_missing_standings_and_population_are_reported(synthetic: ModuleType, tmp_path: Path) -> None:
    task, samples = _setup(synthetic, tmp_path, population=False)
    entry = summarize_codeforces(task, samples, _scores(RESULTS), tmp_path)
    assert "percentile" not in entry["metrics"] and any("no percentile" in n for n in entry["notes"])
    (tmp_path / "codeforces" / "contests" / "9002" / "standings.json").unlink()
    missing = summarize_codeforces(task, samples, _scores(RESULTS), tmp_path)
    assert "evalkit codeforces fetch --contests 9002" in missing["error"]


def test_problems_judged_beyond_the_verifiable_rule_are_listed(synthetic: ModuleType, tmp_path: Path) -> None:
    data = synthetic.build(tmp_path)
    path = tmp_path / "codeforces" / "problems" / "synthetic.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[1]["official_tests_complete"] = False  # 9001/B: truncated official tests, no generated ones
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    strict = get_task("codeforces", contests=data.task_option)
    samples = load_task_samples(strict, tmp_path).samples
    entry = summarize_codeforces(
        strict, samples, _scores({k: v for k, v in RESULTS.items() if k != "9001/B"}), tmp_path
    )
    assert entry["contests"][0]["excluded"] == {"B": "not_verifiable", "C": "interactive"}
    assert entry["contests"][0]["unverifiable"] == [] and not any("problems=all" in n for n in entry["notes"])
    every = get_task("codeforces", contests=data.task_option, problems="all")
    entry = summarize_codeforces(every, load_task_samples(every, tmp_path).samples, _scores(RESULTS), tmp_path)
    assert entry["contests"][0]["unverifiable"] == ["B"] and entry["contests"][1]["unverifiable"] == []
    assert any("1 problem(s)" in n and "problems=all" in n for n in entry["notes"])
