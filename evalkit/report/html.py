"""The static single-file HTML leaderboard: sortable tables, embedded plots, per-problem drill-down.

Everything (styles, script, plots, sample data) is inline, so the file opens from disk or a CI
artifact with no network access. Sample texts travel as JSON inside the page and are put into
the DOM with textContent when a problem is opened, so model output is never parsed as HTML.
Long responses are cut to their head and tail to keep the page loadable.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from collections.abc import Sequence
from typing import Any, cast, get_args

from evalkit.answer import DEFAULT_MARKER, ThinkPolicy, answer_region
from evalkit.errors import MissingExtraError
from evalkit.report.rebuilt_prompts import load_prompts
from evalkit.report.runs import LoadedRun
from evalkit.report.table import ReportTables, task_order
from evalkit.report.templating import environment

MAX_ANSWER_CHARS = 4000
MAX_THINKING_CHARS = 4000
MAX_PROMPT_CHARS = 8000


def clip(text: str | None, limit: int) -> str | None:
    """`text` cut to its first and last `limit/2` characters, with a marker saying how much is left out."""
    if text is None or len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n\n[… {len(text) - 2 * half} characters not shown …]\n\n{text[-half:]}"


def _split(
    run: LoadedRun, text: str | None, reasoning: str | None, finish_reason: str | None
) -> tuple[str | None, str | None]:
    """(answer region, thinking) of one response, by the same rule the graders used."""
    grading = run.config.get("grading") or {}
    marker = str(grading.get("think_marker") or DEFAULT_MARKER)
    configured = grading.get("think_policy")
    policy = cast(ThinkPolicy, configured if configured in get_args(ThinkPolicy) else "auto")
    region = answer_region(text, reasoning, marker=marker, policy=policy, finish_reason=finish_reason)
    if reasoning is not None:
        return region.text, reasoning
    if text is None:
        return None, None
    if region.text is None:
        return None, text
    thinking = text[: len(text) - len(region.text)] if text.endswith(region.text) else ""
    return region.text, thinking.removesuffix(marker) or None


def _present(value: Any) -> Any:
    """None for pandas' missing-value markers, the value otherwise."""
    return None if isinstance(value, float) and math.isnan(value) else value


def _opt_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and math.isfinite(value) else None


def drilldown_data(runs: Sequence[LoadedRun], prompts: dict[str, dict[str, dict[str, str]]]) -> dict[str, Any]:
    """task -> problems, each with per-run samples (answer region, extracted, verdict, tokens, thinking)."""
    data: dict[str, Any] = {}
    for task in task_order(runs):
        problems: dict[str, dict[str, Any]] = {}
        present = [run for run in runs if task in run.tasks]
        for col, run in enumerate(present):
            frame = run.samples
            for sid, rows in frame[frame["task"] == task].groupby("sample_id", sort=False):
                problem = problems.setdefault(str(sid), {"id": str(sid), "prompt": None, "runs": [None] * len(present)})
                prompt = prompts.get(run.label, {}).get(task, {}).get(str(sid))
                if prompt and not problem["prompt"]:
                    problem["prompt"] = clip(prompt, MAX_PROMPT_CHARS)
                samples = []
                for record in rows.to_dict(orient="records"):
                    row = {k: _present(v) for k, v in record.items()}
                    answer, thinking = _split(run, row["text"], row["reasoning"], row["finish_reason"])
                    samples.append(
                        {
                            "index": int(row["sample_index"]),
                            "verdict": row["verdict"],
                            "score": row["score"],
                            "extracted": row["extracted"],
                            "answer": clip(answer.strip() if answer else answer, MAX_ANSWER_CHARS),
                            "thinking": clip(thinking, MAX_THINKING_CHARS),
                            "tokens": _opt_int(row["completion_tokens"]),
                            "finish": row["finish_reason"],
                            "error": row["error"],
                            "explanation": row["explanation"] or None,
                        }
                    )
                scores = [s["score"] for s in samples if s["score"] is not None]
                problem["runs"][col] = {
                    "mean": sum(scores) / len(scores) if scores else None,
                    "graded": len(scores),
                    "samples": samples,
                }
        data[task] = {"runs": [r.label for r in present], "problems": list(problems.values())}
    return data


def _script_json(value: Any) -> str:
    """JSON safe to place inside <script>: no '</script>' or '<!--' can end or confuse the element."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _plot_images(runs: Sequence[LoadedRun]) -> list[dict[str, str]]:
    from evalkit.report.plots import make_plots

    # SVG as a data URL (not inline markup): every figure keeps its own element ids and stays crisp.
    return [
        {
            "key": p.key,
            "title": p.title,
            "src": "data:image/svg+xml;base64," + base64.b64encode(p.svg().encode()).decode(),
        }
        for p in make_plots(runs)
    ]


def leaderboard_html(runs: Sequence[LoadedRun], tables: ReportTables, *, title: str, plots: bool = True) -> str:
    """The whole leaderboard page as one HTML string."""
    prompts: dict[str, dict[str, dict[str, str]]] = {}
    notes = list(tables.notes)
    for run in runs:
        prompts[run.label], prompt_notes = load_prompts(run)
        notes += prompt_notes
    images: list[dict[str, str]] = []
    if plots:
        try:
            images = _plot_images(runs)
        except MissingExtraError as e:
            notes.append(f"Plots left out: {e}")
    drill = drilldown_data(runs, prompts)
    problem_tables = {
        task: [
            (p["id"], [(None if r is None else r["mean"], None if r is None else r["graded"]) for r in p["runs"]])
            for p in entry["problems"]
        ]
        for task, entry in drill.items()
    }
    return (
        environment()
        .get_template("leaderboard.html.j2")
        .render(
            title=title,
            generated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            tables=tables,
            notes=notes,
            plots=images,
            drill=drill,
            problem_tables=problem_tables,
            drill_json=_script_json(drill),
        )
    )
