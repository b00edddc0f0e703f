"""Generation spread over Ray actors: engine replicas (vllm, transformers) or groups of OpenAI endpoints.

Each replica is an async Ray actor that hosts an ordinary adapter (`make_adapter(backend, config)`)
and streams its Generations back one by one (a Ray streaming generator). The driver cuts the
requests into chunks that keep a problem's samples together and keeps a few chunks in flight per
replica, so every engine's batch stays full and a fast replica takes more chunks than a slow one.

When a replica dies, only the samples of its in-flight chunks that had not come back yet are
lost: they go back to the queue and another replica (or the same one, once Ray restarted it) makes
them again. Seeds are per sample, so the redone samples are the same ones. A sample lost with
`_MAX_ATTEMPTS` replicas in a row becomes an error row, as does everything left when no replica
is alive.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import Any

from evalkit.adapters.base import Adapter
from evalkit.adapters.options import NoEngineOptions, TransformersOptions, VllmOptions
from evalkit.cluster import connect
from evalkit.config import RunConfig
from evalkit.errors import EvalkitError
from evalkit.types import Generation, Key, Request

_SLOTS_PER_REPLICA = 2
_MAX_CHUNK = 64
_MAX_ATTEMPTS = 3
_MAX_RESTARTS = 3
_RESTART_WAIT_S = 900.0


class _Replica:
    """Ray actor body: one adapter of the requested backend, served to the driver."""

    def __init__(self, backend: str, config: RunConfig) -> None:
        from evalkit.adapters.base import make_adapter

        self._adapter = make_adapter(backend, config)

    async def identity(self) -> dict[str, Any]:
        return self._adapter.identity()

    async def ping(self) -> bool:
        return True

    async def fit(self, requests: list[Request]) -> list[Request]:
        return list(await self._adapter.fit(requests))

    async def generate(self, requests: list[Request]) -> AsyncIterator[Generation]:
        async for generation in self._adapter.generate(requests):
            yield generation

    async def close(self) -> None:
        await self._adapter.aclose()


def replica_configs(backend: str, config: RunConfig) -> list[RunConfig]:
    """One config per replica. OpenAI endpoints are dealt round-robin (default: one replica each)."""
    replicas = config.scale.replicas
    if backend == "openai":
        urls = config.backend.base_urls
        if not urls:
            raise EvalkitError("--backend openai on Ray needs at least one --base-url.")
        count = min(replicas if replicas > 1 else len(urls), len(urls))
        per_replica = max(1, config.backend.concurrency // count)
        return [
            config.model_copy(
                update={
                    "backend": config.backend.model_copy(
                        update={"base_urls": urls[i::count], "concurrency": per_replica}
                    )
                }
            )
            for i in range(count)
        ]
    return [config] * replicas


def _replica_gpus(backend: str, config: RunConfig) -> int:
    """GPUs one replica of an evalkit backend takes on a GPU cluster. Checks its engine options here,
    before any actor starts (a plugin backend checks its own in the replica)."""
    if backend == "vllm":
        return VllmOptions.of(config, backend).tensor_parallel_size
    if backend == "transformers":
        TransformersOptions.of(config, backend)
        return 1
    if backend == "openai":
        NoEngineOptions.of(config, backend)
    return 0


def _evalkit_error(exc: BaseException) -> EvalkitError | None:
    """The EvalkitError a replica raised, out of Ray's wrapping (None if it raised something else)."""
    cause = getattr(exc, "cause", None) or getattr(exc, "__cause__", None)
    if isinstance(cause, EvalkitError):
        return EvalkitError(str(cause))
    text = str(exc)
    marker = "EvalkitError: "
    if marker in text:
        return EvalkitError(text[text.rindex(marker) + len(marker) :].strip().splitlines()[0])
    return None


def _unwrap_start_error(exc: BaseException) -> EvalkitError:
    return _evalkit_error(exc) or EvalkitError(f"A Ray replica could not start: {exc}")


