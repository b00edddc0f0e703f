"""Test helpers shipped with evalkit: a scripted OpenAI-compatible server (`evalkit.testing.server`),
graders that misbehave on purpose (`evalkit.testing.graders`) and a local Ray cluster whose workers
import this evalkit (`evalkit.testing.ray_cluster`).

The server's names are loaded on first use so that `python -m evalkit.testing.server` does not
import its own module twice.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evalkit.testing.server import Fault, Reply, Script, ScriptedServer, load_script

__all__ = ["Fault", "Reply", "Script", "ScriptedServer", "load_script"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("evalkit.testing.server"), name)
    raise AttributeError(f"module 'evalkit.testing' has no attribute '{name}'")
