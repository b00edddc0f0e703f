"""The grading-pool contract, for both pools (local processes and Ray tasks on a local cluster): hard
time limits, crashes and grader bugs become verdicts, never hangs; cache keys are graded once;
vote keys are grouped by the grader's relation."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import wait
from pathlib import Path

import pytest

from evalkit.errors import EvalkitError
from evalkit.graders.base import GraderRef, ThinkSettings, register_grader
from evalkit.graders.jobs import GradeJob, GradingPool
from evalkit.graders.pool import LocalGradingPool
from evalkit.testing import generation_for
from evalkit.types import Generation, Sample, Score

SAMPLE = Sample(id="p1", input="What is 2+3?", target="5")
THINK = ThinkSettings()
MakePool = Callable[[int], GradingPool]


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[object]:
    """A local Ray cluster for this module's Ray half (started by the first test that needs it)."""
    pytest.importorskip("ray")
    from evalkit.testing.ray_cluster import local_ray_cluster

    with local_ray_cluster(num_cpus=2) as ray:
        yield ray


@pytest.fixture(
    scope="module",
    params=["local", pytest.param("ray", marks=[pytest.mark.ray, pytest.mark.slow])],
)
def make_pool(request: pytest.FixtureRequest) -> MakePool:
    """Builds a pool of the kind under test with the given number of workers."""
    if request.param == "ray":
        request.getfixturevalue("ray_cluster")
        from evalkit.graders.ray_pool import RayGradingPool

        return RayGradingPool
    return LocalGradingPool


@pytest.fixture(scope="module")
def any_pool(make_pool: MakePool) -> Iterator[GradingPool]:
    """A 2-worker pool of the kind under test, shared by the module's tests of that kind."""
    with make_pool(2) as p:
        yield p


def math_job(gen: Generation, timeout_s: float = 20.0) -> GradeJob:
    return GradeJob(grader=GraderRef("math"), sample=SAMPLE, generation=gen, think=THINK, timeout_s=timeout_s)


def test_math_job_is_graded_in_a_worker(any_pool: GradingPool) -> None:
    score = any_pool.submit(math_job(generation_for(SAMPLE, "So $\\boxed{5}$."))).result(timeout=60)
    assert score.verdict == "correct"
    assert score.value == 1.0


def test_overrunning_job_is_a_timeout_verdict_and_the_pool_recovers(any_pool: GradingPool) -> None:
    slow = GradeJob(GraderRef("test_sleep", {"seconds": 60}), SAMPLE, generation_for(SAMPLE, "x"), THINK, timeout_s=0.5)
    score = any_pool.submit(slow).result(timeout=60)
    assert score.verdict == "timeout"
    assert score.value == 0.0
    assert "0.5 s" in score.explanation
    after = any_pool.submit(math_job(generation_for(SAMPLE, "$\\boxed{5}$"))).result(timeout=60)
    assert after.verdict == "correct"


def test_a_job_that_finishes_after_its_limit_is_a_timeout_however_late_the_kill(any_pool: GradingPool) -> None:
    # Ray kills a job only after a start-up slack; the verdict must not depend on that.
    late = GradeJob(
        GraderRef("test_sleep", {"seconds": 2.0}), SAMPLE, generation_for(SAMPLE, "x"), THINK, timeout_s=0.5
    )
    assert any_pool.submit(late).result(timeout=60).verdict == "timeout"


def test_stuck_job_does_not_stall_the_others(make_pool: MakePool) -> None:
    pool = make_pool(2)
    stuck = pool.submit(
        GradeJob(GraderRef("test_sleep", {"seconds": 60}), SAMPLE, generation_for(SAMPLE, "x"), THINK, timeout_s=30)
    )
    quick = [pool.submit(math_job(generation_for(SAMPLE, f"$\\boxed{{{i}}}$"))) for i in range(20)]
    done, _ = wait(quick, timeout=25)
    assert len(done) == 20
    assert not stuck.done()  # all 20 went through the other worker while this one was stuck
    assert [f.result().verdict for f in quick].count("correct") == 1
    pool.stop()
    assert stuck.result(timeout=30).verdict == "error"


def test_worker_crash_is_an_error_verdict(any_pool: GradingPool) -> None:
    score = any_pool.submit(GradeJob(GraderRef("test_crash"), SAMPLE, generation_for(SAMPLE, "x"), THINK)).result(120)
    assert score.verdict == "error"
    assert score.value == 0.0
    assert "worker died" in score.explanation
    assert any_pool.submit(math_job(generation_for(SAMPLE, "$\\boxed{5}$"))).result(timeout=60).verdict == "correct"


def test_grader_exception_is_an_error_verdict_naming_it(any_pool: GradingPool) -> None:
    score = any_pool.submit(GradeJob(GraderRef("test_raise"), SAMPLE, generation_for(SAMPLE, "x"), THINK)).result(60)
    assert score.verdict == "error"
    assert "ValueError" in score.explanation
    assert "boom from the test grader" in score.explanation


def test_unknown_grader_is_rejected_at_submit(any_pool: GradingPool) -> None:
    with pytest.raises(EvalkitError, match="Unknown grader 'no_such_grader'"):
        any_pool.submit(GradeJob(GraderRef("no_such_grader"), SAMPLE, generation_for(SAMPLE, "x"), THINK))


def test_grader_registered_after_the_pool_started_reaches_the_workers(any_pool: GradingPool) -> None:
    any_pool.submit(math_job(generation_for(SAMPLE, "$\\boxed{5}$"))).result(timeout=60)  # workers are up
    register_grader("test_pid_late", "evalkit.testing.graders:PidGrader")
    score = any_pool.submit(GradeJob(GraderRef("test_pid_late"), SAMPLE, generation_for(SAMPLE, "x"), THINK)).result(60)
    assert score.verdict == "correct"


