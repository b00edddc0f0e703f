"""The `evalkit` command line: the typer app and the registration of its commands, each of which lives
in its own module under evalkit/commands/ (benchmarks add theirs through `Task.commands`).

Exit codes: 0 success, 1 a gate found a regression, 2 bad usage or bad input (with a message),
3 a run (or re-grade) that ended incomplete: samples failed to generate or to grade, or the run
stopped early; what is done is kept and rerunning the same command retries the rest.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from evalkit.errors import EvalkitError

F = TypeVar("F", bound=Callable[..., Any])
err_console = Console(stderr=True)


@functools.cache
def task_command_groups() -> dict[str, TyperGroup]:
    """The command groups benchmarks add through `Task.commands` (e.g. a data download step), by name."""
    from evalkit.tasks import get_task, task_names

    groups: dict[str, TyperGroup] = {}
    for name in task_names():
        try:
            commands = get_task(name).commands
        except EvalkitError:
            continue  # a task that needs options to be built adds no commands
        if commands is not None:
            group = typer.main.get_group(commands())
            groups[group.name or name] = group
    return groups


class _Commands(TyperGroup):
    """evalkit's own commands, then the benchmarks' groups, which load the tasks only when asked for.

    `ctx` and the command are click's types, which typer re-exports under no stable public name
    (recent typer versions vendor click): hence Any.
    """

    def list_commands(self, ctx: Any) -> list[str]:
        own = super().list_commands(ctx)
        return own + sorted(name for name in task_command_groups() if name not in own)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        return super().get_command(ctx, cmd_name) or task_command_groups().get(cmd_name)


app = typer.Typer(
    name="evalkit",
    cls=_Commands,
    help="Evaluate reasoning models with the DeepSeek-R1 protocol: AIME, MATH-500, GPQA-Diamond, "
    "LiveCodeBench, Codeforces and IFEval, with error bars.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)


def handles_errors(fn: F) -> F:
    """Turn EvalkitError and config validation errors into a message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except EvalkitError as e:
            # Messages hold literal brackets (pip install 'evalkit[vllm]'): not rich markup.
            err_console.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False)
            raise typer.Exit(e.exit_code) from None
        except ValidationError as e:
            problems = "; ".join(f"--{'.'.join(map(str, x['loc'])).replace('_', '-')}: {x['msg']}" for x in e.errors())
            err_console.print(
                f"[bold red]error:[/] invalid option value: {escape(problems)}. See --help.", highlight=False
            )
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _register_commands() -> None:
    # Each command lives in its own module under evalkit/commands/.
    from evalkit.commands import doctor, gate, grade, report, run, selfcheck, task_list

    app.command(name="run", help=run.RUN_HELP)(handles_errors(run.run))
    app.command(name="grade", help=grade.GRADE_HELP)(handles_errors(grade.grade))
    app.command(name="tasks", help=task_list.TASKS_HELP)(handles_errors(task_list.list_tasks))
    app.command(name="report")(handles_errors(report.report))
    app.command(name="selfcheck", help=selfcheck.SELFCHECK_HELP)(handles_errors(selfcheck.selfcheck))
    app.command(name="doctor", help=doctor.DOCTOR_HELP)(handles_errors(doctor.doctor))
    app.command(name="compare")(handles_errors(gate.compare))
    app.command(name="gate")(handles_errors(gate.gate))


_register_commands()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
