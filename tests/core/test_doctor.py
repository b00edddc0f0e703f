"""`evalkit doctor` probes this machine for real, never hangs, and fails when a default task cannot run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import evalkit.data as data
from evalkit.cli import app


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_doctor_reports_this_machine_and_passes_when_the_default_tasks_can_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    start = time.monotonic()
    result = CliRunner().invoke(app, ["doctor"])
    assert time.monotonic() - start < 60, "the doctor must not hang on the network"
    assert result.exit_code == 0, result.output
    text = _flat(result.output)
    for probe in (
        "bwrap",
        "unshare",
        "docker",
        "punkt (IFEval)",
        "vllm",
        "transformers",
        "ray",
        "gpu",
        "aime24",
        "gpqa_diamond",
    ):
        assert probe in text, probe
    assert "The default tasks (aime24, aime25, math500, ifeval) can run here." in text


def test_doctor_offline_mode_does_not_probe_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    from evalkit.doctor import hub_reachable

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub_reachable() == (False, "HF_HUB_OFFLINE is set")


def test_doctor_exits_1_when_a_default_task_has_no_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("EVALKIT_DATA_DIR", raising=False)
    monkeypatch.setattr(data, "BUNDLED_DIR", tmp_path / "missing")
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 1
    text = _flat(result.output)
    assert "The default tasks cannot all run here: aime24 (no data)" in text
    assert "--data-dir" in text
