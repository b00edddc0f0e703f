"""The reward API in a plain script: a right number or a clear error, never an invented 0.0, never a hang.

Each script runs in a fresh interpreter. Those without an `if __name__ == "__main__":` guard are what
people write in notebooks-turned-scripts and quick RL experiments.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Generous: the grading workers start (sympy, math-verify) in a few seconds; a hang is what is caught.
TIMEOUT_S = 120


def _run_script(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(body))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=TIMEOUT_S, cwd=tmp_path
    )


UNGUARDED = """
import evalkit.rewards as R

responses = ["<think>hm</think>\\\\boxed{%d}" % i if i % 3 else "no idea" for i in range(COUNT)]
golds = [str(i) for i in range(COUNT)]
scores = R.math_batch(responses, golds)
print("SCORES", sum(scores), len(scores))
"""


@pytest.mark.parametrize("count", [3, 600])
def test_math_batch_at_module_level_without_a_main_guard_gives_the_right_scores(tmp_path: Path, count: int) -> None:
    result = _run_script(tmp_path, UNGUARDED.replace("COUNT", str(count)))
    assert result.returncode == 0, result.stderr[-3000:]
    right = sum(1 for i in range(count) if i % 3)
    assert f"SCORES {float(right)} {count}" in result.stdout, result.stdout + result.stderr[-2000:]


def test_single_reward_without_a_main_guard(tmp_path: Path) -> None:
    result = _run_script(
        tmp_path,
        """
        import evalkit.rewards as R
        print("REWARD", R.math("<think>x</think>The answer is \\\\boxed{\\\\frac{1}{2}}", "0.5"))
        """,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "REWARD 1.0" in result.stdout


def test_a_grading_host_that_died_raises_and_the_next_call_starts_a_new_one() -> None:
    from evalkit.errors import EvalkitError
    from evalkit.graders.host import shared_host
    from evalkit.rewards import math_batch

    host = shared_host(1)
    host._proc.kill()
    host._proc.wait()
    with pytest.raises(EvalkitError, match="ended unexpectedly"):
        host.grade([])
    assert math_batch(["\\boxed{2}"], ["2"], workers=1) == [1.0]
