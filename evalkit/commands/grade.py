"""`evalkit grade RUN_DIR`: re-grade a run's stored generations (evalkit.regrade)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from evalkit.commands.incomplete import exit_if_incomplete

GRADE_HELP = """Re-grade a run's stored generations with the current graders (never calls a model).

Example: `evalkit grade results/my-model-20250101T000000Z`"""


def grade(
    run_dir: Annotated[Path, typer.Argument(help="Run directory written by evalkit run.")],
    data_dir: Annotated[Path | None, typer.Option(help="Offline data folder, if it moved since the run.")] = None,
    workers: Annotated[int | None, typer.Option(help="Grading processes (default: CPU count).")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar or table.")] = False,
) -> None:
    from evalkit.regrade import regrade

    regrade(run_dir, data_dir=data_dir, workers=workers, quiet=quiet)
    exit_if_incomplete(run_dir)
