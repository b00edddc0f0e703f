"""LiveCodeBench's test semantics, applied on the host to what the sandboxed runner reports.

- stdin tests: both outputs are stripped and split into lines; the line counts must match and each
  line must match exactly after stripping, or else as whitespace-separated tokens that all parse as
  decimals and are equal as `Decimal`s (so `1.50` equals `1.5`, and `50000000000000001` does not
  equal `50000000000000000`).
- functional tests: the value returned by the entry point (a top-level tuple counts as a list) must
  equal the JSON-decoded expected output under Python `==`.
- script tests (not LiveCodeBench's; HumanEval-style): the test code ran after the program, in its
  namespace, to its end. A failed `assert` of the test code is WA (with the assertion), any other
  exception (in the program or raised through the test) RE, an exit before the end RE.

Values are parsed under the run's `int_max_str_digits` (LiveCodeBench: 50,000), as the solution
printed them under it.
"""

from __future__ import annotations

import ast
import contextlib
import json
import signal as signals
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from evalkit.sandbox.base import Limits, OutputCheck, TestCase, TestResult, Verdict

# Exit codes the runner's Python child uses (evalkit/sandbox/inside.py).
EXIT_EXCEPTION = 101
EXIT_MEMORY = 102
EXIT_NO_ENTRY = 103
EXIT_ASSERTION = 104
_SHOWN = 200


_DIGITS_LOCK = threading.Lock()
_DIGITS_ACTIVE: Counter[int] = Counter()
_DIGITS_DEFAULT = sys.get_int_max_str_digits()


@contextlib.contextmanager
def int_digits(limit: int | None) -> Iterator[None]:
    """Python's limit on int <-> str conversion raised to `limit` (0: none) while the block runs.

    The limit is per process, so concurrent blocks share it: it stays at the most permissive limit
    any active block asked for (a more permissive parse never changes a verdict) and returns to the
    process's own limit when the last one ends. None leaves the limit alone.
    """
    if limit is None:
        yield
        return
    with _DIGITS_LOCK:
        _DIGITS_ACTIVE[limit] += 1
        _apply_digits()
    try:
        yield
    finally:
        with _DIGITS_LOCK:
            _DIGITS_ACTIVE[limit] -= 1
            if not _DIGITS_ACTIVE[limit]:
                del _DIGITS_ACTIVE[limit]
            _apply_digits()


def _apply_digits() -> None:
    wanted = [*_DIGITS_ACTIVE, _DIGITS_DEFAULT]
    sys.set_int_max_str_digits(0 if 0 in wanted else max(wanted))


def _stripped_lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().split("\n")]


def _decimals(line: str) -> list[Decimal] | None:
    try:
        return [Decimal(token) for token in line.split()]
    except InvalidOperation:
        return None


def compare_stdout(actual: str, expected: str) -> str | None:
    """None when `actual` matches `expected` under LiveCodeBench's rule, else why it does not."""
    got, want = _stripped_lines(actual), _stripped_lines(expected)
    if len(got) != len(want):
        return f"wrong answer: {len(got)} output lines, expected {len(want)}"
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        if g == w:
            continue
        gd, wd = _decimals(g), _decimals(w)
        if gd is None or wd is None or gd != wd:
            return f"wrong answer at line {i + 1}: {_short(g)!r} != {_short(w)!r}"
    return None


def compare_value(actual_repr: str, expected_json: str) -> str | None:
    """None when the reported return value (its repr) equals the expected JSON value, else why not."""
    try:
        # literal_eval only builds literals, so a hostile repr cannot run code here.
        actual: Any = ast.literal_eval(actual_repr)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return f"wrong answer: returned a value that is not a plain literal: {_short(actual_repr)!r}"
    # Only a top-level tuple counts as a list (LiveCodeBench's rule): a nested one stays a tuple.
    if isinstance(actual, tuple):
        actual = list(actual)
    expected = json.loads(expected_json)
    if actual == expected:
        return None
    return f"wrong answer: returned {_short(actual_repr)!r}, expected {_short(expected_json)!r}"


def judge_test(
    test: TestCase,
    report: dict[str, Any],
    body: bytes,
    limits: Limits,
    check: OutputCheck | None = None,
    *,
    script_token: str | None = None,
) -> TestResult:
    """Turn the runner's report of one test (and its output) into a TestResult with a verdict.

    `check` replaces `compare_stdout` for a stdin test that exited cleanly; whatever it raises
    propagates (the session turns it into an `error` run). A script test passes only when its child
    wrote `script_token` after the test code ran to its end.
    """
    timeout_s = limits.timeout_s
    verdict: Verdict
    code, sig = report.get("exit_code"), report.get("signal")
    stderr = str(report.get("stderr") or "")
    if report.get("timed_out") or sig == signals.SIGXCPU or float(report.get("cpu_s", 0)) > timeout_s:
        verdict, message = "TLE", f"time limit exceeded ({timeout_s:g} s)"
    elif report.get("output_limit") or sig == signals.SIGXFSZ:
        verdict, message = "WA", "output limit exceeded"
    elif code == EXIT_MEMORY or "std::bad_alloc" in stderr:
        verdict, message = "MLE", "memory limit exceeded"
    elif sig == signals.SIGKILL:
        # The runner's own kills are timeouts (handled above); any other SIGKILL is the OOM killer
        # acting on the run's memory cgroup.
        verdict, message = "MLE", "killed by the out-of-memory killer (memory limit exceeded)"
    elif sig is not None:
        verdict, message = "RE", f"killed by signal {_signal_name(sig)}"
    elif code == EXIT_ASSERTION:
        verdict, message = "WA", _short(stderr.strip().splitlines()[-1]) if stderr.strip() else "assertion failed"
    elif code != 0:
        verdict = "RE"
        message = f"exit code {code}" if code not in (EXIT_EXCEPTION, EXIT_NO_ENTRY) else "runtime error"
        if stderr.strip():
            message += ": " + _short(stderr.strip().splitlines()[-1])
    else:
        text = body.decode("utf-8", "replace")
        if test.testtype == "script":
            ran = script_token is not None and text == script_token
            failure = None if ran else "the program exited before its tests finished"
        elif test.testtype == "functional":
            with int_digits(limits.int_max_str_digits):
                failure = compare_value(text, test.output)
        elif check is not None:
            failure = check(int(report["index"]), test, text)
        else:
            failure = compare_stdout(text, test.output)
        verdict, message = ("AC", "") if failure is None else ("RE" if test.testtype == "script" else "WA", failure)
    return TestResult(
        index=int(report["index"]),
        verdict=verdict,
        wall_s=float(report.get("wall_s", 0.0)),
        cpu_s=float(report.get("cpu_s", 0.0)),
        memory_kb=int(report.get("memory_kb", 0)),
        exit_code=code,
        signal=sig,
        message=message,
    )


def _signal_name(sig: int) -> str:
    try:
        return signals.Signals(sig).name
    except ValueError:
        return str(sig)


def _short(text: str) -> str:
    return text if len(text) <= _SHOWN else text[: _SHOWN // 2] + " ... " + text[-_SHOWN // 2 :]
