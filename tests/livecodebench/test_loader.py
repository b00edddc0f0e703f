"""The LiveCodeBench task: release tags, date window, private-test decoding, prompts and grading."""

from __future__ import annotations

import base64
import json
import os
import pickle
import sys
import zlib
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from evalkit import testsets
from evalkit.data import load_task_samples
from evalkit.errors import EvalkitError
from evalkit.graders.base import GraderRef, ThinkSettings, make_grader
from evalkit.tasks import get_task, parse_task_list
from evalkit.testing import generation_for


def _lcb_module() -> Any:
    """tasks/livecodebench.py, loaded by file path through the task registry."""
    get_task("livecodebench")
    return sys.modules["evalkit_tasks.livecodebench"]


def test_release_tags_pick_the_hub_files() -> None:
    lcb = _lcb_module()
    assert lcb.release_files("release_v1") == ("test.jsonl",)
    assert lcb.release_files("release_v6")[-1] == "test6.jsonl" and len(lcb.release_files("release_v6")) == 6
    assert lcb.release_files("release_latest") == lcb.FILES
    assert lcb.release_files("v5") == ("test5.jsonl",)
    assert lcb.release_files("v4_v5") == ("test4.jsonl", "test5.jsonl")
    for bad in ("release_v9", "v0", "v5_v4", "latest"):
        with pytest.raises(EvalkitError, match="release"):
            lcb.release_files(bad)


def test_default_window_is_the_r1_report_window(lcb_dir: Path) -> None:
    loaded = load_task_samples(get_task("livecodebench"), lcb_dir)
    assert [s.id for s in loaded.samples] == ["abc999_a", "3400", "abc999_b"]


def test_window_and_release_are_task_options(lcb_dir: Path) -> None:
    (spec,) = parse_task_list("livecodebench@release=v1_v6@start=2023-01-01@end=2023-12-31")
    loaded = load_task_samples(get_task(spec.name, **spec.options), lcb_dir)
    assert [s.id for s in loaded.samples] == ["old1"]
    only_v6 = load_task_samples(get_task("livecodebench", release="v6", start="2025-01-01", end="2025-12-31"), lcb_dir)
    assert [s.id for s in only_v6.samples] == ["new1"]
    with pytest.raises(EvalkitError, match="YYYY-MM-DD"):
        get_task("livecodebench", start="August")
    with pytest.raises(EvalkitError, match="empty"):
        get_task("livecodebench", start="2025-01-01", end="2024-01-01")


def test_samples_carry_tests_and_breakdown_fields(lcb_dir: Path) -> None:
    samples = {s.id: s for s in load_task_samples(get_task("livecodebench"), lcb_dir).samples}
    stdin = samples["abc999_a"]
    assert [t["input"] for t in testsets.get(stdin.metadata["tests"])] == ["1 2\n", "10 20\n", "5 5\n"]
    assert stdin.metadata["difficulty"] == "easy" and stdin.metadata["platform"] == "atcoder"
    assert stdin.metadata["fn_name"] is None
    functional = samples["3400"]
    assert functional.metadata["fn_name"] == "total"
    assert testsets.get(functional.metadata["tests"])[0]["testtype"] == "functional"
    assert samples["abc999_b"].metadata["tests"]["count"] == 3  # plain-JSON private tests


def test_missing_file_names_what_is_needed(tmp_path: Path) -> None:
    (tmp_path / "livecodebench").mkdir()
    with pytest.raises(EvalkitError, match=r"needs test4\.jsonl, test5\.jsonl"):
        load_task_samples(get_task("livecodebench"), tmp_path)


def test_the_default_window_reads_only_the_files_it_needs(lcb_dir: Path) -> None:
    lcb = _lcb_module()
    assert lcb.needed_files("release_v6", date(2024, 8, 1), date(2025, 1, 31)) == ("test4.jsonl", "test5.jsonl")
    assert lcb.needed_files("release_v6", date(2024, 8, 1), date(2025, 1, 31), "release") == lcb.FILES
    assert lcb.needed_files("release_v6", date(2024, 9, 30), date(2024, 10, 1)) == ("test4.jsonl", "test5.jsonl")
    assert lcb.needed_files("release_v3", date(2024, 8, 1), date(2025, 1, 31)) == ()
    for name in ("test.jsonl", "test2.jsonl", "test3.jsonl", "test6.jsonl"):
        (lcb_dir / "livecodebench" / name).write_text("not json at all\n")
    loaded = load_task_samples(get_task("livecodebench"), lcb_dir)
    assert [s.id for s in loaded.samples] == ["abc999_a", "3400", "abc999_b"]
    with pytest.raises(EvalkitError, match="Malformed dataset line"):
        load_task_samples(get_task("livecodebench", files="release"), lcb_dir)
    with pytest.raises(EvalkitError, match="has no problems dated"):
        get_task("livecodebench", release="release_v3")


