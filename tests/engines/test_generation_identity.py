"""Engine settings that change what a model generates are part of a run's generation identity.

A rerun with another dtype or chat template must not reuse samples made with the old one, and must
not rewrite the manifest to describe settings the stored generations never used: it is refused,
naming each setting with its old and new value, unless --overwrite.
"""

from __future__ import annotations

import json
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
