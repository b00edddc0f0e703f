"""The test runner that executes inside a sandbox (standard library only, never imported by evalkit).

It reads a `start` message (language, source, limits) and then one `test` message per test from
stdin (the test's input; for a script test, its code), and writes one `result` message per test to
stdout. Each test runs in its own child process
(forked from this one for Python, so the interpreter, the compiled solution and LiveCodeBench's
star imports are paid for once per solution; exec'd for C++), with the test input as a real file on
fd 0 and fd 1 going to a size-capped file, so fast I/O through `sys.stdin.buffer` works. Those files
are opened once per solution and sit on fds 0-3 of the runner itself (its protocol pipes move to
high, close-on-exec fds), so a test's child inherits them without opening or dup'ing anything; the
runner truncates and rewinds them before each test.

The runner never sees expected outputs and never judges: it reports what the program did (exit
status, time, memory, its output) and the host compares. A solution that tampers with the runner
can therefore only lose, never forge a pass.

Wire format, both directions: one JSON header line, then `size` bytes of payload.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gc
import io
import json
import os
import resource
import select
import signal
import sys
import time

# `typing` costs the runner startup time and memory that every per-test fork copies; the names are
# only needed for type checking (mypy treats TYPE_CHECKING as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

EXIT_EXCEPTION = 101
EXIT_MEMORY = 102
EXIT_NO_ENTRY = 103
EXIT_ASSERTION = 104
WRAPPER = "__evalkit_main__"
# The runner's own descriptors live at or above this, out of the way of the test's fds 0-3.
_PRIVATE_FD = 10


def bind_prelude(names: dict[str, str]) -> dict[str, Any]:
    """Bind LiveCodeBench's implicit imports that the solution uses (see evalkit/sandbox/prelude.py)."""
    import importlib

    bound: dict[str, Any] = {}
    for name, source in names.items():
        try:
            module = importlib.import_module(source.lstrip("="))
            bound[name] = module if source.startswith("=") else getattr(module, name)
        except (ImportError, AttributeError):
            # The sandbox's Python may lack a name the host's has: the solution then fails as it would there.
            continue
    return bound


def wrap_top_level(source: str, plan: dict[str, Any], fallback: Any) -> Any:
    """The solution compiled with its top level inside a function (fast locals), else `fallback`.

    The host decided that the program cannot tell the difference, how many leading statements stay
    at module level (`head`: docstring, `from __future__`) and which names must stay global
    (`globals`; evalkit/sandbox/fastlocals.py). `_ast` rather than `ast`: the latter's imports cost the runner
    several milliseconds per solution.
    """
    import _ast

    try:
        tree: Any = compile(source, "<solution>", "exec", _ast.PyCF_ONLY_AST, dont_inherit=True)
        body = tree.body
        k, global_names = int(plan["head"]), list(plan["globals"])
        rest = [stmt for stmt in body[k:] if not isinstance(stmt, _ast.Global)]
        if not rest:
            return fallback
        at = {"lineno": rest[0].lineno, "col_offset": 0, "end_lineno": rest[0].lineno, "end_col_offset": 0}
        lead = [_ast.Global(names=global_names, **at)] if global_names else []
        arguments = _ast.arguments(
            posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]
        )
        extra: dict[str, Any] = {"type_params": []} if "type_params" in _ast.FunctionDef._fields else {}
        function = _ast.FunctionDef(
            name=WRAPPER, args=arguments, body=lead + rest, decorator_list=[], returns=None, type_comment=None,
            **extra, **at,
        )  # fmt: skip
        call = _ast.Call(func=_ast.Name(id=WRAPPER, ctx=_ast.Load(), **at), args=[], keywords=[], **at)
        tree.body = [*body[:k], function, _ast.Expr(value=call, **at)]
        return compile(tree, "<solution>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        return fallback


def add_packages(packages: dict[str, str], workdir: str, preimport: Any) -> None:
    """Make the host's `packages` (name -> directory) importable, and import those the solution uses.

    The solution sees only these packages, through symlinks in a private directory on sys.path;
    importing the ones it names here, before any test forks, pays their import (numpy: ~0.1 s) once
    per solution, as LiveCodeBench's harness has them imported already.
    """
    if not packages:
        return
    import importlib

    site = os.path.join(workdir, ".evalkit-site")
    os.makedirs(site, exist_ok=True)
    for name, target in packages.items():
        link = os.path.join(site, name)
        if not os.path.lexists(link):
            os.symlink(target, link)
    sys.path.append(site)
    for name in preimport:
        try:
            importlib.import_module(name)
        except Exception:
            # The solution's own import then fails the way it would anywhere.
            continue


def read_message(stream: IO[bytes]) -> tuple[dict[str, Any] | None, bytes]:
    line = stream.readline(1 << 20)
    if not line:
        return None, b""
    header = json.loads(line)
    size = int(header.get("size", 0))
    payload = stream.read(size) if size else b""
    if len(payload) != size:
        raise EOFError("truncated message")
    return header, payload


def write_message(stream: IO[bytes], header: dict[str, Any], payload: bytes = b"") -> None:
    header = dict(header, size=len(payload))
    stream.write(json.dumps(header).encode() + b"\n")
    if payload:
        stream.write(payload)
    stream.flush()


def child_rlimits(limits: dict[str, Any], timeout_s: float, max_output: int) -> list[tuple[int, tuple[int, int]]]:
    """The rlimits of one test's child (worked out in the runner: whatever the child touches, it copies)."""
    cpu = int(timeout_s) + 1
    memory = int(limits["address_space_mb"]) << 20
    return [
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_AS, (memory, memory)),
        (resource.RLIMIT_STACK, (memory, memory)),
        (resource.RLIMIT_FSIZE, (max_output, max_output)),
        (resource.RLIMIT_NPROC, (limits["processes"], limits["processes"])),
        (resource.RLIMIT_NOFILE, (limits["open_files"], limits["open_files"])),
        (resource.RLIMIT_CORE, (0, 0)),
    ]


