"""Parsing --tasks and building tasks from the registry."""

from __future__ import annotations

import pytest

from evalkit.errors import EvalkitError
from evalkit.tasks import get_task, parse_task_list, task_names


def test_task_list_with_per_task_n_and_options() -> None:
    specs = parse_task_list("aime24, math500@n=8,foo@start=2024-08-01@n=2")
    assert [(s.name, s.n, dict(s.options)) for s in specs] == [
        ("aime24", None, {}),
        ("math500", 8, {}),
        ("foo", 2, {"start": "2024-08-01"}),
    ]


@pytest.mark.parametrize("text", ["", "aime24@n=0", "aime24@n=x", "aime24@oops"])
def test_bad_task_lists_are_usage_errors(text: str) -> None:
    with pytest.raises(EvalkitError):
        parse_task_list(text)


def test_unknown_task_names_the_known_ones() -> None:
    with pytest.raises(EvalkitError, match="Unknown task 'aime2024'.*aime24"):
        get_task("aime2024")


def test_unknown_task_option_lists_the_options() -> None:
    with pytest.raises(EvalkitError, match="has no option 'bogus'"):
        get_task("aime24", bogus="1")


def test_protocol_defaults() -> None:
    assert {"aime24", "aime25", "math500"} <= set(task_names())
    for name, n in (("aime24", 64), ("aime25", 64), ("math500", 4)):
        t = get_task(name)
        assert (t.n, t.temperature, t.top_p, t.max_tokens) == (n, 0.6, 0.95, 32768)


def test_math_prompt_is_the_deepseek_r1_prompt() -> None:
    from evalkit.types import Sample

    prompt = get_task("aime24").prompt(Sample(id="x", input="What is 1+1?", target="2"), 0)
    assert [m.role for m in prompt.messages] == ["user"]
    assert prompt.messages[0].content == (
        "What is 1+1?\nPlease reason step by step, and put your final answer within \\boxed{}."
    )
