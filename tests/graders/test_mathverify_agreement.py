"""evalkit's math grader against math-verify's own test suite, computed live.

mathverify_cases.jsonl holds every (gold, prediction, expected) case of huggingface/Math-Verify's tests
(scripts/mathverify_cases.py regenerates it; tests/graders/README.md names the commit and license).
Each case is graded twice: by math-verify's default configuration (`verify(parse(gold), parse(pred))`)
and by evalkit (the gold as the sample's target, the prediction as the whole response, as written:
evalkit reads an unboxed response with math-verify's default extraction, so nothing is wrapped).
evalkit must agree with the expected results at least as often as math-verify's default does, and
every case where either disagrees must be listed, with the reason, in mathverify_disagreements.jsonl
(docs/math-grading.md explains them). A case whose expected result is mathematically false is marked
there (`expectation_wrong`) and both graders are scored against the true result.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evalkit.graders.base import GraderRef, ThinkSettings
from evalkit.graders.jobs import GradeJob, GradingPool
from evalkit.testing import generation_for
from evalkit.types import Sample

HERE = Path(__file__).parent
CASES: list[dict[str, Any]] = [
    json.loads(line) for line in (HERE / "mathverify_cases.jsonl").read_text("utf-8").splitlines() if line
]
NOTES: dict[str, dict[str, Any]] = {
    note["source"]: note
    for note in map(json.loads, (HERE / "mathverify_disagreements.jsonl").read_text("utf-8").splitlines())
}


def _truth(case: dict[str, Any]) -> bool:
    note = NOTES.get(case["source"], {})
    return bool(case["expected"]) != bool(note.get("expectation_wrong", False))


def _math_verify_default(case: dict[str, Any]) -> bool:
    from math_verify import parse, verify

    return bool(verify(parse(case["gold"]), parse(case["prediction"])))


def _evalkit(pool: GradingPool) -> list[bool]:
    jobs = [
        GradeJob(
            GraderRef("math"),
            Sample(case["source"], "", case["gold"]),
            generation_for(case["source"], case["prediction"]),
            # The prediction is the whole response, as math-verify reads it.
            ThinkSettings(policy="none"),
        )
        for case in CASES
    ]
    futures = [pool.submit(job) for job in jobs]
    return [f.result(timeout=300).verdict == "correct" for f in futures]


def test_cases_file_is_well_formed() -> None:
    assert len(CASES) >= 250
    assert len({c["source"] for c in CASES}) == len(CASES)
    for case in CASES:
        assert isinstance(case["gold"], str) and isinstance(case["prediction"], str), case
        assert isinstance(case["expected"], bool), case
    for source, note in NOTES.items():
        assert source in {c["source"] for c in CASES}, f"note for a case that is not in the file: {source}"
        assert set(note["disagrees"]) <= {"evalkit", "math-verify"} and note["why"], note


def test_evalkit_agrees_with_math_verify_tests_at_least_as_often_as_its_default(pool: GradingPool) -> None:
    truth = [_truth(c) for c in CASES]
    ours = [verdict == t for verdict, t in zip(_evalkit(pool), truth, strict=True)]
    theirs = [_math_verify_default(c) == t for c, t in zip(CASES, truth, strict=True)]
    found = {
        c["source"]: [who for who, ok in (("evalkit", a), ("math-verify", b)) if not ok]
        for c, a, b in zip(CASES, ours, theirs, strict=True)
        if not (a and b)
    }
    documented = {source: note["disagrees"] for source, note in NOTES.items()}
    print(f"agreement with math-verify's tests: evalkit {sum(ours)}/{len(CASES)}, default {sum(theirs)}/{len(CASES)}")
    assert found == documented, "disagreements differ from mathverify_disagreements.jsonl"
    assert sum(ours) >= sum(theirs)