def apply_rlimits(pairs: list[tuple[int, tuple[int, int]]]) -> None:
    for kind, value in pairs:
        try:
            resource.setrlimit(kind, value)
        except (ValueError, OSError):
            # A hard limit set by the sandbox itself may already be lower: keep that one.
            _, hard = resource.getrlimit(kind)
            capped = min(value[0], hard) if hard != resource.RLIM_INFINITY else value[0]
            resource.setrlimit(kind, (capped, hard))


def _private_copy(fd: int) -> int:
    """A close-on-exec copy of `fd` at or above _PRIVATE_FD."""
    return int(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _PRIVATE_FD))


def _private(fd: int) -> int:
    """Move `fd` to a close-on-exec descriptor at or above _PRIVATE_FD."""
    moved = _private_copy(fd)
    os.close(fd)
    return moved


def _install(fd: int, target: int) -> None:
    if fd == target:
        os.set_inheritable(fd, True)
    else:
        os.dup2(fd, target)
        os.close(fd)


class StdioFiles:
    """The test's stdin, stdout, stderr (and, for functional and script tests, the result) on fds 0-3.

    A child inherits only fds 0-3 (the input read-only, the rest write-only); the runner writes the
    input and reads what came out through separate descriptions of the same files, which it closes
    in the child.
    """

    def __init__(self, workdir: str, result: bool) -> None:
        def path(name: str) -> str:
            return os.path.join(workdir, name)

        create = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        self.input = _private(os.open(path("input"), create, 0o600))
        _install(os.open(path("input"), os.O_RDONLY), 0)
        self.readers: list[int] = []
        for target, name in enumerate(("output", "error", "result")[: 3 if result else 2], start=1):
            _install(os.open(path(name), create, 0o600), target)
            self.readers.append(_private(os.open(path(name), os.O_RDONLY)))
        self.count = 1 + len(self.readers)
        # A child may change status flags (O_APPEND, O_NONBLOCK, ...) of the descriptions it shares with the
        # runner; restoring them keeps one test from affecting the next.
        self.flags = [fcntl.fcntl(fd, fcntl.F_GETFL) for fd in range(self.count)]

    def reset(self, payload: bytes) -> None:
        """Make the files what a fresh test expects: the input holds `payload`, the outputs are empty."""
        os.ftruncate(self.input, 0)
        view = memoryview(payload)
        while view:
            view = view[os.pwrite(self.input, view, len(payload) - len(view)) :]
        for fd, flags in enumerate(self.flags):
            if fd:
                os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            fcntl.fcntl(fd, fcntl.F_SETFL, flags)

    def collect(self, max_output: int) -> tuple[bool, str, bytes]:
        """(output limit reached, start of stderr, the output or the returned value) after a test."""
        output_size = os.fstat(self.readers[0]).st_size
        stderr = os.pread(self.readers[1], 2048, 0).decode("utf-8", "replace")
        body_fd = self.readers[-1] if len(self.readers) > 2 else self.readers[0]
        body = os.pread(body_fd, min(os.fstat(body_fd).st_size, max_output), 0)
        return output_size >= max_output, stderr, body


