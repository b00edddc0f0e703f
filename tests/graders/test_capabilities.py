"""Grader capabilities are declared on the grader class and honoured wherever the pipeline needs them:
a grader that runs code gets the run's sandbox options and no cons@k, whatever its registry name."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from evalkit.config import RunConfig, SandboxConfig
from evalkit.graders.base import GRADERS, GraderRef, ThinkSettings, make_grader, register_grader
from evalkit.graders.pool import LocalGradingPool
from evalkit.ledger import GenInfo, TaskLedger
from evalkit.plan import plan_task
from evalkit.summary import summarize_task
from evalkit.tasks import TASKS, Task, get_task, parse_task_list, task
from evalkit.testing import generation_for
from evalkit.types import Sample, Score
from evalkit.vote import vote_classes

# The LiveCodeBench grader under a name no list in evalkit knows, as a plugin would register one.
PLUGIN = "plugin_code"
TASK = "aime24_plugin_code"


@pytest.fixture
def plugin_task() -> Iterator[str]:
    """aime24's data and prompt, graded by the plugin's code grader."""
    register_grader(PLUGIN, "evalkit.graders.code:CodeGrader")

    @task
    def aime24_plugin_code() -> Task:
        return dataclasses.replace(get_task("aime24"), name=TASK, grader=PLUGIN, grader_options={})

    yield TASK
    TASKS.pop(TASK, None)
    GRADERS.pop(PLUGIN, None)


_THINK = ThinkSettings()


def test_capability_defaults() -> None:
    graders = [make_grader(GraderRef(name)) for name in ("math", "choice", "ifeval", "code", "codeforces")]
    assert [g.runs_code for g in graders] == [False, False, False, True, True]
    assert [g.votes for g in graders] == [True, True, False, False, False]
    sample = Sample("p", "", "1")
    assert [g.job_timeout_s(sample) is None for g in graders] == [True, True, True, False, False]
    assert [g.cache_key(sample, generation_for("p", "\\boxed{1}"), _THINK) is None for g in graders] == [
        False,
        *[True] * 4,
    ]


def test_a_plugin_grader_that_runs_code_gets_the_runs_sandbox_options(plugin_task: str) -> None:
    config = RunConfig(
        model="m", tasks=plugin_task, sandbox=SandboxConfig(name="docker", unsafe_no_isolation=True), limit=1
    )
    planned = plan_task(parse_task_list(plugin_task)[0], config, None)
    assert planned.runs_code
    assert planned.grader.options == {"sandbox": "docker", "unsafe_no_isolation": True}
    plain = plan_task(parse_task_list("aime24")[0], config.model_copy(update={"tasks": "aime24"}), None)
    assert not plain.runs_code and "sandbox" not in plain.grader.options


def test_a_grader_that_does_not_vote_gets_no_cons_at_k(plugin_task: str, pool: LocalGradingPool) -> None:
    samples = [Sample("p1", "", ""), Sample("p2", "", "")]
    n = 2
    ledger = TaskLedger([s.id for s in samples], n)
    for p in range(len(samples)):
        for i in range(n):
            ledger.add_generation((p, i), GenInfo((plugin_task, samples[p].id, i), False, False, 10, 0.1, 1, None))
            ledger.add_score((p, i), Score(float(i == 0), "AC" if i == 0 else "WA"))

    def summary(grader: str) -> dict[str, object]:
        task = dataclasses.replace(get_task(plugin_task), grader=grader)
        classes = vote_classes(pool, GraderRef(grader), samples, ledger)
        return summarize_task(task, samples, ledger, classes, 100)["metrics"]  # type: ignore[no-any-return]

    assert set(summary(PLUGIN)) == {"pass@1", "pass@2"}
    assert set(summary("math")) == {"pass@1", "pass@2", "cons@2"}
