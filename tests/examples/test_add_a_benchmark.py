"""The worked examples of docs/add-a-benchmark.md, run end to end: `evalkit run --tasks examples/...py`
(a real `python -m evalkit.cli` process) against the scripted model server, then `evalkit grade`.

The expected numbers come from the answers planned here, judged by hand (which answers are right),
and plain Python (math.comb, Counter); never from evalkit's metric code.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from evalkit.seeds import derive_seed
from evalkit.testing.server import Reply, ScriptedServer

ROOT = Path(__file__).resolve().parents[2]
LOCAL_MATH = "examples/local_math/local_math.py"
HUMANEVAL = "examples/humaneval/humaneval.py"
# Real HumanEval problems, in the dataset's own format.
HUMANEVAL_PROBLEMS = ROOT / "tests" / "sandbox" / "humaneval_problems.jsonl"

pytestmark = pytest.mark.slow


def evalkit(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    command = [sys.executable, "-m", "evalkit.cli", *map(str, args)]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def served_by(plan: dict[str, list[str]], task: str, answer: Any) -> Any:
    """A scripted model that answers sample i of problem p with `answer(p, plan[p][i])` (run seed 0)."""
    by_seed = {derive_seed(0, task, pid, i): (pid, kind) for pid, kinds in plan.items() for i, kind in enumerate(kinds)}

    def reply(body: dict[str, Any], attempt: int) -> Reply:
        pid, kind = by_seed[int(body["seed"])]
        return Reply(text=answer(pid, kind, body["messages"][-1]["content"]))

    return reply


def pass_at(correct: dict[str, int], n: int, k: int) -> float:
    return sum(1 - math.comb(n - c, k) / math.comb(n, k) for c in correct.values()) / len(correct)


def metrics(run_dir: Path, task: str) -> dict[str, float]:
    entry = json.loads((run_dir / "summary.json").read_text())["tasks"][task]
    assert entry["error"] is None, entry["error"]
    return {key: m["value"] for key, m in entry["metrics"].items()}


# --- (a) math on a local JSONL file ------------------------------------------------------------------

# What the model's \boxed{} holds for each sample (None: no box at all), and its class of equivalent
# answers as judged by hand ("gold" for the right one; None: no answer, which does not vote).
MATH_PLAN: dict[str, list[tuple[str | None, str | None]]] = {
    "mult": [("42", "gold"), ("42.0", "gold"), ("41", "41"), (None, None)],
    "half": [("\\frac{1}{2}", "gold"), ("0.5", "gold"), ("\\frac{2}{4}", "gold"), ("\\frac{1}{3}", "1/3")],
    "root": [("2\\sqrt{2}", "gold"), ("\\sqrt{8}", "gold"), ("3", "3"), ("2\\sqrt{2}", "gold")],
    "primes": [("7", "7"), ("7", "7"), ("8", "gold"), ("9", "9")],
    "linear": [("4", "gold"), ("\\frac{8}{2}", "gold"), ("5", "5"), ("4", "gold")],
    "quarter": [(None, None), (None, None), ("\\frac{1}{4}", "gold"), ("0.25", "gold")],
}


def cons_at(k: int) -> float:
    """Majority vote over every k-subset of each problem's samples; a tie goes to the class seen first."""
    per_problem = []
    for samples in MATH_PLAN.values():
        wins = []
        for subset in itertools.combinations([c for _, c in samples], k):
            votes = Counter(c for c in subset if c is not None)
            first = {c: subset.index(c) for c in votes}
            winner = max(votes, key=lambda c: (votes[c], -first[c])) if votes else None
            wins.append(winner == "gold")
        per_problem.append(sum(wins) / len(wins))
    return sum(per_problem) / len(per_problem)


def math_answer(pid: str, kind: str, prompt: str) -> str:
    assert prompt.endswith("Please reason step by step, and put your final answer within \\boxed{}.")
    boxed = next(b for b, _ in MATH_PLAN[pid] if (b or "none") == kind)
    body = f"The answer is $\\boxed{{{boxed}}}$." if boxed is not None else "I cannot tell."
    return f"<think>Let me work it out.</think>{body}"


