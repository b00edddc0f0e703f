"""Fixtures for compare/gate tests: the run writer shared with the report tests (tests/report/fake_runs.py)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from evalkit.registry import module_from_file


@pytest.fixture(scope="session")
def fake() -> ModuleType:
    return module_from_file(Path(__file__).parents[1] / "report" / "fake_runs.py")


@pytest.fixture(scope="session")
def cli(fake: ModuleType) -> Any:
    """A typer app with report/compare/gate (evalkit.cli wires the same functions)."""
    return fake.cli_app()
