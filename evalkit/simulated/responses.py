"""The simulated model's responses: per-problem accuracy, per-sample kind, and the text of each kind.

Everything here is a pure function of (task, sample, sample index, request seed), so a rerun, a resume
or another machine produces the same responses.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from evalkit.errors import EvalkitError
from evalkit.simulated import ifeval_responses as ifeval_writers
from evalkit.types import Sample

SIMULATED_MODEL = "simulated"

# Per-problem accuracies: each problem gets one of these, from a hash of (task, sample id).
ACCURACY_LEVELS = (0.0, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 1.0)
# Of the correct responses, this share is written in an equivalent form (when the gold has one).
EQUIVALENT_SHARE = 0.25
# How the incorrect responses of answer tasks (math, choice) split into kinds.
FAILURE_SPLIT: dict[str, float] = {
    "wrong": 0.45,
    "wrong_other": 0.2,
    "no_answer": 0.15,
    "truncated": 0.1,
    "unclosed": 0.1,
}
CODE_FAILURE_SPLIT: dict[str, float] = {"wrong": 0.5, "crash": 0.2, "no_answer": 0.1, "truncated": 0.1, "unclosed": 0.1}
IFEVAL_FAILURE_SPLIT: dict[str, float] = {"wrong": 0.7, "truncated": 0.15, "unclosed": 0.15}
NO_RESPONSE_SPLIT: dict[str, float] = {"truncated": 0.5, "unclosed": 0.5}
# A lookup-table program longer than this would not be extracted by the code grader.
MAX_PROGRAM_CHARS = 15_000
# The grader families the simulated model can answer.
FAMILIES = ("math", "choice", "code", "ifeval")

_INTEGER = re.compile(r"-?\d+")
_FRACTION = re.compile(r"\\[dt]?frac\{(-?\d+)\}\{(\d+)\}")


class Kind(str, Enum):
    """What a simulated response is, and so what its grade must be."""

    CORRECT = "correct"
    EQUIVALENT = "equivalent"
    WRONG = "wrong"
    WRONG_OTHER = "wrong_other"
    CRASH = "crash"
    NO_ANSWER = "no_answer"
    TRUNCATED = "truncated"
    UNCLOSED = "unclosed"

    @property
    def correct(self) -> bool:
        return self in (Kind.CORRECT, Kind.EQUIVALENT)


# The verdict each kind must get from its grader family (code graders use judge verdicts).
EXPECTED_VERDICT: dict[str, dict[Kind, str]] = {
    "math": {
        Kind.CORRECT: "correct",
        Kind.EQUIVALENT: "correct",
        Kind.WRONG: "wrong",
        Kind.WRONG_OTHER: "wrong",
        Kind.NO_ANSWER: "no_answer",
        Kind.TRUNCATED: "unclosed_think",
        Kind.UNCLOSED: "unclosed_think",
    },
    "code": {
        Kind.CORRECT: "AC",
        Kind.WRONG: "WA",
        Kind.CRASH: "RE",
        Kind.NO_ANSWER: "no_answer",
        Kind.TRUNCATED: "unclosed_think",
        Kind.UNCLOSED: "unclosed_think",
    },
    "ifeval": {
        Kind.CORRECT: "correct",
        Kind.WRONG: "wrong",
        Kind.TRUNCATED: "unclosed_think",
        Kind.UNCLOSED: "unclosed_think",
    },
}
EXPECTED_VERDICT["choice"] = EXPECTED_VERDICT["math"]


def got_expected(grader: str, kind: Kind, verdict: str, details: dict[str, Any] | None) -> bool:
    """Whether a grade row of a `kind` response is what its grader family must give: the verdict, and
    for IFEval every instruction's strict and loose flag."""
    grader_family = family(grader)
    flags = (details or {}).get("strict", []) + (details or {}).get("loose", [])
    flags_ok = grader_family != "ifeval" or all(f == kind.correct for f in flags)
    return verdict == EXPECTED_VERDICT[grader_family][kind] and flags_ok