@pytest.fixture(scope="module")
def math_server() -> Any:
    plan = {pid: [b or "none" for b, _ in samples] for pid, samples in MATH_PLAN.items()}
    with ScriptedServer(served_by(plan, "local_math", math_answer)) as server:
        yield server


def test_local_math_example_runs_and_regrades_from_anywhere(tmp_path: Path, math_server: ScriptedServer) -> None:
    out = tmp_path / "run"
    run = evalkit("run", "--model", "scripted", "--base-url", math_server.url, "--tasks", LOCAL_MATH,
                  "--output", out, "--quiet", cwd=ROOT)  # fmt: skip
    assert run.returncode == 0, run.stderr

    correct = {pid: sum(c == "gold" for _, c in samples) for pid, samples in MATH_PLAN.items()}
    want = {f"pass@{k}": pass_at(correct, 4, k) for k in (1, 2, 4)} | {f"cons@{k}": cons_at(k) for k in (2, 4)}
    assert (want["pass@1"], want["cons@4"]) == (pytest.approx(14 / 24), pytest.approx(5 / 6))
    got = metrics(out, "local_math")
    assert set(got) == set(want)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key
    entry = json.loads((out / "summary.json").read_text())["tasks"]["local_math"]
    assert entry["rates"]["no_answer"] == pytest.approx(3 / 24)

    manifest = json.loads((out / "manifest.json").read_text())
    task_file = str(ROOT / LOCAL_MATH)
    assert manifest["config"]["tasks"] == task_file, "the run stores where its task file is"
    assert manifest["tasks"]["local_math"]["file"] == task_file
    dataset = manifest["tasks"]["local_math"]["dataset"]
    assert (dataset["source"], dataset["location"]) == ("local", str(ROOT / "examples/local_math/problems.jsonl"))

    # Re-grading (no model call) from another directory re-plans the run from its task file.
    before = (out / "summary.json").read_text()
    requests = math_server.request_count
    graded = evalkit("grade", out, "--quiet", cwd=tmp_path)
    assert graded.returncode == 0, graded.stderr
    assert metrics(out, "local_math") == got
    assert json.loads((out / "summary.json").read_text())["tasks"] == json.loads(before)["tasks"]

    # The same command again, from another directory with the absolute path: the run is complete, nothing is asked.
    again = evalkit("run", "--model", "scripted", "--base-url", math_server.url, "--tasks", ROOT / LOCAL_MATH,
                    "--output", out, "--quiet", cwd=tmp_path)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert math_server.request_count == requests
    assert metrics(out, "local_math") == got

    # A report shows the prompts, rebuilt from the task file and its local data.
    from evalkit.report.rebuilt_prompts import load_prompts
    from evalkit.report.runs import load_runs

    (stored,) = load_runs([out])
    prompts, notes = load_prompts(stored)
    assert notes == []
    assert prompts["local_math"]["mult"].startswith("What is $6 \\times 7$?\nPlease reason step by step")


def test_a_run_whose_task_file_moved_says_so(tmp_path: Path, math_server: ScriptedServer) -> None:
    mine = tmp_path / "mine"
    shutil.copytree(ROOT / "examples" / "local_math", mine)
    out = tmp_path / "run"
    run = evalkit("run", "--model", "scripted", "--base-url", math_server.url, "--tasks", "local_math.py@n=1",
                  "--limit", "2", "--output", out, "--quiet", cwd=mine)  # fmt: skip
    assert run.returncode == 0, run.stderr
    mine.rename(tmp_path / "elsewhere")
    graded_before = (out / "grades.jsonl").read_bytes()
    graded = evalkit("grade", out, "--quiet", cwd=tmp_path)
    assert graded.returncode == 2
    message = " ".join(graded.stderr.split())
    assert f"Task file '{mine / 'local_math.py'}' does not exist" in message and "moved" in message, message
    assert (out / "grades.jsonl").read_bytes() == graded_before, "a refused command changes nothing"


