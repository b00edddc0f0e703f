"""Bad input battery: every command turns a user's mistake into exit code 2 and a message that names
the problem and the fix, never a traceback. Each case is a real `python -m evalkit.cli` subprocess."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType

import pytest

from evalkit.config import BackendConfig, RunConfig
from evalkit.runner import run
from evalkit.testing.processes import cli_env
from evalkit.testing.server import Reply, ScriptedServer


@dataclass(frozen=True)
class World:
    """What the cases point at: data, finished and unfinished runs, a dead URL, a busy run."""

    data: Path
    tmp: Path
    run_n2: Path
    run_n4: Path
    unfinished: Path
    bad_data: Path
    dead_url: str
    busy: tuple[Path, str] | None = None

    def run_args(self, *extra: str) -> list[str]:
        """`run` with a valid model and task; `extra` adds (or, later on the line, overrides) options."""
        return ["run", "--model", "scripted", "--tasks", "aime24", "--data-dir", str(self.data), "--quiet", *extra]

    def openai(self, *extra: str) -> list[str]:
        return self.run_args("--backend", "openai", "--base-url", self.dead_url, *extra)


@dataclass(frozen=True)
class Case:
    """One mistake: the command line, and words of the message that name the problem and the fix."""

    id: str
    argv: Callable[[World], list[str]]
    problem: tuple[str, ...]
    fix: tuple[str, ...]
    needs_busy_run: bool = False


CASES = [
    Case("unknown-task", lambda w: w.openai("--tasks", "aime2024"), ("Unknown task 'aime2024'",), ("evalkit tasks",)),
    Case("unknown-backend", lambda w: w.run_args("--backend", "vlm"), ("--backend",), ("'vllm'", "'openai'")),
    Case("n-zero", lambda w: w.openai("--n", "0"), ("--n",), ("greater than or equal to 1",)),
    Case("task-n-zero", lambda w: w.openai("--tasks", "aime24@n=0"), ("'aime24@n=0'",), ("at least 1",)),
    Case(
        "negative-temperature",
        lambda w: w.openai("--temperature", "-0.5"),
        ("--temperature",),
        ("greater than or equal to 0",),
    ),
    Case("top-p-zero", lambda w: w.openai("--top-p", "0"), ("--top-p",), ("greater than 0",)),
    Case("top-p-above-one", lambda w: w.openai("--top-p", "1.5"), ("--top-p",), ("less than or equal to 1",)),
    Case(
        "duplicate-task",
        lambda w: w.openai("--tasks", "aime24,aime24"),
        ("more than once", "aime24"),
        ("List each task once",),
    ),
    Case("limit-zero", lambda w: w.openai("--limit", "0"), ("--limit",), ("greater than or equal to 1",)),
    Case(
        "missing-data-dir",
        lambda w: w.openai("--data-dir", str(w.tmp / "no-such-data")),
        ("no-such-data", "does not exist"),
        ("--data-dir", "EVALKIT_DATA_DIR"),
    ),
    Case(
        "malformed-dataset-line",
        lambda w: w.openai("--data-dir", str(w.bad_data)),
        ("Malformed dataset line", "aime24/test.jsonl:4"),
        ("Fix or remove that line",),
    ),
    Case(
        "unreachable-server",
        lambda w: w.openai("--output", str(w.tmp / "unreachable")),
        ("Cannot reach the OpenAI-compatible server at http://127.0.0.1:",),
        ("Start it", "fix --base-url"),
    ),
    Case(
        "openai-without-url",
        lambda w: w.run_args("--backend", "openai"),
        ("needs at least one --base-url",),
        ("--base-url http",),
    ),
    Case(
        "url-without-scheme",
        lambda w: w.openai("--base-url", "127.0.0.1:8000/v1"),
        ("127.0.0.1:8000/v1",),
        ("http://",),
    ),
    Case(
        "replay-without-file",
        lambda w: w.run_args("--backend", "replay"),
        ("--backend replay needs --replay",),
        ("--replay FILE",),
    ),
    Case(
        "replay-file-missing",
        lambda w: w.run_args("--backend", "replay", "--replay", str(w.tmp / "gens.jsonl")),
        ("gens.jsonl", "does not exist"),
        ("--replay FILE",),
    ),
    Case(
        "run-dir-locked",
        lambda w: (
            w.run_args("--backend", "openai", "--base-url", w.busy[1], "--output", str(w.busy[0])) if w.busy else []
        ),
        ("Another evalkit process is writing",),
        ("Wait for it to finish", "another --output"),
        needs_busy_run=True,
    ),
    Case(
        "grade-not-a-run", lambda w: ["grade", str(w.data)], ("not a run directory", "manifest.json"), ("evalkit run",)
    ),
    Case("grade-missing-dir", lambda w: ["grade", str(w.tmp / "nope")], ("does not exist",), ("evalkit run",)),
    Case(
        "report-unknown-format", lambda w: ["report", str(w.run_n2), "--format", "pdf"], ("'pdf'",), ("md, csv, html",)
    ),
    Case(
        "report-unfinished-run",
        lambda w: ["report", str(w.unfinished)],
        ("has no summary.json",),
        ("rerunning the same `evalkit run` command", "evalkit grade"),
    ),
    Case(
        "compare-missing-run",
        lambda w: ["compare", str(w.run_n2), str(w.tmp / "nope")],
        ("does not exist",),
        ("evalkit run",),
    ),
    Case(
        "gate-mismatched-runs",
        lambda w: ["gate", "--baseline", str(w.run_n2), "--candidate", str(w.run_n4)],
        ("n (samples per problem) differs",),
        ("same tasks, data, n and graders",),
    ),
    Case(
        "gate-unknown-metric",
        lambda w: ["gate", "--baseline", str(w.run_n2), "--candidate", str(w.run_n2), "--metric", "pass@3"],
        ("'pass@3'",),
        ("another --metric",),
    ),
    Case(
        "gate-confidence-above-one",
        lambda w: ["gate", "--baseline", str(w.run_n2), "--candidate", str(w.run_n2), "--confidence", "1.5"],
        ("--confidence", "1.5"),
        ("between 0 and 1",),
    ),
    Case("tasks-unknown-option", lambda w: ["tasks", "--all"], ("No such option: --all",), ("--help",)),
    Case(
        "codeforces-bad-contest-id",
        lambda w: ["codeforces", "fetch", "--contests", "2030,abc", "--data-dir", str(w.tmp / "cf")],
        ("Bad contest id 'abc'",),
        ("comma-separated numbers",),
    ),
]


def _dead_url() -> str:
    # A port that was free a moment ago: nothing listens there, so connections are refused at once.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.fixture(scope="module")
def world(kit: ModuleType, data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> World:
    tmp = tmp_path_factory.mktemp("bad-input")
    runs = {}
    math = kit.math_script()
    with ScriptedServer(lambda body, attempt: math.reply(body, 1)) as server:
        for n in (2, 4):
            out = tmp / f"run-n{n}"
            config = RunConfig(
                model="scripted",
                tasks=f"aime24@n={n}",
                limit=3,
                backend=BackendConfig(name="openai", base_urls=(server.url,)),
                data_dir=data_dir,
                output=out,
            )
            runs[n] = run(config, quiet=True)
    unfinished = tmp / "unfinished"
    shutil.copytree(runs[2], unfinished)
    (unfinished / "summary.json").unlink()
    bad = tmp / "bad-data" / "aime24"
    bad.mkdir(parents=True)
    good_lines = (data_dir / "aime24" / "test.jsonl").read_text(encoding="utf-8").splitlines()[:3]
    (bad / "test.jsonl").write_text("\n".join([*good_lines, '{"id": "2024-I-4", "problem": ']) + "\n", encoding="utf-8")
    return World(data_dir, tmp, runs[2], runs[4], unfinished, bad.parent, _dead_url())


@pytest.fixture(scope="module")
def busy_run(kit: ModuleType, world: World) -> Iterator[tuple[Path, str]]:
    """A run directory a live `evalkit run` holds (its requests hang until it is killed), and its server."""
    out = world.tmp / "busy"
    with ScriptedServer(lambda body, attempt: Reply(text="\\boxed{1}", delay_s=120)) as server:
        argv = kit.evalkit(*world.run_args("--backend", "openai", "--base-url", server.url, "--output", str(out)))
        holder = subprocess.Popen(argv, env=cli_env(), start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while not (out / "manifest.json").exists() and holder.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert holder.poll() is None and (out / "manifest.json").exists(), "the first run did not start"
            yield out, server.url
        finally:
            os.killpg(holder.pid, signal.SIGKILL)
            holder.wait(timeout=30)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_exits_2_naming_problem_and_fix(
    case: Case, world: World, kit: ModuleType, request: pytest.FixtureRequest
) -> None:
    if case.needs_busy_run:
        world = replace(world, busy=request.getfixturevalue("busy_run"))
    result = subprocess.run(
        # cwd: a mistake must not leave a results/ folder wherever the command was started.
        kit.evalkit(*case.argv(world)),
        env=cli_env(),
        cwd=world.tmp,
        capture_output=True,
        text=True,
        timeout=120,
    )
    message = re.sub(r"\s+", " ", result.stderr + result.stdout)
    assert result.returncode == 2, f"exit {result.returncode}: {message}"
    assert "Traceback" not in message, message
    for words in (case.problem, case.fix):
        assert all(w in message for w in words), f"{case.id}: expected {words} in: {message}"
