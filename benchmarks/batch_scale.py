"""Nightly batch at scale: a base run and a 5%-changed rerun at N creators (default 1,000,000), per stage.

Target: the nightly rerun with 5% of creators changed finishes in ≤ 10 minutes end to end at 1M creators
with the index updated in place (it was ≤ 15 minutes with the HNSW graph rebuilt every night); report peak
memory and bytes per creator in the store and in the index.

What runs, each step in a child process of its own (so each batch's peak RSS is its own):

1. **Dataset.** ``matcher.sample.generate`` (seeded, Parquet, no comments table, its few bad rows
   included): N creators across the 15 niches, 2–4 posts each (3 on average) with counts, dates and
   sponsorship labels, and ``--brands`` brands (1,000: the 30 hand-written briefs and variants).
2. **Seeded embedding cache (the base run's vectors are derived, not encoded).** Encoding the base
   store's ~4 texts per creator (4 million at 1M) would take 3–7 hours on 2 cores, so the base run's
   cache is filled beforehand: the texts the batch will look up are found with the batch's own ingest
   (``load_dataset`` and the contact-detail extraction), keyed with ``matcher.text.content_hash`` under
   ``Encoder.model_id`` (the key ``embed_cached`` and the batch use) and written with
   ``EmbeddingCache.put_many``. A small real sample is encoded with the real model: ``--base-creators``
   ordinary creators of the dataset itself (spread over the niches) and every brand brief. Every other
   text gets a vector derived from them, like ``recommend_latency.py``'s ``derive``: a creator draws two
   real base creators of its niche (of the stuffed niche for a keyword-stuffed bio) and a mixing weight
   a ~ U(0.5, 1); its bio is ``a × bio1 + (1 − a) × bio2`` and each post ``a × post1 + (1 − a) × post2``
   (random posts of the two), plus Gaussian noise of norm ``--noise``, renormalised. The index,
   signals (topical focus, bio agreement) and ranking therefore see clustered embeddings with the
   niches, spread and brief similarities of real text, not uniform noise.
3. **Base run**: ``run_batch`` on an empty store (every text found in the cache: nothing encoded).
4. **A night's changes** to ``--share`` (5%) of creators: 1–2 new posts each with new captions written
   from the sample generator's vocabulary (~10% sponsored, disclosed), posted after the newest post;
   updated like/comment counts on its two newest posts; a changed follower count; 5% of them a new bio.
5. **Rerun** into the same store: the new texts are **encoded with the real model** (ONNX backend,
   the default), everything else comes from the cache as on a real night.

6. **Recall** of the rerun's index against exact search (``--queries`` creators' profile vectors plus
   noise), recall@10 and recall@200 (the rank stage's candidate count).
7. With ``--rebuild-reference``: **the same rerun again** from the base snapshot and the same cache, with
   the index built from scratch (the batch's update decision replaced by "rebuild", nothing else), and
   its recall: the same-run reference for the incremental index.

Recorded per run: the batch's own stage timings (``BatchResult.timings``), the time between stages,
the child's wall time, peak RSS (``getrusage`` ru_maxrss, plus a sampler giving the peak per
stage of the RSS, every 0.2 s, plus the worker processes' private memory, every 1 s; the table shows the larger), the same
with this process's anonymous memory (``RssAnon``, what only swap could free) in place of its RSS and
the workers' private dirty pages in place of their private memory, texts encoded, the index decision; after the rerun, snapshot bytes per creator (whole
snapshot directory), index bytes per creator (``index.faiss`` + ``creator_vectors.npy`` +
``creator_ids.npy`` + ``index.json``) and the embedding cache's bytes per creator. Each size's
figures are merged into ``benchmarks/results/batch_scale.json``; the Markdown report is rendered
from all recorded sizes, keeping any hand-written text below the ``<!-- notes -->`` line.

Run it from the repository root (one benchmark on the machine at a time):

    flock /tmp/matcher-bench.lock .venv/bin/python benchmarks/batch_scale.py --creators 100000
    flock /tmp/matcher-bench.lock .venv/bin/python benchmarks/batch_scale.py            # 1,000,000

``--rebuild-reference`` adds one more rerun (at 1M ~15 minutes). ``--reuse-prepared`` with a ``--workdir`` kept
from an earlier invocation with the same arguments skips the set-up (dataset and seeded cache).
``--creators 5000`` is a quick check (about two minutes); 100,000 take about 5 minutes, 1,000,000 about 35.
At 1M it needs ~25 GB of disk (inputs, cache, two snapshots) and ~14 GiB of RAM at the batch's peak. The work
directory is removed at the end unless ``--keep``; ``--rerun-only`` with a kept ``--workdir`` redoes just the rerun
(rolled back to the base snapshot, with the vectors the earlier rerun encoded removed from the cache).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

HERE = Path(__file__).resolve().parent
# The scripts run as files, not as a package: make their shared helper importable either way.
sys.path.insert(0, str(HERE))
from hostinfo import cpu_model, ram_gib  # noqa: E402

STAGES = ("ingest", "embed", "index", "signals", "rank", "audit", "write", "publish")
# The 5%-changed rerun at 1M with the incremental index (it was 15 minutes with the index rebuilt every night).
TARGET_S = 10 * 60
NOTES_MARK = "<!-- notes -->"


def _rss(workers: int | None = None) -> int:
    """This process's RSS plus its forked worker processes' private memory (USS): the pages a worker
    still shares with this process are counted once, the ones it wrote to (copied) again.

    ``workers``: the workers' USS when the caller has it (:class:`_RssWatch` samples it less often).
    """
    import psutil

    return int(psutil.Process().memory_info().rss) + (workers_uss(psutil.Process()) if workers is None else workers)


def workers_uss(me: Any) -> int:
    """Summed private memory (USS) of ``me``'s forked worker processes (:func:`workers_memory`)."""
    return workers_memory(me)[0]


