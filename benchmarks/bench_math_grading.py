"""Math grading throughput: GradingPool vs a single-process math-verify loop on the same data.

Two data sets, both built from the offline copies in ../shared/data:
  (a) distinct answers: MATH-500, up to three responses per problem (the gold as written, the gold
      rewritten (`\\dfrac`, `x = 5`) and another problem's answer), each a reference solution after
      a block of thinking, so no (gold, answer) pair repeats;
  (b) AIME-like n=64: AIME 2024, 64 responses per problem whose final answers repeat (the gold or
      one of three wrong integers) while the text around them differs, graded as integers.
The baseline is what a user would write without evalkit: per response, the answer region, then
math_verify.parse of the gold and of the region, then math_verify.verify, in one process. Both sides
run in the same invocation; pool start-up is excluded (it is paid once per run) and reported apart.

Run: python benchmarks/bench_math_grading.py [--data-dir DIR] [--workers N]
Targets (issue 2): >= 1.8x on 2 cores for (a), >= 10x for (b).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from evalkit.answer import answer_region
from evalkit.graders.base import GraderRef, ThinkSettings
from evalkit.graders.jobs import GradeJob, GradingPool
from evalkit.graders.math import warm_up
from evalkit.graders.pool import LocalGradingPool
from evalkit.types import Generation, Sample

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


@dataclass(frozen=True)
class Item:
    """One response to grade against one gold."""

    problem: str
    gold: str
    text: str


@dataclass(frozen=True)
class Result:
    name: str
    items: int
    baseline_s: float
    pool_s: float
    agreement: float
    target: float | None


def read_jsonl(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def thinking(problem: str, rng: random.Random) -> str:
    """A block of thinking (about 6k characters) that never reaches the graded region."""
    steps = [
        "Let me re-read the problem.",
        "Wait, I should double-check that step.",
        "Maybe try a small case first: $n = 1$ gives $1$, and $n=2$ gives $\\frac{3}{2}$.",
        "So the answer might be $\\boxed{0}$... no, that cannot be right.",
    ]
    parts = [problem]
    while sum(map(len, parts)) < 6_000:
        parts.append(rng.choice(steps) + " " + problem[: rng.randrange(50, 400)])
    return "<think>\n" + "\n".join(parts) + "\n</think>\n\n"


def rewritten(gold: str) -> str:
    """An equivalent answer in another form, where one is easy to make (else the gold itself)."""
    if "\\frac" in gold:
        return gold.replace("\\frac", "\\dfrac")
    if re.fullmatch(r"-?\d+(\.\d+)?", gold):
        return f"x = {gold}"
    return gold


def distinct_answers(data: Path, rng: random.Random) -> list[Item]:
    rows = read_jsonl(data / "math500" / "test.jsonl")
    items = []
    for i, row in enumerate(rows):
        summary = summary_of(row["solution"])
        other = rows[(i + 1) % len(rows)]["answer"]
        for answer in dict.fromkeys((row["answer"], rewritten(row["answer"]), other)):
            text = thinking(row["problem"], rng) + summary + f"\n\nThe final answer is $\\boxed{{{answer}}}$."
            items.append(Item(row["unique_id"], row["answer"], text))
    return items


def summary_of(solution: str, limit: int = 1_500) -> str:
    """A model-style summary after the thinking: the first paragraphs of a reference solution, unboxed."""
    out: list[str] = []
    for paragraph in solution.replace("\\boxed{", "{").split("\n"):
        if out and sum(map(len, out)) + len(paragraph) > limit:
            break
        out.append(paragraph)
    return "\n".join(out)


def repeated_answers(data: Path, rng: random.Random, n: int = 64) -> list[Item]:
    rows = read_jsonl(data / "aime24" / "test.jsonl")
    items = []
    for row in rows:
        gold = int(row["answer"])
        choices = [str(gold), str(gold), str((gold + 1) % 1000), str((gold * 7) % 1000), str(rng.randrange(1000))]
        summary = summary_of(row["solution"])
        for j in range(n):
            answer = rng.choice(choices)
            text = (
                thinking(row["problem"], rng)
                + f"Attempt {j}. {summary}\n\nCollecting the cases above, the total is ${answer}$.\n\n"
                + f"**Answer.** $\\boxed{{{answer}}}$"
            )
            items.append(Item(row["id"], row["answer"], text))
    return items


def baseline(items: Sequence[Item]) -> list[bool]:
    """The single-process math-verify loop."""
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    gold_config = [LatexExtractionConfig(), ExprExtractionConfig()]
    pred_config = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]
    out = []
    for item in items:
        region = answer_region(item.text).text or ""
        out.append(bool(verify(parse(f"${item.gold}$", gold_config), parse(region, pred_config))))
    return out


def with_pool(items: Sequence[Item], pool: GradingPool, grader: GraderRef) -> list[bool]:
    think = ThinkSettings()
    futures = [
        pool.submit(
            GradeJob(
                grader=grader,
                sample=Sample(id=item.problem, input="", target=item.gold),
                generation=Generation(
                    task="bench",
                    task_version="1",
                    sample_id=item.problem,
                    sample_index=i,
                    seed=i,
                    prompt_hash="",
                    text=item.text,
                ),
                think=think,
            )
        )
        for i, item in enumerate(items)
    ]
    return [f.result().verdict == "correct" for f in futures]


def timed(fn: Callable[[], list[bool]]) -> tuple[float, list[bool]]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


WARM_UP = [Item("warm-up", "\\frac{1}{2}", "The answer is $\\boxed{0.5}$.")]


def measure(
    name: str, items: list[Item], grader: GraderRef, workers: int, target: float | None, rounds: int
) -> tuple[Result, float]:
    """Best of `rounds` for each side, alternating, so a burst of load elsewhere hits both alike.

    Each pool round uses a fresh pool: caches never carry over from one round to the next.
    """
    # Both sides start warm: the pool's forkserver runs math.warm_up() before forking workers, so the
    # baseline process runs it too, and imports happen before the clock starts.
    warm_up()
    baseline(WARM_UP)
    baseline_s = pool_s = float("inf")
    startup_s = 0.0
    for _ in range(rounds):
        elapsed, expected = timed(lambda: baseline(items))
        baseline_s = min(baseline_s, elapsed)
        start = time.perf_counter()
        with LocalGradingPool(workers) as pool:
            with_pool(WARM_UP * 4 * workers, pool, GraderRef("math"))
            startup_s = time.perf_counter() - start
            elapsed, got = timed(lambda: with_pool(items, pool, grader))
            pool_s = min(pool_s, elapsed)
    agreement = sum(a == b for a, b in zip(expected, got, strict=True)) / len(items)
    return Result(name, len(items), baseline_s, pool_s, agreement, target), startup_s


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("EVALKIT_DATA_DIR", DEFAULT_DATA)))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3, help="best of this many timings per side")
    args = parser.parse_args(argv)
    data = args.data_dir.resolve()
    if not (data / "math500" / "test.jsonl").is_file() or not (data / "aime24" / "test.jsonl").is_file():
        print(f"error: {data} lacks math500/test.jsonl or aime24/test.jsonl; pass --data-dir", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    load = os.getloadavg()[0]
    distinct = distinct_answers(data, rng)
    runs = [
        measure("(a) distinct answers, MATH-500", distinct, GraderRef("math"), args.workers, 1.8, args.rounds),
        measure(
            "(b) repeated answers, AIME24 x 64",
            repeated_answers(data, rng),
            GraderRef("math", {"integer_answers": True}),
            args.workers,
            10.0,
            args.rounds,
        ),
    ]
    if args.workers > 1:  # separates per-item cost from parallel scaling when the machine is busy
        runs.append(measure("(a) with 1 worker", distinct, GraderRef("math"), 1, None, args.rounds))
    print(f"Math grading throughput, {args.workers} worker(s), {os.cpu_count()} CPU(s)\n")
    print("| data | items | math-verify loop (items/s) | GradingPool (items/s) | ratio | target | verdicts agree |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r, _ in runs:
        base, pooled = r.items / r.baseline_s, r.items / r.pool_s
        target = f">= {r.target:g}x" if r.target is not None else "-"
        print(
            f"| {r.name} | {r.items} | {base:.0f} | {pooled:.0f} | {pooled / base:.2f}x | {target} "
            f"| {r.agreement:.1%} |"
        )
    print(f"\nPool start-up (excluded above): {', '.join(f'{s:.2f} s' for _, s in runs)}")
    print(
        f"1-minute load average before / after: {load:.1f} / {os.getloadavg()[0]:.1f} "
        f"(above {os.cpu_count()}, other work takes CPU from the workers and the ratios understate)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
