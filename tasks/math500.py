"""MATH-500: the 500-problem test subset of MATH from "Let's Verify Step by Step" (PRM800K).

Source: HuggingFaceH4/MATH-500 (split `test`, pinned revision below). Bundled copy (the default
source) and offline copy: `math500/test.jsonl`, byte-identical to the official PRM800K file. Answers are LaTeX without `$` or
`\\boxed{}`, graded for symbolic equivalence. Protocol: the DeepSeek-R1 math prompt, n=4.
Breakdown by `subject` and `level`. Sample id: `unique_id` (e.g. `test/precalculus/807.json`).
"""

from __future__ import annotations

from evalkit import BundledCopy, DatasetSpec, Record, Sample, Task, task

HUB_ID = "HuggingFaceH4/MATH-500"
REVISION = "6e4ed1a2a79af7d8630a6b768ec859cb5af4d3be"
VERSION = "1"
BUNDLED = BundledCopy(
    sha256="35dc41080a3680858b27fa7e0533d2d547825316fc5dafe5d316f4ccc5a06132",
    matches_hub=True,
)


def record_to_sample(record: Record) -> Sample:
    """Map a row to a Sample; subject and level are kept for the breakdown."""
    return Sample(
        id=record["unique_id"],
        input=record["problem"],
        target=record["answer"],
        metadata={"subject": record["subject"], "level": str(record["level"])},
    )


@task
def math500() -> Task:
    """MATH-500, n=4 by default."""
    return Task(
        name="math500",
        version=VERSION,
        description="MATH-500 (500 problems), symbolic equivalence",
        dataset=DatasetSpec(
            hub_id=HUB_ID, revision=REVISION, split="test", offline_path="math500/test.jsonl", bundled=BUNDLED
        ),
        record_to_sample=record_to_sample,
        template="math.j2",
        grader="math",
        n=4,
        breakdown=("subject", "level"),
    )
