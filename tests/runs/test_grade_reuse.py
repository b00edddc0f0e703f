"""A stored grade is reused only while everything that decides it is unchanged.

Each test changes one input of a finished run (the golds, the answer-region settings), reruns the
same command and checks that nothing is regenerated, that what changed is re-graded, and that the
summary equals what `evalkit grade` computes from the same directory.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from typer.testing import Result

from evalkit.testing.server import ScriptedServer


def _latest_grades(run_dir: Path) -> dict[tuple[str, int], dict[str, Any]]:
    rows = [json.loads(x) for x in (run_dir / "grades.jsonl").read_text().splitlines()]
    return {(r["sample_id"], r["sample_index"]): r for r in rows}


def test_changed_golds_are_regraded_without_calling_the_model(
    tmp_path: Path,
    script: ModuleType,
    server: ScriptedServer,
    cli: Callable[..., Result],
    run_args: Callable[..., list[str]],
    regraded: Callable[[Path], dict[str, Any]],
) -> None:
    old = script.write_problems(tmp_path / "A")
    new = script.write_problems(tmp_path / "B", gold_shift={1: 1, 3: 1})
    out = tmp_path / "run"
    first = cli(*run_args(out, old, "--n", "4"))
    assert first.exit_code == 0, first.output
    before = json.loads((out / "summary.json").read_text())["tasks"]["aime24"]
    requests = server.request_count

    second = cli(*run_args(out, new, "--n", "4"))
    assert second.exit_code == 0, second.output
    assert server.request_count == requests, "a gold change must not call the model"
    after = json.loads((out / "summary.json").read_text())["tasks"]["aime24"]
    assert after == regraded(out)["aime24"]
    assert after["metrics"]["pass@1"] != before["metrics"]["pass@1"]
    gold = str(script.answer_for("Problem 1: find the number of lattice points described in case 1.") + 1)
    for (sample_id, _), row in _latest_grades(out).items():
        if sample_id == "2024-I-2" and row["verdict"] in ("correct", "wrong"):
            assert f"'{gold}'" in row["explanation"], row["explanation"]


def test_answer_region_change_regrades_every_stored_sample(
    tmp_path: Path,
    script: ModuleType,
    server: ScriptedServer,
    cli: Callable[..., Result],
    run_args: Callable[..., list[str]],
    regraded: Callable[[Path], dict[str, Any]],
) -> None:
    data = script.write_problems(tmp_path / "data")
    out = tmp_path / "run"
    assert cli(*run_args(out, data, "--n", "4", "--limit", "3")).exit_code == 0
    requests = server.request_count
    # Extended to more problems under another policy: the first three must not keep their old grades.
    result = cli(*run_args(out, data, "--n", "4", "--limit", "6", "--think-policy", "none"))
    assert result.exit_code == 0, result.output
    assert server.request_count == requests + 3 * 4
    summary = json.loads((out / "summary.json").read_text())["tasks"]["aime24"]
    assert summary == regraded(out)["aime24"]
    # Under `none` the whole text is the answer: no sample can be unclosed thinking.
    assert summary["rates"]["unclosed_think"] == 0.0
    assert all(r["verdict"] != "unclosed_think" for r in _latest_grades(out).values())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["think"]["policy"] == "none"
