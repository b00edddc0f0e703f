"""Fitting max tokens to a context: the arithmetic, the refusal, and servers' context-length errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evalkit.adapters.fit import RoomProblem, fit_request, fit_requests, fitted_note, parse_context_error
from evalkit.errors import EvalkitError
from evalkit.types import Generation, Message, Request, SamplingParams

CASES = [json.loads(line) for line in (Path(__file__).parent / "context_errors.jsonl").read_text().splitlines()]


def _request(max_tokens: int = 32768, sample_id: str = "p1") -> Request:
    return Request(
        task="aime24",
        task_version="1",
        sample_id=sample_id,
        sample_index=0,
        seed=7,
        prompt_hash="h",
        params=SamplingParams(max_tokens=max_tokens),
        messages=(Message("user", "q"),),
    )


@pytest.mark.parametrize("case", CASES, ids=[c["source"] for c in CASES])
def test_context_errors_of_real_servers_are_read(case: dict[str, Any]) -> None:
    limit = parse_context_error(case["message"])
    if case["context"] is None:
        assert limit is None
    else:
        assert limit is not None
        assert (limit.context, limit.prompt_tokens) == (case["context"], case["prompt_tokens"])


def test_a_request_gets_what_is_left_of_the_context_and_never_more_than_asked() -> None:
    assert fit_request(_request(), 400, 2048, 1024).params.max_tokens == 1648  # type: ignore[union-attr]
    assert fit_request(_request(), 400, 32768, 1024).params.max_tokens == 32368  # type: ignore[union-attr]
    unchanged = _request(1000)
    assert fit_request(unchanged, 400, 2048, 1024) is unchanged


def test_the_floor_applies_to_fitted_budgets_only_and_never_exceeds_what_was_asked() -> None:
    # 648 left, below the floor of 1024: refused.
    assert isinstance(fit_request(_request(), 1400, 2048, 1024), RoomProblem)
    # Asked for 500 and 648 are left: nothing to fit, whatever the floor.
    assert fit_request(_request(500), 1400, 2048, 1024).params.max_tokens == 500  # type: ignore[union-attr]
    # Asked for 700, 648 left: the floor is min(1024, 700) = 700, so refused; with a floor of 600 it fits.
    assert isinstance(fit_request(_request(700), 1400, 2048, 1024), RoomProblem)
    assert fit_request(_request(700), 1400, 2048, 600).params.max_tokens == 648  # type: ignore[union-attr]


def test_refusal_names_both_numbers_and_the_fixes() -> None:
    requests = [_request(sample_id="p1"), _request(sample_id="p2"), _request(sample_id="p3")]
    with pytest.raises(EvalkitError) as info:
        fit_requests(requests, [400, 1400, None], 2048, floor=1024, context_fix="the server's --max-model-len")
    message = str(info.value)
    assert message.startswith("1 of 3 samples leave too little room to generate, so nothing was sent")
    assert "aime24 sample p2 has a 1,400-token prompt" in message
    assert "context of 2,048 tokens leaves 648 tokens to generate, below the floor of 1,024" in message
    assert "--max-tokens asks 32,768" in message
    assert "Raise the server's --max-model-len to at least 34,168" in message
    assert "pass --max-tokens 648" in message and "--max-tokens-floor" in message


def test_a_prompt_that_fills_the_context_is_refused_without_suggesting_a_budget() -> None:
    with pytest.raises(EvalkitError) as info:
        fit_requests([_request()], [2049], 2048, floor=1024, context_fix="--max-model-len")
    assert "which alone fills the context of 2,048 tokens" in str(info.value)
    assert "pass --max-tokens" not in str(info.value)


def test_unknown_prompt_lengths_are_left_as_asked_and_the_note_counts_fitted_samples() -> None:
    fitted = fit_requests(
        [_request(sample_id="a"), _request(sample_id="b"), _request(sample_id="c")],
        [400, None, 1000],
        2048,
        floor=1024,
        context_fix="x",
    )
    assert [r.params.max_tokens for r in fitted] == [1648, 32768, 1048]
    note = fitted_note(fitted, {"aime24": 32768})
    assert note is not None and "for 2 of 3 samples (smallest 1,048 of the 32,768 asked, aime24)" in note
    assert fitted_note(fitted[1:2], {"aime24": 32768}) is None


def test_the_budget_is_stored_with_the_generation_and_old_rows_still_load() -> None:
    fitted = fit_request(_request(), 400, 2048, 1024)
    assert isinstance(fitted, Request)
    generation = Generation.completed(fitted, "text")
    assert generation.max_tokens == 1648
    assert Generation.from_dict(generation.to_dict()).max_tokens == 1648
    old_row = generation.to_dict()
    del old_row["max_tokens"]
    assert Generation.from_dict(old_row).max_tokens is None
