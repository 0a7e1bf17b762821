"""``recommend()`` latency at 100k and 1M creators, ANN recall against exact search, filtered queries.

Encoding a million creators' posts is out of reach on this machine, so the vectors are derived:
a sample store (seeded generator, a few thousand creators and their real encoded posts) gives
base creators; each synthetic creator is a base creator's profile mixed with one of its own post
vectors and a little Gaussian noise, renormalised. That keeps the niche clusters and the
within-creator spread of real text embeddings (ANN recall on uniform random vectors would say
nothing about real data).

Each query runs the whole chain, timed together: encode the brief (the serving encoder, ONNX
Runtime, one thread per core), then the engine's own ``topical_candidates`` on a snapshot of the
derived creators (the filter mask from its columns, brand accounts left out as by default, and the
index search for the 200 topical candidates), and rerank them with matcher's reranker (on the
sample snapshot the synthetic creators derive from: reranking touches only the 200 candidates,
so its cost does not grow with the collection). The cases run interleaved, query by query, so
machine noise hits all alike; the sizes run one after the other.

    flock /tmp/matcher-bench.lock .venv/bin/python benchmarks/recommend_latency.py [--sizes 100000 1000000] [--queries 300] [--batch-brands 0]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from eval_dev import machine  # noqa: E402

from matcher.index import VectorIndex  # noqa: E402


def rss_gb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**30


def derive(snapshot, n: int, *, seed: int = 0, noise: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """``n`` unit vectors derived from the snapshot's creators, and each one's base creator row."""
    rng = np.random.default_rng(seed)
    prof = snapshot.index.vectors_
    offsets = snapshot.post_offsets
    counts = np.diff(offsets)
    has = np.flatnonzero(counts > 0)
    base = rng.choice(has, size=n)
    post = offsets[base] + (rng.random(n) * counts[base]).astype(np.int64)
    w = rng.uniform(0.4, 0.9, size=(n, 1)).astype(np.float32)
    out = np.empty((n, prof.shape[1]), dtype=np.float32)
    step = 100_000
    for s in range(0, n, step):
        sl = slice(s, s + step)
        v = w[sl] * prof[base[sl]] + (1 - w[sl]) * snapshot.post_vectors[post[sl]]
        v += rng.standard_normal(v.shape, dtype=np.float32) * (noise / np.sqrt(v.shape[1]))
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        out[sl] = v
    return out, base


def peak_rss_gb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def synthetic_snapshot(snapshot, idx: VectorIndex, ids: list[str], base: np.ndarray):
    """A snapshot of the derived creators around ``idx``, with the columns filters read, so queries take
    the engine's own filter path (``topical_candidates``). Each derived creator keeps its base creator's
    followers, trust and brand-account flag; countries are drawn so 5% live in NZ and 0.5% in IE.

    Returns the snapshot and the seconds spent converting its filter columns (once per snapshot).
    """
    from matcher.engine import filter_columns
    from matcher.store import Snapshot

    n = len(ids)
    rng = np.random.default_rng(1)
    country = rng.choice(np.array(["US", "GB", "DE", "FR", "IT", "ES", "BR", "NZ", "IE"], dtype=object), size=n, p=[0.40, 0.20, 0.12, 0.10, 0.08, 0.045, 0.0, 0.05, 0.005])
    bc, bs = snapshot.creators, snapshot.signals
    creators = pd.DataFrame(
        {
            "creator_id": ids,
            "platform": bc["platform"].to_numpy(dtype=object)[base],
            "followers": bc["followers"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)[base],
            "country": country,
            "language": bc["language"].to_numpy(dtype=object)[base],
        }
    )
    signals = pd.DataFrame({"trust_score": bs["trust_score"].to_numpy(dtype="float64")[base], "is_brand_account": bs["is_brand_account"].to_numpy(dtype=bool)[base]})
    empty = pd.DataFrame()
    big = Snapshot(
        snapshot_id=f"derived-{n}", creators=creators, signals=signals, posts=empty, post_vectors=np.zeros((0, idx.dim), np.float32),
        post_offsets=np.zeros(n + 1, np.int64), index=idx, brands=empty, manifest={},
    )
    t = time.perf_counter()
    filter_columns(big).warm()  # as Matcher.load does
    return big, time.perf_counter() - t


def pct(x: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(x), q))


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--queries", type=int, default=300)
    p.add_argument("--base-creators", type=int, default=2000)
    p.add_argument("--batch-brands", type=int, default=10_000, help="brands for the batch throughput figures (0: skip)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = p.parse_args(argv)
    from matcher.batch import run_batch
    from matcher.config import Config, EmbedConfig
    from matcher.embed import Encoder
    from matcher.engine import Matcher, filter_mask, topical_candidates
    from matcher.schema import Hit
    from matcher.schema import Filters
    from matcher.sample import generate

    host = machine()
    tmp = Path(tempfile.mkdtemp(prefix="latency_"))
    info = generate(tmp / "sample", seed=5, n_creators=args.base_creators, posts_per_creator=(3, 6), bad_rows=False)
    t = time.perf_counter()
    run_batch(info.creators, info.posts, info.brands, tmp / "store", progress=False)
    print(f"sample store built in {time.perf_counter() - t:.0f} s", flush=True)
    import faiss

    cfg = Config()
    m = Matcher(tmp / "store", config=cfg, encoder=Encoder(EmbedConfig())).load()
    default_threads = faiss.omp_get_max_threads()
    # A serving worker: one encoder thread and one FAISS thread, so several workers (or a busy
    # machine) never have more runnable threads than cores; against the libraries' defaults.
    settings = {"1 thread (serving)": (Encoder(EmbedConfig(threads=1)).load(), 1), f"{default_threads} threads (defaults)": (m.encoder, default_threads)}
    first = next(iter(settings))
    snap = m.snapshot_
    reranker = m.reranker_
    briefs = pd.read_csv(info.brands)["description"].astype(str).tolist()
    posts = pd.read_csv(info.posts)["text"].dropna().astype(str).tolist()
    queries = (briefs + posts[:: max(1, len(posts) // args.queries)])[: args.queries]

    results = []
    recall_rows = []
    batch_rows: list[str] = []
    for n in args.sizes:
        gc.collect()
        t = time.perf_counter()
        vecs, base = derive(snap, n)
        ids = [f"s{i}" for i in range(n)]
        derive_s = time.perf_counter() - t
        t = time.perf_counter()
        idx = VectorIndex(exact_max=cfg.index.exact_max, hnsw_m=cfg.index.hnsw_m, ef_construction=cfg.index.ef_construction, ef_search=cfg.index.ef_search).build(vecs, ids)
        build_s = time.perf_counter() - t
        # The index keeps the only copy of the vectors (idx.vectors_ is a view of it), as in serving.
        del vecs
        gc.collect()
        print(f"n={n}: derived in {derive_s:.0f} s, {idx.kind_} index built in {build_s:.0f} s, rss {rss_gb():.1f} GiB", flush=True)
        cfg_fraction = idx.exact_filter_fraction
        big, warm_s = synthetic_snapshot(snap, idx, ids, base)
        del ids
        gc.collect()
        brand_share = float(big.signals["is_brand_account"].mean())
        filters = {
            "no filter": None,  # brand accounts are still left out, as the engine does by default
            "5% qualify": Filters(countries=("NZ",)),
            "0.5% qualify": Filters(countries=("IE",)),
        }
        cases = {f"{f}, {s}": (flt, s, "auto") for s in settings for f, flt in filters.items()}
        # Every creator allowed, brand accounts too: no mask at all, the floor for "no filter".
        cases[f"no filter, brand accounts included, {first}"] = (Filters(include_brand_accounts=True), first, "auto")
        # The graph search with a selector instead of the exact scan, for the filtered cases: is it
        # faster, and does it still find the exact top 10?
        for f in ("5% qualify", "0.5% qualify"):
            cases[f"{f}, {first}, HNSW with selector"] = (filters[f], first, "ann")
        pool = cfg.index.candidates
        timing: dict[str, list[float]] = {c: [] for c in cases}
        parts: dict[str, dict[str, list[float]]] = {s: {"encode": [], "search": [], "rerank": []} for s in settings}
        mask_ms: dict[str, list[float]] = {f: [] for f in filters}
        qv_all = []
        hits_all: dict[str, list[list[int]]] = {c: [] for c in cases}
        for qi, text in enumerate(queries):
            for case, (flt, setting, method) in cases.items():
                encoder, threads = settings[setting]
                faiss.omp_set_num_threads(threads)
                idx.exact_filter_fraction = 0.0 if method == "ann" else cfg_fraction
                t0 = time.perf_counter()
                q = encoder.encode([text])
                t1 = time.perf_counter()
                # The engine's own path: the filter mask from the snapshot's columns, then the index.
                hits = topical_candidates(big, q[0], pool, flt, exclude_brand_accounts=cfg.fit.exclude_brand_accounts)
                t2 = time.perf_counter()
                # Rerank the base creators the hits derive from (same count, same code path).
                mapped = [Hit(str(snap.index.ids_[base[h.row]]), int(base[h.row]), h.score) for h in hits]
                seen: set[int] = set()
                mapped = [h for h in mapped if not (h.row in seen or seen.add(h.row))]
                reranker.rank(snap, q[0], mapped, 10)
                t3 = time.perf_counter()
                timing[case].append(1000 * (t3 - t0))
                if setting == first and method == "auto" and case.split(",")[0] in mask_ms:
                    # The mask alone, outside the timed chain (the chain above includes it).
                    tm = time.perf_counter()
                    filter_mask(big, flt, exclude_brand_accounts=cfg.fit.exclude_brand_accounts)
                    mask_ms[case.split(",")[0]].append(1000 * (time.perf_counter() - tm))
                if flt is None:
                    parts[setting]["encode"].append(1000 * (t1 - t0))
                    parts[setting]["search"].append(1000 * (t2 - t1))
                    parts[setting]["rerank"].append(1000 * (t3 - t2))
                    if setting == first:
                        qv_all.append(q[0])
                hits_all[case].append([h.row for h in hits[:10]])
        faiss.omp_set_num_threads(default_threads)
        idx.exact_filter_fraction = cfg_fraction
        # Recall@10 of the engine's answer against exact search over the same rows (outside the timed loop).
        qv = np.vstack(qv_all)
        vectors = idx.vectors_
        for case, (flt, setting, method) in cases.items():
            if setting != first:
                continue
            allowed = filter_mask(big, flt, exclude_brand_accounts=cfg.fit.exclude_brand_accounts)
            rec = []
            for i in range(len(qv)):
                s = vectors @ qv[i]
                if allowed is not None:
                    s = np.where(allowed, s, -np.inf)
                exact = np.argpartition(-s, 10)[:10]
                rec.append(len(set(exact.tolist()) & set(hits_all[case][i])) / 10)
            recall_rows.append((n, case.split(",")[0] + (", brand accounts included" if "included" in case else "") + (", HNSW with selector" if method == "ann" else ""), float(np.mean(rec))))
        del vectors
        for case in cases:
            results.append((n, idx.kind_, case, pct(timing[case], 50), pct(timing[case], 99), float(np.mean(timing[case]))))
        for f, ms in mask_ms.items():
            results.append((n, idx.kind_, f"filter mask alone ({f}; engine.filter_mask on the snapshot's columns)", pct(ms, 50), pct(ms, 99), float(np.mean(ms))))
        for setting, pr in parts.items():
            results.append((n, idx.kind_, f"parts (no filter, {setting}): encode / search incl. mask / rerank p50", pct(pr["encode"], 50), pct(pr["search"], 50), pct(pr["rerank"], 50)))
        if args.batch_brands and n == max(args.sizes):
            batch_rows.extend(batch_figures(idx, snap, reranker, m.encoder, queries, args.batch_brands, cfg.index.candidates))
        rss = rss_gb()
        peak = peak_rss_gb()
        index_bpc = (idx.index_.ntotal and faiss_bytes(idx)) / n
        results.append((n, idx.kind_, f"memory: rss {rss:.1f} GiB after the queries (peak {peak:.1f} GiB, during the build); FAISS index {index_bpc:.0f} B/creator; no second copy of the vectors; build {build_s:.0f} s; filter columns built in {warm_s:.2f} s; brand accounts {100 * brand_share:.1f}%", 0, 0, 0))
        print(results[-6:], recall_rows[-6:], flush=True)
        del idx, base, big
        gc.collect()

    lines = [
        "# recommend() latency",
        "",
        f"Generated by `benchmarks/recommend_latency.py` on {host}; the machine is shared with other work, so the tail (p99) carries their noise. "
        f"{len(queries)} briefs, each timed end to end (encode + the engine's filter mask and index search for {Config().index.candidates} candidates + rerank), cases interleaved query by query. "
        f"Vectors: derived from a {args.base_creators}-creator sample store (profile mixed with one of the creator's own post vectors, plus noise), not encoded one by one.",
        "",
        "| creators | index | case | p50 ms | p99 ms | mean ms |",
        "|---:|---|---|---:|---:|---:|",
    ]
    for n, kind, case, a, b, c in results:
        if case.startswith("memory"):
            lines.append(f"| {n:,} | {kind} | {case} | | | |")
        else:
            lines.append(f"| {n:,} | {kind} | {case} | {a:.1f} | {b:.1f} | {c:.1f} |")
    lines += ["", "| creators | case | recall@10 vs exact |", "|---:|---|---:|"]
    lines += [f"| {n:,} | {case} | {r:.3f} |" for n, case, r in recall_rows]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "recommend_latency.md").write_text("\n".join(lines) + "\n")
    if batch_rows:
        blines = [
            "# Batch ranking throughput",
            "",
            f"Generated by `benchmarks/recommend_latency.py` on {host} (shared, contended machine), over the {max(args.sizes):,}-creator index above.",
            "",
            *batch_rows,
        ]
        (args.out / "batch_throughput.md").write_text("\n".join(blines) + "\n")
        print("\n".join(blines))
    print("\n".join(lines))
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def batch_figures(idx: VectorIndex, snap, reranker, encoder, texts: list[str], n_brands: int, pool: int) -> list[str]:
    """Search for ``n_brands`` brand vectors in one batched call, and time the per-brand rerank at k=100."""
    rng = np.random.default_rng(7)
    qv = encoder.encode(texts)
    # Brand vectors: the encoded briefs, perturbed like the creators, so 10,000 distinct queries.
    q = qv[rng.integers(0, len(qv), n_brands)] + rng.standard_normal((n_brands, qv.shape[1]), dtype=np.float32) * (0.25 / np.sqrt(qv.shape[1]))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    t = time.perf_counter()
    for s in range(0, n_brands, 1000):
        idx.search(q[s : s + 1000], pool)
    search_s = time.perf_counter() - t
    t = time.perf_counter()
    sample = min(200, n_brands)
    for i in range(sample):
        idx.search(q[i], pool)
    one_by_one = (time.perf_counter() - t) / sample
    base_hits = snap.index.search(qv[: min(50, len(qv))], pool)
    t = time.perf_counter()
    for i, hs in enumerate(base_hits):
        reranker.rank(snap, qv[i], hs, 100)
    rerank = (time.perf_counter() - t) / len(base_hits)
    total = search_s + rerank * n_brands
    return [
        "| step | measured | for 10,000 brands |",
        "|---|---:|---:|",
        f"| index search, batched 1,000 queries a call (FAISS uses both cores) | {1000 * search_s / n_brands:.2f} ms/brand | {search_s:.0f} s |",
        f"| index search, one query a call (as the batch does now) | {1000 * one_by_one:.2f} ms/brand | {one_by_one * n_brands:.0f} s |",
        f"| rerank {pool} candidates into the top 100 (matcher's Reranker, per brand) | {1000 * rerank:.1f} ms/brand | {rerank * n_brands:.0f} s |",
        f"| total with batched search | | {total:.0f} s (target 180 s) |",
    ]


def faiss_bytes(idx: VectorIndex) -> int:
    import faiss

    return int(faiss.serialize_index(idx.index_).nbytes)


if __name__ == "__main__":
    sys.exit(main())
