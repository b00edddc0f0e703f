"""Graders that misbehave on purpose, for tests of the grading pools (local processes and Ray tasks).

They live in the package, not in a test folder, so that every worker (a forkserver child, a Ray
worker on any node) imports them by name with no path set-up. `register_test_graders()` registers
them under the names in `TEST_GRADERS`; options select the misbehaviour.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from evalkit.graders.base import GRADERS, Answer, Grader, ThinkSettings, register_grader
from evalkit.graders.math import MathGrader
from evalkit.types import Generation, Sample, Score

TEST_GRADERS = {
    "test_sleep": "evalkit.testing.graders:SleepGrader",
    "test_crash": "evalkit.testing.graders:CrashGrader",
    "test_crash_once": "evalkit.testing.graders:CrashOnceGrader",
    "test_raise": "evalkit.testing.graders:RaiseGrader",
    "test_pid": "evalkit.testing.graders:PidGrader",
    "test_counting": "evalkit.testing.graders:CountingGrader",
    "test_flaky": "evalkit.testing.graders:FlakyGrader",
    "test_broken_while_marked": "evalkit.testing.graders:BrokenWhileMarked",
}


def register_test_graders() -> None:
    """Register every grader of `TEST_GRADERS` (`unregister_test_graders` undoes it)."""
    for name, target in TEST_GRADERS.items():
        register_grader(name, target)


def unregister_test_graders() -> None:
    """Drop the registrations `register_test_graders` made."""
    for name in TEST_GRADERS:
        GRADERS.pop(name, None)


class SleepGrader(Grader):
    """Sleeps `seconds` before every answer: a stand-in for a grader stuck in C code."""

    name = "test_sleep"
    version = "1"

    def __init__(self, *, seconds: float = 30.0) -> None:
        self.seconds = seconds

    def judge(self, sample: Sample, generation: Generation, answer: Answer) -> Score:
        time.sleep(self.seconds)
        return Score(value=1.0, verdict="correct", extracted=answer.text)

    def same_class(self, sample: Sample, a: str, b: str) -> bool:
        time.sleep(self.seconds)
        return True


class CrashGrader(Grader):
    """Kills its own worker process, like a segfault in a C extension."""

    name = "test_crash"
    version = "1"

    def judge(self, sample: Sample, generation: Generation, answer: Answer) -> Score:
        os._exit(3)

    def same_class(self, sample: Sample, a: str, b: str) -> bool:
        os._exit(3)


class CrashOnceGrader(Grader):
    """Kills its worker the first time it grades a sample index (a file in `marker_dir` remembers),
    then answers with the response: a node that went away mid-job."""

    name = "test_crash_once"
    version = "1"

    def __init__(self, *, marker_dir: str) -> None:
        self.marker_dir = Path(marker_dir)

    def judge(self, sample: Sample, generation: Generation, answer: Answer) -> Score:
        marker = self.marker_dir / f"{sample.id}-{generation.sample_index}"
        if not marker.exists():
            marker.write_text("crashed once")
            os._exit(1)
        return Score(value=1.0, verdict="correct", extracted=answer.text)


class RaiseGrader(Grader):
    """Raises from `judge` and `same_class`: a grader bug."""

    name = "test_raise"
    version = "1"

    def judge(self, sample: Sample, generation: Generation, answer: Answer) -> Score:
        raise ValueError("boom from the test grader")

    def same_class(self, sample: Sample, a: str, b: str) -> bool:
        raise ValueError("boom from the test grader")


class PidGrader(Grader):
    """Answers with its worker's process id, to see which process graded what; calls keys the same
    answer when their first letters match."""

    name = "test_pid"
    version = "1"

    def judge(self, sample: Sample, generation: Generation, answer: Answer) -> Score:
        return Score(value=1.0, verdict="correct", extracted=str(os.getpid()))

    def same_class(self, sample: Sample, a: str, b: str) -> bool:
        return a[0] == b[0]


class CountingGrader(Grader):
    """Gives every job one cache key (except the response "no key"); answers with its worker's pid
    and how many jobs that worker graded, so a reused Score shows."""

    name = "test_counting"
    version = "1"
    graded = 0

    def cache_key(self, sample: Sample, generation: Generation, think: ThinkSettings) -> str | None:
        return None if generation.text == "no key" else "always the same"

    def judge(self, sample: Sample, generation: Generation, answer: Answer) -> Score:
        CountingGrader.graded += 1
        return Score(value=1.0, verdict="correct", extracted=f"{os.getpid()}:{CountingGrader.graded}")


class FlakyGrader(Grader):
    """Gives every job one cache key; kills its worker while the file named by `marker` exists."""

    name = "test_flaky"
    version = "1"

    def __init__(self, *, marker: str) -> None:
        self.marker = marker

    def cache_key(self, sample: Sample, generation: Generation, think: ThinkSettings) -> str | None:
        return "always the same"

    def judge(self, sample: Sample, generation: Generation, answer: Answer) -> Score:
        if os.path.exists(self.marker):
            os._exit(3)
        return Score(value=1.0, verdict="correct")


class BrokenWhileMarked(MathGrader):
    """The AIME math grader, except that it raises for odd sample indices while the file named by
    `marker` exists: a grader bug that a rerun no longer meets."""

    name = "test_broken_while_marked"

    def __init__(self, *, marker: str) -> None:
        super().__init__(integer_answers=True)
        self.marker = marker

    def cache_key(self, sample: Sample, generation: Generation, think: ThinkSettings) -> str | None:
        return None

    def grade(self, sample: Sample, generation: Generation, think: ThinkSettings) -> Score:
        if generation.sample_index % 2 and os.path.exists(self.marker):
            raise RuntimeError("grader bug: cannot read this answer")
        return super().grade(sample, generation, think)
