"""Property: after any sequence of commands, summary.json equals what `evalkit grade` computes.

A seeded random walk over what users do to a run directory (resume, a larger or smaller --limit, a
larger n, other golds in the data, another answer-region policy, and kill -9 in the middle of a run)
drives real `evalkit run` processes against the scripted model. After every command that finished,
the run's summary must equal a fresh `evalkit grade` of a copy of the directory, and the exit code
must say whether the summary is complete. After a kill, the manifest must not claim completion.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from evalkit.testing.server import ScriptedServer

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SEED = 20261201
ACTIONS = ("resume", "limit", "n", "data", "policy", "kill")


def _command(url: str, out: Path, data: Path, limit: int, n: int, policy: str) -> list[str]:
    return [
        sys.executable, "-m", "evalkit.cli", "run", "--model", "scripted", "--base-url", url, "--tasks", "aime24",
        "--limit", str(limit), "--n", str(n), "--data-dir", str(data), "--output", str(out), "--quiet",
        "--think-policy", policy, "--concurrency", "4", "--max-retries", "1",
    ]  # fmt: skip


def test_summary_always_equals_a_fresh_regrade(
    tmp_path: Path, script: ModuleType, regraded: Callable[[Path], dict[str, Any]]
) -> None:
    rng = random.Random(SEED)
    datas = [
        script.write_problems(tmp_path / "A", 5),
        script.write_problems(tmp_path / "B", 5, gold_shift={0: 1, 2: 3}),
    ]
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "300"}
    state = {"limit": 3, "n": 2, "data": 0, "policy": "auto"}
    history: list[str] = []
    with ScriptedServer(f"{HERE / 'answer_script.py'}:slow_reply") as server:
        # Every action twice, in a random order, after a first run.
        actions = [*ACTIONS, *ACTIONS]
        rng.shuffle(actions)
        for action in ["run", *actions]:
            if action == "limit":
                state["limit"] = rng.randint(1, 5)
            elif action == "n":
                state["n"] = rng.choice([2, 4])
            elif action == "data":
                state["data"] = 1 - state["data"]
            elif action == "policy":
                state["policy"] = rng.choice([p for p in ("auto", "none", "required") if p != state["policy"]])
            history.append(f"{action} {state}")
            cmd = _command(server.url, out, datas[state["data"]], state["limit"], state["n"], state["policy"])
            proc = subprocess.Popen(
                cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
            )
            if action == "kill":
                time.sleep(rng.uniform(0.5, 3.0))
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                manifest = json.loads((out / "manifest.json").read_text())
                if proc.returncode == -signal.SIGKILL:
                    assert manifest["status"] != "complete" or _finished_before_kill(out, state), history
                continue
            _, stderr = proc.communicate(timeout=300)
            summary = json.loads((out / "summary.json").read_text())
            assert proc.returncode == (0 if summary["complete"] else 3), (history, stderr.decode()[-2000:])
            assert summary["tasks"] == regraded(out), history
            entry = summary["tasks"]["aime24"]
            assert entry["num_problems"] == state["limit"] and entry["n"] == state["n"], history


def _finished_before_kill(out: Path, state: dict[str, Any]) -> bool:
    """A kill that landed after the run wrote its final manifest (the run was that quick)."""
    summary = json.loads((out / "summary.json").read_text())
    entry = summary["tasks"]["aime24"]
    return bool(entry["num_problems"] == state["limit"] and entry["n"] == state["n"])
