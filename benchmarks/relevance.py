"""Relevance on real data that no default was chosen on: every ranking variant, split in halves.

The dev data (YouTube channels as creators, Amazon products as briefs, category-crosswalk labels;
see ``../shared/data/README.md``) is split in two halves by creator and in two by brief, with a
fixed seed. Fold A chooses on (creators A, briefs A) and reports on (creators B, briefs B); fold B
the other way round. Each brief is therefore reported once, against creators it was not chosen
on. Random, BM25 and plain all-MiniLM-L6-v2 cosine run on the same halves in the same run; every
interval is a paired bootstrap over the reported briefs.

The rules, applied by the script itself:

* the rerank's calibration scale is the largest (most room for engagement and trust) that gives up
  at most 1% of the topical ranking's nDCG@10 on the choosing half;
* any other change of default (brief text, niche agreement, the uncalibrated score) is kept only if
  it wins on the half it was not chosen on, in both folds.

Every variant tried is written to the log, the losers too. Results on the generated sample prove
that signals work as designed; they are never evidence of relevance, and are not used here.

    .venv/bin/python benchmarks/relevance.py [--data ../shared/data] [--out benchmarks/results]

Without the data the script says so and exits 0.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from eval_dev import DATA_ENV, DEFAULT_DATA, bm25_scores, data_dir, dev_parser, dev_set, dev_texts, machine, plain_minilm_scores  # noqa: E402

from matcher.config import Config  # noqa: E402
from matcher.evaluate import evaluate  # noqa: E402
from matcher.schema import Brand, Filters  # noqa: E402

logger = logging.getLogger("relevance")

MEASURE = "nDCG@10"
#: Calibration scales tried (``rank.topic_scale``); the default is chosen among them by the rule above.
SCALES = (0.25, 0.5, 1.0, 2.0, 4.0)
#: The most a default rerank may give up of the topical ranking on the choosing half.
CHOOSE_GIVE_UP = 0.01
#: Standard deviation of each brief's 50 best topical scores, by (half, brief), filled as matcher runs.
SPREADS: dict[tuple[str, str], float] = {}


@dataclasses.dataclass(frozen=True)
class Half:
    """One side of the split: its creators and its briefs."""

    name: str
    creators: tuple[str, ...]
    briefs: tuple[str, ...]


def halves(creator_ids: Sequence[str], brief_ids: Sequence[str], *, seed: int = 0) -> tuple[Half, Half]:
    """Seeded split of creators and briefs into halves A and B."""
    rng = np.random.default_rng(seed)
    c = np.array(creator_ids, dtype=object)[rng.permutation(len(creator_ids))]
    b = np.array(brief_ids, dtype=object)[rng.permutation(len(brief_ids))]
    hc, hb = len(c) // 2, len(b) // 2
    return (
        Half("A", tuple(sorted(c[:hc])), tuple(sorted(b[:hb]))),
        Half("B", tuple(sorted(c[hc:])), tuple(sorted(b[hb:]))),
    )


def run_from_scores(brief_ids: Sequence[str], creator_ids: Sequence[str], scores: np.ndarray) -> pd.DataFrame:
    """A run (brand_id, creator_id, rank) from a brief × creator score matrix; ties by creator order."""
    rows = []
    for i, b in enumerate(brief_ids):
        order = np.lexsort((np.arange(len(creator_ids)), -scores[i]))
        rows.extend((b, creator_ids[j], r) for r, j in enumerate(order, start=1))
    return pd.DataFrame(rows, columns=["brand_id", "creator_id", "rank"])


def per_query(run: pd.DataFrame, qrels: pd.DataFrame, half: Half) -> pd.Series:
    """nDCG@10 per brief of ``half``, judged against ``half``'s creators only."""
    q = qrels[qrels["brand_id"].isin(half.briefs) & qrels["creator_id"].isin(half.creators)]
    r = run[run["brand_id"].isin(half.briefs) & run["creator_id"].isin(half.creators)]
    res = evaluate(r, q, universe=half.creators)
    return res.per_query.set_index("brand_id")[MEASURE]


