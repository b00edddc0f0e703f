"""Fixtures for report tests: realistic run directories written by fake_runs.py."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from evalkit.registry import module_from_file


def load_fake_runs() -> ModuleType:
    """fake_runs.py by path (tests are not a package; the gate tests load the same file)."""
    return module_from_file(Path(__file__).with_name("fake_runs.py"))


@pytest.fixture(scope="session")
def fake() -> ModuleType:
    return load_fake_runs()


@pytest.fixture
def two_runs(tmp_path: Path, fake: ModuleType) -> list[Path]:
    """A stronger and a weaker model on the same four tasks."""
    return [
        fake.write_run(tmp_path, fake.RunSpec(model="org/strong-7b", skill=0.1, seed=1)),
        fake.write_run(tmp_path, fake.RunSpec(model="org/weak-1.5b", skill=-0.15, seed=2)),
    ]


@pytest.fixture
def checkpoint_runs(tmp_path: Path, fake: ModuleType) -> list[Path]:
    """Three checkpoints of one training run, the step in the run name (one) or the config (others)."""
    tasks = fake.DEFAULT_TASKS[:2]
    return [
        fake.write_run(tmp_path, fake.RunSpec(model="team/ckpt/step-1000", skill=-0.2, seed=3, tasks=tasks)),
        fake.write_run(tmp_path, fake.RunSpec(model="team/ckpt/step-2000", skill=-0.05, seed=4, tasks=tasks)),
        fake.write_run(
            tmp_path, fake.RunSpec(model="team/ckpt", run_id="final", skill=0.05, seed=5, step=3000, tasks=tasks)
        ),
    ]


@pytest.fixture(scope="session")
def cli(fake: ModuleType) -> object:
    """A typer app with report/compare/gate (evalkit.cli wires the same functions)."""
    return fake.cli_app()
