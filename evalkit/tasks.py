"""Task definitions, the `@task` decorator, the task registry and `--tasks` parsing.

A task is a typed Python factory decorated with `@task`: it returns a `Task` (dataset + prompt +
grader + defaults) named as the factory. Factories take keyword options, so
`--tasks livecodebench@start=2024-08-01` or `aime24@n=8` configure a task from the command line.

Where tasks come from: evalkit's own `tasks/<benchmark>.py`, plugins (entry point group
`evalkit.tasks`, see evalkit.registry), modules that define tasks when imported, and a user's own
file named in `--tasks path/to/file.py` (all its tasks) or `path/to/file.py:name` (one). A file's
tasks belong to that file and are not registered by name, so they never shadow another task.
"""

from __future__ import annotations

import inspect
import os
import re
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from evalkit import prompts
from evalkit.errors import EvalkitError
from evalkit.hooks import SummaryHook
from evalkit.registry import FILE_MODULES, Registry, module_from_file
from evalkit.resources import resource_dir
from evalkit.types import Message, Sample

if TYPE_CHECKING:
    import typer

Record = dict[str, Any]


@dataclass(frozen=True)
class BundledCopy:
    """A copy of a task's data that ships inside evalkit, at `evalkit/_data/<offline_path>`.

    `sha256` is the bundled file's checksum (checked when it is loaded). `matches_hub` says whether it
    yields the same samples (the same content hash) as the pinned Hub revision; `differences` says what
    is known to differ. Both are recorded in the manifest of every run that uses the bundled copy.
    """

    sha256: str
    matches_hub: bool
    differences: str = ""


@dataclass(frozen=True)
class DatasetSpec:
    """Where a task's data comes from: a copy bundled with evalkit, a pinned Hub dataset, or a data dir;
    or, for a task of one's own, a local JSONL file (`DatasetSpec.local_jsonl`).

    `offline_path` is relative to the data dir (`--data-dir` / `EVALKIT_DATA_DIR`); a bundled copy is
    laid out the same way under `evalkit/_data/`. A task whose data does not fit "one JSONL file" or
    "one Hub split" supplies `hub_loader` / `offline_loader`, which yield records (offline:
    `(location, record)` pairs so errors can name file and line). `local_path`, when set, is the
    task's only source: data dirs and `--data-source` do not apply to it.
    """

    hub_id: str
    revision: str
    split: str
    offline_path: str
    config: str | None = None
    hub_loader: Callable[[DatasetSpec], Iterable[Record]] | None = None
    offline_loader: Callable[[Path], Iterable[tuple[str, Record]]] | None = None
    bundled: BundledCopy | None = None
    local_path: Path | None = None

    @classmethod
    def local_jsonl(cls, path: str | Path) -> DatasetSpec:
        """A task's data in one local JSONL file, one record per line (a relative path is taken from the
        current directory; a task file usually passes `Path(__file__).with_name(...)`)."""
        resolved = Path(os.path.abspath(Path(path).expanduser()))
        return cls(hub_id=str(resolved), revision="", split="", offline_path=resolved.name, local_path=resolved)


@dataclass(frozen=True)
class Prompt:
    """A rendered prompt plus metadata stored with each generation (e.g. a choice permutation)."""

    messages: tuple[Message, ...]
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Task:
    """One benchmark: data, prompt, grader and protocol defaults, and the hooks through which it adds
    its own numbers, commands and data to the pipeline (the core knows no benchmark by name)."""

    name: str
    version: str
    dataset: DatasetSpec
    record_to_sample: Callable[[Record], Sample]
    template: str
    grader: str
    n: int
    max_tokens: int = 32768
    temperature: float = 0.6
    top_p: float = 0.95
    description: str = ""
    grader_options: Mapping[str, Any] = field(default_factory=dict)
    breakdown: tuple[str, ...] = ()
    # The metric `run`'s table, the report, compare and gate lead with (see evalkit.headline).
    headline: str = "pass@1"
    # Metrics on a rating scale (points, like an Elo rating) rather than fractions in [0, 1].
    rating_metrics: tuple[str, ...] = ()
    # The task's own metrics and breakdowns (evalkit.hooks); without one, pass@k and cons@k.
    summarize: SummaryHook | None = None
    # Returns the task with data its hooks read beside the samples (e.g. contest standings) bound from
    # the data dir the samples load from; `bound` calls it when the data is loaded.
    bind_data: Callable[[Task, Path | None], Task] | None = None
    # The benchmark's own command group, `evalkit <group> ...` (e.g. a download step): returns the
    # typer app (named after the group); evalkit's CLI calls it only when a command needs it.
    commands: Callable[[], typer.Typer] | None = None
    # Per-sample prompt construction when it depends on the sample index (e.g. shuffled choices).
    build_prompt: Callable[[Sample, int], Prompt] | None = None
    # Drops samples after loading (date windows, release tags); applied before --limit.
    sample_filter: Callable[[Sample], bool] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def prompt(self, sample: Sample, sample_index: int) -> Prompt:
        """The chat messages for sample `sample_index` of `sample`."""
        if self.build_prompt is not None:
            return self.build_prompt(sample, sample_index)
        return Prompt(messages=prompts.render_messages(self.template, problem=sample.input, metadata=sample.metadata))

    def bound(self, data_dir: Path | None) -> Task:
        """This task with its data-dir dependent hooks bound to `data_dir` (None: no data dir)."""
        return self if self.bind_data is None else self.bind_data(self, data_dir)


