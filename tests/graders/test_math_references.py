"""The math grader on the benchmarks' own references: every gold boxed by itself is correct (AIME 2024,
AIME 2025, MATH-500: 560 golds) and every MATH-500 reference solution reaches its gold (500 solutions).

A rule that reads answers differently (box groups, final-answer statements, normalization) must not
cost one of these. Data: the offline copies in ../shared/data (skipped without them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from evalkit.data import load_task_samples
from evalkit.graders.base import GraderRef, ThinkSettings
from evalkit.graders.jobs import GradeJob, GradingPool
from evalkit.graders.pool import LocalGradingPool
from evalkit.tasks import get_task
from evalkit.testing import generation_for
from evalkit.types import Sample

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"offline benchmark data not found at {DATA}")


@pytest.fixture(scope="module")
def pool() -> Iterator[GradingPool]:
    with LocalGradingPool(2) as p:
        yield p


def _failures(pool: GradingPool, grader: GraderRef, jobs: list[tuple[Sample, str]], think: ThinkSettings) -> list[str]:
    futures = [(s, pool.submit(GradeJob(grader, s, generation_for(s, text), think))) for s, text in jobs]
    return [
        f"{s.id}: gold {s.target!r}: {score.verdict}, {score.explanation}"
        for s, future in futures
        if (score := future.result(timeout=300)).verdict != "correct"
    ]


def test_every_gold_boxed_by_itself_is_correct(pool: GradingPool) -> None:
    think = ThinkSettings(policy="required")
    failures, total = [], 0
    for name in ("aime24", "aime25", "math500"):
        task = get_task(name)
        samples = load_task_samples(task, DATA).samples
        total += len(samples)
        jobs = [(s, f"<think>Working.</think>\n\nThe final answer is $\\boxed{{{s.target}}}$.") for s in samples]
        failures += _failures(pool, GraderRef("math", dict(task.grader_options)), jobs, think)
    assert total == 560
    assert not failures, f"{len(failures)}/{total} golds not equal to themselves:\n" + "\n".join(failures)


def test_every_math500_reference_solution_reaches_its_gold(pool: GradingPool) -> None:
    samples = load_task_samples(get_task("math500"), DATA).samples
    rows = (json.loads(line) for line in (DATA / "math500" / "test.jsonl").read_text("utf-8").splitlines() if line)
    solutions = {row["unique_id"]: row["solution"] for row in rows}
    jobs = [(s, solutions[s.id]) for s in samples]
    failures = _failures(pool, GraderRef("math"), jobs, ThinkSettings(policy="none"))
    assert len(jobs) == 500
    assert not failures, f"{len(failures)}/500 reference solutions graded wrong:\n" + "\n".join(failures)
