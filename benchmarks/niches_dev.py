"""Niche assignment on real data, for the record: how matcher's niches line up with YouTube's categories.

Channels (creators) and videos (posts) come from the Kaggle trending-YouTube export in the dev data
(``../shared/data``; see its README). Each channel is assigned niches from the mean of its videos'
vectors, exactly as the batch does (:func:`matcher.niches.post_means`, :class:`matcher.niches.NicheModel`,
zero-shot, default settings); each video is assigned on its own too. For every YouTube category
the script reports the most common top niche and its share. YouTube's categories are coarse
("People & Blogs", "Entertainment") and are not the taxonomy's, so this is agreement, not accuracy.
The taxonomy is not tuned on this data.

    .venv/bin/python benchmarks/niches_dev.py [--data ../shared/data] [--out benchmarks/results]

Writes ``niches_dev.md`` to ``--out``; without the data it says so and exits 0.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from matcher.adapters import youtube_tables  # noqa: E402
from matcher.config import Config  # noqa: E402
from matcher.niches import NicheModel, post_means  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostinfo import cpu_model, ram_gib  # noqa: E402

#: Overrides the data directory (the default is ../shared/data beside the repository).
DATA_ENV = "EVAL_DATA_DIR"
DEFAULT_DATA = ROOT.parent / "shared" / "data"


def data_dir(arg: str | None = None) -> Path | None:
    """The dev data directory if it holds the YouTube export, else None."""
    d = Path(arg or os.environ.get(DATA_ENV) or DEFAULT_DATA)
    need = [d / "youtube" / "USvideos_dev.csv", d / "youtube" / "US_category_id.json"]
    return d if all(p.is_file() for p in need) else None


def agreement_table(categories: Sequence[str], niches: Sequence[str | None], names: dict[str, str]) -> pd.DataFrame:
    """Per category: items, the most common top niche, its share, and the runner-up with its share."""
    frame = pd.DataFrame({"category": list(categories), "niche": [n or "(none)" for n in niches]})
    rows = []
    for cat, g in frame.groupby("category", sort=True):
        counts = g["niche"].value_counts()
        first, second = counts.index[0], (counts.index[1] if len(counts) > 1 else None)
        rows.append(
            {
                "category": cat,
                "n": len(g),
                "top niche": f"{names.get(first, first)} (`{first}`)",
                "share": counts.iloc[0] / len(g),
                "runner-up": f"{names.get(second, second)} (`{second}`)" if second else "",
                "runner-up share": counts.iloc[1] / len(g) if second else 0.0,
            }
        )
    return pd.DataFrame(rows).sort_values(["n", "category"], ascending=[False, True]).reset_index(drop=True)


def _markdown(table: pd.DataFrame) -> list[str]:
    out = ["| YouTube category | n | most common niche | share | runner-up | share |", "|---|---:|---|---:|---|---:|"]
    for r in table.itertuples(index=False):
        out.append(f"| {r.category} | {r.n} | {r[2]} | {r.share:.0%} | {r[4]} | {r[5]:.0%} |")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", help="dev data directory (default ../shared/data or $EVAL_DATA_DIR)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = p.parse_args(argv)
    d = data_dir(args.data)
    if d is None:
        print("dev data not found (see ../shared/data/README.md); skipping")
        return 0
    from matcher.embed import Encoder

    started = time.perf_counter()
    cfg = Config()
    creators, posts = youtube_tables(d / "youtube" / "USvideos_dev.csv", categories=d / "youtube" / "US_category_id.json")
    encoder = Encoder(cfg.embed).load()
    # The batch's order: posts grouped by creator row, newest first, at most embed.max_posts each.
    row_of = pd.Series(np.arange(len(creators)), index=creators["creator_id"])
    po = posts.assign(_row=posts["creator_id"].map(row_of).astype("int64"))
    po = po.sort_values(["_row", "posted_at", "post_id"], ascending=[True, False, True], kind="mergesort")
    po = po[po.groupby("_row").cumcount() < cfg.embed.max_posts].reset_index(drop=True)
    offsets = np.zeros(len(creators) + 1, dtype=np.int64)
    np.cumsum(np.bincount(po["_row"].to_numpy(), minlength=len(creators)), out=offsets[1:])
    vecs = encoder.encode(po["text"].fillna("").astype(str).tolist())
    model = NicheModel(config=cfg.niches).fit(encoder=encoder)
    names = {n.id: n.name for n in model.taxonomy_.niches}
    channel_niche = model.predict(post_means(vecs, offsets))
    video_niche = model.predict(vecs)
    channel_conf = model.predict_proba(post_means(vecs, offsets)).max(axis=1)
    channels = agreement_table(creators["category"].astype(str).tolist(), channel_niche, names)
    videos = agreement_table(po["category"].astype(str).tolist(), video_niche, names)
    assigned = float(np.mean([n is not None for n in channel_niche]))
    used = len({n for n in channel_niche if n})
    elapsed = time.perf_counter() - started
    ram = ram_gib()
    host = f"{cpu_model()}, {os.cpu_count()} cores" + (f", {ram:.0f} GiB RAM" if ram else "")
    md = [
        "# Niches on real data: agreement with YouTube categories",
        "",
        f"Generated by `benchmarks/niches_dev.py` in {elapsed:.0f} s on {host}. Taxonomy {model.taxonomy_.name} "
        f"{model.taxonomy_.version} ({len(model.taxonomy_.niches)} niches), zero-shot, default settings "
        f"(temperature {model.temperature_}, at most {cfg.niches.max_niches} niches at confidence ≥ {cfg.niches.min_confidence}).",
        "",
        f"Data: {len(creators)} YouTube channels with {len(po)} videos (the dev subset of the Kaggle US trending export). "
        f"{assigned:.1%} of channels get a niche; {used} of the {len(model.taxonomy_.niches)} niches occur as a channel's top niche; "
        f"median top-niche confidence {np.median(channel_conf):.2f}.",
        "",
        "YouTube's categories are the uploader's own coarse choice and several (People & Blogs, Entertainment, "
        "Comedy) span many topics, so a low share there says little; categories with a clear topic "
        "(Sports, Music, Howto & Style, Gaming, Science & Technology, News & Politics) are the informative rows. "
        "This is a record of agreement, not a measure tuned against (see the notes below for the one fix made after the first run).",
        "",
        "## Channels (each channel's most frequent video category vs its top niche)",
        "",
        *_markdown(channels),
        "",
        "## Videos (each video's category vs the top niche of that video alone)",
        "",
        *_markdown(videos),
        "",
    ]
    notes = Path(__file__).with_name("niches_dev_notes.md")
    if notes.is_file():
        md += [notes.read_text().strip(), ""]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "niches_dev.md").write_text("\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
