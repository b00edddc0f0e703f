"""Peak memory of `evalkit grade RUN_DIR` on runs of 10k, 50k and 100k stored samples of ~20 kB: it stays flat.

The run directories are written here in the run-directory format (manifest.json with the run's config,
generations.jsonl): MATH-500 with n=200 on the first 50, 250 and 500 problems, each row a ~20 kB
response (thinking, then a boxed answer that is the gold or one of three wrong answers of its
problem). Each `python -m evalkit.cli grade RUN_DIR --quiet` runs as a child process:

- peak RSS of the evalkit process: the kernel's high-water mark (ru_maxrss from os.wait4);
- peak RSS of its whole process tree (grading workers included): sampled from /proc every 0.1 s.

The baseline is `evalkit tasks` (the same interpreter and imports, no grading). Ratios are against the
smallest run, so a flat memory profile shows as ratios near 1 while the data grows 10x.

Run: python benchmarks/bench_memory.py [--sizes 10000 50000 100000] [--kb 20]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from evalkit.config import BackendConfig, RunConfig
from evalkit.plan import plan_run
from evalkit.types import Generation

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[1] / "shared" / "data"
N = 200
SAMPLE_INTERVAL_S = 0.1


@dataclass(frozen=True)
class Peak:
    name: str
    samples: int
    data_mb: float
    seconds: float
    main_mb: float
    tree_mb: float


def _config(data_dir: Path, problems: int, out: Path) -> RunConfig:
    return RunConfig(
        model="bench",
        tasks=f"math500@n={N}",
        backend=BackendConfig(name="openai", base_urls=("http://127.0.0.1:9/v1",)),
        data_dir=data_dir,
        limit=problems,
        output=out,
    )


def write_run(data_dir: Path, samples: int, kb: int, out: Path) -> float:
    """Write a finished-generation run directory of `samples` rows of about `kb` kB; return its size in MB."""
    problems = samples // N
    if problems * N != samples or not 1 <= problems <= 500:
        raise SystemExit(f"--sizes must be multiples of {N} up to {500 * N}, got {samples}")
    config = _config(data_dir, problems, out)
    (pt,) = plan_run(config, data_dir)
    rng = random.Random(0)
    words = ["Let", "me", "check", "the", "case", "$n=2$", "again;", "so", "\\frac{1}{2}", "fits.", "Wait,", "no."]
    # Rows differ from one another (a sliding window over a long text) without costing a random draw each.
    filler = " ".join(rng.choice(words) for _ in range(kb * 1024 // 2))
    width = kb * 1024 - 200
    out.mkdir(parents=True)
    (out / "manifest.json").write_text(
        json.dumps({"run_id": out.name, "config": config.model_dump(mode="json"), "status": "complete"})
    )
    with (out / "generations.jsonl").open("w", encoding="utf-8") as handle:
        for i, req in enumerate(pt.requests(config.sampling.seed)):
            sample = pt.sample(req.sample_id)
            pick = (i * 7919) % 8
            answer = sample.target if pick < 4 else str(len(sample.input) % 97 + pick)
            start = (i * 131) % (len(filler) - width)
            text = f"<think>{filler[start : start + width]}</think>\n\nThe final answer is $\\boxed{{{answer}}}$."
            gen = Generation(
                task=req.task,
                task_version=req.task_version,
                sample_id=req.sample_id,
                sample_index=req.sample_index,
                seed=req.seed,
                prompt_hash=req.prompt_hash,
                text=text,
                finish_reason="stop",
                prompt_tokens=100,
                completion_tokens=len(text) // 4,
                latency_s=1.0,
            )
            handle.write(json.dumps({**gen.to_dict(), "params_hash": pt.params_hash, "identity_hash": "bench"}) + "\n")
    return (out / "generations.jsonl").stat().st_size / 1e6


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                out += [int(c) for c in handle.read().split()]
    except OSError:
        pass
    return out


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree_rss_kb(root: int) -> int:
    total, stack, seen = 0, [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _rss_kb(pid)
        stack += _children(pid)
    return total


def peak_memory(name: str, cmd: list[str], samples: int, data_mb: float) -> Peak:
    """Run `cmd`, sampling its tree's RSS, and return its peaks (the main one from the kernel)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    tree_kb = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        tree_kb = max(tree_kb, _tree_rss_kb(proc.pid))
        time.sleep(SAMPLE_INTERVAL_S)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"`{' '.join(cmd)}` failed ({proc.returncode}):\n{err[-3000:]}")
    main_mb = usage.ru_maxrss / 1024  # kB on Linux
    return Peak(name, samples, data_mb, elapsed, main_mb, max(tree_kb / 1024, main_mb))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("EVALKIT_DATA_DIR", DEFAULT_DATA)))
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--kb", type=int, default=20, help="size of each stored response in kB")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    data_dir = args.data_dir.resolve()
    if not (data_dir / "math500" / "test.jsonl").is_file():
        print(f"error: {data_dir} has no math500/test.jsonl; pass --data-dir", file=sys.stderr)
        return 2
    load = os.getloadavg()[0]
    cli = [sys.executable, "-m", "evalkit.cli"]
    peaks = [peak_memory("`evalkit tasks` (baseline: interpreter and imports)", [*cli, "tasks"], 0, 0.0)]
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        for samples in sorted(args.sizes):
            run_dir = Path(tmp) / f"run-{samples}"
            data_mb = write_run(data_dir, samples, args.kb, run_dir)
            cmd = [*cli, "grade", str(run_dir), "--quiet", "--workers", str(args.workers)]
            peak = peak_memory(f"`evalkit grade`, {samples:,} samples", cmd, samples, data_mb)
            peaks.append(peak)
            print(
                f"{samples} samples ({data_mb:.0f} MB): {peak.seconds:.1f} s, peak RSS {peak.main_mb:.0f} MB "
                f"(tree {peak.tree_mb:.0f} MB)",
                flush=True,
            )
            graded = sum(1 for _ in (run_dir / "grades.jsonl").open())
            if graded != samples:
                raise SystemExit(f"{run_dir}: {graded} grade rows for {samples} samples")
            # Each run is deleted before the next is written, so the disk holds one at a time.
            shutil.rmtree(run_dir)
    base, smallest = peaks[0], peaks[1]
    print(f"\nRe-grading MATH-500 runs (n={N}) of ~{args.kb} kB responses, {args.workers} grading workers\n")
    print(
        "| what | samples | generations.jsonl MB | wall s | peak RSS, evalkit process MB | peak RSS, process tree MB "
        f"| evalkit process vs {smallest.samples:,} | process tree vs {smallest.samples:,} |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for p in peaks:
        ratio_main = p.main_mb / smallest.main_mb
        ratio_tree = p.tree_mb / smallest.tree_mb
        print(
            f"| {p.name} | {p.samples:,} | {p.data_mb:,.0f} | {p.seconds:.1f} | {p.main_mb:.0f} | {p.tree_mb:.0f} "
            f"| {ratio_main:.2f} | {ratio_tree:.2f} |"
        )
    growth = peaks[-1].main_mb - smallest.main_mb
    print(
        f"\nFrom {smallest.samples:,} to {peaks[-1].samples:,} samples the evalkit process's peak grows by "
        f"{growth:.0f} MB; the interpreter and imports alone take {base.main_mb:.0f} MB."
    )
    print(f"1-minute load average before / after: {load:.1f} / {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
