"""The Ray engine against the local engine on the same input in one run: wall time and the driver's peak memory.

Targets: Ray in local mode costs at most 1.3× the local engine's wall time; the driver's peak memory
is bounded by the batch size, not the collection.

Steps:

1. **Dataset and seeded cache**: ``benchmarks/batch_scale.py``'s ``prepare`` (seeded sample, Parquet,
   2–4 posts per creator, no comments), whose embedding cache holds a vector for every text under the
   batch's own keys (a few hundred creators and every brief encoded for real, the rest derived from
   them), so neither engine spends hours encoding. The cache is copied, so each engine has a store of
   its own with the same cache.
2. **One batch per engine** in a child process of its own (so each peak RSS is its own): the local
   engine, then ``engine="ray"`` with Ray started in that child (``ray.init(num_cpus=2)``, a 1 GiB
   object store). Recorded: wall time, the batch's stage timings, the child's peak RSS (the driver,
   with its forked workers' private memory; Ray's processes are sampled apart), the same with the
   driver's anonymous memory (``RssAnon``) in place of its RSS, and the peak per stage.
3. **Agreement**: the stored matches of the two snapshots, brand by brand.

    .venv/bin/python benchmarks/ray_vs_local.py --creators 200000 [--brands 1000] [--top-k 50]

Writes ``benchmarks/results/ray_vs_local.json`` (one record per size) and ``ray_vs_local.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import batch_scale  # noqa: E402
from eval_dev import machine  # noqa: E402


class WorkerRss:
    """Peak summed RSS of this process's other descendants (Ray's raylet, workers and actors), sampled;
    the batch's own forked workers count with the driver (``batch_scale._rss``), not here."""

    def __init__(self, every: float = 0.5) -> None:
        import psutil

        self.me = psutil.Process()
        self.peak = 0
        self.every = every
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            total = 0
            driver = {p.pid for p in batch_scale.forked_workers(self.me)}
            for p in self.me.children(recursive=True):
                if p.pid in driver:
                    continue
                try:
                    total += p.memory_info().rss
                except Exception:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(self.every)

    def __enter__(self) -> WorkerRss:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()


def child(a: argparse.Namespace) -> dict[str, Any]:
    import matcher.batch as B
    from matcher.config import Config

    files = json.loads(a.files)
    watch = batch_scale._RssWatch()
    original = B._Run._stage

    def stage(self, name, compute):  # type: ignore[no-untyped-def]
        watch.set(name)
        try:
            return original(self, name, compute)
        finally:
            watch.set(f"after {name}")

    B._Run._stage = stage  # type: ignore[method-assign]
    kwargs: dict[str, Any] = {}
    t0 = time.perf_counter()
    if a.engine == "ray":
        import ray

        ray.init(num_cpus=2, include_dashboard=False, object_store_memory=1 << 30, configure_logging=False, log_to_driver=False)
        kwargs["engine"] = "ray"
    ray_start = time.perf_counter() - t0
    with watch, WorkerRss() as workers:
        t = time.perf_counter()
        res = B.run_batch(files["creators"], files["posts"], files["brands"], a.store, config=Config(top_k=a.top_k), progress=False, **kwargs)
        wall = time.perf_counter() - t
    if a.engine == "ray":
        import ray

        ray.shutdown()
    print(f"{a.engine}: {wall:.0f} s, peak RSS {batch_scale._maxrss() / 2**30:.2f} GiB", flush=True)
    return {
        "engine": a.engine, "wall_s": wall, "ray_init_s": ray_start, "timings": res.timings, "encoded": res.encoded, "matches": res.matches,
        # The driver's peak: its own, or with its forked workers' private memory when that was larger.
        "snapshot_id": res.snapshot_id, "maxrss": max([batch_scale._maxrss(), *watch.peaks.values()]), "rss_peaks": watch.peaks, "workers_peak_rss": workers.peak,
        "maxanon": max(watch.anon_peaks.values()), "anon_peaks": watch.anon_peaks,
    }


def agreement(local_store: Path, ray_store: Path, a_sid: str, b_sid: str) -> dict[str, Any]:
    from matcher.store import Store

    ma = Store(local_store).read_matches(a_sid)
    mb = Store(ray_store).read_matches(b_sid)
    same = overlap = 0
    brands = sorted(set(ma["brand_id"]))
    gb = {b: g for b, g in mb.groupby("brand_id")}
    diffs = []
    for b, g in ma.groupby("brand_id"):
        h = gb.get(b)
        if h is None:
            continue
        x, y = g["creator_id"].tolist(), h["creator_id"].tolist()
        same += x == y
        overlap += len(set(x) & set(y)) / max(1, len(x))
        common = g.merge(h, on="creator_id", suffixes=("_a", "_b"))
        if len(common):
            diffs.append(float((common["score_a"] - common["score_b"]).abs().max()))
    return {"brands": len(brands), "identical_rankings": int(same), "mean_overlap": overlap / max(1, len(brands)), "max_score_diff": max(diffs) if diffs else None}


