"""A benchmark adds its own CLI commands through its Task (`Task.commands`); evalkit's CLI names none.

Each check runs in a fresh interpreter: the CLI finds the groups once per process, and a task
registered here must not leak into other tests' registry.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

TOY_TASK = """
import typer

from evalkit.cli import app
from evalkit.tasks import DatasetSpec, Task, task
from evalkit.types import Sample

toy_app = typer.Typer(name="toybench", help="Toy benchmark data.")


@toy_app.command("hello")
def hello(name: str = "world") -> None:
    print(f"hello {name}")


@task
def toybench() -> Task:
    return Task(
        name="toybench",
        version="1",
        dataset=DatasetSpec(hub_id="toy/toy", revision="r", split="test", offline_path="toy/test.jsonl"),
        record_to_sample=lambda r: Sample(id=str(r["id"]), input=r["q"], target=r["a"]),
        template="math.j2",
        grader="math",
        n=1,
        commands=lambda: toy_app,
    )
"""


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, check=False
    )


def test_a_task_outside_evalkit_adds_a_command_group() -> None:
    done = _python(
        TOY_TASK
        + """
app(["toybench", "hello", "--name", "evalkit"], standalone_mode=False)
app(["--help"], standalone_mode=False)
"""
    )
    assert done.returncode == 0, done.stderr
    assert "hello evalkit" in done.stdout
    assert "toybench" in done.stdout and "Toy benchmark data." in done.stdout
    assert "codeforces" in done.stdout  # the built-in task's group, listed the same way


def test_codeforces_fetch_is_reached_through_the_codeforces_task() -> None:
    done = _python(
        """
import sys
from evalkit.cli import app
assert "evalkit.commands.codeforces" not in sys.modules
try:
    app(["codeforces", "fetch", "--help"], standalone_mode=False)
finally:
    print("TASK FILES LOADED:", "evalkit_tasks.codeforces" in sys.modules)
"""
    )
    assert done.returncode == 0, done.stderr
    assert "--contests" in done.stdout and "TASK FILES LOADED: True" in done.stdout


def test_evalkit_own_commands_do_not_load_the_task_files() -> None:
    done = _python(
        """
import sys
from evalkit.cli import app
try:
    app(["gate", "--help"], standalone_mode=False)
finally:
    print("TASK FILES LOADED:", any(m.startswith("evalkit_tasks.") for m in sys.modules))
"""
    )
    assert done.returncode == 0, done.stderr
    assert "--baseline" in done.stdout and "TASK FILES LOADED: False" in done.stdout
