"""`evalkit tasks [FILE]`: the tasks with their defaults (evalkit's, plugins', or a task file's)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from evalkit.errors import EvalkitError

TASKS_HELP = """List the tasks with their defaults: evalkit's, installed plugins' (entry point group
`evalkit.tasks`), or those a task file defines.

Examples:

* `evalkit tasks`

* `evalkit tasks examples/local_math/local_math.py`
"""


def list_tasks(
    file: Annotated[
        Path | None, typer.Argument(help="A task file: list the tasks it defines (run them with --tasks FILE).")
    ] = None,
) -> None:
    from rich.table import Table

    from evalkit.tasks import TASKS, TaskSpec, file_tasks, task_names

    if file is None:
        specs = [TaskSpec(name) for name in task_names()]
    else:
        specs = [TaskSpec(name, file=str(file.absolute())) for name in file_tasks(file)]
    table = Table(title=f"tasks in {file}" if file is not None else "evalkit tasks")
    for col in ("task", "n", "max tokens", "T", "top-p", "grader", "description"):
        table.add_column(col)
    broken: list[str] = []
    for spec in specs:
        plugin = TASKS.plugin(spec.name) if spec.file is None else None
        source = f" (plugin {plugin.dist.name})" if plugin is not None and plugin.dist is not None else ""
        try:
            t = spec.build()
        except EvalkitError as e:
            broken.append(f"{spec.name}: {e}")
            table.add_row(spec.name, "", "", "", "", "", escape(f"cannot be built{source}: {e}"))
            continue
        description = escape(t.description + source)
        table.add_row(spec.name, str(t.n), str(t.max_tokens), str(t.temperature), str(t.top_p), t.grader, description)
    Console().print(table)
    if broken:
        raise EvalkitError(f"{len(broken)} task(s) cannot be built: " + " ".join(broken))
