"""The resolved configuration of a run. Typos in keys are errors (extra="forbid")."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from evalkit.answer import DEFAULT_MARKER, ThinkPolicy
from evalkit.data import DataSource


class RunConfig(BaseModel):
    """Everything `evalkit run` was asked to do. Stored (minus secrets) in manifest.json."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    tasks: str
    # auto, or a name in evalkit.adapters.base.BACKENDS (plugins included): checked when the adapter is
    # made, so a stored run whose backend plugin is gone still re-grades.
    backend: str = "auto"
    base_urls: tuple[str, ...] = ()
    api_key: str | None = Field(default=None, exclude=True)
    api: Literal["chat", "completions"] = "chat"
    n: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, ge=1)
    max_tokens_floor: int = Field(default=1024, ge=1)  # refuse a run whose budget fitted to the context is below this
    seed: int = 0
    send_seed: bool = True  # False: requests carry no per-sample seed (servers that reject or mishandle it)
    limit: int | None = Field(default=None, ge=1)
    data_dir: Path | None = None
    data_source: DataSource = "auto"
    output: Path | None = None
    concurrency: int = Field(default=64, ge=1)
    request_timeout_s: float = Field(default=1800.0, gt=0)
    max_retries: int = Field(default=5, ge=0)
    think_marker: str = DEFAULT_MARKER
    think_policy: ThinkPolicy = "auto"
    grading_workers: int | None = Field(default=None, ge=1)
    grading_timeout_s: float = Field(default=20.0, gt=0)
    overwrite: bool = False
    replay: Path | None = None
    # In-process engines (vllm, transformers) and scale-out.
    tensor_parallel_size: int = Field(default=1, ge=1)
    dtype: str = "auto"
    max_model_len: int | None = Field(default=None, ge=1)
    gpu_memory_utilization: float = Field(default=0.9, gt=0.0, le=1.0)
    chat_template: Path | None = None
    # vLLM: skip graph capture / torch.compile (faster start; on CPU about 15 s instead of 90 s).
    enforce_eager: bool = False
    replicas: int = Field(default=1, ge=1)
    ray: bool = False
    ray_address: str | None = None
    # Untrusted code execution.
    sandbox: str = "local"
    unsafe_no_isolation: bool = False

    @field_validator("tasks")
    @classmethod
    def _task_files_absolute(cls, tasks: str) -> str:
        # The stored config names the run's task files by absolute path: `evalkit grade` and a resume
        # then find them from any directory.
        from evalkit.tasks import with_absolute_task_files

        return with_absolute_task_files(tasks)

    @field_validator("base_urls")
    @classmethod
    def _urls_have_scheme(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(
                    f"base URL '{url}' must start with http:// or https:// (e.g. http://127.0.0.1:8000/v1)"
                )
        return tuple(u.rstrip("/") for u in urls)
