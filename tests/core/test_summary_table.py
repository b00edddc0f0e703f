"""The console summary stays readable at 80 columns (stacked) and is one full table when wide."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from evalkit.console import print_summary

RUN_DIR = Path("results/deepseek-r1-distill-qwen-7b-20250101T000000Z")
HEADERS = ("task", "n", "problems", "headline ± se", "pass@k", "cons@n", "truncated", "no answer", "unclosed", "errors")


def _metric(value: float, stderr: float) -> dict[str, Any]:
    return {"value": value, "stderr": stderr, "ci95": [value - 2 * stderr, value + 2 * stderr]}


RATES = {"truncated": 0.0125, "no_answer": 0.1, "unclosed_think": 0.0, "error": 0.0, "grader_timeout": 0.0}
SUMMARY: dict[str, Any] = {
    "model": "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
    "tasks": {
        "aime24": {
            "n": 64,
            "num_problems": 30,
            "metrics": {
                "pass@1": _metric(0.555, 0.031),
                "pass@64": _metric(0.9, 0.02),
                "cons@64": _metric(0.833, 0.05),
            },
            "rates": RATES,
            "stats": {"max_tokens": 32768, "max_tokens_fitted": 1920, "min_max_tokens": 31900},
            "error": None,
        },
        "ifeval": {
            "n": 4,
            "num_problems": 541,
            "metrics": {k: _metric(0.8, 0.01) for k in ("prompt_level_strict", "inst_level_strict")},
            "rates": RATES,
            "stats": {"max_tokens": 32768, "max_tokens_fitted": 0, "min_max_tokens": None},
            "error": None,
        },
        "codeforces": {
            "n": 8,
            "num_problems": 100,
            "metrics": {"rating": _metric(1189.0, 40.0), "pass@1": _metric(0.2, 0.02), "pass@8": _metric(0.4, 0.03)},
            "rates": RATES,
            "error": None,
        },
        "livecodebench": {
            "n": 16,
            "num_problems": 279,
            "metrics": {},
            "rates": {**RATES, "error": 1.0},
            "error": "0 of 4464 samples graded. Rerun the same command to finish the run.",
        },
    },
}
FIGURES = (
    "55.5 ± 3.1",
    "pass@64",
    "90.0 ± 2.0",
    "83.3 ± 5.0",
    "prompt_level_strict",
    "80.0 ± 1.0",
    "1189.0 ± 40.0",
    "40.0 ± 3.0",
    "incomplete",
    "1.2%",
    "10.0%",
    "100.0%",
)


def _render(width: int) -> list[str]:
    console = Console(width=width, record=True, color_system=None)
    print_summary(SUMMARY, RUN_DIR, console=console)
    return console.export_text().splitlines()


def test_at_80_columns_nothing_is_cut_or_wrapped() -> None:
    lines = _render(80)
    text = "\n".join(lines)
    assert max(map(len, lines)) <= 80
    assert "…" not in text, "a header or number was cut"
    for figure in FIGURES:
        assert any(figure in line for line in lines), f"{figure!r} is not whole on one line"
    for label in ("metric", "value ± se", "rates", "truncated 1.2%", "no answer 10.0%", "errors 100.0%"):
        assert label in text
    assert "aime24: max tokens fitted to the model's context for 1920 samples (smallest 31,900" in " ".join(
        text.split()
    )
    assert "livecodebench: 0 of 4464 samples graded" in text


def test_a_wide_terminal_gets_the_full_table_one_row_per_task() -> None:
    lines = _render(160)
    header = next(line for line in lines if "headline ± se" in line)
    assert all(h in header for h in HEADERS)
    aime = next(line for line in lines if "aime24" in line and "pass@1" in line)
    for cell in ("64", "30", "pass@1 55.5 ± 3.1", "pass@64 90.0 ± 2.0", "83.3 ± 5.0", "1.2%", "10.0%", "0.0%"):
        assert cell in aime
    assert "…" not in "\n".join(lines)
