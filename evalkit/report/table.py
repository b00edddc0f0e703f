"""Tables of runs x tasks built from summary.json: a tidy pandas frame, then display tables.

Every number comes from summary.json as the summariser wrote it (nothing is recomputed here), and
every format (Markdown, CSV, LaTeX, HTML, JSON) renders the same `metrics_frame` or the `TableView`s
built from the same entries, so no two formats can disagree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from evalkit.headline import DEFAULT_HEADLINE, MetricRoles, metric_sort_key
from evalkit.report.runs import LoadedRun

if TYPE_CHECKING:
    import pandas as pd

RATE_NAMES = ("truncated", "no_answer", "unclosed_think", "error")
RATE_LABELS = {
    "truncated": "truncated",
    "no_answer": "no answer",
    "unclosed_think": "unclosed think",
    "error": "errors",
}

FRAME_COLUMNS = (
    "run",
    "run_id",
    "model",
    "step",
    "task",
    "field",
    "group",
    "metric",
    "value",
    "stderr",
    "ci95_lo",
    "ci95_hi",
    "num_problems",
    "n",
)

CellKind = Literal["metric", "rate", "text", "count"]


def at_k(metric: str, family: str) -> int | None:
    """k of `pass@k` / `cons@k` (family "pass" or "cons"), else None."""
    match = re.fullmatch(rf"{family}@(\d+)", metric)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class Cell:
    """One table cell: a number (with its 95% CI half-width) or text. `best` marks a column's top value."""

    kind: CellKind
    value: float | None = None
    half_width: float | None = None
    text: str = ""
    rating: bool = False
    best: bool = False

    @property
    def display(self) -> str:
        """The number as shown: percent for fractions, whole points for ratings."""
        if self.value is None:
            return self.text
        if self.kind == "count":
            return f"{self.value:.0f}"
        return _fmt(self.value, self.rating, self.kind)

    @property
    def uncertainty(self) -> str:
        if self.value is None or self.half_width is None:
            return ""
        return _fmt(self.half_width, self.rating, self.kind)

    @property
    def plain(self) -> str:
        """`55.5 ± 1.2` style text for formats without markup."""
        return f"{self.display} ± {self.uncertainty}" if self.uncertainty else self.display

    @property
    def sort_value(self) -> str:
        """The raw number for sorting in the HTML table (empty for text cells)."""
        return "" if self.value is None else repr(self.value)


def _fmt(value: float, rating: bool, kind: CellKind) -> str:
    if rating:
        return f"{value:.0f}"
    return f"{100 * value:.1f}"


@dataclass(frozen=True)
class TableView:
    """A display table: a header row and rows of cells, plus a title and a short caption."""

    title: str
    header: list[str]
    rows: list[list[Cell]]
    caption: str = ""
    key: str = ""

    @property
    def numeric(self) -> list[bool]:
        """Per column: whether it holds numbers (right-aligned) rather than text."""
        return [any(row[i].value is not None for row in self.rows) for i in range(len(self.header))]


