"""Codeforces: a rating from solving the problems of real Div. 2 rounds (DeepSeek-R1 report; CodeElo method).

Source: problems with tests from open-r1/codeforces (statements, limits, official tests, generated
tests `generated_tests/test_cases_NNNN.parquet`, generated checkers). Pinned revision below: the first
whose card describes the generated tests (`generated_tests` count column, `verifiable` subset; it
follows the last upload of generated_tests/); its full hash was read from the Hub's commit page.
Loading checks it: every row must carry its `generated_tests` count and every announced test must be
in its contest's file, else loading fails naming the fix; failing to download a file (offline, Hub
down) is an error too, never a judge on the official tests alone. `generated_tests=false` judges on
the official tests only, on purpose. Offline: `<data_dir>/codeforces/problems/*.jsonl` or
`*.parquet` with rows in the Hub format (any split, any contests; the task keeps its contests), and
`<data_dir>/codeforces/generated_tests/` as on the Hub. Standings, rating changes and the rated-users
population come from the Codeforces API through `evalkit codeforces fetch` (see
`evalkit.codeforces.layout`); without a data dir they are read from `~/.cache/evalkit/codeforces`.

Protocol: T=0.6, top-p 0.95, 32,768 max tokens, n=8. Each sample index i is a virtual participant
that submits sample i of every problem of a contest at minute 0; its contest rating R_c comes from its
place among the contest's rated participants; the reported rating is the mean over participants and
contests with a bootstrap CI over both; the percentile is taken among all rated users.
Default contests: `DEFAULT_CONTESTS`, ten CF-scored Div. 2 rounds (Oct 2024 - Feb 2025). Option
`contests` overrides them: `--tasks codeforces@contests=2030+2032` (ids joined by `+`).
Sample id: `<contest_id>/<problem index>`, e.g. `2030/A`.

Excluded problems (dropped before sampling, counted per contest in summary.json `contests[].excluded`):
interactive problems (`interaction_format` set), file-I/O problems (`input_mode` other than `stdio`),
problems without any test, and (`problems=verifiable`, the default) problems outside the dataset's
`verifiable` rule: `executable` and (`official_tests_complete` or generated tests, when used), i.e.
problems whose official tests are truncated and that have no generated tests. `problems=all` judges
those too; the summary then lists them per contest (`unverifiable`) and says so in its notes. A
contest's problems missing from the data count as unsolved. A problem without a time limit gets
DEFAULT_TIME_LIMIT_S (without a memory limit, DEFAULT_MEMORY_LIMIT_MB), flagged `limits_defaulted`.

Choices that differ from CodeElo (Quan et al. 2025, github.com/QwenLM/CodeElo):
- Submissions: one per problem per virtual participant, at minute 0 (CodeElo submits up to 8 times and
  charges 50 points / 10 minutes per rejected try); so no rejected-attempt penalty ever applies here.
- Judging: offline, on the dataset's official + generated tests with its checkers, in evalkit's sandbox,
  instead of the Codeforces judge. Languages: C++17 (g++ -O2) or Python 3, same time limit for both.
- Place: 1 + the number of rated rows strictly better. CodeElo takes the 0-based index of the first row
  strictly worse, i.e. it counts ties as ahead and is one place better otherwise.
- Pre-contest ratings: since May 2020 the API shows newcomers as 0; they are rated as 1400, as
  Codeforces does (CodeElo uses the 0). Rated rows only: a standings row counts when its handle has a
  rating change (CodeElo intersects the two lists the same way).
- Rating window: the same, R in [0, max pre-rating + 100) (the Div. 2 ceiling).
- Interactive problems are excluded and count as unsolved (CodeElo submits them to Codeforces).
- Population for percentiles: `sorted_ratings.json` fetched by evalkit when present, else CodeElo's file.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit import DatasetSpec, EvalkitError, Record, Sample, Task, task
from evalkit.hooks import TaskScores

if TYPE_CHECKING:
    import typer

HUB_ID = "open-r1/codeforces"
REVISION = "6e43a96df44aee5afa14845422ebd02b3c80205a"
VERSION = "2"
HUB_SPLITS = ("train", "test")
PROBLEM_SETS = ("verifiable", "all")
# Codeforces' most common limits, for the few rows without them (Polygon's defaults are 1 s and 256 MB;
# 2 s errs on the side of not failing a correct solution on time).
DEFAULT_TIME_LIMIT_S = 2.0
DEFAULT_MEMORY_LIMIT_MB = 256.0

# Ten CF-scored "Codeforces Round (Div. 2)" contests after most open models' training cut-offs.
DEFAULT_CONTESTS: dict[int, str] = {
    2027: "Codeforces Round 982 (Div. 2)",
    2028: "Codeforces Round 986 (Div. 2)",
    2030: "Codeforces Round 979 (Div. 2)",
    2031: "Codeforces Round 987 (Div. 2)",
    2032: "Codeforces Round 983 (Div. 2)",
    2040: "Codeforces Round 992 (Div. 2)",
    2049: "Codeforces Round 994 (Div. 2)",
    2055: "Codeforces Round 996 (Div. 2)",
    2059: "Codeforces Round 1002 (Div. 2)",
    2063: "Codeforces Round 1000 (Div. 2)",
}

_SEPARATORS = re.compile(r"[+,;:\s]+")


@dataclass(frozen=True)
class Selection:
    """Which problems a run judges: the dataset's verifiable ones only, and with generated tests or not."""

    verifiable_only: bool = True
    generated: bool = True


