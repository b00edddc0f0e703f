"""Registries by name (tasks, graders, adapters, sandboxes), open to plugins.

One mechanism for the four kinds. A registry maps a name to a factory, or to a *target* imported
on first use: `package.module:attr`, or `path/to/file.py:attr` for code that lives in a file rather
than an installed package. Targets keep `import evalkit` light, and let another process (a grading
worker) resolve a name to the same code: the caller sends the target, the worker imports it.

Plugins add names without touching evalkit. An installed distribution declares entry points in
the kind's group, for example in its pyproject.toml:

    [project.entry-points."evalkit.graders"]
    exact = "my_package.graders:ExactGrader"

Groups: `evalkit.tasks` (task factories), `evalkit.graders` (grader factories), `evalkit.adapters`
(functions taking a RunConfig and returning an Adapter; the name is the `--backend`) and
`evalkit.sandboxes` (sandbox factories). Names registered in code (evalkit's own, or `register`)
take precedence over a plugin of the same name; two installed distributions that claim one name are
an error when that name is used. Entry points are only read when a name is not registered in code,
or when a listing is asked for.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import Any, Generic, TypeVar

from evalkit.errors import EvalkitError

T = TypeVar("T")
# Modules imported from files by path are named `evalkit_files.<stem>_<hash of the path>`: one
# name per file, the same in every process, and never a name an installed package could use.
FILE_MODULES = "evalkit_files"
_IMPORT_LOCK = threading.RLock()


class Registry(MutableMapping[str, "T | str"], Generic[T]):
    """Factories of one kind by name: objects, or targets (`module:attr`, `file.py:attr`) loaded on first use.

    As a mapping it holds what each name was registered with (for a plugin: its entry point's
    target); `load(name)` gives the factory itself, with an error that says what to do when the name
    is unknown or its code fails to import.
    """

    def __init__(
        self,
        kind: str,
        plural: str,
        group: str,
        entries: Mapping[str, T | str] | None = None,
        *,
        hint: str = "",
    ) -> None:
        self.kind = kind
        self.plural = plural
        self.group = group
        self.hint = hint
        self._entries: dict[str, T | str] = dict(entries or {})
        self._loaded: dict[str, tuple[str, T]] = {}
        self._plugins_for: tuple[tuple[str, ...], dict[str, list[EntryPoint]]] | None = None
        self._lock = threading.Lock()

    # The mapping: name -> what it was registered with.
    def __getitem__(self, name: str) -> T | str:
        return self._find(name)[0]

    def __setitem__(self, name: str, entry: T | str) -> None:
        self._entries[name] = entry

    def __delitem__(self, name: str) -> None:
        del self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._entries or name in self._plugins())

    def register(self, name: str, entry: T | str) -> None:
        """Register `entry` (a factory, or its target) under `name`, replacing what was there."""
        self._entries[name] = entry

    def names(self) -> list[str]:
        """Every name, evalkit's own, registered in code and from installed plugins, sorted."""
        return sorted(set(self._entries) | set(self._plugins()))

    def plugin(self, name: str) -> EntryPoint | None:
        """The entry point `name` comes from, or None when it is registered in code (or unknown)."""
        return None if name in self._entries else self._plugin(name)

    def target(self, name: str) -> str:
        """Where `name`'s factory lives, as a target another process can load (`module:attr`, `file.py:attr`)."""
        entry, _ = self._find(name)
        if isinstance(entry, str):
            return entry
        module = sys.modules.get(getattr(entry, "__module__", ""))
        where = module.__file__ if module is not None and module.__name__.startswith(f"{FILE_MODULES}.") else None
        return f"{where or entry.__module__}:{getattr(entry, '__qualname__', name)}"  # type: ignore[attr-defined]

    def load(self, name: str) -> T:
        """The factory registered as `name`, imported on first use."""
        try:
            entry, plugin = self._find(name)
        except KeyError:
            raise self.unknown(name) from None
        if not isinstance(entry, str):
            return entry
        with self._lock:
            cached = self._loaded.get(name)
        if cached is not None and cached[0] == entry:
            return cached[1]
        try:
            factory = load_target(entry)
            if not callable(factory):
                raise TypeError(f"{entry} is a {type(factory).__name__}, not a factory (class or function)")
        except Exception as e:  # any failure while importing someone else's code: say whose and what
            raise EvalkitError(self._failure(name, entry, plugin, e)) from e
        with self._lock:
            self._loaded[name] = (entry, factory)
        loaded: T = factory
        return loaded

    def unknown(self, name: str) -> EvalkitError:
        """The error for a name nobody registered: it lists the known names."""
        known = ", ".join(self.names()) or "none"
        return EvalkitError(
            f"Unknown {self.kind} '{name}'. Known {self.plural}: {known}." + (f" {self.hint}" if self.hint else "")
        )

    def _find(self, name: str) -> tuple[T | str, EntryPoint | None]:
        entry = self._entries.get(name)
        if entry is not None:
            return entry, None
        plugin = self._plugin(name)
        if plugin is None:
            raise KeyError(name)
        return plugin.value, plugin

    def _plugin(self, name: str) -> EntryPoint | None:
        found = self._plugins().get(name)
        if not found:
            return None
        if len(found) > 1:
            owners = "; ".join(sorted(f"{_distribution(ep)} ({ep.value})" for ep in found))
            raise EvalkitError(
                f"Several installed distributions define the {self.kind} '{name}' (entry point group {self.group}): "
                f"{owners}. Uninstall all but one."
            )
        return found[0]

    def _plugins(self) -> dict[str, list[EntryPoint]]:
        # Read again when sys.path changes (a test, or a script that extends it), else once per process.
        path = tuple(sys.path)
        with self._lock:
            if self._plugins_for is not None and self._plugins_for[0] == path:
                return self._plugins_for[1]
        found: dict[str, list[EntryPoint]] = {}
        for ep in entry_points(group=self.group):
            same = found.setdefault(ep.name, [])
            # One distribution seen through two sys.path entries is one plugin, not a clash.
            if all(other.value != ep.value for other in same):
                same.append(ep)
        with self._lock:
            self._plugins_for = (path, found)
        return found

    def _failure(self, name: str, entry: str, plugin: EntryPoint | None, error: Exception) -> str:
        cause = f"{type(error).__name__}: {error}"
        if plugin is None:
            return f"The {self.kind} '{name}' ({entry}) failed to load: {cause}."
        dist = _distribution(plugin)
        return (
            f"The {self.kind} '{name}' from the plugin distribution {dist} (entry point {self.group}: "
            f"{name} = {entry}) failed to load: {cause}. Fix or reinstall that distribution, or uninstall it "
            f"(pip uninstall {dist.split()[0]})."
        )


