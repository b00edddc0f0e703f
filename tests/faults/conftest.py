"""Fixtures for the fault suite (server faults, kill -9, disk trouble, bad input)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from evalkit.registry import module_from_file
from evalkit.testing.server import ScriptedServer


@pytest.fixture(scope="session")
def kit() -> ModuleType:
    """faultkit.py: paths, the e2e model script, run-directory readers."""
    return module_from_file(Path(__file__).with_name("faultkit.py"))


@pytest.fixture(scope="session")
def data_dir(kit: ModuleType) -> Path:
    """The benchmark data bundled with evalkit, passed as a data directory (same layout)."""
    data: Path = kit.DATA
    return data


@pytest.fixture(scope="module")
def math_server(kit: ModuleType, data_dir: Path) -> Iterator[ScriptedServer]:
    """The e2e scripted math model served from a child process (CLI subprocesses share it)."""
    with ScriptedServer(f"{kit.MATH_SCRIPT}:reply") as server:
        yield server
