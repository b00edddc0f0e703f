"""The IFEval task: the 541 official prompts offline, the Hub's null padding, and bad rows."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from evalkit.data import load_task_samples
from evalkit.errors import EvalkitError
from evalkit.ifeval import INSTRUCTION_IDS
from evalkit.tasks import Task, get_task


@pytest.fixture
def ifeval() -> Task:
    return get_task("ifeval")


def test_offline_copy_loads_the_541_prompts_with_their_instructions(ifeval: Task, data_dir: Path) -> None:
    loaded = load_task_samples(ifeval, data_dir)
    assert len(loaded.samples) == 541
    ids = Counter(i for s in loaded.samples for i in s.metadata["instruction_id_list"])
    assert sum(ids.values()) == 834 and set(ids) == set(INSTRUCTION_IDS)
    first = loaded.samples[0]
    assert first.id == "1000"
    assert first.metadata["kwargs"][1] == {"num_highlights": 3}
    assert ifeval.prompt(first, 0).messages[0].content == first.input, "the prompt is sent as is"


def test_hub_rows_with_null_padding_give_the_same_sample(ifeval: Task) -> None:
    official: dict[str, Any] = {
        "key": 1001,
        "prompt": "Write without commas.",
        "instruction_id_list": ["punctuation:no_comma", "length_constraints:number_words"],
        "kwargs": [{}, {"relation": "at least", "num_words": 30}],
    }
    padded_keys = ["num_highlights", "relation", "num_words", "keywords", "language", "letter"]
    hub = {**official, "kwargs": [{k: kw.get(k) for k in padded_keys} for kw in official["kwargs"]]}
    assert ifeval.record_to_sample(hub) == ifeval.record_to_sample(official)
    assert ifeval.record_to_sample(official).id == "1001"


def test_an_unknown_instruction_id_in_the_data_is_named_with_its_row(ifeval: Task, tmp_path: Path) -> None:
    (tmp_path / "ifeval").mkdir()
    row = {"key": 7, "prompt": "p", "instruction_id_list": ["detectable_format:haiku"], "kwargs": [{}]}
    (tmp_path / "ifeval" / "input_data.jsonl").write_text(json.dumps(row) + "\n", "utf-8")
    with pytest.raises(EvalkitError, match=r"key 7: Unknown IFEval instruction id 'detectable_format:haiku'"):
        load_task_samples(ifeval, tmp_path)


def test_bad_kwargs_in_the_data_are_errors(ifeval: Task) -> None:
    row = {"key": 8, "prompt": "p", "instruction_id_list": ["length_constraints:number_words"], "kwargs": [{}]}
    with pytest.raises(EvalkitError, match="key 8.*'num_words' is missing"):
        ifeval.record_to_sample(row)


def test_task_defaults(ifeval: Task) -> None:
    assert (ifeval.n, ifeval.grader, ifeval.headline) == (4, "ifeval", "prompt_level_strict")
