"""A math benchmark of your own, from a local JSONL file: this file is the whole benchmark.

Data: `problems.jsonl` next to this file, one JSON object per line with `id`, `problem` and
`answer` (LaTeX without `$` or `\\boxed{}`). Prompt: evalkit's DeepSeek-R1 math prompt
(`math.j2`: the problem, then "Please reason step by step, and put your final answer within
\\boxed{}."). Grader: `math`, which compares the last `\\boxed{}` of the answer with `answer` for
symbolic equivalence. n=4 samples per problem by default (pass@1, pass@2, pass@4, cons@4).

    evalkit run --model MODEL --base-url URL --tasks examples/local_math/local_math.py
    evalkit run ... --tasks examples/local_math/local_math.py@n=8
"""

from __future__ import annotations

from pathlib import Path

from evalkit import DatasetSpec, Record, Sample, Task, task

DATA = Path(__file__).with_name("problems.jsonl")


def record_to_sample(record: Record) -> Sample:
    """One line of problems.jsonl as a Sample (ids become strings, answers text)."""
    return Sample(id=str(record["id"]), input=record["problem"], target=str(record["answer"]))


@task
def local_math() -> Task:
    """Math problems from problems.jsonl, graded for symbolic equivalence, n=4."""
    return Task(
        name="local_math",
        version="1",
        description="math problems from a local JSONL file, symbolic equivalence",
        dataset=DatasetSpec.local_jsonl(DATA),
        record_to_sample=record_to_sample,
        template="math.j2",
        grader="math",
        n=4,
    )