def run(a: argparse.Namespace) -> int:
    work = Path(a.workdir or tempfile.mkdtemp(prefix="ray-vs-local-"))
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    a.workdir = str(work)
    started = datetime.now(timezone.utc)
    host = machine()
    load_start = os.getloadavg()
    t = time.perf_counter()
    prep = batch_scale.prepare(a)
    prep_s = time.perf_counter() - t
    from matcher.store import Store

    local_store, ray_store = work / "store", work / "store-ray"
    target = Store(ray_store).cache_path
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Store(local_store).cache_path, target)
    runs = {}
    for engine, store in (("local", local_store), ("ray", ray_store)):
        out = work / f"{engine}.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "_child", "--engine", engine, "--store", str(store), "--files", json.dumps(prep["files"]),
               "--top-k", str(a.top_k), "--json", str(out)]
        t = time.perf_counter()
        subprocess.run(cmd, check=True)
        runs[engine] = json.loads(out.read_text())
        runs[engine]["process_s"] = time.perf_counter() - t
    agree = agreement(local_store, ray_store, runs["local"]["snapshot_id"], runs["ray"]["snapshot_id"])
    rec = {
        "started": started.strftime("%Y-%m-%d %H:%M UTC"), "machine": host, "load_start": [round(x, 2) for x in load_start],
        "load_end": [round(x, 2) for x in os.getloadavg()], "creators": a.creators, "brands": a.brands, "top_k": a.top_k,
        "rows": prep["rows"], "prepare_s": prep_s, "runs": runs, "agreement": agree,
        "ratio": runs["ray"]["wall_s"] / runs["local"]["wall_s"],
    }
    res = Path(a.results)
    allrec = json.loads(res.with_suffix(".json").read_text()) if res.with_suffix(".json").exists() else {}
    allrec[str(a.creators)] = rec
    res.with_suffix(".json").write_text(json.dumps(allrec, indent=2, sort_keys=True, default=str) + "\n")
    res.write_text(render(allrec, res))
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    print(f"ray / local wall time: {rec['ratio']:.2f}x", flush=True)
    return 0


def render(allrec: dict[str, Any], md: Path) -> str:
    notes = ""
    if md.exists() and "<!-- notes -->" in (old := md.read_text()):
        notes = old[old.index("<!-- notes -->") :]
    lines = [
        "# Ray engine against the local engine, same input, one run",
        "",
        "`benchmarks/ray_vs_local.py` (see its docstring). Inputs and the seeded embedding cache as in "
        "`benchmarks/batch_scale.py` (Parquet, 2–4 posts per creator, no comments; every text's vector in the cache, so "
        "neither engine encodes). Ray in local mode on the same machine (`ray.init(num_cpus=2)`, 1 GiB object store, "
        "default pool: 1 encoding actor, 1 search shard per million creators). The machine is **shared with other "
        "engineers' jobs**: the load average is given, and only the side-by-side ratio compares.",
        "",
    ]
    for key in sorted(allrec, key=int):
        r = allrec[key]
        lo, ra = r["runs"]["local"], r["runs"]["ray"]
        stages = ["ingest_s", "embed_s", "index_s", "signals_s", "rank_s", "write_s", "publish_s"]
        lines += [
            f"## {int(key):,} creators",
            "",
            f"Run {r['started']} on {r['machine']} (load average {' / '.join(str(x) for x in r['load_start'])} at start, "
            f"{' / '.join(str(x) for x in r['load_end'])} at end). Inputs: {r['rows']['creators']:,} creator rows, {r['rows']['posts']:,} post rows, "
            f"{r['rows']['brands']:,} brand rows (top {r['top_k']} stored per brand).",
            "",
            "| engine | batch wall (s) | " + " | ".join(s[:-2] for s in stages) + " | driver peak RSS (GiB) | driver peak anonymous (GiB) | Ray processes' peak RSS (GiB) |",
            "|---|---:|" + "---:|" * len(stages) + "---:|---:|---:|",
        ]
        for name, x in (("local", lo), ("ray", ra)):
            cells = " | ".join(f"{x['timings'].get(s, 0):.1f}" for s in stages)
            workers = f"{x['workers_peak_rss'] / 2**30:.2f}" if name == "ray" else "–"
            anon = f"{x['maxanon'] / 2**30:.2f}" if "maxanon" in x else "–"
            lines.append(f"| {name} | **{x['wall_s']:.1f}** | {cells} | {x['maxrss'] / 2**30:.2f} | {anon} | {workers} |")
        ag = r["agreement"]
        diff = f"{ag['max_score_diff']:.2e}" if ag["max_score_diff"] is not None else "n/a"
        lines += [
            "",
            f"Ray / local wall time: **{r['ratio']:.2f}×** (target ≤ 1.3×; Ray's own start-up, {ra['ray_init_s']:.1f} s, not included). "
            f"Driver peak RSS: local {lo['maxrss'] / 2**30:.2f} GiB, Ray {ra['maxrss'] / 2**30:.2f} GiB.",
            f"Agreement: {ag['identical_rankings']} of {ag['brands']} brands ranked identically, mean overlap of the stored matches "
            f"{ag['mean_overlap']:.4f}, largest score difference on a creator both keep {diff}.",
            "",
            "Peak RSS by stage (GiB): "
            + "; ".join(f"{name}: " + ", ".join(f"{k} {v / 2**30:.2f}" for k, v in x["rss_peaks"].items()) for name, x in (("local", lo), ("ray", ra))),
            "",
        ]
    return "\n".join(lines) + ("\n" + notes if notes else "")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("step", nargs="?", default="run", choices=["run", "_child", "render"])
    ap.add_argument("--creators", type=int, default=200_000)
    ap.add_argument("--brands", type=int, default=1000)
    ap.add_argument("--top-k", type=int, default=50)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--base-creators", type=int, default=600, help="creators encoded for real (the derived vectors' bases)")
    ap.add_argument("--noise", type=float, default=0.25)
    ap.add_argument("--workdir")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--results", default=str(HERE / "results" / "ray_vs_local.md"))
    ap.add_argument("--engine", choices=["local", "ray"])
    ap.add_argument("--store")
    ap.add_argument("--files")
    ap.add_argument("--json")
    a = ap.parse_args()
    if a.step == "run":
        return run(a)
    if a.step == "render":
        res = Path(a.results)
        res.write_text(render(json.loads(res.with_suffix(".json").read_text()), res))
        return 0
    Path(a.json).write_text(json.dumps(child(a), default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
