"""The host side of one sandboxed run: feed the runner, read its reports, judge, stop early.

Backends only provide a `Channel` to a started runner (`evalkit/sandbox/inside.py`). The session
streams the start message and the tests to it from a writer thread (the pipe gives backpressure,
so large inputs never sit in memory twice), reads one result per test with a deadline, judges it
on the host, and kills the sandbox at the first failure or when the solution's budget is spent.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from evalkit.errors import EvalkitError
from evalkit.sandbox import fastlocals
from evalkit.sandbox.base import Limits, OutputCheck, Program, RunResult, TestCase, TestResult
from evalkit.sandbox.judge import int_digits, judge_test
from evalkit.sandbox.prelude import identifiers, needed

MAX_HEADER = 1 << 20
MAX_SOURCE = 1 << 20
# A test whose result has not arrived this long after its own limit is treated as a stuck runner.
_RESULT_SLACK_S = 2.0


class Channel(Protocol):
    """A byte pipe to a started runner, plus a way to kill the whole sandbox."""

    def send(self, data: bytes) -> None:
        """Write all of `data` (blocks; raises OSError once the runner is gone)."""
        ...

    def close_send(self) -> None:
        """Signal end of input to the runner."""
        ...

    def recv(self, timeout_s: float) -> bytes:
        """Up to 64 KiB of runner output; b"" at end of stream; raises TimeoutError after `timeout_s`."""
        ...

    def kill(self) -> None:
        """Stop the runner and everything it started (idempotent)."""
        ...

    def diagnostics(self) -> str:
        """What the sandbox tool itself printed (e.g. why bubblewrap could not start)."""
        ...


class _Reader:
    """Splits the runner's stream into (header, payload) messages."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._buf = bytearray()
        self._eof = False

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        chunk = self._channel.recv(remaining)
        if not chunk:
            self._eof = True
        self._buf += chunk

    def read(self, deadline: float, max_payload: int) -> tuple[dict[str, Any], bytes] | None:
        # Slicing and deleting in place: copying the whole buffer per message would cost quadratic
        # time when many results arrive in one chunk.
        end = self._buf.find(b"\n")
        while end < 0:
            if self._eof:
                return None
            if len(self._buf) > MAX_HEADER:
                raise ValueError("runner sent an oversized header")
            self._fill(deadline)
            end = self._buf.find(b"\n")
        header = json.loads(self._buf[:end])
        if not isinstance(header, dict):
            raise ValueError("runner sent a malformed header")
        size = int(header.get("size", 0))
        if size < 0 or size > max_payload:
            raise ValueError(f"runner sent a payload of {size} bytes (limit {max_payload})")
        del self._buf[: end + 1]
        while len(self._buf) < size:
            if self._eof:
                return None
            self._fill(deadline)
        payload = bytes(self._buf[:size])
        del self._buf[:size]
        return header, payload


def _frame(header: dict[str, Any], payload: bytes = b"") -> bytes:
    return json.dumps(dict(header, size=len(payload))).encode() + b"\n" + payload


def _max_output(test: TestCase, limits: Limits) -> int:
    if test.testtype == "script":
        # A script test expects no output: what the program prints does not decide it.
        return limits.output_mb << 20
    # Output far larger than the expected one cannot be right; capping it keeps floods cheap.
    return min(limits.output_mb << 20, 4 * len(test.output.encode()) + (1 << 20))


def _messages(
    program: Program,
    tests: Sequence[TestCase],
    limits: Limits,
    workdir: str,
    own_pid_namespace: bool,
    packages: Mapping[str, str],
    script_token: str,
) -> Iterator[bytes]:
    mode = tests[0].testtype if tests else "stdin"
    python = program.language == "python"
    packages = packages if limits.shared_packages else {}
    start = {
        "op": "start",
        "language": program.language,
        "mode": mode,
        "fn_name": program.fn_name,
        "workdir": workdir,
        "own_pid_namespace": own_pid_namespace,
        # LiveCodeBench's implicit imports are its semantics; a script test runs the program as written.
        "prelude": needed(program.source) if python and mode != "script" else {},
        "script_token": script_token if mode == "script" else None,
        # LiveCodeBench runs stdin programs inside a function; functional ones as a module.
        "fast_locals": fastlocals.plan(program.source) if limits.fast_locals and python and mode == "stdin" else None,
        "packages": dict(packages) if python else {},
        "preimport": sorted(identifiers(program.source) & set(packages)) if python else [],
        "int_max_str_digits": limits.int_max_str_digits,
        "limits": {
            "address_space_mb": limits.address_space_mb,
            "processes": limits.processes,
            "open_files": limits.open_files,
            "compile_timeout_s": limits.compile_timeout_s,
        },
    }
    yield _frame(start, program.source.encode())
    for i, test in enumerate(tests):
        header = {"op": "test", "index": i, "timeout_s": limits.timeout_s, "max_output": _max_output(test, limits)}
        yield _frame(header, test.input.encode())