TaskFactory = Callable[..., Task]
F = TypeVar("F", bound=TaskFactory)
# Tasks by name: evalkit's tasks/, modules that define tasks when imported, and plugins. Tasks of a
# file given to --tasks are not registered (see file_tasks).
TASKS: Registry[TaskFactory] = Registry("task", "tasks", "evalkit.tasks", hint="Run 'evalkit tasks' to list them.")
# Module name -> the factories @task saw defined there, in definition order.
_DEFINED: dict[str, dict[str, TaskFactory]] = {}
_BUILTIN_MODULES = "evalkit_tasks"
_BUILTINS_LOADED = False
_LOCK = threading.Lock()


def task(fn: F) -> F:
    """Declare `fn` a task factory: it returns a Task named as the function, its keyword parameters are options.

    A factory in a file given to `--tasks` belongs to that file; anywhere else (evalkit's tasks/, an
    imported module) it is registered under its name.
    """
    _DEFINED.setdefault(fn.__module__, {})[fn.__name__] = fn
    if not fn.__module__.startswith(f"{FILE_MODULES}."):
        TASKS.register(fn.__name__, fn)
    return fn


def _load_builtin_tasks() -> None:
    global _BUILTINS_LOADED
    with _LOCK:
        if _BUILTINS_LOADED:
            return
        for path in sorted(resource_dir("tasks").glob("*.py")):
            if not path.name.startswith("_"):
                module_from_file(path, f"{_BUILTIN_MODULES}.{path.stem}")
        _BUILTINS_LOADED = True


def task_names() -> list[str]:
    """Names of all registered tasks (evalkit's, imported and from plugins), sorted."""
    _load_builtin_tasks()
    return TASKS.names()


def get_task(name: str, **options: Any) -> Task:
    """Build registered task `name` with factory options (strings from the CLI are converted by type hints)."""
    _load_builtin_tasks()
    return build_task(name, TASKS.load(name), options)


def file_tasks(path: str | Path) -> dict[str, TaskFactory]:
    """The task factories a Python file defines with `@task`, in definition order (the file runs once per process)."""
    file = Path(path)
    if not file.is_file():
        raise EvalkitError(
            f"Task file '{path}' does not exist. A run records its task files by absolute path: if the file moved "
            "since the run, put it back there to resume or re-grade the run."
        )
    try:
        module = module_from_file(file)
    except EvalkitError:
        raise
    except Exception as e:  # the user's code: say where it failed, not only that it did
        raise EvalkitError(f"Task file '{path}' failed to load: {_where(e, file)}{type(e).__name__}: {e}") from e
    found = _DEFINED.get(module.__name__)
    if not found:
        raise EvalkitError(
            f"Task file '{path}' defines no task: decorate a function that returns a Task with @task "
            "(from evalkit import Task, task)."
        )
    return dict(found)


def _where(error: Exception, file: Path) -> str:
    resolved = str(file.resolve())
    lines = [f.lineno for f in traceback.extract_tb(error.__traceback__) if f.filename == resolved]
    return f"line {lines[-1]}: " if lines else ""