def workers_memory(me: Any) -> tuple[int, int]:
    """Summed private memory of ``me``'s forked worker processes: their USS, and of it their private
    dirty pages (``Private_Dirty``), what they allocated or copied from the batch.

    The USS also counts the clean pages of mapped files that only the worker maps (``Private_Clean``):
    pages of the batch's vector files that the kernel dropped from the batch's own mapping and the
    worker read back. Those belong to the files, which the kernel can drop again, so the anonymous
    figures take the private dirty pages only (the workers write to no mapped file).

    Each is the kernel's walk of the worker's whole address space (``smaps_rollup``): at a million
    creators that is the batch's 15 GiB mapping per worker, so it is read once a second, not with RSS.
    """
    uss = dirty = 0
    for child in forked_workers(me):
        try:
            fields = dict(line.split(":", 1) for line in Path(f"/proc/{child.pid}/smaps_rollup").read_text().splitlines()[1:] if ":" in line)
        except OSError:
            continue
        kb = {k.strip(): int(v.split()[0]) * 1024 for k, v in fields.items() if v.split() and v.split()[0].isdigit()}
        uss += kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)
        dirty += kb.get("Private_Dirty", 0)
    return uss, dirty


def forked_workers(me: Any) -> list[Any]:
    """The batch's worker processes: children forked from ``me`` (a psutil Process), which keep its
    command line; Ray's raylet and workers, started as programs of their own, do not.

    The children are read from ``/proc/<pid>/task/<tid>/children`` (psutil's ``children()`` reads
    every process on the machine, which at five samples a second took a core's worth of the
    benchmark's own time away from the batch it measures).
    """
    import psutil

    out = []
    try:
        mine = me.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return out
    pids: list[int] = []
    tasks = Path(f"/proc/{me.pid}/task")
    try:
        for task in tasks.iterdir():
            try:
                pids.extend(int(x) for x in (task / "children").read_text().split())
            except OSError:
                pass
        kids = [psutil.Process(p) for p in pids]
    except (OSError, psutil.NoSuchProcess):
        kids = me.children(recursive=False)
    for child in kids:
        try:
            if child.cmdline() == mine:
                out.append(child)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return out


def _anon() -> int:
    """This process's anonymous resident memory (``RssAnon``): the pages only swap could free. Pages of
    mapped files (``RssFile``) count in the RSS too, but the kernel drops clean ones under pressure."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    return 0


def _maxrss() -> int:
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # kB on Linux


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))


# --------------------------------------------------------------------------------------------
# Step 1-2: dataset and the seeded cache
# --------------------------------------------------------------------------------------------


def _unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, n, out=np.zeros_like(x), where=n > 0)


def prepare(a: argparse.Namespace) -> dict[str, Any]:
    """Generate the dataset and fill the store's embedding cache; returns what it did and how long it took."""
    from matcher.config import Config
    from matcher.embed import EmbeddingCache, Encoder
    from matcher.ingest import CREATOR_COLUMNS, POST_COLUMNS, load_dataset
    from matcher.sample import NICHES, generate
    from matcher.schema import Brand
    from matcher.store import Store
    from matcher.text import brief_text, content_hash, move_contacts

    work, cfg = Path(a.workdir), Config()
    out: dict[str, Any] = {}
    t = time.perf_counter()
    info = generate(work / "base", seed=a.seed, n_creators=a.creators, n_brands=a.brands, posts_per_creator=(2, 4), fmt="parquet", comments=False, outcomes=False)
    out["generate_s"] = time.perf_counter() - t
    out["rows"] = {"creators": info.n_creators, "posts": info.n_posts, "brands": info.n_brands}
    print(f"generated {info.n_creators:,} creators, {info.n_posts:,} posts, {info.n_brands} brands in {out['generate_s']:.0f} s", flush=True)

    # The texts the batch will look up: its own ingest and contact extraction, exactly.
    t = time.perf_counter()
    ds = load_dataset(info.creators, info.posts, info.brands, max_text_chars=cfg.max_text_chars)
    cr, po = move_contacts(ds.creators.reset_index(drop=True), ds.posts.reset_index(drop=True), creator_columns=CREATOR_COLUMNS, post_columns=POST_COLUMNS)
    bios = cr["bio"].fillna("").astype(str).to_numpy(dtype=object)
    post_text = po["text"].fillna("").astype(str).to_numpy(dtype=object)
    row_of = pd.Series(np.arange(len(cr)), index=cr["creator_id"].astype(str))
    post_owner = po["creator_id"].astype(str).map(row_of).to_numpy(dtype=np.int64)
    brand_texts = [brief_text(Brand.from_record(r), max_chars=cfg.max_text_chars) for r in ds.brands.to_dict("records")]
    labels = pd.read_csv(info.labels, dtype=str, keep_default_na=False).set_index("creator_id")
    ids = cr["creator_id"].astype(str)
    niche_ix = {n: i for i, n in enumerate(NICHES)}
    rng = np.random.default_rng([a.seed, 55])
    niche = ids.map(labels["niche"]).map(niche_ix).to_numpy(dtype=float)
    niche = np.where(np.isnan(niche), rng.integers(0, len(NICHES), len(niche)), niche).astype(np.int64)
    stuffed = ids.map(labels["stuffed_bio_niche"]).map(niche_ix).to_numpy(dtype=float)
    bio_niche = np.where(np.isnan(stuffed), niche, stuffed).astype(np.int64)
    ordinary = ids.map((labels["is_fake"] == "0") & (labels["is_brand_account"] == "0") & (labels["stuffed_bio_niche"] == "")).fillna(False).to_numpy(dtype=bool)
    del ds, po
    out["texts_s"] = time.perf_counter() - t
    print(f"found {len(bios):,} bios, {len(post_text):,} post texts, {len(brand_texts)} briefs with the batch's ingest in {out['texts_s']:.0f} s", flush=True)

    # A real sample: ordinary creators with a bio and >= 2 posts, spread evenly over the niches.
    t = time.perf_counter()
    n_posts = np.bincount(post_owner, minlength=len(cr))
    eligible = ordinary & (n_posts >= 2) & np.array([bool(b.strip()) for b in bios])
    per_niche = max(2, math.ceil(a.base_creators / len(NICHES)))
    base = np.concatenate([rng.permutation(np.flatnonzero(eligible & (niche == k)))[:per_niche] for k in range(len(NICHES))])
    base.sort()
    order = np.argsort(post_owner, kind="stable")
    starts = np.searchsorted(post_owner[order], base)
    ends = np.searchsorted(post_owner[order], base, side="right")
    b_post_rows = np.concatenate([order[s:e] for s, e in zip(starts, ends)])
    b_offsets = np.concatenate([[0], np.cumsum(ends - starts)])
    enc = Encoder(cfg.embed).load()
    real_texts = list(dict.fromkeys([*bios[base].tolist(), *post_text[b_post_rows].tolist(), *brand_texts]))
    real_vecs = enc.encode(real_texts)
    vec_of = dict(zip(real_texts, real_vecs))
    b_bio = np.stack([vec_of[t] for t in bios[base]])
    b_post = np.stack([vec_of[t] for t in post_text[b_post_rows]])
    out["real_encoded"] = len(real_texts)
    out["real_encode_s"] = time.perf_counter() - t
    out["base_creators"] = len(base)
    print(f"encoded {len(real_texts):,} real texts ({len(base)} base creators, {len(brand_texts)} briefs) in {out['real_encode_s']:.0f} s", flush=True)

    # Derived vectors for every other text, written in key order (appends to the cache's B-tree).
    t = time.perf_counter()
    base_of_niche = [np.flatnonzero(niche[base] == k) for k in range(len(NICHES))]
    n = len(cr)

    def draw(nk: np.ndarray) -> np.ndarray:
        pick = np.empty(len(nk), dtype=np.int64)
        for k in range(len(NICHES)):
            m = nk == k
            pick[m] = base_of_niche[k][rng.integers(0, len(base_of_niche[k]), int(m.sum()))]
        return pick

    b1, b2 = draw(niche), draw(niche)
    bb1, bb2 = draw(bio_niche), draw(bio_niche)
    alpha = rng.uniform(0.5, 1.0, n).astype(np.float32)
    # Occurrence o < n is creator o's bio; o >= n is post o - n.
    texts = np.concatenate([bios, post_text])
    model_id = enc.model_id
    keys = np.array([content_hash(x, namespace=model_id) for x in texts.tolist()], dtype=object)
    keys_u, first = np.unique(keys, return_index=True)
    out["distinct_texts"] = len(keys_u)
    d = b_bio.shape[1]
    sigma = a.noise / math.sqrt(d)
    inserted = 0
    st = Store(work / "store")
    with EmbeddingCache(st.cache_path) as cache:
        step = 200_000
        for s in range(0, len(keys_u), step):
            occ = first[s : s + step]
            is_bio = occ < n
            owner = np.where(is_bio, occ, post_owner[np.maximum(occ - n, 0)])
            c1 = np.where(is_bio, bb1[owner], b1[owner])
            c2 = np.where(is_bio, bb2[owner], b2[owner])
            w = alpha[owner][:, None]
            r1 = b_offsets[c1] + (rng.random(len(occ)) * (b_offsets[c1 + 1] - b_offsets[c1])).astype(np.int64)
            r2 = b_offsets[c2] + (rng.random(len(occ)) * (b_offsets[c2 + 1] - b_offsets[c2])).astype(np.int64)
            v1 = np.where(is_bio[:, None], b_bio[c1], b_post[r1])
            v2 = np.where(is_bio[:, None], b_bio[c2], b_post[r2])
            v = w * v1 + (1 - w) * v2 + rng.standard_normal(v1.shape, dtype=np.float32) * sigma
            v = _unit(v.astype(np.float32))
            cache.put_many(dict(zip(keys_u[s : s + step].tolist(), v)))
            inserted += len(occ)
        # The real sample's own texts and the briefs keep their real vectors.
        cache.put_many({content_hash(x, namespace=model_id): v for x, v in zip(real_texts, real_vecs)})
    import sqlite3

    with sqlite3.connect(st.cache_path) as db:  # what the runs add comes after this row (see --rerun-only)
        out["cache_max_rowid"] = int(db.execute("SELECT MAX(rowid) FROM vectors").fetchone()[0] or 0)
    out["cache_rows"] = inserted
    out["seed_cache_s"] = time.perf_counter() - t
    out["cache_bytes"] = st.cache_path.stat().st_size
    print(f"seeded the cache with {inserted:,} derived vectors in {out['seed_cache_s']:.0f} s ({out['cache_bytes'] / 1e9:.1f} GB)", flush=True)
    out["files"] = {"creators": str(info.creators), "posts": str(info.posts), "brands": str(info.brands)}
    out["maxrss"] = _maxrss()
    return out


