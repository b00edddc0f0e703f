"""Dataset loading from one of three sources: the copy bundled with evalkit, the pinned Hub revision,
or an offline data directory with the same layout.

`--data-source auto` (the default) uses `--data-dir` / $EVALKIT_DATA_DIR when one is given, else the
bundled copy when the task has one (AIME 2024/2025, MATH-500, IFEval), else the Hub (GPQA,
LiveCodeBench, Codeforces). `--data-source hub` loads the pinned Hub revision instead of the bundled
copy; `--data-source bundled` insists on the bundled copy. A task of one's own that reads a local
JSONL file (`DatasetSpec.local_jsonl`) always reads that file. The manifest records which source a
run used.

The content hash is taken over the samples a task builds (not the raw files), so a Hub copy and an
offline copy that yield the same samples get the same hash, and `evalkit gate` can tell whether two
runs saw the same data.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from evalkit.errors import EvalkitError, MissingExtraError
from evalkit.jsonl import read_jsonl
from evalkit.tasks import BundledCopy, DatasetSpec, Record, Task, get_task, task_names
from evalkit.types import Sample

DATA_DIR_ENV = "EVALKIT_DATA_DIR"
BUNDLED_DIR = Path(__file__).resolve().parent / "_data"

DataSource = Literal["auto", "bundled", "hub"]
# Where one task's samples came from, as the manifest records it.
SourceKind = Literal["bundled", "hub", "data-dir", "local"]
DATA_SOURCES: tuple[str, ...] = get_args(DataSource)


@dataclass(frozen=True)
class LoadedDataset:
    """The samples of one task plus where they came from (recorded in the manifest)."""

    samples: list[Sample]
    source: SourceKind
    location: str
    dataset_id: str
    revision: str
    content_hash: str
    total: int
    bundled: BundledCopy | None = None

    def manifest_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": self.dataset_id,
            "revision": self.revision,
            "source": self.source,
            "location": self.location,
            "content_hash": self.content_hash,
            "num_samples": len(self.samples),
            "num_samples_before_limit": self.total,
        }
        if self.bundled is not None:
            entry["bundled"] = {
                "sha256": self.bundled.sha256,
                "matches_hub": self.bundled.matches_hub,
                "differences": self.bundled.differences,
            }
        return entry


def resolve_data_dir(data_dir: Path | None, source: DataSource = "auto") -> Path | None:
    """The data directory a run reads: `--data-dir`, else $EVALKIT_DATA_DIR, else None. It must exist.

    An explicit `--data-source hub|bundled` ignores $EVALKIT_DATA_DIR and refuses `--data-dir`.
    """
    if source not in DATA_SOURCES:
        raise EvalkitError(f"Unknown --data-source '{source}'. Choose one of: {', '.join(DATA_SOURCES)}.")
    if source != "auto":
        if data_dir is not None:
            raise EvalkitError(
                f"--data-source {source} and --data-dir {data_dir} contradict each other: the first loads the "
                f"{'Hub revision' if source == 'hub' else 'bundled copy'}, the second a data directory. Pass one."
            )
        return None
    if data_dir is None:
        env = os.environ.get(DATA_DIR_ENV)
        data_dir = Path(env) if env else None
    if data_dir is not None and not data_dir.is_dir():
        raise EvalkitError(
            f"Data directory '{data_dir}' does not exist. Pass --data-dir (or set {DATA_DIR_ENV}) to a folder laid "
            "out like the offline copy (e.g. aime24/test.jsonl), or leave both unset to use the bundled copies "
            "(aime24, aime25, math500, ifeval) and the Hugging Face Hub for the rest."
        )
    return data_dir


def bundled_task_names() -> list[str]:
    """The registered tasks whose data ships with evalkit."""
    return [name for name in task_names() if get_task(name).dataset.bundled is not None]


def source_kind(spec: DatasetSpec, data_dir: Path | None, source: DataSource = "auto", task: str = "") -> SourceKind:
    """Which source one task loads from (see the module docstring)."""
    if spec.local_path is not None:
        return "local"
    if source == "hub":
        return "hub"
    if source == "bundled":
        if spec.bundled is None:
            raise EvalkitError(
                f"Task '{task or spec.hub_id}' has no bundled copy (only {', '.join(bundled_task_names())} ship with "
                "evalkit). Use --data-source auto (its Hub dataset or --data-dir) for it."
            )
        return "bundled"
    if data_dir is not None:
        return "data-dir"
    return "bundled" if spec.bundled is not None else "hub"


def _bundled_records(spec: DatasetSpec, bundled: BundledCopy) -> tuple[Iterable[tuple[str, Record]], str]:
    path = BUNDLED_DIR / spec.offline_path
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as e:
        raise EvalkitError(
            f"The bundled copy of {spec.hub_id} ({path}) cannot be read: {e.strerror}. Reinstall evalkit, or "
            "pass --data-source hub (or --data-dir) to load it from elsewhere."
        ) from e
    if digest != bundled.sha256:
        raise EvalkitError(
            f"The bundled copy of {spec.hub_id} ({path}) has sha256 {digest}, not the {bundled.sha256} evalkit "
            "ships: it was modified. Reinstall evalkit (or restore the file), or pass --data-source hub or --data-dir."
        )
    return read_jsonl(path), str(path)


def _offline_records(spec: DatasetSpec, data_dir: Path) -> tuple[Iterable[tuple[str, Record]], str]:
    if spec.offline_loader is not None:
        return spec.offline_loader(data_dir), str(data_dir / spec.offline_path)
    path = data_dir / spec.offline_path
    if not path.is_file():
        raise EvalkitError(
            f"Dataset file '{path}' not found. The data directory must hold '{spec.offline_path}' "
            f"(the offline copy of {spec.hub_id})."
        )
    return read_jsonl(path), str(path)


def load_hub(hub_id: str, *, split: str, revision: str, config: str | None = None, hint: str = "") -> Any:
    """One split of a Hugging Face dataset, with clear errors for a missing extra or a failed load.

    `hint` says what to do instead (gated access, the offline layout); the default points at --data-dir.
    """
    try:
        import datasets
    except ImportError as e:
        raise MissingExtraError(f"Loading {hub_id} from the Hugging Face Hub", "hf", "datasets") from e
    try:
        return datasets.load_dataset(hub_id, config, split=split, revision=revision)
    except Exception as e:  # the datasets library raises many unrelated types for network/auth problems
        where = f"{hub_id}" + (f" ({config})" if config else "") + f", split {split}, revision {revision}"
        raise EvalkitError(
            f"Could not load {where} from the Hugging Face Hub: {e}. "
            + (hint or f"Without network access, pass --data-dir (or set {DATA_DIR_ENV}) to an offline copy.")
        ) from e


def _hub_records(spec: DatasetSpec) -> Iterable[tuple[str, Record]]:
    if spec.hub_loader is not None:
        records: Iterable[Record] = spec.hub_loader(spec)
    else:
        records = load_hub(spec.hub_id, config=spec.config, split=spec.split, revision=spec.revision)
    return ((f"{spec.hub_id}[{i}]", dict(r)) for i, r in enumerate(records))


def load_task_samples(
    task: Task, data_dir: Path | None, limit: int | None = None, *, source: DataSource = "auto"
) -> LoadedDataset:
    """Load, convert, filter and limit a task's samples; duplicate sample ids are an error.

    `source` picks bundled / Hub / `data_dir` as `source_kind` says (auto: `data_dir` when given).
    """
    spec = task.dataset
    kind = source_kind(spec, data_dir, source, task.name)
    bundled = spec.bundled if kind == "bundled" else None
    records: Iterable[tuple[str, Record]]
    if bundled is not None:
        records, location = _bundled_records(spec, bundled)
    elif spec.local_path is not None:
        records, location = read_jsonl(spec.local_path), str(spec.local_path)
    elif kind == "data-dir":
        assert data_dir is not None
        records, location = _offline_records(spec, data_dir)
    else:
        records, location = _hub_records(spec), f"hf://{spec.hub_id}@{spec.revision}"
    samples: list[Sample] = []
    seen: dict[str, str] = {}
    for where, record in records:
        try:
            sample = task.record_to_sample(record)
        except EvalkitError:
            raise
        except (KeyError, TypeError, ValueError) as e:
            raise EvalkitError(
                f"Malformed record for task '{task.name}' at {where}: {type(e).__name__}: {e}. "
                "The record lacks a field the task needs or has a wrong type."
            ) from e
        if sample.id in seen:
            raise EvalkitError(
                f"Duplicate sample id '{sample.id}' in task '{task.name}' at {where} and {seen[sample.id]}."
            )
        seen[sample.id] = where
        if task.sample_filter is None or task.sample_filter(sample):
            samples.append(sample)
    if not samples:
        raise EvalkitError(f"Task '{task.name}' has no samples after loading from {location} (check its filters).")
    total = len(samples)
    if limit is not None:
        samples = samples[:limit]
    return LoadedDataset(
        samples=samples,
        source=kind,
        location=location,
        dataset_id=spec.hub_id,
        revision=spec.revision,
        content_hash=samples_hash(samples),
        total=total,
        bundled=bundled,
    )


def samples_hash(samples: Iterable[Sample]) -> str:
    """sha256 over the canonical JSON of the samples, in order."""
    h = hashlib.sha256()
    for s in samples:
        h.update(json.dumps(s.to_dict(), sort_keys=True, ensure_ascii=False, default=str).encode())
        h.update(b"\n")
    return h.hexdigest()
