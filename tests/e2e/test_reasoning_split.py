"""A server that splits reasoning off (vLLM's `--reasoning-parser deepseek_r1`): the answer is `content`.

vLLM 0.32 returns the thinking in the message field `reasoning`; vLLM before 0.10 and DeepSeek's API
in `reasoning_content`. With either, a gold answer that appears only in the thinking is no answer
(thinking that never closed), and the `content` is what is graded. The real server with the parser
on is tested in tests/vllm_server/test_reasoning_parser.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import pytest

from evalkit.config import BackendConfig, RunConfig, SamplingConfig
from evalkit.registry import module_from_file
from evalkit.runner import run
from evalkit.testing.server import Reply, ScriptedServer

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1].parent / "shared" / "data"


def _splitting_server(field: Literal["reasoning", "reasoning_content"]) -> Any:
    """Even seeds: thinking with a wrong box, the gold in `content`. Odd: the gold only in the thinking."""
    math = module_from_file(HERE / "math_script.py")

    def reply(body: dict[str, Any], attempt: int) -> Reply:
        gold = math.gold_for(body["messages"][-1]["content"])
        if body["seed"] % 2 == 0:
            return Reply(
                reasoning=f"Maybe \\boxed{{{int(gold) + 1}}}?", text=f"So \\boxed{{{gold}}}.", reasoning_field=field
            )
        return Reply(
            reasoning=f"It is \\boxed{{{gold}}}, I think", text=None, reasoning_field=field, finish_reason="length"
        )

    return reply


@pytest.mark.parametrize("field", ["reasoning", "reasoning_content"])
def test_split_reasoning_is_never_graded_and_content_is(
    field: Literal["reasoning", "reasoning_content"], tmp_path: Path
) -> None:
    if not (DATA / "aime24" / "test.jsonl").is_file():
        pytest.skip(f"offline benchmark data not found at {DATA}")
    with ScriptedServer(_splitting_server(field)) as server:
        config = RunConfig(
            model="scripted",
            tasks="aime24",
            backend=BackendConfig(name="openai", base_urls=(server.url,)),
            data_dir=DATA,
            output=tmp_path / "run",
            limit=3,
            sampling=SamplingConfig(n=4),
        )
        run(config, quiet=True)
    rows = {
        (r["sample_id"], r["sample_index"]): r
        for r in map(json.loads, (tmp_path / "run" / "generations.jsonl").read_text().splitlines())
    }
    grades = {
        (g["sample_id"], g["sample_index"]): g
        for g in map(json.loads, (tmp_path / "run" / "grades.jsonl").read_text().splitlines())
    }
    assert len(rows) == len(grades) == 12
    parities = {row["seed"] % 2 for row in rows.values()}
    assert parities == {0, 1}, "both behaviours were exercised"
    for key, row in rows.items():
        assert row["reasoning"] is not None, "the split-off thinking is stored"
        if row["seed"] % 2 == 0:
            assert grades[key]["verdict"] == "correct" and grades[key]["score"] == 1.0
        else:
            assert grades[key]["verdict"] == "unclosed_think" and grades[key]["score"] == 0.0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())["tasks"]["aime24"]
    odd = sum(1 for row in rows.values() if row["seed"] % 2) / 12
    assert summary["rates"]["unclosed_think"] == pytest.approx(odd)
