"""Run every benchmark and write one Markdown report with the machine it ran on.

    python benchmarks/run_all.py                      # full sizes, about 10 minutes on 2 cores
    python benchmarks/run_all.py --quick              # smaller sizes, a few minutes
    python benchmarks/run_all.py --output benchmarks/README.md
    python benchmarks/run_all.py --only pipeline resume

Each benchmark is a standalone script in this folder that prints Markdown tables whose figures are
ratios against a baseline measured in the same run. Here each runs as a child process in its own
session with a time budget (the whole process group is killed when it overruns), its tables are
collected, and the report records its command, wall time and status. A `bench_*.py` that is not
listed below still runs, with its default options and DEFAULT_BUDGET_S.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_BUDGET_S = 120.0
# The whole suite must finish in 15 minutes on the 2-core reference machine; this leaves a margin.
TOTAL_BUDGET_S = 14 * 60.0


@dataclass(frozen=True)
class Bench:
    """One benchmark script, its options at full and quick size, and its time budget (seconds)."""

    name: str
    title: str
    full: list[str] = field(default_factory=list)
    quick: list[str] = field(default_factory=list)
    budget_s: float = DEFAULT_BUDGET_S
    quick_budget_s: float = DEFAULT_BUDGET_S

    @property
    def script(self) -> Path:
        return HERE / f"bench_{self.name}.py"


BENCHES = [
    Bench(
        "client",
        "Generation client: requests/s vs concurrency/latency and vs raw aiohttp",
        ["--requests", "2000", "--concurrency", "64", "256", "--sizes", "2k", "16k", "--repeat", "2"],
        ["--requests", "500", "--concurrency", "64", "256", "--sizes", "2k", "--repeat", "1"],
        120,
        60,
    ),
    Bench(
        "pipeline",
        "End to end: pipelined grading vs generation alone",
        ["--limit", "128", "--n", "4", "--rounds", "2"],
        ["--limit", "32", "--n", "4", "--rounds", "1"],
        120,
        60,
    ),
    Bench(
        "math_grading",
        "Math grading vs a single-process math-verify loop",
        ["--rounds", "2"],
        ["--rounds", "1"],
        120,
        90,
    ),
    Bench("ifeval", "IFEval grading vs lm-eval", ["--n", "4", "--rounds", "2"], ["--n", "1", "--rounds", "1"], 90, 60),
    Bench(
        "sandbox",
        "Code execution: local sandbox vs a bare process",
        ["--solutions", "1000", "--tests", "20", "--repeat", "5"],
        ["--solutions", "100", "--tests", "20", "--many", "100", "--repeat", "3"],
        150,
        60,
    ),
    Bench(
        "livecodebench",
        "LiveCodeBench: loading only the window's files, tests stored once, fast top-level locals",
        ["--scale", "50", "--repeat", "3"],
        ["--scale", "200", "--repeat", "1", "--loop", "2000000"],
        120,
        60,
    ),
    Bench(
        "resume",
        "Resume of finished runs of growing size",
        ["--sizes", "30", "120", "500", "--repeat", "2"],
        ["--sizes", "30", "120", "--repeat", "1"],
        240,
        90,
    ),
    Bench(
        "memory",
        "Peak memory while re-grading 10k, 50k and 100k samples of 20 kB",
        ["--sizes", "10000", "50000", "100000"],
        ["--sizes", "2000", "10000", "20000"],
        300,
        90,
    ),
    Bench(
        "engines",
        "vLLM backend vs vLLM called directly; Ray path vs local path",
        # Mostly engine start-up (vLLM about 15 s, Ray, transformers); more problems add little.
        ["--problems", "8", "--n", "4", "--max-tokens", "64", "--repeats", "2"],
        ["--problems", "8", "--n", "4", "--max-tokens", "32", "--repeats", "1"],
        180,
        150,
    ),
    Bench(
        "vllm_server",
        "evalkit's client vs plain aiohttp against a real vLLM server",
        # About a third is the server's start-up (30-60 s on 2 cores).
        ["--requests", "256", "--concurrency", "8", "32", "--repeat", "3"],
        ["--requests", "128", "--concurrency", "16", "--repeat", "2"],
        240,
        150,
    ),
]


@dataclass
class Outcome:
    bench: Bench
    command: list[str]
    status: str
    seconds: float
    stdout: str
    stderr: str


def machine() -> list[tuple[str, str]]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        ("date (UTC)", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")),
        ("CPU", cpu),
        ("cores", str(os.cpu_count())),
        ("memory", f"{memory_gib:.1f} GiB"),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("load average at start (1, 5, 15 min)", load),
        ("evalkit commit", _git_commit()),
    ]


def _git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} (with uncommitted changes)" if dirty else head


def discover(only: list[str] | None) -> list[Bench]:
    """The listed benchmarks, then any other bench_*.py of this folder, filtered by `only`."""
    known = {b.name for b in BENCHES}
    extra = [
        Bench(p.stem.removeprefix("bench_"), p.stem.removeprefix("bench_").replace("_", " "))
        for p in sorted(HERE.glob("bench_*.py"))
        if p.stem.removeprefix("bench_") not in known
    ]
    found = [b for b in [*BENCHES, *extra] if b.script.is_file()]
    if only:
        unknown = sorted(set(only) - {b.name for b in found})
        if unknown:
            names = ", ".join(b.name for b in found)
            raise SystemExit(f"error: unknown benchmark(s) {', '.join(unknown)}; known: {names}")
        found = [b for b in found if b.name in only]
    return found


def run_one(bench: Bench, quick: bool, budget_s: float) -> Outcome:
    """Run one benchmark script in its own session; kill its whole process group if it overruns."""
    command = [sys.executable, str(bench.script), *(bench.quick if quick else bench.full)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    # A killed benchmark cannot clean up its temporary run directories (gigabytes for the memory
    # benchmark), so each gets its own TMPDIR, removed here whatever happened.
    with tempfile.TemporaryDirectory(prefix=f"evalkit-bench-{bench.name}-") as tmp:
        env["TMPDIR"] = tmp
        start = time.perf_counter()
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = proc.communicate(timeout=budget_s)
            status = "ok" if proc.returncode == 0 else f"failed (exit code {proc.returncode})"
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            status = f"timed out after {budget_s:.0f} s"
        seconds = time.perf_counter() - start
    return Outcome(bench, command, status, seconds, stdout, stderr)


def tables_of(stdout: str) -> str:
    """The report part of a benchmark's output: from the paragraph before its first table onward.

    Progress lines printed while it runs come first and are left out. Headings above level 3 are
    moved down to 3, so they sit under the benchmark's own section.
    """
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", stdout) if p.strip()]
    first = next((i for i, p in enumerate(paragraphs) if p.lstrip().startswith("|")), None)
    if first is None:
        return ""
    if first > 0 and not paragraphs[first - 1].lstrip().startswith("|"):
        first -= 1
    kept = paragraphs[first:]
    return "\n\n".join(re.sub(r"^#{1,2} ", "### ", p, flags=re.MULTILINE) for p in kept)


def report(outcomes: list[Outcome], info: list[tuple[str, str]], quick: bool, total_s: float) -> str:
    lines = [
        "# evalkit benchmarks",
        "",
        "Written by `python benchmarks/run_all.py"
        + (" --quick" if quick else "")
        + "`. Each table sets its figures against a baseline measured in the same run, on the same data and "
        "machine, as ratios; absolute rates depend on the machine and on whatever else it was doing (see the "
        "load average).",
        "",
        "Run them all with `python benchmarks/run_all.py [--quick] [--output benchmarks/README.md]`, or any "
        "`benchmarks/bench_*.py` alone (`--help` lists its options; the command of each section below "
        "reproduces it).",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in info],
        "",
        f"## Summary ({'quick' if quick else 'full'} sizes, {total_s / 60:.1f} min in total)",
        "",
        "| benchmark | status | wall s |",
        "|---|---|---:|",
        *[f"| [{o.bench.title}](#{o.bench.name}) | {o.status} | {o.seconds:.0f} |" for o in outcomes],
    ]
    for o in outcomes:
        rel = " ".join(["benchmarks/" + o.bench.script.name, *o.command[2:]])
        lines += ["", f'<a id="{o.bench.name}"></a>', "", f"## {o.bench.title}", "", f"`python {rel}`", ""]
        body = tables_of(o.stdout)
        if body:
            lines.append(body)
        if o.status != "ok":
            lines += ["", f"**{o.status}.**"]
            for stream, text in (("stdout", o.stdout), ("stderr", o.stderr)):
                tail = "\n".join(text.strip().splitlines()[-15:])
                if tail:
                    lines += ["", f"Last lines on {stream}:", "", "```", tail, "```"]
        elif not body:
            lines.append("(no table printed)")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a few minutes)")
    parser.add_argument("--output", type=Path, help="write the report here (default: print it)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these (e.g. pipeline resume)")
    parser.add_argument("--total-budget", type=float, default=TOTAL_BUDGET_S, help="seconds for the whole suite")
    args = parser.parse_args()
    benches = discover(args.only)
    info = machine()
    started = time.perf_counter()
    outcomes = []
    for bench in benches:
        left = args.total_budget - (time.perf_counter() - started)
        if left <= 5:
            outcomes.append(Outcome(bench, [], "not run: the suite's time budget was used up", 0.0, "", ""))
            continue
        budget = min(bench.quick_budget_s if args.quick else bench.budget_s, left)
        print(f"[{time.perf_counter() - started:5.0f} s] {bench.name} (budget {budget:.0f} s) ...", flush=True)
        outcome = run_one(bench, args.quick, budget)
        print(f"[{time.perf_counter() - started:5.0f} s] {bench.name}: {outcome.status}, {outcome.seconds:.0f} s")
        outcomes.append(outcome)
    text = report(outcomes, info, args.quick, time.perf_counter() - started)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"report written to {args.output}")
    else:
        print(text)
    return 0 if all(o.status == "ok" for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
