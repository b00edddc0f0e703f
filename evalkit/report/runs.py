"""Runs as reports and gates see them: a run directory checked for completeness, plus its samples.

A run that is still in progress (or failed part-way) is refused unless the caller allows partial
runs, because its numbers would silently cover fewer problems than the finished run will.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.config import grouped
from evalkit.errors import EvalkitError
from evalkit.headline import MetricRoles, recorded_roles
from evalkit.store import RunDir
from evalkit.types import Key

if TYPE_CHECKING:
    import pandas as pd

# Checkpoint names seen in training pipelines: step-1000, global_step_2000, checkpoint-500, ckpt1500, iter_300.
_STEP_PATTERN = re.compile(r"(?:global[_-]?step|step|checkpoint|ckpt|iter(?:ation)?)[-_]?(\d+)", re.IGNORECASE)

SAMPLE_COLUMNS = (
    "task",
    "sample_id",
    "sample_index",
    "score",
    "verdict",
    "extracted",
    "explanation",
    "completion_tokens",
    "prompt_tokens",
    "finish_reason",
    "error",
    "text",
    "reasoning",
)


class LoadedRun:
    """One finished run as reports and gates read it: its manifest and summary, and (loaded on first
    use) its graded samples. (`evalkit.store.RunDir` is the directory's files themselves.)"""

    def __init__(self, path: Path, manifest: dict[str, Any], summary: dict[str, Any]) -> None:
        self.path = path
        self.manifest = manifest
        self.summary = summary
        self.label = self.model

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id") or self.summary.get("run_id") or self.path.name)

    @property
    def model(self) -> str:
        return str(self.manifest.get("model") or self.summary.get("model") or self.run_id)

    @property
    def status(self) -> str:
        return str(self.manifest.get("status") or "unknown")

    @property
    def complete(self) -> bool:
        return self.status == "complete" and bool(self.summary.get("complete", True))

    @property
    def config(self) -> dict[str, Any]:
        """The stored config in groups (evalkit.config; a run stored before the groups is regrouped)."""
        config = self.manifest.get("config")
        return grouped(config) if isinstance(config, dict) else {}

    @property
    def tasks(self) -> dict[str, dict[str, Any]]:
        """summary.json's per-task entries."""
        tasks = self.summary.get("tasks")
        return tasks if isinstance(tasks, dict) else {}

    def task_manifest(self, task: str) -> dict[str, Any]:
        entry = (self.manifest.get("tasks") or {}).get(task)
        return entry if isinstance(entry, dict) else {}

    def metric_roles(self, task: str) -> MetricRoles:
        """The headline and rating metrics of `task`, as this run recorded them (evalkit.headline)."""
        return recorded_roles(task, self.task_manifest(task))

    def max_tokens(self, task: str) -> int | None:
        """The generation budget of `task` in this run, if the manifest records it."""
        value = (self.task_manifest(task).get("sampling") or {}).get("max_tokens")
        return int(value) if isinstance(value, int | float) else None

    @property
    def step(self) -> int | None:
        """The training step: `step` in the config, else a number after step/ckpt/checkpoint in a name."""
        value = self.config.get("step")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        for name in (self.run_id, self.path.name, self.model):
            match = _STEP_PATTERN.search(name)
            if match:
                return int(match.group(1))
        return None

    @property
    def series(self) -> str:
        """The run's name with its step removed: checkpoints of one training run share a series."""
        base = _STEP_PATTERN.sub("", self.model).strip("-_/ ")
        return base or self.model

    def covered(self) -> set[Key]:
        """The (task, problem, sample index) keys the summary's numbers cover: nothing else is read."""
        keys: set[Key] = set()
        for task, entry in self.tasks.items():
            ids = entry.get("sample_ids")
            if not isinstance(ids, list):
                raise EvalkitError(
                    f"The summary of '{self.path}' does not list the problems {task} covers (it was written by an "
                    f"older evalkit). Rebuild it with `evalkit grade {self.path}`."
                )
            keys.update((task, str(sid), i) for sid in ids for i in range(int(entry.get("n") or 0)))
        return keys

    @cached_property
    def samples(self) -> pd.DataFrame:
        """One row per generation the summary covers, joined with its grade (score NaN when it has none)."""
        import pandas as pd

        store = RunDir(self.path)
        covered = self.covered()
        grades = {key: row for key, row in store.grades().items() if key in covered}
        rows: list[dict[str, Any]] = []
        for key, gen in store.generations().items():
            if key not in covered:
                continue
            grade = grades.get(key, {})
            score = grade.get("score")
            rows.append(
                {
                    "task": gen.task,
                    "sample_id": gen.sample_id,
                    "sample_index": gen.sample_index,
                    "score": float(score) if isinstance(score, int | float) else float("nan"),
                    "verdict": grade.get("verdict") or ("error" if gen.error else None),
                    "extracted": grade.get("extracted"),
                    "explanation": grade.get("explanation") or "",
                    "completion_tokens": gen.completion_tokens,
                    "prompt_tokens": gen.prompt_tokens,
                    "finish_reason": gen.finish_reason,
                    "error": gen.error,
                    "text": gen.text,
                    "reasoning": gen.reasoning,
                }
            )
        frame = pd.DataFrame(rows, columns=list(SAMPLE_COLUMNS))
        frame["completion_tokens"] = pd.to_numeric(frame["completion_tokens"], errors="coerce")
        return frame.sort_values(["task", "sample_id", "sample_index"], kind="stable").reset_index(drop=True)


def load_run(path: Path, *, allow_partial: bool = False) -> LoadedRun:
    """Open a run directory for reading; refuse one that is unfinished unless `allow_partial`."""
    store = RunDir(path)
    manifest = store.manifest()
    summary = store.summary()
    run = LoadedRun(Path(path), manifest, summary)
    if not run.complete and not allow_partial:
        finished = "" if run.status == "running" else f" (status: {run.status})"
        raise EvalkitError(
            f"Run '{path}' is not complete{finished}: its summary covers only the samples done so far. "
            "Wait for it to finish (or rerun the same `evalkit run` command to resume it), "
            "or pass --allow-partial to use what is there."
        )
    return run


def load_runs(paths: Sequence[Path], *, allow_partial: bool = False) -> list[LoadedRun]:
    """Open several runs; labels are the model names, made unique with the run id where they clash."""
    if not paths:
        raise EvalkitError("No run directories given. Pass one or more folders written by `evalkit run`.")
    runs = [load_run(p, allow_partial=allow_partial) for p in paths]
    seen: dict[str, int] = {}
    for run in runs:
        seen[run.model] = seen.get(run.model, 0) + 1
    for run in runs:
        if seen[run.model] > 1:
            run.label = f"{run.model} ({run.run_id})"
    labels = [r.label for r in runs]
    if len(set(labels)) != len(labels):
        dupes = sorted({label for label in labels if labels.count(label) > 1})
        raise EvalkitError(f"The same run was given twice: {', '.join(dupes)}. Pass each run directory once.")
    return runs
