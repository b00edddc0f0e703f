"""GPQA-Diamond: 198 graduate-level multiple-choice questions (Rein et al. 2023, arXiv:2311.12022).

Source: Idavidrein/gpqa, config `gpqa_diamond` (gated: accept the terms on the Hub and set HF_TOKEN;
split `train`; the revision is `main`, as no commit could be verified from here, so the manifest's
content hash identifies the data); offline: the GPQA authors' password-protected zip at
`gpqa/gpqa_diamond.zip` in the data directory, decrypted in memory only.
Protocol (DeepSeek-R1 report): the simple-evals multiple-choice prompt, T=0.6, top-p 0.95, 32,768
max tokens, n=8; pass@1, pass@k and cons@8 (votes over the chosen choice, not its letter), with a
breakdown by high-level domain (Physics, Chemistry, Biology).
Choice order: every (question, sample index) gets its own permutation, derived from sha256 of the
Record ID and the sample index, so reruns and re-grades on any machine see the same orders, and
position bias averages out over the n samples. The permutation is stored with each generation.
Sample id: `Record ID`.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from pathlib import Path

from evalkit import DatasetSpec, Message, Prompt, Record, Sample, Task, prompts, task
from evalkit.choices import LETTERS, PERMUTATION_KEY
from evalkit.gpqa.dataset import HUB_ID, load_gpqa_hub, read_gpqa_zip

REVISION = "main"
VERSION = "1"
CONFIG = "gpqa_diamond"
OFFLINE_PATH = "gpqa/gpqa_diamond.zip"
TEMPLATE = "gpqa.j2"
# Original choice indices: 0 is the correct answer, 1-3 the incorrect ones, in the dataset's order.
CHOICE_COLUMNS = ("Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3")
_ORDERS = list(itertools.permutations(range(len(CHOICE_COLUMNS))))


def choice_order(record_id: str, sample_index: int) -> list[int]:
    """The original choice index shown at each letter for sample `sample_index` of `record_id`.

    sha256 rather than Python's hash() or random.Random, so the order does not depend on the
    process, the platform or the Python version.
    """
    digest = hashlib.sha256(f"gpqa\x1f{record_id}\x1f{sample_index}".encode()).digest()
    return list(_ORDERS[int.from_bytes(digest, "big") % len(_ORDERS)])


def offline_records(data_dir: Path) -> Iterator[tuple[str, Record]]:
    """Rows of the password-protected zip in the data directory."""
    return read_gpqa_zip(data_dir / OFFLINE_PATH, f"{CONFIG}.csv")


def record_to_sample(record: Record) -> Sample:
    """Map a row to a Sample; the choices keep the dataset's order (correct first) until a prompt shuffles them."""
    choices = [record[column] for column in CHOICE_COLUMNS]
    return Sample(
        id=str(record["Record ID"]),
        input=record["Question"],
        target=record["Correct Answer"],
        metadata={"choices": choices, "domain": record["High-level domain"], "subdomain": record["Subdomain"]},
    )


def build_prompt(sample: Sample, sample_index: int) -> Prompt:
    """The simple-evals prompt with this sample's choice order, which is stored with the generation."""
    order = choice_order(sample.id, sample_index)
    choices = sample.metadata["choices"]
    shown = {letter: choices[original] for letter, original in zip(LETTERS, order, strict=True)}
    content = prompts.render(TEMPLATE, question=sample.input, **shown)
    return Prompt(messages=(Message("user", content),), metadata={PERMUTATION_KEY: order})


@task
def gpqa_diamond() -> Task:
    """GPQA-Diamond, 198 questions, n=8 by default."""
    return Task(
        name="gpqa_diamond",
        version=VERSION,
        description="GPQA-Diamond (198 questions), multiple choice, seeded shuffles",
        dataset=DatasetSpec(
            hub_id=HUB_ID,
            revision=REVISION,
            split="train",
            config=CONFIG,
            offline_path=OFFLINE_PATH,
            hub_loader=load_gpqa_hub,
            offline_loader=offline_records,
        ),
        record_to_sample=record_to_sample,
        template=TEMPLATE,
        grader="choice",
        n=8,
        breakdown=("domain",),
        build_prompt=build_prompt,
    )
