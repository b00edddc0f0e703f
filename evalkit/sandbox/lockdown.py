"""Entry point of the `unshare` fallback (used when bubblewrap is missing); standard library only.

`unshare --user --map-root-user --mount --net --pid --fork ...` starts this script as root of a new
user namespace that owns a new mount namespace. Before the runner starts it builds what bubblewrap
would: a size-capped tmpfs at /tmp (the only writable place), empty read-only tmpfs over the host
directories that hold secrets or sockets (/etc, /home, /root, /run, /var, ...), a /dev with only
null, zero, random and urandom, every other mount remounted read-only; then it drops all
capabilities (bounding set emptied, no_new_privs) and execs the runner, which therefore runs
without privileges. The interpreter's own prefix, and the directories of the shared packages named
on the command line (numpy of a virtualenv), are bound back read-only where they were.
"""

from __future__ import annotations

import ctypes
import os
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_STRICTATIME = 1024, 2048, 1 << 24
_FLAGS = {
    "nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME, "strictatime": MS_STRICTATIME,
}  # fmt: skip
MASKED = ("/etc", "/home", "/root", "/run", "/var", "/srv", "/opt", "/mnt", "/media", "/boot", "/sys")
DEVICES = ("null", "zero", "random", "urandom")
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 24, 38
WORKDIR = "/tmp"
STAGE = "/tmp/.stage"

_libc = ctypes.CDLL(None, use_errno=True)


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = [None if v is None else v.encode() for v in (source, target, fstype, data)]
    if _libc.mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} {target}: {os.strerror(err)}")


def _mountinfo() -> list[tuple[str, int]]:
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            target = fields[4].encode().decode("unicode_escape")
            flags = 0
            for option in fields[5].split(","):
                flags |= _FLAGS.get(option, 0)
            points.append((target, flags))
    return points


def _touch(path: str) -> None:
    with open(path, "a", encoding="utf-8"):
        pass


def lockdown(tmpfs_bytes: int, keeps: list[str]) -> None:
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    # Held open across the mounts that hide them (a virtualenv's packages may live under /tmp itself),
    # then staged from /proc/self/fd and bound back where they were.
    held = [os.open(keep, os.O_PATH | os.O_DIRECTORY) for keep in keeps]
    mount("tmpfs", WORKDIR, "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmpfs_bytes},mode=0777")
    os.makedirs(STAGE + "/dev")
    for name in DEVICES:
        _touch(f"{STAGE}/dev/{name}")
        mount(f"/dev/{name}", f"{STAGE}/dev/{name}", None, MS_BIND)
    for i, fd in enumerate(held):
        os.makedirs(f"{STAGE}/keep{i}")
        mount(f"/proc/self/fd/{fd}", f"{STAGE}/keep{i}", None, MS_BIND | MS_REC)
        os.close(fd)
    mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755")
    for name in DEVICES:
        _touch(f"/dev/{name}")
        mount(f"{STAGE}/dev/{name}", f"/dev/{name}", None, MS_BIND)
    masked = [d for d in MASKED if os.path.isdir(d) and not os.path.islink(d)]
    for directory in masked:
        mount("tmpfs", directory, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")
    for i, keep in enumerate(keeps):
        if any(keep == d or keep.startswith(d + "/") for d in (WORKDIR, *masked)):
            os.makedirs(keep, exist_ok=True)
            mount(f"{STAGE}/keep{i}", keep, None, MS_BIND | MS_REC)
    for target, flags in reversed(_mountinfo()):
        if target == WORKDIR or not os.path.exists(target):
            continue
        try:
            mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags)
        except OSError:
            # Mounts hidden below a mask cannot be reached and need nothing.
            if not any(target.startswith(d + "/") for d in masked):
                raise
    for cap in range(64):
        _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")


def main() -> None:
    tmpfs_bytes = int(sys.argv[1])
    runner = os.path.join(os.path.dirname(os.path.abspath(__file__)), "inside.py")
    with open(runner, encoding="utf-8") as f:
        source = f.read()
    python = os.path.realpath(sys.executable)
    # The interpreter's prefix, and the shared packages' directories the caller passes.
    lockdown(tmpfs_bytes, [os.path.realpath(sys.base_prefix), *sys.argv[2:]])
    os.chdir(WORKDIR)
    # With an empty bounding set, exec leaves uid 0 of this namespace without any capability.
    os.execv(python, [python, "-I", "-S", "-B", "-c", source])


if __name__ == "__main__":
    main()
