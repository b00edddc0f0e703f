"""The scripted model of the stored-runs tests: every reply depends only on (prompt, seed).

It answers AIME-style problems written by `write_problems`: the true answer of a problem is
`answer_for(problem)`, and the behaviour of one sample (right, wrong, unclosed thinking, cut off,
reasoning split off by the server) is a hash of (prompt, seed). Served from a child process so CLI
subprocesses and in-process runs share it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from evalkit.testing.server import Reply

# A file of seeds whose requests fail with HTTP 400 (a request the server will never accept).
REJECT_ENV = "RUNS_SCRIPT_REJECT_ALL"


def answer_for(problem: str) -> int:
    """The answer the model believes in for `problem` (and the gold `write_problems` gives it)."""
    return int(hashlib.sha256(problem.encode()).hexdigest()[:6], 16) % 997


def behaviour(content: str, seed: int) -> str:
    digit = hashlib.sha256(f"{content}|{seed}".encode()).digest()[0] % 10
    if digit < 5:
        return "right"
    return {5: "wrong", 6: "wrong", 7: "unclosed", 8: "cut", 9: "split"}[digit]


def reply(body: dict[str, Any], attempt: int) -> Reply:
    if os.environ.get(REJECT_ENV):
        return Reply(fault="400")
    content = body["messages"][-1]["content"] if "messages" in body else body["prompt"]
    problem = content.split("\nPlease reason step by step")[0]
    answer = answer_for(problem)
    kind = behaviour(content, int(body.get("seed", 0)))
    if kind == "right":
        return Reply(text=f"<think>Let me see.</think>The answer is $\\boxed{{{answer}}}$.")
    if kind == "wrong":
        return Reply(text=f"<think>Hmm.</think>So \\boxed{{{answer + 1}}}")
    if kind == "unclosed":
        return Reply(text=f"<think>I believe \\boxed{{{answer}}} but let me check the")
    if kind == "cut":
        return Reply(text="<think>ok</think>So the answer is \\boxed{", finish_reason="length")
    return Reply(reasoning="Thinking it over.", text=f"Final: \\boxed{{{answer}}}")


def write_problems(data_dir: Path, count: int = 6, *, gold_shift: dict[int, int] | None = None) -> Path:
    """An offline data dir with `count` problems for aime24 and for math500 (the same problems);
    `gold_shift[i]` moves problem i's gold."""
    shift = gold_shift or {}
    aime, math500 = [], []
    for i in range(count):
        problem = f"Problem {i}: find the number of lattice points described in case {i}."
        answer = str(answer_for(problem) + shift.get(i, 0))
        aime.append({"id": f"2024-I-{i + 1}", "problem": problem, "answer": answer, "solution": "", "url": ""})
        math500.append(
            {"problem": problem, "solution": "", "answer": answer, "subject": "Counting", "level": 1 + i % 5,
             "unique_id": f"test/counting/{i}.json"}
        )  # fmt: skip
    for task, rows in (("aime24", aime), ("math500", math500)):
        (data_dir / task).mkdir(parents=True, exist_ok=True)
        (data_dir / task / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return data_dir


def slow_reply(body: dict[str, Any], attempt: int) -> Reply:
    """`reply`, 30 ms later: long enough for a test to kill a run in the middle."""
    from dataclasses import replace

    return replace(reply(body, attempt), delay_s=0.03)


# Seeds (comma-separated) whose R1-style samples never close their thinking.
TAGLESS_ENV = "RUNS_SCRIPT_TAGLESS_SEEDS"


def r1_reply(body: dict[str, Any], attempt: int) -> Reply:
    """A DeepSeek-R1-Distill-style model: its template opens `<think>`, so no reply has an opening tag.

    Samples whose seed is listed in RUNS_SCRIPT_TAGLESS_SEEDS stop mid-thought (finish_reason stop)
    after writing a box; the others close their thinking and answer.
    """
    content = body["messages"][-1]["content"]
    answer = answer_for(content.split("\nPlease reason step by step")[0])
    tagless = {int(s) for s in os.environ.get(TAGLESS_ENV, "").split(",") if s}
    if int(body.get("seed", 0)) in tagless:
        return Reply(text=f"Okay, let me think. Maybe the answer is \\boxed{{{answer}}}? Let me double-check the")
    return Reply(text=f"Let me see.</think>The answer is \\boxed{{{answer}}}.")


def plain_reply(body: dict[str, Any], attempt: int) -> Reply:
    """A model that never thinks: the whole reply is the answer."""
    content = body["messages"][-1]["content"]
    return Reply(text=f"The answer is \\boxed{{{answer_for(content.split(chr(10) + 'Please reason')[0])}}}.")
