"""The nightly batch: ingest, embed (cached), compute signals, index, rank every brand, publish a snapshot."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from matcher.config import Config
from matcher.embed import EmbeddingCache, Encoder, embed_cached
from matcher.engine import rank_snapshot
from matcher.index import VectorIndex, normalize_rows
from matcher.ingest import load_dataset
from matcher.rerank import Reranker
from matcher.schema import Brand
from matcher.signals import compute_signals
from matcher.store import Snapshot, Store

__all__ = ["BatchResult", "run_batch", "creator_vectors"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchResult:
    """What a batch run did: ids, row counts, how much it encoded, timings, and where quarantine went."""

    run_id: str
    snapshot_id: str
    store: Path
    counts: dict[str, dict[str, int]]
    encoded: int
    matches: int
    timings: dict[str, float] = field(default_factory=dict)
    quarantine_path: Path | None = None


def _fingerprint(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(str(p.name).encode())
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def creator_vectors(bio_vecs: np.ndarray, has_bio: np.ndarray, post_vecs: np.ndarray, offsets: np.ndarray, bio_weight: float) -> np.ndarray:
    """One unit vector per creator: ``bio_weight`` × bio + (1 − ``bio_weight``) × mean of post vectors.

    A creator with only a bio or only posts gets that part alone; with neither, a zero vector
    (similarity 0 to every brief).
    """
    n, d = bio_vecs.shape
    counts = np.diff(offsets)
    sums = np.zeros((n, d), dtype=np.float64)
    if len(post_vecs):
        owner = np.repeat(np.arange(n), counts)
        np.add.at(sums, owner, post_vecs)
    means = np.divide(sums, counts[:, None], out=np.zeros_like(sums), where=counts[:, None] > 0)
    means = normalize_rows(means)
    has_posts = counts > 0
    wb = np.where(has_bio & has_posts, bio_weight, np.where(has_bio, 1.0, 0.0))[:, None]
    mixed = wb * bio_vecs + (1.0 - wb) * np.where(has_posts[:, None], means, 0.0)
    return normalize_rows(mixed)


def run_batch(
    creators: str | Path,
    posts: str | Path,
    brands: str | Path,
    store: str | Path,
    *,
    config: Config | None = None,
    encoder: Encoder | None = None,
    progress: bool = True,
) -> BatchResult:
    """Run the nightly job once and publish its snapshot.

    Args:
        creators, posts, brands: input tables (CSV, JSON Lines or Parquet).
        store: store directory (created if needed).
        config: settings; defaults when None.
        encoder: a loaded or unloaded :class:`Encoder` to reuse; one is made from the config if None.
        progress: show progress bars (only ever on a terminal).

    Returns:
        A :class:`BatchResult`.

    Raises:
        InputFileError: an input file cannot be read.
        StoreError: the snapshot cannot be written or published.
    """
    cfg = config or Config()
    st = Store(store)
    started = datetime.now(timezone.utc)
    run_id = started.strftime("%Y%m%dT%H%M%S%fZ")
    timings: dict[str, float] = {}
    show = progress and sys.stderr.isatty()
    st.record_run(run_id, status="running", started_at=started.isoformat(timespec="seconds"))
    try:
        t = time.perf_counter()
        ds = load_dataset(creators, posts, brands, max_text_chars=cfg.max_text_chars)
        timings["ingest_s"] = time.perf_counter() - t
        counts = {r.name: {"read": r.read, "accepted": r.accepted, "quarantined": r.quarantined, "duplicates": r.duplicates} for r in ds.reports}

        cr = ds.creators.reset_index(drop=True)
        row_of = pd.Series(np.arange(len(cr)), index=cr["creator_id"].astype(str))
        po = ds.posts.copy()
        po["_row"] = po["creator_id"].astype(str).map(row_of).astype("int64")
        # Newest posts first within each creator; the newest `max_posts` represent the creator.
        po = po.sort_values(["_row", "posted_at", "post_id"], ascending=[True, False, True], na_position="last", kind="mergesort")
        po = po[po.groupby("_row").cumcount() < cfg.embed.max_posts].reset_index(drop=True)
        offsets = np.zeros(len(cr) + 1, dtype=np.int64)
        np.cumsum(np.bincount(po["_row"].to_numpy(), minlength=len(cr)), out=offsets[1:])

        t = time.perf_counter()
        enc = encoder or Encoder(cfg.embed)
        if not hasattr(enc, "model_"):
            enc.load()
        bios = cr["bio"].fillna("").astype(str).tolist()
        post_texts = po["text"].fillna("").astype(str).tolist()
        brand_records = [Brand.from_record(r) for r in ds.brands.to_dict("records")] if ds.brands is not None else []
        with EmbeddingCache(st.cache_path) as cache:
            bio_vecs, n1 = embed_cached(enc, bios, cache, progress=show)
            post_vecs, n2 = embed_cached(enc, post_texts, cache, progress=show)
            brand_vecs, n3 = embed_cached(enc, [b.query_text for b in brand_records], cache, progress=show)
        has_bio = np.array([bool(b.strip()) for b in bios], dtype=bool)
        bio_vecs[~has_bio] = 0.0
        timings["embed_s"] = time.perf_counter() - t

        t = time.perf_counter()
        vecs = creator_vectors(bio_vecs, has_bio, post_vecs, offsets, cfg.embed.bio_weight)
        index = VectorIndex(
            exact_max=cfg.index.exact_max, hnsw_m=cfg.index.hnsw_m, ef_construction=cfg.index.ef_construction, ef_search=cfg.index.ef_search
        ).build(vecs, cr["creator_id"].astype(str).tolist())
        timings["index_s"] = time.perf_counter() - t

        t = time.perf_counter()
        sig = compute_signals(cr, ds.posts, cfg.signals)
        timings["signals_s"] = time.perf_counter() - t

        snap = Snapshot(
            snapshot_id=run_id,
            creators=cr,
            signals=sig,
            posts=po.drop(columns=["_row"]),
            post_vectors=post_vecs,
            post_offsets=offsets,
            index=index,
            brands=ds.brands if ds.brands is not None else pd.DataFrame(),
            manifest={},
        )

        t = time.perf_counter()
        reranker = Reranker(cfg.weights, evidence_posts=cfg.evidence_posts)
        rows: list[tuple[Any, ...]] = []
        for b, q in tqdm(list(zip(brand_records, brand_vecs)), desc="ranking brands", unit="brand", disable=not show):
            ms = rank_snapshot(snap, q[None, :], cfg.top_k, filters=[b.filters()], reranker=reranker, candidates=cfg.index.candidates)[0]
            rows.extend(
                (b.brand_id, m.rank, m.creator_id, m.score, m.components["topic"], m.components["engagement"], m.components["trust"], m.why)
                for m in ms
            )
        timings["rank_s"] = time.perf_counter() - t

        t = time.perf_counter()
        quarantine = ds.quarantine_frame()
        buf = io.StringIO()
        quarantine.to_csv(buf, index=False)
        inputs = [Path(creators), Path(posts), Path(brands)]
        meta = {
            "run_id": run_id,
            "model": {"name": cfg.embed.model, "id": enc.model_id, "dim": enc.dim_},
            "config_hash": cfg.fingerprint(),
            "input_fingerprint": _fingerprint(inputs),
            "inputs": [str(p) for p in inputs],
            "ingest": counts,
        }
        extra = {"quarantine.csv": buf.getvalue().encode(), "config.json": json.dumps(cfg.to_dict(), indent=2, sort_keys=True).encode()}
        path = st.write_snapshot(snap, extra_files=extra, meta=meta)
        n_matches = st.write_matches(run_id, rows)
        st.publish(run_id)
        timings["publish_s"] = time.perf_counter() - t
        encoded = n1 + n2 + n3
        st.record_run(
            run_id,
            status="published",
            started_at=started.isoformat(timespec="seconds"),
            finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            snapshot_id=run_id,
            details={"counts": counts, "encoded": encoded, "matches": n_matches, "timings": timings},
        )
        logger.info("batch %s published: %d creators, %d brands, %d matches, %d texts encoded", run_id, len(cr), len(brand_records), n_matches, encoded)
        return BatchResult(
            run_id=run_id,
            snapshot_id=run_id,
            store=st.root,
            counts=counts,
            encoded=encoded,
            matches=n_matches,
            timings=timings,
            quarantine_path=path / "quarantine.csv",
        )
    except BaseException as exc:
        st.record_run(
            run_id,
            status="failed",
            started_at=started.isoformat(timespec="seconds"),
            finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            details={"error": str(exc) or type(exc).__name__},
        )
        raise
