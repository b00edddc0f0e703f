"""Dataset loading from an offline directory: same samples as the Hub, clear errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.data import BUNDLED_DIR, load_task_samples, resolve_data_dir
from evalkit.errors import EvalkitError
from evalkit.tasks import get_task

DATA = BUNDLED_DIR  # laid out like an offline data dir


def test_offline_copies_load_with_ids_and_hashes() -> None:
    aime = load_task_samples(get_task("aime24"), DATA)
    assert len(aime.samples) == 30 and aime.samples[0].id == "2024-I-1"
    assert aime.samples[0].target == "204"
    m = load_task_samples(get_task("math500"), DATA)
    assert len(m.samples) == 500 and m.samples[0].id == "test/precalculus/807.json"
    assert m.samples[0].metadata == {"subject": "Precalculus", "level": "2"}
    a25 = load_task_samples(get_task("aime25"), DATA, limit=3)
    assert [s.id for s in a25.samples] == ["2025-I-1", "2025-I-2", "2025-I-3"] and a25.total == 30
    assert len(aime.content_hash) == 64 and aime.content_hash != m.content_hash


def test_hub_rows_map_to_the_offline_ids() -> None:
    task = get_task("aime24")
    hub_row = {
        "id": 60,
        "problem": "p",
        "answer": "025",
        "url": "https://x/wiki/index.php/2024_AIME_II_Problems/Problem_4",
    }
    assert task.record_to_sample(hub_row).id == "2024-II-4"


def test_missing_data_dir_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(EvalkitError, match="does not exist.*--data-dir"):
        resolve_data_dir(tmp_path / "nope")


def test_missing_file_in_data_dir_is_named(tmp_path: Path) -> None:
    with pytest.raises(EvalkitError, match="aime24/test.jsonl"):
        load_task_samples(get_task("aime24"), tmp_path)


def test_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "aime24").mkdir()
    good = json.dumps({"id": "a", "problem": "p", "answer": "1"})
    (tmp_path / "aime24" / "test.jsonl").write_text(f"{good}\n{{not json\n")
    with pytest.raises(EvalkitError, match=r"test.jsonl:2"):
        load_task_samples(get_task("aime24"), tmp_path)


def test_record_missing_a_field_names_the_location(tmp_path: Path) -> None:
    (tmp_path / "math500").mkdir()
    (tmp_path / "math500" / "test.jsonl").write_text(json.dumps({"problem": "p"}) + "\n")
    with pytest.raises(EvalkitError, match=r"test.jsonl:1.*KeyError"):
        load_task_samples(get_task("math500"), tmp_path)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    (tmp_path / "aime24").mkdir()
    row = json.dumps({"id": "a", "problem": "p", "answer": "1"})
    (tmp_path / "aime24" / "test.jsonl").write_text(f"{row}\n{row}\n")
    with pytest.raises(EvalkitError, match="Duplicate sample id 'a'"):
        load_task_samples(get_task("aime24"), tmp_path)


def test_env_var_sets_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALKIT_DATA_DIR", str(tmp_path))
    assert resolve_data_dir(None) == tmp_path
