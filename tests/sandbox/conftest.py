"""Fixtures for sandbox tests: the real backends (bubblewrap, the unshare fallback, docker with its own dockerd)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evalkit.sandbox.base import Sandbox
from evalkit.sandbox.local import LOCKDOWN, create, detect_isolation, real_python


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = ["unshare", "--user", "--map-root-user", "--mount", "--net", "--pid", "--fork", "--kill-child",
             "--mount-proc", real_python(), "-I", "-S", "-c", "pass"]  # fmt: skip
    return subprocess.run(probe, capture_output=True, timeout=30).returncode == 0


@pytest.fixture(scope="session")
def bwrap_sandbox() -> Sandbox:
    if detect_isolation() != "bwrap":
        pytest.skip("bubblewrap is not installed or cannot create namespaces here (apt-get install bubblewrap)")
    return create(isolation="bwrap")


@pytest.fixture(
    scope="session", params=["bwrap", "unshare", pytest.param("docker", marks=[pytest.mark.docker, pytest.mark.slow])]
)
def sandbox(request: pytest.FixtureRequest) -> Sandbox:
    """Each real backend that works on this machine: local (bubblewrap, unshare fallback) and docker."""
    if request.param == "docker":
        docker_sandbox: Sandbox = request.getfixturevalue("docker_sandbox")
        return docker_sandbox
    return _local_sandbox(request.param)


@pytest.fixture(scope="session", params=["bwrap", "unshare"])
def local_sandbox(request: pytest.FixtureRequest) -> Sandbox:
    """Each isolation mode of the local sandbox that works on this machine."""
    return _local_sandbox(request.param)


def _local_sandbox(mode: str) -> Sandbox:
    if mode == "bwrap" and shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)")
    if mode == "unshare" and not _unshare_works():
        pytest.skip("unshare cannot create user/pid/net namespaces on this machine")
    assert LOCKDOWN.exists()
    return create(isolation=mode)


@pytest.fixture
def planted(tmp_path: Path) -> Iterator[Path]:
    """A host file outside any sandbox; tests check that it is unreadable and stays unchanged."""
    path = tmp_path / "planted-secret.txt"
    path.write_text("host-secret-7f3a\n")
    yield path
    assert path.read_text() == "host-secret-7f3a\n", "a sandboxed program changed a host file"


@pytest.fixture
def sentinel() -> Iterator[subprocess.Popen[bytes]]:
    """A host process the sandboxed code tries to see and kill."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "evalkit-sentinel-4242"])
    yield proc
    alive = proc.poll() is None
    proc.kill()
    proc.wait()
    assert alive, "a sandboxed program killed a host process"


def _python_rootfs(tar_path: Path) -> None:
    """A minimal image root: Debian's python3.11, the libraries `ldd` names, and its stdlib (no tests)."""
    import tarfile

    python = Path("/usr/bin/python3.11")
    libs = subprocess.run(["ldd", str(python)], capture_output=True, text=True, check=True).stdout
    paths = [python, *(Path(p) for p in libs.split() if p.startswith("/"))]
    with tarfile.open(tar_path, "w") as tar:
        for path in paths:
            tar.add(path.resolve(), arcname=str(path).lstrip("/"))
        tar.add("/usr/lib/python3.11", arcname="usr/lib/python3.11", filter=_stdlib_only)
        for name in ("tmp", "etc"):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777
            tar.addfile(info)
        link = tarfile.TarInfo("usr/bin/python3")
        link.type, link.linkname = tarfile.SYMTYPE, "python3.11"
        tar.addfile(link)


def _stdlib_only(info: Any) -> Any:
    skip = ("/test/", "/site-packages/", "/dist-packages/", "/idlelib/", "/tkinter/", "/lib2to3/", "/ensurepip/")
    return None if any(s in info.name + "/" for s in skip) else info


@pytest.fixture(scope="session")
def docker_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Docker engine: the configured one if it answers, else a dockerd started here (stopped at the end)."""
    docker = pytest.importorskip("docker", reason="the docker SDK is not installed (pip install 'evalkit[docker]')")
    try:
        docker.from_env().ping()
        yield os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        return
    except Exception:
        pass
    if shutil.which("dockerd") is None:
        pytest.skip("no Docker engine answers and dockerd is not installed (apt-get install docker.io)")
    root = Path(tempfile.mkdtemp(prefix="evalkit-dockerd-"))
    url = f"unix://{root}/docker.sock"
    log = (root / "dockerd.log").open("wb")
    daemon = subprocess.Popen(
        ["dockerd", "--host", url, "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
         "--pidfile", str(root / "dockerd.pid"), "--iptables=false", "--bridge=none"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                docker.DockerClient(base_url=url).ping()
                break
            except Exception:
                if daemon.poll() is not None or time.monotonic() > deadline:
                    tail = (root / "dockerd.log").read_text(errors="replace")[-800:]
                    pytest.skip(f"dockerd could not start here: {tail}")
                time.sleep(0.2)
        yield url
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=20)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def docker_sandbox(docker_engine: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The docker backend on an image imported offline from a minimal python3.11 root file system."""
    import docker

    from evalkit.sandbox.docker import create as create_docker

    if not Path("/usr/bin/python3.11").exists():
        pytest.skip("Debian's /usr/bin/python3.11 is needed to build the offline test image")
    client = docker.DockerClient(base_url=docker_engine)
    tar_path = tmp_path_factory.mktemp("image") / "rootfs.tar"
    _python_rootfs(tar_path)
    client.api.import_image_from_file(str(tar_path), repository="evalkit-sandbox-test", tag="latest")
    sandbox = create_docker(image="evalkit-sandbox-test:latest", python="/usr/bin/python3", base_url=docker_engine)
    yield sandbox
    sandbox.close()
