"""What summaries read of a run, kept as arrays: a row per problem, a column per sample index.

`evalkit run` and `evalkit grade` keep, for every (problem, sample) of the run, the few facts a
summary needs: whether it was generated or failed, cut off, its token count, latency, budget and a
digest of its text; whether it was graded, its value, verdict and vote. Held as per-sample objects
(a record and a Score each, with their keys and dict entries) that costs about a kilobyte a sample;
as columns it costs about 40 bytes, so memory stays flat as runs grow. Text, extracted answers and
explanations stay on disk, except a failed grade's explanation (the summary quotes it) and a
grader's `details` (IFEval's per-instruction flags), kept only where a grader wrote some.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from evalkit.types import Generation, Key, Score

Cell = tuple[int, int]

# Verdict names by code, shared by every ledger (a handful of names, in the order first seen).
_VERDICTS: list[str] = []
_VERDICT_CODES: dict[str, int] = {}


def verdict_code(verdict: str) -> int:
    """The small integer a verdict name is stored as."""
    code = _VERDICT_CODES.get(verdict)
    if code is None:
        code = _VERDICT_CODES[verdict] = len(_VERDICTS)
        _VERDICTS.append(verdict)
    return code


def text_digest(text: str | None) -> int:
    """A 64-bit digest of a completion's text (duplicate detection); 0 for no text."""
    if not text:
        return 0
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") or 1


@dataclass(frozen=True, slots=True)
class GenInfo:
    """What a summary needs of one generation (its text is not kept)."""

    key: Key
    failed: bool
    cut_off: bool
    completion_tokens: int | None
    latency_s: float
    text_hash: int
    max_tokens: int | None

    @classmethod
    def of(cls, gen: Generation) -> GenInfo:
        return cls(
            gen.key,
            gen.error is not None,
            gen.finish_reason == "length",
            gen.completion_tokens,
            gen.latency_s,
            text_digest(gen.text),
            gen.max_tokens,
        )


class TaskLedger:
    """One task's facts, problem by problem (in `sample_ids` order) and sample index by index."""

    def __init__(self, sample_ids: Sequence[str], n: int) -> None:
        self.n = n
        self.rows = {sid: p for p, sid in enumerate(sample_ids)}
        shape = (len(sample_ids), n)
        self.generated = np.zeros(shape, dtype=bool)
        self.failed = np.zeros(shape, dtype=bool)  # the generation is an error row
        self.cut_off = np.zeros(shape, dtype=bool)  # finish_reason "length"
        self.tokens = np.full(shape, -1, dtype=np.int64)  # completion tokens; -1 unknown
        self.latency = np.zeros(shape, dtype=np.float64)
        self.text_hash = np.zeros(shape, dtype=np.uint64)  # 0: no text
        self.budget = np.full(shape, -1, dtype=np.int64)  # the max tokens it really had; -1 unknown
        self.graded = np.zeros(shape, dtype=bool)
        self.value = np.zeros(shape, dtype=np.float64)
        self.verdict = np.full(shape, -1, dtype=np.int16)
        self.vote = np.full(shape, -1, dtype=np.int32)  # index into `votes`; -1: no vote
        self.votes: list[str] = []
        self._vote_ids: dict[str, int] = {}
        self.details: dict[Cell, dict[str, Any]] = {}
        self.errors: dict[Cell, str] = {}

    def cell(self, sample_id: str, index: int) -> Cell | None:
        """Where (sample_id, index) is stored; None when the run does not cover it."""
        p = self.rows.get(sample_id)
        return (p, index) if p is not None and 0 <= index < self.n else None

    def add_generation(self, cell: Cell, info: GenInfo) -> None:
        """Record a generation's facts (a later one for the same cell replaces them)."""
        self.generated[cell] = True
        self.failed[cell] = info.failed
        self.cut_off[cell] = info.cut_off
        self.tokens[cell] = -1 if info.completion_tokens is None else info.completion_tokens
        self.latency[cell] = info.latency_s
        self.text_hash[cell] = info.text_hash
        self.budget[cell] = -1 if info.max_tokens is None else info.max_tokens

    def add_score(self, cell: Cell, score: Score) -> None:
        """Record a grade (a later one for the same cell replaces it)."""
        self.graded[cell] = True
        self.value[cell] = score.value
        self.verdict[cell] = verdict_code(score.verdict)
        if score.vote is None:
            self.vote[cell] = -1
        else:
            vote_id = self._vote_ids.get(score.vote)
            if vote_id is None:
                vote_id = self._vote_ids[score.vote] = len(self.votes)
                self.votes.append(score.vote)
            self.vote[cell] = vote_id
        self._keep(self.details, cell, dict(score.details) if score.details else None)
        self._keep(self.errors, cell, score.explanation if score.verdict == "error" else None)

    @staticmethod
    def _keep(store: dict[Cell, Any], cell: Cell, value: Any) -> None:
        if value is None:
            store.pop(cell, None)
        else:
            store[cell] = value

    def score(self, cell: Cell) -> Score:
        """The Score as summaries see it (value, verdict, vote, details; an error's explanation)."""
        vote = int(self.vote[cell])
        return Score(
            value=float(self.value[cell]),
            verdict=_VERDICTS[int(self.verdict[cell])],
            vote=self.votes[vote] if vote >= 0 else None,
            explanation=self.errors.get(cell, ""),
            details=self.details.get(cell, {}),
        )

    def count(self, verdict: str) -> int:
        """How many graded samples have `verdict`."""
        code = _VERDICT_CODES.get(verdict)
        return 0 if code is None else int(np.count_nonzero(self.graded & (self.verdict == code)))

    def problem_votes(self, row: int) -> list[str]:
        """The distinct votes of one problem, sorted."""
        ids = self.vote[row][self.vote[row] >= 0]
        return sorted({self.votes[i] for i in ids.tolist()})


class Ledger(Mapping[str, TaskLedger]):
    """The ledgers of a run's tasks by name; cells are found by (task, sample id, sample index)."""

    def __init__(self, tasks: Mapping[str, tuple[Sequence[str], int]]) -> None:
        """`tasks`: each task's problem ids (in order) and n."""
        self._tasks = {name: TaskLedger(ids, n) for name, (ids, n) in tasks.items()}

    def __getitem__(self, name: str) -> TaskLedger:
        return self._tasks[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tasks)

    def __len__(self) -> int:
        return len(self._tasks)

    def _find(self, key: Key) -> tuple[TaskLedger, Cell] | None:
        task = self._tasks.get(key[0])
        cell = task.cell(key[1], key[2]) if task is not None else None
        return (task, cell) if task is not None and cell is not None else None

    def add_generation(self, info: GenInfo) -> None:
        """Record a generation's facts (ignored when the run does not cover its key)."""
        found = self._find(info.key)
        if found is not None:
            found[0].add_generation(found[1], info)

    def add_score(self, key: Key, score: Score) -> None:
        """Record the grade of `key` (ignored when the run does not cover it)."""
        found = self._find(key)
        if found is not None:
            found[0].add_score(found[1], score)