# --------------------------------------------------------------------------------------------
# Step 4: a night's changes
# --------------------------------------------------------------------------------------------


def _num(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype("float64")


def _like(column: pd.Series, values: Sequence[Any]) -> pd.Series:
    """``values`` (numbers with NaN, texts, bools) in ``column``'s dtype; whole numbers as text where the column is text."""
    if pd.api.types.is_bool_dtype(column.dtype):
        return pd.Series(pd.array(list(values), dtype="boolean"))
    if pd.api.types.is_numeric_dtype(column.dtype):
        return pd.Series(pd.array([None if v is None or (isinstance(v, float) and math.isnan(v)) else int(round(v)) for v in values], dtype="Int64"))
    return pd.Series([None if v is None or (isinstance(v, float) and math.isnan(v)) else (str(int(round(v))) if isinstance(v, (int, float)) else v) for v in values], dtype=column.dtype)


def _put(frame: pd.DataFrame, rows: pd.Index, col: str, values: np.ndarray) -> None:
    """Set count column ``col`` at ``rows`` to whole numbers (NaN stays missing), keeping the column's dtype."""
    new = _like(frame[col], [float(v) for v in np.rint(values)])
    new.index = rows
    frame.loc[rows, col] = new


def night(a: argparse.Namespace) -> dict[str, Any]:
    """Write the next night's inputs: ``--share`` of creators changed the way a day changes them."""
    from matcher.sample import generator as S
    from matcher.sample import vocabulary as V

    work = Path(a.workdir)
    src, dst = work / "base", work / "night"
    dst.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    cr = pd.read_parquet(src / "creators.parquet")
    po = pd.read_parquet(src / "posts.parquet")
    labels = pd.read_csv(src / "labels.csv", dtype=str, keep_default_na=False)
    rng = np.random.default_rng([a.seed, 99])
    rnd = random.Random(a.seed + 99)
    maker = S._TextMaker(rnd)
    niche_ix = {name: i for i, name in enumerate(S.NICHES)}

    valid = labels["creator_id"].to_numpy()
    picked = np.sort(rng.choice(len(valid), size=int(round(a.share * len(valid))), replace=False))
    pid = pd.Index(valid[picked])
    niche_of = labels.set_index("creator_id")["niche"].map(niche_ix)

    # Follower counts drift (growth or loss of a few percent, never unchanged).
    crow = cr.index[cr["creator_id"].isin(pid)]
    f = _num(cr.loc[crow, "followers"]).to_numpy()
    drift = np.rint(np.nan_to_num(f) * rng.normal(0.004, 0.01, len(crow)))
    drift = np.where(drift == 0, rng.choice([-1.0, 1.0, 2.0, 3.0], len(crow)), drift)
    _put(cr, crow, "followers", np.maximum(f + drift, 0))

    # A few change their bio.
    new_bio = crow[rng.random(len(crow)) < a.bio_share]
    for r in new_bio:
        data = V.NICHE_DATA[S.NICHES[int(niche_of[cr.at[r, "creator_id"]])]]
        country = str(cr.at[r, "country"])
        cr.at[r, "bio"] = S._bio(rnd, data, country if country in V.CITIES else "US")

    # Counts move on the two newest posts of each changed creator.
    p = po.loc[po["creator_id"].isin(pid), ["creator_id", "posted_at", "likes", "comments", "views", "shares"]].copy()
    stamp = p["posted_at"].astype(str)
    epoch = stamp.str.fullmatch(r"\d+").fillna(False)
    p["_ts"] = pd.to_datetime(stamp.where(~epoch), utc=True, errors="coerce").fillna(
        pd.to_datetime(_num(stamp.where(epoch)), unit="s", utc=True, errors="coerce"))
    p = p.sort_values(["creator_id", "_ts"], ascending=[True, False], kind="mergesort")
    recent = p.index[p.groupby("creator_id").cumcount() < 2]
    likes = _num(po.loc[recent, "likes"]).to_numpy()
    _put(po, recent, "likes", likes * rng.uniform(1.02, 1.3, len(recent)))
    comm = _num(po.loc[recent, "comments"]).to_numpy()
    _put(po, recent, "comments", comm + rng.poisson(np.maximum(np.nan_to_num(comm), 1) * 0.1))

    # 1-2 new posts each, written from the sample's vocabulary, dated after the newest post.
    for col in ("likes", "comments", "views", "shares"):
        p[col] = _num(p[col])
    med = p.groupby("creator_id")[["likes", "comments", "views", "shares"]].median()
    reference = pd.Timestamp(S.REFERENCE_DATE)
    k_new = rng.integers(1, 3, len(pid))
    rows: dict[str, list[Any]] = {c: [] for c in po.columns}
    next_id = len(po) + 1
    for cid, k in zip(pid.tolist(), k_new.tolist()):
        nk = int(niche_of[cid])
        data = maker.niches[nk][0]
        m = med.loc[cid] if cid in med.index else None
        for _ in range(k):
            body = S._end_sentence(maker.caption(nk))
            if rnd.random() < 0.35:
                body = f"{body} {rnd.choice(V.CLOSERS)}"
            tags = " ".join(maker.hashtags(nk, rnd.randint(1, 5)))
            sponsored = rnd.random() < 0.10
            if sponsored:
                lead = rnd.choice(V.SPONSOR_EARLY).format(sponsor=rnd.choice(data["sponsors"]), product=rnd.choice(data["product"]))
                body = f"{lead} {body}"
            when = reference + timedelta(seconds=int(rng.integers(0, 86_400)))
            rows["post_id"].append(f"n{next_id:08d}")
            next_id += 1
            rows["creator_id"].append(cid)
            rows["text"].append(f"{body} {tags}")
            rows["posted_at"].append(when.strftime("%Y-%m-%dT%H:%M:%SZ"))
            for col in ("likes", "comments", "views", "shares"):
                v = np.nan if m is None or pd.isna(m[col]) else round(float(m[col]) * float(rng.lognormal(0, 0.3)))
                rows[col].append(v)
            rows["sponsored"].append(sponsored)
    new = pd.DataFrame({c: _like(po[c], v) for c, v in rows.items()})
    po = pd.concat([po, new], ignore_index=True)
    cr.to_parquet(dst / "creators.parquet", index=False)
    po.to_parquet(dst / "posts.parquet", index=False)
    shutil.copy(src / "brands.parquet", dst / "brands.parquet")
    out = {
        "changed_creators": len(pid),
        "new_posts": len(new),
        "new_bios": len(new_bio),
        "recounted_posts": len(recent),
        "night_s": time.perf_counter() - t,
        "files": {"creators": str(dst / "creators.parquet"), "posts": str(dst / "posts.parquet"), "brands": str(dst / "brands.parquet")},
        "maxrss": _maxrss(),
    }
    print(f"night: {len(pid):,} creators changed, {len(new):,} new posts, {len(new_bio):,} new bios, {len(recent):,} posts re-counted", flush=True)
    return out


# --------------------------------------------------------------------------------------------
# Step 3/5: one batch run, measured
# --------------------------------------------------------------------------------------------


class _RssWatch:
    """Samples RSS every ``every`` seconds, and the forked workers' private memory every
    ``workers_every`` (the costly part, :func:`workers_uss`); peak per label (the stage running) and overall."""

    def __init__(self, every: float = 0.2, workers_every: float = 1.0) -> None:
        import psutil

        self.every = every
        self.workers_every = workers_every
        self.label = "start-up"
        self.peaks: dict[str, int] = {}
        self.anon_peaks: dict[str, int] = {}  # the same, with this process's anonymous memory instead of its RSS
        self._me = psutil.Process()
        self._workers = 0
        self._workers_dirty = 0  # of their private memory, the dirty pages: anonymous (workers_memory)
        self._workers_at = 0.0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._loop, daemon=True)

    def _sample(self) -> None:
        now = time.monotonic()
        if now - self._workers_at >= self.workers_every:
            (self._workers, self._workers_dirty), self._workers_at = workers_memory(self._me), now
        r, anon = _rss(self._workers), _anon() + self._workers_dirty
        self.peaks[self.label] = max(self.peaks.get(self.label, 0), r)
        self.anon_peaks[self.label] = max(self.anon_peaks.get(self.label, 0), anon)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.every)

    def set(self, label: str) -> None:
        self._sample()
        self.label = label

    def __enter__(self) -> _RssWatch:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.set("end")
        self._stop.set()
        self._t.join()


