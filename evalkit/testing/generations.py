"""Generations built from a response text, for tests of graders, pools and detectors."""

from __future__ import annotations

from typing import Any

from evalkit.types import FinishReason, Generation, Sample


def generation_for(
    sample: Sample | str,
    text: str | None,
    *,
    reasoning: str | None = None,
    finish_reason: FinishReason | None = "stop",
    error: str | None = None,
    metadata: dict[str, Any] | None = None,
    task: str = "t",
    task_version: str = "1",
    index: int = 0,
    seed: int | None = None,
) -> Generation:
    """The generation a model returned for `sample` (a Sample or its id): `text`, with `reasoning`
    when the server split it off, ending for `finish_reason` ("stop" by default: the model finished;
    "length": cut by the token limit; "error" with `error` for a failed request).

    What graders do not read gets a fixed value: the prompt hash is "h", the seed is the sample
    `index` unless given.
    """
    return Generation(
        task=task,
        task_version=task_version,
        sample_id=sample if isinstance(sample, str) else sample.id,
        sample_index=index,
        seed=index if seed is None else seed,
        prompt_hash="h",
        text=text,
        reasoning=reasoning,
        finish_reason=finish_reason,
        error=error,
        metadata={} if metadata is None else metadata,
    )
