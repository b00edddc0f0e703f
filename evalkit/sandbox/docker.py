"""The `docker` sandbox: one warm container per backend instance (per grading worker), reused.

The container runs an image built from `sandboxes/*.Dockerfile` with no network, a read-only root
file system, a size-capped tmpfs at /tmp, all capabilities dropped, no-new-privileges, an
unprivileged user and pids/memory/CPU limits. Each solution is one `exec` of the runner
(evalkit/sandbox/inside.py, passed with `-c` so the image never needs evalkit) in its own work dir;
afterwards every process in the container is killed and /tmp emptied, so nothing carries
over to the next solution. The Docker SDK is imported lazily (extra: `evalkit[docker]`).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import select
import socket
import struct
import threading
from collections.abc import Sequence
from typing import Any

from evalkit.errors import EvalkitError, MissingExtraError
from evalkit.sandbox.base import Limits, OutputCheck, Program, RunResult, TestCase, machine_memory_cap_mb
from evalkit.sandbox.local import RUNNER, SHARED_PACKAGES
from evalkit.sandbox.session import run_session, validate

DEFAULT_IMAGE = "evalkit-sandbox-python:latest"
USER = "65534:65534"
# The container's pid 1: it reaps (by ignoring SIGCHLD) the orphans that killed solutions leave behind.
_INIT = "import signal, time\nsignal.signal(signal.SIGCHLD, signal.SIG_IGN)\nwhile True:\n    time.sleep(3600)\n"
# Kills every process of the sandbox user (pid 1 is immune) and empties /tmp, the only writable place.
_CLEANUP = """\
import os, shutil, signal
try:
    os.kill(-1, signal.SIGKILL)
except OSError:
    pass
for name in os.listdir("/tmp"):
    path = os.path.join("/tmp", name)
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        os.unlink(path)
"""
# Where the image's interpreter has the shared packages (it runs solutions with -S, without its site).
_PROBE = """\
import importlib.util, json, os, sys
found = {}
for name in sys.argv[1:]:
    spec = importlib.util.find_spec(name)
    if spec is not None and spec.submodule_search_locations:
        path = os.path.realpath(list(spec.submodule_search_locations)[0])
        found[name] = path
        if os.path.isdir(path + ".libs"):
            found[name + ".libs"] = path + ".libs"
