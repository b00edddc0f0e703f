"""The answer region: thinking is never graded."""

from __future__ import annotations

from functools import partial

import pytest

from evalkit.answer import (
    AnswerRegion,
    ReasoningDetector,
    answer_region,
    is_reasoning_run,
    prompt_opens_thinking,
    thinks,
)
from evalkit.testing import generation_for


def test_text_after_the_last_marker_is_the_answer() -> None:
    r = answer_region("<think>maybe \\boxed{1}</think> no </think>final \\boxed{2}")
    assert r.text == "final \\boxed{2}" and not r.unclosed_think


def test_server_split_reasoning_makes_content_the_answer() -> None:
    assert answer_region("\\boxed{3}", "thinking \\boxed{9}").text == "\\boxed{3}"


def test_split_reasoning_with_empty_content_is_unclosed_thinking() -> None:
    r = answer_region("", "still thinking")
    assert r.text is None and r.unclosed_think
    assert answer_region(None, "x").unclosed_think


@pytest.mark.parametrize("policy", ["auto", "required"])
def test_open_think_without_close_has_no_answer(policy: str) -> None:
    r = answer_region("<think>I think \\boxed{5}", policy=policy)  # type: ignore[arg-type]
    assert r.text is None and r.unclosed_think


def test_required_policy_needs_the_marker() -> None:
    assert answer_region("\\boxed{5}", policy="required").text is None


def test_auto_policy_treats_plain_text_as_answer_unless_cut_off() -> None:
    assert answer_region("\\boxed{5}").text == "\\boxed{5}"
    assert answer_region("\\boxed{5}", finish_reason="length").text is None


def test_none_policy_grades_everything() -> None:
    assert answer_region("<think>a</think>b", policy="none").text == "<think>a</think>b"


def test_custom_marker() -> None:
    assert answer_region("reasoning<|end_think|>ans", marker="<|end_think|>").text == "ans"


# The run-level decision (issue 12): a reasoning model's sample without the marker has no answer
# whatever its finish reason; a model that never thinks is graded on its whole text.

THINKING = "Okay, let me think. Maybe the answer is \\boxed{204}? Let me double-check the"


@pytest.mark.parametrize(("policy", "reasoning_model"), [("required", None), ("auto", True), ("required", False)])
def test_reasoning_model_without_marker_has_no_answer_even_when_it_stopped(policy: str, reasoning_model: bool) -> None:
    for finish in ("stop", "length", None):
        r = answer_region(THINKING, policy=policy, finish_reason=finish, reasoning_model=reasoning_model)  # type: ignore[arg-type]
        assert r.text is None and r.unclosed_think


@pytest.mark.parametrize(("policy", "reasoning_model"), [("none", None), ("auto", False), ("none", True)])
def test_model_that_never_thinks_is_graded_on_the_whole_text(policy: str, reasoning_model: bool) -> None:
    text = "<think>a</think>b"
    assert answer_region(text, policy=policy, reasoning_model=reasoning_model).text == text  # type: ignore[arg-type]
    cut = answer_region(THINKING, policy=policy, finish_reason="length", reasoning_model=reasoning_model)  # type: ignore[arg-type]
    assert cut.text == THINKING and cut.truncated and not cut.unclosed_think


def test_reasoning_model_with_marker_is_graded_after_it() -> None:
    r = answer_region("thinking</think>\n\\boxed{5}", reasoning_model=True, finish_reason="stop")
    assert r == AnswerRegion("\n\\boxed{5}")


def test_content_opening_think_is_unclosed_even_with_split_reasoning() -> None:
    for reasoning_model in (None, True):
        r = answer_region("<think>still thinking \\boxed{4}", "First, 2 + 2.", reasoning_model=reasoning_model)
        assert r.text is None and r.unclosed_think
    echoed = answer_region("</think>The answer is \\boxed{4}", "2 + 2", reasoning_model=True)
    assert echoed.text == "The answer is \\boxed{4}"


def test_thinking_reopened_after_the_marker_is_unclosed() -> None:
    r = answer_region("<think>a</think>So \\boxed{3}. <think>wait, \\boxed{4}", policy="required")
    assert r.text is None and r.unclosed_think


def test_truncation_is_carried_with_the_region() -> None:
    r = answer_region("<think>a</think>So \\boxed{20", finish_reason="length", reasoning_model=True)
    assert r == AnswerRegion("So \\boxed{20", truncated=True)
    assert not answer_region("x", finish_reason="stop", policy="none").truncated


def test_thinks_lets_explicit_policies_override_the_run_decision() -> None:
    assert [thinks("required", v) for v in (None, True, False)] == [True, True, True]
    assert [thinks("none", v) for v in (None, True, False)] == [False, False, False]
    assert [thinks("auto", v) for v in (None, True, False)] == [None, True, False]


@pytest.mark.parametrize(
    ("rendered", "opens"),
    [
        ("<｜begin▁of▁sentence｜><｜User｜>What is 2+2?<｜Assistant｜><think>\n", True),  # DeepSeek-R1-Distill
        ("<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n", True),  # QwQ-32B
        ("<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n", False),  # Qwen2.5-Instruct
        ("<|im_start|>assistant\n<think>\n\n</think>\n\n", False),  # Qwen3, enable_thinking=False
        ("<｜User｜>Q<｜Assistant｜><think>old</think>A<｜User｜>Q2<｜Assistant｜>", False),  # closed in history
    ],
)
def test_prompt_opens_thinking(rendered: str, opens: bool) -> None:
    assert prompt_opens_thinking(rendered) is opens


def test_prompt_opens_thinking_with_a_custom_marker() -> None:
    # Only a `</tag>` marker has a known opening tag (`<tag>`); other markers never count as opened.
    assert prompt_opens_thinking("...assistant\n<|begin_of_thought|>\n", "<|end_of_thought|>") is False
    assert prompt_opens_thinking("...<reason>\n", "</reason>") is True


_gen = partial(generation_for, "p")


@pytest.mark.parametrize(
    ("marker", "split", "prompt", "opener", "decided"),
    [
        (False, False, False, False, False),
        (True, False, False, False, True),
        (False, True, False, False, True),
        (False, False, True, False, True),
        (False, False, False, True, True),
    ],
)
def test_is_reasoning_run(marker: bool, split: bool, prompt: bool, opener: bool, decided: bool) -> None:
    assert (
        is_reasoning_run(saw_marker=marker, saw_split_reasoning=split, prompt_opens_think=prompt, saw_opener=opener)
        is decided
    )


def test_detector_decides_from_any_sample_in_any_order() -> None:
    plain = [_gen("The answer is \\boxed{4}."), _gen("It is 5.")]
    for gens, decided in [
        (plain, False),
        ([*plain, _gen("hmm</think>\\boxed{4}")], True),
        ([*plain, _gen("\\boxed{4}", reasoning="2 + 2")], True),
        ([*plain, _gen("<think>cut off mid-thought")], True),
        ([*plain, _gen("", reasoning="   ")], False),  # an empty reasoning field is no evidence
        ([*plain, _gen(None, error="HTTP 500")], False),  # error rows say nothing about the model
    ]:
        for order in (gens, gens[::-1]):
            detector = ReasoningDetector()
            for g in order:
                detector.observe(g)
            assert detector.decided is decided, gens
    assert ReasoningDetector(prompt_opens_think=True).decided is True
    custom = ReasoningDetector(marker="<|end_of_thought|>")
    custom.observe(_gen("a </think> b"))
    assert custom.decided is False
    custom.observe(_gen("a <|end_of_thought|> b"))
    assert custom.decided is True
