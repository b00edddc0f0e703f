"""Engine options: what a backend takes besides the run's common settings, validated by that backend.

`evalkit run -B key=value` (repeatable) and the engine flags (`--dtype`, `--tensor-parallel-size`, ...)
fill `RunConfig.backend.options`. The backend that runs reads them through its own options model
(extra="forbid"), so an option it does not take is an error naming it, never silently ignored, and
`-B` values are typed by that model (`-B tensor_parallel_size=2 -B enforce_eager=true`).

Options that change what the model generates are listed in the model's `GENERATES`. The adapter's
identity carries those that differ from their default (`generation_options`), which makes them part
of the run's generation identity (evalkit.identity): a rerun that changes one is refused, naming the
old and the new value. (dtype and the chat template are there already, as the values the engine
resolved them to.)
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evalkit.config import EngineValue, RunConfig
from evalkit.errors import EvalkitError

OptionsT = TypeVar("OptionsT", bound="EngineOptions")


class EngineOptions(BaseModel):
    """A backend's engine options. Subclass it with typed fields; `of(config, backend)` validates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Names of the options that change what is generated (part of the generation identity).
    GENERATES: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def of(cls: type[OptionsT], config: RunConfig, backend: str) -> OptionsT:
        """The run's engine options for `backend`; EvalkitError naming each option it cannot take."""
        try:
            return cls.model_validate(config.backend.options)
        except ValidationError as e:
            raise EvalkitError(_refusal(cls, backend, e)) from None

    def generation_options(self) -> dict[str, Any]:
        """The options in GENERATES that differ from their default, as JSON values."""
        fields = type(self).model_fields
        dumped = self.model_dump(mode="json")
        return {k: dumped[k] for k in sorted(self.GENERATES) if getattr(self, k) != fields[k].default}


class NoEngineOptions(EngineOptions):
    """For backends that take no engine options (openai, replay, simulated)."""


class LocalModelOptions(EngineOptions):
    """What every in-process engine (vllm, transformers) takes."""

    dtype: str = "auto"
    max_model_len: int | None = Field(default=None, ge=1)
    chat_template: Path | None = None  # a jinja file replacing the tokenizer's template


class TransformersOptions(LocalModelOptions):
    """`--backend transformers`."""


class VllmOptions(LocalModelOptions):
    """`--backend vllm`: options passed to `vllm.LLM` (unset ones keep vLLM's defaults)."""

    GENERATES: ClassVar[frozenset[str]] = frozenset({"kv_cache_dtype", "quantization"})

    tensor_parallel_size: int = Field(default=1, ge=1)
    gpu_memory_utilization: float = Field(default=0.9, gt=0.0, le=1.0)
    # Skip graph capture / torch.compile (faster start; on CPU about 15 s instead of 90 s).
    enforce_eager: bool = False
    max_num_seqs: int | None = Field(default=None, ge=1)
    enable_prefix_caching: bool | None = None
    kv_cache_dtype: str | None = None  # e.g. fp8: a cheaper KV cache, other numerics
    quantization: str | None = None  # e.g. awq, fp8: the weights' format on the device


# evalkit's engines and their options, for the hint when an option goes to the wrong backend.
_KNOWN: dict[str, type[EngineOptions]] = {"vllm": VllmOptions, "transformers": TransformersOptions}


def _refusal(model: type[EngineOptions], backend: str, error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        name = ".".join(map(str, item["loc"]))
        if item["type"] == "extra_forbidden":
            owners = [b for b, m in _KNOWN.items() if b != backend and name in m.model_fields]
            close = difflib.get_close_matches(name, list(model.model_fields), n=1)
            where = (
                f" (an option of the {' and '.join(owners)} backend{'s' if len(owners) > 1 else ''})"
                if owners
                else f" (did you mean '{close[0]}'?)"
                if close
                else ""
            )
            problems.append(f"'{name}' is not an option of the {backend} backend{where}")
        else:
            problems.append(f"'{name}': {item['msg']} (got {item['input']!r})")
    takes = ", ".join(sorted(model.model_fields))
    return f"Engine option(s) refused: {'; '.join(problems)}. " + (
        f"The {backend} backend takes: {takes} (-B key=value)." if takes else f"The {backend} backend takes none."
    )


def parse_option_pairs(pairs: list[str]) -> dict[str, EngineValue]:
    """`-B key=value` pairs as engine options. A value is read as a JSON scalar when it is one (2, 0.5,
    true, null), else kept as text; the backend's options model then types it."""
    options: dict[str, EngineValue] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise EvalkitError(f"-B takes key=value (e.g. -B tensor_parallel_size=2); got '{pair}'.")
        if key in options:
            raise EvalkitError(f"Engine option '{key}' is given twice (-B {key}=...); give it once.")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        if isinstance(value, dict | list):
            raise EvalkitError(f"-B {key}= takes one value (a number, true/false or text), not {text}.")
        options[key] = value
    return options
