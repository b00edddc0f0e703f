"""`evalkit selfcheck`: the simulated model over the bundled tasks, checked against its known truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

SELFCHECK_HELP = """Check that evalkit works on this machine, offline, with its built-in simulated model.

Runs `--model simulated` over the bundled tasks, then checks that every metric's 95% CI covers the
simulated truth, that every sample got the verdict its kind must get, that the store and `evalkit
grade` agree, and that the sandbox and the choice grader work. Exit 0 when all pass, 1 otherwise.

Examples:

* `evalkit selfcheck`

* `evalkit selfcheck --tasks aime24,math500 --n 8 --output results/selfcheck`
"""


def selfcheck(
    tasks: Annotated[
        str, typer.Option(help="Tasks to run (bundled ones need no network).")
    ] = "aime24,aime25,math500,ifeval",
    n: Annotated[int | None, typer.Option(help="Samples per problem (default: each task's).")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N problems of each task.")] = None,
    seed: Annotated[int, typer.Option(help="Run seed.")] = 0,
    output: Annotated[Path | None, typer.Option(help="Keep the simulated run here (default: a temp dir).")] = None,
    sandbox: Annotated[str, typer.Option(help="Sandbox to check: local|docker.")] = "local",
    unsafe_no_isolation: Annotated[bool, typer.Option(help="Check code without namespaces.")] = False,
    workers: Annotated[int | None, typer.Option(help="Grading processes (default: CPU count).")] = None,
) -> None:
    from evalkit.selfcheck import format_report, run_selfcheck

    checks = run_selfcheck(
        tasks=tasks,
        n=n,
        limit=limit,
        seed=seed,
        output=output,
        sandbox=sandbox,
        unsafe_no_isolation=unsafe_no_isolation,
        workers=workers,
    )
    console = Console()
    for line, check in zip(format_report(checks), [*checks, None], strict=True):
        style = "green" if check is not None and check.ok else "red" if check is not None else "bold"
        console.print(f"[{style}]{escape(line)}[/]", highlight=False, soft_wrap=True)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)
