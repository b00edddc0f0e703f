"""Record lcb_runner's verdicts and prompts for evalkit's LiveCodeBench parity corpus.

The corpus (tests/livecodebench/parity/) holds problems in the Hub's row format (problems.jsonl) and
programs with the verdict evalkit must give (cases.jsonl). This script runs every program through
LiveCodeBench's own harness, from a checkout of github.com/LiveCodeBench/LiveCodeBench at the commit
evalkit pins (28fef95), and writes what it says into the corpus: each case's `lcb` field, and
recorded.json (the harness's identity and the prompts `format_prompt_generation` builds for every
problem). Nothing of lcb_runner is copied into evalkit; the test suite only reads these records.

The harness is called the way `codegen_metrics` calls it: `CodeGenerationProblem(**row)
.get_evaluation_sample()` and `evaluate_generations_by_problem` (which runs `check_correctness` ->
`run_test(sample, test=code, debug=False, timeout=6)` in a child process), with
`sys.set_int_max_str_digits(50000)` as compute_code_generation_metrics sets at import.

Usage (lcb_runner imports numpy, tqdm, datasets and anthropic<=0.42 (HUMAN_PROMPT); use a throw-away venv, never evalkit's):

    git -C /path/to/LiveCodeBench checkout 28fef95ea8c9f7a547c8329f2cd3d32b92c1fa24
    python -m venv --system-site-packages /tmp/lcb-venv && /tmp/lcb-venv/bin/pip install datasets tqdm numpy anthropic==0.42.0
    /tmp/lcb-venv/bin/python scripts/record_lcb_parity.py /path/to/LiveCodeBench
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PINNED_COMMIT = "28fef95ea8c9f7a547c8329f2cd3d32b92c1fa24"
DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / "tests" / "livecodebench" / "parity"
# lcb_runner's per-test result codes (testing_util.py) -> evalkit's verdict names.
CODES = {-1: "TLE", -2: "WA", -3: "TLE", -4: "RE", -5: "error"}
STYLES = ("DeepSeekR1", "OpenAIChat")


@contextlib.contextmanager
def inside(checkout: Path) -> Iterator[None]:
    """lcb_runner imports itself as a package and opens its few-shot files relative to the working dir."""
    cwd = os.getcwd()
    sys.path.insert(0, str(checkout))
    os.chdir(checkout)
    try:
        yield
    finally:
        os.chdir(cwd)


def commit_of(checkout: Path, given: str | None) -> str:
    if given:
        return given
    try:
        done = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True)
    except OSError:
        done = None
    if done is None or done.returncode != 0:
        raise SystemExit(f"{checkout} is not a git checkout: pass --commit with the commit it was exported from.")
    return done.stdout.strip()


def verdict(results: list[Any]) -> str:
    """AC when every result is True (compute_metrics_from_results: np.all(results > 0)), else the first failure."""
    if results and all(r is True for r in results):
        return "AC"
    first = next((r for r in results if r is not True), -2)
    # A functional test that returned the wrong value is recorded as False rather than -2.
    return "WA" if first is False else CODES.get(int(first), f"code {first}")


def short(value: Any, limit: int = 300) -> Any:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit // 2] + " ... " + text[-limit // 2 :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkout", type=Path, help="a checkout of LiveCodeBench/LiveCodeBench (holds lcb_runner/)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the parity corpus folder")
    parser.add_argument("--commit", help="the checkout's commit, when it is not a git checkout (e.g. git archive)")
    parser.add_argument("--timeout", type=int, default=6, help="run_test's per-test timeout (LiveCodeBench: 6)")
    parser.add_argument("--only", help="record only the cases whose name contains this text")
    args = parser.parse_args()
    checkout = args.checkout.resolve()
    util = checkout / "lcb_runner" / "evaluation" / "testing_util.py"
    if not util.is_file():
        raise SystemExit(f"{util} not found: pass the root of a LiveCodeBench checkout.")
    commit = commit_of(checkout, args.commit)
    if not commit.startswith(PINNED_COMMIT[:7]):
        print(f"warning: {checkout} is at {commit}, the corpus pins {PINNED_COMMIT}", file=sys.stderr)

    with inside(checkout):
        from lcb_runner.benchmarks.code_generation import CodeGenerationProblem
        from lcb_runner.evaluation.compute_code_generation_metrics import evaluate_generations_by_problem
        from lcb_runner.lm_styles import LMStyle
        from lcb_runner.prompts.code_generation import format_prompt_generation
    if sys.get_int_max_str_digits() != 50000:
        raise SystemExit("lcb_runner's metrics module did not set sys.set_int_max_str_digits(50000) as expected.")

    problems = {
        row["question_id"]: row
        for row in map(json.loads, (args.corpus / "problems.jsonl").read_text(encoding="utf-8").splitlines())
    }
    cases_path = args.corpus / "cases.jsonl"
    cases = [json.loads(line) for line in cases_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for case in cases:
        if args.only and args.only not in case["name"]:
            continue
        sample = CodeGenerationProblem(**problems[case["problem"]]).get_evaluation_sample()
        results, metadata = evaluate_generations_by_problem(([case["code"]], sample, False, args.timeout))
        got = [r if isinstance(r, bool) else int(r) for r in results[0]]
        case["lcb"] = {
            "verdict": verdict(got),
            "results": got,
            "error_message": short(metadata[0].get("error_message", "")),
        }
        print(f"{case['lcb']['verdict']:>5}  (evalkit {case['evalkit']:>3})  {case['name']}", flush=True)
    cases_path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")

    prompts = []
    for qid, row in problems.items():
        problem = CodeGenerationProblem(**row)
        for style in STYLES:
            prompts.append(
                {"problem": qid, "style": style, "prompt": format_prompt_generation(problem, LMStyle(style))}
            )
    recorded = {
        "lcb_runner": {
            "repository": "https://github.com/LiveCodeBench/LiveCodeBench",
            "commit": commit,
            "testing_util_sha256": hashlib.sha256(util.read_bytes()).hexdigest(),
            "timeout": args.timeout,
            "int_max_str_digits": sys.get_int_max_str_digits(),
            "python": platform.python_version(),
            "recorded_by": "scripts/record_lcb_parity.py",
        },
        "prompts": prompts,
    }
    (args.corpus / "recorded.json").write_text(json.dumps(recorded, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