@dataclass(frozen=True)
class Simulated:
    """One simulated response: its text, how it ended, and what it is."""

    text: str
    finish_reason: str
    kind: Kind
    completion_tokens: int


def family(grader: str) -> str:
    """The response family for a task's grader; EvalkitError for graders the simulation cannot answer."""
    if grader not in FAMILIES:
        raise EvalkitError(
            f"The simulated model cannot answer tasks graded by '{grader}' (it answers math, choice, code and "
            "ifeval tasks). Run those tasks with a real model."
        )
    return grader


def _unit(*parts: str) -> float:
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def problem_accuracy(task: str, sample: Sample, grader: str) -> float:
    """The probability that a sample of this problem is correct: fixed per (task, sample id)."""
    fam = family(grader)
    if fam == "ifeval" and _ifeval_texts(sample) is None:
        return 0.0
    if fam == "code" and _passing_program(sample) is None:
        return 0.0
    level = int(_unit("simulated accuracy", task, sample.id) * len(ACCURACY_LEVELS))
    return ACCURACY_LEVELS[level]


def failure_split(sample: Sample, grader: str) -> dict[str, float]:
    """How the incorrect responses of this problem split into kinds (shares summing to 1)."""
    fam = family(grader)
    if fam == "code":
        return CODE_FAILURE_SPLIT
    if fam == "ifeval":
        return IFEVAL_FAILURE_SPLIT if _ifeval_texts(sample) is not None else NO_RESPONSE_SPLIT
    return FAILURE_SPLIT


def equivalent_form(target: str) -> str | None:
    """The gold written another way that its grader must accept, or None when there is no safe one."""
    t = target.strip()
    if _INTEGER.fullmatch(t):
        return f"{int(t)}.0"
    match = _FRACTION.fullmatch(t)
    if match:
        return f"{match[1]}/{match[2]}"
    return None


def wrong_answers(target: str) -> tuple[str, str]:
    """Two distinct answers that are not equal to the gold."""
    t = target.strip()
    if _INTEGER.fullmatch(t):
        return str(int(t) + 1), str(int(t) + 2)
    return "99991", "99989"  # primes no bundled gold is equal to


def draw_kind(sample: Sample, task: str, grader: str, seed: int) -> Kind:
    """The kind of one sample, from its own seed (run seed, task, sample id and index went into it)."""
    rng = random.Random(seed)
    u, v = rng.random(), rng.random()
    if u < problem_accuracy(task, sample, grader):
        has_equivalent = family(grader) in ("math", "choice") and _equivalent(sample, grader) is not None
        return Kind.EQUIVALENT if has_equivalent and v < EQUIVALENT_SHARE else Kind.CORRECT
    acc = 0.0
    split = failure_split(sample, grader)
    for name, share in split.items():
        acc += share
        if v < acc:
            return Kind(name)
    return Kind(list(split)[-1])


def _equivalent(sample: Sample, grader: str) -> str | None:
    return "boxed" if grader == "choice" else equivalent_form(sample.target)


def simulate(
    sample: Sample, task: str, grader: str, sample_index: int, seed: int, metadata: dict[str, Any], max_tokens: int
) -> Simulated:
    """The response to sample `sample_index` of `sample` (request `seed`, request `metadata`)."""
    kind = draw_kind(sample, task, grader, seed)
    return respond(kind, sample, task, grader, sample_index, seed, metadata, max_tokens)


