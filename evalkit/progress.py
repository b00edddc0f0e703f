"""Live progress of a run: requests done, tokens/s, ETA, and running accuracy of what is graded."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from evalkit.types import Generation, Score


class RunProgress:
    """Two rich progress bars (generation and grading) updated as rows land."""

    def __init__(self, total_generate: int, total_grade: int, *, enabled: bool = True, label: str = "") -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description:<9}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            disable=not enabled,
            refresh_per_second=4,
        )
        # A label (e.g. "simulated") goes in front of every bar, so no line can be mistaken for a real run.
        prefix = f"{label} " if label else ""
        self._gen = self._progress.add_task(f"{prefix}generate", total=total_generate, info="")
        self._grade = self._progress.add_task(f"{prefix}grade", total=total_grade, info="")
        self._tokens = 0
        self._errors = 0
        self._scored = 0
        self._score_sum = 0.0
        self._start = time.monotonic()

    def __enter__(self) -> RunProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self._progress.__exit__(et, e, tb)

    def generated(self, gen: Generation) -> None:
        """Count one stored generation."""
        self._tokens += gen.completion_tokens or 0
        self._errors += gen.error is not None
        rate = self._tokens / max(time.monotonic() - self._start, 1e-9)
        info = f"{rate:,.0f} tok/s" + (f"  [red]{self._errors} errors[/]" if self._errors else "")
        self._progress.update(self._gen, advance=1, info=info)

    def graded(self, score: Score | None) -> None:
        """Count one grade (None: a generation error that will not be graded)."""
        if score is not None:
            self._scored += 1
            self._score_sum += score.value
        acc = self._score_sum / self._scored if self._scored else 0.0
        self._progress.update(self._grade, advance=1, info=f"acc {100 * acc:.1f}%")
