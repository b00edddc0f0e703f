"""The built-in simulated model: deterministic responses of every kind, known truth, labelled
"simulated" everywhere, and `evalkit selfcheck` passing here and failing when the truth is missed."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import evalkit.selfcheck as selfcheck
from evalkit.cli import app
from evalkit.data import load_task_samples
from evalkit.simulated import simulate
from evalkit.simulated.responses import Kind, draw_kind, problem_accuracy
from evalkit.simulated.truth import cons_at_k
from evalkit.tasks import get_task


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_responses_are_deterministic_per_seed_task_sample_and_index() -> None:
    sample = load_task_samples(get_task("aime24"), None).samples[0]
    first = simulate(sample, "aime24", "math", 3, 12345, {}, 32768)
    assert simulate(sample, "aime24", "math", 3, 12345, {}, 32768) == first
    assert simulate(sample, "aime24", "math", 4, 999, {}, 32768).text != first.text


def test_every_kind_occurs_and_the_correct_share_follows_the_problem_accuracy() -> None:
    samples = load_task_samples(get_task("math500"), None).samples
    kinds: Counter[Kind] = Counter()
    correct = expected = 0.0
    rng = random.Random(0)
    for sample in samples:
        p = problem_accuracy("math500", sample, "math")
        for _ in range(20):
            kind = draw_kind(sample, "math500", "math", rng.randrange(2**31))
            kinds[kind] += 1
            correct += kind.correct
        expected += 20 * p
    assert set(kinds) == {Kind.CORRECT, Kind.EQUIVALENT, Kind.WRONG, Kind.WRONG_OTHER, Kind.NO_ANSWER,
                          Kind.TRUNCATED, Kind.UNCLOSED}  # fmt: skip
    assert abs(correct - expected) < 4 * math.sqrt(len(samples) * 20 * 0.25)


def test_cons_truth_limits() -> None:
    assert cons_at_k(0.3, 0.4, 0.2, 1) == pytest.approx(0.3)
    assert cons_at_k(1.0, 0.0, 0.0, 16) == pytest.approx(1.0)
    assert cons_at_k(0.0, 0.5, 0.5, 16) == 0.0
    # Two classes at 50/50 with k=2: correct wins when both are correct (0.25) or on a 1-1 tie half the time.
    assert cons_at_k(0.5, 0.5, 0.0, 2) == pytest.approx(0.25 + 0.5 * 0.5)


def test_a_simulated_run_says_simulated_in_console_manifest_summary_and_report(tmp_path: Path) -> None:
    out = tmp_path / "run"
    runner = CliRunner()
    result = runner.invoke(app, ["run", "--model", "simulated", "--tasks", "aime24@n=4,math500@n=2", "--limit", "5",
                                 "--output", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.strip() and not set(line.strip()) <= set("━─┏┓┗┛┡┩└┘")]
    assert "simulated model" in _flat(result.output) and "not by a language model" in _flat(result.output)
    assert any("SIMULATED" in line for line in lines)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["simulated"] is True and manifest["engine"]["engine"] == "simulated"
    assert manifest["backend"]["name"] == "simulated"
    assert json.loads((out / "summary.json").read_text())["simulated"] is True
    report = runner.invoke(app, ["report", str(out), "--format", "md"])
    assert report.exit_code == 0 and "simulated" in report.output


def test_the_name_simulated_is_reserved(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["run", "--model", "simulated", "--base-url", "http://127.0.0.1:9/v1",
                                      "--tasks", "aime24", "--output", str(tmp_path / "r")])  # fmt: skip
    assert result.exit_code == 2 and "built-in simulated model" in _flat(result.output)


def test_the_simulated_model_refuses_tasks_it_cannot_answer(tmp_path: Path) -> None:
    task = get_task("codeforces")
    with pytest.raises(Exception, match="cannot answer tasks graded by 'codeforces'"):
        problem_accuracy("codeforces", load_task_samples(get_task("aime24"), None).samples[0], task.grader)


@pytest.mark.slow
def test_selfcheck_passes_on_this_machine(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["selfcheck", "--tasks", "aime24,ifeval", "--n", "4", "--limit", "60",
                                      "--output", str(tmp_path / "run")])  # fmt: skip
    assert result.exit_code == 0, result.output
    text = _flat(result.output)
    assert "selfcheck (simulated model) passed" in text
    for name in ("aime24 pass@4", "aime24 cons@4", "ifeval prompt_level_strict", "aime24: verdicts",
                 "ifeval: verdicts", "store: evalkit grade", "code grader in the local sandbox", "choice grader"):  # fmt: skip
        assert f"ok {name}" in text, name


@pytest.mark.slow
def test_selfcheck_fails_with_exit_1_when_a_ci_misses_the_truth(monkeypatch: pytest.MonkeyPatch) -> None:
    real = selfcheck.task_truth

    def off(*args: Any) -> dict[str, float]:
        return {key: value + 0.5 for key, value in real(*args).items()}  # no CI covers these

    monkeypatch.setattr(selfcheck, "task_truth", off)
    result = CliRunner().invoke(app, ["selfcheck", "--tasks", "aime24", "--n", "2", "--limit", "10"])
    assert result.exit_code == 1
    text = _flat(result.output)
    assert "FAIL aime24 pass@1: truth" in text and "selfcheck (simulated model) FAILED" in text
