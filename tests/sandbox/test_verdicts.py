"""Verdicts and LiveCodeBench run semantics against the real bubblewrap sandbox."""

from __future__ import annotations

import shutil

import pytest

from evalkit.errors import EvalkitError
from evalkit.sandbox.base import Limits, Program, Sandbox, TestCase
from evalkit.sandbox.local import LocalSandbox

FAST = Limits(timeout_s=2.0, memory_mb=512, output_mb=4)
ADD = [TestCase("1 2\n", "3\n"), TestCase("10 20\n", "30\n"), TestCase("-1 1\n", "0\n")]


def run(sandbox: Sandbox, source: str, tests: list[TestCase] = ADD, language: str = "python", **kw: object) -> str:
    program = Program(language, source, fn_name=kw.pop("fn_name", None))  # type: ignore[arg-type]
    limits = kw.pop("limits", FAST)
    return sandbox.run(program, tests, limits).verdict  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("source", "verdict"),
    [
        ("a, b = map(int, input().split())\nprint(a + b)", "AC"),
        ("import sys\na, b = map(int, sys.stdin.buffer.read().split())\nsys.stdout.write(f'{a+b}\\n')", "AC"),
        ("a, b = map(int, input().split())\nprint(a - b)", "WA"),
        ("print(1/0)", "RE"),
        ("import time\ntime.sleep(30)", "TLE"),
        ("x = bytearray(4 << 30)", "MLE"),
        ("def f(:\n  pass", "CE"),
        ("a, b = map(int, input().split())\nprint(a + b)\nexit(3)", "AC"),
        ("if __name__ == '__main__':\n    print(sum(map(int, input().split())))", "AC"),
        ("print(int(sqrt(sum(map(int, input().split()))**2)))", "AC"),
        # Annotations are evaluated as in any Python program (not postponed as in evalkit's own runner).
        ("def f(x: Undefined) -> int:\n    return x\nprint(sum(map(int, input().split())))", "RE"),
    ],
    ids=[
        "ac",
        "fast-io",
        "wa",
        "re",
        "tle",
        "mle",
        "ce",
        "exit-after-answer",
        "main-guard",
        "lcb-prelude",
        "annotations",
    ],
)
def test_python_verdicts(bwrap_sandbox: Sandbox, source: str, verdict: str) -> None:
    assert run(bwrap_sandbox, source) == verdict


def test_cpu_time_limit_catches_a_busy_loop(bwrap_sandbox: Sandbox) -> None:
    result = bwrap_sandbox.run(Program("python", "while True: pass"), ADD[:1], Limits(timeout_s=1.0))
    assert result.verdict == "TLE" and result.tests[0].wall_s < 5


def test_stops_at_first_failure_by_default(bwrap_sandbox: Sandbox) -> None:
    source = "a, b = map(int, input().split())\nprint(a + b if a != 10 else 0)"
    result = bwrap_sandbox.run(Program("python", source), ADD, FAST)
    assert result.verdict == "WA" and [t.verdict for t in result.tests] == ["AC", "WA"]
    every = bwrap_sandbox.run(Program("python", source), ADD, Limits(timeout_s=2.0, stop_on_first_failure=False))
    assert [t.verdict for t in every.tests] == ["AC", "WA", "AC"] and every.verdict == "WA"


def test_tests_do_not_share_state_through_files(bwrap_sandbox: Sandbox) -> None:
    source = "import os\nprint('seen' if os.path.exists('mark') else 'fresh')\nopen('mark', 'w').write('x')"
    result = bwrap_sandbox.run(Program("python", source), [TestCase("", "fresh"), TestCase("", "seen")], FAST)
    # Tests of one solution share the work dir (as LiveCodeBench's process does); the next solution does not.
    assert [t.verdict for t in result.tests] == ["AC", "AC"]
    assert bwrap_sandbox.run(Program("python", source), [TestCase("", "fresh")], FAST).verdict == "AC"


