"""Fixtures for GPQA tests: the offline data folder beside the repository, and made-up samples.

The made-up samples never contain GPQA text: the real questions stay in the encrypted zip.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from evalkit.tasks import Task, get_task
from evalkit.types import Sample

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
GPQA_ZIP = DATA / "gpqa" / "gpqa_diamond.zip"


@pytest.fixture
def data_dir() -> Path:
    """The shared offline data folder; skips when its GPQA zip is absent."""
    if not GPQA_ZIP.is_file():
        pytest.skip(f"offline GPQA zip not found at {GPQA_ZIP} (the shared data folder beside the repository)")
    return DATA


@pytest.fixture
def gpqa() -> Task:
    return get_task("gpqa_diamond")


def fake_record(record_id: str = "recFAKE1", domain: str = "Physics") -> dict[str, str]:
    """A row with the official GPQA columns and invented content."""
    return {
        "Record ID": record_id,
        "Question": "Which invented particle is heaviest?",
        "Correct Answer": "the zorbon",
        "Incorrect Answer 1": "the quibble",
        "Incorrect Answer 2": " the flimp\n",
        "Incorrect Answer 3": "the snark",
        "High-level domain": domain,
        "Subdomain": f"{domain} (general)",
    }


MakeRecord = Callable[..., dict[str, str]]


@pytest.fixture
def make_record() -> MakeRecord:
    """Builds rows with invented content (see `fake_record`)."""
    return fake_record


@pytest.fixture
def fake_sample(gpqa: Task) -> Sample:
    return gpqa.record_to_sample(fake_record())
