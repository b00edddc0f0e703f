"""The resolved configuration of a run: what to run, then one small group per concern.

`sampling` (how each sample is drawn), `backend` (what generates: the backend, its endpoints and
limits, and its engine options), `grading` (workers, time limit, answer region), `sandbox` (where
model-written code runs) and `scale` (Ray). Typos in keys are errors at every level
(extra="forbid"). Engine options (`backend.options`: `-B key=value` and the engine flags) are
validated by the backend that uses them (evalkit.adapters.options), since only it knows which it
takes.

manifest.json stores the config (minus secrets). `RunConfig.from_manifest` reads it back, also in
the flat form that runs stored before the config had groups, so `evalkit grade`, a resume and
`--output`-less reruns keep working on those runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from evalkit.answer import DEFAULT_MARKER, ThinkPolicy
from evalkit.data import DataSource

# An engine option's value as `-B key=value` or an engine flag gives it (typed later by the backend).
EngineValue = str | int | float | bool | None


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SamplingConfig(_Group):
    """How each sample is drawn. Unset values take the task's default (the DeepSeek-R1 protocol's)."""

    n: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, ge=1)
    # Refuse a run whose budget fitted to the context is below this.
    max_tokens_floor: int = Field(default=1024, ge=1)
    seed: int = 0
    # False: requests carry no per-sample seed (servers that reject or mishandle it).
    send_seed: bool = True


class BackendConfig(_Group):
    """What generates the samples, and how hard it is pushed."""

    # auto, or a name in evalkit.adapters.base.BACKENDS (plugins included): checked when the adapter is
    # made, so a stored run whose backend plugin is gone still re-grades.
    name: str = "auto"
    base_urls: tuple[str, ...] = ()
    api: Literal["chat", "completions"] = "chat"
    api_key: str | None = Field(default=None, exclude=True)
    concurrency: int = Field(default=64, ge=1)
    request_timeout_s: float = Field(default=1800.0, gt=0)
    max_retries: int = Field(default=5, ge=0)
    replay: Path | None = None
    # Engine options by name, as given; the backend validates them (evalkit.adapters.options).
    options: dict[str, EngineValue] = Field(default_factory=dict)

    @field_validator("base_urls")
    @classmethod
    def _urls_have_scheme(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(
                    f"base URL '{url}' must start with http:// or https:// (e.g. http://127.0.0.1:8000/v1)"
                )
        return tuple(u.rstrip("/") for u in urls)


class GradingConfig(_Group):
    """How generations are graded: worker processes, the time limit per grade, the answer region."""

    workers: int | None = Field(default=None, ge=1)  # default: the CPU count
    timeout_s: float = Field(default=20.0, gt=0)
    think_marker: str = DEFAULT_MARKER
    think_policy: ThinkPolicy = "auto"


class SandboxConfig(_Group):
    """Where model-written code runs."""

    name: str = "local"
    unsafe_no_isolation: bool = False


class ScaleConfig(_Group):
    """Scale-out on a Ray cluster (`evalkit.cluster.uses_ray`)."""

    ray: bool = False
    ray_address: str | None = None
    replicas: int = Field(default=1, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _address_means_ray(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("ray_address") is not None:
            return {**data, "ray": True}
        return data


class RunConfig(BaseModel):
    """Everything `evalkit run` was asked to do. Stored (minus secrets) in manifest.json."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    tasks: str
    limit: int | None = Field(default=None, ge=1)
    data_dir: Path | None = None
    data_source: DataSource = "auto"
    output: Path | None = None
    overwrite: bool = False
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    backend: BackendConfig = Field(default_factory=BackendConfig)
    grading: GradingConfig = Field(default_factory=GradingConfig)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    scale: ScaleConfig = Field(default_factory=ScaleConfig)

    @field_validator("tasks")
    @classmethod
    def _task_files_absolute(cls, tasks: str) -> str:
        # The stored config names the run's task files by absolute path: `evalkit grade` and a resume
        # then find them from any directory.
        from evalkit.tasks import with_absolute_task_files

        return with_absolute_task_files(tasks)

    @classmethod
    def from_manifest(cls, stored: Mapping[str, Any]) -> RunConfig:
        """The config a run stored in manifest.json: grouped, or in the flat form of earlier runs."""
        return cls.model_validate(grouped(stored))


# Where each setting of the flat form (runs stored before the config had groups) lives now.
_FLAT: dict[str, tuple[str, str]] = {
    "n": ("sampling", "n"),
    "temperature": ("sampling", "temperature"),
    "top_p": ("sampling", "top_p"),
    "max_tokens": ("sampling", "max_tokens"),
    "max_tokens_floor": ("sampling", "max_tokens_floor"),
    "seed": ("sampling", "seed"),
    "send_seed": ("sampling", "send_seed"),
    "backend": ("backend", "name"),
    "base_urls": ("backend", "base_urls"),
    "api": ("backend", "api"),
    "api_key": ("backend", "api_key"),
    "concurrency": ("backend", "concurrency"),
    "request_timeout_s": ("backend", "request_timeout_s"),
    "max_retries": ("backend", "max_retries"),
    "replay": ("backend", "replay"),
    "grading_workers": ("grading", "workers"),
    "grading_timeout_s": ("grading", "timeout_s"),
    "think_marker": ("grading", "think_marker"),
    "think_policy": ("grading", "think_policy"),
    "sandbox": ("sandbox", "name"),
    "unsafe_no_isolation": ("sandbox", "unsafe_no_isolation"),
    "ray": ("scale", "ray"),
    "ray_address": ("scale", "ray_address"),
    "replicas": ("scale", "replicas"),
}
# The flat form's engine settings with the value that meant "not given"; given ones are engine options now.
_FLAT_ENGINE: dict[str, EngineValue] = {
    "tensor_parallel_size": 1,
    "dtype": "auto",
    "max_model_len": None,
    "gpu_memory_utilization": 0.9,
    "chat_template": None,
    "enforce_eager": False,
}


def grouped(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A stored config in the grouped form (a flat one is regrouped; a grouped one comes back as it is)."""
    out: dict[str, Any] = {}
    groups: dict[str, dict[str, Any]] = {}
    for key, value in stored.items():
        if key in _FLAT_ENGINE:
            if value != _FLAT_ENGINE[key]:
                groups.setdefault("backend", {}).setdefault("options", {})[key] = value
        elif key in _FLAT and not isinstance(value, Mapping):
            group, name = _FLAT[key]
            groups.setdefault(group, {})[name] = value
        else:
            out[key] = value
    for group, values in groups.items():
        out[group] = {**values, **out.get(group, {})}
    return out
