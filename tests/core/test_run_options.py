"""`evalkit run`'s options reach the grouped RunConfig; a wrong one is refused (exit 2) by its flag, before
anything is written or any engine starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from evalkit.cli import app
from evalkit.commands.run import run_config_fields
from evalkit.config import RunConfig

# Nothing listens on the discard port: a run that got as far as a request would fail differently.
DEAD = "http://127.0.0.1:9/v1"


def _run(out: Path, *extra: str) -> Result:
    args = ["run", "--model", "m", "--tasks", "aime24", "--limit", "1", "--output", str(out), "--quiet", *extra]
    return CliRunner().invoke(app, args, env={"COLUMNS": "300"})


def _message(result: Result) -> str:
    return " ".join(result.output.split())


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (
            ("--base-url", DEAD, "--tensor-parallel-size", "2"),
            "'tensor_parallel_size' is not an option of the openai backend (an option of the vllm backend)",
        ),
        (
            ("--base-url", DEAD, "-B", "enforce_eager=true", "-B", "dtype=float32"),
            "'enforce_eager' is not an option of the openai backend (an option of the vllm backend); "
            "'dtype' is not an option of the openai backend (an option of the vllm and transformers backends)",
        ),
        (
            ("--backend", "transformers", "--model", "/no/such/model", "--enforce-eager"),
            "'enforce_eager' is not an option of the transformers backend (an option of the vllm backend)",
        ),
        (
            ("--backend", "vllm", "-B", "kv_cache_dtyp=fp8"),
            "'kv_cache_dtyp' is not an option of the vllm backend (did you mean 'kv_cache_dtype'?)",
        ),
        (("--backend", "vllm", "-B", "tensor_parallel_size=two"), "'tensor_parallel_size': Input should be a valid"),
        (("--backend", "replay", "--replay", "x.jsonl", "-B", "seed=1"), "The replay backend takes none."),
        (("--backend", "vllm", "--dtype", "float32", "-B", "dtype=half"), "Engine option 'dtype' is given twice"),
        (("--base-url", DEAD, "-B", "max_num_seqs"), "-B takes key=value (e.g. -B tensor_parallel_size=2)"),
        (("--base-url", DEAD, "--request-timeout", "0"), "--request-timeout: Input should be greater than 0"),
        (("--base-url", DEAD, "--grading-workers", "0"), "--grading-workers: Input should be greater than or equal"),
        (("--base-url", DEAD, "--think-policy", "sometimes"), "--think-policy: Input should be 'auto', 'required'"),
        (("--base-url", DEAD, "--replicas", "0"), "--replicas: Input should be greater than or equal to 1"),
    ],
)
def test_a_wrong_option_is_refused_by_name_before_anything_is_written(
    tmp_path: Path, extra: tuple[str, ...], named: str
) -> None:
    out = tmp_path / "run"
    result = _run(out, *extra)
    assert result.exit_code == 2, result.output
    assert named in _message(result), _message(result)
    assert "Traceback" not in result.output
    assert not out.exists()


def test_the_options_land_in_their_groups() -> None:
    params = {
        "model": "m", "tasks": "aime24", "limit": 2, "data_dir": None, "data_source": "auto",
        "sampling__n": 4, "sampling__temperature": 0.7, "sampling__top_p": None, "sampling__max_tokens": None,
        "sampling__max_tokens_floor": 1024, "sampling__seed": 3, "sampling__send_seed": False,
        "backend__name": "vllm", "backend__base_urls": [], "backend__api": "chat", "backend__concurrency": 8,
        "backend__request_timeout_s": 60.0, "backend__max_retries": 1, "backend__replay": None,
        "backend_options": ["max_num_seqs=16"], "engine__tensor_parallel_size": 2, "engine__dtype": None,
        "engine__max_model_len": None, "engine__gpu_memory_utilization": None,
        "engine__chat_template": Path("t.jinja"), "engine__enforce_eager": True,
        "grading__workers": 2, "grading__think_marker": "</think>", "grading__think_policy": "none",
        "sandbox__name": "docker", "sandbox__unsafe_no_isolation": False,
        "scale__ray": False, "scale__ray_address": "10.0.0.1:6379", "scale__replicas": 2,
        "output": None, "overwrite": False, "quiet": True,
    }  # fmt: skip
    config = RunConfig.model_validate(run_config_fields(params))
    assert (config.limit, config.sampling.n, config.sampling.seed, config.sampling.send_seed) == (2, 4, 3, False)
    assert (config.backend.name, config.backend.concurrency, config.backend.request_timeout_s) == ("vllm", 8, 60.0)
    assert config.backend.options == {
        "max_num_seqs": 16,
        "tensor_parallel_size": 2,
        "chat_template": "t.jinja",
        "enforce_eager": True,
    }, "engine flags left unset are not options: the backend's defaults hold"
    assert (config.grading.workers, config.grading.think_policy, config.sandbox.name) == (2, "none", "docker")
    assert config.scale.ray is True and config.scale.replicas == 2, "--ray-address implies --ray"
    assert "api_key" not in config.model_dump()["backend"]