def batch(a: argparse.Namespace) -> dict[str, Any]:
    """One ``run_batch`` into ``--store``, with stage timings, encoded count and peak RSS per stage."""
    import matcher.batch as B
    from matcher.config import BatchConfig, Config

    files = json.loads(a.files)
    watch = _RssWatch()
    original = B._Run._stage

    def stage(self, name, compute):  # type: ignore[no-untyped-def]
        watch.set(name)
        try:
            return original(self, name, compute)
        finally:
            watch.set(f"after {name}")  # reading its outputs, focus, audit, write, publish

    B._Run._stage = stage  # type: ignore[method-assign]
    if a.force_rebuild:
        # The same-run reference: this very code and config, with the index built from scratch as
        # before the update existed (only the decision is replaced, so fingerprints and reuse agree).
        import dataclasses

        plan = B.plan_update

        def rebuild(*args, **kw):  # type: ignore[no-untyped-def]
            got = plan(*args, **kw)
            return dataclasses.replace(got, action="rebuilt", dead=0, nodes=len(got.kept))

        B.plan_update = rebuild  # type: ignore[assignment]
    prof = None
    if a.profile:
        import cProfile

        prof = cProfile.Profile()
    with watch:
        t = time.perf_counter()
        if prof is not None:
            prof.enable()
        config = Config(top_k=a.top_k, batch=BatchConfig(workers=a.workers))
        res = B.run_batch(files["creators"], files["posts"], files["brands"], a.store, config=config, progress=False)
        if prof is not None:
            prof.disable()
        wall = time.perf_counter() - t
    from matcher.store import Store

    manifest = Store(a.store).verify(res.snapshot_id)
    out: dict[str, Any] = {
        "wall_s": wall,
        "index": manifest.get("index", {}),
        "files": {name: meta.get("sha256") for name, meta in manifest.get("files", {}).items()},
        "workers": a.workers,
        "timings": res.timings,
        "encoded": res.encoded,
        "index_build": res.index_build,
        "counts": res.counts,
        "matches": res.matches,
        "snapshot_id": res.snapshot_id,
        # With rank workers, the sampled peak (this process and the workers' own pages) can pass ru_maxrss.
        "maxrss": max([_maxrss(), *watch.peaks.values()]),
        "rss_peaks": watch.peaks,
        "anon_peaks": watch.anon_peaks,
        "maxanon": max(watch.anon_peaks.values()),
    }
    if prof is not None:
        import io
        import pstats

        prof.dump_stats(a.profile)
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(30)
        Path(a.profile).with_suffix(".txt").write_text(buf.getvalue())
    print(f"batch: {wall:.0f} s, encoded {res.encoded:,}, index {res.index_build}, peak RSS {out['maxrss'] / 2**30:.1f} GiB", flush=True)
    return out


