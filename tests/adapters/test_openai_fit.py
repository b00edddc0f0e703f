"""The OpenAI-compatible adapter fits max tokens to the server's context (scripted servers that answer
the way vLLM does), sends or leaves out seeds, and sends chat tasks to /completions as plain text.

The scripted servers count a prompt's tokens as its words (the same count their usage reports).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from evalkit.adapters.openai_compat import OpenAICompatAdapter
from evalkit.config import BackendConfig, RunConfig, SamplingConfig
from evalkit.errors import EvalkitError
from evalkit.testing.server import Reply, ScriptedServer
from evalkit.types import Generation, Message, Request, SamplingParams

CONTEXT = 2048


def _words(body: dict[str, Any]) -> int:
    if "messages" in body:
        return sum(len(m["content"].split()) for m in body["messages"])
    return len(body["prompt"].split())


class VllmLike:
    """Answers like vLLM 0.32: max_tokens above the context is a 400 naming only the context; a budget
    that overruns the context after the prompt is silently capped. Remembers every body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, body: dict[str, Any], attempt: int) -> Reply:
        self.bodies.append(body)
        asked, prompt = body["max_tokens"], _words(body)
        if asked > CONTEXT:
            message = f"max_tokens={asked} cannot be greater than max_model_len={CONTEXT}. Please request fewer output tokens."
            return Reply(fault="400", message=message)
        budget = min(asked, CONTEXT - prompt)
        return Reply(text="x", completion_tokens=budget, finish_reason="length")


class OldVllm(VllmLike):
    """Answers like vLLM <= 0.8 and OpenAI: prompt + max_tokens above the context is a 400 naming both."""

    def __call__(self, body: dict[str, Any], attempt: int) -> Reply:
        self.bodies.append(body)
        asked, prompt = body["max_tokens"], _words(body)
        if asked + prompt > CONTEXT:
            message = (
                f"This model's maximum context length is {CONTEXT} tokens. However, you requested "
                f"{asked + prompt} tokens ({prompt} in the messages, {asked} in the completion). "
                "Please reduce the length of the messages or completion."
            )
            return Reply(fault="400", message=message)
        return Reply(text="x", completion_tokens=asked, finish_reason="length")


def _requests(words: Sequence[int], n: int = 2, max_tokens: int = 32768) -> list[Request]:
    return [
        Request(
            task="t",
            task_version="1",
            sample_id=f"p{i}",
            sample_index=index,
            seed=100 * i + index,
            prompt_hash=f"h{i}",
            params=SamplingParams(max_tokens=max_tokens),
            messages=(Message("user", " ".join(["word"] * count)),),
        )
        for i, count in enumerate(words)
        for index in range(n)
    ]


def _adapter(url: str, *, sampling: SamplingConfig | None = None, **backend: Any) -> OpenAICompatAdapter:
    settings: dict[str, Any] = {"max_retries": 1, "request_timeout_s": 10.0, "concurrency": 4, **backend}
    cfg = RunConfig(
        model="m",
        tasks="t",
        backend=BackendConfig(name="openai", base_urls=(url,), **settings),
        sampling=sampling or SamplingConfig(),
    )
    return OpenAICompatAdapter(cfg, backoff_base_s=0.005, backoff_max_s=0.02)


def _fit_and_generate(
    adapter: OpenAICompatAdapter, requests: Sequence[Request], *, generate: bool = True
) -> tuple[list[Request], dict[tuple[str, str, int], Generation]]:
    async def go() -> tuple[list[Request], list[Generation]]:
        try:
            fitted = await adapter.fit(requests)
            return fitted, [g async for g in adapter.generate(fitted)] if generate else []
        finally:
            await adapter.aclose()

    fitted, generations = asyncio.run(go())
    return fitted, {g.key: g for g in generations}


def test_prompts_counted_with_tokenize_are_fitted_before_anything_is_sent() -> None:
    script = VllmLike()
    requests = _requests([10, 300, 1000])
    with ScriptedServer(script, model="m", max_model_len=CONTEXT, tokenize=True) as server:
        fitted, _ = _fit_and_generate(_adapter(server.url), requests, generate=False)
        assert server.tokenize_count == 3, "one /tokenize per distinct prompt"
        assert server.request_count == 0, "fitting generates nothing"
    assert [r.params.max_tokens for r in fitted] == [2038, 2038, 1748, 1748, 1048, 1048]
    assert [r.key for r in fitted] == [r.key for r in requests]


def test_fitted_requests_are_sent_and_each_generation_stores_its_budget() -> None:
    script = VllmLike()
    requests = _requests([10, 1000])
    with ScriptedServer(script, model="m", max_model_len=CONTEXT, tokenize=True) as server:
        fitted, gens = _fit_and_generate(_adapter(server.url), requests)
        assert server.request_count == len(requests), "no request was rejected"
    assert sorted(b["max_tokens"] for b in script.bodies) == [1048, 1048, 2038, 2038]
    assert {k: g.max_tokens for k, g in gens.items()} == {r.key: r.params.max_tokens for r in fitted}
    assert all(g.error is None for g in gens.values())


