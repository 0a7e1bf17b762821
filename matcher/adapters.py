"""Convert public exports into matcher's data contract, so ``matcher batch`` runs on them unchanged.

Two formats are supported:

- the Kaggle "Trending YouTube Video Statistics" CSV (``USvideos.csv`` and its siblings): each
  channel becomes a creator and each video a post. A video appears once per trending day; only its
  latest row is kept (the latest counts). There is no follower count, so engagement is per view.
- an Amazon product CSV (``Product Name``, ``Category``, ``About Product``, ...): each product
  becomes a brand whose description is the product's "About Product" text.

The written files are CSV with the contract's columns plus a few extra columns (``category`` and
friends) that matcher keeps and ignores, and that evaluation uses to build labels.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from matcher.errors import InputFileError

__all__ = [
    "YouTubeExport",
    "read_youtube_categories",
    "youtube_tables",
    "convert_youtube",
    "amazon_brands",
    "convert_amazon",
    "category_prefix",
    "leaf_category",
    "leaf_words",
    "read_crosswalk",
    "crosswalk_qrels",
]

logger = logging.getLogger(__name__)

YOUTUBE_COLUMNS = ("video_id", "trending_date", "title", "channel_title", "category_id", "publish_time", "tags", "views", "likes", "comment_count", "description")
AMAZON_COLUMNS = ("Uniq Id", "Product Name", "Category", "About Product")

# Amazon prepends this fitment boilerplate to many "About Product" texts; it says nothing about the product.
_AMAZON_BOILERPLATE = re.compile(r"^\s*Make sure this fits by entering your model number\.\s*\|?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class YouTubeExport:
    """Paths written by :func:`convert_youtube` and how many creators and posts they hold."""

    creators: Path
    posts: Path
    n_creators: int
    n_posts: int


def _read_csv(path: str | Path, required: tuple[str, ...], what: str) -> pd.DataFrame:
    p = Path(path)
    try:
        frame = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(f"{p}: file not found; pass the path of the {what} CSV") from None
    except UnicodeDecodeError:
        raise InputFileError(f"{p}: not UTF-8; re-save the {what} CSV as UTF-8") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputFileError(f"{p}: not a readable CSV ({exc}); check it is the {what} export") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputFileError(f"{p}: missing column(s) {', '.join(missing)}; expected the {what} layout with {', '.join(required)}")
    return frame


def read_youtube_categories(path: str | Path) -> dict[str, str]:
    """The category id → name map from a Kaggle ``*_category_id.json`` file."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(f"{p}: file not found; pass the *_category_id.json that ships with the export") from None
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{p}: not valid JSON ({exc})") from None
    return {str(item["id"]): str(item["snippet"]["title"]) for item in data.get("items", [])}


def _trending_key(values: pd.Series) -> pd.Series:
    # Kaggle writes trending dates as YY.DD.MM, which does not sort as text.
    return pd.to_datetime(values, format="%y.%d.%m", errors="coerce")


def _youtube_text(title: str, tags: str, description: str) -> str:
    tag_text = "" if tags.strip() in ("", "[none]") else " ".join(t.strip().strip('"') for t in tags.split("|") if t.strip().strip('"'))
    # The export escapes newlines as a literal backslash-n.
    desc = description.replace("\\n", "\n")
    return "\n".join(part for part in (title.strip(), tag_text, desc.strip()) if part)


def _count(values: pd.Series, disabled: pd.Series | None = None) -> pd.Series:
    out = pd.to_numeric(values, errors="coerce").astype("Int64")
    out = out.where(out >= 0)
    if disabled is not None:
        # A disabled count reads as 0 in the export; it is unknown, not zero.
        out = out.where(~disabled.str.lower().eq("true"))
    return out


