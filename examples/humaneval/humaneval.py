"""HumanEval (Chen et al. 2021, arXiv:2107.03374) for chat models: an assert-based code benchmark.

Data: `HumanEval.jsonl`, the 164 problems of github.com/openai/human-eval (`data/HumanEval.jsonl.gz`,
gunzipped), one JSON object per line: `task_id`, `prompt` (imports, signature and docstring),
`canonical_solution`, `test` (defines `check(candidate)` full of asserts) and `entry_point`. By
default the file next to this one; elsewhere with `humaneval.py@data=/abs/path/HumanEval.jsonl`.

Prompt: `humaneval.j2` next to this file asks for the complete function in a ```python block.
Grading: evalkit's `code` grader runs the answer's last code block in the sandbox, then the
problem's `test` followed by `check(entry_point)` in the program's namespace (a script test, as
HumanEval's own harness does in-process): AC when every assert holds, WA when one fails, RE, TLE
or MLE otherwise. n=5 samples per problem (pass@1, pass@2, pass@4); `@n=...` changes it.

    evalkit run --model MODEL --base-url URL --tasks examples/humaneval/humaneval.py@data=$PWD/HumanEval.jsonl
"""

from __future__ import annotations

from pathlib import Path

from evalkit import DatasetSpec, Record, Sample, Task, task

HERE = Path(__file__).parent


def record_to_sample(record: Record) -> Sample:
    """A HumanEval problem as a Sample whose one test runs the problem's checks on its entry point."""
    checks = f"{record['test']}\n\ncheck({record['entry_point']})\n"
    return Sample(
        id=record["task_id"],
        input=record["prompt"],
        target="",
        metadata={"entry_point": record["entry_point"], "tests": [{"input": checks, "testtype": "script"}]},
    )


@task
def humaneval(data: str = str(HERE / "HumanEval.jsonl"), timeout_s: float = 10.0) -> Task:
    """HumanEval from a local copy of HumanEval.jsonl, `timeout_s` per problem, n=5."""
    return Task(
        name="humaneval",
        version="1",
        description="HumanEval, assert-based tests in the sandbox",
        dataset=DatasetSpec.local_jsonl(data),
        record_to_sample=record_to_sample,
        template=str(HERE / "humaneval.j2"),
        grader="code",
        grader_options={"language": "python", "timeout_s": timeout_s},
        n=5,
    )