def bootstrap(x: pd.Series, y: pd.Series | None = None, *, n: int = 4000, seed: int = 0) -> tuple[float, float, float]:
    """Mean of ``x`` with a 95% interval, or with ``y`` the relative gain of x over y (paired by brief)."""
    rng = np.random.default_rng(seed)
    xv = x.to_numpy(dtype="float64")
    idx = rng.integers(0, len(xv), size=(n, len(xv)))
    if y is None:
        means = xv[idx].mean(axis=1)
        return float(xv.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))
    yv = y.reindex(x.index).to_numpy(dtype="float64")
    gains = xv[idx].mean(axis=1) / yv[idx].mean(axis=1) - 1
    return float(xv.mean() / yv.mean() - 1), float(np.percentile(gains, 2.5)), float(np.percentile(gains, 97.5))


class BriefCache:
    """Wraps the encoder so that each distinct brief text is encoded once across variants."""

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder
        self.vectors: dict[str, np.ndarray] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.encoder, name)

    def encode(self, texts: Sequence[str], **kwargs: Any) -> np.ndarray:
        todo = sorted({t for t in texts if t not in self.vectors})
        if todo:
            for t, v in zip(todo, self.encoder.encode(todo, **kwargs)):
                self.vectors[t] = v
        return np.stack([self.vectors[t] for t in texts])


#: What may mark a match weak, with the thresholds tried: its topic component (``rank.relevance_floor``),
#: or the agreement of its niches with the brief's (:func:`matcher.niches.niche_agreement`).
WEAK_RULES = {
    "topic": tuple(round(0.02 * i, 2) for i in range(1, 16)),
    "agreement": (0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3),
}
#: The most of the relevant matches (within each brief's top ``FLOOR_TOP``) a rule may mark weak.
FLOOR_MISS = 0.05
FLOOR_TOP = 50


def floor_rates(frame: pd.DataFrame, qrels: pd.DataFrame, column: str, floor: float) -> dict[str, float]:
    """Within each brief's top ``FLOOR_TOP`` default matches: the share of relevant and of
    non-relevant matches whose ``column`` falls below ``floor`` (marked weak)."""
    top = frame[frame["rank"] <= FLOOR_TOP].merge(qrels.assign(brand_id=qrels["brand_id"].astype(str), creator_id=qrels["creator_id"].astype(str)), on=["brand_id", "creator_id"], how="left")
    relevant = top["grade"].fillna(0) > 0
    weak = top[column] < floor
    return {
        "relevant marked weak": float(weak[relevant].mean()) if relevant.any() else float("nan"),
        "non-relevant marked weak": float(weak[~relevant].mean()) if (~relevant).any() else float("nan"),
        "weak that are non-relevant": float((~relevant[weak]).mean()) if weak.any() else float("nan"),
    }


def pct(x: float) -> str:
    return "—" if not np.isfinite(x) else f"{100 * x:.1f}%"


#: Weights tried for the niche-agreement variant: score × ((1 − w) + w × agreement).
NICHE_WEIGHTS = (0.1, 0.25, 0.5)


