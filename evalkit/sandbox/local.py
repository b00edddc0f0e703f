"""The `local` sandbox: Linux namespaces through bubblewrap (or `unshare`), plus rlimits.

Each solution gets its own sandboxed process tree: new user, pid, network, ipc, uts and cgroup
namespaces; a read-only view of /usr and the interpreter and nothing else of the host; a private,
size-capped tmpfs as the only writable place; a cleared environment; `--die-with-parent` and
`--new-session`. The runner inside applies per-test rlimits (CPU, address space, processes, file
size, open files) before the solution starts; the host enforces wall time and kills the process
group. See docs/sandbox.md for the threat model.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Literal

from evalkit.errors import EvalkitError
from evalkit.sandbox.base import Limits, OutputCheck, Program, RunResult, TestCase, machine_memory_cap_mb
from evalkit.sandbox.cgroups import RunCgroups, parents
from evalkit.sandbox.session import run_session, validate

Isolation = Literal["bwrap", "unshare", "none"]
RUNNER = Path(__file__).with_name("inside.py")
LOCKDOWN = Path(__file__).with_name("lockdown.py")
SANDBOX_UID = 65534
_INSIDE_RUNNER = "/opt/evalkit/inside.py"
_INSIDE_WORKDIR = "/tmp"
SANDBOX_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "HOME": _INSIDE_WORKDIR,
    "TMPDIR": _INSIDE_WORKDIR,
    "PYTHONIOENCODING": "utf-8",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def real_python() -> str:
    """The interpreter binary behind sys.executable (not a pyenv/shell shim, which costs ~80 ms a start)."""
    return os.path.realpath(sys.executable)


class ProcessChannel:
    """A Channel over a started sandbox process's pipes; kill() takes down its whole process group."""

    def __init__(self, proc: subprocess.Popen[bytes], stderr: IO[bytes]) -> None:
        self._proc = proc
        self._stderr = stderr
        assert proc.stdin is not None and proc.stdout is not None
        self._stdin = proc.stdin
        self._out_fd = proc.stdout.fileno()
        self._poll = select.poll()
        self._poll.register(self._out_fd, select.POLLIN | select.POLLHUP)

    def send(self, data: bytes) -> None:
        self._stdin.write(data)

    def close_send(self) -> None:
        self._stdin.close()

    def recv(self, timeout_s: float) -> bytes:
        if not self._poll.poll(max(1, int(timeout_s * 1000))):
            raise TimeoutError
        return os.read(self._out_fd, 1 << 16)

    def kill(self) -> None:
        if self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
        for stream in (self._proc.stdin, self._proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass

    def diagnostics(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read(4000).decode("utf-8", "replace").strip()


# Third-party packages a solution may import when the host has them for the sandbox's interpreter:
# LiveCodeBench's own environment has numpy (its harness imports it).
SHARED_PACKAGES = ("numpy",)


@functools.cache
def host_packages(python: str) -> dict[str, str]:
    """name -> directory of each SHARED_PACKAGES member the host has for `python` (with its bundled libraries).

    Only for the interpreter evalkit itself runs on: another one may have another ABI. The
    directories are under the interpreter's prefix or /usr, which every isolation mode keeps visible.
    """
    if os.path.realpath(python) != real_python():
        return {}
    found: dict[str, str] = {}
    for name in SHARED_PACKAGES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.submodule_search_locations:
            continue
        directory = os.path.realpath(next(iter(spec.submodule_search_locations)))
        found[name] = directory
        libs = directory + ".libs"  # auditwheel puts the package's shared libraries (OpenBLAS) there
        if os.path.isdir(libs):
            found[name + ".libs"] = libs
    return found


@functools.cache
def detect_isolation() -> Isolation:
    """The strongest isolation that works on this machine: bwrap, else unshare, else none."""
    if isolation_works("bwrap"):
        return "bwrap"
    if isolation_works("unshare"):
        return "unshare"
    return "none"


def isolation_works(kind: Literal["bwrap", "unshare"]) -> bool:
    """Whether `kind` is installed and can start an isolated Python here (used by `evalkit doctor` too)."""
    probe = [real_python(), "-I", "-S", "-c", "pass"]
    if kind == "bwrap":
        return bool(shutil.which("bwrap")) and _works([*_bwrap_prefix(16 << 20), "--", *probe])
    return bool(shutil.which("unshare")) and _works([*_unshare_prefix(), *probe])


def _works(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=20, env=SANDBOX_ENV).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _bwrap_prefix(tmpfs_bytes: int, shared: Sequence[str] = ()) -> list[str]:
    args = [
        "bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session",
        "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox", "--cap-drop", "ALL",
        "--ro-bind", "/usr", "/usr",
    ]  # fmt: skip
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    if Path("/etc/ld.so.cache").exists():
        args += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    prefix = os.path.realpath(sys.base_prefix)
    if not prefix.startswith("/usr/"):
        args += ["--ro-bind", prefix, prefix]
    args += ["--ro-bind", str(RUNNER), _INSIDE_RUNNER, "--size", str(tmpfs_bytes), "--tmpfs", _INSIDE_WORKDIR]
    for directory in shared:
        # Shared packages (a virtualenv's numpy) may live where the sandbox shows nothing: under
        # /tmp, /home or /root. Bound after the tmpfs, read-only, at the path the runner links to.
        args += ["--ro-bind", directory, directory]
    args += ["--dev", "/dev", "--proc", "/proc", "--remount-ro", "/", "--chdir", _INSIDE_WORKDIR, "--clearenv"]
    for key, value in SANDBOX_ENV.items():
        args += ["--setenv", key, value]
    return args


def _unshare_prefix() -> list[str]:
    return [
        "unshare", "--user", "--map-root-user", "--mount", "--net", "--pid", "--fork", "--kill-child",
        "--ipc", "--uts", "--mount-proc",
    ]  # fmt: skip


class LocalSandbox:
    """Runs programs in namespaces on this machine (see the module docstring)."""

    name = "local"

    def __init__(self, isolation: Isolation, python: str | None = None) -> None:
        self.isolation: Isolation = isolation
        self.python = python or real_python()

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "isolation": self.isolation,
            "python": self.python,
            "namespaces": [] if self.isolation == "none" else ["user", "pid", "net", "ipc", "uts", "mount"],
            "read_only_host_view": self.isolation != "none",
            # unshare masks the sensitive top-level directories but leaves the rest of the host tree readable.
            "host_tree_hidden": self.isolation == "bwrap",
            "rlimits": ["cpu", "as", "stack", "nproc", "fsize", "nofile", "core"],
            # What a task without a memory limit (LiveCodeBench) is held to, per process and per run.
            "memory_cap_mb": machine_memory_cap_mb(),
            "packages": sorted(p for p in host_packages(self.python) if not p.endswith(".libs")),
            "cgroups": sorted(parents()),
            # RLIMIT_NPROC does not bind processes that are root outside their namespace: then only
            # a pids cgroup caps a fork bomb.
            "process_cap": "pids cgroup" if "pids" in parents() else ("rlimit" if os.geteuid() != 0 else "none"),
        }

    def run(
        self, program: Program, tests: Sequence[TestCase], limits: Limits, check: OutputCheck | None = None
    ) -> RunResult:
        validate(program, tests, limits)
        biggest = max((len(t.input.encode()) for t in tests), default=0)
        tmpfs_bytes = 2 * (limits.output_mb << 20) + biggest + (512 << 20)
        packages = host_packages(self.python) if limits.shared_packages else {}
        shared = sorted(packages.values())
        with tempfile.TemporaryFile() as stderr, tempfile.TemporaryDirectory(prefix="evalkit-sbx-") as host_dir:
            if self.isolation == "bwrap":
                command = [*_bwrap_prefix(tmpfs_bytes, shared), "--", self.python, "-I", "-S", "-B", _INSIDE_RUNNER]
                workdir, own_pid_ns = _INSIDE_WORKDIR, True
            elif self.isolation == "unshare":
                command = [*_unshare_prefix(), self.python, "-I", "-S", "-B", str(LOCKDOWN), str(tmpfs_bytes), *shared]
                workdir, own_pid_ns = _INSIDE_WORKDIR, True
            else:
                command = [self.python, "-I", "-S", "-B", str(RUNNER)]
                workdir, own_pid_ns = host_dir, False
            cgroups = RunCgroups(
                max_processes=limits.processes + 8,
                max_memory_bytes=(limits.address_space_mb << 20) + tmpfs_bytes + (256 << 20),
            )
            try:
                proc = subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                    env=dict(SANDBOX_ENV, HOME=workdir, TMPDIR=workdir),
                    cwd=host_dir,
                    start_new_session=True,
                    close_fds=True,
                    preexec_fn=cgroups.join if cgroups.dirs else None,
                )
            except (OSError, subprocess.SubprocessError) as e:
                cgroups.close()
                return RunResult("error", (), len(tests), f"could not start the sandbox: {e}")
            channel = ProcessChannel(proc, stderr)
            try:
                result = run_session(
                    channel,
                    program,
                    tests,
                    limits,
                    workdir=workdir,
                    own_pid_namespace=own_pid_ns,
                    check=check,
                    packages=packages,
                )
            finally:
                cgroups.close()
        return RunResult(
            result.verdict, result.tests, result.num_tests, result.message, result.wall_s, {"isolation": self.isolation}
        )

    def close(self) -> None:
        """Nothing to release: every run starts and ends its own sandbox."""


def create(
    *, unsafe_no_isolation: bool = False, isolation: Isolation | None = None, python: str | None = None
) -> LocalSandbox:
    """The local backend with the strongest isolation available.

    Refuses (EvalkitError) when neither bubblewrap nor unshare works, unless `unsafe_no_isolation`:
    then model code runs as a plain child process with only rlimits between it and the host.
    `isolation` forces a mode (tests use it to exercise the fallbacks).
    """
    mode = isolation or detect_isolation()
    if mode == "none" and not unsafe_no_isolation:
        raise EvalkitError(
            "Cannot isolate untrusted code: neither bubblewrap ('bwrap') nor 'unshare' with user namespaces works on "
            "this machine. Install bubblewrap (e.g. 'apt-get install bubblewrap'), use '--sandbox docker', or pass "
            "'--unsafe-no-isolation' to run model code without isolation (recorded in the manifest)."
        )
    return LocalSandbox(mode, python)
