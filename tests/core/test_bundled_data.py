"""The benchmark copies bundled with evalkit: the default source, the same samples as the Hub path,
checked on load, and recorded in the manifest (bundled / hub / data-dir)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import evalkit.data as data
from evalkit.cli import app
from evalkit.data import BUNDLED_DIR, load_task_samples, resolve_data_dir
from evalkit.errors import EvalkitError
from evalkit.tasks import get_task


def _rows(relative: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (BUNDLED_DIR / relative).read_text("utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize(("task", "count"), [("aime24", 30), ("aime25", 30), ("math500", 500), ("ifeval", 541)])
def test_bundled_copy_is_the_default_source_and_needs_no_network(
    task: str, count: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EVALKIT_DATA_DIR", raising=False)
    monkeypatch.setattr(data, "load_hub", _no_hub)
    loaded = load_task_samples(get_task(task), resolve_data_dir(None))
    assert loaded.source == "bundled" and len(loaded.samples) == count
    assert loaded.location == str(BUNDLED_DIR / get_task(task).dataset.offline_path)


def _no_hub(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the Hub must not be contacted")


def _hub_samples(task: str, rows: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> data.LoadedDataset:
    monkeypatch.setattr(data, "load_hub", lambda *a, **k: rows)
    return load_task_samples(get_task(task), None, source="hub")


def test_aime24_hub_rows_give_the_bundled_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    # HuggingFaceH4/aime_2024: integer ids 60..89, a year column, the same problem/answer/url.
    hub = [{**row, "id": 60 + i, "year": "2024"} for i, row in enumerate(_rows("aime24/test.jsonl"))]
    assert (
        _hub_samples("aime24", hub, monkeypatch).content_hash
        == load_task_samples(get_task("aime24"), None).content_hash
    )


def test_math500_hub_rows_give_the_bundled_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    hub = _rows("math500/test.jsonl")
    assert (
        _hub_samples("math500", hub, monkeypatch).content_hash
        == load_task_samples(get_task("math500"), None).content_hash
    )


def test_ifeval_hub_rows_padded_with_nulls_give_the_bundled_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _rows("ifeval/input_data.jsonl")
    # Arrow gives every kwargs dict the union of all keys, null where an instruction has none.
    keys = sorted({k for row in rows for kw in row["kwargs"] for k in kw})
    hub = [{**row, "kwargs": [{k: kw.get(k) for k in keys} for kw in row["kwargs"]]} for row in rows]
    assert (
        _hub_samples("ifeval", hub, monkeypatch).content_hash
        == load_task_samples(get_task("ifeval"), None).content_hash
    )


def test_aime25_hub_degree_answer_is_the_integer_and_the_text_difference_is_recorded() -> None:
    task = get_task("aime25")
    for answer in ("336^\\circ", "336^{\\circ}", "336°", "336"):
        assert task.record_to_sample({"id": "2025-II-5", "problem": "p", "answer": answer}).target == "336"
    entry = load_task_samples(task, None).manifest_entry()
    assert entry["source"] == "bundled" and entry["bundled"]["matches_hub"] is False
    assert "TikZ" in entry["bundled"]["differences"]


def test_an_edited_bundled_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "_data"
    shutil.copytree(BUNDLED_DIR, copy)
    path = copy / "aime24" / "test.jsonl"
    path.write_text(path.read_text("utf-8").replace('"answer": "204"', '"answer": "205"'), "utf-8")
    monkeypatch.setattr(data, "BUNDLED_DIR", copy)
    with pytest.raises(EvalkitError, match=r"aime24/test.jsonl\) has sha256 .* it was modified"):
        load_task_samples(get_task("aime24"), None)


def test_source_options_conflict_and_missing_copies_are_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(EvalkitError, match="--data-source hub and --data-dir"):
        resolve_data_dir(tmp_path, "hub")
    monkeypatch.setenv("EVALKIT_DATA_DIR", str(tmp_path))
    assert resolve_data_dir(None, "bundled") is None, "an explicit source wins over the environment"
    with pytest.raises(EvalkitError, match="'gpqa_diamond' has no bundled copy"):
        load_task_samples(get_task("gpqa_diamond"), None, source="bundled")
    assert load_task_samples(get_task("aime24"), BUNDLED_DIR).source == "data-dir"


def test_manifest_records_the_source_of_each_task(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVALKIT_DATA_DIR", raising=False)
    out = tmp_path / "run"
    args = ["run", "--model", "simulated", "--tasks", "aime24@n=2,aime25@n=2", "--limit", "2", "--output", str(out)]
    result = CliRunner().invoke(app, [*args, "--quiet"])
    assert result.exit_code == 0, result.output
    tasks = json.loads((out / "manifest.json").read_text())["tasks"]
    assert tasks["aime24"]["dataset"]["source"] == "bundled"
    assert tasks["aime24"]["dataset"]["bundled"]["matches_hub"] is True
    assert tasks["aime25"]["dataset"]["bundled"]["matches_hub"] is False


def test_hub_source_without_the_hf_extra_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_datasets(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "datasets":
            raise ImportError("no datasets here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_datasets)
    args = ["run", "--model", "simulated", "--tasks", "aime24", "--data-source", "hub", "--output", str(tmp_path / "r")]
    result = CliRunner().invoke(app, [*args, "--quiet"])
    assert result.exit_code == 2
    assert "pip install 'evalkit[hf]'" in " ".join(result.output.split())
    assert not (tmp_path / "r").exists(), "a refused command writes nothing"
