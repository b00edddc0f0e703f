"""JSON Lines, read under one of two policies, each named for who wrote the file.

- Input files a person gives evalkit (a dataset, a task's local file, problem rows): **strict**.
  `read_jsonl` yields every non-empty line as a JSON object and raises EvalkitError naming `file:line`
  at the first line that is not one, because a silently skipped line would change the benchmark. A
  last line without its newline is a line like any other.
- The run directory's append-only files, which evalkit wrote itself (generations.jsonl,
  grades.jsonl): **tolerant**. `scan_run_rows` and `read_run_rows` skip a last line without its
  newline (a row torn by a crash; the writer drops it when the run is opened again) and skip, with a
  warning, a line that is not valid JSON: that sample then counts as missing and is redone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console

from evalkit.errors import EvalkitError

_console = Console(stderr=True)


def read_jsonl(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Strict: (`file:line`, record) for each non-empty line; a line that is not a JSON object is an
    EvalkitError naming both."""
    for where, line in jsonl_lines(path):
        yield where, parse_record(line, where)


def jsonl_lines(path: Path) -> Iterator[tuple[str, str]]:
    """Strict, unparsed: (`file:line`, line) for each non-empty line, for a reader that skips lines
    before parsing them (parse the rest with `parse_record`). An unreadable file is an EvalkitError."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as e:
        raise EvalkitError(f"Cannot read dataset file '{path}': {e.strerror}.") from e
    with handle:
        for lineno, line in enumerate(handle, 1):
            if line.strip():
                yield f"{path}:{lineno}", line


def parse_record(line: str, where: str) -> dict[str, Any]:
    """Strict: the JSON object on `line` (found at `where`), or an EvalkitError saying what is wrong there."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as e:
        raise EvalkitError(
            f"Malformed dataset line at {where}: {e.msg} (column {e.colno}). Fix or remove that line, or "
            "re-copy the dataset."
        ) from e
    if not isinstance(record, dict):
        raise EvalkitError(f"Malformed dataset line at {where}: expected a JSON object, got {type(record).__name__}.")
    return record


def scan_run_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Tolerant: (byte offset, row) for each whole row of a run file, so a caller can keep offsets
    instead of rows (`read_row_at` reads one back). A missing file has no rows."""
    if not path.exists():
        return
    with path.open("rb") as handle:
        offset = 0
        for lineno, line in enumerate(handle, 1):
            start, offset = offset, offset + len(line)
            if not line.strip() or not line.endswith(b"\n"):
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                _console.print(
                    f"[yellow]warning:[/] skipping malformed line {path}:{lineno}; its sample will be redone"
                )
                continue
            if isinstance(row, dict):
                yield start, row


def read_run_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Tolerant: the whole rows of a run file (see `scan_run_rows`)."""
    for _, row in scan_run_rows(path):
        yield row


def read_row_at(path: Path, offset: int) -> dict[str, Any]:
    """The run-file row starting at byte `offset` (from `scan_run_rows`)."""
    with path.open("rb") as handle:
        handle.seek(offset)
        row: dict[str, Any] = json.loads(handle.readline())
        return row