def build_task(name: str, factory: TaskFactory, options: Mapping[str, Any]) -> Task:
    """Call `factory` with `options` (converted by type hint) and check it built the task `name`."""
    built = factory(**_coerce_options(name, factory, options))
    if not isinstance(built, Task):
        raise EvalkitError(f"Task factory '{name}' returned {type(built).__name__}, not a Task.")
    if built.name != name:
        raise EvalkitError(
            f"Task factory '{name}' returned a task named '{built.name}': give the task its factory's name "
            "(results, resume and re-grading find a task by that name)."
        )
    return built


def _coerce_options(name: str, factory: TaskFactory, options: Mapping[str, Any]) -> dict[str, Any]:
    sig = inspect.signature(factory)
    hints = inspect.get_annotations(factory, eval_str=True)
    out: dict[str, Any] = {}
    for key, value in options.items():
        if key not in sig.parameters:
            known = ", ".join(sig.parameters) or "none"
            raise EvalkitError(f"Task '{name}' has no option '{key}'. Its options: {known}.")
        hint = hints.get(key, str)
        if isinstance(value, str) and hint in (int, float, bool):
            try:
                value = (value.lower() in ("1", "true", "yes")) if hint is bool else hint(value)
            except ValueError as e:
                raise EvalkitError(f"Task option {name}@{key}={value!r} is not a valid {hint.__name__}.") from e
        out[key] = value
    return out


@dataclass(frozen=True)
class TaskSpec:
    """One task of `--tasks`: a name, factory options, an optional per-task n (`aime24@n=8`), and the
    absolute path of the file that defines it (None for a registered task)."""

    name: str
    n: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    file: str | None = None

    def build(self) -> Task:
        """The Task this entry names, built with its options."""
        if self.file is None:
            return get_task(self.name, **self.options)
        factories = file_tasks(self.file)
        factory = factories.get(self.name)
        if factory is None:
            raise EvalkitError(f"Task file '{self.file}' has no task '{self.name}'. Its tasks: {', '.join(factories)}.")
        return build_task(self.name, factory, self.options)


# `path/to/file.py` or `path/to/file.py:task_name` (before any @option).
_TASK_FILE = re.compile(r"(?P<file>.+\.py)(?::(?P<name>[A-Za-z_]\w*))?")


def _absolute(file: str) -> str:
    return os.path.abspath(os.path.expanduser(file))


def parse_task_list(text: str) -> list[TaskSpec]:
    """Parse `aime24,math500@n=8,livecodebench@start=2024-08-01@end=2025-01-31,my/tasks.py:mine@n=2`.

    A task file without `:name` stands for every task it defines (the file is loaded to list them).
    """
    specs: list[TaskSpec] = []
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        head, *opts = item.split("@")
        head = head.strip()
        n: int | None = None
        options: dict[str, Any] = {}
        for opt in opts:
            key, sep, value = opt.partition("=")
            if not sep or not key:
                raise EvalkitError(f"Bad task option '{opt}' in '{item}': write it as {head}@key=value.")
            if key == "n":
                try:
                    n = int(value)
                except ValueError as e:
                    raise EvalkitError(f"'{item}': n must be a whole number, got '{value}'.") from e
                if n < 1:
                    raise EvalkitError(f"'{item}': n must be at least 1.")
            else:
                options[key] = value
        match = _TASK_FILE.fullmatch(head)
        if match is None:
            specs.append(TaskSpec(name=head, n=n, options=options))
            continue
        file = _absolute(match["file"])
        names = [match["name"]] if match["name"] else list(file_tasks(file))
        specs += [TaskSpec(name=name, n=n, options=options, file=file) for name in names]
    if not specs:
        raise EvalkitError("No tasks given: pass --tasks, e.g. --tasks aime24,math500. 'evalkit tasks' lists them.")
    return specs


def with_absolute_task_files(text: str) -> str:
    """`text` (a `--tasks` list) with each task file's path made absolute; other entries are kept as written.

    A run stores its `--tasks`, so an absolute path lets `evalkit grade` and a resume find the file
    from any directory.
    """
    items = text.split(",")
    for i, item in enumerate(items):
        head, sep, rest = item.partition("@")
        match = _TASK_FILE.fullmatch(head.strip())
        if match is not None:
            items[i] = _absolute(match["file"]) + (f":{match['name']}" if match["name"] else "") + sep + rest
    return ",".join(items)
