"""A contest's official standings joined with its rating changes: the field a virtual participant enters.

Only rated rows count: a standings row is kept when its single member's handle has a rating change
(official contestants who were rated). The pre-contest ratings are those of the same participants,
with newcomers mapped as Codeforces rated them (`rating.effective_pre_ratings`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from evalkit.codeforces import layout
from evalkit.codeforces.rating import FloatArray, effective_pre_ratings
from evalkit.errors import EvalkitError

ContestType = Literal["CF", "ICPC"]


@dataclass(frozen=True)
class ContestProblem:
    """One problem of a contest; `points` is its maximum score in CF-scored rounds (None in ICPC rounds)."""

    index: str
    name: str
    points: float | None


@dataclass(frozen=True)
class Contest:
    """The rated field of one contest: each rated row's points and penalty, and everyone's pre-rating."""

    id: int
    name: str
    type: ContestType
    start_time_s: int | None
    problems: tuple[ContestProblem, ...]
    points: FloatArray
    penalty: FloatArray
    pre_ratings: tuple[int, ...]

    @property
    def num_rated(self) -> int:
        return len(self.pre_ratings)


def load_contest(store: Path, contest_id: int) -> Contest:
    """Read `contests/<id>/standings.json` and `rating_changes.json` from the Codeforces data folder."""
    standings = _api_result(layout.standings_path(store, contest_id), contest_id)
    changes = _api_result(layout.rating_changes_path(store, contest_id), contest_id)
    return contest_from_api(contest_id, standings, changes, source=str(layout.contest_dir(store, contest_id)))


def contest_from_api(contest_id: int, standings: Any, changes: Any, *, source: str = "<memory>") -> Contest:
    """Build a Contest from the `result` objects of contest.standings and contest.ratingChanges."""
    try:
        info = standings["contest"]
        rows = standings["rows"]
        problems = tuple(
            ContestProblem(index=str(p["index"]), name=str(p.get("name", "")), points=_points(p))
            for p in standings["problems"]
        )
        old_rating = {str(c["handle"]): int(c["oldRating"]) for c in changes}
        update_times = [int(c["ratingUpdateTimeSeconds"]) for c in changes if "ratingUpdateTimeSeconds" in c]
        kept = [(float(r["points"]), float(r.get("penalty", 0)), _rated_handle(r, old_rating)) for r in rows]
    except (KeyError, TypeError, ValueError) as e:
        raise EvalkitError(
            f"Malformed Codeforces data for contest {contest_id} in {source}: {type(e).__name__}: {e}. "
            f"Re-fetch it with 'evalkit codeforces fetch --contests {contest_id}'."
        ) from e
    contest_type = info.get("type")
    if contest_type not in ("CF", "ICPC"):
        raise EvalkitError(
            f"Contest {contest_id} ({info.get('name', '?')}) uses '{contest_type}' scoring; only CF-scored and "
            "ICPC-style rounds can be rated. Drop it from the task's contests."
        )
    if contest_type == "CF" and any(p.points is None for p in problems):
        raise EvalkitError(f"Contest {contest_id} is CF-scored but its standings lack problem points ({source}).")
    rated = [(p, pen, h) for p, pen, h in kept if h is not None]
    if not rated:
        raise EvalkitError(
            f"Contest {contest_id} has no rated participants in {source} (unrated contest, or standings and rating "
            "changes from different contests). Choose a rated contest or re-fetch it."
        )
    start = info.get("startTimeSeconds")
    start_s = int(start) if start is not None else (min(update_times) if update_times else None)
    return Contest(
        id=contest_id,
        name=str(info.get("name", "")),
        type=contest_type,
        start_time_s=start_s,
        problems=problems,
        points=np.array([p for p, _, _ in rated], dtype=np.float64),
        penalty=np.array([pen for _, pen, _ in rated], dtype=np.float64),
        pre_ratings=tuple(effective_pre_ratings([old_rating[h] for _, _, h in rated], start_s)),
    )


def _points(problem: dict[str, Any]) -> float | None:
    points = problem.get("points")
    return None if points is None else float(points)


def _rated_handle(row: dict[str, Any], old_rating: dict[str, int]) -> str | None:
    party = row["party"]
    members = party["members"]
    if party.get("participantType", "CONTESTANT") != "CONTESTANT" or len(members) != 1:
        return None
    handle = str(members[0]["handle"])
    return handle if handle in old_rating else None


def _api_result(path: Path, contest_id: int) -> Any:
    """The `result` of a stored API response (a bare result is accepted too)."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise EvalkitError(
            f"Missing Codeforces data file '{path}'. Fetch it with "
            f"'evalkit codeforces fetch --contests {contest_id} --data-dir DIR' (needs network once), then pass the "
            "same --data-dir."
        ) from e
    except (OSError, json.JSONDecodeError) as e:
        raise EvalkitError(f"Cannot read Codeforces data file '{path}': {e}. Re-fetch contest {contest_id}.") from e
    if isinstance(payload, dict) and "status" in payload:
        if payload.get("status") != "OK" or "result" not in payload:
            raise EvalkitError(f"'{path}' holds a failed API response ({payload.get('comment', 'no comment')}).")
        return payload["result"]
    return payload
