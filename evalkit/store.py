"""The run directory: manifest.json, generations.jsonl, grades.jsonl, summary.json.

Rows are appended and flushed one at a time, so a crash or a kill -9 costs at most the row being
written; a torn last line is detected and dropped when the run is opened again. One process at a
time may write a run directory (a lock file guards it).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Callable, Container, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from filelock import FileLock, Timeout
from rich.console import Console

from evalkit.errors import EvalkitError
from evalkit.jsonl import read_row_at, read_run_rows, scan_run_rows
from evalkit.seeds import stable_hash
from evalkit.types import Generation, Key, Score

MANIFEST = "manifest.json"
GENERATIONS = "generations.jsonl"
GRADES = "grades.jsonl"
SUMMARY = "summary.json"
LOCK = ".lock"

_console = Console(stderr=True)


def timestamp() -> str:
    """Now, as the run directory's files record times (UTC, ISO 8601, seconds)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def latest_offsets(path: Path, keep: Callable[[Key], bool] | None = None) -> dict[Key, int]:
    """Byte offset of the latest row per key (of the keys `keep` accepts): a later row (a retry that
    succeeded) replaces an earlier one."""
    out: dict[Key, int] = {}
    for offset, row in scan_run_rows(path):
        try:
            key = row_key(row)
        except (KeyError, TypeError, ValueError):
            continue
        if keep is None or keep(key):
            out[key] = offset
    return out


def repair_torn_tail(path: Path) -> int:
    """Drop a partial last line left by a crash mid-write. Returns the number of bytes dropped."""
    if not path.exists():
        return 0
    size = path.stat().st_size
    if size == 0:
        return 0
    with path.open("rb+") as handle:
        handle.seek(-1, os.SEEK_END)
        if handle.read(1) == b"\n":
            return 0
        # Scan back in blocks for the last newline; everything after it is the torn row.
        pos = size
        keep = 0
        while pos > 0:
            step = min(65536, pos)
            pos -= step
            handle.seek(pos)
            block = handle.read(step)
            idx = block.rfind(b"\n")
            if idx >= 0:
                keep = pos + idx + 1
                break
        handle.truncate(keep)
        return size - keep


def row_key(row: dict[str, Any]) -> Key:
    return (str(row["task"]), str(row["sample_id"]), int(row["sample_index"]))


def generation_hash(gen: Generation) -> str:
    """Identifies the content a grade was computed from."""
    return stable_hash(
        gen.text or "", gen.reasoning or "", gen.finish_reason or "", json.dumps(gen.metadata, sort_keys=True)
    )


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temp file in the same directory, fsync, and rename over `path`.

    A full disk or a read-only folder is an EvalkitError; the previous `path`, if any, is left as it was.
    """

    def dump(handle: IO[str]) -> None:
        json.dump(data, handle, indent=2, ensure_ascii=False, default=str)
        handle.write("\n")

    replace_atomic(path, dump)


def replace_atomic(path: Path, write: Callable[[IO[str]], None]) -> None:
    """Replace `path` with what `write` writes, through a synced temp file renamed over it.

    The temp file is opened with mode 0o666 so the process umask applies, as for any file a user's
    program creates (mkstemp would make it 0o600 whatever the umask).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as e:
        raise _write_error(path, e) from e
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise _write_error(path, e) from e
        raise


def _write_error(path: Path, e: OSError) -> EvalkitError:
    return EvalkitError(
        f"Cannot write to {path}: {e.strerror}. Everything written before is kept; free space "
        "or fix permissions, then rerun the same command to resume."
    )


