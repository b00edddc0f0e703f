"""`evalkit doctor`: what works on this machine and what to do about the rest."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

DOCTOR_HELP = """Check what works on this machine: graders (math-verify, punkt, langdetect), sandboxes
(bubblewrap, unshare, Docker daemon), engines (vLLM, transformers, Ray, GPU) and each task's data
(bundled copy, data dir, Hugging Face cache, Hub reachable within a few seconds), with what to do
about what does not. Exit 1 when a default task (aime24, aime25, math500, ifeval) cannot run.

Example: `evalkit doctor`
"""

_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red", "info": "dim"}


def doctor() -> None:
    from evalkit.doctor import default_tasks_blocked, diagnose

    findings = diagnose()
    table = Table(title="evalkit doctor", show_lines=False)
    for col in ("area", "what", "status", "detail", "to do"):
        table.add_column(col, overflow="fold")
    for f in findings:
        style = _STYLE[f.status]
        table.add_row(f.area, f.name, f"[{style}]{f.status}[/]", escape(f.detail), escape(f.advice))
    console = Console()
    console.print(table)
    blocked = default_tasks_blocked(findings)
    if blocked:
        console.print(f"[bold red]The default tasks cannot all run here: {escape(', '.join(blocked))}.[/]")
        raise typer.Exit(1)
    console.print("[green]The default tasks (aime24, aime25, math500, ifeval) can run here.[/]")