def test_a_test_cannot_disturb_the_streams_of_the_next_one(bwrap_sandbox: Sandbox) -> None:
    # The runner reuses one input and output file per solution: each test must still start with its
    # own input read from the start, empty output, and no descriptor but its stdio.
    source = (
        "import fcntl, os, sys\n"
        "def is_open(fd):\n"
        "    try:\n"
        "        os.fstat(fd)\n"
        "        return True\n"
        "    except OSError:\n"
        "        return False\n"
        "extra = [fd for fd in range(3, 256) if is_open(fd)]\n"
        "a, b = map(int, sys.stdin.readline().split())\n"
        "print(a + b if not extra and sys.stdin.seekable() else f'descriptors {extra}')\n"
        "sys.stdout.flush()\n"
        "os.lseek(0, 0, os.SEEK_END)\n"
        "os.lseek(1, 1000, os.SEEK_SET)\n"
        "for fd in (0, 1, 2):\n"
        "    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_APPEND | os.O_NONBLOCK)\n"
    )
    result = bwrap_sandbox.run(Program("python", source), ADD, FAST)
    assert [t.verdict for t in result.tests] == ["AC", "AC", "AC"], result


def test_functional_tests_call_the_solution_method(bwrap_sandbox: Sandbox) -> None:
    source = "class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n" \
        "        seen = {}\n        for i, x in enumerate(nums):\n            if target - x in seen:\n" \
        "                return (seen[target - x], i)\n            seen[x] = i\n"  # fmt: skip
    tests = [TestCase("[2,7,11,15]\n9", "[0, 1]", "functional"), TestCase("[3,2,4]\n6", "[1,2]", "functional")]
    assert run(bwrap_sandbox, source, tests, fn_name="twoSum") == "AC"
    assert run(bwrap_sandbox, source.replace("seen[target - x], i", "i, i"), tests, fn_name="twoSum") == "WA"
    assert run(bwrap_sandbox, source, tests, fn_name="threeSum") == "RE"


def test_functional_tests_accept_a_plain_function(bwrap_sandbox: Sandbox) -> None:
    tests = [TestCase('"abc"', '"cba"', "functional")]
    assert (
        run(
            bwrap_sandbox, "def rev(s):\n    print('debug output is ignored')\n    return s[::-1]", tests, fn_name="rev"
        )
        == "AC"
    )


def test_cpp_verdicts(bwrap_sandbox: Sandbox) -> None:
    if shutil.which("g++") is None:
        pytest.skip("g++ is not installed (apt-get install g++)")
    ok = '#include <bits/stdc++.h>\nint main(){long long a,b;std::cin>>a>>b;std::cout<<a+b<<"\\n";}'
    assert run(bwrap_sandbox, ok, language="cpp") == "AC"
    assert run(bwrap_sandbox, ok.replace("a+b", "a*b"), language="cpp") == "WA"
    assert run(bwrap_sandbox, "int main(){ return x; }", language="cpp") == "CE"
    assert run(bwrap_sandbox, "int main(){ int *p = 0; return *p; }", language="cpp") == "RE"
    assert run(bwrap_sandbox, "int main(){ for(;;); }", language="cpp") == "TLE"
    mle = "#include <vector>\nint main(){ std::vector<char> v(3000000000ULL, 1); return v[7]; }"
    assert run(bwrap_sandbox, mle, language="cpp") == "MLE"


def test_cpp_compiles_once_per_solution(bwrap_sandbox: Sandbox) -> None:
    if shutil.which("g++") is None:
        pytest.skip("g++ is not installed (apt-get install g++)")
    src = '#include <cstdio>\nint main(){long long a,b;scanf("%lld %lld",&a,&b);printf("%lld\\n",a+b);}'
    result = bwrap_sandbox.run(Program("cpp", src), ADD * 10, FAST)
    assert result.verdict == "AC" and len(result.tests) == 30
    assert sum(t.wall_s for t in result.tests) < result.wall_s


def test_a_broken_sandbox_is_an_error_not_a_wrong_answer() -> None:
    broken = LocalSandbox("bwrap", python="/nonexistent/python3")
    result = broken.run(Program("python", "print(3)"), ADD[:1], FAST)
    assert result.verdict == "error" and result.message


def test_mixed_or_malformed_tests_are_rejected(bwrap_sandbox: Sandbox) -> None:
    with pytest.raises(EvalkitError, match="mixes"):
        bwrap_sandbox.run(Program("python", "", fn_name="f"), [ADD[0], TestCase("1", "1", "functional")], FAST)
    with pytest.raises(EvalkitError, match="fn_name"):
        bwrap_sandbox.run(Program("python", ""), [TestCase("1", "1", "functional")], FAST)
    with pytest.raises(EvalkitError, match="not JSON"):
        bwrap_sandbox.run(Program("python", "", fn_name="f"), [TestCase("{bad", "1", "functional")], FAST)
