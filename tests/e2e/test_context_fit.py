"""`evalkit run` with the default --max-tokens against a server whose context is 2,048 tokens.

The scripted server answers the way vLLM 0.32 does (seen with the real server, tests/vllm_server/):
max_tokens above the context is an HTTP 400 naming it, and /tokenize counts a prompt. Before the
fitting, every request of such a run was rejected. Also here: --no-send-seed on a rerun resumes the
same run directory, and identical completions are still flagged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from evalkit.cli import app
from evalkit.testing.server import Reply, ScriptedServer

CONTEXT = 2048
DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _prompt_words(body: dict[str, Any]) -> int:
    return sum(len(m["content"].split()) for m in body["messages"])


class VllmLike:
    """vLLM 0.32's handling of max_tokens; the answer text depends on the seed when one is sent."""

    def __init__(self, fail_seeds: bool = False) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.fail_seeds = fail_seeds

    def __call__(self, body: dict[str, Any], attempt: int) -> Reply:
        self.bodies.append(body)
        if body["max_tokens"] > CONTEXT:
            message = f"max_tokens={body['max_tokens']} cannot be greater than max_model_len={CONTEXT}."
            return Reply(fault="400", message=message)
        if self.fail_seeds and "seed" in body:
            return Reply(fault="400", message="seeded sampling is not supported here")
        budget = min(body["max_tokens"], CONTEXT - _prompt_words(body))
        return Reply(text=f"<think>t</think>\\boxed{{{body.get('seed', 1)}}}", completion_tokens=min(budget, 5))


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


@pytest.fixture(autouse=True)
def _data() -> None:
    if not (DATA / "aime24" / "test.jsonl").is_file():
        pytest.skip(f"offline benchmark data not found at {DATA} (../shared/data)")


def _run(*args: str) -> Any:
    common = ["--model", "m", "--tasks", "aime24", "--limit", "2", "--n", "2", "--data-dir", str(DATA)]
    return CliRunner().invoke(app, ["run", *common, *args])


def test_default_max_tokens_is_fitted_to_a_2048_token_server(tmp_path: Path) -> None:
    script = VllmLike()
    with ScriptedServer(script, model="m", max_model_len=CONTEXT, tokenize=True) as server:
        result = _run("--base-url", server.url, "--output", str(tmp_path / "run"))
    assert result.exit_code == 0, result.output
    rows = _rows(tmp_path / "run" / "generations.jsonl")
    assert len(rows) == 4 and all(r["error"] is None for r in rows), [r["error"] for r in rows]
    assert all(r["max_tokens"] == CONTEXT - r["prompt_tokens"] for r in rows)
    assert sorted(b["max_tokens"] for b in script.bodies) == sorted(r["max_tokens"] for r in rows)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    stats = summary["tasks"]["aime24"]["stats"]
    assert summary["complete"] is True
    assert stats["max_tokens"] == 32768 and stats["max_tokens_fitted"] == 4
    assert stats["min_max_tokens"] == min(r["max_tokens"] for r in rows)
    output = " ".join(result.output.split())
    assert "max tokens fitted to the model's context for 4 of 4 samples" in output
    assert "aime24: max tokens fitted to the model's context for 4 samples" in output


def test_too_little_room_is_refused_with_exit_2_before_any_request(tmp_path: Path) -> None:
    with ScriptedServer(VllmLike(), model="m", max_model_len=CONTEXT, tokenize=True) as server:
        result = _run("--base-url", server.url, "--output", str(tmp_path / "run"), "--max-tokens-floor", "2040")
        assert server.request_count == 0
    assert result.exit_code == 2, result.output
    message = " ".join(result.stderr.split())
    assert "4 of 4 samples leave too little room to generate, so nothing was sent" in message
    assert "the context of 2,048 tokens leaves" in message and "below the floor of 2,040" in message
    assert "Raise the server's --max-model-len to at least" in message
    assert _rows(tmp_path / "run" / "generations.jsonl") == []


def test_a_rerun_without_seeds_resumes_the_same_run_and_duplicates_are_still_flagged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the default run directory, results/<model>-<time>, lands here
    script = VllmLike(fail_seeds=True)
    with ScriptedServer(script, model="m", max_model_len=CONTEXT, tokenize=True) as server:
        first = _run("--base-url", server.url)
        assert first.exit_code == 3, first.output  # incomplete: every seeded request was refused
        (run_dir,) = (tmp_path / "results").iterdir()
        assert all(r["error"] for r in _rows(run_dir / "generations.jsonl"))
        second = _run("--base-url", server.url, "--no-send-seed")
    assert second.exit_code == 0, second.output
    assert [p.name for p in (tmp_path / "results").iterdir()] == [run_dir.name], "the same run was resumed"
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["config"]["sampling"]["send_seed"] is False
    resent = [b for b in script.bodies if b["max_tokens"] > 1 and "seed" not in b]
    assert len(resent) == 4
    # Without seeds this server answers both samples of a problem alike: the detector still sees it.
    stats = json.loads((run_dir / "summary.json").read_text())["tasks"]["aime24"]["stats"]
    assert stats["duplicate_completions"] == 2
