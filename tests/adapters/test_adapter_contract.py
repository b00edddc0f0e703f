"""The adapter contract: every backend states check, fit and unmatched (defaults from `Adapter`), and a
backend that does not is refused with a message, not an AttributeError in the middle of a run."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evalkit import Adapter
from evalkit.adapters.base import BACKENDS, make_adapter
from evalkit.adapters.openai_compat import OpenAICompatAdapter
from evalkit.adapters.ray_replicas import RayReplicaAdapter
from evalkit.adapters.replay import ReplayAdapter
from evalkit.adapters.simulated import SimulatedAdapter
from evalkit.adapters.transformers_engine import TransformersAdapter
from evalkit.adapters.vllm_engine import VllmAdapter
from evalkit.config import BackendConfig, RunConfig
from evalkit.errors import EvalkitError
from evalkit.types import Request, SamplingParams

ADAPTERS = [OpenAICompatAdapter, VllmAdapter, TransformersAdapter, ReplayAdapter, SimulatedAdapter, RayReplicaAdapter]


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.__name__)
def test_every_adapter_states_the_whole_contract(adapter: type[Adapter]) -> None:
    assert Adapter in adapter.__mro__, "subclasses Adapter (the defaults come from there)"
    for member in ("identity", "check", "fit", "generate", "unmatched", "aclose"):
        assert callable(getattr(adapter, member)), member


def _request(index: int) -> Request:
    return Request("toy", "1", "p1", index, index, "h", SamplingParams(0.6, 0.95, 100), prompt="q")


def test_the_defaults_check_nothing_fit_nothing_and_match_everything(tmp_path: Path) -> None:
    path = tmp_path / "gens.jsonl"
    path.write_text(json.dumps({"task": "toy", "sample_id": "p1", "sample_index": 0, "text": "a"}) + "\n")
    adapter = ReplayAdapter(path)  # replay states unmatched itself; check and fit are the defaults
    requests = [_request(0), _request(1)]
    assert asyncio.run(adapter.check()) is None
    assert asyncio.run(adapter.fit(requests)) == requests
    simulated = SimulatedAdapter({}, {})
    assert simulated.unmatched() == []


class _Incomplete:
    """A backend written against an older contract: no check, fit or unmatched."""

    name = "incomplete"

    def __init__(self, config: RunConfig) -> None:
        self.config = config

    def identity(self) -> dict[str, Any]:
        return {}


@pytest.fixture
def incomplete_backend() -> Iterator[str]:
    BACKENDS.register("incomplete", _Incomplete)
    yield "incomplete"
    del BACKENDS["incomplete"]


def test_a_backend_that_breaks_the_contract_is_refused_naming_what_it_lacks(incomplete_backend: str) -> None:
    config = RunConfig(model="m", tasks="aime24", backend=BackendConfig(name=incomplete_backend))
    with pytest.raises(EvalkitError) as refused:
        make_adapter(incomplete_backend, config)
    message = str(refused.value)
    assert "made a _Incomplete, which lacks aclose, check, fit, generate, unmatched" in message
    assert "subclasses evalkit.Adapter" in message
