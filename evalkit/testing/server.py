"""A scripted OpenAI-compatible server for tests, benchmarks and the fault suite.

A *script* decides every reply: `script(body, attempt) -> Reply`, where `body` is the parsed JSON of
the request and `attempt` counts earlier requests with the same body (0 the first time), so a test
can fail the first attempts and succeed later. Faults (`Reply.fault`) exercise a client's retries:

- "400", "429", "500", "503": that HTTP status (429 with Retry-After when `retry_after` is set);
- "timeout": no answer at all (the handler waits until the client gives up and disconnects);
- "reset": headers and half the body, then the connection is aborted;
- "malformed": status 200 with truncated JSON; "empty_choices": status 200 with `"choices": []`;
- "trickle": the valid reply, sent in small pieces spread over `delay_s` (1 s when that is 0).

An HTTP fault's error message is `Reply.message` when set, so a script can answer with a real server's
wording (e.g. vLLM's context-length errors).

Without a fault the reply leaves `delay_s` seconds after the request arrived. `n > 1` is served by
calling the script once per choice i with a copy of the body whose "n" is 1 and whose integer
"seed" is `seed + i` (choices share the attempt number); the first fault among the choices applies
to the response. GET /v1/models lists the server's `model` (nothing when unnamed) with its
`max_model_len`; with `tokenize=True` the server also answers vLLM's POST /tokenize (the prompt's
word count, the same count its usage reports). GET /_evalkit/stats reports `request_count` and
`tokenize_count`.

The server runs on aiohttp (imported only when a server starts). `ScriptedServer` runs it in a
thread of the calling process for a callable script, or in a child process
(`python -m evalkit.testing.server --script SPEC`) for a "module:function" or "path/file.py:function"
string: that keeps a busy server from starving the client of CPU in benchmarks, and lets
subprocess tests (kill -9 of a real run) share one server. The child stops when its parent dies.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import importlib
import json
import os
import selectors
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import httpx

from evalkit.errors import EvalkitError
from evalkit.registry import module_from_file
from evalkit.testing.processes import importable_env

if TYPE_CHECKING:
    from aiohttp import web

Fault = Literal["400", "429", "500", "503", "timeout", "reset", "malformed", "empty_choices", "trickle"]

STATS_PATH = "/_evalkit/stats"
# A "timeout" fault holds the request this long at most; clients disconnect well before.
_HANG_S = 3600.0
_TRICKLE_PIECES = 16


@dataclass(frozen=True)
class Reply:
    """What the scripted server answers to one request (or one choice when n > 1).

    `completion_tokens` defaults to the word count of text and reasoning, `prompt_tokens` to the
    word count of the prompt. `reasoning`, when not None, is sent in the message field
    `reasoning_field`: `reasoning_content` (vLLM before 0.10, DeepSeek's API) or `reasoning` (newer
    vLLM). `message` is the error message of an HTTP fault.
    """

    text: str | None = ""
    reasoning: str | None = None
    finish_reason: str = "stop"
    completion_tokens: int | None = None
    prompt_tokens: int | None = None
    delay_s: float = 0.0
    fault: Fault | None = None
    retry_after: float | None = None
    message: str | None = None
    reasoning_field: Literal["reasoning_content", "reasoning"] = "reasoning_content"


Script = Callable[[dict[str, Any], int], Reply]


def load_script(spec: str) -> Script:
    """Resolve "package.module:function" or "path/to/file.py:function" to the script function."""
    target, sep, attr = spec.rpartition(":")
    if not sep or not target or not attr:
        raise EvalkitError(f"Script '{spec}' must look like 'package.module:function' or 'file.py:function'.")
    if target.endswith(".py"):
        path = Path(target).resolve()
        if not path.is_file():
            raise EvalkitError(f"Script file '{path}' does not exist. Pass an existing .py file.")
        module = module_from_file(path)
    else:
        module = importlib.import_module(target)
    script = getattr(module, attr, None)
    if not callable(script):
        raise EvalkitError(f"Script '{spec}': '{attr}' is not a function of {target}.")
    return script  # type: ignore[no-any-return]


def _words(value: Any) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(_words(item.get("content") if isinstance(item, dict) else item) for item in value)
    return 0


class _App:
    """The request handlers and the per-body attempt counters of one server."""

    def __init__(self, script: Script, model: str | None, max_model_len: int = 32768, tokenize: bool = False) -> None:
        self.script = script
        self.model = model
        self.max_model_len = max_model_len
        self.tokenize = tokenize
        self.request_count = 0
        self.tokenize_count = 0
        self._attempts: dict[bytes, int] = {}

    def build(self) -> web.Application:
        from aiohttp import web

        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/completions", self._completions)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get(STATS_PATH, self._stats)
        if self.tokenize:
            app.router.add_post("/tokenize", self._tokenize)
        return app

    async def _tokenize(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        self.tokenize_count += 1
        body = await request.json()
        count = _words(body.get("messages") if "messages" in body else body.get("prompt"))
        return web.json_response({"count": count, "max_model_len": self.max_model_len, "tokens": []})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        return await self._complete(request, chat=True)

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        return await self._complete(request, chat=False)

    async def _models(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        # An unnamed server lists no models, which clients read as "serves whatever is asked".
        data = [] if self.model is None else [_model_card(self.model, self.max_model_len)]
        return web.json_response({"object": "list", "data": data})

    async def _stats(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        return web.json_response({"request_count": self.request_count, "tokenize_count": self.tokenize_count})

    async def _complete(self, request: web.Request, *, chat: bool) -> web.StreamResponse:
        from aiohttp import web

        # The delay counts from the request's arrival, so the server's own work is not added to it.
        arrived = asyncio.get_running_loop().time()
        self.request_count += 1
        raw = await request.read()
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("the request body is not a JSON object")
        except ValueError as exc:
            return _error(400, f"invalid JSON body: {exc}")
        key = hashlib.blake2b(json.dumps(body, sort_keys=True).encode(), digest_size=16).digest()
        attempt = self._attempts.get(key, 0)
        self._attempts[key] = attempt + 1
        n = body.get("n") or 1
        if not isinstance(n, int) or n < 1:
            return _error(400, f"n must be a positive integer, got {n!r}")
        try:
            replies = [self.script(_choice_body(body, i, n), attempt) for i in range(n)]
        except Exception:
            # A broken script is a bug in the test: say so loudly on both ends.
            traceback.print_exc()
            return _error(500, f"script error: {traceback.format_exc(limit=3)}")
        fault = next((r.fault for r in replies if r.fault is not None), None)
        delay = max(r.delay_s for r in replies)
        payload = _payload(body, replies, chat=chat, empty=fault == "empty_choices", serial=self.request_count)
        if fault == "timeout":
            await asyncio.sleep(_HANG_S)
        if fault != "trickle":
            await asyncio.sleep(max(0.0, arrived + delay - asyncio.get_running_loop().time()))
        if fault in ("400", "429", "500", "503"):
            headers = {}
            retry_after = next((r.retry_after for r in replies if r.retry_after is not None), None)
            if fault == "429" and retry_after is not None:
                headers["Retry-After"] = f"{retry_after:g}"
            message = next((r.message for r in replies if r.message is not None), f"scripted fault {fault}")
            return _error(int(fault), message, headers)
        if fault is None or fault == "empty_choices":
            return web.Response(body=payload, content_type="application/json")
        if fault == "malformed":
            return web.Response(body=payload[: len(payload) // 2], content_type="application/json")
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = len(payload)
        await response.prepare(request)
        if fault == "reset":
            await response.write(payload[: len(payload) // 2])
            if request.transport is not None:
                request.transport.abort()
            return response
        step = -(-len(payload) // _TRICKLE_PIECES)
        pause = (delay or 1.0) / _TRICKLE_PIECES
        for start in range(0, len(payload), step):
            await asyncio.sleep(pause)
            await response.write(payload[start : start + step])
        await response.write_eof()
        return response


def _choice_body(body: dict[str, Any], index: int, n: int) -> dict[str, Any]:
    if n == 1:
        return body
    seed = body.get("seed")
    choice = {**body, "n": 1}
    if isinstance(seed, int):
        choice["seed"] = seed + index
    return choice


def _model_card(model: str, max_model_len: int) -> dict[str, Any]:
    return {
        "id": model,
        "object": "model",
        "owned_by": "evalkit-testing",
        "root": model,
        "max_model_len": max_model_len,
    }


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    from aiohttp import web

    body = {"error": {"message": message, "type": "scripted", "code": status}}
    return web.json_response(body, status=status, headers=headers)


def _payload(body: dict[str, Any], replies: Sequence[Reply], *, chat: bool, empty: bool, serial: int) -> bytes:
    choices: list[dict[str, Any]] = []
    for i, r in enumerate(replies):
        if chat:
            message: dict[str, Any] = {"role": "assistant", "content": r.text}
            if r.reasoning is not None:
                message[r.reasoning_field] = r.reasoning
            choices.append({"index": i, "message": message, "finish_reason": r.finish_reason})
        else:
            choices.append({"index": i, "text": r.text, "finish_reason": r.finish_reason})
    completion = sum(
        r.completion_tokens if r.completion_tokens is not None else _words(r.text) + _words(r.reasoning)
        for r in replies
    )
    prompt = replies[0].prompt_tokens
    if prompt is None:
        prompt = _words(body.get("messages") if chat else body.get("prompt"))
    return json.dumps(
        {
            "id": f"scripted-{serial}",
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": body.get("model"),
            "choices": [] if empty else choices,
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        }
    ).encode()


async def _start(app: _App, host: str, port: int) -> tuple[web.AppRunner, str]:
    from aiohttp import web

    # handler_cancellation: a "timeout" handler ends when its client disconnects.
    runner = web.AppRunner(app.build(), access_log=None, handler_cancellation=True, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=4096)
    await site.start()
    bound_port = runner.addresses[0][1]
    return runner, f"http://{host}:{bound_port}/v1"


class ScriptedServer:
    """A scripted OpenAI-compatible server on `host`, started and stopped as a context manager.

    `script` is a callable (served from a thread of this process) or a "module:function" /
    "file.py:function" string (served from a child process). `process=True` forces a child process
    for a module-level callable. `model`, when set, is the one model GET /v1/models lists, with
    `max_model_len` as its context; `tokenize=True` serves POST /tokenize as vLLM does.

        with ScriptedServer(lambda body, attempt: Reply(text="42")) as server:
            ...  # point a client at server.url ("http://127.0.0.1:PORT/v1")
    """

    def __init__(
        self,
        script: Script | str,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        model: str | None = None,
        process: bool | None = None,
        max_model_len: int = 32768,
        tokenize: bool = False,
    ) -> None:
        self.script = script
        self.host = host
        self.port = port
        self.model = model
        self.max_model_len = max_model_len
        self.tokenize = tokenize
        self.process = isinstance(script, str) if process is None else process
        self._url: str | None = None
        self._app: _App | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        """The base URL clients use, ending in /v1."""
        if self._url is None:
            raise RuntimeError("The scripted server is not running; use it as a context manager.")
        return self._url

    @property
    def request_count(self) -> int:
        """How many completion requests (faulted ones included) the server has received."""
        return self._stat("request_count")

    @property
    def tokenize_count(self) -> int:
        """How many POST /tokenize requests the server has received."""
        return self._stat("tokenize_count")

    def _stat(self, name: str) -> int:
        if self._app is not None:
            return int(getattr(self._app, name))
        stats = httpx.get(self.url.removesuffix("/v1") + STATS_PATH, timeout=10).json()
        return int(stats[name])

    def __enter__(self) -> ScriptedServer:
        if self.process:
            self._start_process()
        else:
            self._start_thread()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            for pipe in (self._proc.stdin, self._proc.stdout):
                if pipe is not None:
                    pipe.close()
            self._proc = None
        if self._loop is not None and self._thread is not None:
            if self._runner is not None:
                asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()
            self._loop = self._thread = self._runner = None
        self._url = None

    def _start_thread(self) -> None:
        script = load_script(self.script) if isinstance(self.script, str) else self.script
        self._app = _App(script, self.model, self.max_model_len, self.tokenize)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="scripted-server", daemon=True)
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(_start(self._app, self.host, self.port), self._loop)
        try:
            self._runner, self._url = future.result(timeout=30)
        except BaseException:
            self.stop()
            raise

    def _start_process(self) -> None:
        spec = self.script
        if not isinstance(spec, str):
            spec = f"{spec.__module__}:{spec.__qualname__}"
        cmd = [sys.executable, "-m", "evalkit.testing.server", "--script", spec, "--host", self.host]
        cmd += ["--port", str(self.port), "--exit-on-stdin-eof", "--max-model-len", str(self.max_model_len)]
        cmd += (["--model", self.model] if self.model else []) + (["--tokenize"] if self.tokenize else [])
        env = importable_env()  # the child must import this same evalkit even when it is not installed
        # The child holds the read end of a pipe only we write to: if this process dies (even by
        # kill -9) the pipe closes and the server stops instead of lingering.
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        assert self._proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self._proc.stdout, selectors.EVENT_READ)
            ready = sel.select(timeout=30)
        line = self._proc.stdout.readline().strip() if ready else ""
        if not line.startswith("http"):
            self.stop()
            raise RuntimeError(f"The scripted server process did not start (command: {' '.join(cmd)}).")
        self._url = line


def main(argv: Sequence[str] | None = None) -> None:
    """Serve a script until killed; print the base URL on the first line of stdout."""
    parser = argparse.ArgumentParser(
        prog="python -m evalkit.testing.server",
        description="Scripted OpenAI-compatible server for tests (example: --script mypkg.scripts:echo).",
    )
    parser.add_argument("--script", required=True, help="'package.module:function' or 'file.py:function'")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--model", default=None, help="the model GET /v1/models lists (default: none)")
    parser.add_argument("--max-model-len", type=int, default=32768, help="the listed model's context length")
    parser.add_argument("--tokenize", action="store_true", help="serve POST /tokenize (word counts) as vLLM does")
    parser.add_argument(
        "--exit-on-stdin-eof", action="store_true", help="stop when stdin closes (the parent process ended)"
    )
    args = parser.parse_args(argv)
    app = _App(load_script(args.script), args.model, args.max_model_len, args.tokenize)

    async def serve() -> None:
        runner, url = await _start(app, args.host, args.port)
        print(url, flush=True)
        stop = asyncio.Event()
        if args.exit_on_stdin_eof:
            fd = sys.stdin.fileno()
            asyncio.get_running_loop().add_reader(fd, lambda: None if os.read(fd, 4096) else stop.set())
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    import signal

    # SIGTERM (ScriptedServer.stop, kill) ends the server like Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    main()
