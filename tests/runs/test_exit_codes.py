"""Exit codes tell CI the truth, and a server that rejects everything is not hammered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from evalkit.testing.server import ScriptedServer

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SCRIPT = f"{HERE / 'answer_script.py'}:reply"


def _evalkit(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "300", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "evalkit.cli", *args], capture_output=True, text=True, env=full_env, timeout=300
    )


def _run(url: str, data: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return _evalkit(
        "run", "--model", "scripted", "--base-url", url, "--tasks", "aime24", "--data-dir", str(data),
        "--output", str(out), "--quiet", *extra,
    )  # fmt: skip


def test_a_server_that_rejects_every_request_stops_the_run_early_with_its_message(
    tmp_path: Path, script: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = script.write_problems(tmp_path / "data", count=30)
    out = tmp_path / "run"
    monkeypatch.setenv(script.REJECT_ENV, "1")  # inherited by the server's child process
    with ScriptedServer(SCRIPT) as rejecting:
        result = _run(rejecting.url, data, out, "--n", "64", "--concurrency", "4")
        sent = rejecting.request_count
    assert result.returncode == 3, result.stderr
    assert sent < 100, f"{sent} requests sent to a server that rejected every one of them"
    message = " ".join(result.stderr.split())
    assert "400" in message and "scripted fault" in message, message
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "incomplete"
    assert "400" in manifest["stopped"]


def test_an_incomplete_run_exits_3_and_a_complete_one_0(
    tmp_path: Path, script: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = script.write_problems(tmp_path / "data", count=2)
    out = tmp_path / "run"
    with monkeypatch.context() as patch:
        patch.setenv(script.REJECT_ENV, "1")
        with ScriptedServer(SCRIPT) as rejecting:
            failed = _run(rejecting.url, data, out, "--n", "2")
    assert failed.returncode == 3, failed.stderr
    assert "rerun" in " ".join(failed.stderr.split()).lower()
    with ScriptedServer(SCRIPT) as server:
        done = _run(server.url, data, out, "--n", "2")
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
