"""Fixtures for IFEval tests: the bundled data, passed as a data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.data import BUNDLED_DIR


@pytest.fixture
def data_dir() -> Path:
    """The data bundled with evalkit (laid out like an offline data dir)."""
    return BUNDLED_DIR
