"""LiveCodeBench costs, each against the way evalkit did it before, measured in the same run.

1. Loading the default window (2024-08-01..2025-01-31) of release_v6 from raw files in the Hub's
   format, scaled down from the real ones (same six files, same share of the 4.5 GB each, same
   number of problems per release / SCALE): before, every file was read and every row parsed (only
   in-window rows were decoded); now only the files whose dates meet the window are read, rows
   outside it are skipped unparsed, and decoded tests are stored once per problem.
2. Grading jobs of one problem with n=16 samples: before, each job pickled the problem's decoded
   tests; now it carries a reference and a worker decodes the stored set once for all 16.
3. A stdin program whose work is a top-level loop, in the sandbox: run as a module (before) and
   with its top level as a function (now, lcb_runner's fast locals without its artefacts).

Prints Markdown tables. Run: python benchmarks/bench_livecodebench.py [--scale 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import pickle
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

from evalkit import testsets
from evalkit.data import load_task_samples
from evalkit.graders.base import GraderRef, ThinkSettings
from evalkit.graders.code import lcb_limits
from evalkit.graders.jobs import GradeJob
from evalkit.jsonl import read_jsonl
from evalkit.sandbox import fastlocals
from evalkit.sandbox.base import Program, TestCase
from evalkit.sandbox.local import create
from evalkit.tasks import get_task
from evalkit.types import Generation, Sample

# The real files: GB on the Hub (livecodebench/code_generation_lite) and problems each release added.
REAL = {"test.jsonl": (1.25, 400), "test2.jsonl": (0.713, 111), "test3.jsonl": (0.623, 101),
        "test4.jsonl": (1.2, 101), "test5.jsonl": (0.558, 167), "test6.jsonl": (0.134, 175)}  # fmt: skip
LOOP = "n = int(input())\ntotal = 0\nfor i in range(1, n + 1):\n    total += (i * i) % 7\nprint(total)\n"


def _compress(tests: list[dict[str, str]]) -> str:
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests)))).decode()


def write_release(root: Path, scale: int) -> int:
    """The six raw files at 1/scale of their size, a tenth of their problems; returns the bytes written."""
    lcb = sys.modules["evalkit_tasks.livecodebench"]
    folder = root / "livecodebench"
    folder.mkdir(parents=True)
    total = 0
    for name, (gigabytes, problems) in REAL.items():
        first, last = lcb.FILE_DATES[name]
        count = max(1, problems // 10)
        # Hex digits compress to about half, and base64 adds a third: about the row size wanted.
        chunk = int(gigabytes * 1e9 / scale / count / 20)
        with (folder / name).open("w") as handle:
            for i in range(count):
                day = first + timedelta(days=i * (last - first).days // count)
                tests = [{"input": os.urandom(chunk // 2).hex(), "output": "1\n", "testtype": "stdin"} for _ in range(20)]  # fmt: skip
                row = {
                    "question_title": f"P{i}", "question_content": "Statement.", "platform": "atcoder",
                    "question_id": f"{name}-{i}", "contest_id": "c", "contest_date": f"{day}T00:00:00",
                    "starter_code": "", "difficulty": "easy",
                    "public_test_cases": json.dumps(tests[:1]), "private_test_cases": _compress(tests[1:]),
                    "metadata": "{}",
                }  # fmt: skip
                line = json.dumps(row) + "\n"
                handle.write(line)
                total += len(line)
    return total


def load_before(root: Path) -> tuple[list[Sample], int]:
    """evalkit's loader before this change: every release file read and parsed, in-window rows decoded."""
    lcb = sys.modules["evalkit_tasks.livecodebench"]
    samples, read = [], 0
    for name in lcb.release_files("release_v6"):
        path = root / "livecodebench" / name
        read += path.stat().st_size
        for _, record in read_jsonl(path):
            if "2024-08-01" <= record["contest_date"][:10] <= "2025-01-31":
                tests = lcb.decode_tests(record["public_test_cases"]) + lcb.decode_tests(record["private_test_cases"])
                samples.append(Sample(str(record["question_id"]), record["question_content"], "", {"tests": tests}))
    return samples, read


def load_now(root: Path) -> tuple[list[Sample], int]:
    """The task's loader: only the files the window needs; rows outside it skipped unparsed."""
    lcb = sys.modules["evalkit_tasks.livecodebench"]
    task = get_task("livecodebench")
    names = lcb.needed_files("release_v6", *(lcb._parse_day(d, "") for d in ("2024-08-01", "2025-01-31")))
    read = sum((root / "livecodebench" / n).stat().st_size for n in names)
    return load_task_samples(task, root).samples, read


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, value = float("inf"), None
    for _ in range(repeat):
        began = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - began)
    return best, value