def prepare_python(prelude: dict[str, Any], name: str) -> tuple[dict[str, Any], io.TextIOWrapper]:
    """The solution's globals and stdio over the test's fds 0-2, built once before any fork.

    Each child execs in its own copy-on-write copy of what the runner never touches, so this is as
    fresh as building it in every child, which costs a noticeable share of a trivial test (codec
    lookup and copy-on-write page faults). Returns (globals, the solution's stderr).
    """
    stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8")
    stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding="utf-8")
    stderr = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)), encoding="utf-8", write_through=True)
    # The runner talks through its own streams and reports its errors on sys.stderr, which only the
    # child switches over.
    sys.stdin, sys.stdout = stdin, stdout
    sys.__stdin__, sys.__stdout__ = stdin, stdout  # type: ignore[misc]
    sys.setrecursionlimit(50000)
    namespace = dict(prelude)
    namespace.update(__name__=name, stdin=stdin, stdout=stdout, stderr=stderr)
    return namespace, stderr


def plain(value: Any) -> Any:
    """The value with numpy scalars and arrays made plain (their repr is no literal); tuples stay tuples.

    LiveCodeBench compares the returned value itself under `==`, where a numpy scalar equals the
    plain number; only a top-level tuple becomes a list there (see run_python_child), so a nested
    tuple is a wrong answer against a JSON list, here as there.
    """
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    for attr in ("tolist", "item"):
        method = getattr(type(value), attr, None)
        if method is not None and type(value).__module__.startswith("numpy"):
            return plain(method(value))
    return value


def report_failure(error: BaseException, test_source: str | None) -> int:
    """The exit status for an exception that ended a script test, with what to show on stderr.

    A failed `assert` of the test code itself (the innermost frame is the test's) is a wrong answer;
    anything else, the program's own exceptions included, is a runtime error.
    """
    import traceback

    if isinstance(error, MemoryError) or (isinstance(error, OSError) and error.errno == errno.ENOMEM):
        return EXIT_MEMORY
    frames = traceback.extract_tb(error.__traceback__)
    if test_source is not None and isinstance(error, AssertionError) and frames and frames[-1].filename == "<test>":
        lineno = frames[-1].lineno or 0
        lines = test_source.splitlines()
        where = lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""
        detail = f" ({error})" if str(error) else ""
        sys.stderr.write(f"\nassertion failed at line {lineno} of the test: {where}{detail}\n")
        return EXIT_ASSERTION
    traceback.print_exception(error)
    return EXIT_EXCEPTION


def run_script(code: Any, test_source: str, namespace: dict[str, Any], token: str) -> int:
    """Run the program, then the test code in its namespace; write `token` to fd 3 once the test code ends."""
    try:
        exec(code, namespace)
    except BaseException as e:  # SystemExit too: a program that exits never reaches its tests
        return report_failure(e, None)
    try:
        exec(compile(test_source, "<test>", "exec", dont_inherit=True), namespace)
    except BaseException as e:
        return report_failure(e, test_source)
    with open(3, "w", closefd=False, encoding="utf-8") as out:
        out.write(token)
    return 0


