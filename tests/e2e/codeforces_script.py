"""The scripted model for end-to-end Codeforces runs: sample i of each problem is a known solution kind.

`PLAN[sample_id][i]` is what the model answers for sample index i (run seed 0); the server recognises
(problem, index) from the request's seed, and checks that the prompt is that problem's statement.
Tests read `PLAN` and `OUTCOME` to compute the expected rating independently of evalkit.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from evalkit.registry import module_from_file
from evalkit.seeds import derive_seed
from evalkit.testing.server import Reply

RUN_SEED = 0
TASK = "codeforces"
# Sample index -> solution kind. Participant 0 solves everything, the others different subsets.
PLAN: dict[str, tuple[str, ...]] = {
    "9001/A": ("accepted", "wrong", "accepted", "tle"),
    "9001/B": ("accepted", "accepted", "no_code", "split_wrong"),
    "9002/A": ("accepted", "split_accepted", "accepted", "think_only"),
    "9002/B": ("accepted", "wrong", "tle", "accepted"),
}
TITLES = {"9001/A": "Sum", "9001/B": "Parity", "9002/A": "Double", "9002/B": "Divisor"}
# kind -> (accepted, the grader's verdict)
OUTCOME: dict[str, tuple[bool, str]] = {
    "accepted": (True, "AC"),
    "split_accepted": (True, "AC"),
    "wrong": (False, "WA"),
    "split_wrong": (False, "WA"),
    "tle": (False, "TLE"),
    "no_code": (False, "no_answer"),
    "think_only": (False, "no_answer"),
}


@cache
def synthetic() -> ModuleType:
    """tests/codeforces/synthetic.py (test folders are not packages: loaded by path, once per process)."""
    return module_from_file(Path(__file__).resolve().parents[1] / "codeforces" / "synthetic.py")


@cache
def _by_seed() -> dict[int, tuple[str, int]]:
    return {derive_seed(RUN_SEED, TASK, sid, i): (sid, i) for sid, kinds in PLAN.items() for i in range(len(kinds))}


def reply(body: dict[str, Any], attempt: int) -> Reply:
    """Answer the planned solution kind of this (problem, sample index)."""
    content = body["messages"][-1]["content"]
    sid, index = _by_seed()[int(body["seed"])]
    if f"\n# {TITLES[sid]}\n" not in content:
        raise AssertionError(f"seed of {sid}#{index} arrived with another problem's prompt")
    kind = PLAN[sid][index]
    fenced = synthetic().fenced
    if kind == "accepted":
        return Reply(text=f"<think>Easy: just compute it.</think>{fenced(sid, 'accepted')}")
    if kind == "split_accepted":
        return Reply(reasoning="The server split my thinking off.", text=fenced(sid, "accepted"))
    if kind == "wrong":
        return Reply(text=f"<think>{fenced(sid, 'accepted')}Hmm, no.</think>{fenced(sid, 'wrong')}")
    if kind == "split_wrong":
        return Reply(reasoning=fenced(sid, "accepted"), text=fenced(sid, "wrong"))
    if kind == "tle":
        return Reply(text=f"<think>Brute force.</think>{fenced(sid, 'tle')}")
    if kind == "no_code":
        return Reply(text="<think>Too hard.</think>I could not solve this problem.")
    if kind == "think_only":
        # Code only inside the thinking: the answer region has none.
        return Reply(text=f"<think>{fenced(sid, 'accepted')}</think>See above.")
    raise AssertionError(f"unknown kind {kind}")
