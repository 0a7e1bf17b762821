"""Precision and recall of the detected past collaborations on hand-labelled sponsored posts.

``benchmarks/collaborations_labels.csv`` lists, for each labelled post, the brands behind it
(``;`` between brands, ``|`` between the spellings of one brand), labelled by reading each post
and frozen before this script first ran:

* ``sample``: 50 sponsored posts of the generated sample (seed 7, 400 creators; the posts the
  platform flagged, named a sponsor for or that :func:`matcher.signals.post_signals` detects),
  picked by a seeded hash of their ids;
* ``youtube``: every video of the dev set (``../shared/data/youtube``) whose description matches
  a fixed sponsorship pattern (``sponsor``, ``#ad``, ``code``, ``partner``, ``promo``,
  ``affiliate``, ``discount``, ...). Labels name a sponsor, a gifted product's brand or a brand
  with the creator's own discount code; affiliate shop links, the creator's own merch and
  referral invites are not collaborations, and posts that only look sponsored have no label.

Each set runs through the nightly batch's path (ingest, :func:`matcher.signals.post_signals`,
:func:`matcher.collaborations.collection_collaborations` over the whole collection). A detected
collaboration is correct when its brand key (:func:`matcher.collaborations.brand_key`) equals
one of a labelled brand's spellings. Precision counts every detection in the labelled posts;
recall counts the labelled brands found. Without the dev data the YouTube half is skipped.

    .venv/bin/python benchmarks/collaborations.py [--data ../shared/data] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from hostinfo import cpu_model, ram_gib  # noqa: E402

from matcher.collaborations import SOURCES, brand_key, collection_collaborations  # noqa: E402
from matcher.ingest import load_creators, load_dataset, load_posts  # noqa: E402
from matcher.signals import post_signals  # noqa: E402

LABELS = ROOT / "benchmarks" / "collaborations_labels.csv"
DATA_ENV = "EVAL_DATA_DIR"
DEFAULT_DATA = ROOT.parent / "shared" / "data"
SAMPLE_SEED, SAMPLE_CREATORS = 7, 400


def read_labels(path: Path = LABELS) -> dict[str, dict[str, list[set[str]]]]:
    """``{set: {post_id: [keys of each labelled brand's spellings]}}``."""
    out: dict[str, dict[str, list[set[str]]]] = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            brands = [{brand_key(s) for s in b.split("|") if s.strip()} for b in row["brands"].split(";") if b.strip()]
            out.setdefault(row["set"], {})[row["post_id"]] = brands
    return out


def sample_collaborations(work: Path) -> pd.DataFrame:
    from matcher.sample import generate

    info = generate(work / "sample", seed=SAMPLE_SEED, n_creators=SAMPLE_CREATORS, comments=False, outcomes=False)
    ds = load_dataset(info.creators, info.posts, info.brands)
    return collection_collaborations(ds.creators, ds.posts, post_signals(ds.posts), ds.brands)


def youtube_collaborations(data: Path, work: Path) -> pd.DataFrame:
    from matcher.adapters import youtube_tables

    creators, posts = youtube_tables(data / "youtube" / "USvideos_dev.csv", categories=data / "youtube" / "US_category_id.json")
    creators.to_csv(work / "creators.csv", index=False)
    posts.to_csv(work / "posts.csv", index=False)
    cr, _, _ = load_creators(work / "creators.csv")
    po, _, _ = load_posts(work / "posts.csv", set(cr["creator_id"]))
    return collection_collaborations(cr, po, post_signals(po))


def score(labels: dict[str, list[set[str]]], found: pd.DataFrame) -> dict[str, object]:
    """Detections and hits per source, and the labelled brands found, over the labelled posts."""
    found = found[found["post_id"].astype(str).isin(labels)]
    per: dict[str, list[int]] = {s: [0, 0] for s in SOURCES}
    wrong: list[tuple[str, str, str]] = []
    got: dict[str, set[int]] = {}
    got_by: dict[str, dict[str, set[int]]] = {s: {} for s in SOURCES}
    for r in found.itertuples(index=False):
        brands = labels[str(r.post_id)]
        hit = [j for j, keys in enumerate(brands) if r.brand_key in keys]
        per[r.source][0] += 1
        if hit:
            per[r.source][1] += 1
            got.setdefault(str(r.post_id), set()).update(hit)
            got_by[r.source].setdefault(str(r.post_id), set()).update(hit)
        else:
            wrong.append((str(r.post_id), str(r.brand), str(r.source)))
    n_brands = sum(len(b) for b in labels.values())
    return {
        "posts": len(labels),
        "labelled_posts": sum(1 for b in labels.values() if b),
        "brands": n_brands,
        "per_source": per,
        "found": sum(len(v) for v in got.values()),
        "found_by": {s: sum(len(v) for v in got_by[s].values()) for s in SOURCES},
        "wrong": wrong,
        "unlabelled_hits": int(found["post_id"].astype(str).map(lambda p: not labels[p]).sum()),
    }


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f} ({a}/{b})" if b else "n/a (0)"


def table(name: str, s: dict[str, object]) -> list[str]:
    per = s["per_source"]
    total_d = sum(v[0] for v in per.values())
    total_h = sum(v[1] for v in per.values())
    lines = [
        f"### {name}: {s['posts']} posts, {s['labelled_posts']} with a labelled brand, {s['brands']} labelled brands",
        "",
        "| source | detections | precision | labelled brands found (recall) |",
        "|---|---|---|---|",
    ]
    for src in SOURCES:
        d, h = per[src]
        lines.append(f"| {src} | {d} | {_ratio(h, d)} | {_ratio(s['found_by'][src], s['brands'])} |")
    lines.append(f"| all | {total_d} | {_ratio(total_h, total_d)} | {_ratio(s['found'], s['brands'])} |")
    lines.append("")
    lines.append(f"Detections in posts with no labelled brand: {s['unlabelled_hits']}.")
    lines.append("")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help=f"dev data directory (default: ${DATA_ENV} or ../shared/data)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    labels = read_labels()
    data = Path(args.data or os.environ.get(DATA_ENV) or DEFAULT_DATA)
    has_data = (data / "youtube" / "USvideos_dev.csv").is_file()
    gib = ram_gib()
    machine = f"{cpu_model()}, {os.cpu_count()} cores" + ("" if gib is None else f", {gib:.0f} GiB RAM")
    results: dict[str, dict[str, object]] = {}
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="matcher-collab-") as d:
        work = Path(d)
        t = time.perf_counter()
        results["sample"] = score(labels["sample"], sample_collaborations(work))
        timings["sample"] = time.perf_counter() - t
        if has_data:
            (work / "yt").mkdir()
            t = time.perf_counter()
            results["youtube"] = score(labels["youtube"], youtube_collaborations(data, work / "yt"))
            timings["youtube"] = time.perf_counter() - t
        else:
            print(f"no dev data at {data}: the YouTube half is skipped", file=sys.stderr)
    lines = [
        "# Detected past collaborations against hand labels",
        "",
        "`benchmarks/collaborations.py` on the labels of `benchmarks/collaborations_labels.csv` (how they were",
        "picked and labelled: the script's docstring). A detection is one brand found in one labelled post;",
        "it is correct when its brand key equals a labelled spelling's. Recall per source: the labelled",
        "brands that source found (a brand found by two sources counts for each; \"all\" counts it once).",
        "",
        f"Machine: {machine}. Detection over the whole collection: sample {timings['sample']:.1f} s"
        + (f", YouTube dev set {timings['youtube']:.1f} s." if "youtube" in timings else "."),
        "",
    ]
    lines += table(f"Generated sample (seed {SAMPLE_SEED}, {SAMPLE_CREATORS} creators)", results["sample"])
    wrong = results["sample"]["wrong"]
    if wrong:
        lines.append("Wrong detections in the sample: " + "; ".join(f"{b} ({s}, {pid})" for pid, b, s in wrong) + ".")
        lines.append("")
    if "youtube" in results:
        lines += table("YouTube dev set (real descriptions)", results["youtube"])
    else:
        lines += ["### YouTube dev set", "", f"Not measured: no dev data at `{data}`.", ""]
    out = args.out / "collaborations.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
