"""Plots of one or more runs (matplotlib, imported only when a plot is drawn).

Figures are made with `matplotlib.figure.Figure` directly, not pyplot, so drawing never touches a
GUI backend or global state and works in CI and worker threads alike.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import MissingExtraError
from evalkit.report.runs import LoadedRun
from evalkit.report.table import at_k, headline_metric, task_order, task_roles

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

LENGTH_BINS = 8
HIST_BINS = 30


@dataclass(frozen=True)
class Plot:
    """One figure: `key` is its file stem, `title` what it shows."""

    key: str
    title: str
    figure: Figure

    def png(self, dpi: int = 120) -> bytes:
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=dpi)
        return buf.getvalue()

    def svg(self) -> str:
        import matplotlib

        buf = io.StringIO()
        # Text as <text> rather than glyph paths: half the size, faster to write, still editable.
        with matplotlib.rc_context({"svg.fonttype": "none"}):
            self.figure.savefig(buf, format="svg")
        return buf.getvalue()


def _new_figure(title: str, xlabel: str, ylabel: str) -> tuple[Figure, Axes]:
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise MissingExtraError("Drawing plots", "report", "matplotlib") from e
    fig = Figure(figsize=(6.4, 3.8), layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=11)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    return fig, ax


def _color(index: int) -> str:
    """The same run gets the same colour in every plot (matplotlib's default cycle)."""
    return f"C{index % 10}"


def _curve(run: LoadedRun, task: str, family: str) -> tuple[list[int], list[float], list[list[float]]]:
    """k values, metric values and CI error-bar lengths of `family@k` for one run, in percent."""
    metrics = run.tasks.get(task, {}).get("metrics") or {}
    points = sorted(
        (k, m) for key, m in metrics.items() if (k := at_k(key, family)) is not None and isinstance(m, dict)
    )
    ks: list[int] = []
    ys: list[float] = []
    err: list[list[float]] = [[], []]
    for k, m in points:
        if not isinstance(m.get("value"), int | float):
            continue
        value = 100 * float(m["value"])
        lo, hi = (100 * float(c) for c in (m.get("ci95") or [m["value"], m["value"]]))
        ks.append(k)
        ys.append(value)
        err[0].append(max(value - lo, 0.0))
        err[1].append(max(hi - value, 0.0))
    return ks, ys, err


def at_k_plots(runs: Sequence[LoadedRun], family: str) -> list[Plot]:
    """pass@k (family "pass") or cons@k ("cons") against k, one line per run, per task."""
    name = "pass@k" if family == "pass" else "cons@k"
    plots = []
    for task in task_order(runs):
        curves = [(run, *_curve(run, task, family)) for run in runs]
        if not any(len(ks) >= 2 for _, ks, _, _ in curves):
            continue
        fig, ax = _new_figure(f"{task}: {name}", "k (log scale)", f"{name} (%)")
        all_ks: set[int] = set()
        for i, (run, ks, ys, err) in enumerate(curves):
            if ks:
                ax.errorbar(ks, ys, yerr=err, marker="o", capsize=3, label=run.label, color=_color(i))
                all_ks.update(ks)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sorted(all_ks), [str(k) for k in sorted(all_ks)])
        ax.minorticks_off()
        ax.legend(fontsize=8)
        plots.append(Plot(f"{family}_at_k-{task}", f"{task}: {name} vs k", fig))
    return plots


def _graded(run: LoadedRun, task: str) -> Any:
    frame = run.samples
    rows = frame[(frame["task"] == task) & frame["completion_tokens"].notna()]
    return rows[rows["score"].notna()]


def accuracy_vs_length_plots(runs: Sequence[LoadedRun]) -> list[Plot]:
    """Mean score of samples binned by response length (quantile bins shared by all runs), per task."""
    import numpy as np
    import pandas as pd

    plots = []
    for task in task_order(runs):
        graded = {run.label: (i, _graded(run, task)) for i, run in enumerate(runs)}
        lengths = pd.concat([g["completion_tokens"] for _, g in graded.values()])
        if lengths.nunique() < 2:
            continue
        edges = np.unique(np.quantile(lengths.to_numpy(dtype=float), np.linspace(0, 1, LENGTH_BINS + 1)))
        fig, ax = _new_figure(
            f"{task}: accuracy vs response length", "completion tokens (bin median)", "mean score (%)"
        )
        for label, (i, rows) in graded.items():
            if rows.empty:
                continue
            bins = pd.cut(rows["completion_tokens"], edges, include_lowest=True)
            grouped = rows.groupby(bins, observed=True).agg(
                length=("completion_tokens", "median"), score=("score", "mean")
            )
            ax.plot(grouped["length"], 100 * grouped["score"], marker="o", label=label, color=_color(i))
        ax.legend(fontsize=8)
        plots.append(Plot(f"accuracy_vs_length-{task}", f"{task}: accuracy vs response length", fig))
    return plots


