"""Look-alike search on real data: given three channels of a category, how many of the top 10 are of that category.

The dev data (YouTube channels as creators; see ``../shared/data/README.md``) gives every channel a
category: its most frequent video category. For each category with at least 4 channels, a seeded
draw picks 3 of its channels, ``recommend(like=those 3, k=10)`` ranks the others (the 3 are never
returned), and the share of the top 10 in the category is measured. In the same run, on the same
store and draws, it is compared with:

* random: 10 channels drawn at random from the others;
* brief only: the category's name as the brief (e.g. "Howto & Style"), the same 3 channels left out;
* brief + like: the category's name and the 3 channels together.

Each category is drawn ``--draws`` times; the headline is the mean over categories (each category
counts once) with a bootstrap 95% interval over categories. The labels are coarse (a channel's
most frequent category); they compare systems on the same data, they are not absolute truth.

    .venv/bin/python benchmarks/lookalike_dev.py [--data ../shared/data] [--out benchmarks/results]

Without the data the script says so and exits 0.
"""

from __future__ import annotations

import logging
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
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from eval_dev import DATA_ENV, DEFAULT_DATA, data_dir, dev_parser, dev_set, machine  # noqa: E402

from matcher.config import Config  # noqa: E402
from matcher.schema import Filters  # noqa: E402

K = 10
GIVEN = 3
MIN_CHANNELS = GIVEN + 1
SYSTEMS = ("random", "brief only (category name)", "like (3 channels, no brief)", "brief + like")


def draws(category_of: dict[str, str], *, n: int, seed: int) -> list[tuple[str, tuple[str, ...]]]:
    """``n`` seeded draws of ``GIVEN`` channels for every category with at least ``MIN_CHANNELS`` channels."""
    by_cat: dict[str, list[str]] = {}
    for cid, cat in sorted(category_of.items()):
        by_cat.setdefault(cat, []).append(cid)
    rng = np.random.default_rng(seed)
    out = []
    for cat in sorted(by_cat):
        ids = by_cat[cat]
        if len(ids) < MIN_CHANNELS:
            continue
        for _ in range(n):
            out.append((cat, tuple(str(c) for c in rng.choice(ids, size=GIVEN, replace=False))))
    return out


def share(ids: Sequence[str], cat: str, category_of: dict[str, str]) -> float:
    """Share of ``ids`` (the top ``K``) in ``cat``; a list shorter than ``K`` counts its gaps as misses."""
    return sum(category_of[c] == cat for c in ids[:K]) / K


def bootstrap_mean(x: np.ndarray, *, n: int = 4000, seed: int = 0) -> tuple[float, float, float]:
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(n, len(x)))].mean(axis=1)
    return float(x.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def main(argv: Sequence[str] | None = None) -> int:
    p = dev_parser(__doc__.split("\n")[0])
    p.add_argument("--draws", type=int, default=5, help="seeded draws of 3 channels per category")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    d = data_dir(args.data)
    if d is None:
        print(f"dev data not found (set --data or ${DATA_ENV}; default {DEFAULT_DATA}); skipping the look-alike benchmark")
        return 0
    started = time.perf_counter()
    host = machine()
    ds = dev_set(d, per_prefix=args.per_prefix, seed=args.seed)
    creators = ds["creators"].assign(creator_id=ds["creators"]["creator_id"].astype(str))
    category_of = dict(zip(creators["creator_id"], creators["category"].astype(str)))
    picks = draws(category_of, n=args.draws, seed=args.seed)

    from matcher.batch import run_batch
    from matcher.engine import Matcher

    rows = []
    with tempfile.TemporaryDirectory(prefix="lookalike_") as tmp:
        work = Path(tmp)
        creators.to_csv(work / "creators.csv", index=False)
        ds["posts"].to_csv(work / "posts.csv", index=False)
        ds["brands"].to_csv(work / "brands.csv", index=False)
        cfg = Config.from_dict({"index": {"candidates": max(len(creators), 200)}})
        t0 = time.perf_counter()
        run_batch(work / "creators.csv", work / "posts.csv", work / "brands.csv", work / "store", config=cfg, progress=False)
        batch_s = time.perf_counter() - t0
        m = Matcher(work / "store", config=cfg).load()
        rng = np.random.default_rng(args.seed + 1)
        everyone = sorted(category_of)
        t0 = time.perf_counter()
        for i, (cat, given) in enumerate(picks):
            others = [c for c in everyone if c not in given]
            ranked = {
                "random": [str(c) for c in rng.choice(others, size=K, replace=False)],
                "brief only (category name)": [x.creator_id for x in m.recommend(cat, k=K, filters=Filters(exclude_creators=given))],
                "like (3 channels, no brief)": [x.creator_id for x in m.recommend(like=list(given), k=K)],
                "brief + like": [x.creator_id for x in m.recommend(cat, k=K, like=list(given))],
            }
            for system, ids in ranked.items():
                assert not set(ids) & set(given), (system, given)
                rows.append({"category": cat, "draw": i, "given": "|".join(given), "system": system, "share": share(ids, cat, category_of)})
        query_s = time.perf_counter() - t0

    frame = pd.DataFrame(rows)
    per_cat = frame.groupby(["category", "system"])["share"].mean().unstack("system")[list(SYSTEMS)]
    sizes = pd.Series(category_of).value_counts()
    like, brief = per_cat["like (3 channels, no brief)"].to_numpy(), per_cat["brief only (category name)"].to_numpy()
    diff = bootstrap_mean(like - brief)
    wins = int((like > brief).sum()), int((like < brief).sum())

    lines = [
        "# Look-alike search on the dev data",
        "",
        "`benchmarks/lookalike_dev.py`: given 3 channels of a YouTube category (the channel's most frequent video category),",
        f"the share of the top {K} (the 3 left out) in that category. {len(per_cat)} categories with at least {MIN_CHANNELS} channels,",
        f"{args.draws} seeded draws each (seed {args.seed}), {len(creators)} channels and {len(ds['posts'])} videos of the dev set;",
        "every system runs on the same store and the same draws, in the same run. Default config (`rank.lookalike_like` 1.0,",
        "`rank.lookalike_brief` 1.0); the brief-only system's brief is the category's name.",
        "",
        f"Machine: {host}. Batch {batch_s:.0f} s; {len(picks) * (len(SYSTEMS) - 1)} queries in {query_s:.1f} s.",
        "",
        "| system | share of top 10 in the category (mean over categories) | 95% interval |",
        "|---|---|---|",
    ]
    for system in SYSTEMS:
        mean, lo, hi = bootstrap_mean(per_cat[system].to_numpy())
        lines.append(f"| {system} | {mean:.3f} | {lo:.3f} to {hi:.3f} |")
    lines += [
        "",
        f"Like (no brief) minus brief only, per category: {diff[0]:+.3f} (95% interval {diff[1]:+.3f} to {diff[2]:+.3f});",
        f"look-alikes score higher in {wins[0]} categories and lower in {wins[1]} of {len(per_cat)}.",
        "",
        "Per category (channels in the category; mean share over the draws):",
        "",
        "| category | channels | " + " | ".join(SYSTEMS) + " |",
        "|---|---|" + "---|" * len(SYSTEMS),
    ]
    for cat, r in per_cat.iterrows():
        lines.append(f"| {cat} | {sizes[cat]} | " + " | ".join(f"{r[s]:.2f}" for s in SYSTEMS) + " |")
    lines += [
        "",
        f"A small category caps the share: with n channels at most n − {GIVEN} others can be in the top {K}.",
        f"Total run time {time.perf_counter() - started:.0f} s.",
        "",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "lookalike_dev.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
