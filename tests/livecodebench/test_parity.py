"""evalkit's LiveCodeBench verdicts against lcb_runner's, program by program, through the real sandbox.

The corpus (parity/): problems in the Hub's row format (problems.jsonl), programs with the verdict
evalkit must give (cases.jsonl), and what lcb_runner (LiveCodeBench @28fef95, `run_test(timeout=6)`)
said about each, recorded by scripts/record_lcb_parity.py into each case's `lcb` field and
recorded.json. A case whose two verdicts differ names the row of docs/livecodebench.md's
"evalkit vs lcb_runner" table that explains why; every other case must agree.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from evalkit.data import load_task_samples
from evalkit.graders.base import GraderRef, ThinkSettings, make_grader
from evalkit.tasks import get_task
from evalkit.testing import generation_for
from evalkit.types import Sample, Score

CORPUS = Path(__file__).with_name("parity")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "livecodebench.md"
CASES = [json.loads(line) for line in (CORPUS / "cases.jsonl").read_text(encoding="utf-8").splitlines() if line]
RECORDED = json.loads((CORPUS / "recorded.json").read_text(encoding="utf-8"))


def _documented_differences() -> set[str]:
    """The keys of docs/livecodebench.md's difference table (first column, in backticks)."""
    return set(re.findall(r"^\| `([a-z0-9-]+)` \|", DOCS.read_text(encoding="utf-8"), re.MULTILINE))


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Sample]:
    """The corpus problems loaded by the real task loader, as an offline data dir (every date in the window)."""
    root = tmp_path_factory.mktemp("lcb")
    (root / "livecodebench").mkdir()
    (root / "livecodebench" / "test.jsonl").write_bytes((CORPUS / "problems.jsonl").read_bytes())
    task = get_task("livecodebench", release="v1", start="2023-01-01", end="2025-12-31", files="release")
    return {s.id: s for s in load_task_samples(task, root).samples}


@pytest.fixture(scope="module")
def scores(samples: dict[str, Sample]) -> dict[str, Score]:
    """Every corpus program graded by the livecodebench task's grader in the real sandbox."""
    from evalkit.sandbox.local import detect_isolation

    if detect_isolation() != "bwrap":
        pytest.skip("bubblewrap is not installed or cannot create namespaces here (apt-get install bubblewrap)")
    task = get_task("livecodebench")
    grader = make_grader(GraderRef(task.grader, dict(task.grader_options)))

    def grade(case: dict[str, Any]) -> Score:
        text = f"<think>\n</think>\n```python\n{case['code']}```\n"
        generation = generation_for(case["problem"], text, task="livecodebench", task_version=task.version)
        return grader.grade(samples[case["problem"]], generation, ThinkSettings())

    # Two at a time: each program has its own sandbox, and the TLE cases mostly wait.
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip([c["name"] for c in CASES], pool.map(grade, CASES), strict=True))


def test_recorded_with_the_pinned_runner() -> None:
    meta = RECORDED["lcb_runner"]
    assert meta["commit"].startswith("28fef95") and meta["timeout"] == 6 and meta["int_max_str_digits"] == 50000
    assert len(CASES) >= 30 and all("lcb" in case for case in CASES), "run scripts/record_lcb_parity.py"
    kinds = {json.loads(line)["metadata"] != "{}" for line in (CORPUS / "problems.jsonl").read_text().splitlines()}
    assert kinds == {True, False}, "the corpus needs stdin and functional problems"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_verdict_is_lcb_runners_or_a_documented_difference(case: dict[str, Any], scores: dict[str, Score]) -> None:
    score = scores[case["name"]]
    assert score.verdict == case["evalkit"], f"{case['name']}: {score.verdict} ({score.explanation})"
    if case["difference"] is None:
        assert case["evalkit"] == case["lcb"]["verdict"], f"{case['name']} differs from lcb_runner undocumented"
    else:
        assert case["difference"] in _documented_differences(), f"{case['difference']} is not in {DOCS.name}"
        assert case["evalkit"] != case["lcb"]["verdict"], f"{case['name']} no longer differs: drop its difference"


# What DeepSeek-R1's chat template makes of a system and a user turn (bos, system, user, then the
# assistant tag), i.e. the raw string lcb_runner sends in its DeepSeekR1 style.
R1_BOS, R1_USER, R1_ASSISTANT = "<｜begin▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>"


@pytest.mark.parametrize("style", ["r1", "generic"])
def test_prompts_are_lcb_runners_byte_for_byte(style: str, samples: dict[str, Sample]) -> None:
    task = get_task("livecodebench", style=style)
    recorded = [p for p in RECORDED["prompts"] if p["style"] == {"r1": "DeepSeekR1", "generic": "OpenAIChat"}[style]]
    assert {p["problem"] for p in recorded} == set(samples)
    for entry in recorded:
        messages = task.prompt(samples[entry["problem"]], 0).messages
        if style == "r1":
            system, user = messages
            assert (system.role, user.role) == ("system", "user")
            assert R1_BOS + system.content + R1_USER + user.content + R1_ASSISTANT == entry["prompt"]
        else:
            assert [m.to_dict() for m in messages] == entry["prompt"]


def test_the_corpus_exercises_each_limit_the_issue_names() -> None:
    by_name = {c["name"]: c for c in CASES}
    assert by_name["power of seven"]["lcb"]["verdict"] == "AC"  # > 4,300 digits printed
    assert by_name["product big int"]["lcb"]["verdict"] == "AC"  # > 4,300 digits returned and expected
    assert by_name["nine-by-nine allocates 2.5 GB"]["lcb"]["verdict"] == "AC"  # no memory limit
    assert by_name["short-sort numpy"]["lcb"]["verdict"] == "AC"
    assert by_name["pairs as tuples"]["lcb"]["verdict"] == "WA"
