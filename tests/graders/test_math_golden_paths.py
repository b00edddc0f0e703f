"""The math golden cases through both ways users grade: `evalkit run --backend replay` and the reward API.

test_math_grader.py grades each case of golden_math.jsonl in the grading pool. Here the same cases go
through the command line (a replay run: data loading, runner, pool, grades.jsonl) and through
`evalkit.rewards.math_batch`, so the run path and the reward path cannot drift apart from each other or
from the golden verdicts.

A replay run decides the `auto` thinking policy for the run as a whole, so it takes the cases whose
decision is explicit (`think_policy` "required" or "none"; absent means "none"), one run per policy.
The reward path takes every case without `integer_answers` (the reward API grades general math, not
AIME integers), `auto` ones included: there one response is judged alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from evalkit.rewards import math_batch

GOLDEN_FILE = Path(__file__).parent / "golden_math.jsonl"
GOLDEN: list[dict[str, Any]] = [json.loads(line) for line in GOLDEN_FILE.read_text("utf-8").splitlines() if line]
ROOT = Path(__file__).resolve().parents[2]


def _policy(case: dict[str, Any]) -> str:
    return str(case.get("think_policy", "none"))


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "evalkit.cli", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


def _replay_run(work: Path, policy: str, cases: list[tuple[int, dict[str, Any]]]) -> dict[int, dict[str, Any]]:
    """One `evalkit run --backend replay` over `cases` in `work/run` (MATH-500 layout, AIME 2024 layout
    for integer answers); returns each case's grades.jsonl row."""
    data, math500, aime, replay = work / "data", [], [], []
    for i, case in cases:
        if case.get("integer_answers"):
            task, sample_id = "aime24", f"golden-{i}"
            aime.append({"id": sample_id, "problem": f"case {i}", "answer": case["gold"], "solution": "", "url": ""})
        else:
            task, sample_id = "math500", f"golden/{i}"
            row = {"problem": f"case {i}", "solution": "", "answer": case["gold"], "subject": "golden", "level": 1}
            math500.append({**row, "unique_id": sample_id})
        replay.append(
            {
                "task": task,
                "sample_id": sample_id,
                "sample_index": 0,
                "text": case["response"],
                "reasoning": case.get("reasoning"),
                "finish_reason": case.get("finish_reason", "stop"),
            }
        )
    _write_jsonl(data / "math500" / "test.jsonl", math500)
    _write_jsonl(data / "aime24" / "test.jsonl", aime)
    _write_jsonl(work / "replay.jsonl", replay)
    tasks = ",".join(t for t, rows in (("math500", math500), ("aime24", aime)) if rows)
    out = work / "run"
    args = ["run", "--model", "golden", "--tasks", tasks, "--backend", "replay", "--replay", str(work / "replay.jsonl")]
    args += ["--data-dir", str(data), "--n", "1", "--think-policy", policy, "--output", str(out)]
    done = _cli([*args, "--grading-workers", "2", "--quiet"], work)
    assert done.returncode == 0, done.stdout + done.stderr
    grades = [json.loads(line) for line in (out / "grades.jsonl").read_text("utf-8").splitlines() if line]
    by_id = {row["sample_id"]: row for row in grades}
    return {i: by_id[f"golden-{i}" if case.get("integer_answers") else f"golden/{i}"] for i, case in cases}


@pytest.fixture(scope="module")
def replay_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[int, dict[str, Any]]]]:
    """policy -> (work folder, case index -> grade row) of one replay run per explicit policy."""
    runs = {}
    for policy in ("required", "none"):
        work = tmp_path_factory.mktemp(f"golden-{policy}")
        runs[policy] = (work, _replay_run(work, policy, [(i, c) for i, c in enumerate(GOLDEN) if _policy(c) == policy]))
    return runs


@pytest.fixture(scope="module")
def replay_grades(replay_runs: dict[str, tuple[Path, dict[int, dict[str, Any]]]]) -> dict[int, dict[str, Any]]:
    return {i: grade for _, grades in replay_runs.values() for i, grade in grades.items()}


REPLAYED = [(i, c) for i, c in enumerate(GOLDEN) if _policy(c) in ("required", "none")]


@pytest.mark.parametrize(("index", "case"), REPLAYED, ids=[f"{i}-{c['note'][:40]}" for i, c in REPLAYED])
def test_golden_case_through_a_replay_run(index: int, case: dict[str, Any], replay_grades: dict[int, Any]) -> None:
    grade = replay_grades[index]
    assert grade["verdict"] == case["expected"], f"{case['note']}: {grade['explanation']}"
    assert grade["score"] == (1.0 if case["expected"] == "correct" else 0.0)


def test_every_golden_verdict_is_seen_through_a_replay_run(replay_grades: dict[int, Any]) -> None:
    assert {g["verdict"] for g in replay_grades.values()} == {c["expected"] for c in GOLDEN}


def test_truncated_verdicts_leave_the_summary_rates_and_the_report_intact(replay_runs: dict[str, Any]) -> None:
    """`truncated` counts cut-off samples by finish reason; a `truncated` verdict is not a `no_answer`."""
    for policy, (work, _) in replay_runs.items():
        cases = [c for c in GOLDEN if _policy(c) == policy and not c.get("integer_answers")]
        rates = json.loads((work / "run" / "summary.json").read_text("utf-8"))["tasks"]["math500"]["rates"]
        cut = sum(c.get("finish_reason") == "length" for c in cases)
        assert rates["truncated"] == pytest.approx(cut / len(cases))
        for verdict in ("no_answer", "unclosed_think"):
            assert rates[verdict] == pytest.approx(sum(c["expected"] == verdict for c in cases) / len(cases))
        report = _cli(["report", str(work / "run"), "--format", "md"], work)
        assert report.returncode == 0 and "| golden | math500 |" in report.stdout, report.stderr


def test_golden_cases_through_the_reward_api() -> None:
    rewarded = [(i, c) for i, c in enumerate(GOLDEN) if not c.get("integer_answers")]
    for policy in ("auto", "required", "none"):
        cases = [c for _, c in rewarded if _policy(c) == policy]
        values = math_batch(
            [c["response"] for c in cases],
            [c["gold"] for c in cases],
            reasonings=[c.get("reasoning") for c in cases],
            finish_reasons=[c.get("finish_reason", "stop") for c in cases],
            think_policy=policy,  # type: ignore[arg-type]
            workers=2,
        )
        wrong = [
            (c["note"], v)
            for c, v in zip(cases, values, strict=True)
            if v != (1.0 if c["expected"] == "correct" else 0.0)
        ]
        assert not wrong, f"think_policy={policy}: {wrong}"