def _distribution(ep: EntryPoint) -> str:
    dist = ep.dist
    return f"{dist.name} {dist.version}" if dist is not None else "(unknown distribution)"


def load_target(target: str) -> Any:
    """Import `package.module:attr` or `path/to/file.py:attr` (attr may be dotted) and return the object."""
    module_part, sep, attr = target.rpartition(":")
    if not sep or not module_part or not attr:
        raise EvalkitError(
            f"'{target}' is not an import target: write it as package.module:attribute or path/to/file.py:attribute."
        )
    module = module_from_file(module_part) if module_part.endswith(".py") else importlib.import_module(module_part)
    obj: Any = module
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def file_module_name(path: str | Path) -> str:
    """The module name the file at `path` is imported under (see FILE_MODULES)."""
    resolved = Path(path).expanduser().resolve()
    stem = re.sub(r"\W", "_", resolved.stem)
    return f"{FILE_MODULES}.{stem}_{hashlib.sha256(str(resolved).encode()).hexdigest()[:12]}"


def module_from_file(path: str | Path, name: str | None = None) -> ModuleType:
    """Import the Python file at `path` as module `name` (default: `file_module_name(path)`), once per process.

    A file that is missing is an EvalkitError; whatever the file raises while it runs propagates.
    """
    resolved = Path(path).expanduser().resolve()
    module_name = name or file_module_name(resolved)
    with _IMPORT_LOCK:  # reentrant: a file may import another file
        module = sys.modules.get(module_name)
        if module is not None:
            return module
        if not resolved.is_file():
            raise EvalkitError(f"Python file '{path}' not found.")
        spec = importlib.util.spec_from_file_location(module_name, resolved)
        if spec is None or spec.loader is None:
            raise EvalkitError(f"'{path}' cannot be imported as a Python module.")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(module_name, None)
            raise
    return module