def respond(
    kind: Kind,
    sample: Sample,
    task: str,
    grader: str,
    sample_index: int,
    seed: int,
    metadata: dict[str, Any],
    max_tokens: int,
) -> Simulated:
    """The simulated response of a given kind (the kind must be one the problem can draw)."""
    opening = f"<think>\nSimulated reasoning for {task} {sample.id}, sample {sample_index} (seed {seed})."
    if kind is Kind.TRUNCATED:
        return Simulated(opening + " Still working" + " ..." * 20, "length", kind, max_tokens)
    if kind is Kind.UNCLOSED:
        return Simulated(opening + " It never reaches a conclusion.", "stop", kind, 64)
    answer = _answer(sample, grader, kind, metadata)
    text = f"{opening}\n</think>\n\n{answer}"
    return Simulated(text, "stop", kind, min(max_tokens, 32 + len(text) // 4))


def _answer(sample: Sample, grader: str, kind: Kind, metadata: dict[str, Any]) -> str:
    if kind is Kind.NO_ANSWER:
        return "I could not finish this problem."
    if grader == "math":
        wrong, other = wrong_answers(sample.target)
        value = {
            Kind.CORRECT: sample.target,
            Kind.EQUIVALENT: equivalent_form(sample.target),
            Kind.WRONG: wrong,
            Kind.WRONG_OTHER: other,
        }[kind]
        return f"The final answer is $\\boxed{{{value}}}$."
    if grader == "choice":
        return _choice_answer(kind, metadata)
    if grader == "code":
        return _code_answer(sample, kind)
    texts = _ifeval_texts(sample)
    assert texts is not None  # problems without texts only draw truncated/unclosed kinds
    return texts[0] if kind.correct else texts[1]


def _choice_answer(kind: Kind, metadata: dict[str, Any]) -> str:
    from evalkit.choices import LETTERS, PERMUTATION_KEY

    order = list(metadata.get(PERMUTATION_KEY) or range(len(LETTERS)))
    # Choice 0 is the correct one; wrong answers pick choices 1 and 2 by identity, not by letter.
    choice = {Kind.CORRECT: 0, Kind.EQUIVALENT: 0, Kind.WRONG: 1, Kind.WRONG_OTHER: 2}[kind]
    letter = LETTERS[order.index(choice)]
    return f"\\boxed{{{letter}}}" if kind is Kind.EQUIVALENT else f"Answer: {letter}"


def _ifeval_texts(sample: Sample) -> tuple[str, str] | None:
    return ifeval_writers.responses(sample.metadata["instruction_id_list"], sample.metadata["kwargs"])


def _passing_program(sample: Sample) -> str | None:
    """A program that prints each test's expected output by looking its input up (None: too large)."""
    tests = sample.metadata.get("tests") or []
    fn_name = sample.metadata.get("fn_name")
    if fn_name:
        table = {
            json.dumps([json.loads(line) for line in str(t["input"]).split("\n")]): json.loads(str(t["output"]))
            for t in tests
        }
        program = (
            "import json\n"
            f"_TABLE = json.loads({json.dumps(table)!r})\n\n\n"
            "class Solution:\n"
            f"    def {fn_name}(self, *args):\n"
            "        return _TABLE[json.dumps(list(args))]\n"
        )
    else:
        table = {str(t["input"]).strip(): str(t["output"]) for t in tests}
        program = (
            "import json\nimport sys\n\n"
            f"_TABLE = json.loads({json.dumps(table)!r})\n"
            "sys.stdout.write(_TABLE.get(sys.stdin.read().strip(), ''))\n"
        )
    return program if tests and len(program) <= MAX_PROGRAM_CHARS else None


def _code_answer(sample: Sample, kind: Kind) -> str:
    fn_name = sample.metadata.get("fn_name")
    if kind.correct:
        program = _passing_program(sample)
        assert program is not None  # problems without one have accuracy 0
    elif kind is Kind.CRASH:
        program = "raise RuntimeError('simulated crash')\n"
    elif fn_name:
        program = f"class Solution:\n    def {fn_name}(self, *args):\n        return 'simulated wrong answer'\n"
    else:
        program = "import sys\n\nsys.stdin.read()\nprint('simulated wrong answer')\n"
    return f"Here is my program.\n\n```python\n{program}```\n"
