"""The codeforces task: offline loading in the open-r1 format, exclusions, options and the prompt."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from evalkit.data import load_task_samples
from evalkit.errors import EvalkitError
from evalkit.tasks import get_task


def test_offline_load_keeps_judgeable_problems_and_counts_exclusions(synthetic: ModuleType, tmp_path: Path) -> None:
    data = synthetic.build(tmp_path)
    task = get_task("codeforces", contests=data.task_option)
    loaded = load_task_samples(task, tmp_path)
    assert [s.id for s in loaded.samples] == list(data.judged)  # 9001/C is interactive
    first = loaded.samples[0]
    assert first.metadata["contest_excluded"] == {"C": "interactive"}
    assert first.metadata["time_limit_s"] == 1.0 and first.metadata["official_tests"][0]["output"] == "3\n"
    assert loaded.samples[3].metadata["checker"] == synthetic.DIVISOR_CHECKER
    assert task.headline == "rating" and task.grader == "codeforces" and task.n == 8


def test_default_contests_are_the_named_div2_list() -> None:
    task = get_task("codeforces")
    assert len(task.options["contests"]) == 10
    assert get_task("codeforces", contests="2030 + 2032").options["contests"] == (2030, 2032)
    with pytest.raises(EvalkitError, match="joined by"):
        get_task("codeforces", contests="2030+abc")


def test_missing_contest_data_is_an_error_naming_it(synthetic: ModuleType, tmp_path: Path) -> None:
    synthetic.build(tmp_path)
    with pytest.raises(EvalkitError, match="contest\\(s\\) 4242"):
        load_task_samples(get_task("codeforces", contests="9001+4242"), tmp_path)
    with pytest.raises(EvalkitError, match="No Codeforces problem files"):
        load_task_samples(get_task("codeforces", contests="9001"), tmp_path / "empty")


def test_prompt_shows_statement_limits_examples_and_the_answer_format(synthetic: ModuleType, tmp_path: Path) -> None:
    data = synthetic.build(tmp_path)
    task = get_task("codeforces", contests=data.task_option)
    sample = load_task_samples(task, tmp_path).samples[0]
    text = task.prompt(sample, 0).messages[0].content
    for part in ("# Sum", "Time limit per test: 1.0 seconds", "256 megabytes", "Statement of Sum.", "1 2", "```cpp"):
        assert part in text


def test_parquet_problems_and_generated_tests_are_read(synthetic: ModuleType, tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    synthetic.build(tmp_path)
    folder = tmp_path / "codeforces"
    rows = [json.loads(line) for line in (folder / "problems" / "synthetic.jsonl").read_text().splitlines()]
    rows[0]["generated_tests"] = 2  # 9001/A: as many as its contest's file holds
    (folder / "problems" / "synthetic.jsonl").unlink()
    pd.DataFrame(rows).to_parquet(folder / "problems" / "train-00000.parquet")
    (folder / "generated_tests").mkdir()
    generated = pd.DataFrame(
        [{"problem_id": "9001/A", "input": "5 6\n", "output": "11\n", "test_case_i": 0},
         {"problem_id": "9001/A", "input": "0 0\n", "output": "0\n", "test_case_i": 1}]
    )  # fmt: skip
    generated.to_parquet(folder / "generated_tests" / "test_cases_9001.parquet")
    samples = load_task_samples(get_task("codeforces", contests="9001+9002"), tmp_path).samples
    ref = samples[0].metadata["generated_tests"]
    assert ref["problem_id"] == "9001/A" and ref["count"] == 2 and samples[1].metadata["generated_tests"] is None
    assert samples[0].metadata["examples"] == [{"input": "1 2\n", "output": "3\n"}]
    from evalkit.codeforces.problems import load_generated_tests

    assert load_generated_tests(ref)[0] == {"input": "5 6\n", "output": "11\n"}
    off = load_task_samples(get_task("codeforces", contests="9001", generated_tests="false"), tmp_path).samples
    assert off[0].metadata["generated_tests"] is None
