"""The attack suite: hostile programs against every real sandbox backend.

Each attack's expected output is what it would print if it succeeded, so an AC verdict means the
attack worked. Every test also checks that the harness keeps working afterwards (a normal program
still passes) and the `planted` / `sentinel` fixtures check host files and processes afterwards.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from evalkit.sandbox.base import Limits, Program, Sandbox, TestCase
from evalkit.sandbox.local import SANDBOX_ENV

FAST = Limits(timeout_s=2.0, memory_mb=512, output_mb=4)
OK = Program("python", "print(sum(map(int, input().split())))")


def attack(sandbox: Sandbox, source: str, success_output: str, limits: Limits = FAST) -> str:
    result = sandbox.run(Program("python", source), [TestCase("", success_output)], limits)
    assert result.verdict != "AC", f"attack succeeded: {result}"
    assert result.verdict != "error", f"the sandbox failed instead of containing the attack: {result.message}"
    after = sandbox.run(OK, [TestCase("2 3\n", "5\n")], FAST)
    assert after.verdict == "AC", f"the harness stopped working after the attack: {after}"
    return result.verdict


@pytest.fixture
def listener() -> Iterator[tuple[int, list[str]]]:
    """A TCP server on the host's 127.0.0.1 that records connections (it must see none)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    seen: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, addr = server.accept()
            except OSError:
                continue
            seen.append(str(addr))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join(timeout=5)
    server.close()


def test_cannot_connect_to_host_loopback(sandbox: Sandbox, listener: tuple[int, list[str]]) -> None:
    port, seen = listener
    src = f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=1)\nprint('LEAK')"
    attack(sandbox, src, "LEAK")
    assert seen == []


def test_cannot_reach_a_public_address(sandbox: Sandbox) -> None:
    src = (
        "import socket\n"
        "for host in ('1.1.1.1', '8.8.8.8'):\n"
        "    try:\n"
        "        socket.create_connection((host, 53), timeout=1); print('LEAK'); break\n"
        "    except OSError:\n"
        "        pass\n"
        "import urllib.request\nurllib.request.urlopen('http://example.com', timeout=1); print('LEAK')\n"
    )
    attack(sandbox, src, "LEAK")


def test_cannot_write_outside_the_work_dir(sandbox: Sandbox, planted: Path) -> None:
    src = (
        "import os\nwrote = []\n"
        f"for path in [{str(planted)!r}, {str(planted.parent / 'new.txt')!r}, '/usr/evil', '/evil', '/etc/evil',\n"
        "             os.path.expanduser('~/../evil')]:\n"
        "    try:\n"
        "        with open(path, 'w') as f: f.write('pwned')\n"
        "        wrote.append(path)\n"
        "    except OSError:\n"
        "        pass\n"
        "print('LEAK' if wrote else 'contained', wrote)\n"
    )
    result = sandbox.run(Program("python", src), [TestCase("", "contained []")], FAST)
    assert result.verdict == "AC", f"a write outside the work dir succeeded: {result.message}"
    assert not (planted.parent / "new.txt").exists()
    assert not Path("/usr/evil").exists() and not Path("/evil").exists()


def test_cannot_read_a_planted_host_file(sandbox: Sandbox, planted: Path) -> None:
    attack(sandbox, f"print(open({str(planted)!r}).read())", "host-secret-7f3a")


def test_fork_bomb_is_contained(sandbox: Sandbox) -> None:
    src = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    verdict = attack(sandbox, src, "never")
    assert verdict in ("TLE", "RE")
    assert _gone("/opt/evalkit/inside.py") and _gone("def bind_prelude"), "fork bomb processes outlived the sandbox"


def test_process_count_is_capped(sandbox: Sandbox) -> None:
    src = (
        "import os, time\nforked = 0\n"
        "try:\n"
        "    while forked < 300:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(30)\n"
        "            os._exit(0)\n"
        "        forked += 1\n"
        "except OSError:\n"
        "    pass\n"
        "print('LEAK' if forked >= 300 else 'capped')\n"
    )
    attack(sandbox, src, "LEAK")


def test_memory_bomb_is_mle(sandbox: Sandbox) -> None:
    src = "chunks = []\nwhile True:\n    chunks.append(bytearray(64 << 20))\n"
    assert attack(sandbox, src, "never") == "MLE"


def test_cpu_spin_is_tle(sandbox: Sandbox) -> None:
    assert attack(sandbox, "while True:\n    pass\n", "never") == "TLE"


def test_sleep_forever_is_tle(sandbox: Sandbox) -> None:
    began = time.monotonic()
    assert attack(sandbox, "import time\ntime.sleep(10**6)\n", "never") == "TLE"
    assert time.monotonic() - began < 30


def test_output_flood_is_cut_off(sandbox: Sandbox) -> None:
    src = "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n"
    assert attack(sandbox, src, "small") in ("WA", "RE", "TLE")


def test_cannot_kill_the_parent_or_other_processes(sandbox: Sandbox, sentinel: subprocess.Popen[bytes]) -> None:
    src = (
        "import os, signal\n"
        f"for pid in ({sentinel.pid}, {os.getpid()}, os.getppid(), 1):\n"
        "    try:\n"
        "        os.kill(pid, signal.SIGKILL)\n"
        "    except OSError:\n"
        "        pass\n"
        "try:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\n"
        "print('survived')\n"
    )
    sandbox.run(Program("python", src), [TestCase("", "survived")], FAST)
    after = sandbox.run(OK, [TestCase("2 3\n", "5\n")], FAST)
    assert after.verdict == "AC"


def test_daemon_does_not_outlive_the_solution(sandbox: Sandbox) -> None:
    marker = "evalkit-daemon-31337"
    src = (
        "import os, sys, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        f"        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(31337)', {marker!r}])\n"
        "    os._exit(0)\n"
        "time.sleep(0.3)\nprint('spawned')\n"
    )
    sandbox.run(Program("python", src), [TestCase("", "spawned")], FAST)
    assert _gone(marker), "a daemon started by a solution is still running on the host"


def test_cannot_read_the_harness_environment(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALKIT_TEST_SECRET", "env-secret-99")
    src = "import os\nprint(os.environ.get('EVALKIT_TEST_SECRET', 'none'))\n"
    attack(sandbox, src, "env-secret-99")
    allowed = sorted({*SANDBOX_ENV, "PWD", "HOSTNAME"})  # set by bubblewrap (--chdir) and docker
    extra = f"import os\nextra = set(os.environ) - set({allowed!r})\nprint('LEAK' if extra else 'clean')\n"
    attack(sandbox, extra, "LEAK")


def test_cannot_see_host_processes(sandbox: Sandbox, sentinel: subprocess.Popen[bytes]) -> None:
    src = (
        "import os\nfound = []\n"
        "for pid in os.listdir('/proc'):\n"
        "    if pid.isdigit():\n"
        "        try:\n"
        "            if b'evalkit-sentinel-4242' in open(f'/proc/{pid}/cmdline', 'rb').read(): found.append(pid)\n"
        "        except OSError:\n"
        "            pass\n"
        f"print('LEAK' if found or os.path.exists('/proc/{sentinel.pid}/cmdline') else 'hidden')\n"
    )
    attack(sandbox, src, "LEAK")


def _gone(marker: str, within_s: float = 30.0) -> bool:
    """Whether no process mentions `marker` (the kernel reaps a killed namespace asynchronously)."""
    deadline = time.monotonic() + within_s
    while _processes_with(marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _processes_with(marker: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(int(pid))
            except OSError:
                pass
    return found