def validate(program: Program, tests: Sequence[TestCase], limits: Limits) -> None:
    """Reject programs and test lists the runner cannot execute (a caller bug, not a model error)."""
    if len(program.source.encode()) > MAX_SOURCE:
        raise EvalkitError(f"Program source is larger than {MAX_SOURCE} bytes; pass a smaller program.")
    kinds = {t.testtype for t in tests}
    if len(kinds) > 1:
        raise EvalkitError(f"A test list mixes {' and '.join(sorted(kinds))} tests; split it into one run per kind.")
    if "script" in kinds:
        if program.language != "python":
            raise EvalkitError("Script tests are only supported for Python programs.")
        for t in tests:
            try:
                compile(t.input, "<test>", "exec")
            except (SyntaxError, ValueError) as e:
                raise EvalkitError(f"A script test is not valid Python ({e}); fix the test data.") from e
    if "functional" in kinds:
        if not program.fn_name:
            raise EvalkitError(
                "Functional tests need the entry point: pass fn_name (e.g. the method of class Solution)."
            )
        if program.language != "python":
            raise EvalkitError("Functional tests are only supported for Python programs.")
        with int_digits(limits.int_max_str_digits):
            for t in tests:
                try:
                    for line in t.input.split("\n"):
                        json.loads(line)
                    json.loads(t.output)
                except json.JSONDecodeError as e:
                    raise EvalkitError(
                        f"Functional test has input/output that is not JSON ({e.msg}); fix the test data."
                    ) from e
                except ValueError as e:  # an integer longer than the limit on int <-> str conversion
                    raise EvalkitError(
                        f"Functional test has a value the solution's limits cannot parse ({e}); fix the test data or "
                        "raise int_max_str_digits."
                    ) from e


def run_session(
    channel: Channel,
    program: Program,
    tests: Sequence[TestCase],
    limits: Limits,
    *,
    workdir: str,
    own_pid_namespace: bool,
    check: OutputCheck | None = None,
    packages: Mapping[str, str] | None = None,
) -> RunResult:
    """Drive one runner through `tests` and judge each result; always kills the sandbox at the end.

    `check` judges stdin outputs instead of LiveCodeBench's comparison (see `judge_test`); when it
    raises, the run's verdict is `error`: a broken check says nothing about the solution.
    `packages` (name -> directory visible inside the sandbox) are made importable for Python.
    """
    began = time.monotonic()
    deadline = began + limits.solution_budget_s(len(tests))
    # What a script test's child writes once the test code has run to its end: a program that merely
    # exits early cannot know it (see docs/sandbox.md for what a program written against it can do).
    script_token = secrets.token_hex(16)
    messages = _messages(program, tests, limits, workdir, own_pid_namespace, packages or {}, script_token)
    writer = threading.Thread(target=_write_all, args=(channel, messages), daemon=True)
    writer.start()
    reader = _Reader(channel)
    results: list[TestResult] = []
    try:
        try:
            first = reader.read(min(deadline, began + 15.0 + limits.compile_timeout_s), MAX_HEADER)
        except (TimeoutError, ValueError) as e:
            return _error(f"the sandbox did not start: {e!r}. {channel.diagnostics()}", began, len(tests))
        if first is None:
            return _error(f"the sandbox exited before it was ready. {channel.diagnostics()}", began, len(tests))
        header, _ = first
        if header.get("event") == "compile_error":
            return RunResult("CE", (), len(tests), str(header.get("message", ""))[-4000:], time.monotonic() - began)
        if header.get("event") != "ready":
            return _error(f"unexpected message from the runner: {header!r}", began, len(tests))
        for i, test in enumerate(tests):
            max_output = _max_output(test, limits)
            test_deadline = min(deadline, time.monotonic() + limits.timeout_s * 1.5 + _RESULT_SLACK_S)
            try:
                message = reader.read(test_deadline, max_output)
            except TimeoutError:
                results.append(TestResult(i, "TLE", message="the sandbox stopped responding (time limit exceeded)"))
                break
            except ValueError as e:
                # Only the solution can garble the runner's stream once the runner is up.
                results.append(TestResult(i, "RE", message=f"the runner's output was corrupted: {e}"))
                break
            if message is None:
                results.append(TestResult(i, "RE", message="the sandbox ended during this test"))
                break
            report, body = message
            try:
                result = judge_test(test, report, body, limits, check, script_token=script_token)
            except Exception as e:  # a failing check is the caller's bug, never the solution's fault
                if check is None:
                    raise
                return _error(f"the output check failed on test {i + 1}: {type(e).__name__}: {e}", began, len(tests))
            results.append(result)
            if result.verdict != "AC" and limits.stop_on_first_failure:
                break
    finally:
        channel.kill()
        writer.join(timeout=5.0)
    failed = next((r for r in results if r.verdict != "AC"), None)
    verdict = failed.verdict if failed is not None else "AC"
    return RunResult(verdict, tuple(results), len(tests), failed.message if failed else "", time.monotonic() - began)


def _write_all(channel: Channel, messages: Iterator[bytes]) -> None:
    try:
        for message in messages:
            channel.send(message)
        channel.close_send()
    except OSError:
        # The runner is gone (finished early, failed a test, or was killed): nothing left to feed.
        pass


def _error(message: str, began: float, num_tests: int) -> RunResult:
    return RunResult("error", (), num_tests, message.strip(), time.monotonic() - began)
