"""The summary table printed at the end of `evalkit run` and `evalkit grade`.

The full table has a column per figure. When it does not fit the terminal (80 columns is common),
each task's figures are stacked instead: one line per metric, and the rates in one cell, so no
header is cut and no number is wrapped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from evalkit.headline import MetricRoles, installed_roles

RATES = (("truncated", "truncated"), ("no_answer", "no answer"), ("unclosed_think", "unclosed"), ("error", "errors"))


def _fmt(metric: dict[str, Any] | None, *, percent: bool = True) -> str:
    if not metric:
        return "-"
    scale = 100.0 if percent else 1.0
    return f"{scale * metric['value']:.1f} ± {scale * metric['stderr']:.1f}"


@dataclass(frozen=True)
class _Figures:
    """A complete task's figures as (metric name, "value ± se"): headline, largest pass@k, cons@n."""

    headline: tuple[str, str] | None
    best_pass: tuple[str, str] | None
    cons: tuple[str, str] | None

    @classmethod
    def of(cls, task: dict[str, Any], roles: MetricRoles) -> _Figures:
        m = task["metrics"]
        head = roles.headline if roles.headline in m else None
        pk = [k for k in m if k.startswith("pass@") and k != "pass@1"]
        best = max(pk, key=lambda k: int(k.split("@")[1])) if pk else None
        cons = f"cons@{task['n']}"
        return cls(
            (head, _fmt(m[head], percent=not roles.is_rating(head))) if head else None,
            (best, _fmt(m[best])) if best else None,
            (cons, _fmt(m[cons])) if cons in m else None,
        )

    def rows(self) -> list[tuple[str, str]]:
        return [f for f in (self.headline, self.best_pass, self.cons) if f is not None]


def _rates(task: dict[str, Any]) -> list[str]:
    rates = task.get("rates", {})
    return [f"{100 * rates[key]:.1f}%" if key in rates else "-" for key, _ in RATES]


def _wide(summary: dict[str, Any], title: str, roles: Mapping[str, MetricRoles]) -> Table:
    table = Table(title=title)
    columns = ("task", "n", "problems", "headline ± se", "pass@k", "cons@n", *(label for _, label in RATES))
    for col in columns:
        table.add_column(col, justify="left" if col == "task" else "right", no_wrap=True)
    for name, t in summary["tasks"].items():
        if t.get("error"):
            figures = ["[red]incomplete[/]", "-", "-"]
        else:
            f = _Figures.of(t, roles[name])
            figures = [
                " ".join(f.headline) if f.headline else "-",
                " ".join(f.best_pass) if f.best_pass else "-",
                f.cons[1] if f.cons else "-",
            ]
        table.add_row(escape(name), str(t["n"]), str(t["num_problems"]), *figures, *_rates(t))
    return table


def _narrow(summary: dict[str, Any], title: str, roles: Mapping[str, MetricRoles]) -> Table:
    table = Table(title=title)
    table.add_column("task", no_wrap=True)
    table.add_column("metric", no_wrap=True)
    table.add_column("value ± se", justify="right", no_wrap=True)
    table.add_column("rates", no_wrap=True)
    tasks = list(summary["tasks"].items())
    for i, (name, t) in enumerate(tasks):
        if t.get("error"):
            metrics, values = "[red]incomplete[/]", "-"
        else:
            rows = _Figures.of(t, roles[name]).rows()
            metrics, values = "\n".join(k for k, _ in rows) or "-", "\n".join(v for _, v in rows) or "-"
        table.add_row(
            f"{escape(name)}\nn={t['n']}, {t['num_problems']} problems",
            metrics,
            values,
            "\n".join(f"{label} {value}" for (_, label), value in zip(RATES, _rates(t), strict=True)),
            end_section=i < len(tasks) - 1,
        )
    return table


def print_summary(
    summary: dict[str, Any],
    run_dir: Path,
    console: Console | None = None,
    roles: Mapping[str, MetricRoles] | None = None,
) -> None:
    """Per task: headline ± stderr, best pass@k, cons@n and the failure rates; stacked when narrow.

    `roles`: each task's headline and rating metrics (evalkit.headline); a task left out gets those
    of the installed task of its name.
    """
    console = console or Console()
    roles = {name: (roles or {}).get(name) or installed_roles(name) for name in summary["tasks"]}
    simulated = (
        " [SIMULATED: evalkit's built-in simulated model, not a real evaluation]" if summary.get("simulated") else ""
    )
    title = f"{escape(str(summary.get('model', '')))}{escape(simulated)}  ({escape(str(run_dir))})"
    table = _wide(summary, title, roles)
    # The width the full table needs without wrapping (measured as if the terminal were unbounded).
    if Measurement.get(console, console.options.update_width(1 << 16), table).maximum > console.width:
        table = _narrow(summary, title, roles)
    console.print(table)
    for name, t in summary["tasks"].items():
        stats = t.get("stats") or {}
        if stats.get("max_tokens_fitted"):
            console.print(
                f"[yellow]{escape(name)}:[/] max tokens fitted to the model's context for "
                f"{stats['max_tokens_fitted']} samples (smallest {stats['min_max_tokens']:,} of the "
                f"{stats['max_tokens']:,} asked)."
            )
        if t.get("error"):
            console.print(f"[red]{escape(name)}:[/] {escape(t['error'])}")
