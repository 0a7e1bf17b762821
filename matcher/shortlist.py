"""Pick the set of creators worth most within a budget, penalising shared audiences and duplicate content.

The value of a set ``S`` of candidates is

    f(S) = Σ_{i∈S} v_i − Σ_{i<j∈S} P_ij,   P_ij = min(v_i, v_j) · min(1, α·J_ij + β·D_ij)

where ``v_i`` is creator ``i``'s match score (topic, engagement and trust already in it), ``J_ij``
the estimated audience overlap (Jaccard of commenters; an unknown overlap adds nothing, it is
never guessed), ``D_ij`` how near-duplicate their content is (the cosine of their mean post vectors
above a floor, scaled to [0, 1]), and ``α``, ``β`` the config's ``overlap_penalty`` and
``duplicate_penalty``. A pair that shares its whole audience thus adds only the larger of its two
values. The set must cost at most the budget, and no two creators whose known overlap is above
``max_overlap`` may both be in it.

:func:`plan` solves this exactly as a 0-1 integer program (each pair's penalty linearised with a
variable ``y_ij ≥ x_i + x_j − 1``) with HiGHS through :func:`scipy.optimize.milp`, for up to
``exact_max`` candidates; when the solver reaches ``node_limit`` (or, as a safety net, ``time_limit``)
first, the better of its best set so far and the greedy set is taken. The node limit, unlike a time
limit, gives the same set on any machine, so a stored shortlist equals a live one. Beyond ``exact_max`` it uses :func:`greedy_plan`: add the candidate of best marginal value per unit of cost while it fits, then
keep that set or the best single affordable candidate, whichever is worth more. For a monotone
submodular value (the penalties never outweigh a creator's own value) this is the classic
budgeted-maximisation heuristic with a constant-factor guarantee (Khuller, Moss and Naor 1999;
Lin and Bilmes 2010). :func:`rank_plan` is the baseline it is benchmarked against: take creators in
rank order, skipping those that no longer fit.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Plan", "pair_penalties", "duplicate_matrix", "set_value", "conflicts", "plan", "exact_plan", "greedy_plan", "rank_plan"]

logger = logging.getLogger(__name__)

#: The relative gap at which the solver calls its set optimal. HiGHS's default (1e-4) could leave a
#: set a hair below one taken by rank; the sets here are small enough to close the gap fully.
MIP_GAP = 1e-9


@dataclass(frozen=True)
class Plan:
    """A chosen set: candidate positions (in the order given), its value and cost, and how it was found.

    ``method`` is ``exact`` (proven optimal), ``solver-limit`` (the solver's best when it reached its
    node or time limit), ``greedy`` or ``rank``.
    """

    chosen: tuple[int, ...]
    value: float
    cost: float
    method: str


def duplicate_matrix(vectors: np.ndarray, floor: float) -> np.ndarray:
    """How near-duplicate each pair's content is: ``clip((cos − floor) / (1 − floor), 0, 1)`` of
    their (mean post) vectors; 0 on the diagonal and for a zero vector."""
    v = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(v, axis=1)
    unit = np.divide(v, norms[:, None], out=np.zeros_like(v), where=norms[:, None] > 0)
    cos = unit @ unit.T
    out = np.clip((cos - floor) / (1.0 - floor), 0.0, 1.0)
    np.fill_diagonal(out, 0.0)
    return out


def pair_penalties(values: np.ndarray, overlap: np.ndarray, duplicate: np.ndarray, *, overlap_penalty: float, duplicate_penalty: float) -> np.ndarray:
    """``P_ij = min(v_i, v_j) · min(1, α·J_ij + β·D_ij)``, with an unknown (NaN) overlap counted as 0; diagonal 0."""
    v = np.asarray(values, dtype=np.float64)
    share = np.minimum(1.0, overlap_penalty * np.nan_to_num(np.asarray(overlap, dtype=np.float64), nan=0.0) + duplicate_penalty * np.asarray(duplicate, dtype=np.float64))
    p = np.minimum.outer(v, v) * np.clip(share, 0.0, 1.0)
    np.fill_diagonal(p, 0.0)
    return p


def conflicts(overlap: np.ndarray, max_overlap: float | None) -> np.ndarray:
    """Pairs that may not both be chosen: known overlap above ``max_overlap`` (None: no pair)."""
    n = overlap.shape[0]
    if max_overlap is None:
        return np.zeros((n, n), dtype=bool)
    with np.errstate(invalid="ignore"):
        out = np.nan_to_num(overlap, nan=-1.0) > max_overlap
    np.fill_diagonal(out, False)
    return out


def set_value(chosen: Sequence[int], values: np.ndarray, penalties: np.ndarray) -> float:
    """``f(S)``: the chosen candidates' values less every pair's penalty."""
    idx = np.asarray(list(chosen), dtype=np.int64)
    if idx.size == 0:
        return 0.0
    sub = penalties[np.ix_(idx, idx)]
    return float(np.asarray(values, dtype=np.float64)[idx].sum() - np.triu(sub, 1).sum())


def _fits(total: float, cost: float, budget: float) -> bool:
    return math.fsum((total, cost)) <= budget


def _total(chosen: Sequence[int], costs: np.ndarray) -> float:
    return math.fsum(float(costs[i]) for i in chosen)


def _check(values: np.ndarray, costs: np.ndarray, budget: float) -> None:
    if values.ndim != 1 or costs.shape != values.shape:
        raise ValueError("values and costs must be 1-d arrays of the same length")
    if not (np.isfinite(costs).all() and (costs > 0).all()):
        raise ValueError("every cost must be a finite number > 0; leave creators with an unknown price out before planning")
    if not np.isfinite(values).all():
        raise ValueError("every value must be finite")
    if not (math.isfinite(budget) and budget > 0):
        raise ValueError(f"budget is {budget!r}; give a finite amount > 0")


def rank_plan(values: np.ndarray, costs: np.ndarray, budget: float, penalties: np.ndarray) -> Plan:
    """The baseline: candidates in the order given (rank order), each taken if it still fits the budget."""
    values, costs = np.asarray(values, dtype=np.float64), np.asarray(costs, dtype=np.float64)
    _check(values, costs, budget)
    chosen: list[int] = []
    total = 0.0
    for i in range(len(values)):
        if _fits(total, costs[i], budget):
            chosen.append(i)
            total = _total(chosen, costs)
    return Plan(tuple(chosen), set_value(chosen, values, penalties), _total(chosen, costs), "rank")


def greedy_plan(values: np.ndarray, costs: np.ndarray, budget: float, penalties: np.ndarray, banned: np.ndarray | None = None) -> Plan:
    """Greedy by marginal value per cost (only positive gains, only candidates that fit and conflict
    with none chosen), then the better of that set and the best single affordable candidate."""
    values, costs = np.asarray(values, dtype=np.float64), np.asarray(costs, dtype=np.float64)
    _check(values, costs, budget)
    n = len(values)
    banned = np.zeros((n, n), dtype=bool) if banned is None else banned
    chosen: list[int] = []
    total = 0.0
    gain = values.copy()  # marginal value of each candidate given the chosen set
    open_ = np.ones(n, dtype=bool)
    while True:
        ok = open_ & (gain > 0) & np.array([_fits(total, costs[i], budget) for i in range(n)], dtype=bool)
        if not ok.any():
            break
        ratio = np.where(ok, gain / costs, -np.inf)
        i = int(np.argmax(ratio))  # ties: the better-ranked candidate
        chosen.append(i)
        total = _total(chosen, costs)
        open_[i] = False
        open_ &= ~banned[i]
        gain -= penalties[i]
    best = Plan(tuple(chosen), set_value(chosen, values, penalties), total, "greedy")
    single = [i for i in range(n) if costs[i] <= budget and values[i] > best.value]
    if single:
        i = max(single, key=lambda j: (values[j], -j))
        best = Plan((i,), float(values[i]), float(costs[i]), "greedy")
    return best


def exact_plan(
    values: np.ndarray, costs: np.ndarray, budget: float, penalties: np.ndarray, banned: np.ndarray | None = None, *,
    node_limit: int = 1000, time_limit: float = 30.0,
) -> Plan | None:
    """The optimal set by a 0-1 integer program (HiGHS), method ``exact``; when the solver reaches
    ``node_limit`` or ``time_limit`` first, its best set so far, method ``solver-limit``; None when it has none,
    or its set breaks the budget within the solver's tolerance."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    values, costs = np.asarray(values, dtype=np.float64), np.asarray(costs, dtype=np.float64)
    _check(values, costs, budget)
    n = len(values)
    if n == 0:
        return Plan((), 0.0, 0.0, "exact")
    banned = np.zeros((n, n), dtype=bool) if banned is None else banned
    iu, ju = np.triu_indices(n, 1)
    pen = penalties[iu, ju]
    with_pen = np.flatnonzero(pen > 0)
    ban = np.flatnonzero(banned[iu, ju])
    m = len(with_pen)
    c = np.concatenate([-values, pen[with_pen]])
    rows, cols, data, lo, hi = [], [], [], [], []
    r = 0
    # Budget, in units of the budget so the solver's tolerance is relative.
    rows += [r] * n
    cols += list(range(n))
    data += list(costs / budget)
    lo.append(-np.inf)
    hi.append(1.0)
    r += 1
    for k, p in enumerate(with_pen):  # y_p - x_i - x_j >= -1
        rows += [r, r, r]
        cols += [n + k, int(iu[p]), int(ju[p])]
        data += [1.0, -1.0, -1.0]
        lo.append(-1.0)
        hi.append(np.inf)
        r += 1
    for p in ban:  # x_i + x_j <= 1
        rows += [r, r]
        cols += [int(iu[p]), int(ju[p])]
        data += [1.0, 1.0]
        lo.append(-np.inf)
        hi.append(1.0)
        r += 1
    a = coo_matrix((data, (rows, cols)), shape=(r, n + m)).tocsr()
    integrality = np.concatenate([np.ones(n), np.zeros(m)])
    res = milp(c, constraints=LinearConstraint(a, lo, hi), integrality=integrality, bounds=Bounds(0, 1), options={"time_limit": float(time_limit), "node_limit": int(node_limit), "mip_rel_gap": MIP_GAP})
    if res.x is None:
        logger.info("the exact shortlist solver found no set (%s); using the greedy set", res.message)
        return None
    chosen = [i for i in range(n) if res.x[i] > 0.5]
    total = _total(chosen, costs)
    if total > budget or any(banned[i, j] for i in chosen for j in chosen):
        logger.info("the exact shortlist solver's set breaks a constraint within its tolerance; using the greedy set")
        return None
    if res.status != 0:
        logger.info("the exact shortlist solver stopped before proving its best set optimal (%s)", res.message)
    return Plan(tuple(chosen), set_value(chosen, values, penalties), total, "exact" if res.status == 0 else "solver-limit")


def plan(
    values: np.ndarray,
    costs: np.ndarray,
    budget: float,
    penalties: np.ndarray,
    banned: np.ndarray | None = None,
    *,
    exact_max: int = 200,
    node_limit: int = 1000,
    time_limit: float = 30.0,
) -> Plan:
    """The best set found: exact for up to ``exact_max`` candidates; else, or when the solver stops
    at its node or time limit, the better of its set so far and the greedy set. Positions in ``chosen`` are sorted."""
    values, costs = np.asarray(values, dtype=np.float64), np.asarray(costs, dtype=np.float64)
    _check(values, costs, budget)
    best = exact_plan(values, costs, budget, penalties, banned, node_limit=node_limit, time_limit=time_limit) if len(values) <= exact_max else None
    if best is None or best.method != "exact":
        greedy = greedy_plan(values, costs, budget, penalties, banned)
        if best is None or greedy.value >= best.value:
            best = greedy
    return Plan(tuple(sorted(best.chosen)), best.value, best.cost, best.method)
