"""Ranking measures against graded relevance labels: nDCG@10, Recall@50, MRR (via ir-measures), AUC and MedR.

The one implementation of these measures: ``matcher eval`` and :mod:`matcher.evaluate` score runs
and stored matches with it, and the reranker validates learned weights with it. Runs are frames
with ``brand_id``, ``creator_id`` and ``rank`` (or ``score``); labels (qrels) are frames with
``brand_id``, ``creator_id`` and a whole-number ``grade``; a creator not judged for a brand counts
as grade 0. Reading them from files is :mod:`matcher.evaluate`'s part.

Measures, averaged over the brands that have at least one relevant creator (a brand the run does
not rank at all scores 0; AUC and MedR then treat all its creators as randomly ordered):

- ``nDCG@10``, ``R@50`` and ``RR`` (its mean is MRR), computed by ir-measures with trec_eval's
  definitions: nDCG's gain is the grade itself; recall and RR count grade ≥ ``rel`` as relevant;
- ``AUC``: the chance that a relevant creator is ranked above a non-relevant one, over the
  ``universe`` of creators (the store's creators, or every creator judged or ranked); creators a
  run does not rank share the places below its ranked ones (ties count one half);
- ``MedR``: the median over brands of the rank of the first relevant creator. When the run ranks
  none, the expected rank under a random order of the unranked creators is used.

AUC and MedR follow the brand–influencer matching literature, where rankings are judged over the
whole creator pool rather than a cut-off.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from matcher.errors import MatcherError

__all__ = [
    "MEASURES",
    "ALL_MEASURES",
    "LABELS",
    "EvalError",
    "EvalResult",
    "ranked_run",
    "run_from_matches",
    "evaluate",
    "results_table",
]

#: The ir-measures measures reported, in display order; AUC and MedR are added after them.
MEASURES: tuple[str, ...] = ("nDCG@10", "R@50", "RR")
ALL_MEASURES: tuple[str, ...] = (*MEASURES, "AUC", "MedR")
#: How the table and ``matcher eval --json`` name a measure's mean over brands (the mean of RR is MRR).
LABELS: dict[str, str] = {"RR": "MRR"}


class EvalError(MatcherError, ValueError):
    """Labels or a run that cannot be evaluated (e.g. no brand has a relevant creator)."""


@dataclass(frozen=True)
class EvalResult:
    """Aggregate scores (``measure → value``) and one row per brand in ``per_query``."""

    aggregate: dict[str, float]
    per_query: pd.DataFrame
    n_queries: int

    def __getitem__(self, measure: str) -> float:
        return self.aggregate[measure]


def run_from_matches(matches: pd.DataFrame) -> pd.DataFrame:
    """A run from stored matches (``Store.read_matches()``: brand_id, rank, creator_id, ...)."""
    return ranked_run(matches[["brand_id", "creator_id", "rank"]].astype({"brand_id": str, "creator_id": str}))


def ranked_run(frame: pd.DataFrame) -> pd.DataFrame:
    """Normalise a run (brand_id, creator_id and rank or score) to 1-based, gap-free ranks per brand.

    Each creator keeps its best place; equal scores are broken by creator id.
    """
    f = frame.copy()
    if "rank" in f.columns:
        f = f.sort_values(["brand_id", "rank", "creator_id"], kind="mergesort")
    else:
        f = f.sort_values(["brand_id", "score", "creator_id"], ascending=[True, False, True], kind="mergesort")
    f = f.drop_duplicates(["brand_id", "creator_id"], keep="first")
    f["rank"] = f.groupby("brand_id").cumcount() + 1
    return f[["brand_id", "creator_id", "rank"]].reset_index(drop=True)


# -- measures -----------------------------------------------------------------------------------
def _auc_and_first(ranked: Sequence[str], grades: Mapping[str, int], universe: Iterable[str], rel: int) -> tuple[float, float]:
    """AUC and the (expected) rank of the first relevant creator for one brand."""
    pool = set(universe)
    ranked = [c for c in ranked if c in pool]
    n_total = len(pool)
    relevant = {c for c in pool if grades.get(c, 0) >= rel}
    n_rel = len(relevant)
    n_non = n_total - n_rel
    rank_set = set(ranked)
    rel_unranked = len(relevant - rank_set)
    non_unranked = (n_total - len(rank_set)) - rel_unranked
    # Walk the ranked list: each relevant creator beats every non-relevant one not yet seen.
    wins = 0.0
    non_seen = 0
    first = math.nan
    for pos, c in enumerate(ranked, start=1):
        if c in relevant:
            wins += n_non - non_seen
            if math.isnan(first):
                first = float(pos)
        else:
            non_seen += 1
    # Unranked relevant creators tie with the unranked non-relevant ones: half credit.
    wins += 0.5 * rel_unranked * non_unranked
    auc = wins / (n_rel * n_non) if n_rel and n_non else math.nan
    if math.isnan(first) and rel_unranked:
        # Expected minimum position of r relevant among m randomly ordered unranked creators.
        m = n_total - len(rank_set)
        first = len(ranked) + (m + 1) / (rel_unranked + 1)
    return auc, first


def evaluate(run: pd.DataFrame, qrels: pd.DataFrame, *, universe: Iterable[str] | None = None, rel: int = 1) -> EvalResult:
    """Score ``run`` (brand_id, creator_id, rank) against ``qrels`` (brand_id, creator_id, grade).

    Args:
        run: a ranking as :func:`read_run` or :func:`run_from_matches` return.
        qrels: labels as :func:`read_qrels` returns.
        universe: every creator that could have been ranked (e.g. the store's creators); by default
            the creators in ``qrels`` and ``run``.
        rel: the lowest grade that counts as relevant.

    Raises:
        EvalError: no brand in ``qrels`` has a creator of grade ≥ ``rel``.
    """
    import ir_measures

    run = ranked_run(run)
    qrels = qrels.astype({"brand_id": str, "creator_id": str})
    with_rel = sorted(qrels.loc[qrels["grade"] >= rel, "brand_id"].unique().tolist())
    if not with_rel:
        raise EvalError(f"no brand in the qrels has a creator with grade >= {rel}; check the labels (columns brand_id, creator_id, grade)")
    qrels = qrels[qrels["brand_id"].isin(with_rel)]
    run = run[run["brand_id"].isin(with_rel)]
    pool = set(qrels["creator_id"]) | set(run["creator_id"]) if universe is None else {str(u) for u in universe}
    # Strictly decreasing scores carry the rank exactly: trec_eval sorts by score.
    ir_run = pd.DataFrame({"query_id": run["brand_id"], "doc_id": run["creator_id"], "score": -run["rank"].astype(float)})
    ir_qrels = pd.DataFrame({"query_id": qrels["brand_id"], "doc_id": qrels["creator_id"], "relevance": qrels["grade"].astype(int)})
    # nDCG uses the grades as gains; the binary measures need the relevance threshold.
    spelled = {"nDCG@10": "nDCG@10", "R@50": f"R(rel={rel})@50", "RR": f"RR(rel={rel})"} if rel != 1 else {m: m for m in MEASURES}
    measures = [ir_measures.parse_measure(spelled[m]) for m in MEASURES]
    per: dict[str, dict[str, float]] = {q: {m: 0.0 for m in MEASURES} for q in with_rel}
    names = {str(m): base for m, base in zip(measures, MEASURES)}
    if len(ir_run):
        for metric in ir_measures.iter_calc(measures, ir_qrels, ir_run):
            per[metric.query_id][names[str(metric.measure)]] = float(metric.value)
    ranked_by = {b: g["creator_id"].tolist() for b, g in run.groupby("brand_id", sort=False)}
    grades_by = {b: dict(zip(g["creator_id"], g["grade"])) for b, g in qrels.groupby("brand_id", sort=False)}
    for q in with_rel:
        auc, first = _auc_and_first(ranked_by.get(q, []), grades_by[q], pool, rel)
        per[q]["AUC"], per[q]["MedR"] = auc, first
    table = pd.DataFrame.from_dict(per, orient="index")[list(ALL_MEASURES)]
    table.index.name = "brand_id"
    agg = {m: float(table[m].mean()) for m in MEASURES}
    agg["AUC"] = float(table["AUC"].mean(skipna=True))
    agg["MedR"] = float(table["MedR"].median(skipna=True))
    return EvalResult(aggregate=agg, per_query=table.reset_index(), n_queries=len(with_rel))


def results_table(results: Mapping[str, EvalResult], *, digits: int = 3) -> str:
    """A Markdown table with one row per named result and one column per measure."""
    head = "| system | " + " | ".join(LABELS.get(m, m) for m in ALL_MEASURES) + " |"
    lines = [head, "|---|" + "---:|" * len(ALL_MEASURES)]
    for name, res in results.items():
        cells = []
        for m in ALL_MEASURES:
            v = res.aggregate[m]
            cells.append("n/a" if math.isnan(v) else (f"{v:.1f}" if m == "MedR" else f"{v:.{digits}f}"))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
