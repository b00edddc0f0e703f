"""A content-addressed store of decoded test sets, shared by the loader and the grading workers.

LiveCodeBench problems carry up to tens of megabytes of tests each. Kept in the samples, they would
sit in the run's memory and be pickled into every grading job: n=16 times per problem. Instead the
loader decodes each problem's tests once and writes them here as JSON, named by a key of what they
were decoded from (`key_of` the raw encoded fields), and the sample carries only the reference
`{"key": ..., "count": ...}` (path-free, so the dataset's content hash is the same on every machine).
A later load (resume, `evalkit grade`, a report) finds the set by its key and decodes nothing. A
grading worker reads a set once and keeps the last few it read, so the n samples of a problem,
graded one after another, cost one read per worker.

Where: `$EVALKIT_CACHE_DIR/testsets`, else `$XDG_CACHE_HOME/evalkit/testsets`, else
`~/.cache/evalkit/testsets`. Graders on other machines (Ray) need that folder on shared storage.
Files are written atomically and checked (JSON list of the expected length) when read; delete the
folder to reclaim the space (the next load writes its sets again).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from evalkit.errors import EvalkitError

CACHE_ENV = "EVALKIT_CACHE_DIR"
# Part of every key: a change to how sets are decoded or written must not find sets of the old way.
FORMAT = "1"
# Decoded sets a worker keeps: one problem's samples are graded together, and a set can be large.
_KEPT = 2
_kept: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
_lock = threading.Lock()


def store_dir() -> Path:
    """The folder test sets are stored in (see the module docstring)."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured) / "testsets"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "evalkit" / "testsets"


def is_ref(value: Any) -> bool:
    """Whether a sample's `tests` metadata is a reference to a stored set (rather than the tests)."""
    return isinstance(value, dict) and set(value) == {"key", "count"}


def key_of(*sources: str) -> str:
    """The key of the set decoded from `sources` (e.g. a problem's raw public and private test fields)."""
    digest = hashlib.sha256(FORMAT.encode())
    for source in sources:
        data = source.encode("utf-8")
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()


def find(key: str) -> dict[str, Any] | None:
    """The reference of the set stored under `key`, or None when there is none yet."""
    folder = store_dir() / key[:2]
    for path in folder.glob(f"{key}.*.json") if folder.is_dir() else ():
        count = path.name.split(".")[1]
        if count.isdigit():
            return {"key": key, "count": int(count)}
    return None


def put(key: str, tests: list[dict[str, Any]]) -> dict[str, Any]:
    """Store `tests` (JSON-able dicts) under `key` unless stored already; returns the reference for samples."""
    ref = {"key": key, "count": len(tests)}
    path = _path(ref)
    if not path.is_file():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as handle:
                handle.write(json.dumps(tests, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
            os.replace(handle.name, path)
        except OSError as e:
            raise EvalkitError(
                f"Cannot write decoded tests to {path.parent}: {e.strerror}. Set {CACHE_ENV} to a writable folder."
            ) from e
    return ref


def get(ref: dict[str, Any]) -> list[dict[str, Any]]:
    """The tests a reference names; a missing or changed file is an error saying how to get it back."""
    key = str(ref["key"])
    with _lock:
        if key in _kept:
            _kept.move_to_end(key)
            return _kept[key]
    tests = _read(ref)
    with _lock:
        _kept[key] = tests
        while len(_kept) > _KEPT:
            _kept.popitem(last=False)
    return tests


def _read(ref: dict[str, Any]) -> list[dict[str, Any]]:
    path = _path(ref)
    try:
        blob = path.read_bytes()
    except OSError as e:
        raise EvalkitError(
            f"Decoded tests {path} are missing ({e.strerror}): the loader writes them when it loads the task. Re-run "
            f"the command on this machine (graders elsewhere need {CACHE_ENV} on shared storage)."
        ) from e
    try:
        tests = json.loads(blob)
    except ValueError:
        tests = None
    if not isinstance(tests, list) or len(tests) != int(ref["count"]):
        raise EvalkitError(f"Decoded tests {path} are damaged: delete the file and re-run the command.")
    return tests


def _path(ref: dict[str, Any]) -> Path:
    key = str(ref["key"])
    return store_dir() / key[:2] / f"{key}.{int(ref['count'])}.json"
