"""A task's headline metric and its rating-scale metrics: the one definition `run`'s table, the report,
compare and gate all read.

The task declares both (`Task.headline`, `Task.rating_metrics`); the run's manifest records them per
task, so a run directory says how to read its own summary. Runs written before the manifest carried
them (their task entries have a `metric_family` instead) get the declaration of the installed task of
the same name, and a task evalkit does not know leads with pass@1.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from evalkit.errors import EvalkitError

if TYPE_CHECKING:
    from evalkit.tasks import Task

DEFAULT_HEADLINE = "pass@1"


@dataclass(frozen=True)
class MetricRoles:
    """Which metric leads a task's numbers, and which of its metrics are ratings (points) not fractions."""

    headline: str = DEFAULT_HEADLINE
    ratings: frozenset[str] = frozenset()

    def is_rating(self, metric: str) -> bool:
        """Whether `metric` is on a rating scale (tolerances in rating points) rather than a fraction."""
        return metric in self.ratings

    def lead(self, reported: Iterable[str]) -> str | None:
        """The metric to lead with among those `reported`: the headline, else the first in table order."""
        keys = set(reported)
        if self.headline in keys:
            return self.headline
        return min(keys, key=metric_sort_key) if keys else None

    def manifest_fields(self) -> dict[str, Any]:
        """The task entry's manifest fields that record these roles."""
        return {"headline": self.headline, "rating_metrics": sorted(self.ratings)}


def metric_roles(task: Task) -> MetricRoles:
    """The roles `task` declares."""
    return MetricRoles(task.headline, frozenset(task.rating_metrics))


def recorded_roles(name: str, entry: Mapping[str, Any]) -> MetricRoles:
    """The roles of task `name` as its manifest entry records them (older runs: see the module docstring)."""
    headline, ratings = entry.get("headline"), entry.get("rating_metrics")
    if isinstance(headline, str) and isinstance(ratings, list):
        return MetricRoles(headline, frozenset(str(r) for r in ratings))
    return installed_roles(name)


@functools.lru_cache(maxsize=64)
def installed_roles(name: str) -> MetricRoles:
    """The roles the installed task `name` declares with its default options (pass@1 for an unknown task)."""
    from evalkit.tasks import get_task

    try:
        return metric_roles(get_task(name))
    except EvalkitError:
        return MetricRoles()


def metric_sort_key(metric: str) -> tuple[int, int, str]:
    """pass@1, pass@2, ..., cons@k ..., then named metrics: the order tables and plots use."""
    match = re.fullmatch(r"(pass|cons)@(\d+)", metric)
    if match:
        return (0 if match.group(1) == "pass" else 1, int(match.group(2)), "")
    return (2, 0, metric)