def matcher_runs(
    store: Path, cfg: Config, encoder: Any, brands: pd.DataFrame, split: tuple[Half, Half], *, brief: str = "name", niche_weights: Sequence[float] = ()
) -> dict[str, dict[str, pd.DataFrame]]:
    """matcher's default ranking and its topical ranking for each half, through ``recommend_many``.

    Each half's briefs are ranked against that half's creators only (the other half excluded by a
    filter); as in production, a filter does not move the calibration anchor, which is the brief's
    best creators in the whole collection (:meth:`matcher.rerank.Reranker.anchor`). With
    ``niche_weights``, the default ranking is also re-ranked by ``score × ((1 − w) + w × agreement)``
    where agreement is :func:`matcher.niches.niche_agreement` of the creator's stored niches and the
    brief's niche confidences (runs named ``niche w``).
    """
    from matcher.niches import niche_agreement

    from matcher.engine import Matcher

    m = Matcher(store, config=cfg, encoder=encoder).load()
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for half in split:
        other = tuple(c for h in split if h is not half for c in h.creators)
        records = brands[brands["brand_id"].isin(half.briefs)].to_dict("records")
        bs = [Brand.from_record({**r, "name": None} if brief == "description" else r) for r in records]
        ranked = m.recommend_many(bs, k=len(half.creators), filters=Filters(exclude_creators=other))
        if niche_weights:
            ids = m.snapshot_.niche_model.taxonomy_.ids
            briefs_p = {b.brand_id: dict(zip(ids, m.niche_probabilities(b).tolist())) for b in bs}
        rows = [
            (b.brand_id, x.creator_id, x.rank, x.components["topic"], x.score,
             niche_agreement({n.niche_id: n.confidence for n in x.niches}, briefs_p[b.brand_id]) if niche_weights else np.nan)
            for b, ms in zip(bs, ranked) for x in ms
        ]
        frame = pd.DataFrame(rows, columns=["brand_id", "creator_id", "rank", "topic", "score", "agreement"])
        SPREADS.update({(half.name, b): float(np.sort(g.to_numpy())[::-1][:50].std()) for b, g in frame.groupby("brand_id")["topic"]})
        topical = frame.sort_values(["brand_id", "topic", "creator_id"], ascending=[True, False, True], kind="mergesort")
        topical["rank"] = topical.groupby("brand_id").cumcount() + 1
        out[half.name] = {"default": frame[["brand_id", "creator_id", "rank"]], "topical": topical[["brand_id", "creator_id", "rank"]], "frame": frame}
        for w in niche_weights:
            v = frame.assign(s=frame["score"] * ((1 - w) + w * frame["agreement"]))
            v = v.sort_values(["brand_id", "s", "creator_id"], ascending=[True, False, True], kind="mergesort")
            v["rank"] = v.groupby("brand_id").cumcount() + 1
            out[half.name][f"niche {w:g}"] = v[["brand_id", "creator_id", "rank"]]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = dev_parser(__doc__.split("\n")[0]).parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    d = data_dir(args.data)
    if d is None:
        print(f"dev data not found (set --data or ${DATA_ENV}; default {DEFAULT_DATA}); skipping the relevance benchmark")
        return 0
    started = time.perf_counter()
    host = machine()
    ds = dev_set(d, per_prefix=args.per_prefix, seed=args.seed)
    creators, posts, brands, qrels = ds["creators"], ds["posts"], ds["brands"], ds["qrels"]
    brands = brands.assign(brand_id=brands["brand_id"].astype(str))
    cids = creators["creator_id"].astype(str).tolist()
    bids = brands["brand_id"].tolist()
    split = halves(cids, bids, seed=args.seed)
    by_half = {h.name: h for h in split}
    other = {"A": "B", "B": "A"}

    # Every system's per-brief nDCG@10 on each half, by name.
    scores: dict[str, dict[str, pd.Series]] = {}
    notes: dict[str, str] = {}

    def record(name: str, runs: dict[str, pd.DataFrame], note: str = "") -> None:
        scores[name] = {h: per_query(runs[h], qrels, by_half[h]) for h in runs}
        notes[name] = note
        a, b = scores[name]["A"].mean(), scores[name]["B"].mean()
        print(f"{name:60s} A {a:.3f}  B {b:.3f}", flush=True)

    def baseline(name: str, score: Callable[[Half], np.ndarray], note: str) -> None:
        runs = {}
        for h in split:
            runs[h.name] = run_from_scores(list(h.briefs), list(h.creators), score(h))
        record(name, runs, note)

    query_list, doc_list = dev_texts(posts, brands, cids)
    queries, docs = dict(zip(bids, query_list)), dict(zip(cids, doc_list))
    rng = np.random.default_rng(args.seed + 1)
    baseline("random", lambda h: rng.random((len(h.briefs), len(h.creators))), "seeded shuffle")
    baseline(
        "BM25 (bm25s)",
        lambda h: bm25_scores([docs[c] for c in h.creators], [queries[b] for b in h.briefs]),
        "bm25s over each half's channel documents (all titles, tags, descriptions)",
    )
    plain = plain_minilm_scores([docs[c] for c in cids], [queries[b] for b in bids])
    crow, brow = {c: i for i, c in enumerate(cids)}, {b: i for i, b in enumerate(bids)}
    baseline(
        "plain all-MiniLM-L6-v2 cosine",
        lambda h: plain[np.ix_([brow[b] for b in h.briefs], [crow[c] for c in h.creators])],
        "sentence-transformers' defaults (256 tokens) over the concatenated channel text",
    )

    from matcher.batch import run_batch
    from matcher.embed import Encoder

    log: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="relevance_") as tmp:
        work = Path(tmp)
        creators.to_csv(work / "creators.csv", index=False)
        posts.to_csv(work / "posts.csv", index=False)
        brands.to_csv(work / "brands.csv", index=False)
        base = Config.from_dict({"index": {"candidates": max(len(cids), 200)}})
        t0 = time.perf_counter()
        run_batch(work / "creators.csv", work / "posts.csv", work / "brands.csv", work / "store", config=base, progress=False)
        batch_s = time.perf_counter() - t0
        encoder = BriefCache(Encoder(base.embed).load())

        def variant(name: str, cfg: Config, *, brief: str = "name", note: str = "") -> None:
            runs = matcher_runs(work / "store", cfg, encoder, brands, split, brief=brief)
            record(name, {h: runs[h]["default"] for h in runs}, note)
            topical = f"{name} [topical]"
            if brief != "name" or "matcher topical ranking" not in scores:
                record(topical if brief != "name" else "matcher topical ranking", {h: runs[h]["topical"] for h in runs}, "ranked by the topic component alone")

        def rank_cfg(**changes: Any) -> Config:
            return dataclasses.replace(base, rank=dataclasses.replace(base.rank, **changes))

        # 1. The calibration scale of the default rerank, chosen per fold by the give-up rule.
        for s in SCALES:
            variant(f"rerank, calibrated, topic_scale {s:g}", rank_cfg(topic_scale=s), note="default weights; rank.calibration = brief")
        variant("rerank, uncalibrated (raw topic × quality)", rank_cfg(calibration="none"), note="the score before calibration: topic × (share + (1 − share) × quality)")
        variant("rerank, calibrated, no credibility demotion", rank_cfg(doubtful_penalty=1.0), note="rank.doubtful_penalty = 1")
        topical = scores["matcher topical ranking"]
        chosen_scale: dict[str, float] = {}
        for fold in ("A", "B"):
            ok = [s for s in SCALES if scores[f"rerank, calibrated, topic_scale {s:g}"][fold].mean() >= (1 - CHOOSE_GIVE_UP) * topical[fold].mean()]
            chosen_scale[fold] = max(ok) if ok else min(SCALES)
        for s in SCALES:
            name = f"rerank, calibrated, topic_scale {s:g}"
            log.append({"variant": name, "A": scores[name]["A"].mean(), "B": scores[name]["B"].mean(),
                        "chosen on": ", ".join(f for f in ("A", "B") if chosen_scale[f] == s) or "—"})

        # 2. Niche agreement as a ranking factor: its weight chosen on one half, judged on the other.
        default_name = f"rerank, calibrated, topic_scale {base.rank.topic_scale:g}"
        runs = matcher_runs(work / "store", base, encoder, brands, split, niche_weights=NICHE_WEIGHTS)
        for w in NICHE_WEIGHTS:
            record(f"rerank × niche agreement, weight {w:g}", {h: runs[h][f"niche {w:g}"] for h in runs},
                   "default score × ((1 − w) + w × Bhattacharyya agreement of creator and brief niches)")
        niche_w = {f: max(NICHE_WEIGHTS, key=lambda w: scores[f"rerank × niche agreement, weight {w:g}"][f].mean()) for f in ("A", "B")}
        niche_wins = {f: scores[f"rerank × niche agreement, weight {niche_w[f]:g}"][other[f]].mean() > scores[default_name][other[f]].mean() for f in ("A", "B")}
        # One decision for the variant: in each fold the weight best on the choosing half must beat
        # the default on the other half.
        niche_kept = all(niche_wins.values())
        for w in NICHE_WEIGHTS:
            name = f"rerank × niche agreement, weight {w:g}"
            chosen = [f for f in ("A", "B") if niche_w[f] == w]
            said = "; ".join(f"best on {f}, {'wins' if niche_wins[f] else 'loses'} on {other[f]}" for f in chosen) or "best on neither half"
            log.append({"variant": name, "A": scores[name]["A"].mean(), "B": scores[name]["B"].mean(), "against": default_name,
                        "kept": f"{'yes' if niche_kept else 'no'} ({said})"})

        # 3. What marks a match weak: for each rule, the highest threshold that marks at most
        # FLOOR_MISS of the relevant matches weak on the choosing half, reported on the other.
        chosen_floor: dict[tuple[str, str], float] = {}
        for column, grid in WEAK_RULES.items():
            for f in ("A", "B"):
                ok = [x for x in grid if floor_rates(runs[f]["frame"], qrels, column, x)["relevant marked weak"] <= FLOOR_MISS]
                chosen_floor[column, f] = max(ok) if ok else min(grid)

        # 4. Changes to the topical ranking: kept only if they win on the half not chosen on.
        variant("brief = description only (no product name)", base, brief="description", note="the brand's name left out of the embedded brief")
        for name in ("rerank, uncalibrated (raw topic × quality)", "rerank, calibrated, no credibility demotion",
                     "brief = description only (no product name)", "brief = description only (no product name) [topical]"):
            ref = "matcher topical ranking" if name.endswith("[topical]") else f"rerank, calibrated, topic_scale {base.rank.topic_scale:g}"
            wins = {f: scores[name][f].mean() > scores[ref][f].mean() for f in ("A", "B")}
            # Chosen on fold f means adopted where it won on f; it must then win on the other half.
            kept = all(wins[other[f]] for f in ("A", "B") if wins[f]) and any(wins.values())
            log.append({"variant": name, "A": scores[name]["A"].mean(), "B": scores[name]["B"].mean(),
                        "against": ref, "kept": "yes" if kept else "no"})
    elapsed = time.perf_counter() - started

    # The held-out table: each fold's choice reported on the other half, pooled over both folds.
    def held_out(name_of: Callable[[str], str]) -> pd.Series:
        return pd.concat([scores[name_of(f)][other[f]] for f in ("A", "B")])

    table = {
        "random": held_out(lambda f: "random"),
        "BM25 (bm25s)": held_out(lambda f: "BM25 (bm25s)"),
        "plain all-MiniLM-L6-v2 cosine": held_out(lambda f: "plain all-MiniLM-L6-v2 cosine"),
        "matcher, topical ranking": held_out(lambda f: "matcher topical ranking"),
        f"matcher, rerank with the scale chosen on the other half": held_out(lambda f: f"rerank, calibrated, topic_scale {chosen_scale[f]:g}"),
        f"matcher, defaults (topic_scale {base.rank.topic_scale:g})": held_out(lambda f: default_name),
        "matcher, defaults × niche agreement (weight chosen on the other half)": held_out(lambda f: f"rerank × niche agreement, weight {niche_w[f]:g}"),
    }
    plain_h, topical_h, default_h = table["plain all-MiniLM-L6-v2 cosine"], table["matcher, topical ranking"], table[f"matcher, defaults (topic_scale {base.rank.topic_scale:g})"]
    lines = [
        "# Relevance on held-out real data",
        "",
        f"Generated by `benchmarks/relevance.py` in {elapsed:.0f} s (batch {batch_s:.0f} s) on {host}.",
        "",
        f"Data: {len(cids)} YouTube channels with {len(posts)} videos, {len(bids)} Amazon products as briefs, "
        "graded labels from the category crosswalk (coarse, category-level). Creators and briefs are each split in "
        f"two halves (seed {args.seed}); each fold chooses on one half and reports on the other, so every brief below "
        "is scored once, against creators no choice was made on. Intervals: paired bootstrap over briefs, 95%.",
        "",
        "## Held-out halves",
        "",
        f"| system | {MEASURE} (95% interval) | vs plain MiniLM | vs BM25 | vs random |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, x in table.items():
        m, lo, hi = bootstrap(x)
        cells = [f"{m:.3f} ({lo:.3f}–{hi:.3f})"]
        for ref in ("plain all-MiniLM-L6-v2 cosine", "BM25 (bm25s)", "random"):
            if name == ref:
                cells.append("—")
            else:
                g, glo, ghi = bootstrap(x, table[ref])
                cells.append(f"{100 * g:+.1f}% ({100 * glo:+.1f} to {100 * ghi:+.1f})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    give_up = 1 - default_h.mean() / topical_h.mean()
    gain, glo, ghi = bootstrap(default_h, plain_h)
    lines += [
        "",
        f"Targets on the held-out halves: the default ranking at least 5% above plain MiniLM cosine "
        f"(measured {100 * gain:+.1f}%, interval {100 * glo:+.1f}% to {100 * ghi:+.1f}%) and giving up at most 2% of the "
        f"topical ranking's {MEASURE} (measured {100 * give_up:.1f}%{': none' if give_up <= 0 else ''}).",
        "",
        "Spread of the topical scores (standard deviation of each brief's 50 best channels within its half): "
        f"{min(SPREADS.values()):.3f} to {max(SPREADS.values()):.3f}, median {float(np.median(list(SPREADS.values()))):.3f}.",
        "",
        f"Calibration scale chosen by the rule (largest giving up ≤ {100 * CHOOSE_GIVE_UP:.0f}% on the choosing half): "
        f"fold A {chosen_scale['A']:g}, fold B {chosen_scale['B']:g}; the shipped default is {base.rank.topic_scale:g}.",
        "",
        "## Every variant tried",
        "",
        f"{MEASURE} on each half (A and B); a change is kept only if it wins on the half it was not chosen on.",
        "",
        "| variant | A | B | decision |",
        "|---|---:|---:|---|",
    ]
    for row in log:
        decision = f"chosen on {row['chosen on']}" if "chosen on" in row else f"kept: {row['kept']} (against {row['against']})"
        lines.append(f"| {row['variant']} | {row['A']:.3f} | {row['B']:.3f} | {decision} |")
    lines += [
        "",
        "## Weak matches",
        "",
        f"A match is marked weak (`Match.weak`) when its topic component is below `rank.relevance_floor`; marking its "
        "niches' disagreement with the brief's was measured too. For each rule the threshold is the highest that marks at "
        f"most {100 * FLOOR_MISS:.0f}% of the relevant matches weak within each brief's top {FLOOR_TOP} on the choosing "
        "half; it is reported on the other half. The shipped floor is the lower of the two folds' choices (the fewer "
        "relevant creators marked). Marking never reorders: nDCG@10 is unchanged.",
        "",
        "| rule | fold: chosen on → reported on | threshold | relevant marked weak | non-relevant marked weak | weak matches that are non-relevant |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for column in WEAK_RULES:
        for f in ("A", "B"):
            h = floor_rates(runs[other[f]]["frame"], qrels, column, chosen_floor[column, f])
            lines.append(f"| {column} below | {f} → {other[f]} | {chosen_floor[column, f]:g} | {pct(h['relevant marked weak'])} | "
                         f"{pct(h['non-relevant marked weak'])} | {pct(h['weak that are non-relevant'])} |")
    for f in ("A", "B"):
        h = floor_rates(runs[f]["frame"], qrels, "topic", base.rank.relevance_floor)
        lines.append(f"| topic below (the default) | half {f} | {base.rank.relevance_floor:g} | {pct(h['relevant marked weak'])} | "
                     f"{pct(h['non-relevant marked weak'])} | {pct(h['weak that are non-relevant'])} |")
    for column, grid in WEAK_RULES.items():
        lines += ["", f"Every threshold tried for {column} below (share of relevant / non-relevant matches marked weak, per half):", "",
                  "| threshold | A relevant | A non-relevant | B relevant | B non-relevant |", "|---:|---:|---:|---:|---:|"]
        for x in grid:
            r = {f: floor_rates(runs[f]["frame"], qrels, column, x) for f in ("A", "B")}
            lines.append(f"| {x:g} | {pct(r['A']['relevant marked weak'])} | {pct(r['A']['non-relevant marked weak'])} | "
                         f"{pct(r['B']['relevant marked weak'])} | {pct(r['B']['non-relevant marked weak'])} |")
    lines += ["", "Systems and notes:", ""] + [f"- **{k}**: {v}" for k, v in notes.items() if v]
    extra = Path(__file__).with_name("relevance_notes.md")
    if extra.is_file():
        lines += ["", extra.read_text().strip()]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "relevance.md").write_text("\n".join(lines) + "\n")
    rows = [{"system": k, "half": h, "brand_id": b, MEASURE: v} for k, hs in scores.items() for h, ser in hs.items() for b, v in ser.items()]
    pd.DataFrame(rows).to_csv(args.out / "relevance_per_brief.csv", index=False, float_format="%.4f")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
