"""The sandbox contract: run one program against a list of tests under limits, get per-test results.

A backend (`local`, `docker`) only has to start the in-sandbox runner and hand back its stdin and
stdout (see `evalkit.sandbox.session`); judging happens outside the sandbox, on the host, so a
solution can never forge a pass. Backends are registered by name and imported lazily; plugins add
backends through the entry point group `evalkit.sandboxes` (see evalkit.registry).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from evalkit.errors import EvalkitError
from evalkit.registry import Registry

Language = Literal["python", "cpp"]
TestType = Literal["stdin", "functional", "script"]
TEST_TYPES: tuple[TestType, ...] = ("stdin", "functional", "script")
# Per-test verdicts are AC..RE; a whole run adds CE (it never ran) and error (the sandbox failed).
Verdict = Literal["AC", "WA", "TLE", "MLE", "RE", "CE", "error"]
LANGUAGES: tuple[Language, ...] = ("python", "cpp")


@dataclass(frozen=True)
class TestCase:
    """One test. `stdin` (LiveCodeBench): stdin text and the expected stdout. `functional`
    (LiveCodeBench): JSON arguments, one per line, and the JSON result of `Program.fn_name`.
    `script` (HumanEval-style, Python): test code run after the program in the program's namespace
    (e.g. `def check(candidate): assert ...` then `check(entry_point)`); it passes when the test code
    runs to its end, and `output` is unused.
    """

    __test__ = False  # not a pytest test class

    input: str
    output: str
    testtype: TestType = "stdin"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TestCase:
        """Build from a test dict (`input`, `output`, `testtype`; a script test needs no `output`)."""
        testtype = d.get("testtype", "stdin")
        if testtype not in TEST_TYPES:
            raise EvalkitError(f"Test type '{testtype}' is not supported: use one of {', '.join(TEST_TYPES)}.")
        output = d.get("output", "") if testtype == "script" else d["output"]
        return cls(input=str(d["input"]), output=str(output), testtype=testtype)


@dataclass(frozen=True)
class Program:
    """Source code in one language; `fn_name` names the entry point of functional tests."""

    language: Language
    source: str
    fn_name: str | None = None


@functools.cache
def machine_memory_cap_mb() -> int:
    """The memory a run may use when a task sets no memory limit: half of this machine's physical memory.

    LiveCodeBench sets no memory limit at all; a run still needs some bound, or one memory bomb takes
    the machine (and the harness) down with it.
    """
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        total = 8 << 30
    return max(1024, total // 2 >> 20)


@dataclass(frozen=True)
class Limits:
    """Resource limits. Time and memory apply per test; `solution_timeout_s` bounds the whole run.

    `memory_mb` is the address-space limit of each process, or None for no per-task limit (as
    LiveCodeBench): then `machine_memory_cap_mb()` bounds each process and, where cgroups are
    writable, the whole run. `output_mb` caps each test's stdout (more output than that is a wrong
    answer). `solution_timeout_s=None` derives the bound from the number of tests (see
    `solution_budget_s`). `int_max_str_digits` sets Python's limit on int <-> str conversion of
    the solution and of the host's parsing of its values (None: the interpreter's default, 4300).
    `fast_locals` runs a stdin Python program's top level as a function where the program cannot
    tell (LiveCodeBench's speed; evalkit/sandbox/fastlocals.py); off, it runs as a plain module.
    `shared_packages` lets Python programs import the third-party packages LiveCodeBench's
    environment has (numpy) when the sandbox's interpreter has them; off, only the standard library.
    """

    timeout_s: float = 6.0
    memory_mb: int | None = 2048
    output_mb: int = 64
    processes: int = 32
    open_files: int = 64
    compile_timeout_s: float = 30.0
    stop_on_first_failure: bool = True
    solution_timeout_s: float | None = None
    int_max_str_digits: int | None = None
    fast_locals: bool = False
    shared_packages: bool = False

    def __post_init__(self) -> None:
        digits = self.int_max_str_digits
        if (
            self.timeout_s <= 0
            or (self.memory_mb is not None and self.memory_mb < 16)
            or self.output_mb < 1
            or self.processes < 1
            or (digits is not None and digits != 0 and digits < 640)
        ):
            raise EvalkitError(
                f"Invalid sandbox limits {self}: timeout_s must be > 0, memory_mb >= 16 (or None), output_mb >= 1, "
                "processes >= 1, int_max_str_digits 0 (no limit), >= 640 or None."
            )

    @property
    def address_space_mb(self) -> int:
        """The address-space limit each process of a test gets."""
        return self.memory_mb if self.memory_mb is not None else machine_memory_cap_mb()

    def solution_budget_s(self, num_tests: int) -> float:
        """Wall time the host allows one solution in total before it kills the sandbox."""
        if self.solution_timeout_s is not None:
            return self.solution_timeout_s
        # Per test: the limit plus process start/kill overhead; plus start-up and compilation.
        return 10.0 + self.compile_timeout_s + num_tests * (self.timeout_s + 1.0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TestResult:
    """What one test did: its verdict, time (s), peak memory (KiB) and a short message."""

    __test__ = False  # not a pytest test class

    index: int
    verdict: Verdict
    wall_s: float = 0.0
    cpu_s: float = 0.0
    memory_kb: int = 0
    exit_code: int | None = None
    signal: int | None = None
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunResult:
    """The outcome of one program: an overall verdict and the results of the tests that ran."""

    verdict: Verdict
    tests: tuple[TestResult, ...] = ()
    num_tests: int = 0
    message: str = ""
    wall_s: float = 0.0
    sandbox: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.verdict == "AC"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tests"] = [t.to_dict() for t in self.tests]
        return d


# A host-side output check for stdin tests: (test index, test, the program's stdout decoded as UTF-8
# with errors replaced) -> None when accepted, else the wrong-answer message. It replaces
# LiveCodeBench's comparison (e.g. Codeforces checkers); time, memory, crash and output-limit
# verdicts are decided before it is called.
OutputCheck = Callable[[int, TestCase, str], str | None]


@runtime_checkable
class Sandbox(Protocol):
    """A backend that runs untrusted programs. `run` never raises for anything the program does."""

    name: str

    def describe(self) -> dict[str, Any]:
        """What isolation this backend provides (recorded in the run manifest)."""
        ...

    def run(
        self, program: Program, tests: Sequence[TestCase], limits: Limits, check: OutputCheck | None = None
    ) -> RunResult:
        """Run `program` on `tests`: verdict AC..RE/CE, or `error` when the sandbox itself failed.

        `check`, when given, judges the output of each stdin test that exited cleanly instead of
        LiveCodeBench's comparison; if it raises, the run's verdict is `error`.
        """
        ...

    def close(self) -> None:
        """Release what the backend holds (containers, daemons)."""
        ...


# name -> "module:factory"; the factory takes keyword options (e.g. unsafe_no_isolation).
SANDBOXES: Registry[Callable[..., Sandbox]] = Registry(
    "sandbox",
    "sandboxes",
    "evalkit.sandboxes",
    {"local": "evalkit.sandbox.local:create", "docker": "evalkit.sandbox.docker:create"},
)

_CACHE: dict[tuple[str, str], Sandbox] = {}
_LOCK = threading.Lock()


def make_sandbox(name: str = "local", **options: Any) -> Sandbox:
    """Build the sandbox backend `name` with `options` (a new instance each call)."""
    return SANDBOXES.load(name)(**options)


def get_sandbox(name: str = "local", **options: Any) -> Sandbox:
    """The per-process shared instance of sandbox `name` (grading workers reuse one backend)."""
    key = (name, repr(sorted(options.items())))
    with _LOCK:
        sandbox = _CACHE.get(key)
        if sandbox is None:
            sandbox = _CACHE[key] = make_sandbox(name, **options)
        return sandbox
