"""The run directory survives crashes: torn lines are dropped, a second writer is refused."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from evalkit.errors import EvalkitError
from evalkit.store import GENERATIONS, RunDir, RunWriter
from evalkit.types import Generation


def _gen(i: int, error: str | None = None) -> Generation:
    return Generation(
        task="t", task_version="1", sample_id=f"s{i}", sample_index=0, seed=i, prompt_hash="p",
        text=None if error else f"answer {i}", error=error,
    )  # fmt: skip


def test_rows_are_readable_after_each_append(tmp_path: Path) -> None:
    with RunWriter(tmp_path) as w:
        w.append_generation(_gen(1), params_hash="a", identity_hash="m")
        assert len(RunDir(tmp_path).generations()) == 1


def test_torn_last_line_is_dropped_on_open(tmp_path: Path) -> None:
    with RunWriter(tmp_path) as w:
        w.append_generation(_gen(1), params_hash="a", identity_hash="m")
        w.append_generation(_gen(2), params_hash="a", identity_hash="m")
    path = tmp_path / GENERATIONS
    path.write_bytes(path.read_bytes() + b'{"task": "t", "sample_id": "s3", "samp')
    with RunWriter(tmp_path) as w:
        assert set(k[1] for k in w.generations()) == {"s1", "s2"}, "a torn line is not a row"
        assert not path.read_bytes().endswith(b"\n"), "opening alone writes nothing"
        w.begin()
        assert path.read_bytes().endswith(b"\n")
        assert set(k[1] for k in w.generations()) == {"s1", "s2"}
        w.append_generation(_gen(3), params_hash="a", identity_hash="m")
    assert [json.loads(x)["sample_id"] for x in path.read_text().splitlines()] == ["s1", "s2", "s3"]


def test_later_row_for_a_key_wins(tmp_path: Path) -> None:
    with RunWriter(tmp_path) as w:
        w.append_generation(_gen(1, error="500"), params_hash="a", identity_hash="m")
        w.append_generation(_gen(1), params_hash="a", identity_hash="m")
    (gen,) = RunDir(tmp_path).generations().values()
    assert gen.error is None and gen.text == "answer 1"


def _hold_lock(path: str, ready: multiprocessing.synchronize.Event, release: multiprocessing.synchronize.Event) -> None:
    with RunWriter(Path(path)):
        ready.set()
        release.wait(30)


def test_second_writer_process_is_refused(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold_lock, args=(str(tmp_path), ready, release))
    proc.start()
    try:
        assert ready.wait(30)
        with pytest.raises(EvalkitError, match="Another evalkit process"), RunWriter(tmp_path):
            pass
    finally:
        release.set()
        proc.join(30)


def test_missing_summary_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(EvalkitError, match="evalkit grade"):
        RunDir(tmp_path).summary()


def test_run_dir_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with (
        pytest.raises(EvalkitError, match="Cannot create run directory.*another --output"),
        RunWriter(blocker / "run") as writer,
    ):
        writer.begin()