def recall(a: argparse.Namespace) -> dict[str, Any]:
    """Recall@10 and @200 (the rank stage's candidates) of a snapshot's index against exact search.

    Queries: ``--queries`` creators' profile vectors plus Gaussian noise of norm 0.5, renormalised (near
    the data, like briefs, but no query is a node). Exact: FAISS's brute-force inner product over the
    index's live rows.
    """
    import faiss

    from matcher.store import Store

    t = time.perf_counter()
    index = Store(a.store).load(a.snapshot).index
    load_s = time.perf_counter() - t
    rng = np.random.default_rng([a.seed, 123])
    vecs = index.vectors_
    q = vecs[np.sort(rng.choice(index.size, a.queries, replace=False))] + rng.standard_normal((a.queries, vecs.shape[1]), dtype=np.float32) * (0.5 / math.sqrt(vecs.shape[1]))
    q = _unit(q.astype(np.float32))
    out: dict[str, Any] = {"snapshot": a.snapshot, "kind": index.kind_, "size": index.size, "nodes": index.nodes, "dead": index.dead, "queries": a.queries, "load_s": load_s}
    for k in (10, 200):
        _, exact = faiss.knn(q, vecs, k, metric=faiss.METRIC_INNER_PRODUCT)
        t = time.perf_counter()
        hits = index.search(q, k)
        out[f"search_ms_at_{k}"] = 1000 * (time.perf_counter() - t) / a.queries
        out[f"recall_at_{k}"] = float(np.mean([len(set(e.tolist()) & {h.row for h in hs}) / k for e, hs in zip(exact, hits)]))
    print(f"recall of {a.snapshot}: @10 {out['recall_at_10']:.4f}, @200 {out['recall_at_200']:.4f} ({index.dead:,} dead of {index.nodes:,} nodes)", flush=True)
    return out


# --------------------------------------------------------------------------------------------
# Orchestration and report
# --------------------------------------------------------------------------------------------


def _child(step: str, a: argparse.Namespace, *extra: str) -> dict[str, Any]:
    out = Path(a.workdir) / f"{step}-{len(list(Path(a.workdir).glob(f'{step}-*.json')))}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), f"_{step}", "--creators", str(a.creators), "--brands", str(a.brands), "--top-k", str(a.top_k), "--seed", str(a.seed),
           "--share", str(a.share), "--bio-share", str(a.bio_share), "--base-creators", str(a.base_creators), "--noise", str(a.noise),
           "--queries", str(a.queries), "--workers", str(a.workers), "--workdir", str(a.workdir), "--json", str(out), *extra]
    t = time.perf_counter()
    subprocess.run(cmd, check=True)
    got = json.loads(out.read_text())
    got["process_s"] = time.perf_counter() - t
    return got


def _dir_bytes(path: Path) -> int:
    seen: set[int] = set()
    total = 0
    for p in path.rglob("*"):
        if p.is_file():
            s = p.stat()
            if s.st_ino not in seen:
                seen.add(s.st_ino)
                total += s.st_size
    return total


def sizes(store: Path, snapshot_id: str, creators: int) -> dict[str, Any]:
    from matcher.index import DEAD_IDS_FILE, IDS_FILE, INDEX_FILE, META_FILE, VECTORS_FILE

    snap = store / "snapshots" / snapshot_id
    per_file = {p.name: p.stat().st_size for p in sorted(snap.iterdir())}
    index = sum(per_file.get(n, 0) for n in (INDEX_FILE, VECTORS_FILE, IDS_FILE, META_FILE, DEAD_IDS_FILE))
    cache = sum(p.stat().st_size for p in (store / "cache").glob("embeddings.sqlite*"))
    total = sum(per_file.values())
    return {
        "creators": creators,
        "snapshot_bytes": total,
        "index_bytes": index,
        "cache_bytes": cache,
        "store_bytes": _dir_bytes(store),
        "per_file": per_file,
        "snapshot_per_creator": total / creators,
        "index_per_creator": index / creators,
        "faiss_per_creator": per_file.get(INDEX_FILE, 0) / creators,
        "cache_per_creator": cache / creators,
    }


