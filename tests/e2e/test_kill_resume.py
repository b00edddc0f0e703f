"""kill -9 in the middle of a real `evalkit run`, then the same command again: nothing lost or doubled."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evalkit.testing.server import ScriptedServer

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "evalkit" / "_data"  # the bundled copies, laid out like an offline data dir

pytestmark = pytest.mark.slow


def _command(url: str, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "evalkit.cli", "run", "--model", "scripted", "--backend", "openai",
        "--base-url", url, "--tasks", "aime24@n=16", "--limit", "6", "--data-dir", str(DATA),
        "--output", str(out), "--concurrency", "4", "--quiet",
    ]  # fmt: skip


def _rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_kill_minus_nine_then_same_command_completes_with_exact_rows(tmp_path: Path) -> None:
    out = tmp_path / "run"
    reference = tmp_path / "reference"
    with ScriptedServer(f"{HERE / 'math_script.py'}:slow_reply") as server:
        subprocess.run(_command(server.url, reference), check=True, timeout=300)
        kills = 0
        for _ in range(3):
            proc = subprocess.Popen(_command(server.url, out), start_new_session=True)
            deadline = time.monotonic() + 120
            target = len(_rows(out / "generations.jsonl")) + 10
            while time.monotonic() < deadline and proc.poll() is None:
                if len(_rows(out / "generations.jsonl")) >= target:
                    break
                time.sleep(0.02)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                kills += 1
            proc.wait(30)
        assert kills >= 1, "the run finished before it could be killed"
        subprocess.run(_command(server.url, out), check=True, timeout=300)
    rows = _rows(out / "generations.jsonl")
    keys = [(r["task"], r["sample_id"], r["sample_index"]) for r in rows]
    assert len(set(keys)) == 6 * 16
    assert len(keys) == len(set(keys)), "a resumed run requests only missing samples"
    grades = _rows(out / "grades.jsonl")
    assert {(g["task"], g["sample_id"], g["sample_index"]) for g in grades} == set(keys)
    got = json.loads((out / "summary.json").read_text())["tasks"]["aime24"]["metrics"]
    want = json.loads((reference / "summary.json").read_text())["tasks"]["aime24"]["metrics"]
    assert got == want
