"""The `plugin_words` task: one-word answers to short questions, from the package's own data."""

from __future__ import annotations

from pathlib import Path

from evalkit import DatasetSpec, Record, Sample, Task

HERE = Path(__file__).parent


def record_to_sample(record: Record) -> Sample:
    """A line of words.jsonl as a Sample."""
    return Sample(id=record["id"], input=record["question"], target=record["answer"])


def plugin_words(n: int = 3) -> Task:
    """Word questions, graded by the plugin's own `last_word` grader."""
    return Task(
        name="plugin_words",
        version="1",
        description="one-word answers (a plugin's task)",
        dataset=DatasetSpec.local_jsonl(HERE / "words.jsonl"),
        record_to_sample=record_to_sample,
        template=str(HERE / "words.j2"),
        grader="last_word",
        n=n,
    )
