"""LiveCodeBench code generation (Jain et al. 2024, arXiv:2403.07974), as in the DeepSeek-R1 report.

Source: livecodebench/code_generation_lite (pinned revision below). Its Hub loading script no longer
works with datasets >= 4, so the raw `test*.jsonl` files are read directly (`huggingface_hub`, or
the same files under `<data dir>/livecodebench/`). Release tags pick files: `release_v1`..`release_v6`
(cumulative), `release_latest`, `vN` (one file) and ranges `vA_vB`.
Protocol: problems whose `contest_date` falls in 2024-08-01..2025-01-31 (inclusive; set with
`livecodebench@start=...@end=...`), LiveCodeBench's own prompt (`style=r1`: its DeepSeek-R1 prompt,
`style=generic`: its chat prompt), n=16, T=0.6, top-p 0.95, 32,768 tokens; pass@1 by difficulty
(easy/medium/hard) and platform. Code runs in the sandbox with lcb_runner's verdicts
(docs/livecodebench.md): 6 s per test, no memory limit of the task's own, 50,000-digit integers.

Cost: each raw file holds one release's new problems (FILE_DATES), about 4.5 GB in all. Only the
files whose dates meet the window are downloaded and read (`files=window`, the default; the
default window needs test4 and test5, 1.8 GB), and only rows inside the window are decoded. A row
of a loaded file dated outside its file's recorded dates is an error, as it means problems of the
window could sit in files that were skipped; `files=release` reads every file of the release.
Private tests are JSON, or base64 -> zlib -> pickle -> JSON; the pickle is read by an unpickler that
accepts only plain strings. Decoded tests go to evalkit.testsets once per machine (later loads decode
nothing), and samples carry a reference.
Sample id: `question_id`.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import pickle
import re
import zlib
from collections.abc import Iterator
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from evalkit import DatasetSpec, EvalkitError, MissingExtraError, Record, Sample, Task, task, testsets
from evalkit.jsonl import jsonl_lines, parse_record

HUB_ID = "livecodebench/code_generation_lite"
REVISION = "0fe84c3912ea0c4d4a78037083943e8f0c4dd505"
VERSION = "2"
OFFLINE_DIR = "livecodebench"
FILES = ("test.jsonl", "test2.jsonl", "test3.jsonl", "test4.jsonl", "test5.jsonl", "test6.jsonl")
# The contest dates of the problems each file adds, from LiveCodeBench's release notes (README at
# 28fef95: release_v1 "May 2023 - Mar 2024", v2 to May 2024, v3 to Jul 2024, v4 to Sep 2024, v5 to
# Jan 2025, v6 to Apr 2025). Loading checks every row it reads against them.
FILE_DATES: dict[str, tuple[date, date]] = {
    "test.jsonl": (date(2023, 5, 1), date(2024, 3, 31)),
    "test2.jsonl": (date(2024, 4, 1), date(2024, 5, 31)),
    "test3.jsonl": (date(2024, 6, 1), date(2024, 7, 31)),
    "test4.jsonl": (date(2024, 8, 1), date(2024, 9, 30)),
    "test5.jsonl": (date(2024, 10, 1), date(2025, 1, 31)),
    "test6.jsonl": (date(2025, 2, 1), date(2025, 4, 30)),
}
FILE_CHOICES = ("window", "release")
TEMPLATES = {"r1": "livecodebench.j2", "generic": "livecodebench_generic.j2"}
_RANGE = re.compile(r"v(\d+)_v(\d+)")
# The row's date, found without parsing the (large) row: rows outside the window are skipped unread.
_CONTEST_DATE = re.compile(r'"contest_date"\s*:\s*"(\d{4}-\d{2}-\d{2})')


def release_files(release: str) -> tuple[str, ...]:
    """The raw files a release tag covers (the Hub loading script's ALLOWED_FILES)."""
    count = len(FILES)
    if release == "release_latest":
        return FILES
    for prefix in ("release_v", "v"):
        number = release.removeprefix(prefix)
        if release.startswith(prefix) and number.isdigit() and 1 <= int(number) <= count:
            return FILES[: int(number)] if prefix == "release_v" else (FILES[int(number) - 1],)
    match = _RANGE.fullmatch(release)
    if match and 1 <= int(match[1]) < int(match[2]) <= count:
        return FILES[int(match[1]) - 1 : int(match[2])]
    raise EvalkitError(
        f"Unknown LiveCodeBench release '{release}'. Use release_v1..release_v{count}, release_latest, "
        f"v1..v{count} (one release's new problems) or a range like v4_v5."
    )


def needed_files(release: str, start: date, end: date, files: str = "window") -> tuple[str, ...]:
    """The files of `release` to read: those whose problems' dates meet start..end, or all (`files=release`)."""
    chosen = release_files(release)
    if files == "release":
        return chosen
    return tuple(name for name in chosen if FILE_DATES[name][0] <= end and start <= FILE_DATES[name][1])


class _StringsOnly(pickle.Unpickler):
    """An unpickler that builds no objects but plain strings: any global (class, function) is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only plain strings are accepted")


def decode_tests(raw: str) -> list[dict[str, Any]]:
    """Test cases from JSON, or from LiveCodeBench's base64 -> zlib -> pickle(str) -> JSON encoding."""
    try:
        tests = json.loads(raw)
    except json.JSONDecodeError:
        try:
            blob = zlib.decompress(base64.b64decode(raw.encode("ascii"), validate=True))
            text = _StringsOnly(io.BytesIO(blob)).load()
        except (binascii.Error, zlib.error, pickle.UnpicklingError, UnicodeEncodeError, EOFError, ValueError) as e:
            raise EvalkitError(
                f"LiveCodeBench tests are neither JSON nor base64/zlib/pickle of a JSON string ({e}). "
                "Re-download the dataset files; evalkit never unpickles anything but plain strings."
            ) from e
        if not isinstance(text, str):
            raise EvalkitError(
                f"LiveCodeBench private tests unpickled to {type(text).__name__}, expected a string."
            ) from None
        tests = json.loads(text)
    if not isinstance(tests, list):
        raise EvalkitError(f"LiveCodeBench tests must be a JSON list, got {type(tests).__name__}.")
    return [{"input": t["input"], "output": t["output"], "testtype": t["testtype"]} for t in tests]


def record_to_sample(record: Record) -> Sample:
    """A raw Hub row to a Sample; public tests first, then private ones (LiveCodeBench's order).

    The tests are decoded once per machine: stored in evalkit.testsets under a key of their raw
    fields, found there by later loads without decoding; the sample carries the reference.
    """
    metadata = json.loads(record.get("metadata") or "{}")
    public, private = record["public_test_cases"], record["private_test_cases"]
    key = testsets.key_of(public, private)
    ref = testsets.find(key) or testsets.put(key, decode_tests(public) + decode_tests(private))
    return Sample(
        id=str(record["question_id"]),
        input=record["question_content"],
        target="",
        metadata={
            "title": record.get("question_title", ""),
            "platform": record["platform"],
            "difficulty": record["difficulty"],
            "contest_id": str(record.get("contest_id", "")),
            "contest_date": str(record["contest_date"]),
            "starter_code": record.get("starter_code") or "",
            "fn_name": metadata.get("func_name"),
            "tests": ref,
        },
    )


def _parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise EvalkitError(f"livecodebench@{option}={value!r} is not a date: write it as YYYY-MM-DD.") from e


def _in_window(contest_date: str, start: date, end: date) -> bool:
    return start <= date.fromisoformat(contest_date[:10]) <= end


def _rows(path: Path, start: date, end: date, check_dates: bool) -> Iterator[tuple[str, Record]]:
    """(`file:line`, row) of the rows of `path` dated start..end; the others are never parsed.

    With `check_dates`, a row dated outside the file's FILE_DATES is an error (see the module docstring).
    """
    first, last = FILE_DATES.get(path.name, (date.min, date.max))
    for where, line in jsonl_lines(path):
        found = _CONTEST_DATE.search(line)
        day = date.fromisoformat(found[1]) if found else None
        if day is not None and check_dates and not first <= day <= last:
            raise EvalkitError(
                f"LiveCodeBench row at {where} is dated {day}, outside the dates evalkit expects {path.name} to "
                f"hold ({first}..{last}), so files it skipped may hold problems of the window too. Load every "
                "file of the release with livecodebench@files=release, and report this to evalkit."
            )
        if day is not None and not start <= day <= end:
            continue
        record = parse_record(line, where)
        if day is None and not _in_window(str(record["contest_date"]), start, end):
            continue
        yield where, record


def _offline_loader(
    data_dir: Path, *, release: str, start: date, end: date, files: str
) -> Iterator[tuple[str, Record]]:
    names = needed_files(release, start, end, files)
    for name in names:
        path = data_dir / OFFLINE_DIR / name
        if not path.is_file():
            raise EvalkitError(
                f"LiveCodeBench file '{path}' not found: {release} from {start} to {end} needs {', '.join(names)} "
                f"from {HUB_ID} under '{data_dir / OFFLINE_DIR}'."
            )
        yield from _rows(path, start, end, check_dates=files == "window")


def _hub_loader(spec: DatasetSpec, *, release: str, start: date, end: date, files: str) -> Iterator[Record]:
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as e:
        raise MissingExtraError(f"Loading {HUB_ID} from the Hugging Face Hub", "hf", "huggingface_hub") from e
    for name in needed_files(release, start, end, files):
        try:
            path = Path(hf_hub_download(spec.hub_id, name, repo_type="dataset", revision=spec.revision))
        except Exception as e:  # network, auth and cache errors come as many unrelated types
            raise EvalkitError(
                f"Could not download {name} of {HUB_ID}@{spec.revision}: {e}. Without network access, pass "
                f"--data-dir with the raw files under '{OFFLINE_DIR}/'."
            ) from e
        for _, record in _rows(path, start, end, check_dates=files == "window"):
            yield record


@task
def livecodebench(
    release: str = "release_v6",
    start: str = "2024-08-01",
    end: str = "2025-01-31",
    style: str = "r1",
    timeout_s: float = 6.0,
    files: str = "window",
) -> Task:
    """LiveCodeBench code generation, problems dated start..end (inclusive) from `release`, n=16."""
    first, last = _parse_day(start, "start"), _parse_day(end, "end")
    if first > last:
        raise EvalkitError(f"livecodebench@start={start} is after end={end}: the date window is empty.")
    if style not in TEMPLATES:
        raise EvalkitError(f"livecodebench@style={style!r} is unknown: use one of {', '.join(TEMPLATES)}.")
    if files not in FILE_CHOICES:
        raise EvalkitError(
            f"livecodebench@files={files!r} is unknown: 'window' reads only the files whose dates meet the window, "
            "'release' every file of the release."
        )
    if not needed_files(release, first, last, files):
        raise EvalkitError(
            f"LiveCodeBench {release} has no problems dated {start}..{end}: its files cover "
            + ", ".join(f"{n} {FILE_DATES[n][0]}..{FILE_DATES[n][1]}" for n in release_files(release))
            + ". Choose another release or window."
        )
    options = {"release": release, "start": start, "end": end, "style": style, "timeout_s": timeout_s, "files": files}
    return Task(
        name="livecodebench",
        version=VERSION,
        description=f"LiveCodeBench {release}, contests {start}..{end}, Python, lcb_runner's verdicts",
        dataset=DatasetSpec(
            hub_id=HUB_ID,
            revision=REVISION,
            split="test",
            offline_path=OFFLINE_DIR,
            hub_loader=partial(_hub_loader, release=release, start=first, end=last, files=files),
            offline_loader=partial(_offline_loader, release=release, start=first, end=last, files=files),
        ),
        record_to_sample=record_to_sample,
        template=TEMPLATES[style],
        grader="code",
        # No memory limit of the task's own (lcb_runner sets none): the sandbox's machine cap applies.
        grader_options={"language": "python", "timeout_s": timeout_s, "memory_mb": None},
        n=16,
        breakdown=("difficulty", "platform"),
        sample_filter=lambda s: _in_window(s.metadata["contest_date"], first, last),
        options=options,
    )
