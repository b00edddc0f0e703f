"""Render report tables as Markdown, CSV, LaTeX (booktabs), JSON or the HTML leaderboard.

Markdown, LaTeX and HTML come from jinja2 templates in `templates/`; CSV and JSON are written by
pandas and the json module from the tidy metrics frame, because quoting and number formatting
are theirs to get right.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

import jinja2

from evalkit.errors import EvalkitError
from evalkit.report.runs import LoadedRun
from evalkit.report.table import Cell, ReportTables, build_tables

FORMATS = ("md", "csv", "html", "latex", "json")
DEFAULT_TITLE = "evalkit report"

_TEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "±": r"$\pm$",
    "—": "---",
}
_TEX_PATTERN = re.compile("|".join(re.escape(k) for k in _TEX_SPECIALS))


def tex_text(value: Any) -> str:
    """Escape text for LaTeX."""
    return _TEX_PATTERN.sub(lambda m: _TEX_SPECIALS[m.group(0)], str(value))


def tex_cell(cell: Cell) -> str:
    """A cell in LaTeX: the best value in bold, the CI half-width after $\\pm$."""
    if cell.value is None:
        return tex_text(cell.text)
    main = rf"\textbf{{{cell.display}}}" if cell.best else cell.display
    return rf"{main} $\pm$ {cell.uncertainty}" if cell.uncertainty else main


def md_text(value: Any) -> str:
    """Escape text for a Markdown table cell."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def md_cell(cell: Cell) -> str:
    """A cell in Markdown: the best value in bold, the CI half-width after ±."""
    if cell.value is None:
        return md_text(cell.text)
    main = f"**{cell.display}**" if cell.best else cell.display
    return f"{main} ± {cell.uncertainty}" if cell.uncertainty else main


@cache
def environment() -> jinja2.Environment:
    """The template environment (HTML templates are autoescaped, the others are not)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("evalkit.report", "templates"),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md_text=md_text,
        md_cell=md_cell,
        tex_text=tex_text,
        tex_cell=tex_cell,
        tex_label=lambda key: re.sub(r"[^A-Za-z0-9:-]", "-", str(key)),
    )
    return env


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
