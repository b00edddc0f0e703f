"""AIME 2024: the 30 problems of the 2024 AIME I and II.

Source: HuggingFaceH4/aime_2024 (split `train`, pinned revision below). Bundled copy (the default
source) and offline copy: `aime24/test.jsonl`, the same 30 rows (QwenLM/Qwen2.5-Math's file with ids
taken from the AoPS urls); see evalkit/_data/README.md for why it yields the Hub revision's samples.
Protocol (DeepSeek-R1 report, section 3): the math prompt, T=0.6, top-p 0.95, 32,768 max tokens,
n=64 samples per problem; pass@1 and cons@64. Answers are integers 0-999 published with leading
zeros (`025`), so they are compared as integers.
Sample id: `2024-I-1` .. `2024-II-15` (from the AoPS url on the Hub copy, whose `id` is 60..89).
"""

from __future__ import annotations

import re

from evalkit import BundledCopy, DatasetSpec, Record, Sample, Task, task

HUB_ID = "HuggingFaceH4/aime_2024"
REVISION = "2fe88a2f1091d5048c0f36abc874fb997b3dd99a"
VERSION = "1"
BUNDLED = BundledCopy(
    sha256="f4574f0fd0ea1247b2b3631fc498451c6840a2c0420664508d52c46c484ad2e0",
    matches_hub=True,
)
_URL_ID = re.compile(r"(\d{4})_AIME_(I{1,2})_Problems/Problem_(\d+)")


def record_to_sample(record: Record) -> Sample:
    """Map a Hub or offline row to a Sample; the id is derived from the AoPS url when present."""
    match = _URL_ID.search(record.get("url") or "")
    sample_id = f"{match[1]}-{match[2]}-{match[3]}" if match else str(record["id"])
    return Sample(id=sample_id, input=record["problem"], target=str(record["answer"]).strip())


@task
def aime24() -> Task:
    """AIME 2024, 30 problems, n=64 by default."""
    return Task(
        name="aime24",
        version=VERSION,
        description="AIME 2024 I+II (30 problems), integer answers",
        dataset=DatasetSpec(
            hub_id=HUB_ID, revision=REVISION, split="train", offline_path="aime24/test.jsonl", bundled=BUNDLED
        ),
        record_to_sample=record_to_sample,
        template="math.j2",
        grader="math",
        grader_options={"integer_answers": True},
        n=64,
    )
