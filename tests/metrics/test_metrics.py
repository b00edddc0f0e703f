"""Metrics against brute force, hand-computed examples and the n-in-n-out rule."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from evalkit.errors import EvalkitError
from evalkit.ifeval.accuracy import ifeval_metrics
from evalkit.metrics import (
    MetricInputError,
    MetricValue,
    _WithinResampler,
    cons_at_k_problem,
    cons_metric,
    mean_with_uncertainty,
    paired_bootstrap,
    pass_at_k,
    pass_k_keys,
    pass_k_metric,
)


def brute_pass_at_k(n: int, c: int, k: int) -> Fraction:
    """Share of all k-subsets of n samples (the first c correct) that hold a correct sample."""
    subsets = list(itertools.combinations(range(n), k))
    return Fraction(sum(any(i < c for i in s) for s in subsets), len(subsets))


def brute_majority(votes: list[str | None], correct: list[bool]) -> float:
    """Plain-Python cons on one set of samples: most votes, ties to the earliest first sample."""
    tally: dict[str, list[int]] = {}
    for i, v in enumerate(votes):
        if v is not None:
            tally.setdefault(v, []).append(i)
    if not tally:
        return 0.0
    winner = max(tally.values(), key=lambda members: (len(members), -members[0]))
    return 1.0 if correct[winner[0]] else 0.0


def brute_cons_at_k(votes: list[str | None], correct: list[bool], k: int) -> float:
    subsets = list(itertools.combinations(range(len(votes)), k))
    return sum(brute_majority([votes[i] for i in s], [correct[i] for i in s]) for s in subsets) / len(subsets)


def test_pass_at_k_equals_brute_force_for_every_n_c_k_up_to_10() -> None:
    for n in range(1, 11):
        for c in range(n + 1):
            for k in range(1, n + 1):
                assert pass_at_k(n, c, k) == pytest.approx(float(brute_pass_at_k(n, c, k)), abs=1e-14)


@pytest.mark.parametrize(
    ("n", "c", "k"), [(1000, 1, 1), (5000, 17, 100), (3000, 2990, 5), (2000, 1000, 1000), (4096, 3, 4000)]
)
def test_pass_at_k_matches_exact_rational_for_large_n(n: int, c: int, k: int) -> None:
    exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
    assert pass_at_k(n, c, k) == pytest.approx(float(exact), rel=1e-12)


def test_pass_at_1_is_the_share_correct() -> None:
    assert pass_at_k(64, 17, 1) == pytest.approx(17 / 64, rel=1e-15)
    assert pass_at_k(5, 0, 3) == 0.0
    assert pass_at_k(5, 3, 3) == 1.0  # n - c < k: every 3-subset holds a correct sample


@pytest.mark.parametrize(("n", "c", "k"), [(4, 1, 5), (4, 1, 0), (4, -1, 2), (4, 5, 2)])
def test_pass_at_k_rejects_k_or_c_out_of_range(n: int, c: int, k: int) -> None:
    with pytest.raises(MetricInputError) as info:
        pass_at_k(n, c, k)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, EvalkitError)


def test_pass_k_keys_are_powers_of_two_up_to_n() -> None:
    assert pass_k_keys(1) == [1]
    assert pass_k_keys(4) == [1, 2, 4]
    assert pass_k_keys(6) == [1, 2, 4]
    assert pass_k_keys(64) == [1, 2, 4, 8, 16, 32, 64]
    with pytest.raises(MetricInputError):
        pass_k_keys(0)


def test_mean_with_uncertainty_uses_sample_stderr_and_reproducible_bootstrap() -> None:
    x = [0.0, 0.25, 0.5, 1.0, 1.0, 0.75, 0.1, 0.3, 0.95, 0.6, 0.05]
    result = mean_with_uncertainty(x, seed=3)
    assert result.value == pytest.approx(np.mean(x))
    assert result.stderr == pytest.approx(np.std(x, ddof=1) / math.sqrt(len(x)))
    assert result == mean_with_uncertainty(x, seed=3)
    assert result.ci95 != mean_with_uncertainty(x, seed=4).ci95
    lo, hi = result.ci95
    assert lo < result.value < hi


def test_one_problem_has_zero_stderr_and_a_point_interval() -> None:
    result = mean_with_uncertainty([0.4])
    assert result == MetricValue(0.4, 0.0, (0.4, 0.4))
    assert result.to_dict() == {"value": 0.4, "stderr": 0.0, "ci95": [0.4, 0.4]}


def test_mean_with_uncertainty_rejects_empty_and_nan() -> None:
    with pytest.raises(MetricInputError):
        mean_with_uncertainty([])
    with pytest.raises(MetricInputError):
        mean_with_uncertainty([0.5, float("nan")])


def test_pass_at_1_is_mean_of_problem_means_with_over_problems_stderr() -> None:
    scores = [[1.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.5], [1.0, 1.0, 1.0, 1.0], [0.25, 0.0, 0.0, 0.0]]
    result = pass_k_metric(scores, 1)
    per_problem = np.array(scores).mean(axis=1)
    assert result.value == pytest.approx(per_problem.mean())
    assert result.stderr == pytest.approx(per_problem.std(ddof=1) / math.sqrt(4))
    assert result == pass_k_metric(scores, 1)
    assert result.ci95[0] <= result.value <= result.ci95[1]


def test_pass_at_k_metric_counts_only_exact_ones_as_correct() -> None:
    scores = [[1.0, 0.99, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]
    result = pass_k_metric(scores, 2)
    assert result.value == pytest.approx((pass_at_k(4, 1, 2) + pass_at_k(4, 2, 2)) / 2)


def test_pass_at_k_metric_averages_brute_force_over_problems() -> None:
    rng = np.random.default_rng(5)
    scores = (rng.random((20, 6)) < 0.3).astype(float)
    expected = np.mean([float(brute_pass_at_k(6, int(row.sum()), 3)) for row in scores])
    assert pass_k_metric(scores.tolist(), 3).value == pytest.approx(expected)


def test_fewer_than_n_samples_is_an_error_naming_the_problem() -> None:
    with pytest.raises(MetricInputError, match=r"n in, n out.*problem 2 has 3"):
        pass_k_metric([[1.0] * 4, [0.0] * 4, [1.0] * 3, [0.0] * 4], 1)
    with pytest.raises(MetricInputError, match="problem 1 has 2"):
        cons_metric([(["a"] * 3, [True] * 3), (["a"] * 2, [True] * 2)], 1)
    with pytest.raises(MetricInputError, match="problem 0 has 1"):
        paired_bootstrap([[1.0], [1.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]])


def test_pass_k_metric_rejects_k_above_n_and_values_outside_unit_interval() -> None:
    with pytest.raises(MetricInputError, match="pass@8"):
        pass_k_metric([[1.0] * 4], 8)
    with pytest.raises(MetricInputError, match="problem 1, sample 0"):
        pass_k_metric([[1.0, 0.0], [1.5, 0.0]], 1)
    with pytest.raises(MetricInputError, match="no problems"):
        pass_k_metric([], 1)


def test_cons_at_k_equals_brute_force_over_all_subsets() -> None:
    rng = np.random.default_rng(11)
    labels: list[str | None] = ["a", "b", "c", None]
    for _ in range(60):
        n = int(rng.integers(1, 9))
        votes = [labels[i] for i in rng.integers(0, 4, n)]
        right = str(rng.choice(["a", "b", "c"]))
        correct = [v == right for v in votes]
        for k in range(1, n + 1):
            assert cons_at_k_problem(votes, correct, k) == pytest.approx(brute_cons_at_k(votes, correct, k))


def test_cons_tie_goes_to_the_class_whose_first_sample_came_earliest() -> None:
    assert cons_at_k_problem(["a", "b", "b", "a"], [True, False, False, True], 4) == 1.0
    assert cons_at_k_problem(["b", "a", "a", "b"], [False, True, True, False], 4) == 0.0
    # A non-voting first sample does not give its position to anyone.
    assert cons_at_k_problem([None, "b", "a", "a", "b"], [False, False, True, True, False], 5) == 0.0
    # A strict majority beats an earlier class.
    assert cons_at_k_problem(["b", "a", "a"], [False, True, True], 3) == 1.0


def test_cons_uses_the_earliest_member_of_the_winning_class() -> None:
    assert cons_at_k_problem(["x", "x"], [True, False], 2) == 1.0
    assert cons_at_k_problem(["x", "x"], [False, True], 2) == 0.0


def test_cons_with_no_votes_scores_zero_and_abstentions_do_not_vote() -> None:
    assert cons_at_k_problem([None, None, None], [False, False, False], 3) == 0.0
    assert cons_at_k_problem([None, None, "a"], [False, False, True], 3) == 1.0
    # Subsets of 1 drawn from [None, None, a]: only the subset {a} scores.
    assert cons_at_k_problem([None, None, "a"], [False, False, True], 1) == pytest.approx(1 / 3)


def test_cons_sampled_subsets_are_reproducible_and_close_to_exact() -> None:
    votes: list[str | None] = ["a", "b", "a", None, "c", "b", "a", "b", "b", "a", None, "c"]
    correct = [v == "a" for v in votes]
    exact = cons_at_k_problem(votes, correct, 6)  # C(12, 6) = 924 subsets, enumerated
    sampled = cons_at_k_problem(votes, correct, 6, seed=7, max_subsets=400)
    assert sampled == cons_at_k_problem(votes, correct, 6, seed=7, max_subsets=400)
    assert sampled == pytest.approx(exact, abs=0.08)
    # Pinned: the subsets come from numpy's PCG64 with a fixed seed, the same on every platform.
    assert cons_at_k_problem(votes, correct, 6, seed=7, max_subsets=50) == 0.62


def test_cons_rejects_mismatched_lengths_and_k_out_of_range() -> None:
    with pytest.raises(MetricInputError, match="2 votes but 1"):
        cons_at_k_problem(["a", "b"], [True], 1)
    with pytest.raises(MetricInputError, match="cons@3"):
        cons_at_k_problem(["a", "b"], [True, False], 3)


def test_cons_metric_averages_problems() -> None:
    problems: list[tuple[list[str | None], list[bool]]] = [
        (["a", "b", "a"], [True, False, True]),
        (["b", None, "c"], [False, False, True]),
    ]
    result = cons_metric(problems, 3)
    assert result.value == pytest.approx(0.5)
    assert result.stderr == pytest.approx(0.5)


def test_ifeval_metrics_match_a_hand_computed_example() -> None:
    t, f = True, False
    problems = [
        [([t, f], [t, t]), ([t, t], [t, t])],
        [([f, f, t], [t, f, t]), ([t, f, f], [t, t, t])],
    ]
    m = ifeval_metrics(problems)
    assert list(m) == ["prompt_level_strict", "inst_level_strict", "prompt_level_loose", "inst_level_loose"]
    assert m["prompt_level_strict"].value == pytest.approx(0.25)  # (1/2 + 0) / 2
    assert m["prompt_level_loose"].value == pytest.approx(0.75)  # (1 + 1/2) / 2
    assert m["inst_level_strict"].value == pytest.approx(0.5)  # (1.5 + 1) / 5
    assert m["inst_level_loose"].value == pytest.approx(0.9)  # (2 + 2.5) / 5
    assert m["prompt_level_strict"].stderr == pytest.approx(0.25)
    # Ratio estimator: residuals 1.5 - 0.5*2 = 0.5 and 1 - 0.5*3 = -0.5, sqrt(0.5 / 2) / 2.5.
    assert m["inst_level_strict"].stderr == pytest.approx(0.2)


def test_ifeval_inst_level_stderr_agrees_with_bootstrap_spread() -> None:
    rng = np.random.default_rng(2)
    problems = []
    for _ in range(400):
        m = int(rng.integers(1, 5))
        rate = rng.random()
        problems.append([(list(rng.random(m) < rate), list(rng.random(m) < rate)) for _ in range(2)])
    result = ifeval_metrics(problems)["inst_level_strict"]
    lo, hi = result.ci95
    assert (hi - lo) / (2 * 1.96) == pytest.approx(result.stderr, rel=0.15)


def test_ifeval_rejects_ragged_flags() -> None:
    with pytest.raises(MetricInputError, match="prompt 0"):
        ifeval_metrics([[([True], [True, False])]])
    with pytest.raises(MetricInputError, match="prompt 0"):
        ifeval_metrics([[([], [])]])
    with pytest.raises(MetricInputError, match="problem 1 has 1"):
        ifeval_metrics([[([True], [True])] * 2, [([True], [True])]])


def test_paired_bootstrap_of_identical_runs_finds_nothing() -> None:
    rng = np.random.default_rng(0)
    run = (rng.random((40, 8)) < 0.5).astype(float).tolist()
    result = paired_bootstrap(run, run, n_boot=2000)
    assert result.diff == 0.0
    assert result.stderr == 0.0
    assert result.p_value > 0.9
    assert result.ci[0] < 0.0 < result.ci[1]


def test_paired_bootstrap_detects_a_shift_in_both_directions() -> None:
    rng = np.random.default_rng(1)
    rates = rng.random(60)
    a = (rng.random((60, 8)) < rates[:, None] * 0.5).astype(float).tolist()
    b = (rng.random((60, 8)) < rates[:, None]).astype(float).tolist()
    up = paired_bootstrap(a, b, n_boot=2000)
    assert up.diff > 0.1
    assert up.p_value < 0.01
    assert up.ci[0] > 0.0
    assert up.p_drop > 0.99
    down = paired_bootstrap(b, a, n_boot=2000, max_drop=0.01)
    assert down.diff == pytest.approx(-up.diff)
    assert down.p_drop < 0.01
    assert paired_bootstrap(b, a, n_boot=2000, max_drop=0.5).p_drop > 0.99


def test_paired_bootstrap_is_reproducible_and_allows_different_n_per_run() -> None:
    a = [[1.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.0, 1.0], [1.0, 1.0, 0.0, 0.0]]
    b = [[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    first = paired_bootstrap(a, b, n_boot=500, seed=9)
    assert first == paired_bootstrap(a, b, n_boot=500, seed=9)
    assert first.diff == pytest.approx(0.5 - 0.5)
    assert first.to_dict()["ci"] == list(first.ci)


def test_paired_bootstrap_rejects_mismatched_problems_and_bad_confidence() -> None:
    with pytest.raises(MetricInputError, match="same problems"):
        paired_bootstrap([[1.0]], [[1.0], [0.0]])
    with pytest.raises(MetricInputError, match="confidence"):
        paired_bootstrap([[1.0]], [[1.0]], confidence=95)


@pytest.mark.parametrize(
    "rows",
    [
        [[0.0, 1.0, 1.0, 0.0, 1.0]],  # two levels: one binomial
        [[0.0, 0.5, 1.0, 0.5, 1.0], [0.25, 0.0, 0.0, 1.0, 1.0]],  # four levels: chained binomials
        [[0.1, 0.9, 0.35, 0.6, 0.2], [0.15, 0.05, 0.7, 0.8, 0.45]],  # ten levels > n: index draws
    ],
)
def test_within_problem_resampling_matches_resampling_with_replacement(rows: list[list[float]]) -> None:
    # Whatever the path, a draw must be the mean of n values resampled with replacement from the
    # chosen problem: expectation its mean, variance its population variance / n.
    x = np.array(rows)
    draws = _WithinResampler(x).draw(np.zeros((200_000, 1), dtype=np.intp), np.random.default_rng(0))[:, 0]
    assert draws.mean() == pytest.approx(x[0].mean(), abs=2e-3)
    assert draws.var() == pytest.approx(x[0].var() / x.shape[1], rel=0.03)


def test_a_given_n_catches_runs_where_every_problem_is_short() -> None:
    with pytest.raises(
        MetricInputError, match=r"expected n=4 samples per problem, but problem 0 has 3, problem 1 has 3"
    ):
        pass_k_metric([[1.0] * 3, [0.0] * 3], 1, n=4)
    with pytest.raises(MetricInputError, match="expected n=2"):
        cons_metric([(["a"], [True])], 1, n=2)
    with pytest.raises(MetricInputError, match="expected n=2"):
        ifeval_metrics([[([True], [True])]], n=2)
    assert pass_k_metric([[1.0, 0.0]], 1, n=2).value == 0.5
