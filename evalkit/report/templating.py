"""The jinja2 environment of the report templates (`templates/`), with the Markdown and LaTeX escaping
filters they use. Shared by every format that renders a template (render.py, html.py)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import jinja2

from evalkit.report.table import Cell

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