def niche_precision(store: Path, snapshot_id: str, work: Path) -> float:
    """Share of the stored matches whose creator is in the brand's niche (the sample's labels): a check that
    the derived vectors rank like real ones."""
    m = pd.read_parquet(store / "snapshots" / snapshot_id / "matches.parquet", columns=["brand_id", "creator_id"])
    creator_niche = pd.read_csv(work / "base" / "labels.csv", dtype=str, keep_default_na=False).set_index("creator_id")["niche"]
    brand_niche = pd.read_csv(work / "base" / "brand_labels.csv", dtype=str, keep_default_na=False).set_index("brand_id")["niche"]
    return float((m["creator_id"].map(creator_niche) == m["brand_id"].map(brand_niche)).mean())


def machine() -> dict[str, str]:
    ram = ram_gib()
    return {
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "ram": "unknown" if ram is None else f"{ram:.1f} GiB",
        "python": platform.python_version(),
    }


def _back_to_base(store: Path, base_id: str, cache_max_rowid: int) -> None:
    """Publish the base snapshot again and forget what later runs encoded, so a rerun is redone exactly."""
    import sqlite3

    from matcher.store import Store

    Store(store).rollback(to=base_id)
    with sqlite3.connect(store / "cache" / "embeddings.sqlite") as db:
        gone = db.execute("DELETE FROM vectors WHERE rowid > ?", (cache_max_rowid,)).rowcount
    print(f"rolled back to {base_id}; removed {gone:,} vectors encoded since", flush=True)


def _cache_max_rowid(store: Path) -> int:
    import sqlite3

    with sqlite3.connect(store / "cache" / "embeddings.sqlite") as db:
        return int(db.execute("SELECT COALESCE(MAX(rowid), 0) FROM vectors").fetchone()[0])


def run(a: argparse.Namespace) -> int:
    if a.rerun_only:
        work = Path(a.workdir)
        state = json.loads((work / "state.json").read_text())
        a.workdir = str(work)
        store = work / "store"
        started = datetime.now(timezone.utc)
        load_start = os.getloadavg()
        prep, base, nt = state["prepare"], state["base"], state["night"]
        _back_to_base(store, base["snapshot_id"], prep["cache_max_rowid"])
    else:
        work = Path(a.workdir) if a.workdir else Path(tempfile.mkdtemp(prefix=f"matcher-scale-{a.creators}-"))
        prepared = work / "prepare-0.json"
        if a.reuse_prepared and prepared.exists():
            # The dataset and seeded cache of an earlier invocation (they depend on the arguments, not on
            # matcher's batch code): the store is emptied but for the cache, trimmed to what was seeded.
            prep = json.loads(prepared.read_text())
            for p in (work / "store").iterdir():
                if p.name != "cache":
                    shutil.rmtree(p) if p.is_dir() else p.unlink()
            for p in [*work.glob("batch-*.json"), *work.glob("night-*.json"), *work.glob("recall-*.json")]:
                p.unlink()
            import sqlite3

            with sqlite3.connect(work / "store" / "cache" / "embeddings.sqlite") as db:
                db.execute("DELETE FROM vectors WHERE rowid > ?", (prep["cache_max_rowid"],))
            print(f"reusing the prepared dataset and cache in {work}", flush=True)
        else:
            if work.exists() and any(work.iterdir()):
                shutil.rmtree(work)
            work.mkdir(parents=True, exist_ok=True)
            prep = None
        a.workdir = str(work)
        store = work / "store"
        load_start = os.getloadavg()
        print(f"work dir {work} ({shutil.disk_usage(work).free / 1e9:.0f} GB free), {machine()}", flush=True)
        started = datetime.now(timezone.utc)
        if prep is None:
            prep = _child("prepare", a)
        base = _child("batch", a, "--store", str(store), "--files", json.dumps(prep["files"]))
        nt = _child("night", a)
        _write_json(work / "state.json", {"prepare": prep, "base": base, "night": nt})
    host = machine()
    before_rerun = _cache_max_rowid(store)  # what the cache held when the rerun started (a reference starts from the same)
    rerun = _child("batch", a, "--store", str(store), "--files", json.dumps(nt["files"]), *(["--profile-out", str(work / "rerun.prof")] if a.profile else []))
    recalls = {"rerun": _child("recall", a, "--store", str(store), "--snapshot", rerun["snapshot_id"])}
    reference = None
    if a.rebuild_reference:
        # The same rerun again, from the same base snapshot and cache, with the index built from scratch.
        _back_to_base(store, base["snapshot_id"], prep["cache_max_rowid"])
        reference = _child("batch", a, "--store", str(store), "--files", json.dumps(nt["files"]), "--force-rebuild")
        recalls["rebuild"] = _child("recall", a, "--store", str(store), "--snapshot", reference["snapshot_id"])
    one_process = None
    if a.one_process_reference:
        # The same rerun again, from the same base snapshot and cache, in one process (batch.workers = 1).
        _back_to_base(store, base["snapshot_id"], before_rerun)
        one_process = _child("batch", argparse.Namespace(**{**vars(a), "workers": 1}), "--store", str(store), "--files", json.dumps(nt["files"]))
    sz_base = sizes(store, base["snapshot_id"], base["counts"]["creators"]["accepted"])
    sz = sizes(store, rerun["snapshot_id"], rerun["counts"]["creators"]["accepted"])
    record = {
        "creators": a.creators,
        "brands": a.brands,
        "top_k": a.top_k,
        "share": a.share,
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": host,
        "load_at_start": " / ".join(f"{x:.1f}" for x in load_start),
        "load_at_end": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
        "prepare": prep,
        "night": nt,
        "base": base,
        "rerun": rerun,
        "rerun_rebuild": reference,
        "rerun_one_process": one_process,
        "recall": recalls,
        "target_s": TARGET_S,
        "rerun_only": bool(a.rerun_only),
        "sizes_base": sz_base,
        "sizes": sz,
        "profiled": bool(a.profile),
        "niche_precision": {"base": niche_precision(store, base["snapshot_id"], work), "rerun": niche_precision(store, rerun["snapshot_id"], work)},
    }
    if a.profile:
        prof_txt = work / "rerun.txt"
        if prof_txt.exists():
            dest = Path(a.results).with_name(f"batch_scale_profile_{a.creators}.txt")
            shutil.copy(prof_txt, dest)
            print(f"profile of the rerun: {dest}")
    res_json = Path(a.results).with_suffix(".json")
    allrec = json.loads(res_json.read_text()) if res_json.exists() else {}
    allrec[str(a.creators) + ("-profiled" if a.profile else "")] = record
    res_json.parent.mkdir(parents=True, exist_ok=True)
    _write_json(res_json, allrec)
    Path(a.results).write_text(render(allrec, Path(a.results)))
    print(Path(a.results).read_text())
    if not a.keep and not a.rerun_only:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _gib(b: float) -> str:
    return f"{b / 2**30:.1f}"


