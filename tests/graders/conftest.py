"""Fixtures for grader tests: a shared grading pool, generations, and the misbehaving test graders."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from evalkit.graders.pool import LocalGradingPool
from evalkit.testing.graders import register_test_graders, unregister_test_graders
from evalkit.types import Generation


@pytest.fixture(autouse=True, scope="module")
def test_graders() -> Iterator[None]:
    """Registers the misbehaving graders of evalkit.testing.graders for this directory's tests."""
    register_test_graders()
    yield
    unregister_test_graders()


@pytest.fixture(scope="module")
def pool() -> Iterator[LocalGradingPool]:
    """A 2-worker local grading pool shared by one test module."""
    with LocalGradingPool(2) as p:
        yield p


@pytest.fixture
def make_generation() -> Callable[..., Generation]:
    """Builds a stored generation from its text (other fields do not matter to graders)."""

    def make(text: str | None, reasoning: str | None = None, finish_reason: str | None = "stop") -> Generation:
        return Generation(
            task="t",
            task_version="1",
            sample_id="p1",
            sample_index=0,
            seed=0,
            prompt_hash="h",
            text=text,
            reasoning=reasoning,
            finish_reason=finish_reason,
        )

    return make
