"""Task definitions and the task registry.

A task is a typed Python factory in `tasks/<benchmark>.py` decorated with `@task`: it returns a
`Task` (dataset + prompt + grader + defaults). Factories take keyword options, so
`--tasks livecodebench@start=2024-08-01` or `aime24@n=8` configure a task from the command line.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit import prompts
from evalkit.errors import EvalkitError
from evalkit.hooks import SummaryHook
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
    """Where a task's data comes from: a copy bundled with evalkit, a pinned Hub dataset, or a data dir.

    `offline_path` is relative to the data dir (`--data-dir` / `EVALKIT_DATA_DIR`); a bundled copy is
    laid out the same way under `evalkit/_data/`. A task whose data does not fit "one JSONL file" or
    "one Hub split" supplies `hub_loader` / `offline_loader`, which yield records (offline:
    `(location, record)` pairs so errors can name file and line).
    """

    hub_id: str
    revision: str
    split: str
    offline_path: str
    config: str | None = None
    hub_loader: Callable[[DatasetSpec], Iterable[Record]] | None = None
    offline_loader: Callable[[Path], Iterable[tuple[str, Record]]] | None = None
    bundled: BundledCopy | None = None


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
_REGISTRY: dict[str, TaskFactory] = {}
_LOADED = False
_LOCK = threading.Lock()


def task(fn: TaskFactory) -> TaskFactory:
    """Register a task factory under its function name."""
    _REGISTRY[fn.__name__] = fn
    return fn


def _load_task_files() -> None:
    global _LOADED
    with _LOCK:
        if _LOADED:
            return
        for path in sorted(resource_dir("tasks").glob("*.py")):
            if path.name.startswith("_"):
                continue
            name = f"evalkit_tasks.{path.stem}"
            if name in sys.modules:
                continue
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        _LOADED = True


def task_names() -> list[str]:
    """Names of all registered tasks, sorted."""
    _load_task_files()
    return sorted(_REGISTRY)


def get_task(name: str, **options: Any) -> Task:
    """Build task `name` with factory options (strings from the CLI are converted by type hints)."""
    _load_task_files()
    factory = _REGISTRY.get(name)
    if factory is None:
        raise EvalkitError(
            f"Unknown task '{name}'. Known tasks: {', '.join(sorted(_REGISTRY))}. Run 'evalkit tasks' to list them."
        )
    return factory(**_coerce_options(name, factory, options))


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
    """One entry of `--tasks`: a name, factory options, and an optional per-task n (`aime24@n=8`)."""

    name: str
    n: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


def parse_task_list(text: str) -> list[TaskSpec]:
    """Parse `aime24,math500@n=8,livecodebench@start=2024-08-01@end=2025-01-31`."""
    specs: list[TaskSpec] = []
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        name, *opts = item.split("@")
        n: int | None = None
        options: dict[str, Any] = {}
        for opt in opts:
            key, sep, value = opt.partition("=")
            if not sep or not key:
                raise EvalkitError(f"Bad task option '{opt}' in '{item}': write it as {name}@key=value.")
            if key == "n":
                try:
                    n = int(value)
                except ValueError as e:
                    raise EvalkitError(f"'{item}': n must be a whole number, got '{value}'.") from e
                if n < 1:
                    raise EvalkitError(f"'{item}': n must be at least 1.")
            else:
                options[key] = value
        specs.append(TaskSpec(name=name.strip(), n=n, options=options))
    if not specs:
        raise EvalkitError("No tasks given: pass --tasks, e.g. --tasks aime24,math500. 'evalkit tasks' lists them.")
    return specs
