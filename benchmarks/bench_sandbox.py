"""Cost of sandboxed code execution, measured against a bare process in the same run.

1. Per-test cost: one sandboxed process (bubblewrap) running all tests of a trivial solution, vs a
   bare unsandboxed interpreter started once per solution (the cheapest way to run code at all).
   Target: <= 1.2 ms per trivial test.
2. Throughput: grading SOLUTIONS solutions x TESTS tests through the real path (GradingPool workers
   -> CodeGrader -> local sandbox) on 2 workers.

Prints Markdown tables. Run: python benchmarks/bench_sandbox.py [--solutions 1000] [--tests 20]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from evalkit.graders.base import GraderRef, ThinkSettings
from evalkit.graders.jobs import GradeJob
from evalkit.graders.pool import LocalGradingPool
from evalkit.sandbox.base import Limits, Program, TestCase
from evalkit.sandbox.local import SANDBOX_ENV, create, real_python
from evalkit.types import Generation, Sample

SOLUTION = "import sys\na, b = map(int, sys.stdin.buffer.readline().split())\nsys.stdout.write(f'{a + b}\\n')\n"


def _best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return min(times)


def per_test_cost(many: int, repeat: int) -> None:
    sandbox = create()
    bare_none = create(isolation="none", unsafe_no_isolation=True)
    tests = [TestCase(f"{i} {i}\n", f"{2 * i}\n") for i in range(many)]
    program = Program("python", SOLUTION)
    limits = Limits()

    def sandboxed(n: int) -> Callable[[], object]:
        def go() -> object:
            result = sandbox.run(program, tests[:n], limits)
            assert result.verdict == "AC", result
            return result

        return go

    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "solution.py"
        script.write_text(SOLUTION)

        def bare() -> object:
            return subprocess.run(
                [real_python(), "-I", "-S", str(script)],
                input=b"1 2\n",
                capture_output=True,
                env=SANDBOX_ENV,
                check=True,
            )

        bare_s = _best(bare, repeat * 5)
    one = _best(sandboxed(1), repeat)
    full = _best(sandboxed(many), repeat)
    none_full = _best(lambda: bare_none.run(program, tests, limits), repeat)
    marginal = (full - one) / (many - 1)
    rows = [
        ("bare interpreter, one process per solution (baseline)", bare_s * 1e3, 1.0),
        ("sandbox start-up + 1 test (bwrap)", one * 1e3, one / bare_s),
        (f"sandbox, per test, {many} tests in one process (marginal)", marginal * 1e3, marginal / bare_s),
        (f"sandbox, per test, {many} tests amortised incl. start-up", full / many * 1e3, full / many / bare_s),
        (
            f"runner without namespaces, per test ({many} tests, amortised)",
            none_full / many * 1e3,
            none_full / many / bare_s,
        ),
    ]
    print(f"\n### Per-test cost (trivial a+b solution; best of {repeat}; isolation: {sandbox.isolation})\n")
    print("| what | ms | ratio to bare process |")
    print("|---|---:|---:|")
    for name, ms, ratio in rows:
        print(f"| {name} | {ms:.2f} | {ratio:.2f} |")
    verdict = "meets" if marginal * 1e3 <= 1.2 else "misses"
    print(f"\nMarginal per-test cost {marginal * 1e3:.2f} ms {verdict} the 1.2 ms target.")


def throughput(solutions: int, tests_per: int, workers: int) -> None:
    tests = [{"input": f"{i} {i}\n", "output": f"{2 * i}\n", "testtype": "stdin"} for i in range(tests_per)]
    sample = Sample(id="p", input="a+b", target="", metadata={"tests": tests, "fn_name": None})
    text = f"```python\n{SOLUTION}```"
    ref = GraderRef("code", {"language": "python"})
    began = time.perf_counter()
    with LocalGradingPool(workers) as pool:
        futures = [
            pool.submit(
                GradeJob(
                    ref, sample, Generation("lcb", "1", "p", i, 0, "h", text=text), ThinkSettings(), timeout_s=120.0
                )
            )
            for i in range(solutions)
        ]
        scores = [f.result() for f in futures]
    elapsed = time.perf_counter() - began
    verdicts = statistics.multimode(s.verdict for s in scores)
    total_tests = solutions * tests_per
    print(f"\n### Throughput: {solutions} solutions x {tests_per} tests, {workers} grading workers\n")
    print("| solutions | tests | wall s | solutions/s | tests/s | ms per test (per core) | verdicts |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    print(
        f"| {solutions} | {total_tests} | {elapsed:.1f} | {solutions / elapsed:.1f} | {total_tests / elapsed:.0f} "
        f"| {elapsed * workers / total_tests * 1e3:.2f} | {', '.join(verdicts)} |"
    )
    assert all(s.verdict == "AC" for s in scores), {s.verdict for s in scores}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--solutions", type=int, default=1000)
    parser.add_argument("--tests", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--many", type=int, default=200, help="tests in one sandboxed process for the per-test cost")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    per_test_cost(args.many, args.repeat)
    throughput(args.solutions, args.tests, args.workers)


if __name__ == "__main__":
    main()
