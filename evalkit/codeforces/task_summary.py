"""The summary.json entry of a Codeforces task: rating, percentile, per-contest table, solve rates.

Virtual participant i (sample index i) submits sample i of every problem of a contest. Its contest
result gives a place among the contest's rated participants and a contest rating R_c
(`evalkit.codeforces.rating`). The reported rating is the mean of R_c over participants and
contests; its uncertainty is a bootstrap that resamples participants and contests independently.
The percentile (a fraction in [0, 1], like every other metric value) is that of the mean rating
among all rated users, and its interval maps the rating's interval through the same population.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from evalkit import metrics
from evalkit.codeforces.layout import store_dir
from evalkit.codeforces.rating import codeforces_percentile, codeforces_rating, load_population, population_file
from evalkit.codeforces.scoring import contest_result, place
from evalkit.codeforces.standings import Contest, load_contest
from evalkit.errors import EvalkitError
from evalkit.hooks import TaskScores
from evalkit.tasks import Task
from evalkit.types import Sample, Score

N_BOOT = 2000
BOOT_SEED = 0


def summary_entry(graded: TaskScores, data_dir: Path | None) -> dict[str, Any]:
    """The Codeforces task's summary hook, with its standings and population read under `data_dir`.

    The summary stage computes the rates the same way for every task, so this entry's own are left out.
    """
    entry = summarize_codeforces(graded.task, graded.samples, graded.scores, data_dir)
    return {k: v for k, v in entry.items() if k != "rates"}


def summarize_codeforces(
    task: Task, samples: Sequence[Sample], scores_by_problem: Mapping[str, Sequence[Score]], data_dir: Path | None
) -> dict[str, Any]:
    """The task entry: {"n", "num_problems", "metrics", "rates", "breakdown", "contests"} (or an "error")."""
    n = _common_n(scores_by_problem)
    entry: dict[str, Any] = {"n": n, "num_problems": len(samples), "metrics": {}, "rates": _rates(scores_by_problem)}
    errors = [s for scores in scores_by_problem.values() for s in scores if s.verdict == "error"]
    if errors:
        entry["error"] = (
            f"{len(errors)} samples could not be judged (sandbox or data failures, e.g. '{errors[0].explanation}'). "
            "They are not wrong answers: fix the cause and re-grade with 'evalkit grade RUN_DIR'."
        )
        return entry
    try:
        entry.update(_rated(task, samples, scores_by_problem, data_dir, n))
    except EvalkitError as e:
        entry["error"] = str(e)
    return entry


def _rated(
    task: Task, samples: Sequence[Sample], scores: Mapping[str, Sequence[Score]], data_dir: Path | None, n: int
) -> dict[str, Any]:
    store = store_dir(data_dir)
    by_contest: dict[int, list[Sample]] = {}
    for sample in samples:
        by_contest.setdefault(int(sample.metadata["contest_id"]), []).append(sample)
    contests = [load_contest(store, cid) for cid in by_contest]
    ratings = np.zeros((n, len(contests)))
    table = []
    for c, contest in enumerate(contests):
        row, ratings[:, c] = _contest_row(contest, by_contest[contest.id], scores, n)
        table.append(row)
    rating = _rating_metric(ratings)
    out_metrics: dict[str, Any] = {
        "rating": rating,
        "pass@1": metrics.pass_k_metric([[s.value for s in scores[x.id]] for x in samples], 1).to_dict(),
    }
    notes: list[str] = []
    unverifiable = sum(len(row["unverifiable"]) for row in table)
    if unverifiable:
        notes.append(
            f"{unverifiable} problem(s) judged on tests open-r1 does not consider complete (codeforces@problems=all); "
            "see contests[].unverifiable"
        )
    try:
        population_path = population_file(data_dir)
    except EvalkitError as e:
        notes.append(f"no percentile: {e}")
    else:
        population = load_population(population_path)

        def share(x: float) -> float:
            return codeforces_percentile(x, population) / 100.0

        boot_shares = np.searchsorted(population, np.asarray(rating["_boot"]), side="left") / population.size
        out_metrics["percentile"] = {
            "value": share(rating["value"]),
            "stderr": float(np.std(boot_shares, ddof=1)),
            "ci95": [share(rating["ci95"][0]), share(rating["ci95"][1])],
        }
        notes.append(f"percentile population: {population_path.name} ({population.size} rated users)")
    rating.pop("_boot", None)
    return {
        "metrics": out_metrics,
        "breakdown": {"problem": _solve_rates(samples, scores)},
        "contests": table,
        "notes": notes,
    }


def _contest_row(
    contest: Contest, samples: Sequence[Sample], scores: Mapping[str, Sequence[Score]], n: int
) -> tuple[dict[str, Any], list[int]]:
    """One contest's table row and the R_c of each virtual participant."""
    indices = {str(s.metadata["index"]): s.id for s in samples}
    excluded: dict[str, str] = {}
    for s in samples:
        excluded.update(s.metadata.get("contest_excluded") or {})
    participants = []
    cache: dict[int, int] = {}
    for i in range(n):
        accepted: dict[str, int | None] = {
            index: (0 if scores[sid][i].value >= 1.0 else None) for index, sid in indices.items()
        }
        result = contest_result(contest, accepted)
        m = place(contest, result)
        if m not in cache:
            cache[m] = codeforces_rating(m, contest.pre_ratings)
        participants.append({"score": result.points, "penalty": result.penalty, "place": m, "rating": cache[m]})
    known = {p.index for p in contest.problems}
    row = {
        "contest_id": contest.id,
        "name": contest.name,
        "type": contest.type,
        "num_rated": contest.num_rated,
        "num_problems": len(contest.problems),
        "evaluated": sorted(indices),
        "excluded": {k: v for k, v in sorted(excluded.items()) if k in known},
        # Judged although open-r1 cannot verify them (truncated official tests, no generated tests):
        # only with codeforces@problems=all.
        "unverifiable": sorted(str(s.metadata["index"]) for s in samples if s.metadata.get("verifiable") is False),
        "missing": sorted(known - set(indices) - set(excluded)),
        "score": float(np.mean([p["score"] for p in participants])),
        "place": float(np.mean([p["place"] for p in participants])),
        "rating": float(np.mean([p["rating"] for p in participants])),
        "participants": participants,
    }
    return row, [int(p["rating"]) for p in participants]


