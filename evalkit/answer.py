"""The answer region: the part of a response that is graded, and whether the model thinks at all.

Reasoning is not the answer. Every grader calls `answer_region` first, so thinking that happens to
contain a boxed value, an `Answer: B` line or a code block never counts.

Whether a model is a reasoning model is a property of the run, not of one sample: a DeepSeek-R1-style
chat template opens `<think>` inside the prompt, so a sample whose thinking never closes carries no
tag at all and reads like a plain answer. `ReasoningDetector` makes that decision from a run's
generations (and the rendered prompt); `answer_region` then applies it to each sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from evalkit.types import Generation

ThinkPolicy = Literal["auto", "required", "none"]
DEFAULT_MARKER = "</think>"
# The finish reason of a response cut by the token limit (OpenAI API, vLLM, transformers adapters).
LENGTH = "length"


@dataclass(frozen=True)
class AnswerRegion:
    """`text` is None when the response has no answer; `unclosed_think` says why when it is that.

    `truncated`: the response was cut by the token limit (finish_reason `length`), so the region may
    end mid-answer; graders then accept only a complete final answer (a closed box, a closed code
    fence).
    """

    text: str | None
    unclosed_think: bool = False
    truncated: bool = False


def thinks(policy: ThinkPolicy, reasoning_model: bool | None) -> bool | None:
    """Whether the model thinks before answering: True, False, or None when undecided.

    `required` is True and `none` is False whatever `reasoning_model` says; `auto` is the run's
    decision (`ReasoningDetector.decided`), or None when nobody decided (one response scored alone).
    """
    if policy == "required":
        return True
    if policy == "none":
        return False
    return reasoning_model


def answer_region(
    text: str | None,
    reasoning: str | None = None,
    *,
    marker: str = DEFAULT_MARKER,
    policy: ThinkPolicy = "auto",
    finish_reason: str | None = None,
    reasoning_model: bool | None = None,
) -> AnswerRegion:
    """Return the graded part of a response.

    - A model that never thinks (policy `none`, or `auto` decided False): the whole text.
    - The server split the reasoning off (`reasoning` is not None): the answer is `text`, after a
      `marker` the server may have echoed into it; an empty `text` means the thinking never closed.
    - Otherwise the answer is what follows the last `marker`.
    - Either way, an opening tag (`<think>` for the marker `</think>`) in what would be the answer
      means the thinking was opened and never closed: no answer, even with the reasoning split off.
    - No marker: a reasoning model (`required`, or `auto` decided True) has no answer whatever the
      finish reason. Undecided (`auto` with `reasoning_model` None, as for a reward computed on one
      string) decides for this sample alone: no answer when an opening tag is visible or the
      response was cut off at the token limit (a cut-off response without the marker is far more
      often unfinished thinking than a finished answer), else the whole text.
    """
    truncated = finish_reason == LENGTH
    decided = thinks(policy, reasoning_model)
    if decided is False or (text is None and reasoning is None):
        return AnswerRegion(text, truncated=truncated)
    unclosed = AnswerRegion(None, unclosed_think=True, truncated=truncated)
    opener = _opening_tag(marker)
    content = text or ""
    if marker in content:
        region = _after_marker(content, marker)
    elif reasoning is not None:
        if not content.strip():
            return unclosed
        region = content
    elif decided or (opener is not None and opener in content) or truncated:
        return unclosed
    else:
        return AnswerRegion(content, truncated=truncated)
    if opener is not None and opener in region:
        return unclosed
    return AnswerRegion(region, truncated=truncated)


def prompt_opens_thinking(rendered_prompt: str, marker: str = DEFAULT_MARKER) -> bool:
    """Whether a rendered prompt (chat template applied, generation prompt added) leaves a thinking
    block open for the model to continue, as DeepSeek-R1-Distill's and QwQ's templates do
    (`...<｜Assistant｜><think>\\n`): its last opening tag comes after its last `marker`.

    Render the template with the generation prompt; the template's source is not enough (templates
    mention `<think>` to strip it from earlier turns).
    """
    opener = _opening_tag(marker)
    if opener is None:
        return False
    return rendered_prompt.rfind(opener) > rendered_prompt.rfind(marker)


def is_reasoning_run(
    *, saw_marker: bool, saw_split_reasoning: bool, prompt_opens_think: bool, saw_opener: bool = False
) -> bool:
    """The `auto` decision for a run: a reasoning model shows it somewhere.

    Any one sample that closes its thinking (`saw_marker`), opens it in the visible text
    (`saw_opener`) or comes with reasoning split off by the server (`saw_split_reasoning`), or a
    prompt whose template opens the thinking (`prompt_opens_think`), makes the whole run a
    reasoning run. Only a run with none of these is a model that never thinks. The decision is an
    OR over samples, so it does not depend on their order or on which samples a resume regenerated.
    """
    return saw_marker or saw_split_reasoning or prompt_opens_think or saw_opener


@dataclass
class ReasoningDetector:
    """Accumulates the evidence of `is_reasoning_run` one generation at a time.

    Feed every generation of a run to `observe` (error rows are skipped), then read `decided`.
    A run whose every sample was cut off before closing its thinking, under a template that opens
    the thinking in the prompt, is caught only through `prompt_opens_think`: set it from
    `prompt_opens_thinking` on a rendered prompt, or pass `--think-policy required`.
    """

    marker: str = DEFAULT_MARKER
    prompt_opens_think: bool = False
    saw_marker: bool = False
    saw_split_reasoning: bool = False
    saw_opener: bool = False

    def observe(self, generation: Generation) -> None:
        """Record what `generation` shows about the model."""
        if generation.error is not None:
            return
        if generation.reasoning is not None and generation.reasoning.strip():
            self.saw_split_reasoning = True
        text = generation.text or ""
        if self.marker in text:
            self.saw_marker = True
        opener = _opening_tag(self.marker)
        if opener is not None and opener in text:
            self.saw_opener = True

    @property
    def decided(self) -> bool:
        """True when the run is a reasoning run (see `is_reasoning_run`)."""
        return is_reasoning_run(
            saw_marker=self.saw_marker,
            saw_split_reasoning=self.saw_split_reasoning,
            prompt_opens_think=self.prompt_opens_think,
            saw_opener=self.saw_opener,
        )


def _after_marker(text: str, marker: str) -> str:
    return text.rsplit(marker, 1)[1]


def _opening_tag(marker: str) -> str | None:
    if marker.startswith("</") and marker.endswith(">"):
        return "<" + marker[2:]
    return None
