"""End to end: `evalkit run --tasks codeforces` on the 2-contest synthetic set through the scripted server.

The model's answers are planned per (problem, sample index) (tests/e2e/codeforces_script.py); every
solution really runs in the local sandbox. The expected places, contest ratings, rating, percentile
and solve rates are computed here by rule and brute force (tests/codeforces/synthetic.py), not with
evalkit's rating or scoring code, and compared with summary.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from evalkit.config import BackendConfig, RunConfig
from evalkit.registry import module_from_file
from evalkit.runner import run
from evalkit.testing.server import ScriptedServer

HERE = Path(__file__).resolve().parent
SCRIPT = f"{HERE / 'codeforces_script.py'}:reply"
N = 4

pytestmark = pytest.mark.slow


script = module_from_file(HERE / "codeforces_script.py")
synthetic = script.synthetic()


@pytest.fixture(scope="module", autouse=True)
def _needs_a_sandbox() -> None:
    from evalkit.sandbox.local import detect_isolation

    if detect_isolation() == "none":
        pytest.skip("no namespace sandbox here (apt-get install bubblewrap): model code never runs unsandboxed")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cf-data")
    synthetic.build(path)
    return path


@pytest.fixture(scope="module")
def server() -> Any:
    with ScriptedServer(SCRIPT) as s:
        yield s


def _accepted(n: int) -> dict[str, list[bool]]:
    return {sid: [script.OUTCOME[kind][0] for kind in kinds[:n]] for sid, kinds in script.PLAN.items()}


def _expected_contest(contest: int, n: int) -> dict[str, Any]:
    """Per-participant score, place and contest rating, by the rules (brute force over R)."""
    flags = _accepted(n)
    pre = synthetic.effective_pre_ratings(contest)
    participants = []
    for i in range(n):
        solved = {sid.split("/")[1]: f[i] for sid, f in flags.items() if sid.startswith(f"{contest}/")}
        if contest == synthetic.CF_CONTEST:
            score = 500.0 * solved["A"] + 1000.0 * solved["B"]
        else:
            score = float(sum(solved.values()))
        place = synthetic.expected_place(contest, solved)
        participants.append(
            {"score": score, "penalty": 0.0, "place": place, "rating": synthetic.brute_force_rating(place, pre)}
        )
    return {"participants": participants, "rating": sum(p["rating"] for p in participants) / n}


def assert_summary_matches_plan(run_dir: Path, n: int) -> dict[str, Any]:
    """summary.json's Codeforces entry against the independently computed expectation; returns it."""
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["complete"] is True
    entry: dict[str, Any] = summary["tasks"]["codeforces"]
    assert entry["error"] is None
    assert entry["n"] == n and entry["num_problems"] == 4  # 9001/C is interactive: excluded
    flags = _accepted(n)
    rating = synthetic.expected_rating(flags)
    got = entry["metrics"]["rating"]
    assert got["value"] == pytest.approx(rating, abs=1e-9)
    assert got["ci95"][0] <= got["value"] <= got["ci95"][1]
    below = sum(1 for r in synthetic.POPULATION if r < rating)
    assert entry["metrics"]["percentile"]["value"] == pytest.approx(below / len(synthetic.POPULATION), abs=1e-12)
    solve_rates = {sid: sum(f) / n for sid, f in flags.items()}
    assert entry["metrics"]["pass@1"]["value"] == pytest.approx(sum(solve_rates.values()) / 4, abs=1e-12)

    contests = {row["contest_id"]: row for row in entry["contests"]}
    assert sorted(contests) == [synthetic.CF_CONTEST, synthetic.ICPC_CONTEST]
    for contest, row in contests.items():
        want = _expected_contest(contest, n)
        assert row["participants"] == want["participants"], contest
        assert row["rating"] == pytest.approx(want["rating"], abs=1e-9)
        assert row["place"] == pytest.approx(sum(p["place"] for p in want["participants"]) / n, abs=1e-9)
        assert row["num_rated"] == synthetic.NUM_RATED
    assert contests[synthetic.CF_CONTEST]["excluded"] == {"C": "interactive"}
    assert contests[synthetic.CF_CONTEST]["evaluated"] == ["A", "B"]

    problems = entry["breakdown"]["problem"]
    for sid, kinds in script.PLAN.items():
        verdicts: dict[str, int] = {}
        for kind in kinds[:n]:
            verdict = script.OUTCOME[kind][1]
            verdicts[verdict] = verdicts.get(verdict, 0) + 1
        assert problems[sid]["solve_rate"] == pytest.approx(solve_rates[sid], abs=1e-12)
        assert problems[sid]["verdicts"] == verdicts, sid
    no_answer = sum(script.OUTCOME[k][1] == "no_answer" for kinds in script.PLAN.values() for k in kinds[:n])
    assert entry["rates"]["no_answer"] == pytest.approx(no_answer / (4 * n), abs=1e-12)
    assert entry["rates"]["error"] == 0.0
    return entry


def test_run_rates_the_planned_solutions_exactly(server: ScriptedServer, data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    config = RunConfig(
        model="scripted",
        tasks=f"codeforces@contests={synthetic.CF_CONTEST}+{synthetic.ICPC_CONTEST}@n={N}",
        backend=BackendConfig(name="openai", base_urls=(server.url,), max_retries=2, request_timeout_s=30),
        data_dir=data_dir,
        output=out,
    )
    run(config, quiet=True)
    entry = assert_summary_matches_plan(out, N)
    # The plan spans the whole range: one participant solves everything, one nothing.
    ratings = [p["rating"] for p in entry["contests"][0]["participants"]]
    assert len(set(ratings)) > 2
    grades = [json.loads(line) for line in (out / "grades.jsonl").read_text().splitlines()]
    assert len(grades) == 4 * N and {g["grader"] for g in grades} == {"codeforces"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["sandbox"]["backend"] == "local"


def test_cli_run_then_report_shows_the_rating(server: ScriptedServer, data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli-run"
    n = 2
    command = [
        sys.executable, "-m", "evalkit.cli", "run", "--model", "scripted", "--backend", "openai",
        "--base-url", server.url, "--tasks", f"codeforces@contests={synthetic.CF_CONTEST}+{synthetic.ICPC_CONTEST}",
        "--n", str(n), "--data-dir", str(data_dir), "--output", str(out), "--max-retries", "2", "--quiet",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    entry = assert_summary_matches_plan(out, n)
    report = subprocess.run(
        [sys.executable, "-m", "evalkit.cli", "report", str(out)], capture_output=True, text=True, timeout=120
    )
    assert report.returncode == 0, report.stderr
    shown = report.stdout
    metrics = entry["metrics"]
    # The rating in rating points; the percentile (a fraction in summary.json) and solve rates in percent.
    assert "| scripted | " in shown and "rating" in shown
    assert f"{metrics['rating']['value']:.0f} ± " in shown
    assert f"{100 * metrics['percentile']['value']:.1f} ± " in shown
    for sid, problem in entry["breakdown"]["problem"].items():
        assert f"| {sid} | 1 | {100 * problem['solve_rate']:.1f} |" in shown
