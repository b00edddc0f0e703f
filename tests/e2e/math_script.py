"""The scripted model for end-to-end math runs: what it answers depends only on (prompt, seed).

Tests import `behaviour` and `gold_for` to compute the expected metrics independently of evalkit's
metric code; the scripted server loads `reply` from this file in a child process.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from evalkit.testing.server import Reply

# The copies bundled with evalkit (same layout as an offline data dir), unless E2E_DATA_DIR says otherwise.
DATA = Path(os.environ.get("E2E_DATA_DIR", Path(__file__).resolve().parents[2] / "evalkit" / "_data"))
BEHAVIOURS = (
    "correct",
    "correct",
    "correct",
    "wrong",
    "wrong",
    "split",
    "unclosed",
    "truncated",
    "flaky",
    "split_right",
)
# Seeds whose requests always fail with HTTP 500 when E2E_HARD_ERRORS is set: error rows.
HARD_ERROR_ENV = "E2E_HARD_ERRORS"


@cache
def _golds() -> dict[str, str]:
    out = {}
    for name, fields in (("aime24", ("problem", "answer")), ("math500", ("problem", "answer"))):
        path = DATA / name / "test.jsonl"
        if path.exists():
            for line in path.read_text().splitlines():
                row = json.loads(line)
                out[row[fields[0]]] = row[fields[1]]
    return out


def gold_for(content: str) -> str:
    problem = content.rsplit("\nPlease reason step by step", 1)[0]
    return _golds()[problem]


def behaviour(content: str, seed: int) -> str:
    digest = hashlib.sha256(f"{content}|{seed}".encode()).digest()
    return BEHAVIOURS[digest[0] % len(BEHAVIOURS)]


def wrong_answer(gold: str, offset: int) -> str:
    return str(int(gold) + offset) if gold.isdigit() else f"{offset}7{offset}"


def reply(body: dict[str, Any], attempt: int) -> Reply:
    content = body["messages"][-1]["content"]
    seed = int(body["seed"])
    gold = gold_for(content)
    kind = behaviour(content, seed)
    if os.environ.get(HARD_ERROR_ENV) and seed % 7 == 0:
        return Reply(fault="500")
    if kind == "correct":
        return Reply(text=f"<think>Let me try {wrong_answer(gold, 3)}... no.</think>The answer is $\\boxed{{{gold}}}$.")
    if kind == "wrong":
        return Reply(text=f"<think>Working.</think>So we get \\boxed{{{wrong_answer(gold, 1)}}}")
    if kind == "split":
        # Thinking (split off by the server) holds the gold; the answer does not: graded wrong.
        return Reply(reasoning=f"Maybe \\boxed{{{gold}}}?", text=f"Final: \\boxed{{{wrong_answer(gold, 2)}}}")
    if kind == "split_right":
        return Reply(reasoning="Thinking it over.", text=f"Final: \\boxed{{{gold}}}")
    if kind == "unclosed":
        return Reply(text=f"<think>I think \\boxed{{{gold}}} but let me check", finish_reason="length")
    if kind == "truncated":
        return Reply(text="<think>Done thinking.</think>The answer is \\boxed{", finish_reason="length")
    # flaky: a server error on the first attempt, then the right answer.
    if attempt == 0:
        return Reply(fault="500")
    return Reply(text=f"<think>ok</think>\\boxed{{{gold}}}")


def expected(kind: str) -> tuple[float, str | None]:
    """(score, vote class) the grader should give a sample of this behaviour."""
    return {
        "correct": (1.0, "gold"),
        "wrong": (0.0, "+1"),
        "split": (0.0, "+2"),
        "split_right": (1.0, "gold"),
        "unclosed": (0.0, None),
        "truncated": (0.0, None),
        "flaky": (1.0, "gold"),
    }[kind]


def slow_reply(body: dict[str, Any], attempt: int) -> Reply:
    """`reply`, 50 ms later: long enough for a test to kill a run in the middle."""
    from dataclasses import replace

    return replace(reply(body, attempt), delay_s=0.05)
