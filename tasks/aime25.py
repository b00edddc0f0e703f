"""AIME 2025: the 30 problems of the 2025 AIME I and II.

Source: opencompass/AIME2025, configs `AIME2025-I` and `AIME2025-II` (split `test`, fields
`question`, `answer`). The Hub copy has no ids, so ids are `2025-I-1` .. `2025-II-15` by position.
No verified commit could be pinned for this repository from here: the revision is `main`, and the
manifest's content hash is what identifies the data a run saw.

Bundled copy (the default source) and offline copy: `aime25/test.jsonl` (fields id, problem, answer),
from GAIR-NLP/AIME-Preview. It has the same 30 problems and answers as the Hub copy, but NOT the same
problem text: its LaTeX is written differently (`$b > 9$` and `$17_b$` where the Hub has `$b>9$` and
`$17_{b}$`) and three problems of part II carry their TikZ figures, which the Hub copy leaves out. So
a bundled run and a Hub run (`--data-source hub`) send different prompts and get different content
hashes; the manifest says which source was used and that the bundled copy differs (see
evalkit/_data/README.md).

The Hub copy writes 2025-II-5's answer as `336^\\circ`; AIME answers are integers, so the degree sign
is dropped here (both sources give the target `336`, and the integer rule of the math grader applies).
Protocol: the DeepSeek-R1 math prompt, n=64, answers compared as integers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from evalkit import BundledCopy, DatasetSpec, Record, Sample, Task, load_hub, task

HUB_ID = "opencompass/AIME2025"
REVISION = "main"
VERSION = "1"
PARTS = ("I", "II")
BUNDLED = BundledCopy(
    sha256="0f44df0cddfd7177fcb66aee34762ece31617328d4b3958644e4808ab96d6f72",
    matches_hub=False,
    differences=(
        "Same 30 problems, ids and answers as opencompass/AIME2025, but the problem statements come from "
        "GAIR-NLP/AIME-Preview: different LaTeX spacing and braces, and TikZ figures in three part-II problems "
        "that the Hub copy lacks. Prompts and the content hash differ from a --data-source hub run."
    ),
)
# `336^\circ`, `336^{\circ}`, `336°`: a degree sign after an integer answer.
_DEGREES = re.compile(r"\s*(?:\^\s*\{?\s*\\circ\s*\}?|°)\s*$")


def hub_records(spec: DatasetSpec) -> Iterator[Record]:
    """Both Hub configs, in order, with ids added by position."""
    for part in PARTS:
        rows = load_hub(spec.hub_id, config=f"AIME2025-{part}", split="test", revision=spec.revision)
        for i, row in enumerate(rows, 1):
            yield {"id": f"2025-{part}-{i}", "problem": row["question"], "answer": row["answer"]}


def record_to_sample(record: Record) -> Sample:
    """Map a row to a Sample; the target is the integer answer (a trailing degree sign is dropped)."""
    target = _DEGREES.sub("", str(record["answer"]).strip())
    return Sample(id=str(record["id"]), input=record["problem"], target=target)


@task
def aime25() -> Task:
    """AIME 2025, 30 problems, n=64 by default."""
    return Task(
        name="aime25",
        version=VERSION,
        description="AIME 2025 I+II (30 problems), integer answers",
        dataset=DatasetSpec(
            hub_id=HUB_ID,
            revision=REVISION,
            split="test",
            offline_path="aime25/test.jsonl",
            hub_loader=hub_records,
            bundled=BUNDLED,
        ),
        record_to_sample=record_to_sample,
        template="math.j2",
        grader="math",
        grader_options={"integer_answers": True},
        n=64,
    )