def verifiable(record: Record, generated: bool) -> bool:
    """open-r1's `verifiable` rule: executable, and complete official tests or (used) generated tests."""
    if record.get("executable") is None:
        raise EvalkitError(
            f"Codeforces problem {record.get('contest_id')}/{record.get('index')} has no `executable` field, needed "
            "for the verifiable rule: use rows of the revision evalkit pins, or judge every problem with "
            "codeforces@problems=all."
        )
    complete = bool(record.get("official_tests_complete"))
    return bool(record["executable"]) and (complete or (generated and bool(record.get("_generated_tests"))))


def exclusion_reason(record: Record, selection: Selection = Selection()) -> str | None:
    """Why a problem is not judged (None when it is)."""
    if str(record.get("interaction_format") or "").strip():
        return "interactive"
    if (record.get("input_mode") or "stdio") != "stdio":
        return "file_io"
    if not record.get("official_tests") and not record.get("_generated_tests"):
        return "no_tests"
    if selection.verifiable_only and not verifiable(record, selection.generated):
        return "not_verifiable"
    return None


def _limit(record: Record, field: str, default: float) -> tuple[float, bool]:
    value = record.get(field)
    return (default, True) if value is None else (float(value), False)


def record_to_sample(record: Record, selection: Selection = Selection()) -> Sample:
    """Map an open-r1/codeforces row to a Sample; tests and checker ride in the metadata for the grader."""
    contest_id, index = int(record["contest_id"]), str(record["index"])
    time_limit, time_defaulted = _limit(record, "time_limit", DEFAULT_TIME_LIMIT_S)
    memory_limit, memory_defaulted = _limit(record, "memory_limit", DEFAULT_MEMORY_LIMIT_MB)
    tests = [{"input": str(t["input"]), "output": str(t["output"])} for t in record.get("official_tests") or []]
    metadata: dict[str, Any] = {
        "contest_id": contest_id,
        "index": index,
        "contest_name": str(record.get("contest_name") or ""),
        "title": str(record["title"]),
        "rating": record.get("rating"),
        "tags": list(record.get("tags") or []),
        "time_limit_s": time_limit,
        "memory_limit_mb": memory_limit,
        "limits_defaulted": time_defaulted or memory_defaulted,
        "input_format": str(record.get("input_format") or ""),
        "output_format": str(record.get("output_format") or ""),
        "note": str(record.get("note") or ""),
        "examples": [{"input": str(e["input"]), "output": str(e["output"])} for e in record.get("examples") or []],
        "official_tests": tests,
        "official_tests_complete": bool(record.get("official_tests_complete", True)),
        "generated_tests": record.get("_generated_tests"),
        "checker": record.get("generated_checker") or None,
        "verifiable": record.get("executable") is not None and verifiable(record, selection.generated),
        "excluded": exclusion_reason(record, selection),
        "contest_excluded": dict(record.get("_contest_excluded") or {}),
    }
    return Sample(id=f"{contest_id}/{index}", input=str(record["description"]), target="", metadata=metadata)


def parse_contests(contests: str | Sequence[int] | None) -> tuple[int, ...]:
    """The contest ids of the `contests` option (`2030+2032`, a list, or None for the default set)."""
    if contests is None or (isinstance(contests, str) and not contests.strip()):
        return tuple(DEFAULT_CONTESTS)
    parts = _SEPARATORS.split(contests.strip()) if isinstance(contests, str) else [str(c) for c in contests]
    if not all(p.isdigit() for p in parts):
        raise EvalkitError(f"codeforces@contests={contests!r}: give contest ids joined by '+', e.g. 2030+2032.")
    return tuple(dict.fromkeys(int(p) for p in parts))


def _annotate(
    records: Iterable[tuple[str, Record]], contests: tuple[int, ...], source: str, selection: Selection
) -> Iterator[tuple[str, Record]]:
    """Keep the task's contests, and tell every problem which siblings were excluded (for the summary)."""
    by_contest: dict[int, list[tuple[str, Record]]] = defaultdict(list)
    wanted = set(contests)
    for where, record in records:
        contest_id = int(record["contest_id"])
        if contest_id in wanted:
            by_contest[contest_id].append((where, record))
    missing = [c for c in contests if c not in by_contest]
    if missing:
        raise EvalkitError(
            f"No problems of contest(s) {', '.join(map(str, missing))} in {source}. Add their open-r1/codeforces "
            "rows there, or choose other contests with codeforces@contests=ID+ID."
        )
    for contest_id in contests:
        rows = by_contest[contest_id]
        excluded = {str(r["index"]): reason for _, r in rows if (reason := exclusion_reason(r, selection)) is not None}
        for where, record in sorted(rows, key=lambda wr: str(wr[1]["index"])):
            yield where, {**record, "_contest_excluded": excluded}


