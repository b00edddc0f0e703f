"""End to end: GPQA-Diamond and IFEval runs on the offline data through the scripted server.

GPQA: the scripted model (tests/e2e/gpqa_ifeval_script.py) answers the letter under which a planned
choice identity is shown, so the expected pass@1 and cons@n (votes by identity: the correct answer
shown under different letters is one vote) follow from the plan alone; they are computed here with
plain Python and compared exactly, and re-grading must reproduce them. IFEval: each response's
flags come from evalkit.rewards.ifeval (the checkers have their own golden tests); the four
aggregates over prompts and samples are computed here and compared exactly.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from evalkit import rewards
from evalkit.config import BackendConfig, RunConfig
from evalkit.gpqa.dataset import read_gpqa_zip
from evalkit.registry import module_from_file
from evalkit.runner import run
from evalkit.seeds import derive_seed
from evalkit.testing.server import ScriptedServer

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1].parent / "shared" / "data"  # GPQA is gated: only an offline copy, never bundled
BUNDLED = HERE.parents[1] / "evalkit" / "_data"
SCRIPT = f"{HERE / 'gpqa_ifeval_script.py'}:reply"
GPQA_LIMIT, GPQA_N = 30, 8
IFEVAL_LIMIT, IFEVAL_N = 30, 4

pytestmark = pytest.mark.slow


script = module_from_file(HERE / "gpqa_ifeval_script.py")


def _need(relative: str) -> Path:
    path = DATA / relative
    if not path.is_file():
        pytest.skip(f"offline benchmark data not found at {path} (../shared/data)")
    return path


@pytest.fixture(scope="module")
def server() -> Any:
    with ScriptedServer(SCRIPT) as s:
        yield s


def _config(server: ScriptedServer, out: Path, tasks: str, limit: int, data_dir: Path | None = DATA) -> RunConfig:
    return RunConfig(
        model="scripted",
        tasks=tasks,
        backend=BackendConfig(name="openai", base_urls=(server.url,), max_retries=2, request_timeout_s=30),
        data_dir=data_dir,
        output=out,
        limit=limit,
    )


def _majority(votes: list[int | None]) -> int | None:
    """The most voted identity; ties go to the one voted first; None when nobody voted."""
    counts = Counter(v for v in votes if v is not None)
    if not counts:
        return None
    first = {v: votes.index(v) for v in counts}
    return max(counts, key=lambda v: (counts[v], -first[v]))


def _gpqa_expected() -> dict[str, Any]:
    records = [row for _, row in read_gpqa_zip(DATA / "gpqa" / "gpqa_diamond.zip", "gpqa_diamond.csv")]
    plan: dict[str, list[int | None]] = {}
    domains: dict[str, str] = {}
    for row in records[:GPQA_LIMIT]:
        rid = row["Record ID"]
        domains[rid] = row["High-level domain"]
        kinds = [
            "none" if script.ambiguous(row) else script.gpqa_kind(rid, derive_seed(0, "gpqa_diamond", rid, i))
            for i in range(GPQA_N)
        ]
        plan[rid] = [script.IDENTITY[k] for k in kinds]
    correct = {rid: sum(v == 0 for v in votes) for rid, votes in plan.items()}
    out: dict[str, Any] = {"plan": plan, "metrics": {}}
    k = 1
    while k <= GPQA_N:
        per = [1 - math.comb(GPQA_N - c, k) / math.comb(GPQA_N, k) for c in correct.values()]
        out["metrics"][f"pass@{k}"] = sum(per) / len(per)
        k *= 2
    out["metrics"][f"cons@{GPQA_N}"] = sum(_majority(v) == 0 for v in plan.values()) / len(plan)
    by_domain: dict[str, list[float]] = {}
    for rid, c in correct.items():
        by_domain.setdefault(domains[rid], []).append(c / GPQA_N)
    out["domain"] = {d: sum(v) / len(v) for d, v in by_domain.items()}
    return out


def test_gpqa_scores_and_votes_by_choice_identity_and_regrade_is_identical(
    server: ScriptedServer, tmp_path: Path
) -> None:
    _need("gpqa/gpqa_diamond.zip")
    from evalkit.regrade import regrade

    out = tmp_path / "gpqa"
    run(_config(server, out, f"gpqa_diamond@n={GPQA_N}", GPQA_LIMIT), quiet=True)
    want = _gpqa_expected()
    summary = json.loads((out / "summary.json").read_text())
    entry = summary["tasks"]["gpqa_diamond"]
    assert summary["complete"] is True and entry["error"] is None
    assert entry["num_problems"] == GPQA_LIMIT and entry["n"] == GPQA_N
    for key, value in want["metrics"].items():
        assert entry["metrics"][key]["value"] == pytest.approx(value, abs=1e-12), key
    for domain, value in want["domain"].items():
        assert entry["breakdown"]["domain"][domain]["metrics"]["pass@1"]["value"] == pytest.approx(value, abs=1e-12)

    grades = [json.loads(line) for line in (out / "grades.jsonl").read_text().splitlines()]
    assert {g["sample_id"] for g in grades} == set(want["plan"])
    generations = {
        (g["sample_id"], g["sample_index"]): g
        for g in map(json.loads, (out / "generations.jsonl").read_text().splitlines())
    }
    # The graded score follows the planned identity whatever letter showed it.
    shown_at: dict[str, list[int | None]] = {}  # the letter (as 0-3) each sample answered
    for g in sorted(grades, key=lambda g: g["sample_index"]):
        planned = want["plan"][g["sample_id"]][g["sample_index"]]
        assert (g["score"] == 1.0) == (planned == 0)
        order = generations[(g["sample_id"], g["sample_index"])]["metadata"]["permutation"]
        shown_at.setdefault(g["sample_id"], []).append(None if planned is None else order.index(planned))
    # Voting by letter (the letter's first voter decides if it is right) gives another cons@n on this
    # plan, so the exact match above tells identity voting from letter voting.
    by_letter = []
    for rid, identities in want["plan"].items():
        winner = _majority(shown_at[rid])
        by_letter.append(winner is not None and identities[shown_at[rid].index(winner)] == 0)
    assert sum(by_letter) / len(by_letter) != pytest.approx(want["metrics"][f"cons@{GPQA_N}"], abs=1e-12)

    again = regrade(out, quiet=True)
    assert again["tasks"] == summary["tasks"]
    regraded = [json.loads(line) for line in (out / "grades.jsonl").read_text().splitlines()]
    key = ("sample_id", "sample_index", "score", "verdict", "extracted")
    assert sorted(tuple(g[k] for k in key) for g in regraded) == sorted(tuple(g[k] for k in key) for g in grades)


def _ifeval_expected() -> dict[str, float]:
    rows = [json.loads(line) for line in (BUNDLED / "ifeval" / "input_data.jsonl").read_text().splitlines()]
    per_prompt: list[list[tuple[list[bool], list[bool]]]] = []
    kinds: Counter[str] = Counter()
    for row in rows[:IFEVAL_LIMIT]:
        samples = []
        for i in range(IFEVAL_N):
            kind = script.ifeval_kind(str(row["key"]), derive_seed(0, "ifeval", str(row["key"]), i))
            kinds[kind] += 1
            reply = script.ifeval_response(row, kind)
            # With the thinking split off by the server, the content alone is the response.
            flags = rewards.ifeval(reply.text, row["instruction_id_list"], row["kwargs"])
            samples.append((flags["strict"], flags["loose"]))
        per_prompt.append(samples)
    out: dict[str, float] = {}
    for mode, col in (("strict", 0), ("loose", 1)):
        out[f"prompt_level_{mode}"] = sum(sum(all(s[col]) for s in p) / IFEVAL_N for p in per_prompt) / len(per_prompt)
        followed = sum(sum(sum(s[col]) for s in p) / IFEVAL_N for p in per_prompt)
        out[f"inst_level_{mode}"] = followed / sum(len(p[0][0]) for p in per_prompt)
    out["unclosed_think"] = kinds["unclosed"] / (IFEVAL_LIMIT * IFEVAL_N)
    return out


def test_ifeval_grades_the_answer_not_the_thinking(server: ScriptedServer, tmp_path: Path) -> None:
    out = tmp_path / "ifeval"
    run(_config(server, out, f"ifeval@n={IFEVAL_N}", IFEVAL_LIMIT, data_dir=None), quiet=True)  # bundled copy
    want = _ifeval_expected()
    summary = json.loads((out / "summary.json").read_text())
    entry = summary["tasks"]["ifeval"]
    assert summary["complete"] is True and entry["error"] is None
    assert entry["num_problems"] == IFEVAL_LIMIT and entry["n"] == IFEVAL_N
    for key in ("prompt_level_strict", "inst_level_strict", "prompt_level_loose", "inst_level_loose"):
        assert entry["metrics"][key]["value"] == pytest.approx(want[key], abs=1e-12), key
    assert entry["rates"]["unclosed_think"] == pytest.approx(want["unclosed_think"], abs=1e-12)
    # The plan is informative: answers that follow pass some prompts, and thinking never rescues a violation.
    assert 0.0 < want["prompt_level_strict"] < 1.0
    violating = rewards.ifeval(
        f"<think>{script.compliant({'instruction_id_list': ['punctuation:no_comma'], 'kwargs': [{}]})}</think>"
        + script.VIOLATING,
        ["punctuation:no_comma"],
        [{}],
    )
    assert violating["strict"] == [False]
