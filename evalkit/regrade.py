"""`evalkit grade RUN_DIR`: re-grade stored generations with the current graders. Never calls a model.

The run is re-planned from its manifest (tasks, n, limit, data and think settings), and every stored
generation the run covers is graded again through the same grading stage `evalkit run` uses. The
new rows replace grades.jsonl atomically when all are done (a full disk or a kill leaves the old
file as it was); the latest rows of samples or tasks outside the run (another task set an
`--overwrite` replaced, a shrunk `--limit`) are carried over unchanged. Generations are streamed from disk with a bounded number in flight, so memory
does not grow with the size of the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress

from evalkit.config import RunConfig
from evalkit.data import resolve_data_dir
from evalkit.errors import EvalkitError
from evalkit.graders.base import ThinkSettings
from evalkit.grading import summarize_run
from evalkit.jsonl import scan_run_rows
from evalkit.ledger import GenInfo
from evalkit.plan import PlannedTask, plan_run
from evalkit.resume import new_ledger, run_think, shows_thinking, think_record
from evalkit.store import GENERATIONS, RunDir, RunWriter, row_key
from evalkit.types import Generation, Score


def regrade(
    run_dir: Path, *, data_dir: Path | None = None, workers: int | None = None, quiet: bool = False
) -> dict[str, Any]:
    """Re-grade every stored generation of `run_dir`, then rewrite grades.jsonl and summary.json."""
    manifest = RunDir(run_dir).manifest()
    try:
        config = RunConfig.from_manifest(manifest["config"])
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise EvalkitError(
            f"The manifest of '{run_dir}' has no usable config ({e}); it was not written by `evalkit run`."
        ) from e
    if data_dir is not None:
        config = config.model_copy(update={"data_dir": data_dir})
    if workers is not None:
        config = config.model_copy(update={"grading": config.grading.model_copy(update={"workers": workers})})
    resolved = resolve_data_dir(config.data_dir, config.data_source)
    planned = plan_run(config, resolved)
    covered = Covered(planned)
    opens_think = bool((manifest.get("think") or {}).get("prompt_opens_think"))
    with RunWriter(run_dir) as writer:
        writer.begin()
        offsets = covered.latest_offsets(writer.path / GENERATIONS)
        think = run_think(config, opens_think or _shows_thinking(writer, offsets, config))
        with writer.replacing_grades(covered) as sink:
            summary = asyncio.run(_regrade(writer, sink, offsets, config, planned, think, quiet))
        summary["think"] = manifest["think"] = think_record(think, opens_think)
        writer.write_summary(summary)
        manifest["graders_at_regrade"] = {pt.name: pt.grader_version for pt in planned}
        manifest["status"] = "complete" if summary["complete"] else "incomplete"
        writer.write_manifest(manifest)
    if not quiet:
        from evalkit.console import print_summary
        from evalkit.headline import metric_roles

        print_summary(summary, run_dir, roles={pt.name: metric_roles(pt.task) for pt in planned})
    return summary


class Covered:
    """The (task, sample id, sample index) keys a run covers, answered from its plan without a set of
    every key (a set of 100k tuples is memory the re-grade would otherwise hold to the end)."""

    def __init__(self, planned: list[PlannedTask]) -> None:
        self._planned = {pt.name: pt for pt in planned}
        self._rows = {pt.name: {s.id: p for p, s in enumerate(pt.data.samples)} for pt in planned}

    def __contains__(self, key: object) -> bool:
        return self._cell(key) is not None

    def _cell(self, key: object) -> tuple[str, int, int] | None:
        if not isinstance(key, tuple) or len(key) != 3:
            return None
        task, sample_id, index = key
        rows, pt = self._rows.get(task), self._planned.get(task)
        row = rows.get(sample_id) if rows is not None else None
        return (task, row, index) if row is not None and pt is not None and 0 <= index < pt.n else None

    def latest_offsets(self, path: Path) -> list[int]:
        """Byte offsets, in file order, of the latest stored row of every covered key.

        Kept in one array per task (8 bytes a sample) rather than a dict of keys, which would cost
        about 300 bytes a sample for as long as the scan runs.
        """
        latest = {name: np.full((len(pt.data.samples), pt.n), -1, dtype=np.int64) for name, pt in self._planned.items()}
        for offset, row in scan_run_rows(path):
            try:
                cell = self._cell(row_key(row))
            except (KeyError, TypeError, ValueError):
                continue
            if cell is not None:
                latest[cell[0]][cell[1], cell[2]] = offset
        found = np.concatenate([a[a >= 0] for a in latest.values()]) if latest else np.empty(0, dtype=np.int64)
        return [int(o) for o in np.sort(found)]


def _shows_thinking(run: RunDir, offsets: list[int], config: RunConfig) -> bool:
    """The `auto` evidence over the stored generations the run covers (as `evalkit run` decides it)."""
    marker = config.grading.think_marker
    return any(shows_thinking(run.generation_at(o), marker) for o in offsets)


async def _regrade(
    writer: RunWriter,
    sink: Callable[[dict[str, Any]], None],
    offsets: list[int],
    config: RunConfig,
    planned: list[PlannedTask],
    think: ThinkSettings,
    quiet: bool,
) -> dict[str, Any]:
    from evalkit.grading import GradingStage, make_grading_pool

    by_name = {pt.name: pt for pt in planned}
    ledger = new_ledger(planned)
    with make_grading_pool(config) as pool, Progress(disable=quiet) as progress:
        bar = progress.add_task("re-grade", total=len(offsets))

        def graded(gen: Generation, score: Score) -> None:
            ledger.add_score(gen.key, score)
            progress.advance(bar)

        stage = GradingStage(pool, sink, by_name, think, config.grading.timeout_s, graded)
        for offset in offsets:
            gen = writer.generation_at(offset)
            ledger.add_generation(GenInfo.of(gen))
            if gen.error is None:
                await stage.submit(gen)
                stage.drain()
            else:
                progress.advance(bar)
        await stage.finish()
        return summarize_run(planned, ledger, pool, config)
