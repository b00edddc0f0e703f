"""Disk trouble under a real `evalkit run`: a full disk and a read-only results folder.

Both are simulated with a small tmpfs mounted for the test (as root, or as root of a user+mount
namespace through `unshare` when mounting is not permitted here). Each must end in exit code 2 with
a message naming the problem and the fix; the rows written before must be intact; and once space is
freed (the tmpfs grown) or the folder is writable again, the same command completes with exact rows.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from evalkit.testing.processes import cli_env
from evalkit.testing.server import ScriptedServer

pytestmark = pytest.mark.slow

PROBLEMS = 10
N = 8
TOTAL = PROBLEMS * N
# Set in the copy of pytest that runs inside a user+mount namespace.
IN_NAMESPACE_ENV = "EVALKIT_FAULTS_IN_MOUNT_NAMESPACE"


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


def _can_mount(probe: Path) -> bool:
    probe.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None or _mount("-t", "tmpfs", "-o", "size=4k", "tmpfs", str(probe)).returncode:
        return False
    subprocess.run(["umount", str(probe)], check=True)
    return True


def mounts_here_or_in_namespace(request: pytest.FixtureRequest, tmp_path: Path) -> bool:
    """True: mounting works in this process, run the test body. False: the body already ran, and
    passed, in a copy of pytest inside a user+mount namespace. Skips when neither can mount."""
    if _can_mount(tmp_path / "probe"):
        return True
    if os.environ.get(IN_NAMESPACE_ENV):
        pytest.fail("mounting a tmpfs failed even inside a user+mount namespace")
    for unshare in (["unshare", "-m"], ["unshare", "-r", "-m"]):
        if shutil.which("unshare") and subprocess.run([*unshare, "true"], capture_output=True).returncode == 0:
            break
    else:
        pytest.skip(
            "cannot mount a tmpfs (needs root or CAP_SYS_ADMIN) and `unshare -m` / `unshare -rm` are not permitted"
        )
    env = {**os.environ, IN_NAMESPACE_ENV: "1"}
    inner = [*unshare, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", request.node.nodeid]
    result = subprocess.run(inner, cwd=request.config.rootpath, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"inside `{' '.join(unshare)}`:\n{result.stdout[-6000:]}{result.stderr[-2000:]}"
    return False


class Tmpfs:
    """A tmpfs mounted at `path` for one test; `remount` changes its size or makes it read-only."""

    def __init__(self, path: Path, size: str) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        result = _mount("-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path))
        assert result.returncode == 0, result.stderr

    def remount(self, options: str) -> None:
        result = _mount("-o", f"remount,{options}", str(self.path))
        assert result.returncode == 0, result.stderr

    def unmount(self) -> None:
        subprocess.run(["umount", "--lazy", str(self.path)], check=True)


@pytest.fixture
def tmpfs_factory(tmp_path: Path) -> Iterator[list[Tmpfs]]:
    """Tmpfs mounts made by the test, unmounted afterwards whatever happened."""
    made: list[Tmpfs] = []
    yield made
    for mount in made:
        mount.unmount()


def _run(kit: ModuleType, server: ScriptedServer, data: Path, out: Path, limit: int = PROBLEMS) -> tuple[int, str]:
    argv = kit.evalkit(
        "run", "--model", "scripted", "--backend", "openai", "--base-url", server.url, "--tasks", f"aime24@n={N}",
        "--limit", str(limit), "--data-dir", str(data), "--output", str(out), "--quiet",
    )  # fmt: skip
    result = subprocess.run(argv, env=cli_env(), capture_output=True, text=True, timeout=300)
    return result.returncode, re.sub(r"\s+", " ", result.stderr)


def _complete_lines(path: Path) -> bytes:
    """The bytes of a JSONL file up to its last newline (what a resume must keep as it is)."""
    data = path.read_bytes() if path.exists() else b""
    return data[: data.rfind(b"\n") + 1]


def _assert_clear_error(code: int, message: str, problem: str) -> None:
    assert code == 2, f"exit {code}: {message}"
    assert "Traceback" not in message, message
    assert problem in message, message


# Sizes at which the disk fills while writing generations, while writing grades, and at the summary.
@pytest.mark.parametrize("size", ["8k", "40k", "64k"])
def test_disk_full_is_a_clear_error_and_the_same_command_resumes_after_freeing_space(
    size: str,
    kit: ModuleType,
    data_dir: Path,
    math_server: ScriptedServer,
    tmp_path: Path,
    tmpfs_factory: list[Tmpfs],
    request: pytest.FixtureRequest,
) -> None:
    if not mounts_here_or_in_namespace(request, tmp_path):
        return
    disk = Tmpfs(tmp_path / "disk", size)
    tmpfs_factory.append(disk)
    out = disk.path / "run"

    code, message = _run(kit, math_server, data_dir, out)
    _assert_clear_error(code, message, "No space left on device")
    assert "free space" in message and "rerun the same command" in message, message
    kept = {name: _complete_lines(out / name) for name in ("generations.jsonl", "grades.jsonl")}
    code, message = _run(kit, math_server, data_dir, out)
    _assert_clear_error(code, message, "No space left on device")

    disk.remount("size=16m")
    code, message = _run(kit, math_server, data_dir, out)
    assert code == 0, message

    for name, before in kept.items():
        assert (out / name).read_bytes().startswith(before), f"{name}: rows written before the disk filled changed"
    run = kit.RunFiles.read(out)
    run.check_consistent(TOTAL)
    assert len(run.generations) == TOTAL and len(run.grades) == TOTAL
    assert run.summary is not None and run.summary["complete"] is True
    assert run.manifest is not None and run.manifest["status"] == "complete"


def test_read_only_results_dir_is_a_clear_error_and_the_same_command_resumes_when_writable(
    kit: ModuleType,
    data_dir: Path,
    math_server: ScriptedServer,
    tmp_path: Path,
    tmpfs_factory: list[Tmpfs],
    request: pytest.FixtureRequest,
) -> None:
    if not mounts_here_or_in_namespace(request, tmp_path):
        return
    results = Tmpfs(tmp_path / "results", "16m")
    tmpfs_factory.append(results)
    out = results.path / "run"
    code, message = _run(kit, math_server, data_dir, out, limit=PROBLEMS // 2)
    assert code == 0, message
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    results.remount("ro")
    code, message = _run(kit, math_server, data_dir, out)
    _assert_clear_error(code, message, f"Run directory '{out}' is not writable")
    assert "Fix its permissions or choose another --output" in message, message
    code, message = _run(kit, math_server, data_dir, results.path / "new-run")
    _assert_clear_error(code, message, "Cannot create run directory")
    assert "Read-only file system" in message and "Choose another --output" in message, message
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before

    results.remount("rw")
    code, message = _run(kit, math_server, data_dir, out)
    assert code == 0, message

    for name in ("generations.jsonl", "grades.jsonl"):
        assert (out / name).read_bytes().startswith(before[name]), f"{name}: earlier rows changed"
    run = kit.RunFiles.read(out)
    run.check_consistent(TOTAL)
    assert len(run.generations) == TOTAL and len(run.grades) == TOTAL
    assert run.summary is not None and run.summary["complete"] is True


def _fill(path: Path) -> None:
    """Write zeros into `path` until the file system is full."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while os.write(fd, b"\0" * 65536):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)


