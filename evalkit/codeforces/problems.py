"""Reading open-r1/codeforces problems and generated tests, offline or from the Hub.

Problems are rows in the Hub's format (`id`, `contest_id`, `index`, `title`, `description`,
`time_limit` (s), `memory_limit` (MB), `official_tests`, `generated_checker`, `interaction_format`,
`input_mode`, ...). Generated tests live apart, one parquet file per contest with columns
`problem_id`, `input`, `output`; they can be large, so samples carry a reference to them
(`{"path", "problem_id", "count"}`) and the grader reads them when it needs them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from evalkit.data import load_hub
from evalkit.errors import EvalkitError, MissingExtraError
from evalkit.jsonl import read_jsonl

Record = dict[str, Any]


def read_problem_files(folder: Path) -> Iterator[tuple[str, Record]]:
    """Yield (`file:row`, record) from every *.jsonl and *.parquet file in `folder`, in name order."""
    files = sorted(p for p in folder.glob("*") if p.suffix in (".jsonl", ".parquet")) if folder.is_dir() else []
    if not files:
        raise EvalkitError(
            f"No Codeforces problem files in '{folder}'. Put open-r1/codeforces rows there as *.jsonl or *.parquet "
            "(the same columns as the Hub dataset), or run without --data-dir to load them from the Hub."
        )
    for path in files:
        if path.suffix == ".jsonl":
            yield from read_jsonl(path)
        else:
            for i, row in enumerate(_parquet_rows(path)):
                yield f"{path}[{i}]", row


def _parquet_rows(path: Path, columns: list[str] | None = None) -> list[Record]:
    try:
        import pandas as pd
        import pyarrow  # noqa: F401  (pandas needs it for parquet)
    except ImportError as e:
        raise MissingExtraError(f"Reading parquet file '{path}'", "hf", "pyarrow") from e
    try:
        frame = pd.read_parquet(path, columns=columns)
    except Exception as e:  # pyarrow raises several unrelated types for unreadable files
        raise EvalkitError(f"Cannot read parquet file '{path}': {e}.") from e
    return [_plain(row) for row in frame.to_dict(orient="records")]


def _plain(value: Any) -> Any:
    """Parquet lists come back as numpy arrays, scalars as numpy types and nulls as NaN: make them plain."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return _plain(tolist())
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


@functools.lru_cache(maxsize=64)
def _generated_counts(path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in _parquet_rows(path, columns=["problem_id"]):
        key = str(row["problem_id"])
        counts[key] = counts.get(key, 0) + 1
    return counts


def expected_generated(record: Record) -> int:
    """How many generated tests open-r1 says a problem has (its `generated_tests` column).

    Rows of revisions older than the generated tests lack the column: evalkit cannot tell then
    which problems should have them, so that is an error, never a judge on fewer tests.
    """
    value = record.get("generated_tests")
    if value is None:
        raise EvalkitError(
            f"Codeforces problem {record.get('contest_id')}/{record.get('index')} has no generated_tests count: its "
            "open-r1/codeforces revision predates the generated tests. Use rows of a revision that has them (the one "
            "evalkit pins), or judge on the official tests only with codeforces@generated_tests=false."
        )
    return int(value)


def generated_tests_ref(path: Path | None, record: Record) -> dict[str, Any] | None:
    """A reference to `record`'s generated tests in its contest's parquet file (None when it has none).

    The file must hold exactly the number of tests the row announces: a missing file or a different
    count is an error naming the fix.
    """
    expected = expected_generated(record)
    problem_id = f"{int(record['contest_id'])}/{record['index']}"
    if expected == 0 and (path is None or not path.is_file()):
        return None
    if path is None or not path.is_file():
        raise EvalkitError(
            f"Codeforces problem {problem_id} has {expected} generated tests, but their file "
            f"generated_tests/test_cases_{int(record['contest_id']):04d}.parquet is not there"
            + (f" ({path})" if path is not None else "")
            + ". Download it from open-r1/codeforces (or put it in <data dir>/codeforces/generated_tests/), or judge "
            "on the official tests only with codeforces@generated_tests=false."
        )
    count = _generated_counts(path).get(problem_id, 0)
    if count != expected:
        raise EvalkitError(
            f"'{path}' holds {count} generated tests of {problem_id}, its problem row announces {expected}: problems "
            "and generated tests come from different revisions. Take both from the same open-r1/codeforces revision."
        )
    return {"path": str(path), "problem_id": problem_id, "count": count} if count else None


@functools.lru_cache(maxsize=4)
def _contest_tests(path: str) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = {}
    for row in _parquet_rows(Path(path), columns=["problem_id", "input", "output"]):
        grouped.setdefault(str(row["problem_id"]), []).append(
            {"input": str(row["input"]), "output": str(row["output"])}
        )
    return grouped


def load_generated_tests(ref: dict[str, Any]) -> list[dict[str, str]]:
    """The generated tests a sample's reference points to; a changed or missing file is an error."""
    path = Path(str(ref["path"]))
    if not path.is_file():
        raise EvalkitError(
            f"Generated tests file '{path}' is gone. Restore it (open-r1/codeforces generated_tests/) or reload "
            "the task with codeforces@generated_tests=false."
        )
    tests = _contest_tests(str(path)).get(str(ref["problem_id"]), [])
    if len(tests) != int(ref["count"]):
        raise EvalkitError(
            f"Generated tests of {ref['problem_id']} in '{path}' changed since the samples were loaded "
            f"({len(tests)} tests, expected {ref['count']}). Re-run the task so samples and tests match."
        )
    return tests


def hub_problem_rows(hub_id: str, revision: str, splits: Iterable[str], contests: set[int]) -> Iterator[Record]:
    """Rows of the Hub dataset's splits that belong to `contests`."""
    for split in splits:
        rows = load_hub(
            hub_id,
            split=split,
            revision=revision,
            hint="Without network access, pass --data-dir with codeforces/problems/ (see evalkit.codeforces.layout).",
        )
        for row in rows.filter(lambda r: int(r["contest_id"]) in contests):
            yield dict(row)


def hub_generated_tests(hub_id: str, revision: str, contest_id: int) -> Path | None:
    """A contest's generated tests from the Hub (or the HF cache); None only when the revision has no such file.

    huggingface_hub raises LocalEntryNotFoundError, a subclass of EntryNotFoundError, when it is
    offline or cannot reach the Hub: that is an error here, never "this contest has none".
    """
    try:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError
    except ImportError as e:
        raise MissingExtraError(f"Loading {hub_id} generated tests", "hf", "huggingface_hub") from e
    filename = f"generated_tests/test_cases_{contest_id:04d}.parquet"
    cause: Exception
    try:
        return Path(hf_hub_download(hub_id, filename, repo_type="dataset", revision=revision))
    except EntryNotFoundError as e:
        if not isinstance(e, LocalEntryNotFoundError):
            return None  # the Hub answered: the revision has no such file (rows say whether it should)
        cause = e
    except Exception as e:  # network and auth problems come as many types
        cause = e
    raise EvalkitError(
        f"Could not get {filename} of {hub_id}@{revision}: {str(cause).rstrip('.')}. Connect to the Hub (or unset HF_HUB_OFFLINE) so "
        "it can be downloaded, use an offline copy with --data-dir, or judge on the official tests only with "
        "codeforces@generated_tests=false."
    ) from cause
