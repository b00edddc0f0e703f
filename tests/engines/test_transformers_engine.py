"""The transformers backend with the tiny model: same sampling semantics as the vLLM backend."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from evalkit.config import RunConfig
from evalkit.errors import EvalkitError, MissingExtraError

pytestmark = pytest.mark.slow


def test_n_distinct_samples_reproducible_per_key_whatever_the_batch(
    transformers_adapter: Any, requests_for: Any, run_adapter: Any, engine_config: Callable[..., RunConfig]
) -> None:
    requests = requests_for(indices=range(4))
    full = run_adapter(transformers_adapter, requests)
    assert set(full) == {r.key for r in requests}
    for sample_id in ("p1", "p2", "p3"):
        assert len({full[("toy", sample_id, i)].text for i in range(4)}) == 4
    # A resumed subset, in a batch of other shape and size, reproduces its keys.
    resumed = run_adapter(transformers_adapter, requests_for(indices=(2,), problems=("p3", "p1")))
    assert {k: g.text for k, g in resumed.items()} == {k: full[k].text for k in resumed}
    other_seed = run_adapter(transformers_adapter, requests_for(indices=range(4), run_seed=7))
    assert all(other_seed[k].text != full[k].text for k in full)


def test_batch_size_does_not_change_samples(
    engine_config: Callable[..., RunConfig], requests_for: Any, run_adapter: Any, transformers_adapter: Any
) -> None:
    from evalkit.adapters import transformers_engine

    small_batches = transformers_engine.create(engine_config("transformers", concurrency=2))
    requests = requests_for(indices=range(3))
    a = run_adapter(small_batches, requests)
    b = run_adapter(transformers_adapter, requests)
    assert {k: g.text for k, g in a.items()} == {k: g.text for k, g in b.items()}


def test_token_counts_finish_reason_and_greedy(
    transformers_adapter: Any, requests_for: Any, run_adapter: Any, tiny_model_dir: Path
) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    requests = requests_for(indices=(0, 1), max_tokens=6, temperature=0.0)
    out = run_adapter(transformers_adapter, requests)
    for request in requests:
        text = tokenizer.apply_chat_template(
            [request.messages[0].to_dict()], add_generation_prompt=True, tokenize=False
        )
        assert isinstance(text, str)
        generation = out[request.key]
        assert generation.prompt_tokens == len(tokenizer.encode(text, add_special_tokens=False))
        assert generation.completion_tokens == 6 and generation.finish_reason == "length"
    assert out[("toy", "p1", 0)].text == out[("toy", "p1", 1)].text


def test_stop_at_eos_is_finish_reason_stop(
    transformers_adapter: Any, requests_for: Any, run_adapter: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Make every token an end of sequence: each sample stops after its first token.
    everything = set(range(transformers_adapter._model.config.vocab_size))
    monkeypatch.setattr(transformers_adapter, "_eos", everything)
    out = run_adapter(transformers_adapter, requests_for(indices=(0,), max_tokens=8))
    assert all(g.finish_reason == "stop" and g.completion_tokens == 1 and g.text == "" for g in out.values())


def test_refuses_too_long_requests_and_missing_chat_template(
    transformers_adapter: Any, requests_for: Any, run_adapter: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transformers_adapter, "_max_len", 1000)
    with pytest.raises(EvalkitError, match=r"leave too little room to generate.*context of 1,000 tokens"):
        run_adapter(transformers_adapter, requests_for(indices=(0,), max_tokens=2040))
    monkeypatch.undo()
    monkeypatch.setattr(transformers_adapter._tokenizer, "chat_template", None)
    with pytest.raises(EvalkitError, match=r"has no chat template.*--chat-template FILE"):
        run_adapter(transformers_adapter, requests_for(indices=(0,)))


def test_max_tokens_are_fitted_to_the_models_positions(transformers_adapter: Any, requests_for: Any) -> None:
    requests = requests_for(indices=(0,), max_tokens=32768)
    fitted = asyncio.run(transformers_adapter.fit(requests))
    lengths = [len(transformers_adapter._prompts.token_ids(r)) for r in requests]
    assert [r.params.max_tokens for r in fitted] == [2048 - n for n in lengths]


def test_chat_template_override_changes_the_prompt(
    engine_config: Callable[..., RunConfig], requests_for: Any, run_adapter: Any, tmp_path: Path
) -> None:
    from evalkit.adapters import transformers_engine

    template = tmp_path / "plain.jinja"
    template.write_text("{% for m in messages %}Q: {{ m['content'] }}\n{% endfor %}A:")
    adapter = transformers_engine.create(engine_config("transformers", chat_template=template))
    default = transformers_engine.create(engine_config("transformers"))
    request = requests_for(indices=(0,), problems=("p3",), max_tokens=2)
    a, b = run_adapter(adapter, request), run_adapter(default, request)
    key = ("toy", "p3", 0)
    assert a[key].prompt_tokens != b[key].prompt_tokens
    assert adapter.identity()["chat_template_source"] == "file"
    assert adapter.identity()["chat_template_sha256"] != default.identity()["chat_template_sha256"]


def test_bad_inputs_are_clear_errors(
    engine_config: Callable[..., RunConfig], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evalkit.adapters import transformers_engine

    with pytest.raises(EvalkitError, match="does not exist"):
        transformers_engine.create(engine_config("transformers", model="./no/such/model"))
    with pytest.raises(EvalkitError, match="--max-model-len 99999 exceeds"):
        transformers_engine.create(engine_config("transformers", max_model_len=99999))
    with pytest.raises(EvalkitError, match="--dtype int3"):
        transformers_engine.create(engine_config("transformers", dtype="int3"))
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(MissingExtraError, match=r"evalkit\[transformers\]"):
        transformers_engine.create(engine_config("transformers"))
