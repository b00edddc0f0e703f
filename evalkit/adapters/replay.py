"""`--backend replay --replay FILE`: grade generations made elsewhere.

The file is JSONL, one row per sample: `task`, `sample_id`, `sample_index`, `text`, and optionally
`reasoning`, `finish_reason`, `prompt_tokens`, `completion_tokens` and `error`. Other fields are
ignored, so a run's own `generations.jsonl` replays as is. Nothing is silently dropped or padded:
a requested key without a row becomes an error row, and rows nobody asked for are reported by
`unmatched()` (the runner prints them and records them in the manifest).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.adapters.base import Adapter
from evalkit.adapters.options import NoEngineOptions
from evalkit.config import RunConfig
from evalkit.errors import EvalkitError
from evalkit.types import Generation, Key, Request

_OPTIONAL_STR = ("reasoning", "finish_reason", "error")
_OPTIONAL_INT = ("prompt_tokens", "completion_tokens")


@dataclass(frozen=True)
class ReplayRow:
    """One validated row of a replay file and where it came from (line numbers start at 1)."""

    line: int
    text: str | None
    reasoning: str | None
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    error: str | None


def _bad(path: Path, line: int, problem: str) -> EvalkitError:
    return EvalkitError(
        f"Replay file {path}, line {line}: {problem}. Each row must be a JSON object with task (string), "
        "sample_id (string or integer), sample_index (integer >= 0) and text (string); reasoning, "
        "finish_reason and error are optional strings. Fix or remove the row."
    )


def _parse_row(path: Path, line: int, raw: str) -> tuple[Key, ReplayRow]:
    try:
        row = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _bad(path, line, f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(row, dict):
        raise _bad(path, line, f"expected a JSON object, got {type(row).__name__}")
    task, sample_id, index = row.get("task"), row.get("sample_id"), row.get("sample_index")
    if not isinstance(task, str) or not task:
        raise _bad(path, line, "'task' is missing or not a non-empty string")
    if isinstance(sample_id, bool) or not isinstance(sample_id, str | int):
        raise _bad(path, line, "'sample_id' is missing or not a string/integer")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise _bad(path, line, "'sample_index' is missing or not an integer >= 0")
    for name in _OPTIONAL_STR:
        if row.get(name) is not None and not isinstance(row[name], str):
            raise _bad(path, line, f"'{name}' must be a string or null")
    for name in _OPTIONAL_INT:
        value = row.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise _bad(path, line, f"'{name}' must be an integer >= 0 or null")
    text, error = row.get("text"), row.get("error")
    # An error row of a stored run (text null, error set) replays as the same error, never as text.
    if not isinstance(text, str) and error is None:
        raise _bad(path, line, "'text' is missing or not a string")
    if text is not None and not isinstance(text, str):
        raise _bad(path, line, "'text' must be a string")
    return (task, str(sample_id), index), ReplayRow(
        line=line,
        text=text,
        reasoning=row.get("reasoning"),
        finish_reason=row.get("finish_reason") or ("error" if error is not None else None),
        prompt_tokens=row.get("prompt_tokens"),
        completion_tokens=row.get("completion_tokens"),
        error=error,
    )


def read_replay_file(path: Path) -> dict[Key, ReplayRow]:
    """Parse and validate a replay file. Bad rows and duplicate keys raise, naming file and line(s)."""
    if not path.is_file():
        raise EvalkitError(f"Replay file {path} does not exist. Pass an existing JSONL file with --replay FILE.")
    rows: dict[Key, ReplayRow] = {}
    with path.open(encoding="utf-8") as fh:
        for line_no, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            key, row = _parse_row(path, line_no, raw)
            first = rows.get(key)
            if first is not None:
                raise EvalkitError(
                    f"Replay file {path}: lines {first.line} and {line_no} both hold task={key[0]!r} "
                    f"sample_id={key[1]!r} sample_index={key[2]}. Keep one row per key."
                )
            rows[key] = row
    return rows


class ReplayAdapter(Adapter):
    """Yields the stored generation for each requested key, an error row for keys not in the file."""

    name = "replay"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._rows = read_replay_file(path)
        self._requested: set[Key] = set()

    def identity(self) -> dict[str, Any]:
        """The replayed file, its content hash and row count (the model that made it is unknown)."""
        return {
            "engine": "replay",
            "file": str(self.path.resolve()),
            "sha256": hashlib.sha256(self.path.read_bytes()).hexdigest(),
            "rows": len(self._rows),
        }

    async def generate(self, requests: Sequence[Request]) -> AsyncIterator[Generation]:
        """One Generation per request: the file's row, or an error row naming the missing key."""
        for request in requests:
            self._requested.add(request.key)
            row = self._rows.get(request.key)
            if row is None:
                yield Generation.failed(
                    request,
                    f"not in replay file {self.path}: task={request.task!r} sample_id={request.sample_id!r} "
                    f"sample_index={request.sample_index}",
                )
                continue
            yield Generation.completed(
                request,
                row.text,
                reasoning=row.reasoning,
                finish_reason=row.finish_reason,
                prompt_tokens=row.prompt_tokens,
                completion_tokens=row.completion_tokens,
                error=row.error,
                max_tokens=None,  # made elsewhere, with a budget this run does not know
            )

    def unmatched(self) -> list[dict[str, Any]]:
        """Rows of the file that no request asked for so far: task, sample_id, sample_index, line."""
        return [
            {"task": k[0], "sample_id": k[1], "sample_index": k[2], "line": row.line}
            for k, row in sorted(self._rows.items(), key=lambda kv: kv[1].line)
            if k not in self._requested
        ]

    async def aclose(self) -> None:
        """Nothing to release."""


def create(config: RunConfig) -> ReplayAdapter:
    """The replay adapter for `config.backend.replay`."""
    NoEngineOptions.of(config, "replay")
    if config.backend.replay is None:
        raise EvalkitError("--backend replay needs a file of generations: pass --replay FILE (JSONL).")
    return ReplayAdapter(config.backend.replay)
