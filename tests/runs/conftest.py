"""Fixtures for the stored-runs tests: the scripted model, data dirs, the CLI, and run-dir checks."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from evalkit.cli import app
from evalkit.registry import module_from_file
from evalkit.testing.server import ScriptedServer

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "answer_script.py"


@pytest.fixture(scope="session")
def script() -> ModuleType:
    """answer_script.py: `write_problems`, `answer_for`, `behaviour`."""
    return module_from_file(SCRIPT)


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedServer]:
    """The scripted model, served from a child process."""
    with ScriptedServer(f"{SCRIPT}:reply") as s:
        yield s


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run `evalkit ARGS` in this process; returns typer's Result (exit_code, output)."""

    def invoke(*args: str | Path) -> Result:
        return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})

    return invoke


@pytest.fixture
def run_args(server: ScriptedServer) -> Callable[..., list[str]]:
    """`run` arguments against the scripted server: run_args(out, data, "--n", "4", ...)."""

    def build(out: Path, data: Path, *extra: str, tasks: str = "aime24") -> list[str]:
        return [
            "run", "--model", "scripted", "--base-url", server.url, "--tasks", tasks, "--data-dir", str(data),
            "--output", str(out), "--quiet", "--max-retries", "1", "--request-timeout", "20", *extra,
        ]  # fmt: skip

    return build


def _snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def snapshot() -> Callable[[Path], dict[str, bytes]]:
    """Every file under a directory with its bytes (to check that a command wrote nothing)."""
    return _snapshot


def summary_tasks(run_dir: Path) -> dict[str, Any]:
    """summary.json's per-task entries."""
    tasks: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())["tasks"]
    return tasks


@pytest.fixture
def regraded(cli: Callable[..., Result], tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], dict[str, Any]]:
    """The per-task summary `evalkit grade` computes on a copy of a run directory."""

    def grade_copy(run_dir: Path) -> dict[str, Any]:
        copy = tmp_path_factory.mktemp("regrade") / run_dir.name
        shutil.copytree(run_dir, copy)
        result = cli("grade", copy, "--quiet")
        assert result.exit_code == 0, result.output
        return summary_tasks(copy)

    return grade_copy