class RayReplicaAdapter(Adapter):
    """The `backend` adapter, replicated over Ray actors. Same contract as any Adapter."""

    def __init__(self, backend: str, config: RunConfig) -> None:
        replica_gpus = _replica_gpus(backend, config)
        self._ray = connect(config)
        self.name = backend
        self._config = config
        engine_gpus = replica_gpus if float(self._ray.cluster_resources().get("GPU", 0)) >= 1 else 0
        actor_class = self._ray.remote(_Replica).options(
            # Replicas hold GPUs, not CPUs: on a CPU-only cluster the grading tasks need the CPUs.
            num_cpus=0,
            num_gpus=engine_gpus,
            max_restarts=_MAX_RESTARTS,
            max_task_retries=0,
        )
        self.replicas: list[Any] = [actor_class.remote(backend, c) for c in replica_configs(backend, config)]
        self._alive = [True] * len(self.replicas)
        try:
            self._identities: list[dict[str, Any]] = self._ray.get([a.identity.remote() for a in self.replicas])
        except self._ray.exceptions.RayError as exc:
            for actor in self.replicas:
                self._ray.kill(actor)
            raise _unwrap_start_error(exc) from exc

    @property
    def live_replicas(self) -> int:
        """How many replicas are still usable (a replica killed for good no longer counts)."""
        return sum(self._alive)

    def identity(self) -> dict[str, Any]:
        """The first replica's identity plus the replica count (and every identity if they differ)."""
        identity = {
            **self._identities[0],
            "replicas": len(self.replicas),
            "ray_address": self._config.scale.ray_address,
        }
        if any(i != self._identities[0] for i in self._identities[1:]):
            identity["replica_identities"] = self._identities
        return identity

    async def fit(self, requests: Sequence[Request]) -> list[Request]:
        """Max tokens fitted to the engine's context by one replica (all replicas run the same model)."""
        if not requests:
            return []
        try:
            fitted: list[Request] = await self.replicas[0].fit.remote(list(requests))
        except self._ray.exceptions.RayError as exc:
            raise _evalkit_error(exc) or exc from None
        return fitted

    async def _alive_after_failure(self, index: int) -> bool:
        """Whether replica `index` is usable again (Ray may be restarting it) or gone for good."""
        try:
            await asyncio.wait_for(self.replicas[index].ping.remote(), _RESTART_WAIT_S)
        except (self._ray.exceptions.RayError, TimeoutError):
            self._alive[index] = False
        return self._alive[index]

    async def generate(self, requests: Sequence[Request]) -> AsyncIterator[Generation]:
        """Yield a Generation for every request as replicas finish them (completion order)."""
        total = len(requests)
        if total == 0:
            return
        ordered = sorted(requests, key=lambda r: (r.task, r.sample_id, r.sample_index))
        slots = len(self.replicas) * _SLOTS_PER_REPLICA
        size = max(1, min(_MAX_CHUNK, math.ceil(total / (2 * slots))))
        queue: deque[list[Request]] = deque(ordered[i : i + size] for i in range(0, total, size))
        attempts: dict[Key, int] = {}
        results: asyncio.Queue[Generation] = asyncio.Queue()
        changed = asyncio.Condition()
        state = {"yielded": 0}

        async def give_back(lost: list[Request], why: str) -> None:
            retry = []
            for request in lost:
                attempts[request.key] = attempts.get(request.key, 0) + 1
                if attempts[request.key] >= _MAX_ATTEMPTS:
                    await results.put(
                        Generation.failed(request, f"lost {_MAX_ATTEMPTS} times with a Ray replica: {why}")
                    )
                else:
                    retry.append(request)
            async with changed:
                if retry:
                    queue.append(retry)
                changed.notify_all()

        async def fail_queue(why: str) -> None:
            async with changed:
                while queue:
                    for request in queue.popleft():
                        await results.put(Generation.failed(request, why))
                changed.notify_all()

        async def serve(index: int) -> None:
            actor = self.replicas[index]
            while self._alive[index]:
                async with changed:
                    await changed.wait_for(lambda: bool(queue) or state["yielded"] >= total or not self._alive[index])
                    if not queue or not self._alive[index]:
                        return
                    chunk = queue.popleft()
                left = {r.key: r for r in chunk}
                try:
                    async for ref in actor.generate.options(num_returns="streaming").remote(chunk):
                        generation: Generation = await ref
                        if left.pop(generation.key, None) is not None:
                            await results.put(generation)
                except self._ray.exceptions.RayError as exc:
                    await give_back(list(left.values()), f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
                    if not await self._alive_after_failure(index):
                        async with changed:
                            changed.notify_all()  # this replica's other slots stop too
                        if not any(self._alive):
                            await fail_queue("every Ray replica died; no replica left to generate this sample")

        workers = [
            asyncio.create_task(serve(i))
            for i in range(len(self.replicas))
            if self._alive[i]
            for _ in range(_SLOTS_PER_REPLICA)
        ]
        if not workers:
            await fail_queue("every Ray replica died; no replica left to generate this sample")
        try:
            while state["yielded"] < total:
                generation = await results.get()
                state["yielded"] += 1
                yield generation
            async with changed:
                changed.notify_all()
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def aclose(self) -> None:
        """Close every replica's adapter, then end the actors."""
        closing = [a.close.remote() for a, alive in zip(self.replicas, self._alive, strict=True) if alive]
        await asyncio.gather(*closing, return_exceptions=True)
        for actor in self.replicas:
            self._ray.kill(actor)


def create(backend: str, config: RunConfig) -> RayReplicaAdapter:
    """`backend` over `config.scale.replicas` Ray actors (OpenAI: over groups of `config.backend.base_urls`)."""
    return RayReplicaAdapter(backend, config)
