"""Fixtures for grader tests: a shared grading pool and the misbehaving test graders."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from evalkit.graders.pool import LocalGradingPool
from evalkit.testing.graders import register_test_graders, unregister_test_graders


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
