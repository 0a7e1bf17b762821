"""The budgeted set optimiser: never over budget, at least as good as taking creators by rank,
respects max_overlap, and counts an unknown overlap as no penalty (never a guess)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.shortlist import conflicts, duplicate_matrix, exact_plan, greedy_plan, pair_penalties, plan, rank_plan, set_value


def _case(seed: int, n: int = 12, *, unknown: float = 0.2):
    rng = np.random.default_rng(seed)
    values = np.sort(rng.uniform(0.05, 1.0, n))[::-1]  # rank order: best first
    costs = rng.uniform(100, 2500, n).round(2)
    jac = rng.uniform(0, 0.5, (n, n)) * (rng.uniform(size=(n, n)) < 0.4)
    jac = np.triu(jac, 1)
    jac = jac + jac.T
    np.fill_diagonal(jac, 1.0)
    hidden = np.triu(rng.uniform(size=(n, n)) < unknown, 1)
    jac[hidden | hidden.T] = np.nan
    dup = duplicate_matrix(rng.normal(size=(n, 8)), 0.5)
    return values, costs, jac, dup


def _brute(values, costs, budget, penalties, banned) -> float:
    best = 0.0
    n = len(values)
    for r in range(1, n + 1):
        for s in itertools.combinations(range(n), r):
            if math.fsum(costs[list(s)]) <= budget and not any(banned[i, j] for i in s for j in s):
                best = max(best, set_value(s, values, penalties))
    return best


@pytest.mark.parametrize("seed", range(8))
def test_exact_is_the_optimum_and_beats_or_equals_rank_and_greedy(seed: int) -> None:
    values, costs, jac, dup = _case(seed, n=11)
    budget = 4000.0
    pen = pair_penalties(values, jac, dup, overlap_penalty=1.0, duplicate_penalty=1.0)
    banned = conflicts(jac, None)
    best = plan(values, costs, budget, pen, banned)
    assert best.method == "exact"
    assert best.value == pytest.approx(_brute(values, costs, budget, pen, banned), abs=1e-9)
    assert best.value >= rank_plan(values, costs, budget, pen).value - 1e-12
    assert best.value >= greedy_plan(values, costs, budget, pen, banned).value - 1e-12
    assert best.cost <= budget


@pytest.mark.parametrize("seed", range(4))
def test_max_overlap_is_respected_and_unknown_pairs_pass(seed: int) -> None:
    values, costs, jac, dup = _case(seed, n=10, unknown=0.3)
    pen = pair_penalties(values, jac, dup, overlap_penalty=1.0, duplicate_penalty=1.0)
    banned = conflicts(jac, 0.1)
    for p in (plan(values, costs, 6000.0, pen, banned), greedy_plan(values, costs, 6000.0, pen, banned)):
        for i, j in itertools.combinations(p.chosen, 2):
            assert np.isnan(jac[i, j]) or jac[i, j] <= 0.1
    assert plan(values, costs, 6000.0, pen, banned).value == pytest.approx(_brute(values, costs, 6000.0, pen, banned), abs=1e-9)


def test_unknown_overlap_adds_no_penalty() -> None:
    values = np.array([0.8, 0.6])
    unknown = np.array([[1.0, np.nan], [np.nan, 1.0]])
    known = np.array([[1.0, 0.5], [0.5, 1.0]])
    zero = np.zeros((2, 2))
    assert pair_penalties(values, unknown, zero, overlap_penalty=1, duplicate_penalty=1)[0, 1] == 0.0
    assert pair_penalties(values, known, zero, overlap_penalty=1, duplicate_penalty=1)[0, 1] == pytest.approx(0.3)
    assert not conflicts(unknown, 0.0).any()


def test_a_shared_audience_keeps_only_the_larger_value() -> None:
    values = np.array([0.9, 0.8, 0.3])
    jac = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    pen = pair_penalties(values, jac, np.zeros((3, 3)), overlap_penalty=1, duplicate_penalty=1)
    costs = np.array([100.0, 100.0, 100.0])
    p = plan(values, costs, 200.0, pen)
    assert p.chosen == (0, 2)  # the rank baseline takes the two with the same audience
    assert rank_plan(values, costs, 200.0, pen).chosen == (0, 1)
    assert p.value == pytest.approx(1.2) and rank_plan(values, costs, 200.0, pen).value == pytest.approx(0.9)


def test_greedy_keeps_the_best_single_creator_when_it_is_worth_more() -> None:
    values = np.array([1.0, 0.3, 0.3])
    costs = np.array([1000.0, 100.0, 100.0])
    pen = np.zeros((3, 3))
    g = greedy_plan(values, costs, 1000.0, pen)
    assert g.chosen == (0,) and g.value == 1.0


def test_refuses_unknown_costs_and_bad_budgets() -> None:
    with pytest.raises(ValueError, match="cost"):
        plan(np.array([0.5]), np.array([np.nan]), 100.0, np.zeros((1, 1)))
    with pytest.raises(ValueError, match="budget"):
        plan(np.array([0.5]), np.array([10.0]), 0.0, np.zeros((1, 1)))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.0, 1.0), st.floats(0.01, 5000.0)), min_size=1, max_size=9),
    st.floats(0.01, 10000.0),
    st.integers(0, 2**16),
)
def test_never_over_budget(items, budget, seed) -> None:
    values = np.array([v for v, _ in items])
    costs = np.array([c for _, c in items])
    rng = np.random.default_rng(seed)
    n = len(items)
    jac = rng.uniform(0, 1, (n, n))
    jac = (jac + jac.T) / 2
    pen = pair_penalties(values, jac, np.zeros((n, n)), overlap_penalty=1, duplicate_penalty=0)
    banned = conflicts(jac, 0.5)
    for p in (plan(values, costs, budget, pen, banned), greedy_plan(values, costs, budget, pen, banned), rank_plan(values, costs, budget, pen)):
        assert math.fsum(costs[list(p.chosen)]) <= budget
        assert p.cost <= budget
    exact = exact_plan(values, costs, budget, pen, banned)
    # HiGHS proves optimality to its absolute MIP gap (mip_abs_gap, 1e-6 by default; scipy's milp does
    # not expose it): a set worth less than that can be left out ("nothing" against 6e-8 here once).
    assert exact is None or exact.value >= greedy_plan(values, costs, budget, pen, banned).value - 1e-6