def _offline_records(data_dir: Path, contests: tuple[int, ...], selection: Selection) -> Iterator[tuple[str, Record]]:
    from evalkit.codeforces.layout import generated_tests_path, store_dir
    from evalkit.codeforces.problems import generated_tests_ref, read_problem_files

    store = store_dir(data_dir)
    wanted = set(contests)

    def with_tests() -> Iterator[tuple[str, Record]]:
        for where, record in read_problem_files(store / "problems"):
            contest_id = int(record["contest_id"])
            ref = None
            if selection.generated and contest_id in wanted:
                ref = generated_tests_ref(generated_tests_path(store, contest_id), record)
            yield where, {**record, "_generated_tests": ref}

    return _annotate(with_tests(), contests, str(store / "problems"), selection)


def _hub_records(spec: DatasetSpec, contests: tuple[int, ...], selection: Selection) -> Iterator[Record]:
    from evalkit.codeforces.problems import (
        expected_generated,
        generated_tests_ref,
        hub_generated_tests,
        hub_problem_rows,
    )

    rows = list(hub_problem_rows(spec.hub_id, spec.revision, HUB_SPLITS, set(contests)))
    paths: dict[int, Path | None] = {}
    if selection.generated:
        # Only contests with a problem that announces generated tests need their file.
        needed = {int(r["contest_id"]) for r in rows if expected_generated(r) > 0}
        paths = {c: hub_generated_tests(spec.hub_id, spec.revision, c) for c in sorted(needed)}

    def with_tests() -> Iterator[tuple[str, Record]]:
        for i, record in enumerate(rows):
            ref = generated_tests_ref(paths.get(int(record["contest_id"])), record) if selection.generated else None
            yield f"{spec.hub_id}[{i}]", {**record, "_generated_tests": ref}

    for _, record in _annotate(with_tests(), contests, f"hf://{spec.hub_id}@{spec.revision}", selection):
        yield record


def _included(sample: Sample) -> bool:
    return sample.metadata.get("excluded") is None


def _rated(graded: TaskScores, data_dir: Path | None = None) -> dict[str, Any]:
    """Rating, percentile, per-contest table and solve rates (evalkit.codeforces.task_summary)."""
    from evalkit.codeforces.task_summary import summary_entry

    return summary_entry(graded, data_dir)


def _bind_standings(loaded: Task, data_dir: Path | None) -> Task:
    """Read standings, rating changes and the population from the data dir the problems load from."""
    return replace(loaded, summarize=functools.partial(_rated, data_dir=data_dir))


def _commands() -> typer.Typer:
    """`evalkit codeforces fetch`: the network step ratings need, done once, ahead of evaluation."""
    from evalkit.commands.codeforces import codeforces_app

    return codeforces_app


@task
def codeforces(
    contests: str | None = None, generated_tests: bool = True, n: int = 8, problems: str = "verifiable"
) -> Task:
    """Codeforces Div. 2 rounds rated CodeElo-style; n=8 virtual participants by default."""
    ids = parse_contests(contests)
    if problems not in PROBLEM_SETS:
        raise EvalkitError(
            f"codeforces@problems={problems!r} is unknown: 'verifiable' judges the problems open-r1 can verify "
            "(complete official tests or generated tests), 'all' every judgeable problem."
        )
    selection = Selection(verifiable_only=problems == "verifiable", generated=generated_tests)
    return Task(
        name="codeforces",
        version=VERSION,
        description=f"Codeforces, {len(ids)} contests, rated CodeElo-style (rating, percentile)",
        dataset=DatasetSpec(
            hub_id=HUB_ID,
            revision=REVISION,
            split="+".join(HUB_SPLITS),
            offline_path="codeforces/problems",
            hub_loader=functools.partial(_hub_records, contests=ids, selection=selection),
            offline_loader=functools.partial(_offline_records, contests=ids, selection=selection),
        ),
        record_to_sample=functools.partial(record_to_sample, selection=selection),
        template="codeforces.j2",
        grader="codeforces",
        n=n,
        headline="rating",
        rating_metrics=("rating",),
        # Unbound (no data dir): standings from $EVALKIT_DATA_DIR, else the user's cache folder.
        summarize=_rated,
        bind_data=_bind_standings,
        commands=_commands,
        sample_filter=_included,
        options={"contests": ids, "generated_tests": generated_tests, "problems": problems},
    )
