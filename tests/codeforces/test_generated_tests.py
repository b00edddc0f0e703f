"""Generated tests are there or loading fails; the verifiable rule; problems without limits. No Hub access:
the offline case is huggingface_hub's own HF_HUB_OFFLINE=1, the cached case a fake HF cache layout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import evalkit
from evalkit.data import load_task_samples
from evalkit.errors import EvalkitError
from evalkit.tasks import get_task

# The child imports the evalkit under test, wherever it is installed from.
EVALKIT_ROOT = Path(evalkit.__file__).resolve().parents[1]


def _codeforces_module() -> Any:
    get_task("codeforces")
    return sys.modules["evalkit_tasks.codeforces"]


def _rewrite(data_dir: Path, edit: dict[str, dict[str, Any]]) -> None:
    """Change fields of some problems (by id) in the synthetic set's problem file."""
    path = data_dir / "codeforces" / "problems" / "synthetic.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps({**r, **edit.get(r["id"], {})}) + "\n" for r in rows))


def _generated(data_dir: Path, contest: int, rows: list[dict[str, str]]) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    folder = data_dir / "codeforces" / "generated_tests"
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_parquet(folder / f"test_cases_{contest:04d}.parquet")


def _hub_generated_tests(cache: Path, contest: int) -> subprocess.CompletedProcess[str]:
    """`hub_generated_tests` in a child with huggingface_hub offline (read at its import) and `cache` as the HF cache."""
    revision = _codeforces_module().REVISION
    code = (
        "from evalkit.codeforces.problems import hub_generated_tests\n"
        "from evalkit.errors import EvalkitError\n"
        "try:\n"
        f"    print('path', hub_generated_tests('open-r1/codeforces', {revision!r}, {contest}))\n"
        "except EvalkitError as e:\n"
        "    print('error', e)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache), "PYTHONPATH": str(EVALKIT_ROOT)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def test_offline_hub_is_an_error_not_a_contest_without_generated_tests(tmp_path: Path) -> None:
    pytest.importorskip("huggingface_hub")
    revision = _codeforces_module().REVISION
    snapshot = tmp_path / "datasets--open-r1--codeforces" / "snapshots" / revision / "generated_tests"
    snapshot.mkdir(parents=True)
    (snapshot / "test_cases_9001.parquet").write_bytes(b"cached")
    cached = _hub_generated_tests(tmp_path, 9001)
    assert cached.stdout.startswith("path ") and cached.stdout.strip().endswith("test_cases_9001.parquet"), cached
    missing = _hub_generated_tests(tmp_path, 9002)
    assert missing.stdout.startswith("error "), missing
    assert "test_cases_9002.parquet" in missing.stdout and "codeforces@generated_tests=false" in missing.stdout


def test_announced_generated_tests_must_all_be_there(synthetic: ModuleType, tmp_path: Path) -> None:
    synthetic.build(tmp_path)
    _rewrite(tmp_path, {"9001/A": {"generated_tests": 2}})
    with pytest.raises(EvalkitError, match=r"9001/A has 2 generated tests.*not there.*generated_tests=false"):
        load_task_samples(get_task("codeforces", contests="9001"), tmp_path)
    _generated(tmp_path, 9001, [{"problem_id": "9001/A", "input": "5 6\n", "output": "11\n"}])
    with pytest.raises(EvalkitError, match="holds 1 generated tests of 9001/A, its problem row announces 2"):
        load_task_samples(get_task("codeforces", contests="9001"), tmp_path)
    # Judging on the official tests only is a choice the user states, and then nothing is checked.
    off = load_task_samples(get_task("codeforces", contests="9001", generated_tests="false"), tmp_path).samples
    assert [s.metadata["generated_tests"] for s in off] == [None, None]


def test_rows_of_a_revision_without_generated_tests_are_refused(synthetic: ModuleType, tmp_path: Path) -> None:
    synthetic.build(tmp_path)
    path = tmp_path / "codeforces" / "problems" / "synthetic.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "generated_tests"}) + "\n" for r in rows))
    with pytest.raises(EvalkitError, match="predates the generated tests"):
        load_task_samples(get_task("codeforces", contests="9001"), tmp_path)
    loaded = load_task_samples(get_task("codeforces", contests="9001", generated_tests="false"), tmp_path)
    assert [s.id for s in loaded.samples] == ["9001/A", "9001/B"]


def test_verifiable_rule_by_default_all_on_request(synthetic: ModuleType, tmp_path: Path) -> None:
    synthetic.build(tmp_path)
    _rewrite(
        tmp_path,
        {
            "9001/A": {"official_tests_complete": False, "generated_tests": 0},  # truncated, nothing else
            "9001/B": {"official_tests_complete": False, "generated_tests": 1},  # truncated, generated ones
            "9002/A": {"executable": False},
        },
    )
    _generated(tmp_path, 9001, [{"problem_id": "9001/B", "input": "8\n", "output": "YES\n"}])
    default = load_task_samples(get_task("codeforces", contests="9001+9002"), tmp_path).samples
    assert [s.id for s in default] == ["9001/B", "9002/B"]
    assert default[0].metadata["contest_excluded"] == {"A": "not_verifiable", "C": "interactive"}
    # Without generated tests 9001/B's official tests alone are incomplete: not verifiable either.
    official = get_task("codeforces", contests="9001+9002", generated_tests="false")
    assert [s.id for s in load_task_samples(official, tmp_path).samples] == ["9002/B"]
    every = load_task_samples(get_task("codeforces", contests="9001+9002", problems="all"), tmp_path).samples
    assert [s.id for s in every] == ["9001/A", "9001/B", "9002/A", "9002/B"]
    assert [s.metadata["verifiable"] for s in every] == [False, True, False, True]
    with pytest.raises(EvalkitError, match="problems='some' is unknown"):
        get_task("codeforces", problems="some")


def test_a_problem_without_limits_gets_the_documented_defaults(synthetic: ModuleType, tmp_path: Path) -> None:
    module = _codeforces_module()
    synthetic.build(tmp_path)
    _rewrite(tmp_path, {"9001/A": {"time_limit": None, "memory_limit": None}})
    task = get_task("codeforces", contests="9001")
    first, second = load_task_samples(task, tmp_path).samples
    assert first.metadata["time_limit_s"] == module.DEFAULT_TIME_LIMIT_S == 2.0
    assert first.metadata["memory_limit_mb"] == module.DEFAULT_MEMORY_LIMIT_MB == 256.0
    assert first.metadata["limits_defaulted"] is True and second.metadata["limits_defaulted"] is False
    assert "Time limit per test: 2.0 seconds" in task.prompt(first, 0).messages[0].content