def loading(scale: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        get_task("livecodebench")  # loads tasks/livecodebench.py
        written = write_release(root, scale)
        before_s, (before, before_read) = _best(lambda: load_before(root), repeat)
        fresh = iter(range(repeat))

        def first_load() -> tuple[list[Sample], int]:
            with mock.patch.dict(os.environ, {testsets.CACHE_ENV: str(root / f"cache-{next(fresh)}")}):
                return load_now(root)

        first_s, (now, now_read) = _best(first_load, repeat)
        with mock.patch.dict(os.environ, {testsets.CACHE_ENV: str(root / "cache-0")}):
            later_s, _ = _best(lambda: load_now(root), repeat)
    assert [s.id for s in before] == [s.id for s in now], "both loaders must give the same problems"
    held_before = sum(len(pickle.dumps(s)) for s in before)
    held_now = sum(len(pickle.dumps(s)) for s in now)
    print(f"\n### Loading the default window of release_v6 (files at 1/{scale} of the Hub's, {written / 1e6:.0f} MB)\n")
    print(f"| loader | MB read | MB held by the samples | s (best of {repeat}) | ratio to before |")
    print("|---|---:|---:|---:|---:|")
    print(f"| before: every file read and parsed (baseline) | {before_read / 1e6:.1f} | {held_before / 1e6:.1f} | {before_s:.2f} | 1.00 |")  # fmt: skip
    print(f"| now, first load: window's files only, decoded sets written | {now_read / 1e6:.1f} | {held_now / 1e6:.3f} | {first_s:.2f} | {first_s / before_s:.2f} |")  # fmt: skip
    print(f"| now, later loads (resume, grade, report): nothing decoded | {now_read / 1e6:.1f} | {held_now / 1e6:.3f} | {later_s:.2f} | {later_s / before_s:.2f} |")  # fmt: skip
    print(
        f"\n{len(now)} problems either way. Bytes read now / before: {now_read / before_read:.2f} (from the Hub: "
        "test4 + test5, 1.76 of 4.48 GB, 0.39)."
    )


def grading_jobs(n: int, test_kb: int, tests: int, repeat: int) -> None:
    def decoded(variant: int) -> list[dict[str, str]]:
        return [
            {"input": f"{variant}.{t}" + "x" * (test_kb << 10), "output": "1\n", "testtype": "stdin"}
            for t in range(tests)
        ]

    ref = GraderRef("code", {"language": "python"})

    def jobs(sample: Sample) -> list[GradeJob]:
        return [
            GradeJob(ref, sample, Generation("livecodebench", "2", "p", i, 0, "h", text="x"), ThinkSettings())
            for i in range(n)
        ]

    with tempfile.TemporaryDirectory() as tmp, mock.patch.dict(os.environ, {testsets.CACHE_ENV: tmp}):
        inline = Sample("p", "q", "", {"tests": decoded(0), "fn_name": None})
        # One stored set per timed round, so every round reads its set from disk once, as a worker does.
        stored = [
            Sample("p", "q", "", {"tests": testsets.put(testsets.key_of(str(r)), decoded(r + 1)), "fn_name": None})
            for r in range(repeat)
        ]
        rounds = iter(stored)

        def round_trip_before() -> int:
            return sum(len(pickle.loads(blob).sample.metadata["tests"]) for blob in map(pickle.dumps, jobs(inline)))

        def round_trip_now() -> int:
            blobs = map(pickle.dumps, jobs(next(rounds)))
            return sum(len(testsets.get(pickle.loads(blob).sample.metadata["tests"])) for blob in blobs)

        before_bytes = sum(len(pickle.dumps(j)) for j in jobs(inline))
        now_bytes = sum(len(pickle.dumps(j)) for j in jobs(stored[0]))
        before_s, _ = _best(round_trip_before, repeat)
        now_s, _ = _best(round_trip_now, repeat)
    print(f"\n### Grading jobs of one problem: n={n} samples, {tests} tests of {test_kb} kB\n")
    print("| jobs carry | MB pickled | ms to pickle, unpickle, get the tests | ratio to before |")
    print("|---|---:|---:|---:|")
    print(f"| the decoded tests (baseline) | {before_bytes / 1e6:.1f} | {before_s * 1e3:.1f} | 1.00 |")
    print(
        f"| a reference; the worker reads the stored set from disk once | {now_bytes / 1e6:.3f} | {now_s * 1e3:.1f} "
        f"| {now_s / before_s:.3f} |"
    )


def top_level_loop(n: int, repeat: int) -> None:
    sandbox = create()
    expected = str(sum((i * i) % 7 for i in range(1, n + 1)))
    tests = [TestCase(f"{n}\n", expected)]

    def cpu(plan: Callable[[str], Any]) -> float:
        with mock.patch.object(fastlocals, "plan", plan):
            result = sandbox.run(Program("python", LOOP), tests, lcb_limits(timeout_s=60.0))
        assert result.verdict == "AC", result
        return result.tests[0].cpu_s

    module = min(cpu(lambda _: None) for _ in range(repeat))
    wrapped = min(cpu(fastlocals.plan) for _ in range(repeat))
    print(f"\n### A top-level loop of {n:,} iterations in the sandbox (CPU s, best of {repeat})\n")
    print("| runs as | CPU s | ratio to module |")
    print("|---|---:|---:|")
    print(f"| a module, top-level names are globals (baseline; evalkit before) | {module:.3f} | 1.00 |")
    print(f"| a function, as lcb_runner runs it (evalkit now) | {wrapped:.3f} | {wrapped / module:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=50, help="files at 1/scale of the Hub's size")
    parser.add_argument("--n", type=int, default=16, help="samples per problem")
    parser.add_argument("--loop", type=int, default=5_000_000, help="iterations of the top-level loop")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    loading(args.scale, args.repeat)
    grading_jobs(args.n, test_kb=200, tests=30, repeat=args.repeat)
    top_level_loop(args.loop, args.repeat)


if __name__ == "__main__":
    main()
