"""Decoded tests are stored once and shared by a problem's samples: grading jobs carry a reference."""

from __future__ import annotations

import json
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from evalkit import testsets
from evalkit.data import load_task_samples
from evalkit.errors import EvalkitError
from evalkit.graders.base import GraderRef, ThinkSettings
from evalkit.graders.jobs import GradeJob
from evalkit.tasks import get_task
from evalkit.testing import generation_for


def _big_row(encode: Callable[[list[dict[str, str]]], str]) -> dict[str, Any]:
    # 40 tests of 50 kB: the size of a typical LiveCodeBench problem's tests, scaled down.
    tests = [{"input": f"{i}\n" + "x" * 50_000 + "\n", "output": f"{i}\n", "testtype": "stdin"} for i in range(40)]
    return {
        "question_title": "Big", "question_content": "Print the first line.", "platform": "atcoder",
        "question_id": "abc998_a", "contest_id": "abc998", "contest_date": "2024-08-20T00:00:00",
        "starter_code": "", "difficulty": "easy", "public_test_cases": json.dumps(tests[:1]),
        "private_test_cases": encode(tests[1:]), "metadata": "{}",
    }  # fmt: skip


def test_grading_jobs_carry_a_reference_not_the_tests(
    lcb_dir: Path, encode_private: Callable[[list[dict[str, str]]], str]
) -> None:
    path = lcb_dir / "livecodebench" / "test4.jsonl"
    path.write_text(path.read_text() + json.dumps(_big_row(encode_private)) + "\n")
    task = get_task("livecodebench")
    sample = next(s for s in load_task_samples(task, lcb_dir).samples if s.id == "abc998_a")
    ref = sample.metadata["tests"]
    assert testsets.is_ref(ref) and ref["count"] == 40
    stored = testsets.get(ref)
    assert sum(len(t["input"]) for t in stored) > 2_000_000
    grader = GraderRef(task.grader, dict(task.grader_options))
    jobs = [
        GradeJob(
            grader,
            sample,
            generation_for(sample, "x", task="livecodebench", task_version="2", index=i, seed=0),
            ThinkSettings(),
        )
        for i in range(16)
    ]
    assert max(len(pickle.dumps(job)) for job in jobs) < 4_000
    # Loading again writes nothing new: the store is content-addressed.
    before = sorted(testsets.store_dir().rglob("*.json"))
    load_task_samples(task, lcb_dir)
    assert sorted(testsets.store_dir().rglob("*.json")) == before


def test_later_loads_decode_nothing(lcb_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    task = get_task("livecodebench")
    first = load_task_samples(task, lcb_dir)
    lcb = sys.modules["evalkit_tasks.livecodebench"]

    def refuse(raw: str) -> list[dict[str, Any]]:
        raise AssertionError("decoded again")

    monkeypatch.setattr(lcb, "decode_tests", refuse)
    again = load_task_samples(task, lcb_dir)
    assert again.content_hash == first.content_hash
    assert [s.metadata["tests"] for s in again.samples] == [s.metadata["tests"] for s in first.samples]


def test_a_worker_reads_a_set_once_and_checks_what_it_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(testsets.CACHE_ENV, str(tmp_path))
    tests = [{"input": "1\n", "output": "1\n", "testtype": "stdin"}]
    key = testsets.key_of("raw public", "raw private")
    assert testsets.find(key) is None
    ref = testsets.put(key, tests)
    assert testsets.find(key) == ref == {"key": key, "count": 1} and testsets.get(ref) == tests
    assert testsets.key_of("raw public", "raw private") != testsets.key_of("raw publicraw", " private")
    (path,) = tmp_path.rglob("*.json")
    path.unlink()
    assert testsets.get(ref) == tests  # kept by this process after the first read

    def read_others() -> None:
        for i in range(2, 4):  # more sets than a worker keeps
            testsets.get(testsets.put(testsets.key_of(str(i)), [{"input": "", "output": "", "testtype": "stdin"}]))

    read_others()
    with pytest.raises(EvalkitError, match=f"missing.*{testsets.CACHE_ENV}"):
        testsets.get(ref)
    path.write_text("[]")
    with pytest.raises(EvalkitError, match="damaged"):
        testsets.get(ref)
