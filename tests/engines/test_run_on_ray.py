"""Whole runs (evalkit.runner.run) scaled out on a local Ray cluster: 2 engine replicas, grading as Ray tasks.

The Ray runs start their cluster the way a user's run does (`--replicas 2` without an address starts
a local one); the module shuts it down at the end. The reference is a local run with the same seeds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from evalkit import runner
from evalkit.adapters.select import open_adapter
from evalkit.config import RunConfig
from evalkit.graders.ray_pool import RayGradingPool
from evalkit.grading import make_grading_pool
from evalkit.store import RunDir

pytestmark = [pytest.mark.ray, pytest.mark.slow]

Rows = dict[tuple[str, str, int], dict[str, Any]]
# 3 problems x 4 samples; a slow enough generation (one sample per engine batch) that a replica
# killed after the first stored row still has samples in flight.
SETTINGS: dict[str, Any] = {
    "backend": "transformers",
    "tasks": "aime24@n=4",
    "limit": 3,
    "max_tokens": 24,
    "concurrency": 1,
}
TOTAL = 12
GENERATION_FIELDS = ("text", "seed", "finish_reason", "prompt_tokens", "completion_tokens", "error", "prompt_hash")
GRADE_FIELDS = ("grader", "grader_version", "score", "verdict", "extracted", "explanation")


@pytest.fixture(scope="module")
def local_run(
    engine_config: Callable[..., RunConfig], offline_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The reference: the same run without Ray (local engine, local grading pool)."""
    pytest.importorskip("torch")
    config = engine_config(output=tmp_path_factory.mktemp("local") / "run", data_dir=offline_data, **SETTINGS)
    return runner.run(config, quiet=True)


@pytest.fixture(scope="module")
def ray_module(local_run: Path) -> Iterator[Any]:
    """Ray, shut down after the module (the runs below start the local cluster themselves).

    Depends on `local_run` so the reference run forks its grading workers before Ray is up.
    """
    ray = pytest.importorskip("ray")
    assert not ray.is_initialized(), "another test left Ray running"
    yield ray
    ray.shutdown()


def _assert_same_run(
    got_dir: Path, expected_dir: Path, run_rows: Callable[[Path], Rows], *, total: int = TOTAL
) -> None:
    """Row for row, by key: the generations' text, seed, finish reason and token counts, and the grades."""
    for name, fields in (("generations.jsonl", GENERATION_FIELDS), ("grades.jsonl", GRADE_FIELDS)):
        got, expected = run_rows(got_dir / name), run_rows(expected_dir / name)
        assert len(expected) == total and set(got) == set(expected), name
        for key, row in expected.items():
            assert {f: got[key].get(f) for f in fields} == {f: row.get(f) for f in fields}, (name, key)


def test_two_replicas_and_ray_grading_give_the_local_run_row_for_row(
    local_run: Path,
    ray_module: Any,
    engine_config: Callable[..., RunConfig],
    offline_data: Path,
    run_rows: Callable[[Path], Rows],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pools: list[Any] = []

    def keep_pool(config: RunConfig) -> Any:
        pools.append(make_grading_pool(config))
        return pools[-1]

    monkeypatch.setattr(runner, "make_grading_pool", keep_pool)

    config = engine_config(output=tmp_path / "ray", data_dir=offline_data, replicas=2, **SETTINGS)
    out = runner.run(config, quiet=True)

    assert ray_module.is_initialized() and [type(p) for p in pools] == [RayGradingPool]
    _assert_same_run(out, local_run, run_rows)
    manifest = RunDir(out).manifest()
    assert manifest["status"] == "complete"
    assert manifest["backend"]["name"] == "transformers"
    assert manifest["backend"]["ray"] is True and manifest["backend"]["replicas"] == 2
    assert manifest["engine"]["engine"] == "transformers" and manifest["engine"]["replicas"] == 2


def test_a_replica_killed_mid_run_costs_only_its_in_flight_samples(
    local_run: Path,
    ray_module: Any,
    engine_config: Callable[..., RunConfig],
    offline_data: Path,
    run_rows: Callable[[Path], Rows],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    adapters: list[Any] = []

    def keep_adapter(config: RunConfig) -> tuple[Any, dict[str, Any]]:
        adapter, choice = open_adapter(config)
        adapters.append(adapter)
        return adapter, choice

    monkeypatch.setattr(runner, "open_adapter", keep_adapter)
    output = tmp_path / "killed"
    killed_at: list[int] = []
    stop = threading.Event()

    def kill_first_replica_after_first_row() -> None:
        generations = output / "generations.jsonl"
        while not stop.is_set():
            rows = generations.read_text().count("\n") if generations.exists() else 0
            if rows >= 1 and adapters:
                killed_at.append(rows)
                ray_module.kill(adapters[0].replicas[0], no_restart=True)
                return
            time.sleep(0.01)

    watcher = threading.Thread(target=kill_first_replica_after_first_row, daemon=True)
    watcher.start()
    try:
        runner.run(engine_config(output=output, data_dir=offline_data, replicas=2, **SETTINGS), quiet=True)
    finally:
        stop.set()
        watcher.join()

    assert killed_at and killed_at[0] < TOTAL, "the run ended before the replica could be killed"
    # The driver saw the replica die (it had chunks in flight) and carried on with the other one.
    assert adapters[0].live_replicas == 1
    # Exactly P x n unique keys, each stored once and graded once, none an error: the lost samples were
    # redone (with the same seeds, so the same texts), nothing else was.
    _assert_same_run(output, local_run, run_rows)
    summary = RunDir(output).summary()
    assert summary["complete"] is True and summary["tasks"]["aime24"]["rates"]["error"] == 0


@pytest.mark.vllm
def test_vllm_replicas_on_ray_give_the_local_engine_run_row_for_row(
    ray_module: Any,
    runs_on_session_vllm: Any,
    engine_config: Callable[..., RunConfig],
    offline_data: Path,
    run_rows: Callable[[Path], Rows],
    tmp_path: Path,
) -> None:
    # MATH-500's first problems fit the session engine's 256-token context.
    settings: dict[str, Any] = {"backend": "vllm", "tasks": "math500@n=4", "limit": 3, "max_tokens": 8}
    settings.update(data_dir=offline_data, max_model_len=256)
    local = runner.run(engine_config(output=tmp_path / "local", **settings), quiet=True)
    on_ray = runner.run(engine_config(output=tmp_path / "ray", replicas=2, **settings), quiet=True)

    _assert_same_run(on_ray, local, run_rows, total=3 * 4)
    manifest = RunDir(on_ray).manifest()
    assert manifest["backend"]["name"] == "vllm" and manifest["backend"]["replicas"] == 2
    assert manifest["engine"]["engine"] == "vllm" and manifest["engine"]["max_model_len"] == 256
    assert RunDir(local).manifest()["backend"]["ray"] is False
