"""A chat template that opens `<think>` in the prompt makes the run a reasoning run from the start.

Such a model's unfinished thinking carries no tag at all; the engine renders its own prompt, so the
run knows the template opened the thinking and a sample without `</think>` has no answer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evalkit.cli import app

pytestmark = pytest.mark.slow

R1_STYLE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n<think>\n{% endif %}"
)


def test_template_that_opens_thinking_makes_tagless_samples_unclosed(tiny_model_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "data" / "aime24").mkdir(parents=True)
    row = {"id": "2024-I-1", "problem": "What is 2 + 3?", "answer": "5", "solution": "", "url": ""}
    (tmp_path / "data" / "aime24" / "test.jsonl").write_text(json.dumps(row) + "\n")
    template = tmp_path / "r1.jinja"
    template.write_text(R1_STYLE)
    out = tmp_path / "run"
    args = [
        "run", "--model", str(tiny_model_dir), "--backend", "transformers", "--tasks", "aime24", "--n", "2",
        "--limit", "1", "--max-tokens", "6", "--data-dir", str(tmp_path / "data"), "--output", str(out),
        "--chat-template", str(template), "--dtype", "float32", "--quiet",
    ]  # fmt: skip
    result = CliRunner().invoke(app, args, env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["think"]["prompt_opens_think"] is True and manifest["think"]["reasoning_model"] is True
    assert manifest["engine"]["generation_prompt_tail"].endswith("<think>\n")
    grades = [json.loads(x) for x in (out / "grades.jsonl").read_text().splitlines()]
    assert [g["verdict"] for g in grades] == ["unclosed_think", "unclosed_think"]
