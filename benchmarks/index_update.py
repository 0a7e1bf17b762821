"""Updating the creator index between nightly runs: HNSW rebuilt, HNSW updated in place, IVF with an id map.

FAISS's HNSW graph cannot delete a node. The nightly batch therefore updates it in place
(``VectorIndex.update``: unchanged creators keep their nodes, changed and new ones are added, replaced
nodes stay in the graph dead and are excluded from every search, the graph is rebuilt once dead nodes
pass ``index.max_dead_fraction``). The alternative is an index that can delete: IVF-Flat, whose
inverted lists drop ids (``remove_ids``) and take new ones (``add_with_ids``). This script compares the
three on the same data, night after night, with the measures that decide: the time to bring the index
up to date, recall@10 and recall@200 (the rank stage's candidate count) against exact search, and the
search time per query.

Data: ``--n`` unit vectors of dimension 384 drawn like topical embeddings (15 niche centres, each vector
a mix of two centres plus noise), not real text; queries are drawn the same way. Each night
``--share`` of the creators get a new vector and ``--new`` more creators are added. IVF gets
``4 * sqrt(n)`` lists trained on the first night's vectors (k-means on a sample of 50 per list), and is
searched with two ``nprobe`` settings. Everything runs in this process, one method after the other,
on the same nights (one benchmark on the machine at a time):

    .venv/bin/python benchmarks/index_update.py --n 100000
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from hostinfo import cpu_model, ram_gib  # noqa: E402


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def main(argv: Sequence[str] | None = None) -> int:
    import faiss

    from matcher.config import IndexConfig
    from matcher.index import VectorIndex

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--nights", type=int, default=4)
    ap.add_argument("--share", type=float, default=0.05, help="creators with a new vector each night")
    ap.add_argument("--new", type=float, default=0.01, help="new creators each night, as a share of --n")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--results", default=str(HERE / "results" / "index_update.md"))
    a = ap.parse_args(argv)

    cfg = IndexConfig()
    rng = np.random.default_rng(a.seed)
    d = 384
    centres = rng.normal(size=(15, d))

    def draw(m: int) -> np.ndarray:
        c1, c2 = rng.integers(0, 15, m), rng.integers(0, 15, m)
        w = rng.uniform(0.5, 1.0, (m, 1))
        return _unit(w * centres[c1] + (1 - w) * centres[c2] + 0.8 * rng.normal(size=(m, d)))

    x = draw(a.n)
    ids = [f"c{i:07d}" for i in range(a.n)]
    q = draw(a.queries)
    load_start = os.getloadavg()
    started = datetime.now(timezone.utc)

    def recall(found: list[list[int]], exact: np.ndarray) -> float:
        k = exact.shape[1]
        return float(np.mean([len(set(f) & set(e.tolist())) / k for f, e in zip(found, exact)]))

    def vi_rows(index: VectorIndex, k: int) -> tuple[list[list[int]], float]:
        t = time.perf_counter()
        hits = index.search(q, k)
        ms = 1000 * (time.perf_counter() - t) / a.queries
        return [[h.row for h in hs] for hs in hits], ms

    # HNSW whatever --n (a small --n is a quick check of the script), with the batch's settings.
    params = {"exact_max": min(cfg.exact_max, a.n // 2), "hnsw_m": cfg.hnsw_m, "ef_construction": cfg.ef_construction, "ef_search": cfg.ef_search}
    t = time.perf_counter()
    updated = VectorIndex(**params).build(x, ids)
    base_build_s = time.perf_counter() - t
    print(f"base HNSW build over {a.n:,}: {base_build_s:.1f} s", flush=True)

    nlist = int(4 * math.sqrt(a.n))
    quantizer = faiss.IndexFlatIP(d)
    ivf = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
    t = time.perf_counter()
    ivf.train(x[rng.choice(a.n, min(a.n, 50 * nlist), replace=False)])
    ivf.add_with_ids(x, np.arange(a.n, dtype=np.int64))
    ivf_base_s = time.perf_counter() - t
    print(f"base IVF ({nlist} lists) train + add: {ivf_base_s:.1f} s", flush=True)
    # IVF ids are positions in ``pool`` (every vector ever added); ``row_id`` maps a creator to its current one.
    pool = [x]
    pool_n = a.n
    current = np.arange(a.n, dtype=np.int64)  # creator row -> IVF id

    rows: list[dict[str, float | int | str]] = []
    for night in range(1, a.nights + 1):
        changed = np.sort(rng.choice(len(ids), int(a.share * a.n), replace=False))
        x = x.copy()
        x[changed] = draw(len(changed))
        n_new = int(a.new * a.n)
        x = np.concatenate([x, draw(n_new)])
        ids = ids + [f"n{night}-{i:06d}" for i in range(n_new)]
        _, exact10 = faiss.knn(q, x, 10, metric=faiss.METRIC_INNER_PRODUCT)
        _, exact200 = faiss.knn(q, x, 200, metric=faiss.METRIC_INNER_PRODUCT)

        t = time.perf_counter()
        rebuilt = VectorIndex(**params).build(x, ids)
        rebuild_s = time.perf_counter() - t
        f10, ms10 = vi_rows(rebuilt, 10)
        f200, ms200 = vi_rows(rebuilt, 200)
        rows.append({"night": night, "method": "HNSW rebuilt", "update_s": rebuild_s, "r10": recall(f10, exact10), "r200": recall(f200, exact200), "ms10": ms10, "ms200": ms200, "dead": 0.0})
        del rebuilt

        t = time.perf_counter()
        updated.update(x, ids, max_dead_fraction=1.0)  # never rebuilt here: how recall holds as dead nodes pile up
        update_s = time.perf_counter() - t
        f10, ms10 = vi_rows(updated, 10)
        f200, ms200 = vi_rows(updated, 200)
        rows.append({"night": night, "method": "HNSW updated in place", "update_s": update_s, "r10": recall(f10, exact10), "r200": recall(f200, exact200), "ms10": ms10, "ms200": ms200, "dead": updated.dead / updated.nodes})

        t = time.perf_counter()
        ivf.remove_ids(faiss.IDSelectorBatch(current[changed]))
        fresh = np.concatenate([x[changed], x[-n_new:]])
        new_ids = np.arange(pool_n, pool_n + len(fresh), dtype=np.int64)
        ivf.add_with_ids(fresh, new_ids)
        ivf_s = time.perf_counter() - t
        pool.append(fresh)
        pool_n += len(fresh)
        current = np.concatenate([current, np.zeros(n_new, dtype=np.int64)])
        current[changed] = new_ids[: len(changed)]
        current[-n_new:] = new_ids[len(changed):]
        row_of_ivf = np.full(pool_n, -1, dtype=np.int64)
        row_of_ivf[current] = np.arange(len(current))
        for nprobe in (16, 64):
            ivf.nprobe = nprobe
            found = {}
            ms = {}
            for k in (10, 200):
                t = time.perf_counter()
                _, got = ivf.search(q, k)
                ms[k] = 1000 * (time.perf_counter() - t) / a.queries
                found[k] = [[int(row_of_ivf[g]) for g in r if g >= 0] for r in got]
            rows.append({"night": night, "method": f"IVF-Flat, {nlist} lists, nprobe {nprobe}", "update_s": ivf_s, "r10": recall(found[10], exact10), "r200": recall(found[200], exact200), "ms10": ms[10], "ms200": ms[200], "dead": 0.0})
        for r in rows[-4:]:
            print(f"night {night}: {r['method']}: {r['update_s']:.1f} s, recall@10 {r['r10']:.4f}, @200 {r['r200']:.4f}, {r['ms10']:.2f}/{r['ms200']:.2f} ms, dead {r['dead']:.1%}", flush=True)

    ram = ram_gib()
    L = ["# Updating the creator index between nightly runs", ""]
    L.append(
        f"`benchmarks/index_update.py` (see its docstring). Run {started.strftime('%Y-%m-%d %H:%M UTC')} on {cpu_model()}, {os.cpu_count()} cores, "
        f"{'unknown' if ram is None else f'{ram:.1f} GiB'} (shared with other engineers' jobs; load average "
        f"{' / '.join(f'{v:.1f}' for v in load_start)} at start, {' / '.join(f'{v:.1f}' for v in os.getloadavg())} at end: times are inflated and noisy, "
        f"compare them within a night). {a.n:,} creators of dimension {d} (synthetic topical vectors), {a.share:.0%} of them with a new vector and "
        f"{a.new:.0%} new creators each night; {a.queries} queries; HNSW M {cfg.hnsw_m}, efConstruction {cfg.ef_construction}, efSearch {cfg.ef_search}. "
        f"Base build: HNSW {base_build_s:.1f} s, IVF train + add {ivf_base_s:.1f} s. The in-place HNSW is never rebuilt here, so its last nights show "
        f"recall with more dead nodes than the batch's threshold ({cfg.max_dead_fraction:.0%}) allows."
    )
    L.append("")
    L.append("| night | method | update (s) | recall@10 | recall@200 | ms per query @10 | ms per query @200 | dead nodes |")
    L.append("|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        L.append(f"| {r['night']} | {r['method']} | {r['update_s']:.1f} | {r['r10']:.4f} | {r['r200']:.4f} | {r['ms10']:.2f} | {r['ms200']:.2f} | {r['dead']:.1%} |")
    L.append("")
    out = Path(a.results)
    notes = ""
    if out.exists() and "<!-- notes -->" in out.read_text():
        notes = out.read_text().split("<!-- notes -->", 1)[1]
    out.write_text("\n".join(L) + "\n<!-- notes -->" + (notes or "\n"))
    print(out.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
