"""The adapter contract (requests in, generations out) and the registry of backends by name.

Plugins add backends through the entry point group `evalkit.adapters` (see evalkit.registry): the
entry point's name is the `--backend` name, its target a function taking the RunConfig and returning
an Adapter. An adapter subclasses `Adapter`, which gives `check`, `fit` and `unmatched` their
defaults (nothing to check, requests as they are, no unmatched rows); a backend with engine options
validates them with its own model (evalkit.adapters.options).
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
        """Model and engine identity for the manifest (engine, versions, model id/revision/hash).

        Settings that change what is generated go into the run's generation identity
        (evalkit.identity): the model's revision and weights hash, the chat template's hash, the
        dtype, and `generation_options` (evalkit.adapters.options.EngineOptions.generation_options).
        """
        ...

    async def check(self) -> None:
        """Before anything is written: make sure the backend can serve the run (a server answers,
        it serves the model), else raise EvalkitError saying what to fix. Default: nothing to check."""
        return None

    async def fit(self, requests: Sequence[Request]) -> list[Request]:
        """`requests` with max tokens fitted to the model's context, before anything is written;
        EvalkitError when one cannot fit (evalkit.adapters.fit). Default: the requests as they are."""
        return list(requests)

    def generate(self, requests: Sequence[Request]) -> AsyncIterator[Generation]:
        """Yield a Generation for every request (completion order)."""
        ...

    def unmatched(self) -> list[dict[str, Any]]:
        """Generations the backend holds that no request asked for (replay: rows of its file, with
        task, sample_id, sample_index and line); the runner reports them. Default: none."""
        return []

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
    """Build the adapter for `backend` (already resolved: not 'auto'); refuse one that breaks the contract."""
    adapter = BACKENDS.load(backend)(config)
    if not isinstance(adapter, Adapter):
        members = {*Adapter.__annotations__, *(m for m in vars(Adapter) if not m.startswith("_"))}
        missing = sorted(m for m in members if not hasattr(adapter, m))
        raise EvalkitError(
            f"The backend '{backend}' ({BACKENDS.target(backend)}) made a {type(adapter).__name__}, which lacks "
            f"{', '.join(missing)}: an adapter subclasses evalkit.Adapter (evalkit.adapters.base)."
        )
    return adapter
