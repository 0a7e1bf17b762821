"""Read relevance labels and rankings from files, and score runs or a store's matches: nDCG@10, Recall@50, MRR, AUC and MedR.

**Qrels** (relevance labels) are a CSV or TSV file with a header and the columns ``brand_id``,
``creator_id`` and ``grade`` (a whole number: 0 not relevant, 1 relevant, 2 highly relevant, ...),
one row per judged pair; or a TREC qrels file (``brand_id 0 creator_id grade``, whitespace
separated, no header). A creator that is not judged for a brand counts as grade 0.

**Runs** (rankings) are a CSV or TSV file with ``brand_id``, ``creator_id`` and ``rank`` or
``score`` (``matcher export`` writes one), or a TREC run file (``brand_id Q0 creator_id rank score
tag``). Rank wins over score when both are present; equal scores are broken by creator id.

The measures themselves are computed by :mod:`matcher.measures` (ir-measures for nDCG@10, R@50 and
MRR); their definitions are documented there.
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from matcher.errors import InputFileError
from matcher.fetch import FetchedFile, fetched_copy, is_url
from matcher.measures import ALL_MEASURES, LABELS, MEASURES, EvalError, EvalResult, evaluate, ranked_run, results_table, run_from_matches

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
T = TypeVar("T")


# -- reading ------------------------------------------------------------------------------------
def _has_header(first: str, names: Sequence[str]) -> bool:
    low = first.lower()
    return all(n in low for n in names[:2])


def _read_delimited(path: Path | FetchedFile, what: str) -> pd.DataFrame:
    with open(path, encoding="utf-8") as fh:
        text_head = fh.readline()
    sep = "\t" if "\t" in text_head else ","
    try:
        return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, quoting=csv.QUOTE_MINIMAL)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputFileError(f"{path}: not a readable {what} file ({exc})") from None


def _fetched(path: str | Path, read: Callable[[Path | FetchedFile], T]) -> T:
    """``read`` of the file at ``path``; a URL is fetched to a temporary file first, which errors name by its URL."""
    if not is_url(path):
        return read(Path(path))
    with fetched_copy(str(path)) as copy:
        return read(copy)


def _open_checked(p: Path | FetchedFile, what: str) -> tuple[Path | FetchedFile, str]:
    try:
        with open(p, encoding="utf-8") as fh:
            first = fh.readline()
    except FileNotFoundError:
        raise InputFileError(f"{p}: {what} file not found; pass an existing file") from None
    except UnicodeDecodeError:
        raise InputFileError(f"{p}: not UTF-8; save the {what} file as UTF-8") from None
    return p, first


def _whole(values: pd.Series, p: Path | FetchedFile, column: str) -> pd.Series:
    num = pd.to_numeric(values, errors="coerce")
    bad = num.isna() | (num != np.floor(num))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise InputFileError(f"{p}: row {row}: '{column}' is {values.iloc[row - 1]!r}; it must be a whole number")
    return num.astype("int64")


def read_qrels(path: str | Path) -> pd.DataFrame:
    """Read relevance labels into a frame with columns ``brand_id``, ``creator_id``, ``grade`` (int).

    ``path`` may be a URL (``s3://bucket/qrels.csv``; any fsspec URL), fetched once.

    Raises:
        InputFileError: the file is missing (or cannot be fetched), lacks the columns, or a grade is
            not a whole number.
    """
    return _fetched(path, _read_qrels)


def _read_qrels(path: Path | FetchedFile) -> pd.DataFrame:
    p, first = _open_checked(path, "qrels")
    if _has_header(first, ("brand_id", "creator_id")):
        frame = _read_delimited(p, "qrels")
        missing = [c for c in ("brand_id", "creator_id", "grade") if c not in frame.columns]
        if missing:
            raise InputFileError(f"{p}: missing column(s) {', '.join(missing)}; qrels need brand_id, creator_id, grade")
        frame = frame[["brand_id", "creator_id", "grade"]]
    else:
        rows = [line.split() for line in Path(os.fspath(p)).read_text(encoding="utf-8").splitlines() if line.strip()]
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

    ``path`` may be a URL (``s3://bucket/run.csv``; any fsspec URL), fetched once.

    Raises:
        InputFileError: the file is missing (or cannot be fetched) or lacks the columns.
    """
    return _fetched(path, _read_run)


def _read_run(path: Path | FetchedFile) -> pd.DataFrame:
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
        rows = [line.split() for line in Path(os.fspath(p)).read_text(encoding="utf-8").splitlines() if line.strip()]
        if any(len(r) != 6 for r in rows):
            raise InputFileError(f"{p}: expected a CSV with brand_id, creator_id, rank|score or TREC run lines 'brand_id Q0 creator_id rank score tag'")
        out = pd.DataFrame({"brand_id": [r[0] for r in rows], "creator_id": [r[2] for r in rows], "score": [float(r[4]) for r in rows]})
    return ranked_run(out)


def evaluate_store(store: str | Path, qrels: pd.DataFrame | str | Path, *, snapshot_id: str | None = None, rel: int = 1) -> EvalResult:
    """Score the matches a batch stored (the served snapshot by default, see ``Store.served``) against ``qrels``.

    The universe for AUC and MedR is the snapshot's creators.

    Raises:
        StoreError: nothing is published in ``store``.
        EvalError: the snapshot has no stored matches.
    """
    from matcher.store import Store

    st = Store.of(store)
    snap = st.load(snapshot_id)
    sid = snap.snapshot_id
    matches = st.read_matches(sid)
    if matches.empty:
        raise EvalError(f"snapshot {sid} in {store} has no stored matches; run 'matcher batch' with a brands file")
    creators = snap.creators["creator_id"].astype(str).tolist()
    labels = read_qrels(qrels) if isinstance(qrels, (str, Path)) else qrels
    return evaluate(run_from_matches(matches), labels, universe=creators, rel=rel)
