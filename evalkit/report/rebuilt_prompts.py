"""The prompts a run's problems were asked with, for the HTML drill-down (when they can be had offline).

Generations store only a prompt hash. The prompt text is rebuilt from the task and an offline data
directory (the run's `data_dir`, else $EVALKIT_DATA_DIR), or the bundled copy or the task's local
file for a run that used it; it is used only when the rebuilt dataset
has the content hash the manifest recorded, so the drill-down never shows a prompt the model did
not see. The Hugging Face Hub is never contacted from a report.
"""

from __future__ import annotations

import os
from pathlib import Path

from evalkit.errors import EvalkitError
from evalkit.report.runs import LoadedRun

Prompts = dict[str, dict[str, str]]


def _data_dir(run: LoadedRun) -> Path | None:
    from evalkit.data import DATA_DIR_ENV

    configured = run.config.get("data_dir") or os.environ.get(DATA_DIR_ENV)
    path = Path(configured) if configured else None
    return path if path is not None and path.is_dir() else None


def load_prompts(run: LoadedRun) -> tuple[Prompts, list[str]]:
    """task -> sample id -> prompt text, and notes on tasks whose prompts could not be rebuilt."""
    from evalkit.data import load_task_samples
    from evalkit.tasks import TaskSpec, parse_task_list

    data_dir = _data_dir(run)
    try:
        specs = {spec.name: spec for spec in parse_task_list(str(run.config.get("tasks") or ""))}
    except EvalkitError:
        specs = {}
    limit = run.config.get("limit")
    prompts: Prompts = {}
    notes: list[str] = []
    for task_name in run.tasks:
        recorded_options = run.task_manifest(task_name).get("options")
        spec = specs.get(task_name)
        options = dict(recorded_options) if isinstance(recorded_options, dict) else dict(spec.options) if spec else {}
        # A data directory if there is one, else the bundled copy for a run that used it; never the Hub.
        recorded_source = (run.task_manifest(task_name).get("dataset") or {}).get("source")
        if data_dir is None and recorded_source not in ("bundled", "local"):
            continue
        file = run.task_manifest(task_name).get("file")
        try:
            task = TaskSpec(task_name, options=options, file=file if isinstance(file, str) else None).build()
            loaded = load_task_samples(
                task,
                data_dir,
                limit=limit if isinstance(limit, int) else None,
                source="auto" if data_dir is not None else "bundled",
            )
        except (EvalkitError, OSError, ValueError, KeyError) as e:
            notes.append(f"{run.label}: prompts of {task_name} not shown ({e}).")
            continue
        recorded = (run.task_manifest(task_name).get("dataset") or {}).get("content_hash")
        if recorded and recorded != loaded.content_hash:
            notes.append(
                f"{run.label}: prompts of {task_name} not shown (the data in {loaded.location} differs from the run's)."
            )
            continue
        prompts[task_name] = {s.id: "\n\n".join(m.content for m in task.prompt(s, 0).messages) for s in loaded.samples}
    return prompts, notes
