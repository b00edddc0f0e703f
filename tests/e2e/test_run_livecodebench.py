"""End to end: `evalkit run --tasks livecodebench` on Hub-format problem files through the scripted server.

The problem files (stdin and functional problems, compressed private tests) and the model's planned
answers live in tests/e2e/livecodebench_script.py; every program really runs in the local sandbox.
pass@1, pass@k, the per-difficulty and per-platform breakdowns and the verdicts are computed here
with plain Python (math.comb) from the plan, not with evalkit.metrics, and compared exactly.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from evalkit.config import BackendConfig, RunConfig
from evalkit.registry import module_from_file
from evalkit.runner import run
from evalkit.testing.server import ScriptedServer

HERE = Path(__file__).resolve().parent
N = 4
# Release v1 is the one file test.jsonl, read whatever its rows' dates (files=release); 1 s per test
# keeps the planned too-slow programs cheap.
TASKS = f"livecodebench@release=v1@files=release@timeout_s=1@n={N}"

pytestmark = pytest.mark.slow


script = module_from_file(HERE / "livecodebench_script.py")


@pytest.fixture(scope="module", autouse=True)
def _needs_a_sandbox() -> None:
    from evalkit.sandbox.local import detect_isolation

    if detect_isolation() == "none":
        pytest.skip("no namespace sandbox here (apt-get install bubblewrap): model code never runs unsandboxed")


def _write_data(root: Path) -> Path:
    folder = root / "livecodebench"
    folder.mkdir(parents=True)
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in script.rows()))
    return root


def _pass_at_k(n: int, c: int, k: int) -> float:
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def _expected(n: int) -> dict[str, Any]:
    rows = {r["question_id"]: r for r in script.rows() if r["question_id"] in script.PLAN}
    correct = {q: sum(script.VERDICT[k] == "AC" for k in kinds[:n]) for q, kinds in script.PLAN.items()}
    out: dict[str, Any] = {"pass": {}, "breakdown": {}}
    k = 1
    while k <= n:
        out["pass"][f"pass@{k}"] = sum(_pass_at_k(n, c, k) for c in correct.values()) / len(correct)
        k *= 2
    for field in ("difficulty", "platform"):
        groups: dict[str, list[str]] = {}
        for qid, row in rows.items():
            groups.setdefault(row[field], []).append(qid)
        out["breakdown"][field] = {
            value: (len(qids), sum(correct[q] / n for q in qids) / len(qids)) for value, qids in groups.items()
        }
    out["verdicts"] = {q: Counter(script.VERDICT[k] for k in kinds[:n]) for q, kinds in script.PLAN.items()}
    return out


def test_run_scores_the_planned_programs_exactly(tmp_path: Path) -> None:
    data_dir = _write_data(tmp_path / "data")
    out = tmp_path / "run"
    with ScriptedServer(f"{HERE / 'livecodebench_script.py'}:reply") as server:
        config = RunConfig(
            model="scripted",
            tasks=TASKS,
            backend=BackendConfig(name="openai", base_urls=(server.url,), max_retries=2, request_timeout_s=30),
            data_dir=data_dir,
            output=out,
        )
        run(config, quiet=True)
    want = _expected(N)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] is True
    entry = summary["tasks"]["livecodebench"]
    assert entry["error"] is None
    assert entry["n"] == N and entry["num_problems"] == 4, "the 2023 problem is outside the date window"
    assert set(entry["metrics"]) == set(want["pass"]), "programs do not vote: no cons@k"
    for key, value in want["pass"].items():
        assert entry["metrics"][key]["value"] == pytest.approx(value, abs=1e-12), key
    for field, groups in want["breakdown"].items():
        got = entry["breakdown"][field]
        assert set(got) == set(groups), field
        for value, (problems, pass1) in groups.items():
            assert got[value]["num_problems"] == problems
            assert got[value]["metrics"]["pass@1"]["value"] == pytest.approx(pass1, abs=1e-12), (field, value)
    no_answer = sum(c["no_answer"] for c in want["verdicts"].values())
    assert entry["rates"]["no_answer"] == pytest.approx(no_answer / (4 * N), abs=1e-12)
    assert entry["rates"]["error"] == 0.0

    grades = [json.loads(line) for line in (out / "grades.jsonl").read_text().splitlines()]
    assert len(grades) == 4 * N
    verdicts: dict[str, Counter[str]] = {}
    for g in grades:
        verdicts.setdefault(g["sample_id"], Counter())[g["verdict"]] += 1
    assert verdicts == want["verdicts"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sandbox"]["backend"] == "local" and manifest["status"] == "complete"
    assert manifest["tasks"]["livecodebench"]["grader"]["options"]["timeout_s"] == 1.0
