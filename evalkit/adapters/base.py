"""The adapter contract (requests in, generations out) and the registry of backends by name.

Plugins add backends through the entry point group `evalkit.adapters` (see evalkit.registry): the
entry point's name is the `--backend` name, its target a function taking the RunConfig and returning
an Adapter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from evalkit.config import RunConfig
from evalkit.errors import EvalkitError
from evalkit.registry import Registry
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
BACKENDS: Registry[Callable[[RunConfig], Adapter]] = Registry(
    "backend",
    "backends",
    "evalkit.adapters",
    {
        "openai": "evalkit.adapters.openai_compat:create",
        "vllm": "evalkit.adapters.vllm_engine:create",
        "transformers": "evalkit.adapters.transformers_engine:create",
        "replay": "evalkit.adapters.replay:create",
        "simulated": "evalkit.adapters.simulated:create",
    },
    hint="`--backend auto` picks one of them.",
)


def check_backend(name: str) -> None:
    """Refuse a `--backend` that is neither `auto` nor a registered backend (plugins included)."""
    if name != "auto" and name not in BACKENDS:
        known = ", ".join(f"'{b}'" for b in ["auto", *BACKENDS.names()])
        raise EvalkitError(f"Unknown --backend '{name}': use one of {known}.")


def make_adapter(backend: str, config: RunConfig) -> Adapter:
    """Build the adapter for `backend` (already resolved: not 'auto')."""
    return BACKENDS.load(backend)(config)