def length_histogram_plots(runs: Sequence[LoadedRun]) -> list[Plot]:
    """Histograms of response length per task, with each run's max-tokens budget as a dashed line."""
    import numpy as np

    plots = []
    for task in task_order(runs):
        series = [(i, run, _graded(run, task)["completion_tokens"].to_numpy(dtype=float)) for i, run in enumerate(runs)]
        series = [(i, run, values) for i, run, values in series if values.size]
        if not series:
            continue
        budgets = {b for _, run, _ in series if (b := run.max_tokens(task)) is not None}
        top = max([float(v.max()) for _, _, v in series] + [float(b) for b in budgets])
        edges = np.linspace(0, max(top, 1.0), HIST_BINS + 1).tolist()
        fig, ax = _new_figure(f"{task}: response length", "completion tokens", "samples")
        for i, run, values in series:
            ax.hist(values, bins=edges, histtype="step", linewidth=1.5, label=run.label, color=_color(i))
        for budget in sorted(budgets):
            ax.axvline(budget, color="black", linestyle="--", linewidth=1)
            ax.annotate(
                f"max tokens {budget}",
                (budget, 1),
                xycoords=("data", "axes fraction"),
                ha="right",
                va="top",
                fontsize=8,
                rotation=90,
            )
        ax.legend(fontsize=8)
        plots.append(Plot(f"length_histogram-{task}", f"{task}: response-length histogram", fig))
    return plots


def checkpoint_trend_plots(runs: Sequence[LoadedRun]) -> list[Plot]:
    """Headline metric vs training step for runs that carry a step, one line per training series."""
    stepped = [run for run in runs if run.step is not None]
    if len(stepped) < 2:
        return []
    plots = []
    for task in task_order(stepped):
        metric = headline_metric(stepped, task)
        if metric is None:
            continue
        rating = task_roles(stepped, task).is_rating(metric)
        scale, unit = (1.0, "") if rating else (100.0, " (%)")
        fig, ax = _new_figure(f"{task}: {metric} by checkpoint", "training step", f"{metric}{unit}")
        drawn = False
        for series in dict.fromkeys(run.series for run in stepped):
            points = []
            for run in stepped:
                m = (run.tasks.get(task, {}).get("metrics") or {}).get(metric)
                if run.series == series and isinstance(m, dict) and isinstance(m.get("value"), int | float):
                    value = scale * float(m["value"])
                    lo, hi = (scale * float(c) for c in (m.get("ci95") or [m["value"], m["value"]]))
                    points.append((run.step, value, max(value - lo, 0.0), max(hi - value, 0.0)))
            points.sort(key=lambda p: p[0] or 0)
            if points:
                steps, values, below, above = zip(*points, strict=True)
                ax.errorbar(steps, values, yerr=[below, above], marker="o", capsize=3, label=series)
                drawn = True
        if drawn:
            ax.legend(fontsize=8)
            plots.append(Plot(f"checkpoint_trend-{task}", f"{task}: {metric} vs training step", fig))
    return plots


def make_plots(runs: Sequence[LoadedRun]) -> list[Plot]:
    """Every plot the runs support (a plot needing data no run has is left out)."""
    return [
        *at_k_plots(runs, "pass"),
        *at_k_plots(runs, "cons"),
        *accuracy_vs_length_plots(runs),
        *length_histogram_plots(runs),
        *checkpoint_trend_plots(runs),
    ]


def save_plots(plots: Sequence[Plot], directory: Path) -> list[Path]:
    """Write each plot as PNG and SVG into `directory`; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for plot in plots:
        stem = _safe_name(plot.key)
        png, svg = directory / f"{stem}.png", directory / f"{stem}.svg"
        png.write_bytes(plot.png())
        svg.write_text(plot.svg(), encoding="utf-8")
        written += [png, svg]
    return written


def _safe_name(key: str) -> str:
    return "".join(c if c.isalnum() or c in "-_@." else "_" for c in key)
