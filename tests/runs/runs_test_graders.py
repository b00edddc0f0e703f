"""A math grader that raises while a marker file exists (a grader bug), for the stored-runs tests.

Imported by grading workers by module name: conftest.py puts this folder on sys.path.
"""

from __future__ import annotations

import os

from evalkit.graders.base import ThinkSettings
from evalkit.graders.math import MathGrader
from evalkit.types import Generation, Sample, Score


class BrokenWhileMarked(MathGrader):
    """The AIME math grader, except that it raises for odd sample indices while `marker` exists."""

    name = "runs_broken_while_marked"

    def __init__(self, *, marker: str) -> None:
        super().__init__(integer_answers=True)
        self.marker = marker

    def cache_key(self, sample: Sample, generation: Generation, think: ThinkSettings) -> str | None:
        return None

    def grade(self, sample: Sample, generation: Generation, think: ThinkSettings) -> Score:
        if generation.sample_index % 2 and os.path.exists(self.marker):
            raise RuntimeError("grader bug: cannot read this answer")
        return super().grade(sample, generation, think)
