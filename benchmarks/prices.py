"""Price estimates on held-out past prices of the sample: the published-rate prior alone vs calibrated.

Generates the sample (seed 7, 2,000 creators by default), computes every creator's signals as the
batch does (no embedding needed: prices read the signals, not the vectors), and takes the prices in
the sample's outcomes, which come from a known rule with noise (matcher/sample/generator.py: a
platform rate at 10k followers, follower elasticity 0.85, engagement elasticity 0.5, x0.75 without
sponsored posts, lognormal noise sd 0.35). For each split (creators held out, so no creator's
prices are on both sides) it fits :class:`matcher.prices.PriceCalibration` on the first n training
prices, n in --sizes, and scores the held-out prices:

* coverage: the share of held-out prices inside [low, high] (the target is prices.interval, 80%);
* median |log error|: median |ln(price / mid)| (0.1 is about 10% off);
* width: mean high / low.

n = 0 is the prior alone (a calibration on no prices equals the prior). Reported as the mean over
--splits random splits, with the per-platform figures for all training prices. The sample proves
only the mechanism: its prices follow a rule written for it; real prices are messier, and only
held-out prices of your own (``matcher train`` reports them) say how well the ranges hold.

Also reports how the sample's creators split into trust-confidence levels, and how many whose trust
score would show green (>= 0.8) are shown grey because their evidence is thin.

Usage: python benchmarks/prices.py [--creators 2000] [--splits 5] [--out benchmarks/results/prices.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from matcher.config import Config
from matcher.ingest import load_dataset, load_outcomes
from matcher.prices import PriceCalibration, estimate_prices, price_inputs
from matcher.sample import generate
from matcher.signals import compute_signals

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostinfo import cpu_model, ram_gib  # noqa: E402


def machine() -> str:
    return f"{cpu_model()}, {os.cpu_count()} cores, {ram_gib() or 0:.0f} GiB RAM, Python {platform.python_version()}"


def score(rows: pd.DataFrame, prices: np.ndarray, cal: PriceCalibration | None, cfg: Config) -> dict[str, float]:
    est = estimate_prices(rows, config=cfg.prices, calibration=cal)
    low, mid, high = (est[c].to_numpy() for c in ("price_low", "price_mid", "price_high"))
    return {
        "coverage": float(np.mean((prices >= low) & (prices <= high))),
        "mae_log": float(np.median(np.abs(np.log(prices / mid)))),
        "width": float(np.mean(high / low)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--creators", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--splits", type=int, default=5)
    ap.add_argument("--test-size", type=float, default=0.3)
    ap.add_argument("--sizes", default="0,10,30,100,300,all", help="training prices per fit, comma-separated ('all': every training price)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/prices.md"))
    args = ap.parse_args()
    cfg = Config()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        info = generate(Path(tmp) / "sample", seed=args.seed, n_creators=args.creators)
        ds = load_dataset(info.creators, info.posts, info.brands, comments=info.comments)
        outcomes, _, _ = load_outcomes(info.outcomes)
    creators = ds.creators.reset_index(drop=True)
    signals = compute_signals(creators, ds.posts, cfg.signals, comments=ds.comments, fit=cfg.fit)
    table = price_inputs(creators, signals).set_index("creator_id")
    prior_all = estimate_prices(table.reset_index(), config=cfg.prices)
    p = outcomes.loc[outcomes["price"].gt(0) & outcomes["creator_id"].isin(table.index), ["creator_id", "price"]].copy()
    p = p[p["creator_id"].map(prior_all["price_mid"]).notna()].reset_index(drop=True)
    took_setup = time.perf_counter() - t0

    ids = np.array(sorted(p["creator_id"].unique()))
    sizes = [s.strip() for s in args.sizes.split(",")]
    results: dict[str, list[dict[str, float]]] = {s: [] for s in sizes}
    per_platform: dict[str, list[dict[str, float]]] = {}
    train_sizes: list[int] = []
    for split in range(args.splits):
        rng = np.random.default_rng(1000 + split)
        held = set(rng.choice(ids, int(round(args.test_size * len(ids))), replace=False).tolist())
        test = p[p["creator_id"].isin(held)]
        train = p[~p["creator_id"].isin(held)].sample(frac=1.0, random_state=split).reset_index(drop=True)
        train_sizes.append(len(train))
        rows = table.loc[test["creator_id"]].reset_index()
        truth = test["price"].to_numpy()
        for s in sizes:
            n = len(train) if s == "all" else int(s)
            cal = PriceCalibration(config=cfg.prices).fit(table.reset_index(), train.head(n)) if n else None
            results[s].append(score(rows, truth, cal, cfg))
        cal = PriceCalibration(config=cfg.prices).fit(table.reset_index(), train)
        for name in sorted(set(rows["platform"])):
            sel = (rows["platform"] == name).to_numpy()
            for tag, c in (("prior", None), ("calibrated", cal)):
                per_platform.setdefault(f"{name}|{tag}", []).append(score(rows[sel], truth[sel], c, cfg))

    def mean(rs: list[dict[str, float]], key: str) -> float:
        return float(np.mean([r[key] for r in rs]))

    conf = signals["trust_confidence"].value_counts()
    green = signals["trust_score"] >= 0.8
    grey = green & (signals["trust_confidence"] == "low")
    lines = [
        "# Price estimates on held-out past prices (sample data)",
        "",
        f"Machine: {machine()}. `python benchmarks/prices.py --creators {args.creators} --splits {args.splits}` "
        f"(sample seed {args.seed}; setup {took_setup:.1f} s).",
        "",
        f"{len(p)} past prices of {len(ids)} creators with a follower count, from the sample's outcomes. Each of "
        f"{args.splits} splits holds out {args.test_size:.0%} of the creators (their prices are scored; none of them is "
        f"fitted on) and calibrates on the first n prices of the rest (mean {np.mean(train_sizes):.0f} training prices for "
        "'all'). n = 0 is the published-rate prior alone. Target coverage: "
        f"{cfg.prices.interval:.0%} of prices inside [low, high].",
        "",
        "| training prices | coverage | median abs log error | mean width (high / low) |",
        "|---|---|---|---|",
    ]
    for s in sizes:
        label = "0 (prior only)" if s == "0" else f"all (~{np.mean(train_sizes):.0f})" if s == "all" else s
        rs = results[s]
        lines.append(f"| {label} | {mean(rs, 'coverage'):.1%} | {mean(rs, 'mae_log'):.3f} | {mean(rs, 'width'):.2f} |")
    lines += ["", "Per platform, prior only vs calibrated on all training prices:", "", "| platform | coverage prior | coverage calibrated | median abs log error prior | calibrated |", "|---|---|---|---|---|"]
    for name in sorted({k.split("|")[0] for k in per_platform}):
        pr, ca = per_platform[f"{name}|prior"], per_platform[f"{name}|calibrated"]
        lines.append(f"| {name} | {mean(pr, 'coverage'):.1%} | {mean(ca, 'coverage'):.1%} | {mean(pr, 'mae_log'):.3f} | {mean(ca, 'mae_log'):.3f} |")
    lines += [
        "",
        "**What this proves and what it does not.** The sample's prices follow a rule written for it "
        "(matcher/sample/generator.py), different from the published rates, with lognormal noise of sd 0.35: "
        "the table shows the mechanism working (calibration moves the ranges onto that rule as prices accumulate, "
        "shrunk toward the prior when they are few, and the range narrows to the noise). It says nothing about "
        "how close the published rates are to real prices; `matcher train` reports the same held-out figures on "
        "your own prices. The noise alone sets a floor of 0.236 on the median abs log error (0.6745 x 0.35); "
        "the rest is what the estimate cannot see (the sample's rule reads each creator's true engagement, "
        "the estimate its measured, credible engagement).",
        "",
        "## Trust confidence on the sample",
        "",
        f"Creators by confidence level (posts, audience comments and days of history behind the trust figure; "
        f"thresholds `signals.confidence_*`): "
        + ", ".join(f"{lvl} {int(conf.get(lvl, 0))}" for lvl in ("high", "medium", "low"))
        + f" of {len(signals)}. Of the {int(green.sum())} creators whose trust score is 0.8 or more (a green badge), "
        f"{int(grey.sum())} rest on thin evidence and are shown grey with 'low confidence' instead. The sample's "
        "creators have 8-24 posts each.",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
