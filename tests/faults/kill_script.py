"""The scripted model for the kill -9 test: the e2e math model, with answers that are costly to grade.

"correct" and "wrong" samples answer a fraction whose value is the gold (or gold + 1) but whose
text is unique to the sample's seed. Distinct answers defeat the grading pool's memo, so each costs
a math-verify parse in a worker: grading then trails generation and a kill can land in the grading
phase. What a sample answers still depends only on (prompt, seed), so metrics are reproducible.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from evalkit.registry import module_from_file
from evalkit.testing.server import Reply

_MATH_SCRIPT = Path(__file__).resolve().parents[1] / "e2e" / "math_script.py"
# Spreads generation over a couple of seconds at the test's concurrency.
DELAY_S = 0.01


def reply(body: dict[str, Any], attempt: int) -> Reply:
    """The e2e model's reply; its correct and wrong answers rewritten as per-sample fractions."""
    script = module_from_file(_MATH_SCRIPT)
    content = body["messages"][-1]["content"]
    seed = int(body["seed"])
    kind = script.behaviour(content, seed)
    if kind not in ("correct", "wrong"):
        answer: Reply = script.reply(body, attempt)
        return replace(answer, delay_s=DELAY_S)
    gold = int(script.gold_for(content))
    value = gold if kind == "correct" else gold + 1
    k = 1 + seed % 997
    # Equals `value`; sympy needs tens of milliseconds to see it.
    boxed = (
        f"\\left(\\frac{{{value} + {k}}}{{2}} + \\frac{{{value} - {k}}}{{2}}\\right) \\cdot \\frac{{{k}+1}}{{{k}+1}}"
    )
    return Reply(text=f"<think>Simplify first.</think>The answer is $\\boxed{{{boxed}}}$.", delay_s=DELAY_S)
