"""The adapter contract (requests in, generations out) and the registry of backends by name."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol, runtime_checkable

from evalkit.config import RunConfig
from evalkit.errors import EvalkitError
from evalkit.types import Generation, Request


@runtime_checkable
class Adapter(Protocol):
    """A model backend.

    `generate` yields one Generation per Request, in completion order, each as soon as it is done,
    so the caller can store and grade it immediately. A request that cannot be completed after
    bounded retries yields `Generation.failed(...)`: adapters never raise for one bad request, and
    never turn a failure into answer text.
    """

    name: str

    def identity(self) -> dict[str, Any]:
        """Model and engine identity for the manifest (engine, versions, model id/revision/hash)."""
        ...

    def generate(self, requests: Sequence[Request]) -> AsyncIterator[Generation]:
        """Yield a Generation for every request (completion order)."""
        ...

    async def aclose(self) -> None:
        """Release connections, engines, actors."""
        ...


# backend name -> "module:function" taking a RunConfig and returning an Adapter.
BACKENDS: dict[str, str] = {
    "openai": "evalkit.adapters.openai_compat:create",
    "vllm": "evalkit.adapters.vllm_engine:create",
    "transformers": "evalkit.adapters.transformers_engine:create",
    "replay": "evalkit.adapters.replay:create",
    "simulated": "evalkit.adapters.simulated:create",
}


def make_adapter(backend: str, config: RunConfig) -> Adapter:
    """Build the adapter for `backend` (already resolved: not 'auto')."""
    target = BACKENDS.get(backend)
    if target is None:
        raise EvalkitError(f"Unknown backend '{backend}'. Known backends: auto, {', '.join(sorted(BACKENDS))}.")
    module_name, _, attr = target.partition(":")
    adapter: Adapter = getattr(importlib.import_module(module_name), attr)(config)
    return adapter
