"""Exit code 3 for `evalkit run` and `evalkit grade`: a run that ended incomplete says why and what to do."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

INCOMPLETE_EXIT_CODE = 3


def exit_if_incomplete(run_dir: Path) -> None:
    """Exit 3, saying why and what to do, when the run directory's summary is incomplete."""
    from evalkit.store import RunDir

    store = RunDir(run_dir)
    manifest, summary = store.manifest(), store.summary()
    if manifest.get("status") == "complete" and summary.get("complete"):
        return
    reasons = [f"{task}: {entry['error']}" for task, entry in summary.get("tasks", {}).items() if entry.get("error")]
    if manifest.get("stopped"):
        reasons.insert(0, str(manifest["stopped"]))
    Console(stderr=True).print(
        f"[bold red]incomplete:[/] {escape(' '.join(reasons) or 'the run did not finish.')} "
        f"Everything finished is kept in {escape(str(run_dir))}; rerun the same command to retry the rest.",
        highlight=False,
    )
    raise typer.Exit(INCOMPLETE_EXIT_CODE)
