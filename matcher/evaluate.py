"""Score rankings against graded relevance labels: nDCG@10, Recall@50, MRR (via ir-measures), AUC and MedR.

**Qrels** (relevance labels) are a CSV or TSV file with a header and the columns ``brand_id``,
``creator_id`` and ``grade`` (a whole number: 0 not relevant, 1 relevant, 2 highly relevant, ...),
one row per judged pair; or a TREC qrels file (``brand_id 0 creator_id grade``, whitespace
separated, no header). A creator that is not judged for a brand counts as grade 0.

**Runs** (rankings) are a CSV or TSV file with ``brand_id``, ``creator_id`` and ``rank`` or
``score`` (``matcher export`` writes one), or a TREC run file (``brand_id Q0 creator_id rank score
tag``). Rank wins over score when both are present; equal scores are broken by creator id.

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

import csv
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from matcher.errors import InputFileError, MatcherError

__all__ = [
    "MEASURES",
    "ALL_MEASURES",
    "LABELS",
    "EvalError",
    "EvalResult",
    "read_qrels",
    "read_run",
    "run_from_matches",
    "evaluate",
    "evaluate_store",
    "results_table",
]

logger = logging.getLogger(__name__)

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


# -- reading ------------------------------------------------------------------------------------
def _has_header(first: str, names: Sequence[str]) -> bool:
    low = first.lower()
    return all(n in low for n in names[:2])


def _read_delimited(path: Path, what: str) -> pd.DataFrame:
    text_head = path.open(encoding="utf-8").readline()
    sep = "\t" if "\t" in text_head else ","
    try:
        return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, quoting=csv.QUOTE_MINIMAL)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputFileError(f"{path}: not a readable {what} file ({exc})") from None


def _open_checked(path: str | Path, what: str) -> tuple[Path, str]:
    p = Path(path)
    try:
        with p.open(encoding="utf-8") as fh:
            first = fh.readline()
    except FileNotFoundError:
        raise InputFileError(f"{p}: {what} file not found; pass an existing file") from None
    except UnicodeDecodeError:
        raise InputFileError(f"{p}: not UTF-8; save the {what} file as UTF-8") from None
    return p, first


def _whole(values: pd.Series, p: Path, column: str) -> pd.Series:
    num = pd.to_numeric(values, errors="coerce")
    bad = num.isna() | (num != np.floor(num))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise InputFileError(f"{p}: row {row}: '{column}' is {values.iloc[row - 1]!r}; it must be a whole number")
    return num.astype("int64")


def read_qrels(path: str | Path) -> pd.DataFrame:
    """Read relevance labels into a frame with columns ``brand_id``, ``creator_id``, ``grade`` (int).

    Raises:
        InputFileError: the file is missing, lacks the columns, or a grade is not a whole number.
    """
    p, first = _open_checked(path, "qrels")
    if _has_header(first, ("brand_id", "creator_id")):
        frame = _read_delimited(p, "qrels")
        missing = [c for c in ("brand_id", "creator_id", "grade") if c not in frame.columns]
        if missing:
            raise InputFileError(f"{p}: missing column(s) {', '.join(missing)}; qrels need brand_id, creator_id, grade")
        frame = frame[["brand_id", "creator_id", "grade"]]
    else:
        rows = [line.split() for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
        if any(len(r) != 4 for r in rows):
            raise InputFileError(f"{p}: expected a CSV with brand_id, creator_id, grade or TREC qrels lines 'brand_id 0 creator_id grade'")
        frame = pd.DataFrame([(r[0], r[2], r[3]) for r in rows], columns=["brand_id", "creator_id", "grade"])
    frame = frame.assign(brand_id=frame["brand_id"].str.strip(), creator_id=frame["creator_id"].str.strip())
    frame["grade"] = _whole(frame["grade"], p, "grade")
    # A pair judged twice keeps its highest grade, so duplicates never lower a label.
    frame = frame.groupby(["brand_id", "creator_id"], as_index=False, sort=True)["grade"].max()
    return frame


def read_run(path: str | Path) -> pd.DataFrame:
    """Read a ranking into a frame with columns ``brand_id``, ``creator_id``, ``rank`` (1 = best).

    Raises:
        InputFileError: the file is missing or lacks the columns.
    """
    p, first = _open_checked(path, "run")
    if _has_header(first, ("brand_id", "creator_id")):
        frame = _read_delimited(p, "run")
        if "brand_id" not in frame.columns or "creator_id" not in frame.columns or not ({"rank", "score"} & set(frame.columns)):
            raise InputFileError(f"{p}: a run needs columns brand_id, creator_id and rank or score (as 'matcher export' writes)")
        use_rank = "rank" in frame.columns
        out = pd.DataFrame({"brand_id": frame["brand_id"].str.strip(), "creator_id": frame["creator_id"].str.strip()})
        if use_rank:
            out["rank"] = _whole(frame["rank"], p, "rank")
        else:
            out["score"] = pd.to_numeric(frame["score"], errors="coerce")
            if out["score"].isna().any():
                raise InputFileError(f"{p}: some 'score' values are not numbers; fix them or give a 'rank' column")
    else:
        rows = [line.split() for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
        if any(len(r) != 6 for r in rows):
            raise InputFileError(f"{p}: expected a CSV with brand_id, creator_id, rank|score or TREC run lines 'brand_id Q0 creator_id rank score tag'")
        out = pd.DataFrame({"brand_id": [r[0] for r in rows], "creator_id": [r[2] for r in rows], "score": [float(r[4]) for r in rows]})
    return _ranked(out)


def run_from_matches(matches: pd.DataFrame) -> pd.DataFrame:
    """A run from stored matches (``Store.read_matches()``: brand_id, rank, creator_id, ...)."""
    return _ranked(matches[["brand_id", "creator_id", "rank"]].astype({"brand_id": str, "creator_id": str}))


def _ranked(frame: pd.DataFrame) -> pd.DataFrame:
    """Normalise to 1-based, gap-free ranks per brand, keeping each creator's best place."""
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

    run = _ranked(run)
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


def evaluate_store(store: str | Path, qrels: pd.DataFrame | str | Path, *, snapshot_id: str | None = None, rel: int = 1) -> EvalResult:
    """Score the matches a batch stored (the served snapshot by default, see ``Store.served``) against ``qrels``.

    The universe for AUC and MedR is the snapshot's creators.

    Raises:
        StoreError: nothing is published in ``store``.
        EvalError: the snapshot has no stored matches.
    """
    from matcher.store import Store

    st = Store(store)
    snap = st.load(snapshot_id)
    sid = snap.snapshot_id
    matches = st.read_matches(sid)
    if matches.empty:
        raise EvalError(f"snapshot {sid} in {store} has no stored matches; run 'matcher batch' with a brands file")
    creators = snap.creators["creator_id"].astype(str).tolist()
    labels = read_qrels(qrels) if isinstance(qrels, (str, Path)) else qrels
    return evaluate(run_from_matches(matches), labels, universe=creators, rel=rel)


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
