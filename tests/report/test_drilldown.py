"""The per-problem drill-down data behind the HTML leaderboard: answer regions, thinking, prompts."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from evalkit.report.html import clip, drilldown_data
from evalkit.report.rebuilt_prompts import load_prompts
from evalkit.report.runs import load_runs

SHARED_DATA = Path(__file__).resolve().parents[2] / "evalkit" / "_data"  # bundled, laid out as a data dir


def test_each_sample_shows_its_answer_region_with_thinking_apart(two_runs: list[Path]) -> None:
    data = drilldown_data(load_runs(two_runs), {})
    assert data["aime24"]["runs"] == ["org/strong-7b", "org/weak-1.5b"]
    problems = data["aime24"]["problems"]
    assert len(problems) == 12
    samples = [s for p in problems for s in p["runs"][0]["samples"]]
    assert len(samples) == 12 * 8
    answered = next(s for s in samples if s["verdict"] == "correct")
    assert answered["answer"].startswith("The answer is $\\boxed{")
    assert answered["thinking"].startswith("<think>Problem") and "</think>" not in answered["thinking"]
    assert answered["extracted"] and answered["tokens"] > 0 and answered["finish"] == "stop"
    cut = next(s for s in samples if s["finish"] == "length")
    assert cut["answer"] is None and cut["thinking"].startswith("<think>") and cut["verdict"] == "unclosed_think"


def test_problem_means_count_graded_samples(two_runs: list[Path]) -> None:
    problem = drilldown_data(load_runs(two_runs), {})["math500"]["problems"][0]
    run = problem["runs"][1]
    assert run["graded"] == 4
    assert run["mean"] == pytest.approx(sum(s["score"] for s in run["samples"]) / 4)


def test_long_text_keeps_head_and_tail() -> None:
    text = "a" * 3000 + "b" * 3000
    clipped = clip(text, 1000)
    assert clipped is not None
    assert clipped.startswith("a" * 500) and clipped.endswith("b" * 500)
    assert "[… 5000 characters not shown …]" in clipped
    assert clip("short", 1000) == "short"


def _offline_aime(tmp_path: Path, fake: ModuleType, content_hash: str | None) -> Path:
    from evalkit.data import load_task_samples
    from evalkit.tasks import get_task

    loaded = load_task_samples(get_task("aime24"), SHARED_DATA, limit=3)
    dataset = {
        "id": loaded.dataset_id,
        "revision": loaded.revision,
        "content_hash": content_hash or loaded.content_hash,
    }
    return Path(
        fake.write_run(
            tmp_path,
            fake.RunSpec(
                tasks=(fake.TaskShape("aime24", 3, 2),),
                sample_ids={"aime24": [s.id for s in loaded.samples]},
                overrides={"aime24": {"dataset": dataset}},
                config={"data_dir": str(SHARED_DATA), "limit": 3, "tasks": "aime24"},
            ),
        )
    )


def test_prompts_come_from_offline_data_with_the_recorded_hash(tmp_path: Path, fake: ModuleType) -> None:
    (run,) = load_runs([_offline_aime(tmp_path, fake, None)])
    prompts, notes = load_prompts(run)
    assert notes == []
    assert prompts["aime24"]["2024-I-1"].startswith("Every morning Aya goes for a $9$-kilometer-long walk")
    assert prompts["aime24"]["2024-I-1"].endswith("put your final answer within \\boxed{}.")
    data = drilldown_data([run], {run.label: prompts})
    assert data["aime24"]["problems"][0]["prompt"].startswith("Every morning Aya")


def test_prompts_are_withheld_when_the_data_differs_from_the_run(tmp_path: Path, fake: ModuleType) -> None:
    (run,) = load_runs([_offline_aime(tmp_path, fake, "0" * 64)])
    prompts, notes = load_prompts(run)
    assert prompts == {}
    assert notes and "differs from the run's" in notes[0]


def test_no_offline_data_means_no_prompts_and_no_hub_access(
    two_runs: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EVALKIT_DATA_DIR", raising=False)
    (run,) = load_runs(two_runs[:1])
    assert load_prompts(run) == ({}, [])


def test_reasoning_returned_separately_is_the_thinking(tmp_path: Path, fake: ModuleType) -> None:
    import json

    path = fake.write_run(
        tmp_path, fake.RunSpec(tasks=(fake.TaskShape("aime24", 2, 2),), truncate_rate=0, no_answer_rate=0)
    )
    rows = [json.loads(line) for line in (path / "generations.jsonl").read_text().splitlines()]
    for row in rows:
        row["reasoning"], row["text"] = "Let me think about it.", "Final: \\boxed{10}"
    (path / "generations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    sample = drilldown_data(load_runs([path]), {})["aime24"]["problems"][0]["runs"][0]["samples"][0]
    assert sample["answer"] == "Final: \\boxed{10}"
    assert sample["thinking"] == "Let me think about it."
