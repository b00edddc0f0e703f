"""evalkit: evaluation harness for reasoning models (DeepSeek-R1 protocol, error bars, fast).

Public API (names load on first use, so `import evalkit` stays light):
- Writing a task (evalkit's tasks/, your own file for `evalkit run --tasks my_tasks.py`, a plugin):
  `Task`, `task`, `DatasetSpec`, `BundledCopy`, `Record`, `Sample`, `Prompt`, `Message`,
  `render_messages`, `read_jsonl`, `load_hub`, `EvalkitError`, `MissingExtraError`.
- Writing a grader: `Grader` (subclass it and implement `judge`), `Answer`, `ThinkSettings`, `Generation`, `Score`, `register_grader`.
- Running: `evalkit.run(config)` runs or resumes an evaluation; `evalkit.RunConfig` configures it.
- Writing a backend (a plugin's `evalkit.adapters` entry point): subclass `Adapter`.
- `evalkit.rewards` has grader functions usable as RL reward functions.
- `evalkit.metrics.pass_at_k(n, c, k)` and the other metric functions.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from evalkit.adapters.base import Adapter
    from evalkit.config import RunConfig
    from evalkit.data import load_hub
    from evalkit.errors import EvalkitError, MissingExtraError
    from evalkit.graders.base import Answer, Grader, ThinkSettings, register_grader
    from evalkit.jsonl import read_jsonl
    from evalkit.prompts import render_messages
    from evalkit.runner import run
    from evalkit.tasks import BundledCopy, DatasetSpec, Prompt, Record, Task, task
    from evalkit.types import Generation, Message, Sample, Score

# name -> the module that defines it.
_EXPORTS = {
    "Adapter": "evalkit.adapters.base",
    "Answer": "evalkit.graders.base",
    "BundledCopy": "evalkit.tasks",
    "DatasetSpec": "evalkit.tasks",
    "EvalkitError": "evalkit.errors",
    "Generation": "evalkit.types",
    "Grader": "evalkit.graders.base",
    "Message": "evalkit.types",
    "MissingExtraError": "evalkit.errors",
    "Prompt": "evalkit.tasks",
    "Record": "evalkit.tasks",
    "RunConfig": "evalkit.config",
    "Sample": "evalkit.types",
    "Score": "evalkit.types",
    "Task": "evalkit.tasks",
    "ThinkSettings": "evalkit.graders.base",
    "load_hub": "evalkit.data",
    "read_jsonl": "evalkit.jsonl",
    "register_grader": "evalkit.graders.base",
    "render_messages": "evalkit.prompts",
    "run": "evalkit.runner",
    "task": "evalkit.tasks",
}

__all__ = [
    "Adapter",
    "Answer",
    "BundledCopy",
    "DatasetSpec",
    "EvalkitError",
    "Generation",
    "Grader",
    "Message",
    "MissingExtraError",
    "Prompt",
    "Record",
    "RunConfig",
    "Sample",
    "Score",
    "Task",
    "ThinkSettings",
    "__version__",
    "load_hub",
    "read_jsonl",
    "register_grader",
    "render_messages",
    "run",
    "task",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'evalkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
