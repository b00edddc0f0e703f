"""The public API a task file imports: `from evalkit import Task, task, Sample, ...`, loaded lazily."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_task_files_import_everything_from_evalkit() -> None:
    """evalkit's own task files use the public API, as a user's file does."""
    for path in sorted((ROOT / "tasks").glob("*.py")):
        source = path.read_text()
        for internal in ("evalkit.tasks", "evalkit.types", "evalkit.errors", "evalkit.data "):
            assert f"from {internal}" not in source, f"{path.name} imports from {internal}"


def test_the_public_api_is_the_decorator_even_after_the_tasks_module_is_imported() -> None:
    code = (
        "import sys, evalkit\n"
        "assert [m for m in sys.modules if m.startswith('evalkit.')] == [], 'import evalkit loads submodules'\n"
        "import evalkit.tasks\n"
        "from evalkit import task, Task\n"
        "assert callable(task) and task is evalkit.tasks.task and Task is evalkit.tasks.Task\n"
        "for name in evalkit.__all__:\n"
        "    assert getattr(evalkit, name) is not None, name\n"
        "assert sorted(evalkit.__all__) == sorted([*evalkit._EXPORTS, '__version__'])\n"
        "print('ok')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    assert out.stdout.strip() == "ok", out.stderr
