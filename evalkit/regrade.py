"""`evalkit grade RUN_DIR`: re-grade stored generations with the current graders. Never calls a model.

Generations are streamed from disk with a bounded number in flight, so memory does not grow with the
size of the run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from rich.progress import Progress

from evalkit.config import RunConfig
from evalkit.data import resolve_data_dir
from evalkit.errors import EvalkitError
from evalkit.graders.base import ThinkSettings
from evalkit.graders.pool import GradingPool
from evalkit.graders.ray_pool import RayGradingPool, make_grading_pool
from evalkit.plan import PlannedTask, plan_run
from evalkit.runner import Key, summarize_run
from evalkit.store import GENERATIONS, RunDir, RunWriter, grade_row, latest_offsets, read_row_at
from evalkit.summary import GenInfo, for_summary
from evalkit.types import Generation, Score


def regrade(
    run_dir: Path, *, data_dir: Path | None = None, workers: int | None = None, quiet: bool = False
) -> dict[str, Any]:
    """Re-grade every stored generation of `run_dir`, rewrite grades.jsonl and summary.json."""
    manifest = RunDir(run_dir).manifest()
    try:
        config = RunConfig(**{**manifest["config"], "data_dir": data_dir or manifest["config"].get("data_dir")})
    except (KeyError, TypeError, ValueError) as e:
        raise EvalkitError(
            f"The manifest of '{run_dir}' has no usable config ({e}); it was not written by `evalkit run`."
        ) from e
    resolved = resolve_data_dir(config.data_dir, config.data_source)
    planned = plan_run(config, resolved)
    by_name = {pt.name: pt for pt in planned}
    think = ThinkSettings(marker=config.think_marker, policy=config.think_policy)
    with RunWriter(run_dir) as writer:
        path = writer.path / GENERATIONS
        offsets = [o for (task, sid, _), o in latest_offsets(path).items() if sid in _ids(by_name, task)]
        infos: dict[Key, GenInfo] = {}
        scores: dict[Key, Score] = {}
        with _pool(config, workers) as pool, Progress(disable=quiet) as progress:
            bar = progress.add_task("re-grade", total=len(offsets))

            def graded_rows() -> Iterator[dict[str, Any]]:
                for gen, score in _grade_stream(path, sorted(offsets), by_name, pool, think, config, infos):
                    pt = by_name[gen.task]
                    scores[gen.key] = for_summary(score)
                    progress.advance(bar)
                    yield grade_row(gen, pt.grader.name, pt.grader_version, score)

            writer.rewrite_grades(graded_rows())
            summary = summarize_run(planned, infos, scores, pool, config, data_dir=resolved)
        writer.write_summary(summary)
        manifest["graders_at_regrade"] = {pt.name: pt.grader_version for pt in planned}
        writer.write_manifest(manifest)
    if not quiet:
        from evalkit.table import print_summary

        print_summary(summary, run_dir)
    return summary


def _pool(config: RunConfig, workers: int | None) -> GradingPool | RayGradingPool:
    """Local worker processes, or Ray tasks when the run was on Ray."""
    if workers is not None:
        config = config.model_copy(update={"grading_workers": workers})
    return make_grading_pool(config)


def _ids(by_name: dict[str, PlannedTask], task: str) -> dict[str, Any]:
    pt = by_name.get(task)
    return pt.samples_by_id if pt is not None else {}


def _grade_stream(
    path: Path,
    offsets: list[int],
    by_name: dict[str, PlannedTask],
    pool: GradingPool | RayGradingPool,
    think: ThinkSettings,
    config: RunConfig,
    infos: dict[Key, GenInfo],
) -> Iterator[tuple[Generation, Score]]:
    """Yield (generation, score) in file order, keeping at most a few jobs per worker in flight."""
    window = 8 * pool.workers
    in_flight: deque[tuple[Generation, Future[Score]]] = deque()
    for offset in offsets:
        gen = Generation.from_dict(read_row_at(path, offset))
        infos[gen.key] = GenInfo.of(gen)
        if gen.error is not None:
            continue
        in_flight.append((gen, pool.submit(by_name[gen.task].grade_job(gen, think, config.grading_timeout_s))))
        if len(in_flight) >= window:
            done_gen, fut = in_flight.popleft()
            yield done_gen, fut.result()
    while in_flight:
        done_gen, fut = in_flight.popleft()
        yield done_gen, fut.result()
