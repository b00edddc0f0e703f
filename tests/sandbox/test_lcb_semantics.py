"""lcb_runner's run semantics in the real bubblewrap sandbox: long integers, no memory limit, fast
top-level locals without the wrapper's artefacts, numpy, nested tuples, the program's own threads."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import pytest

from evalkit.errors import EvalkitError
from evalkit.graders.code import lcb_limits
from evalkit.sandbox import fastlocals, local
from evalkit.sandbox.base import Limits, Program, RunResult, Sandbox, TestCase, machine_memory_cap_mb
from evalkit.sandbox.judge import compare_value, int_digits
from evalkit.sandbox.local import host_packages, real_python

LCB = lcb_limits(timeout_s=4.0)


def run(sandbox: Sandbox, source: str, tests: list[TestCase], limits: Limits = LCB, fn: str | None = None) -> RunResult:
    return sandbox.run(Program("python", source, fn_name=fn), tests, limits)


def test_integers_up_to_50000_digits_in_and_out(bwrap_sandbox: Sandbox) -> None:
    big = "7" * 20_000
    echo = [TestCase(big + "\n", "2" + "3" * 19_999 + "1\n")]  # 777...7 * 3
    assert run(bwrap_sandbox, "print(int(input()) * 3)", echo).verdict == "AC"
    # Python's own default (4,300 digits) fails the same program.
    assert run(bwrap_sandbox, "print(int(input()) * 3)", echo, Limits(timeout_s=4.0)).verdict == "RE"
    assert run(bwrap_sandbox, "print(10 ** 50001)", [TestCase("", "1")]).verdict == "RE"
    with int_digits(0):
        expected = json.dumps(3**30_000)  # 14,314 digits, returned and expected through JSON
    functional = [TestCase("30000", expected, "functional")]
    source = "class Solution:\n    def power(self, n):\n        return 3 ** n\n"
    assert run(bwrap_sandbox, source, functional, fn="power").verdict == "AC"
    assert run(bwrap_sandbox, source.replace("3 ** n", "3 ** n + 1"), functional, fn="power").verdict == "WA"


def test_the_host_parses_long_values_without_changing_its_own_limit() -> None:
    before = sys.get_int_max_str_digits()
    assert compare_value("1" * 5000, "1" * 5000) is not None  # not even parsed under Python's default
    with int_digits(50_000):
        assert compare_value("1" * 5000, "1" * 5000) is None
        with int_digits(None):
            assert sys.get_int_max_str_digits() == 50_000
    assert sys.get_int_max_str_digits() == before


def test_too_long_expected_values_are_a_test_data_error(bwrap_sandbox: Sandbox) -> None:
    tests = [TestCase("1", "9" * 60_000, "functional")]
    with pytest.raises(EvalkitError, match="cannot parse"):
        run(bwrap_sandbox, "def f(x):\n    return x\n", tests, fn="f")


def test_no_memory_limit_of_the_task_own_only_the_machine_cap(bwrap_sandbox: Sandbox) -> None:
    # 2.5 GB of address space, sparsely touched: the limit is on what a process may hold, and this
    # VM makes touching every page slow.
    source = "import mmap\nbuffer = mmap.mmap(-1, 2560 << 20)\nbuffer[-1] = 1\nprint(len(buffer) >> 20)"
    tests = [TestCase("", "2560")]
    assert run(bwrap_sandbox, source, tests).verdict == "AC"
    assert run(bwrap_sandbox, source, tests, Limits(timeout_s=4.0, memory_mb=2048)).verdict == "MLE"
    over = f"buffer = bytearray({machine_memory_cap_mb() + 512} << 20)"
    assert run(bwrap_sandbox, over, tests).verdict == "MLE"
    assert LCB.memory_mb is None and LCB.address_space_mb == machine_memory_cap_mb()


def test_nested_tuples_are_not_lists_but_a_returned_tuple_is() -> None:
    assert compare_value("(1, 2)", "[1, 2]") is None
    assert compare_value("[(0, 1)]", "[[0, 1]]") is not None
    assert compare_value("([0, 1],)", "[[0, 1]]") is None


def test_nested_tuples_in_the_sandbox(bwrap_sandbox: Sandbox) -> None:
    tests = [TestCase("2", "[[0, 1]]", "functional")]
    tuples = "def f(n):\n    return [(0, 1)]\n"
    assert run(bwrap_sandbox, tuples, tests, fn="f").verdict == "WA"
    assert run(bwrap_sandbox, tuples.replace("[(0, 1)]", "([0, 1],)"), tests, fn="f").verdict == "AC"


@pytest.mark.skipif(not host_packages(real_python()), reason="numpy is not installed for this interpreter")
def test_numpy_is_importable_and_preimported(bwrap_sandbox: Sandbox) -> None:
    source = "import numpy as np\nprint(int(np.array(list(map(int, input().split()))).sum()))"
    result = run(bwrap_sandbox, source, [TestCase("1 2 3\n", "6\n"), TestCase("4 5\n", "9\n")])
    assert result.verdict == "AC", result.message
    # Imported once by the runner before the tests fork: the second test does not pay for it again.
    assert result.tests[1].cpu_s < 0.05
    functional = [TestCase("[1, 2]", "[2, 4]", "functional")]
    array = "import numpy as np\ndef f(xs):\n    return np.array(xs) * 2\n"
    assert run(bwrap_sandbox, array, functional, fn="f").verdict == "AC"  # numpy results made plain
    # Only where asked (LiveCodeBench): a Codeforces judge has no numpy.
    assert run(bwrap_sandbox, source, [TestCase("1\n", "1\n")], Limits(timeout_s=4.0)).verdict == "RE"


@pytest.mark.parametrize(
    ("source", "output"),
    [
        # A top-level name a function declares global stays a module global.
        ("count = 0\ndef bump():\n    global count\n    count += 1\nbump(); bump()\nprint(count)", "2"),
        # The builtin is read before the top level rebinds it.
        ("n = int(input())\nimport sys\ninput = sys.stdin.readline\nprint(n)", "5"),
        # Conditionally rebound builtin: the other branch still sees the builtin.
        ("import sys\nif len(sys.argv) > 5:\n    input = None\nprint(input())", "5"),
        # Code after the main guard runs, and __name__ is __main__.
        ("def main():\n    print(input())\nif __name__ == '__main__':\n    main()\nprint(__name__)", "5\n__main__"),
        # A class body that reads a name before assigning its own.
        ("x = 1\nclass A:\n    y = x\n    x = 2\nprint(A.y, A.x, input())", "1 2 5"),
        # Closures over top-level names, and a name deleted then found as a builtin again.
        ("max = min\nprint(max(3, 4))\ndel max\nprint(max(3, 4), input())", "3\n4 5"),
        ("from math import *\nprint(floor(2.5), input())", "2 5"),
        ("print(sorted(globals())[:1], input())", "['__builtins__'] 5"),
    ],
    ids=["global", "builtin-then-rebound", "conditional-rebind", "main-guard", "class-body", "del", "star", "globals"],
)
def test_top_level_as_a_function_changes_nothing_a_program_can_see(
    bwrap_sandbox: Sandbox, source: str, output: str
) -> None:
    result = run(bwrap_sandbox, source, [TestCase("5\n", output + "\n")])
    assert result.verdict == "AC", (fastlocals.plan(source), result.message)


def test_top_level_variables_are_fast_locals(bwrap_sandbox: Sandbox) -> None:
    # A function defined at the top level closes over the top-level names only inside the wrapper.
    source = "x = int(input())\ndef f():\n    return x\nprint(f.__closure__ is not None)"
    assert fastlocals.plan(source) == {"head": 0, "globals": []}
    assert run(bwrap_sandbox, source, [TestCase("1\n", "True\n")]).verdict == "AC"
    # Only where asked (LiveCodeBench): Codeforces judges run programs as they are.
    assert run(bwrap_sandbox, source, [TestCase("1\n", "False\n")], Limits(timeout_s=4.0)).verdict == "AC"
    docstring = '"""Doc."""\nfrom __future__ import annotations\n' + source
    assert fastlocals.plan(docstring) == {"head": 2, "globals": []}
    assert run(bwrap_sandbox, docstring, [TestCase("1\n", "True\n")]).verdict == "AC"


def test_programs_that_inspect_their_scope_run_as_a_module() -> None:
    for source in (
        "print(globals())",
        "exec('x = 1')",
        "import sys\nprint(sys._getframe())",
        "import sys\nm = sys.modules[__name__]",
        "import pickle",
        "from math import *",
    ):
        assert fastlocals.plan(source) is None, source
    assert fastlocals.plan("def f(:\n pass") is None
    assert fastlocals.plan("import sys\ninput = sys.stdin.readline\nprint(input())") == {"head": 0, "globals": []}
    assert fastlocals.plan("n = int(input())\ninput = 3") == {"head": 0, "globals": ["input"]}
    assert fastlocals.plan("for S in 'ab':\n    pass\nS = 1") == {"head": 0, "globals": ["S"]}
    assert fastlocals.plan("__all__ = []") == {"head": 0, "globals": ["__all__"]}


def test_the_programs_own_threads_finish_before_it_is_judged(bwrap_sandbox: Sandbox) -> None:
    source = (
        "import threading, time\n"
        "def main():\n    time.sleep(0.2)\n    print(int(input()) * 2)\n"
        "threading.Thread(target=main).start()\n"
    )
    assert run(bwrap_sandbox, source, [TestCase("21\n", "42\n")]).verdict == "AC"


@pytest.mark.parametrize("home", ["/tmp", "/root", "/home"])
def test_shared_packages_of_a_virtualenv_are_visible_in_every_local_mode(
    home: str, local_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A virtualenv keeps numpy outside the interpreter's prefix, in a directory the sandbox hides
    # (its private /tmp, or the masked /root and /home); the package must be bound in read-only.
    # (A docker image brings its own packages.)
    if not os.path.isdir(home) or not os.access(home, os.W_OK):
        pytest.skip(f"{home} is not a writable directory here")
    with tempfile.TemporaryDirectory(dir=home, prefix="evalkit-venv-") as venv:
        package = Path(venv) / "lib" / "site-packages" / "numpy"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("def total(xs):\n    return sum(xs)\n")
        monkeypatch.setattr(local, "host_packages", lambda python: {"numpy": str(package)})
        source = "import numpy\nprint(numpy.total(map(int, input().split())))"
        result = run(local_sandbox, source, [TestCase("1 2 3\n", "6\n")])
        assert result.verdict == "AC", result.message
        write = f"open({str(package / '__init__.py')!r}, 'a').write('x = 1')\nprint(6)"
        assert run(local_sandbox, write, [TestCase("", "6\n")]).verdict == "RE", "the package must be read-only"
