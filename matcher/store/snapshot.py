"""A snapshot in memory, its file names and format version, and the stored matches' rows and ids."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from matcher.audience import AudienceSketch
from matcher.files import load_confined
from matcher.index import VectorIndex
from matcher.niches import NicheModel
from matcher.store.formats import npy_bytes, parquet_bytes

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "MATCHES_FILE",
    "BRAND_NICHES_FILE",
    "COLLABORATIONS_FILE",
    "MATCH_COLUMNS",
    "Snapshot",
    "order_key",
    "revision_id",
    "match_row",
    "matches_frame",
    "index_files",
    "snapshot_files",
    "SHORTLISTS_FILE",
    "SHORTLIST_PICKS_FILE",
    "shortlist_frames",
]

FORMAT = "matcher.snapshot"
# 2: matches live in the snapshot (matches.parquet), so a snapshot is self-contained.
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
MATCHES_FILE = "matches.parquet"
BRAND_NICHES_FILE = "brand_niches.parquet"
COLLABORATIONS_FILE = "collaborations.parquet"
#: One row per brand with a budget (the set's spend, value and audience), and one per pick.
SHORTLISTS_FILE = "shortlists.parquet"
SHORTLIST_PICKS_FILE = "shortlist_picks.parquet"
SHORTLIST_COLUMNS = (
    "brand_id", "budget", "max_overlap", "picks", "spend", "spend_low", "spend_high", "currency", "value", "score_sum",
    "distinct_share", "max_jaccard", "unknown_audience", "method", "candidates", "left_out", "why",
)
SHORTLIST_PICK_COLUMNS = ("brand_id", "position", "creator_id", "rank", "score", "cost", "cost_low", "cost_high", "value_added", "why")
MATCH_COLUMNS = ("brand_id", "rank", "creator_id", "score", "topic", "engagement", "trust", "conversation", "fit", "penalty", "weak", "why")
_MATCH_FLOATS = ("score", "topic", "engagement", "trust", "conversation", "fit", "penalty")

_REVISION_RE = re.compile(r"^(?P<base>.+?)(?:-r(?P<rev>\d+))?$")


@dataclass
class Snapshot:
    """Everything needed to serve matches, held in memory.

    Rows of ``creators``, ``signals`` and the index are aligned. Posts are grouped by creator row:
    the posts of creator row ``i`` are ``posts[post_offsets[i]:post_offsets[i + 1]]``, aligned
    with ``post_vectors``. ``served_for`` is the published id this snapshot was loaded for: it
    differs from ``snapshot_id`` when the published one failed verification and an earlier one
    is served instead. ``niche_model`` assigns niches (the creators' own are columns of
    ``signals``); ``brand_niches`` lists each brand's brief niches (``brand_id, rank, niche_id,
    confidence``). Both are None in a snapshot written before niches existed. ``collaborations``
    lists each creator's past collaborations (:data:`matcher.collaborations.COLLABORATION_COLUMNS`),
    None in a snapshot written before they were stored. ``audience`` holds the creators' commenter
    signatures (:mod:`matcher.audience`); None in a snapshot written before they existed (every
    overlap is then unknown).
    """

    snapshot_id: str
    creators: pd.DataFrame
    signals: pd.DataFrame
    posts: pd.DataFrame
    post_vectors: np.ndarray
    post_offsets: np.ndarray
    index: VectorIndex
    brands: pd.DataFrame
    manifest: dict[str, Any]
    served_for: str | None = None
    niche_model: NicheModel | None = None
    brand_niches: pd.DataFrame | None = None
    collaborations: pd.DataFrame | None = None
    audience: AudienceSketch | None = None


def order_key(snapshot_id: str) -> tuple[str, int]:
    """Sort key of snapshot ids: run time first, then erasure revision (``<id>-r<n>``)."""
    m = _REVISION_RE.match(snapshot_id)
    if m is None:  # only the empty string
        return snapshot_id, 0
    return m["base"], int(m["rev"] or 0)


def revision_id(snapshot_id: str, existing: Iterable[str]) -> str:
    """The id of the next rewritten revision of ``snapshot_id`` that is not in ``existing``."""
    base, rev = order_key(snapshot_id)
    taken = set(existing)
    rev += 1
    while f"{base}-r{rev}" in taken:
        rev += 1
    return f"{base}-r{rev}"


def match_row(brand_id: str, m: Any) -> tuple[Any, ...]:
    """A stored match row, in :data:`MATCH_COLUMNS` order, from a :class:`~matcher.schema.Match`."""
    c = m.components
    return (
        brand_id, m.rank, m.creator_id, m.score, c.get("topic"), c.get("engagement"), c.get("trust"),
        c.get("conversation"), c.get("fit"), m.contributions.get("penalty", 0.0), bool(m.weak), m.why,
    )


def matches_frame(rows: Iterable[tuple[Any, ...]]) -> pd.DataFrame:
    """Match rows (:data:`MATCH_COLUMNS` order) as a frame with fixed dtypes, ordered by brand and rank."""
    frame = pd.DataFrame(list(rows), columns=list(MATCH_COLUMNS))
    frame["brand_id"] = frame["brand_id"].astype(str).astype(object)
    frame["creator_id"] = frame["creator_id"].astype(str).astype(object)
    frame["why"] = frame["why"].astype(str).astype(object)
    frame["rank"] = frame["rank"].astype("int64")
    frame["weak"] = frame["weak"].astype(bool)
    for c in _MATCH_FLOATS:
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    return frame.sort_values(["brand_id", "rank"], kind="mergesort").reset_index(drop=True)


def index_files(index: VectorIndex, *, into: Path | None = None) -> dict[str, bytes]:
    """The files :meth:`VectorIndex.save` writes, as bytes (written outside the store, then read).

    With ``into`` (a checkpoint's scratch directory) they are saved there and the arrays and the FAISS
    index mapped (:func:`~matcher.files.load_confined`), not read back into memory: gigabytes at a
    million creators.
    """
    if into is not None:
        return {name: load_confined(into, name, size=None) for name in index.save(into)}  # type: ignore[misc]  # bytes-like
    with tempfile.TemporaryDirectory(prefix="matcher-index-") as d:
        names = index.save(d)
        return {name: (Path(d) / name).read_bytes() for name in names}


def snapshot_files(snap: Snapshot) -> dict[str, bytes]:
    """The data files of an in-memory snapshot (index, frames, vectors), ready for :meth:`Store.write_snapshot_files`."""
    files = index_files(snap.index)
    files.update(
        {
            "creators.parquet": parquet_bytes(snap.creators),
            "signals.parquet": parquet_bytes(snap.signals),
            "posts.parquet": parquet_bytes(snap.posts),
            "brands.parquet": parquet_bytes(snap.brands),
            "post_vectors.npy": npy_bytes(np.ascontiguousarray(snap.post_vectors, dtype=np.float32)),
            "post_offsets.npy": npy_bytes(np.asarray(snap.post_offsets, dtype=np.int64)),
        }
    )
    if snap.niche_model is not None:
        files.update(snap.niche_model.to_files())
    if snap.brand_niches is not None:
        files[BRAND_NICHES_FILE] = parquet_bytes(snap.brand_niches)
    if snap.collaborations is not None:
        files[COLLABORATIONS_FILE] = parquet_bytes(snap.collaborations)
    if snap.audience is not None:
        files.update(snap.audience.to_files())
    return files


def shortlist_frames(shortlists: Iterable[Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stored form of :class:`~matcher.schema.Shortlist` records: one row per brand, one per pick.

    ``left_out`` is kept as ``creator_id: reason`` lines; ``unknown_audience`` counts the picks
    whose audience is unknown.
    """
    rows, picks = [], []
    for sl in shortlists:
        a = sl.audience
        rows.append((
            sl.brand_id, sl.budget, sl.max_overlap, len(sl.picks), sl.spend, sl.spend_low, sl.spend_high, sl.currency, sl.value, sl.score_sum,
            a.distinct_share, a.max_jaccard, len(a.unknown), sl.method, sl.candidates,
            "\n".join(f"{x.creator_id}: {x.reason}" for x in sl.left_out), sl.why,
        ))
        picks.extend(
            (sl.brand_id, i + 1, p.match.creator_id, p.match.rank, p.match.score, p.cost, p.cost_low, p.cost_high, p.value_added, p.why)
            for i, p in enumerate(sl.picks)
        )
    summary = pd.DataFrame(rows, columns=list(SHORTLIST_COLUMNS)).astype(
        {"brand_id": str, "budget": "float64", "max_overlap": "float64", "picks": "int64", "spend": "float64", "spend_low": "float64",
         "spend_high": "float64", "value": "float64", "score_sum": "float64", "distinct_share": "float64", "max_jaccard": "float64",
         "unknown_audience": "int64", "candidates": "int64"}
    )
    summary["currency"] = summary["currency"].astype(object)
    chosen = pd.DataFrame(picks, columns=list(SHORTLIST_PICK_COLUMNS)).astype(
        {"brand_id": str, "position": "int64", "creator_id": str, "rank": "int64", "score": "float64", "cost": "float64",
         "cost_low": "float64", "cost_high": "float64", "value_added": "float64", "why": str}
    )
    return summary.sort_values("brand_id", kind="mergesort").reset_index(drop=True), chosen.sort_values(["brand_id", "position"], kind="mergesort").reset_index(drop=True)
