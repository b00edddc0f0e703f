"""Engine options (`-B key=value` and the engine flags): typed and checked by the backend that uses them,
and part of the generation identity when they change what is generated."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.adapters.local_model import ModelRef
from evalkit.adapters.options import NoEngineOptions, TransformersOptions, VllmOptions, parse_option_pairs
from evalkit.adapters.vllm_engine import engine_kwargs
from evalkit.config import BackendConfig, RunConfig
from evalkit.errors import EvalkitError
from evalkit.identity import differences, generation_identity, identity_hash


def _config(name: str = "vllm", **options: object) -> RunConfig:
    return RunConfig(model="m", tasks="aime24", backend=BackendConfig(name=name, options=options))  # type: ignore[arg-type]


def test_pairs_are_read_as_json_scalars_else_text() -> None:
    pairs = ["tensor_parallel_size=2", "enforce_eager=true", "gpu_memory_utilization=0.5", "dtype=bfloat16"]
    pairs += ["quantization=null", "kv_cache_dtype=fp8_e5m2", "max_num_seqs="]
    assert parse_option_pairs(pairs) == {
        "tensor_parallel_size": 2,
        "enforce_eager": True,
        "gpu_memory_utilization": 0.5,
        "dtype": "bfloat16",
        "quantization": None,
        "kv_cache_dtype": "fp8_e5m2",
        "max_num_seqs": "",
    }


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (["tensor_parallel_size"], "-B takes key=value (e.g. -B tensor_parallel_size=2); got 'tensor_parallel_size'"),
        (["=2"], "-B takes key=value"),
        (["dtype=a", "dtype=b"], "Engine option 'dtype' is given twice"),
        (["hf_overrides={}"], "-B hf_overrides= takes one value"),
    ],
)
def test_malformed_pairs_are_refused(pairs: list[str], message: str) -> None:
    with pytest.raises(EvalkitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_option_pairs(pairs)


def test_the_backend_types_its_options() -> None:
    options = VllmOptions.of(_config(**parse_option_pairs(["tensor_parallel_size=2", "enforce_eager=true"])), "vllm")
    assert options.tensor_parallel_size == 2 and options.enforce_eager is True
    assert options.gpu_memory_utilization == 0.9 and options.max_num_seqs is None  # defaults
    assert VllmOptions.of(_config(tensor_parallel_size="4"), "vllm").tensor_parallel_size == 4
    chat = TransformersOptions.of(_config("transformers", chat_template="t.jinja"), "transformers")
    assert chat.chat_template == Path("t.jinja")


def test_an_option_of_another_backend_is_refused_naming_it_and_its_backend() -> None:
    with pytest.raises(EvalkitError) as refused:
        NoEngineOptions.of(_config("openai", tensor_parallel_size=2), "openai")
    message = str(refused.value)
    assert "'tensor_parallel_size' is not an option of the openai backend (an option of the vllm backend)" in message
    assert "The openai backend takes none." in message

    with pytest.raises(EvalkitError) as refused:
        TransformersOptions.of(_config("transformers", enforce_eager=True, dtype="float32"), "transformers")
    message = str(refused.value)
    assert "'enforce_eager' is not an option of the transformers backend (an option of the vllm backend)" in message
    assert "The transformers backend takes: chat_template, dtype, max_model_len (-B key=value)." in message


def test_an_unknown_option_and_a_bad_value_are_both_named() -> None:
    with pytest.raises(EvalkitError) as refused:
        VllmOptions.of(_config(tensor_paralel_size=2, gpu_memory_utilization=1.5), "vllm")
    message = str(refused.value)
    assert (
        "'tensor_paralel_size' is not an option of the vllm backend (did you mean 'tensor_parallel_size'?)" in message
    )
    assert "'gpu_memory_utilization': Input should be less than or equal to 1 (got 1.5)" in message
    assert "tensor_parallel_size" in message.split("takes:")[1]


def test_options_that_change_outputs_enter_the_generation_identity_only_when_set() -> None:
    plain = VllmOptions.of(_config(tensor_parallel_size=2, max_num_seqs=8, enforce_eager=True), "vllm")
    assert plain.generation_options() == {}, "parallelism and batching do not change what a model samples"
    fp8 = VllmOptions.of(_config(kv_cache_dtype="fp8", quantization="fp8"), "vllm")
    assert fp8.generation_options() == {"kv_cache_dtype": "fp8", "quantization": "fp8"}

    engine = {"engine": "vllm", "dtype": "float32", "weights_hash": "w"}
    before = generation_identity("m", "chat", engine)
    assert before == {"model": "m", "api": "chat", "weights_hash": "w", "dtype": "float32"}
    # A run made without such options keeps the identity (and hash) it had before options existed.
    assert identity_hash(generation_identity("m", "chat", {**engine, "generation_options": {}})) == identity_hash(
        before
    )
    after = generation_identity("m", "chat", {**engine, "generation_options": fp8.generation_options()})
    assert differences(before, after) == ["kv_cache_dtype unset -> 'fp8'", "quantization unset -> 'fp8'"]
    # An option never overrides a setting the engine resolved itself.
    assert generation_identity("m", "chat", {**engine, "generation_options": {"dtype": "x"}})["dtype"] == "float32"


def test_vllm_gets_the_options_set_and_keeps_its_defaults_for_the_rest() -> None:
    model = ModelRef(name="org/m", path=None)
    config = _config(tensor_parallel_size=2, kv_cache_dtype="fp8", max_num_seqs=16, enable_prefix_caching=False)
    kwargs = engine_kwargs(config, VllmOptions.of(config, "vllm"), model, "{{ x }}")
    assert kwargs == {
        "model": "org/m",
        "tensor_parallel_size": 2,
        "dtype": "auto",
        "gpu_memory_utilization": 0.9,
        "seed": 0,
        "enforce_eager": False,
        "max_num_seqs": 16,
        "enable_prefix_caching": False,
        "kv_cache_dtype": "fp8",
        "chat_template": "{{ x }}",
    }
    assert "quantization" not in kwargs and "max_model_len" not in kwargs