def test_regrade_on_a_full_disk_is_a_clear_error_and_keeps_the_old_grades(
    kit: ModuleType,
    data_dir: Path,
    math_server: ScriptedServer,
    tmp_path: Path,
    tmpfs_factory: list[Tmpfs],
    request: pytest.FixtureRequest,
) -> None:
    if not mounts_here_or_in_namespace(request, tmp_path):
        return
    disk = Tmpfs(tmp_path / "disk", "16m")
    tmpfs_factory.append(disk)
    out = disk.path / "run"
    code, message = _run(kit, math_server, data_dir, out)
    assert code == 0, message
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    filler = disk.path / "filler"
    _fill(filler)

    result = subprocess.run(kit.evalkit("grade", str(out), "--quiet"), env=cli_env(), capture_output=True, text=True)
    message = re.sub(r"\s+", " ", result.stderr)
    _assert_clear_error(result.returncode, message, "No space left on device")
    assert "free space" in message, message
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before, "a failed re-grade changed the run"

    filler.unlink()
    result = subprocess.run(kit.evalkit("grade", str(out), "--quiet"), env=cli_env(), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    run = kit.RunFiles.read(out)
    assert len(run.grades) == TOTAL and run.summary is not None
    assert run.summary["tasks"] == json.loads(before["summary.json"])["tasks"]