# --- (b) HumanEval: assert-based code tests ------------------------------------------------------------

HUMANEVAL_PLAN: dict[str, list[str]] = {
    "HumanEval/0": ["canonical", "forgot_import", "wrong", "canonical"],
    "HumanEval/2": ["canonical", "canonical", "canonical", "loop"],
    "HumanEval/4": ["no_code", "raises", "canonical", "forgot_import"],
    "HumanEval/13": ["wrong", "wrong", "wrong", "wrong"],
    "HumanEval/23": ["canonical", "canonical", "canonical", "canonical"],
}
# The code grader's verdict for each kind of answer.
HUMANEVAL_VERDICT = {
    "canonical": "AC",
    "wrong": "WA",
    "forgot_import": "RE",  # NameError: List is not defined
    "raises": "RE",
    "loop": "TLE",
    "no_code": "no_answer",
}


def humaneval_problems() -> dict[str, dict[str, Any]]:
    rows = [json.loads(line) for line in HUMANEVAL_PROBLEMS.read_text().splitlines()]
    return {row["task_id"]: row for row in rows}


def humaneval_answer(pid: str, kind: str, prompt: str) -> str:
    problem = humaneval_problems()[pid]
    assert prompt.startswith("Complete the following Python function.") and problem["prompt"] in prompt
    header = problem["prompt"]
    body = {
        "canonical": problem["canonical_solution"],
        "forgot_import": problem["canonical_solution"],
        "wrong": "    return None\n",
        "raises": "    raise ValueError('not implemented')\n",
        "loop": "    while True:\n        pass\n",
    }.get(kind)
    if body is None:
        return "<think>Hmm.</think>I would loop over the input and compare."
    if kind == "forgot_import":
        header = header.replace("from typing import List\n", "")
    return f"<think>Easy.</think>Here it is:\n```python\n{header}{body}```\n"


def test_humaneval_example_runs_real_problems_in_the_sandbox(tmp_path: Path) -> None:
    from evalkit.sandbox.local import detect_isolation

    if detect_isolation() == "none":
        pytest.skip("no namespace sandbox here (apt-get install bubblewrap): model code never runs unsandboxed")
    data = tmp_path / "HumanEval.jsonl"
    shutil.copy(HUMANEVAL_PROBLEMS, data)
    out = tmp_path / "run"
    with ScriptedServer(served_by(HUMANEVAL_PLAN, "humaneval", humaneval_answer)) as server:
        run = evalkit("run", "--model", "scripted", "--base-url", server.url, "--tasks",
                      f"{HUMANEVAL}@data={data}@timeout_s=1@n=4", "--output", out, "--quiet", cwd=ROOT)  # fmt: skip
    assert run.returncode == 0, run.stderr

    correct = {pid: sum(HUMANEVAL_VERDICT[k] == "AC" for k in kinds) for pid, kinds in HUMANEVAL_PLAN.items()}
    want = {f"pass@{k}": pass_at(correct, 4, k) for k in (1, 2, 4)}
    assert want["pass@1"] == pytest.approx(0.5)
    assert metrics(out, "humaneval") == pytest.approx(want, abs=1e-12), "code answers do not vote: no cons@k"

    grades = [json.loads(line) for line in (out / "grades.jsonl").read_text().splitlines()]
    verdicts = Counter((g["sample_id"], g["verdict"]) for g in grades)
    planned = Counter((pid, HUMANEVAL_VERDICT[k]) for pid, kinds in HUMANEVAL_PLAN.items() for k in kinds)
    assert verdicts == planned
    wrong = next(g for g in grades if g["sample_id"] == "HumanEval/13")
    assert "assertion failed at line 10 of the test: assert candidate(3, 7) == 1" in wrong["explanation"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tasks"]["humaneval"]["template"] == str(ROOT / "examples/humaneval/humaneval.j2")