def run_program(code: Any, namespace: dict[str, Any], start: dict[str, Any], args: list[Any] | None) -> int:
    """Run a stdin program, or call a functional test's entry point on `args` (its result to fd 3).

    Returns the exit status for the host.
    """
    status = 0
    try:
        exec(code, namespace)
        if args is not None:
            entry = None
            if "class Solution" in start["source"] and "Solution" in namespace:
                entry = getattr(namespace["Solution"](), start["fn_name"], None)
            else:
                entry = namespace.get(start["fn_name"])
            if entry is None:
                sys.stderr.write(f"no callable named {start['fn_name']!r} in the solution\n")
                status = EXIT_NO_ENTRY
            else:
                value = entry(*args)
                with open(3, "w", closefd=False, encoding="utf-8") as out:
                    out.write(repr(plain(list(value) if isinstance(value, tuple) else value)))
    except SystemExit:
        # LiveCodeBench swallows SystemExit: `exit()` after printing the answer still passes.
        pass
    except MemoryError:
        status = EXIT_MEMORY
    except BaseException as e:
        if isinstance(e, OSError) and e.errno == errno.ENOMEM:
            # ENOMEM from mmap and friends is the address-space limit speaking, as MemoryError is.
            status = EXIT_MEMORY
        else:
            import traceback

            traceback.print_exc()
            status = EXIT_EXCEPTION
    return status


def run_python_child(
    code: Any,
    python: tuple[dict[str, Any], io.TextIOWrapper],
    start: dict[str, Any],
    args: list[Any] | None,
    test_source: str | None,
) -> None:
    namespace, stderr = python
    sys.stderr = sys.__stderr__ = stderr  # type: ignore[misc]
    if test_source is None:
        status = run_program(code, namespace, start, args)
    else:
        try:
            status = run_script(code, test_source, namespace, start["script_token"])
        except BaseException:  # writing the token failed (the program closed fd 3): not a pass
            status = EXIT_EXCEPTION
    threading = sys.modules.get("threading")
    if threading is not None:
        # A real interpreter waits for the program's non-daemon threads before it exits.
        try:
            threading._shutdown()  # type: ignore[attr-defined]
        except BaseException:
            status = status or EXIT_EXCEPTION
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        status = status or EXIT_EXCEPTION
    os._exit(status)


def wait_child(pid: int, timeout_s: float) -> tuple[int, Any, bool]:
    """Wait for `pid` at most `timeout_s` of wall time; kill it on timeout. Returns (status, rusage, timed_out)."""
    fd = os.pidfd_open(pid)
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        timed_out = not poller.poll(max(0, int(timeout_s * 1000)))
        if timed_out:
            os.kill(pid, signal.SIGKILL)
    finally:
        os.close(fd)
    _, status, usage = os.wait4(pid, 0)
    return status, usage, timed_out


def sweep(own_pid_namespace: bool, pid: int) -> None:
    """Kill whatever a test left behind (daemons, forked helpers) before the next test starts."""
    if own_pid_namespace:
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
    else:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def run_test(
    start: dict[str, Any],
    python: tuple[dict[str, Any], io.TextIOWrapper],
    code: Any,
    binary: str | None,
    header: dict[str, Any],
    payload: bytes,
    files: StdioFiles,
) -> tuple[dict[str, Any], bytes]:
    timeout_s = float(header["timeout_s"])
    max_output = int(header["max_output"])
    rlimits = child_rlimits(start["limits"], timeout_s, max_output)
    args = None
    test_source = None
    if start["mode"] == "functional":
        args = [json.loads(line) for line in payload.decode("utf-8").split("\n")]
    elif start["mode"] == "script":
        # The test code runs after the program; the program's stdin is empty.
        test_source, payload = payload.decode("utf-8"), b""
    files.reset(payload)
    began = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.setpgid(0, 0)
            # Only the test's own files stay open: not the protocol pipes, not the runner's ends.
            os.closerange(files.count, 1 << 16)
            apply_rlimits(rlimits)
            if binary is not None:
                for sig in (signal.SIGPIPE, signal.SIGXFSZ):
                    signal.signal(sig, signal.SIG_DFL)
                os.execv(binary, [binary])
            run_python_child(code, python, start, args, test_source)
        finally:
            os._exit(EXIT_EXCEPTION)
    status, usage, timed_out = wait_child(pid, timeout_s)
    wall = time.monotonic() - began
    sweep(start["own_pid_namespace"], pid)
    output_limit, stderr, body = files.collect(max_output)
    out = {
        "event": "result",
        "index": header["index"],
        "wall_s": round(wall, 6),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 6),
        "memory_kb": usage.ru_maxrss,
        "timed_out": timed_out,
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "output_limit": output_limit,
        "stderr": stderr,
    }
    return out, body