def render(allrec: dict[str, Any], md: Path) -> str:
    """The Markdown report of every recorded size, keeping hand-written notes below NOTES_MARK."""
    recs = [allrec[k] for k in sorted(allrec, key=lambda k: (allrec[k]["creators"], k)) if not allrec[k].get("profiled")]
    notes = ""
    if md.exists() and NOTES_MARK in md.read_text():
        notes = md.read_text().split(NOTES_MARK, 1)[1]
    L = ["# Nightly batch at scale: base run and 5%-changed rerun", ""]
    L.append(
        "`benchmarks/batch_scale.py` (see its docstring). Dataset: `matcher.sample.generate` (seeded, Parquet inputs, "
        "2–4 posts per creator, no comments table); default config (HNSW above 50,000 creators). "
        "**The base run's vectors are derived, not encoded**: encoding ~4 texts per creator would take hours on 2 cores, so "
        "the embedding cache is filled before the base run under the batch's own keys (`content_hash` with `Encoder.model_id`) "
        "with vectors mixed from a few hundred real encoded creators of the same niche plus noise (clustered like real text). "
        "**The rerun encodes its new texts with the real model** (ONNX, both cores), as a real night would."
    )
    L.append("")
    for r in recs:
        n = r["creators"]
        pr, nt, b, rr = r["prepare"], r["night"], r["base"], r["rerun"]
        L.append(f"## {n:,} creators")
        L.append("")
        L.append(
            f"Run {r['date']} on {r['machine']['cpu']}, {r['machine']['cores']} cores, {r['machine']['ram']} (shared; load average "
            f"{r['load_at_start']} at start, {r['load_at_end']} at end{'; the rerun was repeated with --rerun-only after the base run of the same data' if r.get('rerun_only') else ''}). Inputs: {pr['rows']['creators']:,} creator rows, "
            f"{pr['rows']['posts']:,} post rows, {pr['rows']['brands']:,} brand rows (top {r.get('top_k', 50)} matches stored per brand); {pr['distinct_texts']:,} distinct bio and post texts "
            f"in the cache ({pr['real_encoded']:,} encoded for real from {pr['base_creators']} base creators and the briefs, the rest derived). "
            f"Night: {nt['changed_creators']:,} creators changed ({r['share']:.0%}), {nt['new_posts']:,} new posts, "
            f"{nt['new_bios']:,} new bios, {nt['recounted_posts']:,} posts with new counts, and follower counts."
        )
        L.append("")
        L.append("| run | total (s) | " + " | ".join(STAGES) + " | between stages | texts encoded | index | peak RSS (GiB) | peak anonymous (GiB) |")
        L.append("|---|---:|" + "---:|" * len(STAGES) + "---:|---:|---|---:|---:|")
        runs = [("base (cache seeded)", b), (f"rerun, {r['share']:.0%} changed", rr)]
        if r.get("rerun_rebuild"):
            runs.append(("same rerun, index rebuilt (reference)", r["rerun_rebuild"]))
        if r.get("rerun_one_process"):
            runs.append(("same rerun, one process (`batch.workers = 1`, reference)", r["rerun_one_process"]))
        for label, x in runs:
            t = x["timings"]
            between = t.get("total_s", 0) - sum(t.get(f"{s}_s", 0) for s in STAGES)
            L.append(
                f"| {label} | **{t.get('total_s', 0):.0f}** | " + " | ".join(f"{t.get(f'{s}_s', 0):.1f}" for s in STAGES)
                + f" | {between:.1f} | {x['encoded']:,} | {x['index_build']} | {_gib(x['maxrss'])} | {_gib(x['maxanon']) if 'maxanon' in x else '–'} |"
            )
        L.append("")
        enc_rate = rr["encoded"] / rr["timings"]["embed_s"] if rr["timings"].get("embed_s") else 0
        target = r.get("target_s", 15 * 60)
        verdict = "meets" if rr["timings"]["total_s"] <= target else "misses"
        L.append(
            f"Rerun end to end {rr['timings']['total_s']:.0f} s ({rr['timings']['total_s'] / 60:.1f} min; the child process incl. "
            f"Python start-up {rr['process_s']:.0f} s): **{verdict} the {target / 60:.0f}-minute target** at {n:,} creators. "
            f"Embed stage: {rr['encoded']:,} texts encoded, {enc_rate:.0f} texts/s counting the whole stage. "
            f"Rank stage (index search, rerank and match rows for every brand): {1000 * rr['timings'].get('rank_s', 0) / max(1, pr['rows']['brands']):.1f} ms per brand "
            f"in the rerun, {1000 * b['timings'].get('rank_s', 0) / max(1, pr['rows']['brands']):.1f} ms in the base run."
        )
        op = r.get("rerun_one_process")
        if op:
            t1, tw = op["timings"], rr["timings"]
            same = {k: v for k, v in op.get("files", {}).items() if k != "config.json"} == {k: v for k, v in rr.get("files", {}).items() if k != "config.json"}
            L.append("")
            L.append(
                f"Worker processes (`batch.workers = {rr.get('workers', 0)}`, {'one per core' if not rr.get('workers') else 'as set'}) against one process, "
                f"the same rerun from the same base snapshot in this run: {tw['total_s']:.0f} s against {t1['total_s']:.0f} s "
                f"({t1['total_s'] / tw['total_s']:.2f}x); signals {tw.get('signals_s', 0):.1f} s against {t1.get('signals_s', 0):.1f} s, "
                f"rank {tw.get('rank_s', 0):.1f} s against {t1.get('rank_s', 0):.1f} s; peak {_gib(rr['maxrss'])} GiB against {_gib(op['maxrss'])} GiB "
                f"(this process's RSS plus the workers' private memory). The two snapshots' files "
                + ("are byte for byte the same (every file but config.json, which records the setting)." if same else "**differ**.")
            )
        ix = rr.get("index") or {}
        if ix.get("build") in ("updated", "extended"):
            L.append("")
            L.append(
                (
                    f"Index of the rerun: the base run's HNSW graph {ix['build']} in place, {ix['size']:,} live creators and "
                    f"{ix.get('dead', 0):,} dead nodes (the changed creators' old vectors, never returned; {ix.get('dead', 0) / (ix['size'] + ix.get('dead', 0)):.1%} of the graph)."
                ) if ix.get("kind") == "hnsw" else f"Index of the rerun: the base run's exact index {ix['build']} in place ({ix['size']:,} creators; changed rows replaced, no dead rows)."
            )
        if r.get("recall"):
            rc = r["recall"]
            parts = [
                f"{'incremental index' if key == 'rerun' else 'index rebuilt'}: recall@10 {v['recall_at_10']:.4f}, recall@200 {v['recall_at_200']:.4f} "
                f"({v['search_ms_at_10']:.2f} / {v['search_ms_at_200']:.2f} ms per query)"
                for key, v in sorted(rc.items(), key=lambda kv: kv[0] != "rerun")
            ]
            L.append("")
            L.append(
                f"Recall against exact search after the rerun ({next(iter(rc.values()))['queries']} queries: creators' profile vectors plus noise of norm 0.5; "
                f"@200 is the rank stage's candidate count): " + "; ".join(parts) + "."
            )
        if "niche_precision" in r:
            npx = r["niche_precision"]
            L.append("")
            L.append(f"Stored matches in the brand's own niche (sample labels): {npx['base']:.1%} after the base run, {npx['rerun']:.1%} after the rerun.")
        L.append("")
        peaks = rr.get("rss_peaks", {})
        if peaks:
            order = ["start-up"] + [x for st in STAGES[:5] for x in (st, f"after {st}")]
            L.append(
                "Peak RSS of the rerun by stage (RSS sampled every 0.2 s, workers' private memory every 1 s, GiB; \"after X\" is the time up to the next stage, \"after rank\" "
                "holds audit, write and publish): " + ", ".join(f"{k} {_gib(peaks[k])}" for k in order if k in peaks) + "."
            )
            anon = rr.get("anon_peaks", {})
            if anon:
                L.append("")
                L.append(
                    "Peak anonymous memory of the rerun by stage (the same samples with this process's `RssAnon` in place of its RSS "
                    "and the workers' private dirty pages in place of their private memory: "
                    "what the batch cannot give back under memory pressure; the pages of mapped files it reads are left out, GiB): "
                    + ", ".join(f"{k} {_gib(anon[k])}" for k in order if k in anon) + "."
                )
            L.append("")
        s, sb = r["sizes"], r["sizes_base"]
        L.append(
            f"Bytes per creator: snapshot {s['snapshot_per_creator']:,.0f} B ({s['snapshot_bytes'] / 1e9:.2f} GB), of which index "
            f"{s['index_per_creator']:,.0f} B (FAISS graph and vectors {s['faiss_per_creator']:,.0f} B, kept vectors + ids + meta the rest); "
            f"embedding cache {s['cache_per_creator']:,.0f} B; whole store after two runs {s['store_bytes'] / 1e9:.1f} GB "
            f"({s['store_bytes'] / n:,.0f} B per creator). Base snapshot {sb['snapshot_per_creator']:,.0f} B per creator."
        )
        L.append("")
        L.append("| snapshot file | bytes per creator |")
        L.append("|---|---:|")
        for name, v in sorted(s["per_file"].items(), key=lambda kv: -kv[1]):
            if v / n >= 1:
                L.append(f"| {name} | {v / n:,.0f} |")
        L.append("")
        L.append(
            f"Set-up, not part of the batch: generate {pr['generate_s']:.0f} s, the batch's ingest to list texts {pr['texts_s']:.0f} s, "
            f"real encoding {pr['real_encode_s']:.0f} s, deriving and writing {pr['cache_rows']:,} cache rows {pr['seed_cache_s']:.0f} s, "
            f"night's changes {nt['night_s']:.0f} s."
        )
        L.append("")
    L.append(NOTES_MARK + (notes if notes else "\n"))
    return "\n".join(L)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("step", nargs="?", default="run", choices=["run", "_prepare", "_batch", "_night", "_recall", "render"])
    ap.add_argument("--creators", type=int, default=1_000_000)
    ap.add_argument("--brands", type=int, default=1000)
    ap.add_argument("--top-k", type=int, default=100, help="matches stored per brand (the batch's top_k)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--share", type=float, default=0.05, help="share of creators changed for the rerun")
    ap.add_argument("--bio-share", type=float, default=0.05, help="share of the changed creators whose bio changes")
    ap.add_argument("--base-creators", type=int, default=1500, help="creators whose texts are encoded for real (the derived vectors' bases)")
    ap.add_argument("--noise", type=float, default=0.25, help="norm of the Gaussian noise added to derived vectors")
    ap.add_argument("--workdir", help="data and store (default: a new temporary directory); emptied first")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--rerun-only", action="store_true", help="redo only the rerun in a kept --workdir: roll back to the base snapshot, drop what the rerun encoded, run it again")
    ap.add_argument("--rebuild-reference", action="store_true", help="run the rerun a second time from the base snapshot with the index rebuilt from scratch (the same-run reference)")
    ap.add_argument("--reuse-prepared", action="store_true", help="reuse the dataset and seeded cache already in --workdir (same arguments) instead of preparing them again")
    ap.add_argument("--queries", type=int, default=500, help="queries for the recall check against exact search")
    ap.add_argument("--workers", type=int, default=0, help="the batch's worker processes (batch.workers; 0: one per core, the default)")
    ap.add_argument("--one-process-reference", action="store_true", help="run the rerun a second time from the base snapshot in one process (batch.workers = 1): the same-run reference for the worker processes")
    ap.add_argument("--profile", action="store_true", help="cProfile the rerun (slower; recorded apart, not used for the verdict)")
    ap.add_argument("--results", default=str(HERE / "results" / "batch_scale.md"))
    # internal, for the child steps
    ap.add_argument("--json")
    ap.add_argument("--store")
    ap.add_argument("--files")
    ap.add_argument("--profile-out")
    ap.add_argument("--force-rebuild", action="store_true")
    ap.add_argument("--snapshot")
    a = ap.parse_args(argv)
    if a.step == "run":
        return run(a)
    if a.step == "render":
        res = Path(a.results)
        res.write_text(render(json.loads(res.with_suffix(".json").read_text()), res))
        return 0
    fn = {"_prepare": prepare, "_batch": batch, "_night": night, "_recall": recall}[a.step]
    if a.step == "_batch":
        a.profile = a.profile_out
    _write_json(Path(a.json), fn(a))
    return 0


if __name__ == "__main__":
    sys.exit(main())