@dataclass(frozen=True)
class ReportTables:
    """Everything a report shows, as numbers (`frame`) and as display tables."""

    frame: pd.DataFrame
    runs_table: TableView
    leaderboard: TableView
    rates: TableView
    details: dict[str, list[TableView]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan


def _metric_rows(
    run: LoadedRun, task: str, entry: dict[str, Any], metrics: Any, fld: str, group: str, problems: Any
) -> list[dict[str, Any]]:
    rows = []
    for key, m in (metrics or {}).items():
        if not isinstance(m, dict):
            continue
        ci = m.get("ci95") or [None, None]
        rows.append(
            {
                "run": run.label,
                "run_id": run.run_id,
                "model": run.model,
                "step": run.step,
                "task": task,
                "field": fld,
                "group": group,
                "metric": str(key),
                "value": _num(m.get("value")),
                "stderr": _num(m.get("stderr")),
                "ci95_lo": _num(ci[0]) if len(ci) > 0 else math.nan,
                "ci95_hi": _num(ci[1]) if len(ci) > 1 else math.nan,
                "num_problems": problems,
                "n": entry.get("n"),
            }
        )
    return rows


def metrics_frame(runs: Sequence[LoadedRun]) -> pd.DataFrame:
    """Tidy rows: one per (run, task, breakdown group, metric), plus `rate:<name>` rows for the rates.

    `field` and `group` are empty for a task's overall numbers and name the breakdown otherwise
    (e.g. field `level`, group `5`).
    """
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for run in runs:
        for task, entry in run.tasks.items():
            problems = entry.get("num_problems")
            rows += _metric_rows(run, task, entry, entry.get("metrics"), "", "", problems)
            rates = {f"rate:{k}": {"value": v} for k, v in (entry.get("rates") or {}).items()}
            rows += _metric_rows(run, task, entry, rates, "", "", problems)
            for fld, groups in (entry.get("breakdown") or {}).items():
                for group, sub in (groups or {}).items():
                    sub_problems = sub.get("num_problems")
                    rows += _metric_rows(run, task, entry, sub.get("metrics"), str(fld), str(group), sub_problems)
    return pd.DataFrame(rows, columns=list(FRAME_COLUMNS))


def leaderboard_frame(frame: pd.DataFrame, metrics: Sequence[str] = ("pass@1",)) -> pd.DataFrame:
    """Models x tasks: the overall value of `metrics` per run (rows) and (task, metric) (columns)."""
    overall = frame[(frame["field"] == "") & frame["metric"].isin(list(metrics))]
    return overall.pivot_table(index="run", columns=["task", "metric"], values="value", sort=False)


def task_order(runs: Sequence[LoadedRun]) -> list[str]:
    """Tasks in first-seen order across runs."""
    seen: dict[str, None] = {}
    for run in runs:
        for task in run.tasks:
            seen.setdefault(task, None)
    return list(seen)


def task_roles(runs: Sequence[LoadedRun], task: str) -> MetricRoles:
    """The headline and rating metrics of `task`, as the first run that has it records them."""
    return next((run.metric_roles(task) for run in runs if task in run.tasks), MetricRoles())


def _reported(runs: Sequence[LoadedRun], task: str) -> set[str]:
    keys: set[str] = set()
    for run in runs:
        keys.update((run.tasks.get(task, {}).get("metrics") or {}).keys())
    return keys


def headline_metric(runs: Sequence[LoadedRun], task: str) -> str | None:
    """The metric `task` leads with in these runs (evalkit.headline): compare, plots and tables use it."""
    return task_roles(runs, task).lead(_reported(runs, task))


def headline_metrics(runs: Sequence[LoadedRun], task: str) -> list[str]:
    """The leaderboard's columns for `task`: its headline metric, then pass@1 and cons@n (the largest
    cons@k) where the task reports them."""
    keys = _reported(runs, task)
    head = headline_metric(runs, task)
    chosen = [head] if head is not None else []
    cons = [k for k in keys if at_k(k, "cons") is not None]
    for extra in (DEFAULT_HEADLINE, max(cons, key=lambda k: at_k(k, "cons") or 0) if cons else None):
        if extra in keys and extra not in chosen:
            chosen.append(extra)
    return chosen


def _metric_cell(entry: dict[str, Any] | None, metric: str, roles: MetricRoles) -> Cell:
    if entry is None:
        return Cell("text", text="—")
    if entry.get("error"):
        return Cell("text", text="error")
    m = (entry.get("metrics") or {}).get(metric)
    return _cell_from(m, roles.is_rating(metric))


def _cell_from(m: Any, rating: bool) -> Cell:
    if not isinstance(m, dict) or not isinstance(m.get("value"), int | float):
        return Cell("text", text="—")
    value = float(m["value"])
    ci = m.get("ci95")
    half = None
    if isinstance(ci, list | tuple) and len(ci) == 2 and all(isinstance(c, int | float) for c in ci):
        half = (float(ci[1]) - float(ci[0])) / 2
    return Cell("metric", value=value, half_width=half, rating=rating)


def _mark_best(rows: list[list[Cell]], first_col: int) -> list[list[Cell]]:
    """Mark each metric column's highest value (higher is better for every reported metric)."""
    if len(rows) < 2:
        return rows
    for col in range(first_col, len(rows[0])):
        values = [v for r in rows if r[col].kind == "metric" and (v := r[col].value) is not None]
        if not values:
            continue
        top = max(values)
        for r in rows:
            c = r[col]
            if c.kind == "metric" and c.value == top:
                r[col] = Cell(c.kind, c.value, c.half_width, c.text, c.rating, best=True)
    return rows


def _text(value: Any) -> Cell:
    return Cell("text", text="" if value is None else str(value))


def runs_table(runs: Sequence[LoadedRun]) -> TableView:
    """Which runs the report covers."""
    rows = []
    for run in runs:
        tasks = ", ".join(f"{t} (n={e.get('n')})" for t, e in run.tasks.items())
        step = run.step
        rows.append(
            [
                _text(run.label),
                _text(run.run_id),
                _text(run.status),
                Cell("count", value=step) if step is not None else _text(""),
                _text(tasks),
                _text(run.manifest.get("started_at")),
                _text(run.manifest.get("finished_at")),
            ]
        )
    header = ["Run", "Run id", "Status", "Step", "Tasks", "Started", "Finished"]
    return TableView("Runs", header, rows, key="runs")


def leaderboard_table(runs: Sequence[LoadedRun]) -> TableView:
    """Models x tasks: each task's headline metrics with their 95% CI."""
    # A task no run could summarise keeps one column, so its "error" cells stay visible.
    columns = [(task, metric) for task in task_order(runs) for metric in headline_metrics(runs, task) or [""]]
    roles = {task: task_roles(runs, task) for task in task_order(runs)}
    rows = [[_text(run.label)] + [_metric_cell(run.tasks.get(t), m, roles[t]) for t, m in columns] for run in runs]
    header = ["Model"] + [f"{t} {m}".strip() for t, m in columns]
    caption = "Percent (ratings in rating points), ± half-width of the 95% confidence interval over problems."
    return TableView("Leaderboard", header, _mark_best(rows, 1), caption, key="leaderboard")


def rates_table(runs: Sequence[LoadedRun]) -> TableView:
    """Per run and task: samples per problem, problems, and the rates that qualify the accuracy."""
    rows = []
    for run in runs:
        for task, entry in run.tasks.items():
            rates = entry.get("rates") or {}
            rows.append(
                [
                    _text(run.label),
                    _text(task),
                    Cell("count", value=_num(entry.get("n"))),
                    Cell("count", value=_num(entry.get("num_problems"))),
                ]
                + [_rate_cell(rates.get(name)) for name in RATE_NAMES]
            )
    header = ["Model", "Task", "n", "Problems"] + [RATE_LABELS[n] for n in RATE_NAMES]
    caption = "Percent of samples: cut at the token limit, with no extractable answer, thinking never closed, failed with an error."
    return TableView("Rates", header, rows, caption, key="rates")


def _rate_cell(value: Any) -> Cell:
    return Cell("rate", value=float(value)) if isinstance(value, int | float) else _text("—")


def task_metrics_table(runs: Sequence[LoadedRun], task: str) -> TableView:
    """Every metric one task reports, per run."""
    metrics = sorted(_reported(runs, task), key=metric_sort_key)
    roles = task_roles(runs, task)
    rows = [
        [_text(run.label)] + [_metric_cell(run.tasks.get(task), m, roles) for m in metrics]
        for run in runs
        if task in run.tasks
    ]
    return TableView(f"{task}: all metrics", ["Model", *metrics], _mark_best(rows, 1), key=f"{task}-metrics")


def breakdown_tables(runs: Sequence[LoadedRun], task: str) -> list[TableView]:
    """One table per breakdown field (difficulty, subject, level, domain, instruction id...), on the first
    of the task's leaderboard metrics its groups report (a rating may not break down by problem)."""
    roles = task_roles(runs, task)
    fields: dict[str, dict[str, None]] = {}
    reported: set[str] = set()
    for run in runs:
        for fld, groups in (run.tasks.get(task, {}).get("breakdown") or {}).items():
            fields.setdefault(str(fld), {}).update(dict.fromkeys(str(g) for g in (groups or {})))
            for sub in (groups or {}).values():
                reported.update((sub or {}).get("metrics") or {})
    candidates = headline_metrics(runs, task)
    metric = next((m for m in candidates if m in reported), next(iter(candidates), DEFAULT_HEADLINE))
    tables = []
    for fld, group_set in fields.items():
        present = [r for r in runs if fld in (r.tasks.get(task, {}).get("breakdown") or {})]
        rows = []
        for group in _natural_sorted(group_set):
            subs = [(r.tasks[task]["breakdown"][fld] or {}).get(group) for r in present]
            problems = next((s.get("num_problems") for s in subs if s), None)
            cells = [_cell_from((s or {}).get("metrics", {}).get(metric), roles.is_rating(metric)) for s in subs]
            rows.append([_text(group), Cell("count", value=_num(problems)), *cells])
        header = [fld, "Problems", *[r.label for r in present]]
        caption = f"{metric} by {fld}."
        tables.append(TableView(f"{task} by {fld}", header, rows, caption, key=f"{task}-by-{fld}"))
    return tables


def _natural_sorted(values: Iterable[str]) -> list[str]:
    """Numbers in numeric order (level 2 before level 10), then text."""

    def key(v: str) -> tuple[int, float, str]:
        try:
            return (0, float(v), v)
        except ValueError:
            return (1, 0.0, v)

    return sorted(values, key=key)


def build_tables(runs: Sequence[LoadedRun]) -> ReportTables:
    """All tables of a report over `runs`."""
    details = {task: [task_metrics_table(runs, task), *breakdown_tables(runs, task)] for task in task_order(runs)}
    notes = [
        f"{run.label}: {task} could not be summarised: {entry['error']}"
        for run in runs
        for task, entry in run.tasks.items()
        if entry.get("error")
    ]
    notes += [f"{run.label} is a partial run (status: {run.status})." for run in runs if not run.complete]
    return ReportTables(
        frame=metrics_frame(runs),
        runs_table=runs_table(runs),
        leaderboard=leaderboard_table(runs),
        rates=rates_table(runs),
        details=details,
        notes=notes,
    )