class RunDir:
    """Read access to a run directory (used by grade, report, compare and gate)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise EvalkitError(f"Run directory '{self.path}' does not exist. Pass the folder `evalkit run` wrote.")

    def manifest(self) -> dict[str, Any]:
        p = self.path / MANIFEST
        if not p.exists():
            raise EvalkitError(
                f"'{self.path}' is not a run directory: it has no {MANIFEST}. Pass a folder written by `evalkit run`."
            )
        try:
            data: dict[str, Any] = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise EvalkitError(
                f"{p} is not valid JSON ({e.msg} at line {e.lineno}); the run directory is damaged."
            ) from e
        return data

    def summary(self) -> dict[str, Any]:
        p = self.path / SUMMARY
        if not p.exists():
            raise EvalkitError(
                f"'{self.path}' has no {SUMMARY}: the run has not finished or was never graded. "
                f"Finish it by rerunning the same `evalkit run` command, or run `evalkit grade {self.path}`."
            )
        try:
            data: dict[str, Any] = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise EvalkitError(
                f"{p} is not valid JSON ({e.msg}); rerun `evalkit grade {self.path}` to rebuild it."
            ) from e
        return data

    def generation_rows(self) -> Iterator[dict[str, Any]]:
        return read_run_rows(self.path / GENERATIONS)

    def grade_rows(self) -> Iterator[dict[str, Any]]:
        return read_run_rows(self.path / GRADES)

    def generation_at(self, offset: int) -> Generation:
        """The generation whose row starts at byte `offset` of generations.jsonl (offsets from a scan)."""
        return Generation.from_dict(read_row_at(self.path / GENERATIONS, offset))

    def generations(self) -> dict[Key, Generation]:
        """The latest generation per key (a later row, e.g. a successful retry, replaces an earlier one)."""
        out: dict[Key, Generation] = {}
        for row in self.generation_rows():
            try:
                gen = Generation.from_dict(row)
            except (KeyError, TypeError, ValueError):
                continue
            out[gen.key] = gen
        return out

    def grades(self) -> dict[Key, dict[str, Any]]:
        """The latest grade row per key."""
        out: dict[Key, dict[str, Any]] = {}
        for row in self.grade_rows():
            try:
                out[row_key(row)] = row
            except (KeyError, TypeError, ValueError):
                continue
        return out


class RunWriter(RunDir):
    """Exclusive, append-only write access to a run directory. Use as a context manager.

    Entering takes the directory's lock when the directory exists, and changes nothing: the caller
    reads what is stored and may still refuse the command, leaving every file as it was. `begin()` is
    the first write: it creates the directory if needed, takes the lock, and drops a torn last line
    a crash left behind.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock: FileLock | None = None
        self._files: dict[str, IO[str]] = {}

    def __enter__(self) -> RunWriter:
        if self.path.exists():
            self._acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._files.values():
            # After a failed write (disk full) closing retries the buffered partial row and fails the
            # same way; that row is a torn tail the next open drops, and _append already said why.
            with contextlib.suppress(OSError):
                handle.close()
        self._files.clear()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _acquire(self) -> None:
        if not self.path.is_dir():
            raise EvalkitError(f"Run directory '{self.path}' is not a directory. Choose another --output.")
        if not os.access(self.path, os.W_OK):
            raise EvalkitError(
                f"Run directory '{self.path}' is not writable. Fix its permissions or choose another --output."
            )
        lock = FileLock(str(self.path / LOCK))
        try:
            lock.acquire(timeout=0)
        except Timeout as e:
            raise EvalkitError(
                f"Another evalkit process is writing '{self.path}'. Wait for it to finish, or use another --output."
            ) from e
        self._lock = lock

    def begin(self) -> None:
        """Make the directory ready for writing (the command has been accepted)."""
        if self._lock is None:
            try:
                self.path.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise EvalkitError(
                    f"Cannot create run directory '{self.path}': {e.strerror}. Choose another --output."
                ) from e
            self._acquire()
        for name in (GENERATIONS, GRADES):
            dropped = repair_torn_tail(self.path / name)
            if dropped:
                _console.print(f"[yellow]note:[/] dropped a torn last line ({dropped} bytes) from {self.path / name}")

    def _append(self, name: str, row: dict[str, Any]) -> None:
        line = json.dumps(row, ensure_ascii=False, default=str) + "\n"
        try:
            handle = self._files.get(name)
            if handle is None:
                handle = self._files[name] = (self.path / name).open("a", encoding="utf-8")
            handle.write(line)
            handle.flush()
        except OSError as e:
            raise _write_error(self.path / name, e) from e

    def append_generation(self, gen: Generation, *, params_hash: str, identity_hash: str) -> None:
        """Store one generation row with the hashes resume compares against (evalkit.identity)."""
        row = gen.to_dict()
        row["params_hash"] = params_hash
        row["identity_hash"] = identity_hash
        self._append(GENERATIONS, row)

    def append_grade(self, row: dict[str, Any]) -> None:
        """Store one grade row (`grade_row`)."""
        self._append(GRADES, row)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        write_json_atomic(self.path / MANIFEST, manifest)

    def write_summary(self, summary: dict[str, Any]) -> None:
        write_json_atomic(self.path / SUMMARY, summary)

    @contextlib.contextmanager
    def replacing_grades(self, covered: Container[Key]) -> Iterator[Callable[[dict[str, Any]], None]]:
        """A new grades.jsonl: the rows written through the yielded function, plus the latest stored
        row of every key outside `covered` (other tasks, problems a smaller --limit left out).

        The old file is replaced, atomically, only when the block finishes; on any error (a full disk,
        a kill) it stays exactly as it was.
        """
        path = self.path / GRADES
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            handle = os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "w", encoding="utf-8")
        except OSError as e:
            raise _write_error(path, e) from e
        try:
            with handle:

                def write(row: dict[str, Any]) -> None:
                    handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")

                yield write
                kept = sorted(latest_offsets(path, lambda key: key not in covered).values())
                if kept:
                    with path.open("rb") as source:
                        for offset in kept:
                            source.seek(offset)
                            handle.write(source.readline().decode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException as e:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            if isinstance(e, OSError):
                raise _write_error(path, e) from e
            raise


def grade_row(gen: Generation, grader: str, grader_version: str, score: Score, grade_key: str) -> dict[str, Any]:
    """The grades.jsonl row for one graded generation."""
    return {
        "task": gen.task,
        "sample_id": gen.sample_id,
        "sample_index": gen.sample_index,
        "grader": grader,
        "grader_version": grader_version,
        "score": score.value,
        "extracted": score.extracted,
        "verdict": score.verdict,
        "explanation": score.explanation,
        "vote": score.vote,
        "details": score.details,
        "generation_hash": generation_hash(gen),
        "grade_key": grade_key,
    }


def score_from_row(row: dict[str, Any]) -> Score:
    """Rebuild a Score from a grades.jsonl row."""
    return Score(
        value=float(row["score"]),
        verdict=row["verdict"],
        extracted=row.get("extracted"),
        explanation=row.get("explanation", ""),
        vote=row.get("vote"),
        details=dict(row.get("details") or {}),
    )