print(json.dumps(found))
"""


class DockerChannel:
    """A Channel over a `docker exec` attach socket (stdout/stderr arrive multiplexed in 8-byte-header frames)."""

    def __init__(self, raw: socket.socket, on_kill: Any) -> None:
        self._sock = raw
        self._on_kill = on_kill
        self._pending = b""
        self._stderr = bytearray()
        self._killed = False

    def send(self, data: bytes) -> None:
        self._sock.sendall(data)

    def close_send(self) -> None:
        self._sock.shutdown(socket.SHUT_WR)

    def recv(self, timeout_s: float) -> bytes:
        while True:
            frame = self._frame()
            if frame is not None:
                stream, payload = frame
                if stream == 2:
                    self._stderr += payload[: max(0, 4000 - len(self._stderr))]
                    continue
                return payload
            ready, _, _ = select.select([self._sock], [], [], max(0.001, timeout_s))
            if not ready:
                raise TimeoutError
            chunk = self._sock.recv(1 << 16)
            if not chunk:
                return b""
            self._pending += chunk

    def _frame(self) -> tuple[int, bytes] | None:
        if len(self._pending) < 8:
            return None
        stream, size = self._pending[0], struct.unpack(">I", self._pending[4:8])[0]
        if len(self._pending) < 8 + size:
            return None
        payload, self._pending = self._pending[8 : 8 + size], self._pending[8 + size :]
        return stream, payload

    def kill(self) -> None:
        if not self._killed:
            self._killed = True
            self._sock.close()
            self._on_kill()

    def diagnostics(self) -> str:
        return self._stderr.decode("utf-8", "replace").strip()


class DockerSandbox:
    """Runs programs in a warm, locked-down container (see the module docstring)."""

    name = "docker"

    def __init__(self, client: Any, image: str, python: str, cpus: float, memory_mb: int) -> None:
        self._client = client
        self.image = image
        self.python = python
        self.cpus = cpus
        self.memory_mb = memory_mb
        self._container: Any = None
        self._packages: dict[str, str] = {}
        self._lock = threading.Lock()
        self._runs = itertools.count()
        with open(RUNNER, encoding="utf-8") as f:
            self._runner_source = f.read()

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "isolation": "docker",
            "image": self.image,
            "network": "none",
            "read_only_root": True,
            "user": USER,
            "cpus": self.cpus,
            "memory_mb": self.memory_mb,
        }

    def _ensure_container(self) -> Any:
        if self._container is None:
            self._container = self._client.containers.run(
                self.image,
                [self.python, "-I", "-S", "-c", _INIT],
                detach=True,
                auto_remove=True,
                network_mode="none",
                read_only=True,
                tmpfs={"/tmp": f"rw,nosuid,nodev,size={2 * self.memory_mb}m,mode=1777"},
                user=USER,
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                pids_limit=256,
                mem_limit=f"{self.memory_mb + 512}m",
                memswap_limit=f"{self.memory_mb + 512}m",
                nano_cpus=int(self.cpus * 1e9),
                environment={
                    "HOME": "/tmp",
                    "LANG": "C.UTF-8",
                    "PYTHONIOENCODING": "utf-8",
                    "OPENBLAS_NUM_THREADS": "1",
                },
                labels={"evalkit.sandbox": "1"},
            )
            self._packages = self._find_packages()
        return self._container

    def _find_packages(self) -> dict[str, str]:
        """The shared packages (numpy) the image has, for solutions to import (none when the probe fails)."""
        exit_code, output = self._container.exec_run(
            [self.python, "-I", "-c", _PROBE, *SHARED_PACKAGES], user=USER, demux=False
        )
        try:
            found = json.loads(output) if exit_code == 0 else {}
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}

    def run(
        self, program: Program, tests: Sequence[TestCase], limits: Limits, check: OutputCheck | None = None
    ) -> RunResult:
        validate(program, tests, limits)
        with self._lock:
            try:
                container = self._ensure_container()
                workdir = f"/tmp/run-{next(self._runs)}"
                api = self._client.api
                exec_id = api.exec_create(
                    container.id,
                    [self.python, "-I", "-S", "-B", "-c", self._runner_source],
                    stdin=True,
                    stdout=True,
                    stderr=True,
                    user=USER,
                    workdir="/tmp",
                )["Id"]
                raw = api.exec_start(exec_id, socket=True)._sock
            except Exception as e:  # the SDK raises its own and requests' error types
                return RunResult("error", (), len(tests), f"docker sandbox failure: {type(e).__name__}: {e}")
            channel = DockerChannel(raw, self._cleanup)
            result = run_session(
                channel,
                program,
                tests,
                limits,
                workdir=workdir,
                own_pid_namespace=True,
                check=check,
                packages=self._packages,
            )
            return RunResult(
                result.verdict, result.tests, result.num_tests, result.message, result.wall_s, {"isolation": "docker"}
            )

    def _cleanup(self) -> None:
        """Kill every process the solution left in the container and wipe /tmp for the next one."""
        self._container.exec_run([self.python, "-I", "-S", "-c", _CLEANUP], user=USER)

    def close(self) -> None:
        with self._lock:
            if self._container is not None:
                # Already gone (auto_remove) or the daemon stopped: nothing left to release.
                with contextlib.suppress(Exception):
                    self._container.remove(force=True)
                self._container = None


def create(
    *,
    unsafe_no_isolation: bool = False,
    image: str = DEFAULT_IMAGE,
    python: str = "python3",
    cpus: float = 1.0,
    memory_mb: int | None = None,
    base_url: str | None = None,
) -> DockerSandbox:
    """Connect to the Docker engine ($DOCKER_HOST or `base_url`) and check that `image` exists.

    `memory_mb` caps the container (default: half the machine's memory, as the local sandbox caps a
    task without a memory limit). `unsafe_no_isolation` is accepted for a uniform factory
    signature; containers always isolate.
    """
    try:
        import docker
    except ImportError as e:
        raise MissingExtraError("The docker sandbox", "docker") from e
    try:
        client = docker.DockerClient(base_url=base_url) if base_url else docker.from_env()
        client.ping()
    except Exception as e:  # connection refused, permission denied, missing socket
        raise EvalkitError(
            f"Cannot reach the Docker engine ({e}). Start dockerd (or set DOCKER_HOST), or use '--sandbox local'."
        ) from e
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound as e:
        raise EvalkitError(
            f"Docker image '{image}' not found. Build it with: docker build -f sandboxes/python.Dockerfile "
            f"-t {image} sandboxes/"
        ) from e
    return DockerSandbox(client, image, python, cpus, memory_mb if memory_mb is not None else machine_memory_cap_mb())
