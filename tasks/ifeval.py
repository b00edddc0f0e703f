"""IFEval: 541 prompts with verifiable instructions (Zhou et al. 2023, arXiv:2311.07911).

Source: google/IFEval (split `train`; the revision is `main`, as no commit could be verified from
here, so the manifest's content hash identifies the data). Bundled copy (the default source) and
offline copy: `ifeval/input_data.jsonl`, the official google-research file. The Hub copy pads every
kwargs dict with nulls for keys other instructions use; those are dropped, which gives back the
official kwargs, so both sources yield the same samples.
Protocol (DeepSeek-R1 report): the prompt is sent as is; T=0.6, top-p 0.95, 32,768 max tokens,
n=4. Metrics: prompt_level_strict/loose and inst_level_strict/loose over the answer region (thinking
is never graded), with a breakdown by instruction id.
Sample id: `key`, as a string.
"""

from __future__ import annotations

from typing import Any

from evalkit import BundledCopy, DatasetSpec, EvalkitError, Record, Sample, Task, task
from evalkit.hooks import TaskScores
from evalkit.ifeval import build_checks

HUB_ID = "google/IFEval"
REVISION = "main"
VERSION = "1"
BUNDLED = BundledCopy(
    sha256="67ffeee0fcb87c317c5b08a2de85557b4a7e96ada6178aa645b4954fe4b53d49",
    matches_hub=True,
)


def record_to_sample(record: Record) -> Sample:
    """Map a row to a Sample; unknown instruction ids and malformed kwargs are errors naming the row."""
    ids = list(record["instruction_id_list"])
    kwargs: list[dict[str, Any]] = [{k: v for k, v in (kw or {}).items() if v is not None} for kw in record["kwargs"]]
    try:
        build_checks(ids, kwargs)
    except EvalkitError as e:
        raise EvalkitError(f"IFEval prompt key {record['key']}: {e}") from e
    return Sample(
        id=str(record["key"]),
        input=record["prompt"],
        target="",
        metadata={"instruction_id_list": ids, "kwargs": kwargs},
    )


def _accuracy(graded: TaskScores) -> dict[str, Any]:
    """Prompt- and instruction-level accuracies, with a breakdown by instruction id (evalkit.ifeval.accuracy)."""
    from evalkit.ifeval.accuracy import accuracy_summary

    return accuracy_summary(graded)


@task
def ifeval() -> Task:
    """IFEval, 541 prompts, n=4 by default."""
    return Task(
        name="ifeval",
        version=VERSION,
        description="IFEval (541 prompts), strict and loose instruction following",
        dataset=DatasetSpec(
            hub_id=HUB_ID,
            revision=REVISION,
            split="train",
            offline_path="ifeval/input_data.jsonl",
            bundled=BUNDLED,
        ),
        record_to_sample=record_to_sample,
        template="ifeval.j2",
        grader="ifeval",
        n=4,
        headline="prompt_level_strict",
        summarize=_accuracy,
    )