def test_without_tokenize_a_one_token_request_per_prompt_counts_it() -> None:
    script = VllmLike()
    requests = _requests([10, 1000], n=3)
    with ScriptedServer(script, model="m", max_model_len=CONTEXT) as server:
        fitted, _ = _fit_and_generate(_adapter(server.url), requests, generate=False)
        assert server.request_count == 2, "one counting request per distinct prompt"
    assert all(b["max_tokens"] == 1 and "seed" not in b for b in script.bodies)
    assert [r.params.max_tokens for r in fitted] == [2038] * 3 + [1048] * 3


def test_too_little_room_is_refused_before_any_completion_request() -> None:
    requests = _requests([10, 1500])
    with ScriptedServer(VllmLike(), model="m", max_model_len=CONTEXT, tokenize=True) as server:
        with pytest.raises(EvalkitError) as info:
            _fit_and_generate(_adapter(server.url), requests)
        assert server.request_count == 0
    message = " ".join(str(info.value).split())
    assert "2 of 4 samples leave too little room to generate, so nothing was sent" in message
    assert "1,500-token prompt, so the context of 2,048 tokens leaves 548 tokens to generate" in message
    assert "below the floor of 1,024" in message and "the server's --max-model-len to at least 34,268" in message


def test_the_floor_is_configurable() -> None:
    with ScriptedServer(VllmLike(), model="m", max_model_len=CONTEXT, tokenize=True) as server:
        fitted, _ = _fit_and_generate(
            _adapter(server.url, sampling=SamplingConfig(max_tokens_floor=500)), _requests([1500]), generate=False
        )
    assert [r.params.max_tokens for r in fitted] == [548, 548]


def test_a_long_context_server_is_not_asked_to_count_prompts_that_surely_fit() -> None:
    requests = _requests([10, 300])
    with ScriptedServer(VllmLike(), model="m", max_model_len=131072, tokenize=True) as server:
        fitted, _ = _fit_and_generate(_adapter(server.url), requests, generate=False)
        assert server.tokenize_count == 0 and server.request_count == 0
    assert fitted == requests


@pytest.mark.parametrize("script_class", [VllmLike, OldVllm], ids=["vllm-0.32", "vllm-0.8"])
def test_without_a_context_in_the_model_card_the_servers_400_fits_the_request(script_class: type[VllmLike]) -> None:
    script = script_class()
    requests = _requests([10, 1000], n=1)
    # Unnamed: GET /models lists nothing, so the context is unknown until the server names it.
    with ScriptedServer(script) as server:
        fitted, gens = _fit_and_generate(_adapter(server.url), requests)
    assert fitted == requests
    assert all(g.error is None for g in gens.values()), [g.error for g in gens.values()]
    # The stored budget is what the server allowed: context - prompt, whether it capped or we did.
    assert gens[("t", "p0", 0)].max_tokens == 2038 and gens[("t", "p1", 0)].max_tokens == 1048


def test_a_400_that_leaves_too_little_room_is_an_error_row_naming_the_numbers() -> None:
    script = OldVllm()
    with ScriptedServer(script) as server:
        _, gens = _fit_and_generate(_adapter(server.url), _requests([1800], n=1))
    (generation,) = gens.values()
    assert generation.text is None and generation.error is not None
    assert generation.error.startswith("context: t sample p0 has a 1,800-token prompt")
    assert "leaves 248 tokens to generate, below the floor of 1,024" in generation.error
    assert generation.error.endswith("(not retried)")
    assert len(script.bodies) == 1, "sent once, then refused without retries"


@pytest.mark.parametrize("send_seed", [True, False])
def test_seeds_are_sent_unless_switched_off(send_seed: bool) -> None:
    script = VllmLike()
    requests = _requests([5, 6], max_tokens=100)
    with ScriptedServer(script) as server:
        _, gens = _fit_and_generate(_adapter(server.url, sampling=SamplingConfig(send_seed=send_seed)), requests)
    assert all(g.error is None for g in gens.values())
    sent = sorted(b.get("seed", -1) for b in script.bodies)
    assert sent == (sorted(r.seed for r in requests) if send_seed else [-1] * len(requests))
    # The derived seed is still stored with each generation (resume and duplicate checks key on samples).
    assert {k: g.seed for k, g in gens.items()} == {r.key: r.seed for r in requests}


def test_completions_api_sends_a_chat_tasks_text_without_a_template() -> None:
    script = VllmLike()
    requests = _requests([3], n=1, max_tokens=100)
    with ScriptedServer(script, model="m", max_model_len=CONTEXT, tokenize=True) as server:
        _, gens = _fit_and_generate(_adapter(server.url, api="completions"), requests)
    (body,) = script.bodies
    assert body["prompt"] == "word word word" and "messages" not in body
    assert all(g.error is None for g in gens.values())


def test_with_several_servers_the_smallest_context_is_the_one_fitted_to() -> None:
    requests = _requests([48], n=1)
    with (
        ScriptedServer(VllmLike(), model="m", max_model_len=4096, tokenize=True) as large,
        ScriptedServer(VllmLike(), model="m", max_model_len=CONTEXT, tokenize=True) as small,
    ):
        cfg = RunConfig(model="m", tasks="t", backend=BackendConfig(name="openai", base_urls=(large.url, small.url)))
        fitted, _ = _fit_and_generate(OpenAICompatAdapter(cfg), requests, generate=False)
    assert [r.params.max_tokens for r in fitted] == [CONTEXT - 48]
