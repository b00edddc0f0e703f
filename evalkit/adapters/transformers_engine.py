"""`--backend transformers`: Hugging Face `generate` on CPU or GPU, for small models and no-vLLM machines.

Same sampling semantics as the vLLM backend: temperature, top-p, max tokens, and one seed per
sample, so a key's text does not depend on which other samples share its batch. `generate` draws
from one global RNG for the whole batch, so evalkit samples itself: a logits processor applies
temperature and top-p and adds Gumbel noise drawn from the row's own `torch.Generator`, and greedy
decoding then picks argmax(logits / T + Gumbel), which is an exact draw from the filtered softmax.
Requests are grouped by sampling parameters, sorted longest-first and run in batches of up to
`--concurrency` rows (left-padded).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from typing import Any

from evalkit.adapters.base import Adapter
from evalkit.adapters.local_model import (
    ModelRef,
    PromptBuilder,
    fit_to_context,
    model_identity,
    package_versions,
    read_chat_template,
    resolve_model,
)
from evalkit.adapters.options import TransformersOptions
from evalkit.config import RunConfig
from evalkit.errors import EvalkitError, MissingExtraError
from evalkit.types import Generation, Request, SamplingParams

_DTYPES = ("float32", "float16", "bfloat16")


def _import_stack() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise MissingExtraError("--backend transformers", "transformers", "transformers and torch") from exc
    return torch, transformers


class _SeededSampling:
    """A `LogitsProcessor`: temperature, top-p, then per-row Gumbel noise from per-sample generators."""

    def __init__(self, torch: Any, top_p_warper: Any, generators: list[Any], temperature: float) -> None:
        self._torch = torch
        self._top_p = top_p_warper
        self._generators = generators
        self._temperature = temperature

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        torch = self._torch
        scores = self._top_p(input_ids, scores.float() / self._temperature)
        uniform = torch.stack(
            [
                torch.rand(scores.shape[-1], generator=g, device=scores.device, dtype=torch.float32)
                for g in self._generators
            ]
        )
        gumbel = -torch.log(-torch.log(uniform.clamp_(min=1e-20, max=1.0 - 1e-7)))
        return scores + gumbel


class TransformersAdapter(Adapter):
    """A Hugging Face causal LM run in this process. Build with `create(config)`."""

    name = "transformers"

    def __init__(
        self, config: RunConfig, options: TransformersOptions, model_ref: ModelRef, template_override: str | None
    ) -> None:
        torch, transformers = _import_stack()
        self._torch = torch
        self._config = config
        self._model_ref = model_ref
        self._device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = self._dtype(options.dtype)
        try:
            self._tokenizer = transformers.AutoTokenizer.from_pretrained(model_ref.load_from)
            self._model = transformers.AutoModelForCausalLM.from_pretrained(model_ref.load_from, dtype=dtype)
        except (OSError, ValueError) as exc:
            raise EvalkitError(f"transformers could not load {model_ref.name}: {exc}. Check --model.") from exc
        self._model.to(self._device).eval()
        self._dtype_name = str(self._model.dtype).removeprefix("torch.")
        self._prompts = PromptBuilder(self._tokenizer, model_ref.name, template_override)
        model_len = getattr(self._model.config, "max_position_embeddings", None)
        max_len = options.max_model_len
        if max_len is not None and model_len is not None and max_len > model_len:
            raise EvalkitError(
                f"--max-model-len {max_len} exceeds what {model_ref.name} supports "
                f"({model_len} positions). Lower it to {model_len} or less."
            )
        self._max_len = int(max_len or model_len or 1 << 30)
        eos = self._model.generation_config.eos_token_id
        eos = eos if eos is not None else self._tokenizer.eos_token_id
        self._eos: set[int] = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        pad = self._tokenizer.pad_token_id
        self._pad = int(pad if pad is not None else next(iter(self._eos), 0))
        self._lock = threading.Lock()
        self._identity: dict[str, Any] | None = None

    def _dtype(self, name: str) -> Any:
        if name == "auto":
            # Half precision on the CPU is slow and poorly supported; the model's dtype on a GPU.
            return "auto" if self._torch.cuda.is_available() else self._torch.float32
        if name not in _DTYPES:
            raise EvalkitError(f"--dtype {name} is not supported by the transformers backend: use auto or {_DTYPES}.")
        return getattr(self._torch, name)

    def identity(self) -> dict[str, Any]:
        """Engine, model, weights hash, chat template hash, dtype, device and package versions."""
        if self._identity is None:
            versions = package_versions()
            self._identity = {
                "engine": "transformers",
                "engine_version": versions["transformers"],
                **model_identity(self._model_ref),
                **self._prompts.template_identity(),
                "dtype": self._dtype_name,
                "device": self._device,
                "max_model_len": self._max_len,
                "versions": versions,
            }
        return self._identity

    def _generator(self, seed: int) -> Any:
        """The sample's own RNG: seeded by its seed, or from fresh entropy with --no-send-seed."""
        generator = self._torch.Generator(device=self._device)
        if self._config.sampling.send_seed:
            generator.manual_seed(seed)
        else:
            generator.seed()
        return generator

    def _run_batch(self, batch: list[tuple[Request, list[int]]], params: SamplingParams) -> list[Generation]:
        torch = self._torch
        from transformers import GenerationConfig, LogitsProcessorList, TopPLogitsWarper

        started = time.perf_counter()
        width = max(len(ids) for _, ids in batch)
        input_ids = torch.tensor([[self._pad] * (width - len(ids)) + ids for _, ids in batch], device=self._device)
        mask = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for _, ids in batch], device=self._device)
        processors = LogitsProcessorList()
        if params.temperature > 0:
            generators = [self._generator(r.seed) for r, _ in batch]
            processors.append(_SeededSampling(torch, TopPLogitsWarper(params.top_p), generators, params.temperature))
        generation_config = GenerationConfig(  # type: ignore[no-untyped-call]
            do_sample=False,
            max_new_tokens=params.max_tokens,
            eos_token_id=sorted(self._eos) or None,
            pad_token_id=self._pad,
        )
        with self._lock, torch.inference_mode():
            output = self._model.generate(
                input_ids=input_ids,
                attention_mask=mask,
                generation_config=generation_config,
                logits_processor=processors,
            )
        latency = time.perf_counter() - started
        generations = []
        for row, (request, ids) in enumerate(batch):
            tokens = output[row, width:].tolist()
            end = next((i for i, t in enumerate(tokens) if t in self._eos), None)
            kept = tokens if end is None else tokens[:end]
            generations.append(
                Generation.completed(
                    request,
                    self._tokenizer.decode(kept, skip_special_tokens=True),
                    finish_reason="length" if end is None else "stop",
                    prompt_tokens=len(ids),
                    completion_tokens=len(tokens) if end is None else end + 1,
                    latency_s=latency,
                )
            )
        return generations

    async def fit(self, requests: Sequence[Request]) -> list[Request]:
        """`requests` with max tokens fitted to the model's context; EvalkitError if one cannot fit."""
        return fit_to_context(self._prompts, requests, self._max_len, self._config)

    async def generate(self, requests: Sequence[Request]) -> AsyncIterator[Generation]:
        """Run batches (longest prompts first) in a worker thread and yield each batch as it finishes."""
        groups: dict[SamplingParams, list[tuple[Request, list[int]]]] = defaultdict(list)
        for request in fit_to_context(self._prompts, requests, self._max_len, self._config):
            try:
                ids = self._prompts.token_ids(request)
            except ValueError as exc:
                yield Generation.failed(request, f"could not build the prompt: {exc}")
                continue
            groups[request.params].append((request, ids))
        batch_size = self._config.backend.concurrency
        for params, group in groups.items():
            group.sort(key=lambda pair: (-len(pair[1]), pair[0].task, pair[0].sample_id, pair[0].sample_index))
            for start in range(0, len(group), batch_size):
                batch = group[start : start + batch_size]
                try:
                    generations = await asyncio.to_thread(self._run_batch, batch, params)
                except RuntimeError as exc:  # e.g. out of memory: these samples fail, the run goes on
                    generations = [Generation.failed(r, f"transformers failed: {exc}") for r, _ in batch]
                for generation in generations:
                    yield generation

    async def aclose(self) -> None:
        """Drop the model (frees GPU memory when the adapter is discarded)."""
        del self._model
        if self._device == "cuda":
            self._torch.cuda.empty_cache()


def create(config: RunConfig) -> TransformersAdapter:
    """Load `config.model` with transformers (on the GPU when there is one)."""
    options = TransformersOptions.of(config, "transformers")
    _import_stack()
    return TransformersAdapter(config, options, resolve_model(config.model), read_chat_template(options.chat_template))