def test_grading_happens_in_other_processes(any_pool: GradingPool) -> None:
    futures = [
        any_pool.submit(GradeJob(GraderRef("test_pid"), SAMPLE, generation_for(SAMPLE, "x"), THINK)) for _ in range(8)
    ]
    pids = {int(f.result(timeout=60).extracted or 0) for f in futures}
    assert os.getpid() not in pids
    assert pids and 0 not in pids


def test_local_pool_grades_in_at_most_its_workers(pool: LocalGradingPool) -> None:
    futures = [
        pool.submit(GradeJob(GraderRef("test_pid"), SAMPLE, generation_for(SAMPLE, "x"), THINK)) for _ in range(8)
    ]
    assert 1 <= len({f.result(timeout=60).extracted for f in futures}) <= 2


def test_pool_created_and_used_from_a_thread(make_pool: MakePool) -> None:
    # math-verify needs a main thread; the workers' main threads serve a pool made anywhere.
    results: list[Score] = []

    def run() -> None:
        with make_pool(1) as pool:
            results.append(pool.submit(math_job(generation_for(SAMPLE, "$\\boxed{5}$"))).result(timeout=60))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=120)
    assert [s.verdict for s in results] == ["correct"]


def test_jobs_with_one_cache_key_are_graded_once(any_pool: GradingPool) -> None:
    job = GradeJob(GraderRef("test_counting"), SAMPLE, generation_for(SAMPLE, "x"), THINK)
    futures = [any_pool.submit(job) for _ in range(10)]
    assert len(set(map(id, futures))) == 10  # callers may key dicts by future
    assert len({f.result(timeout=60).extracted for f in futures}) == 1
    unkeyed = GradeJob(GraderRef("test_counting"), SAMPLE, generation_for(SAMPLE, "no key"), THINK)
    counts = {any_pool.submit(unkeyed).result(timeout=60).extracted for _ in range(3)}
    assert len(counts) == 3


def test_failed_results_are_not_reused(any_pool: GradingPool, tmp_path: Path) -> None:
    marker = tmp_path / "crash"
    marker.touch()
    job = GradeJob(GraderRef("test_flaky", {"marker": str(marker)}), SAMPLE, generation_for(SAMPLE, "x"), THINK)
    assert any_pool.submit(job).result(timeout=120).verdict == "error"
    marker.unlink()
    assert any_pool.submit(job).result(timeout=60).verdict == "correct"


def test_same_class_merges_equivalent_keys(any_pool: GradingPool) -> None:
    keys = ["\\frac{1}{2}", "0.5", "3", "\\frac{1}{2}", "\\dfrac{2}{4}", "x = 3"]
    classes = any_pool.same_class(GraderRef("math"), Sample("p", "", "1/2"), keys).result(timeout=60)
    assert classes == [0, 0, 1, 0, 0, 1]


def test_same_class_single_key_needs_no_worker(any_pool: GradingPool) -> None:
    assert any_pool.same_class(GraderRef("test_crash"), SAMPLE, ["7", "7", "7"]).result(timeout=5) == [0, 0, 0]
    assert any_pool.same_class(GraderRef("test_crash"), SAMPLE, []).result(timeout=5) == []


def test_same_class_timeout_leaves_keys_in_their_own_classes(any_pool: GradingPool) -> None:
    keys = ["a", "b", "a", "c"]
    future = any_pool.same_class(GraderRef("test_sleep", {"seconds": 60}), SAMPLE, keys, timeout_s=0.5)
    assert future.result(timeout=60) == [0, 1, 0, 2]


def test_same_class_grader_failure_leaves_keys_separate(any_pool: GradingPool) -> None:
    assert any_pool.same_class(GraderRef("test_raise"), SAMPLE, ["1", "2"]).result(timeout=60) == [0, 1]
    assert any_pool.same_class(GraderRef("test_crash"), SAMPLE, ["1", "2"]).result(timeout=120) == [0, 1]


def test_same_class_uses_the_grader_relation(any_pool: GradingPool) -> None:
    # PidGrader calls keys equal when their first letters match.
    classes = any_pool.same_class(GraderRef("test_pid"), SAMPLE, ["ab", "ba", "ax", "bb", "c"]).result(timeout=60)
    assert classes == [0, 1, 0, 1, 2]


def test_stop_resolves_pending_jobs_as_errors(make_pool: MakePool) -> None:
    pool = make_pool(1)
    futures = [
        pool.submit(GradeJob(GraderRef("test_sleep", {"seconds": 60}), SAMPLE, generation_for(SAMPLE, "x"), THINK, 120))
        for _ in range(3)
    ]
    pool.stop()
    scores = [f.result(timeout=60) for f in futures]
    assert {s.verdict for s in scores} == {"error"}


def test_exception_inside_the_with_block_stops_the_pool(make_pool: MakePool) -> None:
    futures = []
    with pytest.raises(RuntimeError, match="caller failed"), make_pool(1) as pool:
        job = GradeJob(GraderRef("test_sleep", {"seconds": 60}), SAMPLE, generation_for(SAMPLE, "x"), THINK, 120)
        futures.append(pool.submit(job))
        raise RuntimeError("caller failed")
    assert futures[0].result(timeout=60).verdict == "error"


@pytest.mark.parametrize("workers", [0, -1])
def test_bad_worker_count_is_rejected(make_pool: MakePool, workers: int) -> None:
    with pytest.raises(EvalkitError, match="at least 1 worker"):
        make_pool(workers)
