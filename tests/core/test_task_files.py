"""Tasks outside the package: a user's own file in --tasks, the public API it imports, its data and template."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from evalkit.cli import app
from evalkit.config import RunConfig
from evalkit.data import load_task_samples
from evalkit.errors import EvalkitError
from evalkit.graders.base import GRADERS
from evalkit.prompts import render_messages, template_hash
from evalkit.tasks import DatasetSpec, TaskSpec, file_tasks, get_task, parse_task_list, with_absolute_task_files

TASK_FILE = '''
"""Two tasks of my own, one of them named like a built-in task."""

from pathlib import Path

from evalkit import DatasetSpec, Record, Sample, Task, task

HERE = Path(__file__).parent


def record_to_sample(record: Record) -> Sample:
    return Sample(id=str(record["id"]), input=record["question"], target=str(record["answer"]))


@task
def sums(n: int = 2, scale: float = 1.0) -> Task:
    """Small sums."""
    return Task(
        name="sums",
        version="1",
        description=f"sums x{scale}",
        dataset=DatasetSpec.local_jsonl(HERE / "sums.jsonl"),
        record_to_sample=record_to_sample,
        template=str(HERE / "sums.j2"),
        grader="math",
        n=n,
    )


@task
def aime24() -> Task:
    return Task(
        name="aime24",
        version="mine",
        dataset=DatasetSpec.local_jsonl(HERE / "sums.jsonl"),
        record_to_sample=record_to_sample,
        template="math.j2",
        grader="math",
        n=1,
    )
'''


@pytest.fixture
def task_file(tmp_path: Path) -> Path:
    folder = tmp_path / "mine"
    folder.mkdir()
    path = folder / "my_tasks.py"
    path.write_text(TASK_FILE)
    rows = [{"id": i, "question": f"{i} + {i}", "answer": 2 * i} for i in range(1, 4)]
    (folder / "sums.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "sums.j2").write_text("Add: {{ problem }}\nAnswer in \\boxed{}.")
    return path


def test_a_file_with_a_name_with_options_and_n(task_file: Path) -> None:
    (spec,) = parse_task_list(f"{task_file}:sums@n=3@scale=2")
    assert (spec.name, spec.n, dict(spec.options), spec.file) == ("sums", 3, {"scale": "2"}, str(task_file))
    built = spec.build()
    assert (built.name, built.n, built.description) == ("sums", 2, "sums x2.0")


def test_a_file_without_a_name_stands_for_all_its_tasks(task_file: Path) -> None:
    specs = parse_task_list(f"math500,{task_file}@n=4")
    assert [(s.name, s.file, s.n) for s in specs] == [
        ("math500", None, None),
        ("sums", str(task_file), 4),
        ("aime24", str(task_file), 4),
    ]


def test_a_relative_path_is_taken_from_the_current_directory(task_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(task_file.parent.parent)
    (spec,) = parse_task_list("mine/my_tasks.py:sums")
    assert spec.file == str(task_file)


def test_a_files_tasks_do_not_shadow_registered_ones(task_file: Path) -> None:
    mine = TaskSpec("aime24", file=str(task_file)).build()
    assert mine.version == "mine"
    assert get_task("aime24").version != "mine"


def test_a_run_stores_task_files_by_absolute_path(task_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(task_file.parent)
    text = "aime24@n=2, my_tasks.py:sums@n=1,./my_tasks.py"
    assert with_absolute_task_files(text) == f"aime24@n=2,{task_file}:sums@n=1,{task_file}"
    assert RunConfig(model="m", tasks=text).tasks == with_absolute_task_files(text)
    assert RunConfig(model="m", tasks="aime24, math500@n=2").tasks == "aime24, math500@n=2"


def test_bad_task_files_are_clear_errors(task_file: Path, tmp_path: Path) -> None:
    with pytest.raises(EvalkitError, match=r"Task file '.*nope.py' does not exist.*moved"):
        parse_task_list(str(tmp_path / "nope.py"))
    with pytest.raises(EvalkitError, match="has no task 'sum'. Its tasks: sums, aime24"):
        TaskSpec("sum", file=str(task_file)).build()
    with pytest.raises(EvalkitError, match="Task 'sums' has no option 'scael'. Its options: n, scale"):
        TaskSpec("sums", file=str(task_file), options={"scael": "1"}).build()
    broken = tmp_path / "broken.py"
    broken.write_text("from evalkit import task\n\nX = 1\nY = X / 0\n")
    with pytest.raises(EvalkitError, match=r"Task file '.*broken.py' failed to load: line 4: ZeroDivisionError"):
        file_tasks(broken)
    empty = tmp_path / "empty.py"
    empty.write_text("def not_a_task():\n    return None\n")
    with pytest.raises(EvalkitError, match="defines no task: decorate a function that returns a Task with @task"):
        file_tasks(empty)
    misnamed = tmp_path / "misnamed.py"
    misnamed.write_text(TASK_FILE.replace('name="sums"', 'name="plus"'))
    with pytest.raises(EvalkitError, match="'sums' returned a task named 'plus'"):
        TaskSpec("sums", file=str(misnamed)).build()


def test_a_local_jsonl_and_a_template_next_to_the_task_file(task_file: Path) -> None:
    task = TaskSpec("sums", file=str(task_file)).build()
    loaded = load_task_samples(task, None, source="hub")  # a local file is the task's only source
    assert [s.target for s in loaded.samples] == ["2", "4", "6"]
    assert loaded.manifest_entry()["source"] == "local"
    assert loaded.manifest_entry()["location"] == str(task_file.parent / "sums.jsonl")
    assert task.prompt(loaded.samples[0], 0).messages[0].content == "Add: 1 + 1\nAnswer in \\boxed{}."
    assert template_hash(task.template) == template_hash(str(task_file.parent / "sums.j2"))
    with pytest.raises(EvalkitError, match=r"Prompt template '.*missing.j2' not found in"):
        render_messages(str(task_file.parent / "missing.j2"), problem="x")


def test_a_missing_local_file_is_a_clear_error(tmp_path: Path) -> None:
    spec = DatasetSpec.local_jsonl(tmp_path / "absent.jsonl")
    task = get_task("aime24")
    with pytest.raises(EvalkitError, match=r"Cannot read dataset file '.*absent.jsonl'"):
        load_task_samples(dataclasses.replace(task, dataset=spec), None)


@pytest.fixture
def cli() -> Callable[..., Result]:
    def invoke(*args: str | Path) -> Result:
        return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})

    return invoke


def test_evalkit_tasks_lists_a_files_tasks(task_file: Path, cli: Callable[..., Result]) -> None:
    listed = cli("tasks", task_file)
    assert listed.exit_code == 0, listed.output
    assert "sums x1.0" in listed.output and "aime24" in listed.output
    assert "math500" not in listed.output
    missing = cli("tasks", task_file.parent / "nope.py")
    assert missing.exit_code == 2 and "does not exist" in missing.output


GRADER_FILE = '''
"""A task whose grader is defined in the same file: grading workers load it from the file by path."""

from pathlib import Path

from evalkit import DatasetSpec, Grader, Sample, Score, Task, register_grader, task

HERE = Path(__file__).parent


class LastWord(Grader):
    """Right when the last word of the answer is the target."""

    name = "last_word"
    version = "1"
    votes = True

    def judge(self, sample, generation, answer):
        words = answer.text.split()
        last = words[-1] if words else None
        return Score(float(last == sample.target), "correct" if last == sample.target else "wrong", extracted=last, vote=last)


register_grader("last_word", f"{__file__}:LastWord")


@task
def colours() -> Task:
    return Task(
        name="colours",
        version="1",
        dataset=DatasetSpec.local_jsonl(HERE / "colours.jsonl"),
        record_to_sample=lambda r: Sample(id=r["id"], input=r["q"], target=r["a"]),
        template="math.j2",
        grader="last_word",
        n=2,
    )
'''


def test_a_task_file_can_bring_its_own_grader_to_the_grading_workers(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    folder = tmp_path / "own"
    folder.mkdir()
    (folder / "colours.py").write_text(GRADER_FILE)
    rows = [{"id": "sky", "q": "Colour of the sky?", "a": "blue"}, {"id": "grass", "q": "Of grass?", "a": "green"}]
    (folder / "colours.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    answers = {("sky", 0): "it is blue", ("sky", 1): "maybe red", ("grass", 0): "green", ("grass", 1): "green"}
    replay = tmp_path / "replay.jsonl"
    replay.write_text(
        "".join(
            json.dumps({"task": "colours", "sample_id": sid, "sample_index": i, "text": text}) + "\n"
            for (sid, i), text in answers.items()
        )
    )
    out = tmp_path / "run"
    try:
        result = cli("run", "--model", "m", "--backend", "replay", "--replay", replay, "--tasks", folder / "colours.py",
                     "--output", out, "--quiet")  # fmt: skip
    finally:
        GRADERS.pop("last_word", None)  # the task file registered it in this process too
    assert result.exit_code == 0, result.output
    entry = json.loads((out / "summary.json").read_text())["tasks"]["colours"]
    assert entry["metrics"]["pass@1"]["value"] == pytest.approx(3 / 4)
    grades = [json.loads(line) for line in (out / "grades.jsonl").read_text().splitlines()]
    assert {(g["sample_id"], g["sample_index"], g["verdict"]) for g in grades} == {
        ("sky", 0, "correct"), ("sky", 1, "wrong"), ("grass", 0, "correct"), ("grass", 1, "correct"),
    }  # fmt: skip
