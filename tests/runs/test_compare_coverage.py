"""compare and gate read exactly the (problem, sample) set each summary covers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from typer.testing import Result


def test_compare_and_gate_ignore_rows_outside_the_summary_after_limit_shrinks(
    tmp_path: Path, script: ModuleType, cli: Callable[..., Result], run_args: Callable[..., list[str]]
) -> None:
    data = script.write_problems(tmp_path / "data", count=5)
    a, b = tmp_path / "a", tmp_path / "b"
    assert cli(*run_args(a, data, "--n", "4", "--limit", "5")).exit_code == 0
    # Shrunk: the summary now covers 3 problems although generations.jsonl holds 5.
    assert cli(*run_args(a, data, "--n", "4", "--limit", "3")).exit_code == 0
    assert json.loads((a / "summary.json").read_text())["tasks"]["aime24"]["num_problems"] == 3
    assert cli(*run_args(b, data, "--n", "4", "--limit", "5", "--seed", "1")).exit_code == 0
    assert cli(*run_args(b, data, "--n", "4", "--limit", "3", "--seed", "1")).exit_code == 0

    compared = cli("compare", a, b)
    assert compared.exit_code == 0, compared.output
    assert "of 3" in compared.output and "of 5" not in compared.output

    gate_json = tmp_path / "gate.json"
    gated = cli("gate", "--baseline", a, "--candidate", b, "--max-drop", "100", "--json", gate_json)
    assert gated.exit_code == 0, gated.output
    (task,) = json.loads(gate_json.read_text())["tasks"]
    assert task["problems"] == 3
    assert task["method"] == "paired-bootstrap", task
    summary_a = json.loads((a / "summary.json").read_text())["tasks"]["aime24"]["metrics"]["pass@1"]["value"]
    assert task["baseline"] == summary_a