def youtube_tables(videos: str | Path, *, categories: str | Path | dict[str, str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a Kaggle trending-videos CSV into ``(creators, posts)`` frames in the data contract.

    Args:
        videos: the ``*videos.csv`` export.
        categories: the ``*_category_id.json`` file (or an id → name map) to name categories; without
            it, the ``category`` columns hold the numeric ids.

    Returns:
        ``creators`` (creator_id = channel title, platform ``youtube``, no bio or followers, plus
        ``category``: the channel's most frequent video category) and ``posts`` (post_id = video id;
        text = title, tags and description; counts from the video's latest trending row; plus
        ``category_id``, ``category`` and ``trending_date``).

    Raises:
        InputFileError: the file is missing or not in the Kaggle layout.
    """
    frame = _read_csv(videos, YOUTUBE_COLUMNS, "Kaggle trending YouTube videos")
    names = read_youtube_categories(categories) if isinstance(categories, (str, Path)) else dict(categories or {})
    frame = frame[frame["video_id"].str.strip().ne("") & frame["channel_title"].str.strip().ne("")].copy()
    frame["_when"] = _trending_key(frame["trending_date"])
    frame["_line"] = range(len(frame))
    # Latest trending row per video; file order breaks ties so the result is deterministic.
    frame = frame.sort_values(["video_id", "_when", "_line"], na_position="first", kind="mergesort")
    latest = frame.drop_duplicates("video_id", keep="last").sort_values("_line", kind="mergesort")
    empty = pd.Series([""] * len(latest), index=latest.index)
    cat_id = latest["category_id"].str.strip().str.replace(r"\.0$", "", regex=True)
    posts = pd.DataFrame(
        {
            "post_id": latest["video_id"].str.strip(),
            "creator_id": latest["channel_title"].str.strip(),
            "text": [_youtube_text(t, g, d) for t, g, d in zip(latest["title"], latest["tags"], latest["description"])],
            "posted_at": latest["publish_time"].str.strip(),
            "likes": _count(latest["likes"], latest.get("ratings_disabled", empty)),
            "comments": _count(latest["comment_count"], latest.get("comments_disabled", empty)),
            "views": _count(latest["views"]),
            "category_id": cat_id,
            "category": cat_id.map(lambda c: names.get(c, c)),
            "trending_date": latest["_when"].dt.strftime("%Y-%m-%d"),
        }
    ).reset_index(drop=True)
    # A channel's category is its most frequent video category; ties go to the category seen first.
    counts = posts.groupby(["creator_id", "category"], sort=False).size().rename("n").reset_index()
    counts["_first"] = counts.groupby("creator_id").cumcount()
    top = counts.sort_values(["creator_id", "n", "_first"], ascending=[True, False, True], kind="mergesort").drop_duplicates("creator_id")
    channel_cat = dict(zip(top["creator_id"], top["category"]))
    order = posts.drop_duplicates("creator_id")["creator_id"]
    creators = pd.DataFrame(
        {
            "creator_id": order.to_numpy(),
            "handle": order.to_numpy(),
            "platform": "youtube",
            "bio": "",
            "followers": pd.array([pd.NA] * len(order), dtype="Int64"),
            "following": pd.array([pd.NA] * len(order), dtype="Int64"),
            "country": "",
            "language": "",
            "category": [channel_cat[c] for c in order],
        }
    ).reset_index(drop=True)
    logger.info("youtube export: %d rows, %d videos, %d channels", len(frame), len(posts), len(creators))
    return creators, posts


def convert_youtube(videos: str | Path, out_dir: str | Path, *, categories: str | Path | dict[str, str] | None = None) -> YouTubeExport:
    """Write ``creators.csv`` and ``posts.csv`` in ``out_dir`` from a Kaggle trending-videos CSV."""
    creators, posts = youtube_tables(videos, categories=categories)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cpath, ppath = out / "creators.csv", out / "posts.csv"
    creators.to_csv(cpath, index=False)
    posts.to_csv(ppath, index=False)
    return YouTubeExport(creators=cpath, posts=ppath, n_creators=len(creators), n_posts=len(posts))


def _category_parts(path: str) -> list[str]:
    return [p.strip() for p in str(path or "").split("|") if p.strip()]


def category_prefix(path: str, *, levels: int = 2) -> str:
    """The first ``levels`` levels of an Amazon category path ``A | B | C``, joined as ``A>B``."""
    return ">".join(_category_parts(path)[:levels])


def leaf_category(path: str) -> str:
    """The last level of an Amazon category path (empty when there is none)."""
    parts = _category_parts(path)
    return parts[-1] if parts else ""


def _about(text: str) -> str:
    text = _AMAZON_BOILERPLATE.sub("", text or "").strip()
    # Bullet points are separated by " | "; sentences read better to the encoder.
    bullets = [b.strip() for b in text.split(" | ") if b.strip()]
    return " ".join(b if b.endswith((".", "!", "?")) else b + "." for b in bullets)


def amazon_brands(products: str | Path) -> pd.DataFrame:
    """Read an Amazon product CSV into a brands frame in the data contract.

    ``brand_id`` is the product's ``Uniq Id``, ``name`` its product name and ``description`` its
    "About Product" bullets (falling back to "Product Description", then the name). Extra columns:
    ``category`` (the full path), ``category_prefix`` (``Top>Second``), ``leaf_category`` and
    ``brand_name``.

    Raises:
        InputFileError: the file is missing or lacks the Amazon columns.
    """
    frame = _read_csv(products, AMAZON_COLUMNS, "Amazon product")
    frame = frame[frame["Uniq Id"].str.strip().ne("")]
    fallback = frame["Product Description"] if "Product Description" in frame.columns else pd.Series("", index=frame.index)
    desc = [(_about(a) or f.strip() or n.strip()) for a, f, n in zip(frame["About Product"], fallback, frame["Product Name"])]
    brands = pd.DataFrame(
        {
            "brand_id": frame["Uniq Id"].str.strip().to_numpy(),
            "name": frame["Product Name"].str.strip().to_numpy(),
            "description": desc,
            "category": frame["Category"].map(lambda c: " > ".join(_category_parts(c))).to_numpy(),
            "category_prefix": frame["Category"].map(category_prefix).to_numpy(),
            "leaf_category": frame["Category"].map(leaf_category).to_numpy(),
            "brand_name": (frame["Brand Name"] if "Brand Name" in frame.columns else pd.Series("", index=frame.index)).str.strip().to_numpy(),
        }
    )
    logger.info("amazon export: %d products", len(brands))
    return brands.reset_index(drop=True)


def convert_amazon(products: str | Path, out: str | Path) -> Path:
    """Write the brands file (CSV) for an Amazon product CSV; returns its path.

    ``out`` is a file path ending in ``.csv`` or a directory (``brands.csv`` is written inside).
    """
    brands = amazon_brands(products)
    path = Path(out)
    if path.suffix.lower() != ".csv":
        path.mkdir(parents=True, exist_ok=True)
        path = path / "brands.csv"
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    brands.to_csv(path, index=False)
    return path


_STOP = frozenset({"and", "the", "for", "with", "from", "other", "more"})


def _stem_pattern(word: str) -> str:
    stem = re.sub(r"(es|s)$", "", word) if len(word) > 4 else word
    return rf"\b{re.escape(stem)}(?:s|es)?\b"


def leaf_words(leaf: str) -> list[str]:
    """The words of a leaf category that count as its name ("Science Kits & Toys" → science, kits, toys)."""
    return [w for w in re.findall(r"[a-z]+", leaf.lower()) if len(w) >= 3 and w not in _STOP]


def read_crosswalk(path: str | Path) -> dict[str, set[str]]:
    """Read a category crosswalk CSV (``amazon_category_prefix``, ``youtube_category``) into prefix → categories."""
    frame = _read_csv(path, ("amazon_category_prefix", "youtube_category"), "category crosswalk")
    out: dict[str, set[str]] = {}
    for prefix, cat in zip(frame["amazon_category_prefix"].str.strip(), frame["youtube_category"].str.strip()):
        out.setdefault(prefix, set()).add(cat)
    return out


def crosswalk_qrels(creators: pd.DataFrame, posts: pd.DataFrame, brands: pd.DataFrame, crosswalk: dict[str, set[str]]) -> pd.DataFrame:
    """Graded labels for every (brand, creator) pair from a category crosswalk.

    Grade 1: the creator's ``category`` is one of the crosswalk's categories for the brand's
    ``category_prefix``; grade 2: grade 1 and the creator's own text (its posts) names the brand's
    leaf category (any word of it, singular or plural); grade 0 otherwise. Brands whose prefix is
    not in the crosswalk get no labels (they are not queries).

    Returns:
        A frame with ``brand_id``, ``creator_id``, ``grade`` covering every creator for each labelled brand.
    """
    text = posts.groupby("creator_id", sort=False)["text"].apply(lambda t: " ".join(t.fillna("").astype(str)).lower())
    ids = creators["creator_id"].astype(str).tolist()
    cats = creators["category"].astype(str).tolist()
    docs = [text.get(c, "") for c in ids]
    rows: list[tuple[str, str, int]] = []
    for b in brands.itertuples(index=False):
        wanted = crosswalk.get(str(b.category_prefix))
        if not wanted:
            continue
        pats = [re.compile(_stem_pattern(w)) for w in leaf_words(str(b.leaf_category))]
        for cid, cat, doc in zip(ids, cats, docs):
            grade = 0
            if cat in wanted:
                grade = 2 if any(p.search(doc) for p in pats) else 1
            rows.append((str(b.brand_id), cid, grade))
    return pd.DataFrame(rows, columns=["brand_id", "creator_id", "grade"])


def main(argv: list[str] | None = None) -> int:
    """``python -m matcher.adapters youtube|amazon ...``: convert an export into matcher's input files."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m matcher.adapters", description="Convert public exports into matcher's data contract.")
    sub = p.add_subparsers(dest="kind", required=True)
    y = sub.add_parser("youtube", help="Kaggle trending-videos CSV -> creators.csv + posts.csv")
    y.add_argument("videos", type=Path)
    y.add_argument("--categories", type=Path, help="the *_category_id.json shipped with the export")
    y.add_argument("--out", type=Path, required=True, help="output directory")
    a = sub.add_parser("amazon", help="Amazon product CSV -> brands.csv")
    a.add_argument("products", type=Path)
    a.add_argument("--out", type=Path, required=True, help="output directory or .csv path")
    args = p.parse_args(argv)
    try:
        if args.kind == "youtube":
            res = convert_youtube(args.videos, args.out, categories=args.categories)
            print(f"wrote {res.n_creators} creators to {res.creators} and {res.n_posts} posts to {res.posts}")
        else:
            path = convert_amazon(args.products, args.out)
            print(f"wrote brands to {path}")
    except InputFileError as exc:
        print(f"error: {exc}")
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
