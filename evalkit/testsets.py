"""A content-addressed store of decoded test sets, shared by the loader and the grading workers.

LiveCodeBench problems carry up to tens of megabytes of tests each. Kept in the samples, they would
sit in the run's memory and be pickled into every grading job: n=16 times per problem. Instead the
loader writes each problem's decoded tests here once, as JSON named by its sha256, and the sample
carries only the reference `{"sha256": ..., "count": ...}` (path-free, so the dataset's content hash
is the same on every machine). A grading worker reads a set once and keeps the last few it read,
so the n samples of a problem, graded one after another, decode it once per worker.

Where: `$EVALKIT_CACHE_DIR/testsets`, else `$XDG_CACHE_HOME/evalkit/testsets`, else
`~/.cache/evalkit/testsets`. Graders on other machines (Ray) need that folder on shared storage.
Files are written atomically and checked against their hash when read; delete the folder to
reclaim the space (a run writes its sets again).
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
    return isinstance(value, dict) and set(value) == {"sha256", "count"}


def put(tests: list[dict[str, Any]]) -> dict[str, Any]:
    """Store `tests` (JSON-able dicts) unless already stored; returns the reference a sample carries."""
    blob = json.dumps(tests, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    digest = hashlib.sha256(blob).hexdigest()
    path = _path(digest)
    if not path.is_file():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as handle:
                handle.write(blob)
            os.replace(handle.name, path)
        except OSError as e:
            raise EvalkitError(
                f"Cannot write decoded tests to {path.parent}: {e.strerror}. Set {CACHE_ENV} to a writable folder."
            ) from e
    return {"sha256": digest, "count": len(tests)}


def get(ref: dict[str, Any]) -> list[dict[str, Any]]:
    """The tests a reference names; a missing or changed file is an error saying how to get it back."""
    digest = str(ref["sha256"])
    with _lock:
        if digest in _kept:
            _kept.move_to_end(digest)
            return _kept[digest]
    tests = _read(digest, int(ref["count"]))
    with _lock:
        _kept[digest] = tests
        while len(_kept) > _KEPT:
            _kept.popitem(last=False)
    return tests


def _read(digest: str, count: int) -> list[dict[str, Any]]:
    path = _path(digest)
    try:
        blob = path.read_bytes()
    except OSError as e:
        raise EvalkitError(
            f"Decoded tests {path} are missing ({e.strerror}): the loader writes them when it loads the task. Re-run "
            f"the command on this machine (graders elsewhere need {CACHE_ENV} on shared storage)."
        ) from e
    if hashlib.sha256(blob).hexdigest() != digest:
        raise EvalkitError(f"Decoded tests {path} do not match their hash: delete the file and re-run the command.")
    tests: list[dict[str, Any]] = json.loads(blob)
    if len(tests) != count:
        raise EvalkitError(f"Decoded tests {path} hold {len(tests)} tests, the sample expects {count}.")
    return tests


def _path(digest: str) -> Path:
    return store_dir() / digest[:2] / f"{digest}.json"
