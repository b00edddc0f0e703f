"""Engine throughput: evalkit's vLLM backend vs `vllm.LLM.generate`, and the Ray path vs the local one.

Run: `python benchmarks/bench_engines.py [--problems 32] [--n 4] [--max-tokens 64] [--repeats 3]`.
Uses the tiny random Qwen2 of the engine tests (built in a temp dir, nothing downloaded) on the CPU.

1. vLLM: the same engine, the same prompts and the same per-sample seeds, once through
   `VllmAdapter.generate` and once through `LLM.generate` with `SamplingParams(n=N)` per prompt.
   Target: evalkit / direct >= 0.95 in completion tokens per second.
2. Ray: `--replicas 2` on a local Ray cluster vs the local adapter, same requests (transformers
   engine: its replicas start in seconds; vLLM replicas would each need their own 15 s start).
Prints a Markdown table with the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _tiny_model(directory: Path) -> Path:
    from evalkit.registry import module_from_file

    module = module_from_file(ROOT / "tests" / "engines" / "tiny_model.py")
    path: Path = module.build_tiny_model(directory)
    return path


def _requests(problems: int, n: int, max_tokens: int) -> list[Any]:
    from evalkit.seeds import derive_seed, stable_hash
    from evalkit.types import Message, Request, SamplingParams

    params = SamplingParams(temperature=0.6, top_p=0.95, max_tokens=max_tokens)
    out = []
    for p in range(problems):
        content = f"Problem {p}: what is {p} + {p * 7}? " * (1 + p % 5)
        for i in range(n):
            out.append(
                Request(
                    task="bench",
                    task_version="1",
                    sample_id=str(p),
                    sample_index=i,
                    seed=derive_seed(0, "bench", str(p), i),
                    prompt_hash=stable_hash(content),
                    params=params,
                    messages=(Message("user", content),),
                )
            )
    return out


def _through_adapter(adapter: Any, requests: list[Any]) -> tuple[float, int]:
    async def run() -> int:
        return sum([g.completion_tokens or 0 async for g in adapter.generate(requests)])

    started = time.perf_counter()
    tokens = asyncio.run(run())
    return time.perf_counter() - started, tokens


def _direct_vllm(adapter: Any, requests: list[Any], n: int) -> tuple[float, int]:
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    llm = adapter._llm
    firsts = [r for r in requests if r.sample_index == 0]
    # Built before the clock starts, as a user of LLM.generate would have them ready.
    prompts = [TokensPrompt(prompt_token_ids=adapter._prompts.token_ids(r)) for r in firsts]
    params = [
        SamplingParams(
            n=n, temperature=r.params.temperature, top_p=r.params.top_p, max_tokens=r.params.max_tokens, seed=r.seed
        )
        for r in firsts
    ]
    started = time.perf_counter()
    outputs = llm.generate(prompts, params, use_tqdm=False)
    elapsed = time.perf_counter() - started
    return elapsed, sum(len(c.token_ids) for o in outputs for c in o.outputs)


def _best_rate(runs: list[tuple[float, int]]) -> tuple[float, float]:
    rates = [tokens / seconds for seconds, tokens in runs]
    return max(rates), statistics.median(rates)


def bench_vllm(model: Path, args: argparse.Namespace) -> list[tuple[str, float, float]]:
    from evalkit.adapters import vllm_engine
    from evalkit.config import BackendConfig, RunConfig

    options = {"dtype": "float32", "gpu_memory_utilization": 0.2, "enforce_eager": True}
    config = RunConfig(model=str(model), tasks="bench", backend=BackendConfig(name="vllm", options=options))
    adapter = vllm_engine.create(config)
    requests = _requests(args.problems, args.n, args.max_tokens)
    try:
        _through_adapter(adapter, requests[: args.n * 2])  # warm-up
        ours, direct = [], []
        for _ in range(args.repeats):  # interleaved, so drift hits both alike
            ours.append(_through_adapter(adapter, requests))
            direct.append(_direct_vllm(adapter, requests, args.n))
    finally:
        asyncio.run(adapter.aclose())
    best_ours, med_ours = _best_rate(ours)
    best_direct, med_direct = _best_rate(direct)
    return [
        ("vllm.LLM.generate (n per prompt)", best_direct, med_direct),
        ("evalkit --backend vllm", best_ours, med_ours),
    ]


def bench_ray(model: Path, args: argparse.Namespace) -> list[tuple[str, float, float]]:
    import ray

    from evalkit.adapters import transformers_engine
    from evalkit.adapters.ray_replicas import RayReplicaAdapter
    from evalkit.config import BackendConfig, RunConfig, ScaleConfig

    config = RunConfig(
        model=str(model), tasks="bench", backend=BackendConfig(name="transformers", options={"dtype": "float32"})
    )
    requests = _requests(args.problems, args.n, args.max_tokens)
    local = transformers_engine.create(config)
    ray.init(num_cpus=2, include_dashboard=False)
    try:
        replicated = RayReplicaAdapter(
            "transformers", config.model_copy(update={"scale": ScaleConfig(ray=True, replicas=2)})
        )
        _through_adapter(local, requests[: args.n])
        _through_adapter(replicated, requests[: args.n])
        local_runs, ray_runs = [], []
        for _ in range(args.repeats):  # interleaved, so drift (other load on the machine) hits both alike
            local_runs.append(_through_adapter(local, requests))
            ray_runs.append(_through_adapter(replicated, requests))
        asyncio.run(replicated.aclose())
    finally:
        ray.shutdown()
    best_local, med_local = _best_rate(local_runs)
    best_ray, med_ray = _best_rate(ray_runs)
    return [
        ("transformers, local (1 engine)", best_local, med_local),
        ("transformers, Ray --replicas 2", best_ray, med_ray),
    ]


def _table(title: str, rows: list[tuple[str, float, float]]) -> str:
    base_best, base_median = rows[0][1], rows[0][2]
    lines = [
        f"### {title}",
        "",
        "| path | tokens/s (best) | tokens/s (median) | ratio (best) | ratio (median) |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {name} | {best:,.0f} | {med:,.0f} | {best / base_best:.3f} | {med / base_median:.3f} |"
        for name, best, med in rows
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=32)
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip", choices=["vllm", "ray"], action="append", default=[])
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        model = _tiny_model(Path(tmp) / "tiny")
        tables = []
        if "vllm" not in args.skip:
            tables.append(_table("vLLM backend vs LLM.generate (target ratio >= 0.95)", bench_vllm(model, args)))
        if "ray" not in args.skip:
            tables.append(_table("Ray path vs local path", bench_ray(model, args)))
    workload = f"{args.problems} problems x n={args.n}, max_tokens={args.max_tokens}, tiny Qwen2 on CPU"
    print(f"\nWorkload: {workload}\n\n" + "\n\n".join(tables))


if __name__ == "__main__":
    main()
