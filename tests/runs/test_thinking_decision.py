"""`--think-policy auto` decides per run whether the model thinks, and every grade follows the decision.

An R1-style template opens `<think>` in the prompt, so a sample that stops mid-thought carries no tag
and reads like a plain answer. Once any sample of the run closes its thinking, such a sample has no
answer, even if it was generated (and graded) before the first sample that showed thinking.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import Result

from evalkit.seeds import derive_seed
from evalkit.testing.server import ScriptedServer

HERE = Path(__file__).resolve().parent


def _grades(out: Path) -> dict[tuple[str, int], dict[str, Any]]:
    rows = [json.loads(x) for x in (out / "grades.jsonl").read_text().splitlines()]
    return {(r["sample_id"], r["sample_index"]): r for r in rows}


@pytest.fixture
def r1_server(script: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedServer]:
    # The very first request of the run (problem 1, sample 0) stops mid-thought, as do two others.
    tagless = [derive_seed(0, "aime24", "2024-I-1", 0), derive_seed(0, "aime24", "2024-I-2", 1)]
    monkeypatch.setenv(script.TAGLESS_ENV, ",".join(map(str, tagless)))
    with ScriptedServer(f"{HERE / 'answer_script.py'}:r1_reply") as server:
        yield server


def _args(server: ScriptedServer, out: Path, data: Path) -> list[str]:
    return [
        "run", "--model", "r1-style", "--base-url", server.url, "--tasks", "aime24", "--n", "2", "--limit", "3",
        "--data-dir", str(data), "--output", str(out), "--quiet", "--concurrency", "1",
    ]  # fmt: skip


def test_a_tagless_unfinished_sample_of_a_reasoning_run_has_no_answer_even_when_generated_first(
    tmp_path: Path,
    script: ModuleType,
    r1_server: ScriptedServer,
    cli: Callable[..., Result],
    regraded: Callable[[Path], dict[str, Any]],
) -> None:
    data = script.write_problems(tmp_path / "data", count=3)
    out = tmp_path / "run"
    result = cli(*_args(r1_server, out, data))
    assert result.exit_code == 0, result.output
    grades = _grades(out)
    for key in (("2024-I-1", 0), ("2024-I-2", 1)):
        assert grades[key]["verdict"] == "unclosed_think", grades[key]
    assert sum(r["verdict"] == "correct" for r in grades.values()) == 4
    summary = json.loads((out / "summary.json").read_text())
    assert summary["think"]["reasoning_model"] is True
    assert json.loads((out / "manifest.json").read_text())["think"]["reasoning_model"] is True
    assert summary["tasks"]["aime24"]["rates"]["unclosed_think"] == pytest.approx(2 / 6)
    assert summary["tasks"] == regraded(out)


def test_a_model_that_never_thinks_is_graded_on_its_whole_text(
    tmp_path: Path, script: ModuleType, cli: Callable[..., Result], regraded: Callable[[Path], dict[str, Any]]
) -> None:
    data = script.write_problems(tmp_path / "data", count=3)
    out = tmp_path / "run"
    with ScriptedServer(f"{HERE / 'answer_script.py'}:plain_reply") as server:
        result = cli(*_args(server, out, data))
    assert result.exit_code == 0, result.output
    assert all(r["verdict"] == "correct" for r in _grades(out).values())
    summary = json.loads((out / "summary.json").read_text())
    assert summary["think"]["reasoning_model"] is False
    assert summary["tasks"] == regraded(out)