def test_rows_outside_the_window_are_never_parsed(lcb_dir: Path) -> None:
    path = lcb_dir / "livecodebench" / "test5.jsonl"
    # Dated in test5's span but outside the window: skipped on its date alone, so its damage goes unseen.
    path.write_text(path.read_text() + '{"contest_date": "2024-12-01T00:00:00", "question_id": broken\n')
    loaded = load_task_samples(get_task("livecodebench", end="2024-11-30"), lcb_dir)
    assert [s.id for s in loaded.samples] == ["abc999_a", "3400"]


def test_a_row_outside_its_files_dates_is_an_error(lcb_dir: Path) -> None:
    path = lcb_dir / "livecodebench" / "test4.jsonl"
    path.write_text(path.read_text().replace("2024-08-03", "2024-07-30"))
    with pytest.raises(EvalkitError, match=r"dated 2024-07-30, outside .*files=release"):
        load_task_samples(get_task("livecodebench"), lcb_dir)
    assert [s.id for s in load_task_samples(get_task("livecodebench", files="release"), lcb_dir).samples] == [
        "3400",
        "abc999_b",
    ]
    with pytest.raises(EvalkitError, match="files='all'.* is unknown"):
        get_task("livecodebench", files="all")


class _Boom:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned > /tmp/evalkit-pwned",))


def test_restricted_unpickler_refuses_anything_but_strings(
    encode_private: Callable[[list[dict[str, str]]], str],
) -> None:
    lcb = _lcb_module()
    evil = base64.b64encode(zlib.compress(pickle.dumps(_Boom()))).decode()
    with pytest.raises(EvalkitError, match="only plain strings"):
        lcb.decode_tests(evil)
    assert not Path("/tmp/evalkit-pwned").exists()
    not_a_string = base64.b64encode(zlib.compress(pickle.dumps([1, 2]))).decode()
    with pytest.raises(EvalkitError, match="expected a string"):
        lcb.decode_tests(not_a_string)
    with pytest.raises(EvalkitError, match="neither JSON"):
        lcb.decode_tests("%%% not base64 %%%")
    tests = [{"input": "1", "output": "2", "testtype": "stdin"}]
    assert lcb.decode_tests(encode_private(tests)) == tests == lcb.decode_tests(json.dumps(tests))


def test_prompts_follow_livecodebench(lcb_dir: Path) -> None:
    task = get_task("livecodebench")
    samples = {s.id: s for s in load_task_samples(task, lcb_dir).samples}
    system, user = task.prompt(samples["abc999_a"], 0).messages
    assert system.role == "system" and system.content.startswith("A conversation between User and Assistant.")
    assert user.role == "user" and "writes output to STDOUT.\n```python\n# YOUR CODE HERE\n```\n\n" in user.content
    functional = task.prompt(samples["3400"], 0).messages[1].content
    assert "starter code" in functional and "def total(self, nums: List[int])" in functional
    generic = get_task("livecodebench", style="generic").prompt(samples["3400"], 0).messages
    assert [m.role for m in generic] == ["system", "user"]
    assert generic[0].content.startswith("You are an expert Python programmer.")
    assert task.n == 16 and task.grader == "code" and task.breakdown == ("difficulty", "platform")


@pytest.mark.parametrize(
    ("qid", "answer", "verdict"),
    [
        ("abc999_a", "```python\nprint(sum(map(int, input().split())))\n```", "AC"),
        ("abc999_a", "```python\nprint(3)\n```", "WA"),
        ("3400", "```python\nclass Solution:\n    def total(self, nums):\n        return sum(nums)\n```", "AC"),
        ("3400", "```python\nclass Solution:\n    def total(self, nums):\n        return nums[5]\n```", "RE"),
    ],
)
def test_task_samples_grade_in_the_sandbox(lcb_dir: Path, qid: str, answer: str, verdict: str) -> None:
    from evalkit.sandbox.local import detect_isolation

    if detect_isolation() == "none":
        pytest.skip("no sandbox isolation available (install bubblewrap)")
    task = get_task("livecodebench")
    sample = next(s for s in load_task_samples(task, lcb_dir).samples if s.id == qid)
    grader = make_grader(GraderRef(task.grader, dict(task.grader_options)))
    generation = generation_for(qid, "<think>hmm</think>\n" + answer, task="livecodebench")
    score = grader.grade(sample, generation, ThinkSettings())
    assert score.verdict == verdict, score.explanation
