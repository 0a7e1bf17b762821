"""Reading the posts table from a folder of part files against the same rows in one file, in one run.

The inputs are a seeded sample (``matcher.sample.generate``, Parquet, with its deliberately bad rows)
or a given folder of creators, posts and brands files (such as a ``batch_scale.py`` night). The posts
file is also written as ``--parts`` part files, as Spark or a warehouse export would write it, and
``load_dataset`` reads the inputs both ways, each read in a fresh process so its peak memory is its
own, alternating for ``--rounds`` rounds. With ``--ray``, a third way reads the parts as the Ray engine
does, each part converted by a Ray task (``RayStages.map_parts``, Ray started on this machine in the
child, its start-up timed apart). Every way must accept the same rows and quarantine the same records (a
part's record numbers mapped back to the file's); the script stops if one does not.

    python benchmarks/ingest_parts.py --creators 200000 --parts 16
    python benchmarks/ingest_parts.py --data /work/bench1m/night --parts 16 --rounds 3
    python benchmarks/ingest_parts.py --creators 1000000 --parts 16 --rounds 3 --ray
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from hostinfo import cpu_model, ram_gib  # noqa: E402

NOTES = "<!-- notes -->"


def _table(folder: Path, name: str) -> Path:
    for suffix in (".parquet", ".csv", ".csv.gz", ".jsonl"):
        if (folder / f"{name}{suffix}").exists():
            return folder / f"{name}{suffix}"
    raise SystemExit(f"{folder}: no {name} table (.parquet, .csv, .csv.gz or .jsonl)")


def split(posts: Path, folder: Path, parts: int) -> list[int]:
    """Write ``posts`` as ``parts`` part files in ``folder`` (with a ``_SUCCESS`` marker); their rows."""
    import pandas as pd
    import pyarrow.parquet as pq

    folder.mkdir(parents=True)
    sizes = []
    if posts.suffix == ".parquet":
        table = pq.read_table(posts)
        step = -(-table.num_rows // parts)
        for k in range(parts):
            piece = table.slice(k * step, step)
            pq.write_table(piece, folder / f"part-{k:05d}.parquet")
            sizes.append(piece.num_rows)
    else:
        frame = pd.read_csv(posts, dtype=str, keep_default_na=False)
        step = -(-len(frame) // parts)
        for k in range(parts):
            piece = frame.iloc[k * step : (k + 1) * step]
            piece.to_csv(folder / f"part-{k:05d}.csv", index=False)
            sizes.append(len(piece))
    (folder / "_SUCCESS").write_bytes(b"")
    return sizes


def child(creators: str, posts: str, brands: str, engine: str) -> None:
    """One read, in this process (``engine`` "ray": the parts as Ray tasks): its time, the driver's
    peak RSS and what it accepted and quarantined."""
    import hashlib
    from contextlib import ExitStack

    import pandas as pd

    from matcher.ingest import load_dataset

    ray_start = None
    with ExitStack() as stack:
        map_parts = None
        if engine == "ray":
            from matcher.distributed import RayStages

            t = time.perf_counter()
            map_parts = stack.enter_context(RayStages()).map_parts
            ray_start = time.perf_counter() - t
        started = time.perf_counter()
        ds = load_dataset(creators, posts, brands, map_parts=map_parts)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    digest = hashlib.sha256(pd.util.hash_pandas_object(ds.posts, index=False).to_numpy().tobytes()).hexdigest()
    rejections = [(r.file, r.row, r.id, r.field, r.action) for r in ds.rejections if r.file.startswith(posts.rstrip("/"))]
    print(json.dumps({
        "seconds": seconds, "ray_start": ray_start, "peak_bytes": peak, "posts_digest": digest, "accepted": len(ds.posts),
        "counts": {r.name: [r.read, r.accepted, r.quarantined] for r in ds.reports}, "post_rejections": rejections,
    }))


def measure(creators: Path, posts: Path, brands: Path, engine: str = "local") -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(creators), str(posts), str(brands), engine], check=True, capture_output=True, text=True, env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def same_records(one: dict, parts: dict, file: Path, folder: Path, sizes: list[int]) -> None:
    """Stop unless both reads accepted the same posts and quarantined the same records."""
    if one["posts_digest"] != parts["posts_digest"] or one["counts"] != parts["counts"]:
        raise SystemExit(f"the two reads differ: {one['counts']} against {parts['counts']}")
    starts = [0]
    for n in sizes:
        starts.append(starts[-1] + n)
    mapped = []
    for f, row, rid, field, action in parts["post_rejections"]:
        k = int(Path(f).name.split("-")[1].split(".")[0])
        mapped.append([str(file), starts[k] + row, rid, field, action])
    if mapped != [list(r) for r in one["post_rejections"]]:
        raise SystemExit("the quarantine of the parts does not name the same records as that of the file")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--creators", type=int, default=200_000, help="sample size when --data is not given")
    ap.add_argument("--data", type=Path, help="a folder with creators, posts and brands tables to read instead of a sample")
    ap.add_argument("--data-label", help="what --data holds, for the report (default: its path)")
    ap.add_argument("--parts", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workdir", type=Path, help="where the sample and the parts go (default: a temporary directory)")
    ap.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "ingest_parts.md")
    ap.add_argument("--ray", action="store_true", help="also read the parts as Ray tasks, as the Ray engine does (needs matcher[ray])")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0

    work = args.workdir or Path(tempfile.mkdtemp(prefix="ingest-parts-"))
    try:
        if args.data:
            data, what = args.data, args.data_label or f"the tables in `{args.data}`"
        else:
            from matcher.sample import generate

            data = work / "sample"
            generate(data, seed=5, n_creators=args.creators, n_brands=100, posts_per_creator=(2, 4), fmt="parquet", comments=False, outcomes=False)
            what = f"a seeded sample of {args.creators:,} creators (Parquet, with its bad rows)"
        creators, posts, brands = _table(data, "creators"), _table(data, "posts"), _table(data, "brands")
        folder = work / "posts-parts"
        shutil.rmtree(folder, ignore_errors=True)
        sizes = split(posts, folder, args.parts)
        load = os.getloadavg()
        on_ray = f"{args.parts} parts, a Ray task each"
        runs: dict[str, list[dict]] = {"one file": [], f"{args.parts} parts": [], **({on_ray: []} if args.ray else {})}
        for _ in range(args.rounds):
            runs["one file"].append(measure(creators, posts, brands))
            runs[f"{args.parts} parts"].append(measure(creators, folder, brands))
            same_records(runs["one file"][-1], runs[f"{args.parts} parts"][-1], posts, folder, sizes)
            if args.ray:
                runs[on_ray].append(measure(creators, folder, brands, "ray"))
                same_records(runs["one file"][-1], runs[on_ray][-1], posts, folder, sizes)
        load_end = os.getloadavg()
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)

    first = runs["one file"][0]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    ram = ram_gib()
    ram_text = f"{ram:.1f} GiB RAM" if ram is not None else "RAM unknown"
    lines = [
        "# Reading a table from a folder of part files",
        "",
        f"`benchmarks/ingest_parts.py`. Run {stamp} on {cpu_model()}, {os.cpu_count()} cores, {ram_text} "
        f"(load average {load[0]:.1f} at start, {load_end[0]:.1f} at end). Inputs: {what}: "
        f"{first['counts']['posts'][0]:,} post rows ({first['counts']['posts'][2]:,} quarantined), the posts read from "
        f"`{posts.name}` and from the same rows as {args.parts} part files. `load_dataset` of creators, posts and brands, "
        f"each read in a fresh process, the ways alternating, {args.rounds} rounds; median (min–max)"
        + (
            f". The Ray reads start Ray on this machine ({os.cpu_count()} CPUs) first, in "
            f"{statistics.median(r['ray_start'] for r in runs[on_ray]):.1f} s (median), not counted in their time; "
            "their peak RSS is the driver's alone, not the Ray workers'."
            if args.ray else "."
        ),
        "",
        "| posts read from | wall time (s) | vs one file | peak RSS (GiB) |",
        "|---|---:|---:|---:|",
    ]
    base = statistics.median(r["seconds"] for r in runs["one file"])
    for name, rs in runs.items():
        secs = [r["seconds"] for r in rs]
        peak = max(r["peak_bytes"] for r in rs) / 2**30
        lines.append(
            f"| {name} | {statistics.median(secs):.1f} ({min(secs):.1f}–{max(secs):.1f}) | "
            f"{statistics.median(secs) / base:.2f}× | {peak:.2f} |"
        )
    lines += [
        "",
        f"{'Every way' if args.ray else 'Both ways'} accepted the same {first['accepted']:,} posts (the same frame, hashed) and quarantined the same records: "
        "each part's record numbers, mapped back to the file's, name the file's records.",
        "",
    ]
    md = args.results
    notes = ""
    if md.exists() and NOTES in (old := md.read_text()):
        notes = old[old.index(NOTES):]
    md.write_text("\n".join(lines) + ("\n" + notes if notes else f"{NOTES}\n"))
    print(md.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
