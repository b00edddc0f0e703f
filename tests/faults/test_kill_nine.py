"""kill -9 at 20 random points of a real `evalkit run`, each time resumed by the same command.

The run is a CLI subprocess in its own session; the whole process group (grading workers included)
is killed with SIGKILL. Ten kills land in the generation phase (at random generation counts), ten in
the grading phase (generation done, at random grade counts); a seeded random.Random picks the points
and a small random delay after each so a kill can fall mid-write. The answers of kill_script.py are
costly to grade, so grading trails generation and the grading phase is long enough to be hit.
At the end: exact row counts, no duplicate keys, every key graded once, and the same metrics as an
uninterrupted run with the same seeds.
"""

from __future__ import annotations

import functools
import os
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from evalkit.testing.processes import cli_env
from evalkit.testing.server import ScriptedServer

pytestmark = pytest.mark.slow

SEED = 20250807
PROBLEMS = 30
N = 16
TOTAL = PROBLEMS * N
KILLS_PER_PHASE = 10
ROUND_TIMEOUT_S = 120.0
# Grades a kill in the grading phase leaves undone at the least.
MIN_LEFT = 16


class Counts:
    """Newline-terminated lines of one JSONL file, recounted only when its size changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._size = -1
        self._count = 0

    def __call__(self) -> int:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return 0
        if size != self._size:
            self._size, self._count = size, self.path.read_bytes().count(b"\n")
        return self._count


def _command(kit: ModuleType, url: str, data: Path, out: Path) -> list[str]:
    return kit.evalkit(  # type: ignore[no-any-return]
        "run", "--model", "scripted", "--backend", "openai", "--base-url", url,
        "--tasks", f"aime24@n={N}", "--limit", str(PROBLEMS), "--data-dir", str(data), "--output", str(out),
        "--concurrency", "8", "--grading-workers", "1", "--quiet",
    )  # fmt: skip


def _reached(gens: Counts, gen_target: int, grades: Counts, grade_target: int) -> bool:
    return gens() >= gen_target and grades() >= grade_target


def _kill_when(proc: subprocess.Popen[bytes], reached: Callable[[], bool], delay_s: float) -> bool:
    """SIGKILL the process group once `reached()` holds (plus `delay_s`); False if it exited first."""
    deadline = time.monotonic() + ROUND_TIMEOUT_S
    while proc.poll() is None and not reached():
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise AssertionError(f"the run made no progress in {ROUND_TIMEOUT_S:g} s")
        time.sleep(0.01)
    time.sleep(delay_s)
    if proc.poll() is not None:
        return False
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return True


def test_twenty_kill_nines_then_same_command_matches_uninterrupted_run(
    kit: ModuleType, data_dir: Path, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    out, reference = tmp_path / "run", tmp_path / "reference"
    gens, grades = Counts(out / "generations.jsonl"), Counts(out / "grades.jsonl")
    env = cli_env()
    phases: Counter[str] = Counter()
    gen_points = sorted(rng.sample(range(TOTAL // 10, TOTAL - TOTAL // 10), KILLS_PER_PHASE))
    with ScriptedServer(f"{kit.HERE / 'kill_script.py'}:reply") as server:
        command = _command(kit, server.url, data_dir, out)
        # The uninterrupted run shares the server (answers depend only on prompt and seed).
        uninterrupted = subprocess.Popen(_command(kit, server.url, data_dir, reference), env=env)
        for round_ in range(2 * KILLS_PER_PHASE):
            proc = subprocess.Popen(command, env=env, start_new_session=True)
            if round_ < KILLS_PER_PHASE:
                gen_target, grade_target = max(gen_points[round_], gens() + 1), 0
            else:
                left = 2 * KILLS_PER_PHASE - round_
                gen_target = TOTAL
                # Each kill leaves at least MIN_LEFT grades to do, so the last rounds cannot finish
                # between reaching the target and the kill, however fast grading is on this machine.
                room = TOTAL - left * MIN_LEFT - grades()
                grade_target = grades() + rng.randint(1, max(1, room // left))
            reached = functools.partial(_reached, gens, gen_target, grades, grade_target)
            killed = _kill_when(proc, reached, rng.uniform(0.0, 0.01))
            assert killed, f"round {round_}: the run finished before the kill (rows: {gens()}, grades: {grades()})"
            phases["generation" if gens() < TOTAL else "grading" if grades() < TOTAL else "summary"] += 1
        subprocess.run(command, env=env, check=True, timeout=300)
        assert uninterrupted.wait(timeout=300) == 0
    assert phases["generation"] >= KILLS_PER_PHASE // 2 and phases["grading"] >= KILLS_PER_PHASE // 2, phases

    run = kit.RunFiles.read(out)
    keys = [kit.key(r) for r in run.generations]
    assert len(keys) == TOTAL and len(set(keys)) == TOTAL, "a resumed run requests only missing samples"
    assert not any(r["error"] for r in run.generations)
    graded = [kit.key(g) for g in run.grades]
    assert len(graded) == TOTAL and set(graded) == set(keys), "every sample graded exactly once"
    want = kit.RunFiles.read(reference).summary
    assert run.summary is not None and want is not None and run.summary["complete"] is True
    assert run.summary["tasks"]["aime24"]["metrics"] == want["tasks"]["aime24"]["metrics"]
    assert run.summary["tasks"]["aime24"]["rates"] == want["tasks"]["aime24"]["rates"]
