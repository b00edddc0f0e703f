"""The replay backend: stored generations in, nothing dropped or padded, bad rows named by line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evalkit.adapters.replay import ReplayAdapter, create
from evalkit.config import BackendConfig, RunConfig
from evalkit.errors import EvalkitError
from evalkit.graders.base import GraderRef, ThinkSettings, make_grader
from evalkit.types import Generation, Sample


def _write(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_round_trip_of_stored_generations_gives_identical_grades(
    tmp_path: Path, requests_for: Any, run_adapter: Any
) -> None:
    requests = requests_for(indices=range(2), problems=("p1", "p2"))
    texts = ["<think>adding</think> The answer is \\boxed{5050}.", "so \\boxed{6}", "\\boxed{12}", "nothing"]
    stored = [
        Generation.completed(r, text, finish_reason="stop", prompt_tokens=20, completion_tokens=9, max_tokens=None)
        for r, text in zip(requests, texts, strict=True)
    ]
    # A run's own generations.jsonl, extra fields included, replays as is.
    path = _write(tmp_path / "generations.jsonl", [g.to_dict() for g in stored])
    replayed = run_adapter(ReplayAdapter(path), requests)
    grader = make_grader(GraderRef("math"))
    samples = {"p1": Sample("p1", "q", "5050"), "p2": Sample("p2", "q", "6")}
    for original in stored:
        again = replayed[original.key]
        assert again == original
        assert grader.grade(samples[original.sample_id], again, ThinkSettings()) == grader.grade(
            samples[original.sample_id], original, ThinkSettings()
        )


def test_missing_keys_are_error_rows_and_extra_rows_are_reported(
    tmp_path: Path, requests_for: Any, run_adapter: Any
) -> None:
    path = _write(
        tmp_path / "replay.jsonl",
        [
            {"task": "toy", "sample_id": "p1", "sample_index": 0, "text": "a", "reasoning": "r"},
            {"task": "toy", "sample_id": "p1", "sample_index": 7, "text": "extra"},
            {"task": "other", "sample_id": "p1", "sample_index": 0, "text": "other task"},
            {"task": "toy", "sample_id": "p1", "sample_index": 1, "text": None, "error": "HTTP 500"},
        ],
    )
    adapter = create(RunConfig(model="m", tasks="toy", backend=BackendConfig(name="replay", replay=path)))
    out = run_adapter(adapter, requests_for(indices=range(3), problems=("p1",)))
    assert len(out) == 3
    assert out[("toy", "p1", 0)].text == "a" and out[("toy", "p1", 0)].reasoning == "r"
    assert out[("toy", "p1", 1)].error == "HTTP 500" and out[("toy", "p1", 1)].finish_reason == "error"
    missing = out[("toy", "p1", 2)]
    assert missing.text is None and missing.error is not None and "not in replay file" in missing.error
    assert adapter.unmatched() == [
        {"task": "toy", "sample_id": "p1", "sample_index": 7, "line": 2},
        {"task": "other", "sample_id": "p1", "sample_index": 0, "line": 3},
    ]
    assert adapter.identity()["rows"] == 4 and len(adapter.identity()["sha256"]) == 64


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ({"sample_id": "a", "sample_index": 0, "text": "x"}, "'task' is missing"),
        ({"task": "t", "sample_id": 1.5, "sample_index": 0, "text": "x"}, "'sample_id'"),
        ({"task": "t", "sample_id": "a", "sample_index": -1, "text": "x"}, "'sample_index'"),
        ({"task": "t", "sample_id": "a", "sample_index": 0}, "'text' is missing"),
        ({"task": "t", "sample_id": "a", "sample_index": 0, "text": "x", "finish_reason": 3}, "'finish_reason'"),
        (
            {"task": "t", "sample_id": "a", "sample_index": 0, "text": "x", "completion_tokens": "9"},
            "completion_tokens",
        ),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path: Path, row: Any, problem: str) -> None:
    path = _write(tmp_path / "bad.jsonl", [{"task": "t", "sample_id": 1, "sample_index": 0, "text": "ok"}, "", row])
    with pytest.raises(EvalkitError) as info:
        ReplayAdapter(path)
    assert f"{path}, line 3: " in str(info.value) and problem in str(info.value)


def test_duplicate_keys_name_both_lines(tmp_path: Path) -> None:
    row = {"task": "t", "sample_id": "a", "sample_index": 0, "text": "x"}
    path = _write(tmp_path / "dup.jsonl", [row, {**row, "sample_index": 1}, {**row, "sample_id": "a", "text": "y"}])
    with pytest.raises(EvalkitError, match=r"dup.jsonl: lines 1 and 3 both hold task='t' sample_id='a'"):
        ReplayAdapter(path)


def test_missing_file_and_missing_option(tmp_path: Path) -> None:
    with pytest.raises(EvalkitError, match="does not exist"):
        ReplayAdapter(tmp_path / "nope.jsonl")
    with pytest.raises(EvalkitError, match="--replay FILE"):
        create(RunConfig(model="m", tasks="toy", backend=BackendConfig(name="replay")))
