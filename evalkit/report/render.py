"""Render report tables as Markdown, CSV, LaTeX (booktabs), JSON or the HTML leaderboard.

Markdown, LaTeX and HTML come from jinja2 templates in `templates/`; CSV and JSON are written by
pandas and the json module from the tidy metrics frame, because quoting and number formatting
are theirs to get right.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from evalkit.errors import EvalkitError
from evalkit.report.runs import LoadedRun
from evalkit.report.table import ReportTables, build_tables
from evalkit.report.templating import environment

FORMATS = ("md", "csv", "html", "latex", "json")
DEFAULT_TITLE = "evalkit report"


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def render_json(runs: Sequence[LoadedRun], tables: ReportTables) -> str:
    """The runs and every number as JSON (NaN becomes null)."""
    records = [{k: _json_safe(v) for k, v in row.items()} for row in tables.frame.to_dict(orient="records")]
    doc = {
        "runs": [
            {
                "label": r.label,
                "run_id": r.run_id,
                "model": r.model,
                "path": str(r.path),
                "status": r.status,
                "step": r.step,
            }
            for r in runs
        ],
        "rows": records,
        "notes": tables.notes,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"


def render(runs: Sequence[LoadedRun], fmt: str, *, title: str = DEFAULT_TITLE, plots: bool = True) -> str:
    """The report over `runs` in format `fmt` (one of FORMATS). `plots` applies to HTML."""
    if fmt not in FORMATS:
        raise EvalkitError(f"Unknown report format '{fmt}'. Choose one of: {', '.join(FORMATS)}.")
    tables = build_tables(runs)
    if fmt == "csv":
        text: str = tables.frame.to_csv(index=False)
        return text
    if fmt == "json":
        return render_json(runs, tables)
    if fmt == "html":
        from evalkit.report.html import leaderboard_html

        return leaderboard_html(runs, tables, title=title, plots=plots)
    template = "report.md.j2" if fmt == "md" else "report.tex.j2"
    return environment().get_template(template).render(title=title, tables=tables)
