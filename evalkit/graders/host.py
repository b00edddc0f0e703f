"""A grading pool in a Python process of its own, for callers that cannot host one: the reward API.

Reward functions are called from user scripts and training loops. A pool started in the caller's
process makes each worker re-import the caller's main module (multiprocessing's spawn and forkserver
both do), which runs a script without an `if __name__ == "__main__":` guard again in every worker:
its workers died at start-up, so every item was an error and a large batch hung. The host is started
with `python -m evalkit.graders.host`, so its workers import this module, never the caller's script,
and the caller needs no guard. Jobs and Scores cross two pipes as pickles (multiprocessing's
Connection frames them); the host exits when the pipes close, which also happens if the caller dies.

    python -m evalkit.graders.host READ_FD WRITE_FD WORKERS
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path

from evalkit.errors import EvalkitError
from evalkit.types import Score

_HOSTS: dict[int, PoolHost] = {}
_HOSTS_LOCK = threading.Lock()


class PoolHost:
    """A LocalGradingPool of `workers` processes inside a child process; `grade` sends it a batch of jobs."""

    def __init__(self, workers: int) -> None:
        to_host_r, to_host_w = os.pipe()
        from_host_r, from_host_w = os.pipe()
        env = dict(os.environ)
        # The host must import this same evalkit, installed or not.
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        command = [sys.executable, "-m", "evalkit.graders.host", str(to_host_r), str(from_host_w), str(workers)]
        self._proc = subprocess.Popen(command, pass_fds=(to_host_r, from_host_w), env=env, stdin=subprocess.DEVNULL)
        os.close(to_host_r)
        os.close(from_host_w)
        self._send = Connection(to_host_w, readable=False)
        self._recv = Connection(from_host_r, writable=False)
        self._lock = threading.Lock()

    def grade(self, jobs: Sequence[object]) -> list[Score]:
        """Grade `jobs` (GradeJobs) in the host's pool; one Score per job, in order."""
        with self._lock:
            try:
                self._send.send(list(jobs))
                scores: list[Score] = self._recv.recv()
            except (EOFError, OSError) as e:
                code = self._proc.poll()
                raise EvalkitError(
                    f"The grading process ended unexpectedly (exit code {code}); nothing was graded. Its error, "
                    "if any, is printed above."
                ) from e
        return scores

    @property
    def alive(self) -> bool:
        """Whether the host process is still running (a dead one is replaced by `shared_host`)."""
        return self._proc.poll() is None

    def close(self) -> None:
        """Close the pipes (the host then stops its pool and exits) and wait for it."""
        self._send.close()
        self._recv.close()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


def shared_host(workers: int | None = None) -> PoolHost:
    """A process-wide host per `workers` value (default: the CPU count), closed at interpreter exit."""
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count < 1:
        raise EvalkitError(f"The grading pool needs at least 1 worker, got {count}; pass a positive number.")
    with _HOSTS_LOCK:
        host = _HOSTS.get(count)
        if host is None or not host.alive:
            host = _HOSTS[count] = PoolHost(count)
            atexit.register(host.close)
        return host


def _serve(read_fd: int, write_fd: int, workers: int) -> None:
    from concurrent.futures import wait

    from evalkit.graders.pool import LocalGradingPool

    recv, send = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    with LocalGradingPool(workers) as pool:
        while True:
            try:
                jobs = recv.recv()
            except (EOFError, OSError):
                return
            futures = [pool.submit(job) for job in jobs]
            wait(futures)
            send.send([f.result() for f in futures])


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
