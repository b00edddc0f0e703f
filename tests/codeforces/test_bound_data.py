"""Codeforces standings are bound when the task's data is loaded: the summary stage gets no data dir.

The task binds its summary hook to the data dir its problems load from (`Task.bind_data`), so the rating
comes from that folder's standings however the summary is reached, and `evalkit grade` recomputes it
from the run directory and the same inputs (or a data dir that moved, given with --data-dir).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from evalkit.config import BackendConfig, RunConfig
from evalkit.ledger import GenInfo, TaskLedger
from evalkit.plan import plan_task
from evalkit.summary import summarize_task
from evalkit.tasks import TaskSpec
from evalkit.types import Score

RESULTS = {
    "9001/A": [True, True, False, True],
    "9001/B": [True, False, False, False],
    "9002/A": [True, True, True, False],
    "9002/B": [False, True, False, False],
}


def _entry(task: Any, samples: Any, results: dict[str, list[bool]]) -> dict[str, Any]:
    n = len(next(iter(results.values())))
    ledger = TaskLedger([s.id for s in samples], n)
    for p, sample in enumerate(samples):
        for i in range(n):
            ledger.add_generation((p, i), GenInfo((task.name, sample.id, i), False, False, 10, 0.1, 0, None))
            ledger.add_score((p, i), Score(1.0, "AC") if results[sample.id][i] else Score(0.0, "WA"))
    return summarize_task(task, samples, ledger, None, 100)


def test_the_summary_reads_the_standings_of_the_data_dir_the_problems_came_from(
    synthetic: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    built = synthetic.build(data)
    decoy = tmp_path / "elsewhere"
    decoy.mkdir()
    monkeypatch.setenv("EVALKIT_DATA_DIR", str(decoy))  # what an unbound task would read
    spec = TaskSpec("codeforces", n=4, options={"contests": built.task_option})
    planned = plan_task(spec, RunConfig(model="m", tasks="codeforces"), data)
    entry = _entry(planned.task, planned.data.samples, RESULTS)
    assert entry["error"] is None, entry["error"]
    assert entry["metrics"]["rating"]["value"] == pytest.approx(synthetic.expected_rating(RESULTS))
    assert [c["contest_id"] for c in entry["contests"]] == [9001, 9002]
    # The same task unbound reads $EVALKIT_DATA_DIR, which holds no standings.
    unbound = _entry(planned.task.bound(None), planned.data.samples, RESULTS)
    assert unbound["metrics"] == {} and str(decoy / "codeforces") in unbound["error"]


@pytest.fixture(scope="module")
def _sandbox() -> None:
    from evalkit.sandbox.local import detect_isolation

    if detect_isolation() == "none":
        pytest.skip("no namespace sandbox here (apt-get install bubblewrap): model code never runs unsandboxed")


@pytest.mark.usefixtures("_sandbox")
def test_grade_recomputes_the_rating_from_the_run_and_a_moved_data_dir(synthetic: ModuleType, tmp_path: Path) -> None:
    from evalkit.regrade import regrade
    from evalkit.runner import run

    data = tmp_path / "data"
    built = synthetic.build(data)
    results = {sid: flags[:2] for sid, flags in RESULTS.items()}
    replay = tmp_path / "replay.jsonl"
    rows = [
        {
            "task": "codeforces",
            "sample_id": sid,
            "sample_index": i,
            "text": synthetic.fenced(sid, "accepted" if ok else "wrong"),
        }
        for sid, flags in results.items()
        for i, ok in enumerate(flags)
    ]
    replay.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "run"
    config = RunConfig(
        model="replayed",
        tasks=f"codeforces@contests={built.task_option}@n=2",
        backend=BackendConfig(name="replay", replay=replay),
        data_dir=data,
        output=out,
    )
    run(config, quiet=True)
    first = json.loads((out / "summary.json").read_text())["tasks"]["codeforces"]
    assert first["error"] is None, first["error"]
    assert first["metrics"]["rating"]["value"] == pytest.approx(synthetic.expected_rating(results))

    moved = tmp_path / "moved"
    shutil.move(data, moved)
    again = regrade(out, data_dir=moved, quiet=True)["tasks"]["codeforces"]
    assert again == first
    (moved / "codeforces" / "contests" / "9002" / "standings.json").unlink()
    missing = regrade(out, data_dir=moved, quiet=True)["tasks"]["codeforces"]
    assert "evalkit codeforces fetch --contests 9002" in missing["error"]
