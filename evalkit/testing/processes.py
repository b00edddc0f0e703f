"""Environments for child processes of tests: the child imports this same evalkit, installed or not."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def importable_env() -> dict[str, str]:
    """This process's environment with the folder holding this evalkit first on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH")) if p)
    return env


def cli_env() -> dict[str, str]:
    """For `python -m evalkit.cli` children: this evalkit, messages on one line (tests match them),
    and no $EVALKIT_DATA_DIR from the caller's shell deciding where data comes from."""
    env = importable_env()
    env["COLUMNS"] = "400"
    env.pop("EVALKIT_DATA_DIR", None)
    return env
