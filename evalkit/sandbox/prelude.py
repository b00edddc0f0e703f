"""LiveCodeBench's implicit imports, bound lazily.

LiveCodeBench runs every Python solution after `from string import *`, ..., `from typing import *`
and `import string`, ..., `import json` (lcb_runner/evaluation/testing_util.py), so a solution that
uses `sqrt` or `defaultdict` without importing it passes there. Importing all of that costs tens
of milliseconds per solution (statistics, typing, datetime, re); instead the host works out which
of those names the source mentions and the runner binds only those, to the same objects the
star-imports would have bound (the last import that binds a name wins, as in LiveCodeBench).
"""

from __future__ import annotations

import functools
import importlib
import re

STAR_MODULES = (
    "string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random", "statistics",
    "itertools", "functools", "operator", "io", "sys", "json", "builtins", "typing",
)  # fmt: skip
PLAIN_MODULES = (
    "string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random", "statistics",
    "itertools", "functools", "operator", "io", "sys", "json",
)  # fmt: skip
# Added to builtins by `site`, which the sandbox's interpreter does not run (-S): LiveCodeBench's
# `exit()` then comes from `from sys import *` (sys.exit raises the same SystemExit).
_SITE_BUILTINS = frozenset({"exit", "quit", "copyright", "credits", "license", "help"})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@functools.cache
def bindings() -> dict[str, str]:
    """Every name the LiveCodeBench prelude binds -> its source: `module` for an attribute, `=module` for a module."""
    out: dict[str, str] = {}
    for name in STAR_MODULES:
        module = importlib.import_module(name)
        exported = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
        for attr in exported:
            if not (name == "builtins" and attr in _SITE_BUILTINS):
                out[attr] = name
    for name in PLAIN_MODULES:
        out[name] = "=" + name
    # Names whose final binding is the builtin itself need nothing: the lookup falls back to builtins.
    return {k: v for k, v in out.items() if v != "builtins"}


def identifiers(source: str) -> set[str]:
    """Every identifier-like token of `source` (a superset of the names it uses)."""
    return set(_IDENTIFIER.findall(source))


def needed(source: str) -> dict[str, str]:
    """The prelude bindings that `source` may use (every identifier-like token that the prelude binds)."""
    table = bindings()
    return {name: table[name] for name in identifiers(source) if name in table}