def compile_cpp(start: dict[str, Any], workdir: str) -> tuple[str | None, str]:
    source = os.path.join(workdir, "solution.cpp")
    binary = os.path.join(workdir, "solution")
    with open(source, "w", encoding="utf-8") as f:
        f.write(start["source"])
    limits = start["limits"]
    memory = max(int(limits["address_space_mb"]), 1024) << 20

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 << 20, 256 << 20))

    import subprocess

    try:
        done = subprocess.run(
            ["g++", "-std=c++17", "-O2", "-pipe", "-o", binary, source],
            cwd=workdir,
            capture_output=True,
            timeout=float(limits["compile_timeout_s"]),
            preexec_fn=limit,
        )
    except subprocess.TimeoutExpired:
        return None, "compilation timed out"
    if done.returncode != 0:
        return None, done.stderr.decode("utf-8", "replace")[-4000:]
    return binary, ""


def main() -> None:
    # The protocol moves off fds 0-2, which become the test's files; the runner's own errors still
    # reach the sandbox's stderr.
    stdin = os.fdopen(_private_copy(0), "rb")
    stdout = os.fdopen(_private_copy(1), "wb")
    diagnostics = os.fdopen(_private_copy(2), "w", encoding="utf-8", errors="replace")
    sys.stderr = sys.__stderr__ = diagnostics  # type: ignore[misc]
    start, payload = read_message(stdin)
    if start is None:
        return
    start["source"] = payload.decode("utf-8")
    workdir = start["workdir"]
    os.makedirs(workdir, exist_ok=True)
    os.chdir(workdir)
    if start.get("int_max_str_digits") is not None:
        # Before anything parses or prints an int: the solution's literals, the functional arguments.
        sys.set_int_max_str_digits(int(start["int_max_str_digits"]))
    prelude: dict[str, Any] = {}
    code: Any = None
    binary: str | None = None
    if start["language"] == "python":
        try:
            # dont_inherit: the solution is compiled as Python would, not with this file's own
            # `from __future__ import annotations` (which would leave its annotations unevaluated).
            code = compile(start["source"], "<solution>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, MemoryError, RecursionError) as e:
            write_message(stdout, {"event": "compile_error", "message": f"{type(e).__name__}: {e}"})
            return
        if start.get("fast_locals") is not None:
            code = wrap_top_level(start["source"], start["fast_locals"], code)
        add_packages(start.get("packages") or {}, workdir, start.get("preimport") or ())
        prelude = bind_prelude(start.get("prelude") or {})
    else:
        binary, message = compile_cpp(start, workdir)
        if binary is None:
            write_message(stdout, {"event": "compile_error", "message": message})
            return
    files = StdioFiles(workdir, result=start["mode"] != "stdin")
    # A script test's program is imported, not run as a script: its `if __name__ == "__main__":` block
    # stays out of the way of the tests (as in HumanEval's own harness).
    python = prepare_python(prelude, "solution" if start["mode"] == "script" else "__main__")
    # Objects that exist now are never collected: forked children then do not copy the pages the
    # collector would touch, which makes each per-test fork cheaper.
    gc.freeze()
    write_message(stdout, {"event": "ready"})
    while True:
        header, data = read_message(stdin)
        if header is None:
            return
        result, body = run_test(start, python, code, binary, header, data, files)
        write_message(stdout, result, body)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    main()
