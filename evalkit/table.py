"""The summary table printed at the end of `evalkit run` and `evalkit grade`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

# The first a task has is its headline: a Codeforces task also reports pass@1, but its headline is the rating.
HEADLINES = ("rating", "prompt_level_strict", "pass@1")


def _fmt(metric: dict[str, Any] | None, *, percent: bool = True) -> str:
    if not metric:
        return "-"
    scale = 100.0 if percent else 1.0
    return f"{scale * metric['value']:.1f} ± {scale * metric['stderr']:.1f}"


def print_summary(summary: dict[str, Any], run_dir: Path, console: Console | None = None) -> None:
    """Print one row per task: headline ± stderr, best pass@k, cons@n and the failure rates."""
    console = console or Console()
    simulated = (
        " [SIMULATED: evalkit's built-in simulated model, not a real evaluation]" if summary.get("simulated") else ""
    )
    table = Table(title=f"{summary.get('model', '')}{simulated}  ({run_dir})")
    for col in (
        "task",
        "n",
        "problems",
        "headline ± se",
        "pass@k",
        "cons@n",
        "truncated",
        "no answer",
        "unclosed",
        "errors",
    ):
        table.add_column(col, justify="left" if col == "task" else "right")
    for name, t in summary["tasks"].items():
        rates = t.get("rates", {})
        pct = {k: f"{100 * v:.1f}%" for k, v in rates.items()}
        if t.get("error"):
            table.add_row(
                name,
                str(t["n"]),
                str(t["num_problems"]),
                "[red]incomplete[/]",
                "-",
                "-",
                pct.get("truncated", "-"),
                pct.get("no_answer", "-"),
                pct.get("unclosed_think", "-"),
                pct.get("error", "-"),
            )
            continue
        m = t["metrics"]
        head = next((k for k in HEADLINES if k in m), None)
        head_text = f"{head} {_fmt(m[head], percent=head != 'rating')}" if head else "-"
        pk = [k for k in m if k.startswith("pass@") and k != "pass@1"]
        best = max(pk, key=lambda k: int(k.split("@")[1])) if pk else None
        cons = f"cons@{t['n']}"
        table.add_row(
            name,
            str(t["n"]),
            str(t["num_problems"]),
            head_text,
            f"{best} {_fmt(m[best])}" if best else "-",
            _fmt(m.get(cons)) if cons in m else "-",
            pct.get("truncated", "-"),
            pct.get("no_answer", "-"),
            pct.get("unclosed_think", "-"),
            pct.get("error", "-"),
        )
    console.print(table)
    for name, t in summary["tasks"].items():
        if t.get("error"):
            console.print(f"[red]{escape(name)}:[/] {escape(t['error'])}")
