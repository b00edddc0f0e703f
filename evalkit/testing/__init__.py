"""Test helpers shipped with evalkit: a scripted OpenAI-compatible server (`evalkit.testing.server`),
graders that misbehave on purpose (`evalkit.testing.graders`), a local Ray cluster whose workers
import this evalkit (`evalkit.testing.ray_cluster`) and generations built from a response text
(`generation_for`). A module is loaded by path with `evalkit.registry.module_from_file`, the loader
of `--tasks file.py`.

The server's names are loaded on first use so that `python -m evalkit.testing.server` does not
import its own module twice.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from evalkit.testing.generations import generation_for

if TYPE_CHECKING:
    from evalkit.testing.server import Fault, Reply, Script, ScriptedServer, load_script

__all__ = ["Fault", "Reply", "Script", "ScriptedServer", "generation_for", "load_script"]


def __getattr__(name: str) -> Any:
    if name in __all__:  # the server's names: generation_for is imported above
        return getattr(importlib.import_module("evalkit.testing.server"), name)
    raise AttributeError(f"module 'evalkit.testing' has no attribute '{name}'")
