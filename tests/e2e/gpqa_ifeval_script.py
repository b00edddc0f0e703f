"""The scripted model for end-to-end GPQA-Diamond and IFEval runs: answers depend only on (prompt, seed).

GPQA: the model recognises the question, reads the shuffled choices off the prompt and answers the
letter under which a planned choice *identity* is shown (0 the correct answer, 1-3 the incorrect
ones in the CSV's order), so the grader must map letters back through its stored permutation. The
CSV is decrypted in memory with evalkit's own loader and never written anywhere.
IFEval: the answer follows the instructions and the thinking violates them, or the other way round.
Tests import `gpqa_kind`, `IDENTITY`, `ifeval_kind` and `ifeval_response` to compute the expected
metrics independently of evalkit's metric code.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from evalkit.gpqa.dataset import read_gpqa_zip
from evalkit.testing.server import Reply

DATA = Path(os.environ.get("E2E_DATA_DIR", Path(__file__).resolve().parents[3] / "shared" / "data"))
BUNDLED = Path(__file__).resolve().parents[2] / "evalkit" / "_data"  # IFEval ships with evalkit
GPQA_HEADER = "Answer the following multiple choice question."
CHOICE_COLUMNS = ("Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3")
LETTERS = "ABCD"

GPQA_KINDS = (
    "correct", "correct", "correct", "boxed_correct", "split_correct",
    "wrong1", "wrong1", "wrong1", "think_trap", "wrong2", "none",
)  # fmt: skip
# kind -> the choice identity the answer picks (None: no answer, no vote).
IDENTITY: dict[str, int | None] = {
    "correct": 0,
    "boxed_correct": 0,
    "split_correct": 0,
    "wrong1": 1,
    "think_trap": 1,  # the thinking says the correct letter, the answer another
    "wrong2": 2,
    "none": None,
}
IFEVAL_KINDS = ("follow", "follow", "violate", "split_follow", "unclosed")


def _pick(kinds: tuple[str, ...], key: str, seed: int) -> str:
    digest = hashlib.sha256(f"{key}|{seed}".encode()).digest()
    return kinds[digest[0] % len(kinds)]


def gpqa_kind(record_id: str, seed: int) -> str:
    """What the model does for this GPQA question and sample seed."""
    return _pick(GPQA_KINDS, record_id, seed)


def ifeval_kind(key: str, seed: int) -> str:
    """What the model does for this IFEval prompt and sample seed."""
    return _pick(IFEVAL_KINDS, key, seed)


def ambiguous(record: dict[str, str]) -> bool:
    """Two choices with the same text: no model can tell from the prompt which identity a letter has."""
    return len({record[c].strip() for c in CHOICE_COLUMNS}) < len(CHOICE_COLUMNS)


@cache
def gpqa_records() -> dict[str, dict[str, str]]:
    """Question text -> CSV row, decrypted in memory."""
    rows = read_gpqa_zip(DATA / "gpqa" / "gpqa_diamond.zip", "gpqa_diamond.csv")
    return {row["Question"].strip(): row for _, row in rows}


def _shown_choices(content: str) -> tuple[str, list[str]]:
    """(question, the four choice texts in letter order) read off a rendered GPQA prompt."""
    ends = [content.rindex("\nD) ")]
    for letter in "CBA":
        ends.insert(0, content.rindex(f"\n{letter}) ", 0, ends[0]))
    choices = [content[start + 4 : end] for start, end in zip(ends, [*ends[1:], len(content)], strict=True)]
    question = content[: ends[0]].split("\n\n", 1)[1]
    return question.strip(), [c.strip() for c in choices]


def _gpqa(content: str, seed: int) -> Reply:
    question, shown = _shown_choices(content)
    record = gpqa_records()[question]
    kind = "none" if ambiguous(record) else gpqa_kind(record["Record ID"], seed)

    def letter(identity: int) -> str:
        return LETTERS[shown.index(record[CHOICE_COLUMNS[identity]].strip())]

    chosen = IDENTITY[kind]
    if kind in ("correct", "wrong1", "wrong2") and chosen is not None:
        return Reply(text=f"<think>Let me weigh the options.</think>Reasoning done.\nAnswer: {letter(chosen)}")
    if kind == "boxed_correct":
        return Reply(text=f"<think>Checking.</think>The answer is $\\boxed{{{letter(0)}}}$.")
    if kind == "split_correct":
        return Reply(reasoning=f"Maybe Answer: {letter(1)}", text=f"Answer: {letter(0)}")
    if kind == "think_trap":
        return Reply(text=f"<think>Answer: {letter(0)}</think>On reflection:\nAnswer: {letter(1)}")
    return Reply(text="<think>I cannot decide.</think>I am not sure which option is right.")


@cache
def ifeval_rows() -> dict[str, dict[str, Any]]:
    """Prompt text -> IFEval row."""
    lines = (BUNDLED / "ifeval" / "input_data.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return {row["prompt"].strip(): row for row in rows}


VIOLATING = "Hello, World! THIS Answer, Written Quickly, Ignores The Rules Entirely."


def compliant(row: dict[str, Any]) -> str:
    """A best-effort answer that follows the row's instructions (the common kinds; the rest is ignored)."""
    ids: list[str] = row["instruction_id_list"]
    kwargs: list[dict[str, Any]] = row["kwargs"]
    head: list[str] = []
    body = ["here is my answer to the request"]
    tail: list[str] = []
    for iid, kw in zip(ids, kwargs, strict=True):
        if iid == "combination:repeat_prompt":
            head.insert(0, kw["prompt_to_repeat"])
        elif iid == "detectable_format:title":
            head.append("<<my answer>>")
        elif iid == "detectable_content:number_placeholders":
            body.append(" ".join(f"[slot{i}]" for i in range(kw["num_placeholders"])))
        elif iid == "detectable_format:number_bullet_lists":
            body.append("\n".join(f"* point {i}" for i in range(kw["num_bullets"])))
        elif iid == "detectable_format:number_highlighted_sections":
            body.append(" ".join(f"*part {i}*" for i in range(kw["num_highlights"])))
        elif iid == "keywords:existence":
            body.append(" ".join(kw["keywords"]))
        elif iid == "length_constraints:number_words" and kw["relation"] == "at least":
            body.append(" ".join(["word"] * kw["num_words"]))
        elif iid == "detectable_content:postscript":
            tail.append(f"{kw['postscript_marker']} thanks for reading")
        elif iid == "startend:end_checker":
            tail.append(kw["end_phrase"])
    text = "\n\n".join([*head, " ".join(body), *tail]).replace(",", "")
    if "change_case:english_lowercase" in ids:
        text = text.lower()
    if "change_case:english_capital" in ids:
        text = text.upper()
    if "startend:quotation" in ids:
        text = f'"{text}"'
    if "detectable_format:json_format" in ids:
        text = json.dumps({"answer": text})
    return text


def ifeval_response(row: dict[str, Any], kind: str) -> Reply:
    """The reply of this kind to an IFEval row."""
    good = compliant(row)
    if kind == "follow":
        return Reply(text=f"<think>{VIOLATING}</think>\n\n{good}")
    if kind == "violate":
        return Reply(text=f"<think>{good}</think>\n\n{VIOLATING}")
    if kind == "split_follow":
        return Reply(reasoning=VIOLATING, text=good)
    return Reply(text=f"<think>{good}", finish_reason="length")


def reply(body: dict[str, Any], attempt: int) -> Reply:
    """GPQA or IFEval, told apart by the prompt."""
    content = body["messages"][-1]["content"]
    seed = int(body["seed"])
    if content.startswith(GPQA_HEADER):
        return _gpqa(content, seed)
    row = ifeval_rows()[content.strip()]
    return ifeval_response(row, ifeval_kind(str(row["key"]), seed))
