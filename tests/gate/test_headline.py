"""One headline per task: `run`'s table, the report, compare and gate read the metric the task declares.

Codeforces declares its rating (in rating points), IFEval its prompt-level strict accuracy, every other
task pass@1. The run's manifest records the declaration; runs written before it did (their manifest
task entries carry a `metric_family`) get the installed task's declaration.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from rich.console import Console

from evalkit.console import print_summary
from evalkit.gate import compare_runs, gate_runs
from evalkit.headline import MetricRoles, metric_roles, recorded_roles
from evalkit.report.render import render
from evalkit.report.runs import LoadedRun, load_run
from evalkit.report.table import leaderboard_table
from evalkit.tasks import get_task

DECLARED = {"aime24": "pass@1", "math500": "pass@1", "ifeval": "prompt_level_strict", "codeforces": "rating"}
OLD_FAMILIES = {"aime24": "pass", "math500": "pass", "ifeval": "ifeval", "codeforces": "codeforces"}


def _manifest_fields(style: str) -> dict[str, dict[str, Any]]:
    if style == "recorded":
        return {name: metric_roles(get_task(name)).manifest_fields() for name in DECLARED}
    return {name: {"metric_family": family} for name, family in OLD_FAMILIES.items()}


def _pair(tmp_path: Path, fake: ModuleType, style: str) -> tuple[LoadedRun, LoadedRun]:
    fields = _manifest_fields(style)
    a = fake.write_run(tmp_path, fake.RunSpec(model="org/a", seed=1, overrides=fields))
    b = fake.write_run(tmp_path, fake.RunSpec(model="org/b", skill=-0.1, seed=2, overrides=fields))
    return load_run(a), load_run(b)


def _table_headlines(run: LoadedRun, roles: dict[str, MetricRoles] | None) -> dict[str, str]:
    """The metric each task's row of the end-of-run table leads with."""
    console = Console(width=240, record=True)
    print_summary(run.summary, run.path, console, roles=roles)
    text = console.export_text()
    heads = {}
    for task, entry in run.summary["tasks"].items():
        row = next(line for line in text.splitlines() if line.strip("│ ").startswith(task))
        cells = [c.strip() for c in row.split("│") if c.strip()]
        # task, n, problems, then "metric value ± se"
        assert cells[:3] == [task, str(entry["n"]), str(entry["num_problems"])]
        heads[task] = cells[3].split(" ")[0]
    return heads


@pytest.mark.parametrize("style", ["recorded", "metric_family"])
def test_run_table_report_compare_and_gate_lead_with_the_same_metric(
    tmp_path: Path, fake: ModuleType, style: str
) -> None:
    a, b = _pair(tmp_path, fake, style)
    roles = {task: a.metric_roles(task) for task in a.tasks}
    assert {task: r.headline for task, r in roles.items()} == DECLARED
    assert _table_headlines(a, roles) == DECLARED
    # What `evalkit grade` prints (roles from the planned tasks) is the same.
    assert _table_headlines(a, {t: metric_roles(get_task(t)) for t in a.tasks}) == DECLARED
    compared, _ = compare_runs(a, b, n_boot=200)
    assert {c.task: c.metric for c in compared} == DECLARED
    codeforces = next(c for c in compared if c.task == "codeforces")
    assert codeforces.rating and codeforces.method == "normal-approximation"
    header = leaderboard_table([a, b]).header
    first = {t: next(h for h in header if h.startswith(f"{t} ")).split(" ", 1)[1] for t in DECLARED}
    assert first == DECLARED
    gated = gate_runs(a, b, metric="rating", max_drop_points=400, n_boot=200)
    cf = next(t for t in gated.tasks if t.task == "codeforces")
    assert cf.rating and cf.max_drop == 400


def test_a_task_evalkit_does_not_know_is_read_as_its_manifest_declares(tmp_path: Path, fake: ModuleType) -> None:
    """A task from a user's file: its run directory alone says how to read its numbers."""
    toy = fake.TaskShape("toy_elo", 6, 2, family="codeforces")  # reports pass@k, a rating and a percentile
    declared = {"toy_elo": {"headline": "rating", "rating_metrics": ["rating"]}}
    runs = [
        load_run(fake.write_run(tmp_path, fake.RunSpec(model=f"org/{m}", seed=s, tasks=(toy,), overrides=declared)))
        for m, s in (("a", 1), ("b", 2))
    ]
    assert runs[0].metric_roles("toy_elo") == MetricRoles("rating", frozenset({"rating"}))
    (compared,), _ = compare_runs(*runs, n_boot=200)
    assert (compared.metric, compared.rating) == ("rating", True)
    rating = runs[0].tasks["toy_elo"]["metrics"]["rating"]["value"]
    text = render(runs, "md")
    assert "toy_elo rating" in text.splitlines()[4]
    assert f"{rating:.0f} ± " in text and f"{100 * rating:.1f}" not in text
    # Without a declaration, an unknown task leads with pass@1 and has no rating scale.
    assert recorded_roles("toy_elo", {}) == MetricRoles()


def test_compare_prints_the_codeforces_rating_in_points(cli: Any, tmp_path: Path, fake: ModuleType) -> None:
    from typer.testing import CliRunner

    a = fake.write_run(tmp_path, fake.RunSpec(model="org/a", seed=1))
    b = fake.write_run(tmp_path, fake.RunSpec(model="org/b", seed=2))
    out = CliRunner().invoke(cli, ["compare", str(a), str(b)], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    row = next(line for line in out.stdout.splitlines() if "codeforces" in line)
    assert re.search(r"codeforces\s*│\s*rating\s*│\s*\d{3,4}\s*│\s*\d{3,4}\s*│", row), row