def _rating_metric(ratings: np.ndarray[Any, np.dtype[np.float64]]) -> dict[str, Any]:
    """Mean rating with a bootstrap over participants (rows) and contests (columns)."""
    n, c = ratings.shape
    rng = np.random.default_rng(BOOT_SEED)
    boot = np.empty(N_BOOT)
    for b in range(N_BOOT):
        rows = rng.integers(0, n, n)
        cols = rng.integers(0, c, c)
        boot[b] = ratings[np.ix_(rows, cols)].mean()
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return {
        "value": float(ratings.mean()),
        "stderr": float(boot.std(ddof=1)),
        "ci95": [float(lo), float(hi)],
        "_boot": boot.tolist(),
    }


def _solve_rates(samples: Sequence[Sample], scores: Mapping[str, Sequence[Score]]) -> dict[str, Any]:
    """Per problem: solve rate and verdict counts; also as a one-problem group's pass@1, the shape
    every breakdown has in summary.json (so reports show it like any other breakdown)."""
    out = {}
    for s in samples:
        per = scores[s.id]
        rate = sum(x.value >= 1.0 for x in per) / len(per)
        out[s.id] = {
            "title": s.metadata.get("title"),
            "difficulty": s.metadata.get("rating"),
            "solve_rate": rate,
            "verdicts": dict(Counter(x.verdict for x in per)),
            "num_problems": 1,
            "metrics": {"pass@1": {"value": rate}},
        }
    return out


def _rates(scores: Mapping[str, Sequence[Score]]) -> dict[str, float]:
    verdicts = Counter(s.verdict for per in scores.values() for s in per)
    total = sum(verdicts.values()) or 1
    return {
        key: verdicts[key] / total for key in ("no_answer", "unclosed_think", "CE", "TLE", "MLE", "RE", "WA", "error")
    }


def _common_n(scores: Mapping[str, Sequence[Score]]) -> int:
    sizes = {len(v) for v in scores.values()}
    if len(sizes) != 1:
        raise EvalkitError(
            f"Codeforces summary needs the same number of samples per problem, got sizes {sorted(sizes)}."
        )
    return sizes.pop()
