"""GPQA-Diamond task: seeded choice orders, the simple-evals prompt, and the two loaders."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from evalkit.data import load_task_samples
from evalkit.errors import EvalkitError
from evalkit.tasks import Task
from evalkit.types import Sample

PINNED = json.loads((Path(__file__).parent / "choice_orders.json").read_text("utf-8"))["orders"]

# openai/simple-evals QUERY_TEMPLATE_MULTICHOICE, copied here as the reference the template must match.
SIMPLE_EVALS_TEMPLATE = """
Answer the following multiple choice question. The last line of your response should be of the following format: 'Answer: $LETTER' (without quotes) where LETTER is one of ABCD. Think step by step before answering.

{Question}

A) {A}
B) {B}
C) {C}
D) {D}
""".strip()

ORDERS_SCRIPT = """
import json, sys
from evalkit.tasks import get_task
from evalkit.types import Sample
task = get_task("gpqa_diamond")
pairs = json.loads(sys.argv[1])
out = []
for record_id, index in pairs:
    sample = Sample(id=record_id, input="q", target="a", metadata={"choices": ["a", "b", "c", "d"]})
    out.append(task.prompt(sample, index).metadata["permutation"])
print(json.dumps(out))
"""


def _order(task: Task, record_id: str, index: int) -> list[int]:
    sample = Sample(id=record_id, input="q", target="a", metadata={"choices": ["a", "b", "c", "d"]})
    order: list[int] = task.prompt(sample, index).metadata["permutation"]
    return order


def test_choice_orders_match_the_pinned_values(gpqa: Task) -> None:
    for row in PINNED:
        assert _order(gpqa, row["record_id"], row["sample_index"]) == row["order"], row


def test_choice_orders_are_the_same_in_a_fresh_process(gpqa: Task) -> None:
    pairs: list[tuple[str, int]] = [(f"rec{i}", j) for i in range(20) for j in range(8)]
    result = subprocess.run(
        [sys.executable, "-c", ORDERS_SCRIPT, json.dumps(pairs)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    )
    assert json.loads(result.stdout) == [_order(gpqa, rid, j) for rid, j in pairs]


def test_each_sample_index_gets_its_own_order_and_the_correct_position_is_balanced(gpqa: Task) -> None:
    orders = {rid: [tuple(_order(gpqa, rid, j)) for j in range(8)] for rid in (f"rec{i}" for i in range(200))}
    assert all(len(set(per_question)) >= 3 for per_question in orders.values())
    positions = Counter(order.index(0) for per_question in orders.values() for order in per_question)
    assert set(positions) == {0, 1, 2, 3}
    assert all(0.2 < count / 1600 < 0.3 for count in positions.values()), positions


def test_prompt_is_the_simple_evals_template_with_the_shuffled_choices(gpqa: Task, fake_sample: Sample) -> None:
    prompt = gpqa.prompt(fake_sample, 3)
    order = prompt.metadata["permutation"]
    choices = fake_sample.metadata["choices"]
    expected = SIMPLE_EVALS_TEMPLATE.format(
        Question=fake_sample.input, **{letter: choices[i] for letter, i in zip("ABCD", order, strict=True)}
    )
    assert [m.role for m in prompt.messages] == ["user"]
    assert prompt.messages[0].content == expected
    assert sorted(order) == [0, 1, 2, 3]


def test_record_to_sample_keeps_choices_in_dataset_order_and_the_domain(
    gpqa: Task, make_record: Callable[..., dict[str, str]]
) -> None:
    sample = gpqa.record_to_sample(make_record("recABC", "Chemistry"))
    assert sample.id == "recABC"
    assert sample.target == "the zorbon"
    assert sample.metadata["choices"][0] == "the zorbon"
    assert sample.metadata["choices"][2] == " the flimp\n", "choice text is used as is, like simple-evals"
    assert sample.metadata["domain"] == "Chemistry"
    assert gpqa.breakdown == ("domain",) and gpqa.n == 8 and gpqa.grader == "choice"


def test_offline_zip_loads_all_198_questions(gpqa: Task, data_dir: Path) -> None:
    loaded = load_task_samples(gpqa, data_dir)
    assert len(loaded.samples) == 198
    assert Counter(s.metadata["domain"] for s in loaded.samples) == {"Chemistry": 93, "Physics": 86, "Biology": 19}
    assert all(s.id.startswith("rec") for s in loaded.samples)
    assert all(len(s.metadata["choices"]) == 4 and s.metadata["choices"][0] == s.target for s in loaded.samples)


def test_wrong_password_names_the_file_and_the_public_password(data_dir: Path) -> None:
    from evalkit.gpqa.dataset import read_gpqa_zip

    zip_path = data_dir / "gpqa" / "gpqa_diamond.zip"
    with pytest.raises(EvalkitError) as err:
        next(read_gpqa_zip(zip_path, "gpqa_diamond.csv", password=b"not-the-password"))
    assert str(zip_path) in str(err.value)
    assert "public" in str(err.value) and "README" in str(err.value)


def test_zip_encrypted_with_another_password_is_rejected_through_the_task(gpqa: Task, tmp_path: Path) -> None:
    zip_tool = shutil.which("zip")
    if zip_tool is None:
        pytest.skip("the `zip` command is needed to make a password-protected zip")
    source = tmp_path / "src" / "gpqa"
    source.mkdir(parents=True)
    (source / "gpqa_diamond.csv").write_text("Record ID,Question\nrecFAKE,invented question\n", "utf-8")
    data_dir = tmp_path / "data"
    (data_dir / "gpqa").mkdir(parents=True)
    subprocess.run(
        [
            zip_tool,
            "-q",
            "-P",
            "some-other-password",
            str(data_dir / "gpqa" / "gpqa_diamond.zip"),
            "gpqa/gpqa_diamond.csv",
        ],
        cwd=tmp_path / "src",
        check=True,
    )
    with pytest.raises(EvalkitError, match="public one from the GPQA authors' README"):
        load_task_samples(gpqa, data_dir)


def test_missing_zip_says_where_it_should_be(gpqa: Task, tmp_path: Path) -> None:
    with pytest.raises(EvalkitError, match=r"gpqa/gpqa_diamond\.zip"):
        load_task_samples(gpqa, tmp_path)


def test_zip_without_the_csv_lists_what_it_holds(gpqa: Task, tmp_path: Path) -> None:
    (tmp_path / "gpqa").mkdir()
    with zipfile.ZipFile(tmp_path / "gpqa" / "gpqa_diamond.zip", "w") as archive:
        archive.writestr("gpqa/other.csv", "x\n")
    with pytest.raises(EvalkitError, match=r"holds no 'gpqa_diamond\.csv'.*gpqa/other\.csv"):
        load_task_samples(gpqa, tmp_path)


HUB_SCRIPT = """
from evalkit.errors import EvalkitError
from evalkit.tasks import get_task
spec = get_task("gpqa_diamond").dataset
try:
    list(spec.hub_loader(spec))
except EvalkitError as e:
    print(e)
"""


def test_missing_hf_token_says_how_to_get_access_or_use_the_zip(tmp_path: Path) -> None:
    pytest.importorskip("huggingface_hub")
    # A fresh process with an empty HF home and no token variables: nothing to find a token in.
    env = {"HF_HOME": str(tmp_path / "hf"), "HOME": str(tmp_path), "PATH": "", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", HUB_SCRIPT], capture_output=True, text=True, env=env, check=True)
    message = result.stdout
    assert "gated" in message and "no Hugging Face token" in message
    assert "https://huggingface.co/datasets/Idavidrein/gpqa" in message and "HF_TOKEN" in message
    assert "--data-dir" in message and "gpqa/gpqa_diamond.zip" in message
