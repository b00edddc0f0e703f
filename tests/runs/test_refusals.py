"""A refused or failed-at-start command writes nothing, and one run directory holds one run.

Every test snapshots the run directory byte for byte before the command and compares afterwards.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import Result

Snapshot = Callable[[Path], dict[str, bytes]]


@pytest.fixture
def finished(
    tmp_path: Path, script: ModuleType, cli: Callable[..., Result], run_args: Callable[..., list[str]]
) -> Path:
    data = script.write_problems(tmp_path / "data", count=3)
    out = tmp_path / "run"
    result = cli(*run_args(out, data, "--n", "2"))
    assert result.exit_code == 0, result.output
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (("--temperature", "0.7"), "temperature"),
        (("--top-p", "0.5"), "top_p"),
        (("--max-tokens", "100"), "max_tokens"),
        (("--seed", "3"), "seed"),
        (("--api", "completions"), "api"),
        (("--model-arg", "x"), None),  # an unknown option: usage error before anything runs
    ],
)
def test_a_refused_rerun_leaves_every_file_byte_identical(
    finished: Path,
    tmp_path: Path,
    cli: Callable[..., Result],
    run_args: Callable[..., list[str]],
    snapshot: Snapshot,
    extra: tuple[str, ...],
    named: str | None,
) -> None:
    before = snapshot(finished)
    result = cli(*run_args(finished, tmp_path / "data", "--n", "2", *extra))
    assert result.exit_code == 2, result.output
    assert snapshot(finished) == before
    if named is not None:
        message = " ".join(result.output.split())
        assert named in message and "--overwrite" in message, message


def test_a_run_whose_server_is_down_at_start_writes_nothing(
    finished: Path, tmp_path: Path, cli: Callable[..., Result], run_args: Callable[..., list[str]], snapshot: Snapshot
) -> None:
    before = snapshot(finished)
    args = run_args(finished, tmp_path / "data", "--n", "2")
    args[args.index("--base-url") + 1] = f"http://127.0.0.1:{_free_port()}/v1"
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert snapshot(finished) == before


def test_a_refused_new_output_directory_is_not_created(
    tmp_path: Path, script: ModuleType, cli: Callable[..., Result], run_args: Callable[..., list[str]]
) -> None:
    data = script.write_problems(tmp_path / "data", count=2)
    out = tmp_path / "never"
    result = cli(*run_args(out, data, tasks="aime24@nonsense=1"))
    assert result.exit_code == 2
    assert not out.exists()


def test_another_task_set_is_refused_and_overwrite_keeps_the_other_tasks_rows(
    finished: Path,
    tmp_path: Path,
    cli: Callable[..., Result],
    run_args: Callable[..., list[str]],
    regraded: Callable[[Path], dict[str, Any]],
    snapshot: Snapshot,
) -> None:
    data = tmp_path / "data"
    before = snapshot(finished)
    refused = cli(*run_args(finished, data, "--n", "2", tasks="math500"))
    assert refused.exit_code == 2, refused.output
    message = " ".join(refused.output.split())
    assert "aime24" in message and "math500" in message and "--overwrite" in message
    assert snapshot(finished) == before

    def aime_grades() -> list[str]:
        lines = (finished / "grades.jsonl").read_text().splitlines()
        return [x for x in lines if json.loads(x)["task"] == "aime24"]

    kept = aime_grades()
    replaced = cli(*run_args(finished, data, "--n", "2", "--overwrite", tasks="math500"))
    assert replaced.exit_code == 0, replaced.output
    summary = json.loads((finished / "summary.json").read_text())
    assert list(summary["tasks"]) == ["math500"]
    assert aime_grades() == kept
    assert summary["tasks"] == regraded(finished)
    graded = cli("grade", finished, "--quiet")
    assert graded.exit_code == 0, graded.output
    assert aime_grades() == kept, "evalkit grade deleted another task's grade rows"


def test_another_model_is_refused_even_where_no_sample_overlaps(
    finished: Path, tmp_path: Path, cli: Callable[..., Result], run_args: Callable[..., list[str]], snapshot: Snapshot
) -> None:
    before = snapshot(finished)
    args = run_args(finished, tmp_path / "data", "--n", "2", tasks="math500")
    args[args.index("--model") + 1] = "another-model"
    result = cli(*args)
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert "scripted" in message and "another-model" in message
    assert snapshot(finished) == before


def test_files_are_created_with_the_process_umask(finished: Path, cli: Callable[..., Result]) -> None:
    for name in ("manifest.json", "summary.json", "generations.jsonl", "grades.jsonl"):
        mode = (finished / name).stat().st_mode & 0o777
        assert mode == 0o666 & ~_umask(), f"{name} has mode {oct(mode)}"
    assert cli("grade", finished, "--quiet").exit_code == 0
    for name in ("summary.json", "grades.jsonl"):
        assert (finished / name).stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask
