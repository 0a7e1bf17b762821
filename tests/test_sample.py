"""Tests of the seeded sample-data generator (matcher.sample)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from matcher.errors import ConfigError
from matcher.ingest import load_dataset, load_outcomes
from matcher.sample import (
    FAKE_PATTERNS,
    NICHES,
    REFERENCE_DATE,
    TIERS,
    WINDOW_DAYS,
    SampleInfo,
    generate,
    main,
    tier_of,
)
from matcher.sample.vocabulary import CONVERSATION, GENERIC_COMMENTS, NICHE_DATA, POD_COMMENTS

CREATOR_COLUMNS = ["creator_id", "handle", "platform", "bio", "followers", "following", "country",
                   "language"]
POST_COLUMNS = ["post_id", "creator_id", "text", "posted_at", "likes", "comments", "views", "shares",
                "sponsored"]
BRAND_COLUMNS = ["brand_id", "name", "description", "countries", "languages", "min_followers",
                 "max_followers", "competitors", "exclude_creators"]
LABEL_COLUMNS = ["creator_id", "niche", "tier", "is_fake", "fake_pattern", "is_brand_account",
                 "stuffed_bio_niche", "has_undisclosed_sponsorship", "answers_questions", "in_pod"]
COMMENT_COLUMNS = ["comment_id", "post_id", "author_id", "text", "created_at", "is_creator_reply"]
OUTCOME_COLUMNS = ["brand_id", "creator_id", "outcome", "date", "price"]
ER_MEDIAN = {"nano": 0.065, "micro": 0.03, "mid": 0.015, "macro": 0.0105, "mega": 0.009}
N = 600


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory: pytest.TempPathFactory) -> SampleInfo:
    return generate(tmp_path_factory.mktemp("sample"), seed=11, n_creators=N)


@pytest.fixture(scope="module")
def tables(small_sample: SampleInfo) -> dict[str, pd.DataFrame]:
    return {
        "creators": read(small_sample.creators),
        "posts": read(small_sample.posts),
        "brands": read(small_sample.brands),
        "labels": read(small_sample.labels),
        "brand_labels": read(small_sample.brand_labels),
        "comments": read(small_sample.comments),
        "outcomes": read(small_sample.outcomes),
    }


@pytest.fixture(scope="module")
def stats(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per labelled creator with follower and engagement statistics from valid rows."""
    labels = tables["labels"]
    creators = tables["creators"].drop_duplicates("creator_id")
    creators = creators[creators.creator_id.isin(labels.creator_id)]
    posts = tables["posts"]
    valid = (posts.post_id != "") & (posts.posted_at != "yesterday")
    posts = posts[valid & posts.creator_id.isin(labels.creator_id)].drop_duplicates("post_id")
    posts = posts.assign(likes=posts.likes.astype(int), comments=posts.comments.astype(int))
    posts = posts[posts.likes >= 0]
    per = posts.groupby("creator_id").agg(
        likes=("likes", "mean"), comments=("comments", "mean"), n_posts=("likes", "size"),
        max_likes=("likes", "max"), median_likes=("likes", "median"),
    )
    out = labels.merge(creators, on="creator_id").merge(per, on="creator_id", how="left")
    out["f"] = pd.to_numeric(out.followers, errors="coerce")
    out["fo"] = pd.to_numeric(out.following, errors="coerce")
    out["er"] = (out.likes + out.comments) / out.f
    out["norm"] = out.tier.map(ER_MEDIAN)
    out["cr"] = out.comments / out.likes
    out["burst"] = out.max_likes / out.median_likes.clip(lower=1)
    return out


# ---------------------------------------------------------------- determinism


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", seed=3, n_creators=150)
    b = generate(tmp_path / "b", seed=3, n_creators=150)
    c = generate(tmp_path / "c", seed=4, n_creators=150)
    for name in ("creators", "posts", "brands", "labels", "brand_labels"):
        assert getattr(a, name).read_bytes() == getattr(b, name).read_bytes(), name
    for name in ("creators", "posts", "labels"):
        assert getattr(a, name).read_bytes() != getattr(c, name).read_bytes(), name


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_other_formats_are_deterministic(tmp_path: Path, fmt: str) -> None:
    a = generate(tmp_path / "a", seed=5, n_creators=120, fmt=fmt)
    b = generate(tmp_path / "b", seed=5, n_creators=120, fmt=fmt)
    for name in ("creators", "posts", "brands", "comments", "outcomes"):
        assert getattr(a, name).read_bytes() == getattr(b, name).read_bytes(), name


# ---------------------------------------------------------------- shape and contract


def test_info_paths_and_counts(small_sample: SampleInfo, tables: dict[str, pd.DataFrame]) -> None:
    sample = small_sample
    assert sample.creators.name == "creators.csv" and sample.posts.name == "posts.csv"
    assert sample.labels.name == "labels.csv" and sample.brand_labels.name == "brand_labels.csv"
    assert sample.n_creators == len(tables["creators"]) == N + 4
    assert sample.n_posts == len(tables["posts"])
    assert sample.n_brands == len(tables["brands"]) == 30 + 2
    assert len(tables["labels"]) == N and tables["labels"].creator_id.is_unique
    assert len(tables["brand_labels"]) == 30


def test_columns(tables: dict[str, pd.DataFrame]) -> None:
    assert list(tables["creators"].columns) == CREATOR_COLUMNS
    assert list(tables["posts"].columns) == POST_COLUMNS
    assert list(tables["brands"].columns) == BRAND_COLUMNS
    assert list(tables["labels"].columns) == LABEL_COLUMNS
    assert list(tables["brand_labels"].columns) == ["brand_id", "niche"]


def test_posts_per_creator_within_range(stats: pd.DataFrame) -> None:
    counts = stats.n_posts.fillna(0)
    assert counts.between(8, 24).all()


def test_creator_fields(tables: dict[str, pd.DataFrame]) -> None:
    labels = tables["labels"]
    c = tables["creators"]
    c = c[c.creator_id.isin(labels.creator_id)].drop_duplicates("creator_id")
    assert c.creator_id.str.fullmatch(r"c\d{6}").all()
    assert c.handle.is_unique
    assert set(c.platform) == {"instagram", "tiktok", "youtube"}
    assert c.country.str.fullmatch(r"[A-Z]{2}").all() and c.country.nunique() >= 12
    assert c.language.str.fullmatch(r"[a-z]{2}").all()
    assert (c.language == "en").mean() > 0.7
    youtube = c[c.platform == "youtube"]
    assert (youtube.following == "").all()
    blank = (youtube.followers == "").mean()
    assert 0.15 < blank < 0.45
    assert (c[c.platform != "youtube"].followers != "").all()
    assert (c.bio.str.len() > 10).all()


def test_posts_dates_and_numbers(tables: dict[str, pd.DataFrame]) -> None:
    p = tables["posts"]
    p = p[(p.post_id != "") & (p.posted_at != "yesterday")].drop_duplicates("post_id")
    ref = datetime.fromisoformat(REFERENCE_DATE.replace("Z", "+00:00")).timestamp()
    epoch = p.posted_at.str.fullmatch(r"\d+")
    iso = p.posted_at.str.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z")
    assert (epoch | iso).all()
    assert 0.05 < epoch.mean() < 0.15
    seconds = np.where(
        epoch,
        pd.to_numeric(p.posted_at.where(epoch), errors="coerce"),
        (pd.to_datetime(p.posted_at.where(iso), utc=True, errors="coerce") - pd.Timestamp(0, tz="UTC"))
        // pd.Timedelta(seconds=1),
    )
    assert (seconds <= ref).all() and (seconds >= ref - WINDOW_DAYS * 86400).all()
    assert set(p.sponsored) <= {"true", "false", ""}
    assert (p.comments.astype(int) >= 0).all()
    assert (p.views[p.views != ""].astype(int) >= 0).all()
    assert 0 < (p.shares == "").mean() < 1


def test_views_present_for_video_and_proportional(tables: dict[str, pd.DataFrame]) -> None:
    posts = tables["posts"].merge(
        tables["creators"].drop_duplicates("creator_id")[["creator_id", "platform"]], on="creator_id"
    )
    posts = posts[(posts.post_id != "") & (posts.likes.astype(int) > 20)]
    video = posts[posts.platform.isin(["tiktok", "youtube"])]
    assert (video.views != "").all()
    insta = posts[posts.platform == "instagram"]
    assert (insta.views == "").mean() > 0.7
    ratio = video.views.astype(int) / video.likes.astype(int)
    assert 5 <= ratio.median() <= 40


# ---------------------------------------------------------------- niches and text


def test_niche_vocabulary_is_rich() -> None:
    assert len(NICHES) >= 14 and len(set(NICHES)) == len(NICHES)
    for name in NICHES:
        data = NICHE_DATA[name]
        assert len(data["templates"]) >= 12, name
        assert len(set(data["templates"])) == len(data["templates"]), name
        assert len(data["hashtags"]) >= 10 and len(data["product"]) >= 8, name
        assert len(data["roles"]) >= 5 and len(data["bio_phrases"]) >= 5, name


def test_niche_coverage_at_2000_creators(tmp_path: Path) -> None:
    info = generate(tmp_path, seed=7, n_creators=2000, posts_per_creator=(0, 1), bad_rows=False)
    labels = read(info.labels)
    counts = labels.niche.value_counts()
    assert set(counts.index) == set(NICHES) and len(counts) >= 14
    assert counts.min() >= 100
    tiers = labels.tier.value_counts(normalize=True)
    assert set(TIERS) <= set(tiers.index)
    known = labels[labels.tier != "unknown"].tier.value_counts(normalize=True)
    assert known.get("nano", 0) + known.get("micro", 0) > 0.75
    assert known.get("micro", 0) > 0.3 and known.get("nano", 0) > 0.25
    assert known.get("mid", 0) > known.get("macro", 0) > 0


def test_tier_of() -> None:
    assert tier_of(None) == "unknown"
    followers = (900, 9_999, 10_000, 99_999, 100_000, 499_999, 500_000, 999_999, 2_000_000)
    expected = ["nano", "nano", "micro", "micro", "mid", "mid", "macro", "macro", "mega"]
    assert [tier_of(f) for f in followers] == expected


def test_labels_tier_matches_followers(tables: dict[str, pd.DataFrame]) -> None:
    c = tables["creators"].drop_duplicates("creator_id")
    merged = tables["labels"].merge(c, on="creator_id")
    expected = [tier_of(int(f)) if f else "unknown" for f in merged.followers]
    assert list(merged.tier) == expected


def test_captions_are_about_the_niche(tables: dict[str, pd.DataFrame]) -> None:
    posts = tables["posts"][tables["posts"].post_id != ""].drop_duplicates("post_id")
    posts = posts.merge(tables["labels"][["creator_id", "niche", "is_brand_account"]], on="creator_id")
    tags = posts.text.str.findall(r"#\w+")
    assert tags.map(len).between(1, 5).all()
    assert posts.text.nunique() / len(posts) > 0.8
    for niche, group in posts[posts.is_brand_account == "0"].groupby("niche"):
        own = set(NICHE_DATA[niche]["hashtags"])
        with_own = group.text.map(lambda t: any(h in own for h in re.findall(r"#\w+", t)))
        assert with_own.mean() > 0.85, niche
    generic = posts.text.str.contains("Sunday reset|Photo dump|Q&A time|Monday motivation|Friday feeling")
    assert 0.005 < generic.mean() < 0.1


# ---------------------------------------------------------------- injected behaviour


def test_injected_label_counts(tables: dict[str, pd.DataFrame]) -> None:
    labels = tables["labels"]
    fakes = labels[labels.is_fake == "1"]
    assert abs(len(fakes) - 0.04 * N) <= 2
    assert set(fakes.fake_pattern) == set(FAKE_PATTERNS)
    assert (labels[labels.is_fake == "0"].fake_pattern == "").all()
    assert abs((labels.is_brand_account == "1").sum() - 0.015 * N) <= 1
    stuffed = labels[labels.stuffed_bio_niche != ""]
    assert abs(len(stuffed) - 0.015 * N) <= 1
    assert (stuffed.stuffed_bio_niche != stuffed.niche).all()
    assert stuffed.stuffed_bio_niche.isin(NICHES).all()
    assert (labels.has_undisclosed_sponsorship == "1").sum() >= 5
    roles = (labels.is_fake == "1").astype(int) + (labels.is_brand_account == "1")
    roles += labels.stuffed_bio_niche != ""
    assert roles.max() == 1


def test_engagement_follows_tier_for_ordinary_creators(stats: pd.DataFrame) -> None:
    ok = stats[(stats.is_fake == "0") & stats.f.notna()]
    ratio = ok.er / ok.norm
    assert ratio.between(0.4, 2.2).all()
    for tier, (lo, hi) in {"nano": (0.05, 0.08), "micro": (0.02, 0.04), "mid": (0.01, 0.02)}.items():
        assert lo * 0.9 <= ok[ok.tier == tier].er.median() <= hi * 1.1, tier
    assert 0.02 <= ok.cr.median() <= 0.05


def test_fraud_patterns_are_detectable_and_exclusive(stats: pd.DataFrame) -> None:
    normal = stats[stats.is_fake == "0"]
    by = {p: stats[stats.fake_pattern == p] for p in FAKE_PATTERNS}
    assert (by["bought_followers"].er < 0.3 * by["bought_followers"].norm).all()
    assert (by["bought_followers"].f >= 10_000).all()
    assert (by["bought_engagement"].er > 3 * by["bought_engagement"].norm).all()
    assert (by["bought_engagement"].cr < 0.006).all()
    mf = by["mass_following"]
    assert ((mf.fo >= mf.f) & (mf.fo >= 1000)).all()
    assert (by["engagement_burst"].burst >= 8).all()
    known = normal[normal.f.notna()]
    assert not (known.er < 0.3 * known.norm).any()
    assert not ((known.er > 3 * known.norm) & (known.cr < 0.01)).any()
    assert not ((normal.fo >= normal.f) & (normal.fo >= 1000)).any()
    assert (normal.burst.dropna() < 5).all()


def test_brand_accounts_and_stuffed_bios(stats: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> None:
    brands = stats[stats.is_brand_account == "1"]
    assert brands.handle.str.endswith("_official").all()
    assert brands.bio.str.contains("[Oo]fficial").all()
    promo = tables["posts"][tables["posts"].creator_id.isin(brands.creator_id)]
    promo_words = (r"[Ss]hop|[Ss]ale|drop|[Rr]estocked|[Aa]vailable|[Gg]iveaway|shipping|[Ll]imited"
                   r"|favourite|[Bb]uilt to last|[Mm]eet the team")
    assert len(promo) > 0 and promo.text.str.contains(promo_words).all()
    stuffed = stats[stats.stuffed_bio_niche != ""]
    for _, row in stuffed.iterrows():
        keywords = NICHE_DATA[row.stuffed_bio_niche]["keywords"]
        assert len(row.bio.split()) >= 12
        assert sum(row.bio.count(k) for k in keywords) >= 10


def test_sponsorship_disclosure(tables: dict[str, pd.DataFrame]) -> None:
    posts = tables["posts"][tables["posts"].post_id != ""].drop_duplicates("post_id")
    labels = tables["labels"]
    early = posts.text.str.match(r"(#ad |Paid partnership|AD \||#sponsored |Ad: )")
    assert 0.02 < early.mean() < 0.12
    assert (posts[early].sponsored == "true").mean() > 0.85
    late = posts.text.str.contains(r"#(?:sp|collab|partner)$")
    assert late.sum() > 0 and not (early & late).any()
    hidden = posts.text.str.contains(r"use code [A-Z0-9]+|Code [A-Z0-9]+ saves|\?ref=")
    assert hidden.sum() > 0
    assert not posts[hidden].text.str.contains(r"#ad\b|#sp\b|#sponsored|[Pp]aid partnership").any()
    assert (posts[hidden].sponsored != "true").all()
    flagged = set(labels[labels.has_undisclosed_sponsorship == "1"].creator_id)
    assert set(posts[hidden].creator_id) == flagged
    sponsored_share = (early | late | hidden).mean()
    assert 0.05 < sponsored_share < 0.15


def test_brands(tables: dict[str, pd.DataFrame]) -> None:
    brands = tables["brands"].drop_duplicates("brand_id")
    brands = brands[brands.description != ""]
    assert len(brands) == 30
    assert brands.brand_id.str.fullmatch(r"b\d{3}").all() and brands.name.is_unique
    sentences = brands.description.str.count(r"[.!?](?:\s|$)")
    assert sentences.between(2, 5).all()
    assert (brands.description.str.len() > 150).all()
    niches = tables["brand_labels"].niche
    assert niches.isin(NICHES).all() and niches.value_counts().eq(2).all()
    assert (brands.countries != "").sum() <= 10 and (brands.countries != "").sum() >= 2
    limited = brands[brands.min_followers != ""]
    assert 2 <= len(limited) <= 10
    assert (limited.min_followers.astype(int) < limited.max_followers.astype(int)).all()
    text = " ".join(tables["posts"].text)
    competitors = {c for cell in brands.competitors if cell for c in cell.split("|")}
    assert competitors and sum(c in text for c in competitors) >= 0.8 * len(competitors)
    ids = set(tables["labels"].creator_id)
    excluded = [c for cell in brands.exclude_creators if cell for c in cell.split("|")]
    assert excluded and set(excluded) <= ids


def test_more_brands_than_catalogue(tmp_path: Path) -> None:
    info = generate(tmp_path, seed=1, n_creators=100, n_brands=35, posts_per_creator=(1, 2), bad_rows=False)
    brands = read(info.brands)
    assert len(brands) == 35 and brands.brand_id.is_unique and brands.name.is_unique
    assert (brands.description != "").all()


# ---------------------------------------------------------------- bad rows


def test_bad_rows_present(tables: dict[str, pd.DataFrame]) -> None:
    c, p, b = tables["creators"], tables["posts"], tables["brands"]
    labels = tables["labels"]
    assert (c.creator_id == "").sum() >= 1
    assert c.creator_id[c.creator_id != ""].duplicated().sum() >= 1
    assert (c.followers == "-3").sum() >= 1
    assert (c.followers == "12k!").sum() >= 1
    html = c[c.bio.str.contains("<b>") & c.bio.str.contains("\u200b") & c.bio.str.contains("\u202e")]
    assert len(html) == 1 and html.creator_id.iloc[0] in set(labels.creator_id)
    known = set(c.creator_id)
    assert (p.post_id == "").sum() >= 1
    assert p.post_id[p.post_id != ""].duplicated().sum() >= 1
    assert (~p.creator_id.isin(known)).sum() >= 1
    assert (p.posted_at == "yesterday").sum() >= 1
    assert (p.likes.astype(int) < 0).sum() >= 1
    assert (b.description == "").sum() >= 1
    assert b.brand_id.duplicated().sum() >= 1
    bad_creators = len(c) - len(labels)
    assert bad_creators / len(c) < 0.01
    assert set(c.creator_id) - {""} - set(labels.creator_id)  # invalid rows are not labelled
    assert (p.post_id == "").sum() + p.post_id.duplicated().sum() < 0.01 * len(p)


def test_no_bad_rows_when_disabled(tmp_path: Path) -> None:
    info = generate(tmp_path, seed=11, n_creators=200, bad_rows=False)
    c, p, b = read(info.creators), read(info.posts), read(info.brands)
    assert c.creator_id.is_unique and (c.creator_id != "").all()
    assert len(c) == len(read(info.labels)) == info.n_creators == 200
    followers = c.followers[c.followers != ""]
    assert followers.str.fullmatch(r"\d+").all() and (followers.astype(int) > 0).all()
    assert not c.bio.str.contains("<b>|\u200b|\u202e").any()
    assert p.post_id.is_unique and (p.post_id != "").all()
    assert p.creator_id.isin(set(c.creator_id)).all()
    assert p.posted_at.str.fullmatch(r"\d+|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z").all()
    assert (p.likes.astype(int) >= 0).all()
    assert b.brand_id.is_unique and (b.description != "").all()


# ---------------------------------------------------------------- formats, errors, CLI


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_formats_readable_with_pandas(tmp_path: Path, fmt: str) -> None:
    info = generate(tmp_path, seed=2, n_creators=120, fmt=fmt)
    assert info.creators.suffix == f".{fmt}" and info.labels.suffix == ".csv"
    if fmt == "jsonl":
        frames = [pd.read_json(p, lines=True, dtype=False) for p in (info.creators, info.posts, info.brands)]
    else:
        frames = [pd.read_parquet(path) for path in (info.creators, info.posts, info.brands)]
    creators, posts, brands = frames
    assert list(creators.columns) == CREATOR_COLUMNS and len(creators) == info.n_creators
    assert list(posts.columns) == POST_COLUMNS and len(posts) == info.n_posts
    assert list(brands.columns) == BRAND_COLUMNS and len(brands) == info.n_brands
    assert creators.followers.astype(str).isin(["-3", "12k!"]).sum() == 2
    assert (posts.posted_at.astype(str) == "yesterday").sum() == 1
    csv_info = generate(tmp_path / "csv", seed=2, n_creators=120)
    assert read(csv_info.creators).creator_id.tolist() == creators.creator_id.fillna("").tolist()
    assert read(csv_info.posts).text.tolist() == posts.text.tolist()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fmt": "xml"},
        {"n_creators": 0},
        {"n_brands": 0},
        {"posts_per_creator": (5, 2)},
        {"posts_per_creator": (-1, 2)},
        {"seed": -1},
        {"n_creators": 2.5},
    ],
)
def test_bad_arguments_raise_config_error(tmp_path: Path, kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        generate(tmp_path, **kwargs)


def test_zero_posts_mode_still_writes_valid_files(tmp_path: Path) -> None:
    info = generate(tmp_path, seed=1, n_creators=50, posts_per_creator=(0, 0))
    posts = read(info.posts)
    assert (posts.posted_at == "yesterday").sum() == 1 and (posts.post_id == "").sum() == 1


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    assert main(["--out", str(out), "--creators", "60", "--seed", "3", "--format", "csv"]) == 0
    assert "wrote 64 creators" in capsys.readouterr().out
    direct = generate(tmp_path / "direct", seed=3, n_creators=60)
    assert (out / "posts.csv").read_bytes() == direct.posts.read_bytes()
    assert main(["--out", str(out), "--format", "csv", "--min-posts", "5", "--max-posts", "2"]) == 2


# ---------------------------------------------------------------- comments and outcomes


@pytest.fixture(scope="module")
def talk(small_sample: SampleInfo, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The accepted comments (ingest derives blank is_creator_reply) with post and creator labels."""
    assert small_sample.comments is not None
    dataset = load_dataset(
        small_sample.creators, small_sample.posts, small_sample.brands, comments=small_sample.comments
    )
    assert dataset.comments is not None
    posts = dataset.posts[["post_id", "creator_id", "posted_at", "comments"]].rename(
        columns={"comments": "total"}
    )
    out = dataset.comments.merge(posts, on="post_id", how="left", validate="many_to_one")
    out = out.merge(tables["labels"], on="creator_id", how="left")
    out["question"] = ~out.is_creator_reply & out.text.str.endswith("?")
    return out


def answer_stats(talk: pd.DataFrame) -> pd.DataFrame:
    """Per creator: share of audience questions the creator answered, and the median delay (h)."""
    questions = talk[talk.question][["comment_id", "post_id", "creator_id", "author_id", "created_at"]]
    replies = talk[talk.is_creator_reply].assign(asker=lambda f: f.text.str.extract(r"^@(u\d{7}) ")[0])
    replies = replies.groupby(["post_id", "asker"]).created_at.min().rename("replied_at").reset_index()
    matched = questions.merge(
        replies, left_on=["post_id", "author_id"], right_on=["post_id", "asker"], how="left"
    )
    matched["answered"] = matched.replied_at.notna()
    matched["delay"] = (matched.replied_at - matched.created_at).dt.total_seconds() / 3600
    return matched.groupby("creator_id").agg(
        rate=("answered", "mean"), questions=("answered", "size"), delay=("delay", "median")
    )


def test_comment_and_outcome_files(small_sample: SampleInfo, tables: dict[str, pd.DataFrame]) -> None:
    assert small_sample.comments is not None and small_sample.comments.name == "comments.csv"
    assert small_sample.outcomes is not None and small_sample.outcomes.name == "outcomes.csv"
    assert list(tables["comments"].columns) == COMMENT_COLUMNS
    assert list(tables["outcomes"].columns) == OUTCOME_COLUMNS
    assert small_sample.n_comments == len(tables["comments"])
    assert small_sample.n_outcomes == len(tables["outcomes"])
    c = tables["comments"]
    assert (c.comment_id == "").sum() == 1 and c.comment_id[c.comment_id != ""].duplicated().sum() == 1
    assert (c.created_at == "soon").sum() == 1 and (c.is_creator_reply == "maybe").sum() == 1
    o = tables["outcomes"]
    assert (o.brand_id == "").sum() == 1 and (o.outcome == "lots").sum() == 1
    assert (o.outcome == "-4.0").sum() == 1


def test_comments_and_outcomes_are_deterministic_and_independent(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", seed=3, n_creators=150)
    b = generate(tmp_path / "b", seed=3, n_creators=150)
    c = generate(tmp_path / "c", seed=4, n_creators=150)
    bare = generate(tmp_path / "bare", seed=3, n_creators=150, comments=False, outcomes=False)
    only_outcomes = generate(tmp_path / "o", seed=3, n_creators=150, comments=False)
    for name in ("comments", "outcomes"):
        assert getattr(a, name).read_bytes() == getattr(b, name).read_bytes(), name
        assert getattr(a, name).read_bytes() != getattr(c, name).read_bytes(), name
    # Switching the new tables off changes none of the other files.
    for name in ("creators", "posts", "brands", "labels", "brand_labels"):
        assert getattr(a, name).read_bytes() == getattr(bare, name).read_bytes(), name
    assert only_outcomes.outcomes is not None
    assert only_outcomes.outcomes.read_bytes() == a.outcomes.read_bytes()
    assert bare.comments is None and bare.outcomes is None and bare.n_comments == bare.n_outcomes == 0
    assert not (tmp_path / "bare" / "comments.csv").exists()
    assert not (tmp_path / "bare" / "outcomes.csv").exists()


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_comments_and_outcomes_readable_in_every_format(tmp_path: Path, fmt: str) -> None:
    info = generate(tmp_path, seed=2, n_creators=120, fmt=fmt)
    assert info.comments is not None and info.outcomes is not None
    assert info.comments.suffix == info.outcomes.suffix == f".{fmt}"
    dataset = load_dataset(info.creators, info.posts, info.brands, comments=info.comments)
    report = dataset.reports[-1]
    assert report.name == "comments" and report.read == info.n_comments
    assert report.quarantined == 3 and report.accepted == info.n_comments - 3 and report.blanked == 2
    fields = sorted((r.field, r.action) for r in dataset.rejections if r.file == str(info.comments))
    assert fields == [
        ("comment_id", "rejected"), ("comment_id", "rejected"), ("created_at", "blanked"),
        ("is_creator_reply", "blanked"), ("post_id", "rejected"),
    ]
    outcomes, rejections, outcome_report = load_outcomes(info.outcomes)
    assert outcome_report.read == info.n_outcomes and outcome_report.quarantined == 4
    # The planted unreadable date is left blank, which makes its row repeat an earlier
    # campaign of the same brand and creator with a blank date: a duplicate.
    assert sorted((r.field, r.action) for r in rejections) == [
        ("brand_id", "rejected"), ("date", "rejected"), ("outcome", "rejected"), ("outcome", "rejected"),
    ]
    assert (outcomes.outcome >= 0).all() and len(outcomes) > 30 * 30
    if fmt != "csv":
        csv_info = generate(tmp_path / "csv", seed=2, n_creators=120)
        assert csv_info.comments is not None and csv_info.outcomes is not None
        csv_data = load_dataset(csv_info.creators, csv_info.posts, comments=csv_info.comments)
        assert csv_data.comments is not None and dataset.comments is not None
        pd.testing.assert_frame_equal(csv_data.comments, dataset.comments)
        pd.testing.assert_frame_equal(load_outcomes(csv_info.outcomes)[0], outcomes)


def test_comments_are_a_sample_of_each_post(talk: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> None:
    assert talk.total.notna().all()  # every comment's post exists
    per_post = talk.groupby("post_id").agg(rows=("comment_id", "size"), total=("total", "first"))
    audience = talk[~talk.is_creator_reply].groupby("post_id").size()
    assert (per_post.rows <= per_post.total).all()
    assert audience.max() <= 10
    assert (per_post.rows >= np.minimum(2, per_post.total)).all()
    posts = tables["posts"]
    commented = posts[posts.comments.str.fullmatch(r"[1-9]\d*")]
    assert commented.post_id.isin(talk.post_id).mean() > 0.95
    lag = (talk.created_at - talk.posted_at).dt.total_seconds()
    assert lag.isna().sum() == 1  # the planted unreadable created_at, left blank
    lag = lag.dropna()
    assert (lag > 0).all() and lag.max() < 10 * 86400
    assert (talk.created_at.dropna() <= pd.Timestamp(REFERENCE_DATE)).all()
    assert 60 < lag[~talk.is_creator_reply].median() < 86400
    raw = tables["comments"]
    assert raw.created_at.str.fullmatch(r"\d+").mean() > 0.05
    assert talk.author_id[~talk.is_creator_reply].str.fullmatch(r"u\d{7}").all()


def test_comment_texts(talk: pd.DataFrame) -> None:
    audience = talk[~talk.is_creator_reply]
    assert 0.15 < audience.question.mean() < 0.35
    assert audience.text.isin(GENERIC_COMMENTS).mean() > 0.2
    trail = audience[audience.question & (audience.niche == "trail running")]
    assert trail.text.isin([q for q, _ in CONVERSATION["trail running"]["questions"]]).any()
    for niche, group in audience[audience.question & (audience.is_brand_account == "0")].groupby("niche"):
        own = {q for q, _ in CONVERSATION[niche]["questions"]}
        products = NICHE_DATA[niche]["product"]
        fits = group.text.isin(own) | group.text.map(lambda t: any(p in t for p in products))
        assert fits.all(), niche


def test_creator_replies_come_from_the_posts_creator(talk: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> None:
    replies = talk[talk.is_creator_reply]
    assert len(replies) > 0.05 * len(talk)
    assert (replies.author_id == replies.creator_id).all()
    assert (talk[~talk.is_creator_reply].author_id != talk[~talk.is_creator_reply].creator_id).all()
    assert replies.text.str.match(r"@u\d{7} \S").all()
    # Each reply names someone who asked a question under the same post, earlier.
    asked = talk[talk.question].groupby(["post_id", "author_id"]).created_at.min()
    key = pd.MultiIndex.from_arrays([replies.post_id, replies.text.str[1:9]])
    asked_at = asked.reindex(key).to_numpy()
    assert pd.notna(asked_at).all() and (asked_at < replies.created_at.to_numpy()).all()
    # About 30% of the replies leave is_creator_reply blank for ingest to derive.
    raw = tables["comments"].drop_duplicates("comment_id").set_index("comment_id").is_creator_reply
    blank = raw.reindex(replies.comment_id) == ""
    assert 0.2 < blank.mean() < 0.4
    assert set(raw.reindex(replies.comment_id)) <= {"true", ""}


def test_high_answerers_answer_more_and_sooner(talk: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> None:
    labels = tables["labels"]
    assert set(labels.answers_questions) == {"high", "low"}
    ordinary = labels[(labels.is_fake == "0") & (labels.is_brand_account == "0")]
    assert 0.4 < (ordinary.answers_questions == "high").mean() < 0.6
    others = labels[(labels.is_fake == "1") | (labels.is_brand_account == "1")]
    assert (others.answers_questions == "low").all()
    stats = answer_stats(talk).join(labels.set_index("creator_id").answers_questions)
    stats = stats[stats.questions >= 5]
    high, low = stats[stats.answers_questions == "high"], stats[stats.answers_questions == "low"]
    assert len(high) > 100 and len(low) > 100
    assert high.rate.mean() > 0.6 and low.rate.mean() < 0.2
    assert high.rate.median() > low.rate.quantile(0.95)
    assert high.delay.max() <= 12 and low.delay.dropna().min() >= 24


def test_pods_share_their_commenters(talk: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> None:
    labels = tables["labels"]
    ordinary = labels[(labels.is_fake == "0") & (labels.is_brand_account == "0")]
    members = set(labels[labels.in_pod == "1"].creator_id)
    assert members <= set(ordinary.creator_id)
    assert 8 <= len(members) and 0.01 < len(members) / len(ordinary) < 0.06
    audience = talk[~talk.is_creator_reply]
    # Accounts that comment under the posts of several creators: the pods' shared accounts.
    reach = audience.groupby("author_id").creator_id.nunique()
    shared = set(reach[reach >= 5].index)
    from_shared = audience.author_id.isin(shared)
    per_creator = from_shared.groupby(audience.creator_id).mean()
    assert (per_creator[per_creator.index.isin(members)] >= 0.6).all()
    assert per_creator[~per_creator.index.isin(members)].max() < 0.1
    assert audience[from_shared].text.isin(POD_COMMENTS).mean() > 0.9
    # A pod account comments under most posts of the pod (within the 2-10 comment sample).
    pod_posts = audience[audience.creator_id.isin(members)]
    full = pod_posts.groupby("post_id").filter(lambda g: len(g) >= 8)
    coverage = full[full.author_id.isin(shared)].groupby("author_id").post_id.nunique()
    owner = full.drop_duplicates("post_id").set_index("post_id").creator_id
    pods_of = full[full.author_id.isin(shared)].groupby("author_id").creator_id.unique()
    posts_in_reach = pods_of.map(lambda cs: int(owner.isin(cs).sum()))
    assert (coverage / posts_in_reach).median() > 0.8


def test_bought_engagement_comments_are_generic_one_offs(talk: pd.DataFrame) -> None:
    audience = talk[~talk.is_creator_reply]
    bots = audience[audience.fake_pattern == "bought_engagement"]
    assert len(bots) > 20
    generic = bots.text.isin(GENERIC_COMMENTS) | bots.text.str.contains("DM us|check my page|Promote it|💯")
    assert generic.mean() >= 0.8
    once = bots.groupby(["creator_id", "author_id"]).size()
    assert (once == 1).mean() > 0.95
    normal = audience[(audience.is_fake == "0") & (audience.in_pod == "0")]
    assert normal.text.isin(GENERIC_COMMENTS).mean() < 0.5


def test_outcomes_reward_fit_and_genuine_audiences(tables: dict[str, pd.DataFrame]) -> None:
    raw = tables["outcomes"]
    o = raw[(raw.brand_id != "") & raw.outcome.str.fullmatch(r"\d+(\.\d+)?")]
    o = o.drop_duplicates(["brand_id", "creator_id", "date"]).assign(outcome=lambda f: f.outcome.astype(float))
    o = o.merge(tables["labels"], on="creator_id").merge(
        tables["brand_labels"].rename(columns={"niche": "brand_niche"}), on="brand_id"
    )
    assert set(o.brand_id) == set(tables["brand_labels"].brand_id)
    per_brand = o.groupby("brand_id").creator_id.nunique()
    assert per_brand.between(30, 45).all()
    o["fit"] = o.niche == o.brand_niche
    assert 0.4 < o.fit.mean() < 0.65
    assert (o.is_brand_account == "0").all()
    genuine = (o.is_fake == "0") & (o.in_pod == "0")
    good = o[o.fit & genuine].outcome
    fakes = o[o.is_fake == "1"].outcome
    off = o[~o.fit & genuine].outcome
    assert len(fakes) >= 10 and len(off) > 100
    assert good.mean() > 3 * fakes.mean() and good.mean() > 3 * off.mean()
    assert good.median() > o[o.fit & (o.in_pod == "1")].outcome.median()
    honest = o[o.fit & genuine]
    assert honest[honest.has_undisclosed_sponsorship == "0"].outcome.median() > honest[
        honest.has_undisclosed_sponsorship == "1"
    ].outcome.median()
    dated = pd.to_datetime(o.date[o.date != ""], utc=True)
    reference = pd.Timestamp(REFERENCE_DATE)
    assert (dated < reference).all() and (dated >= reference - pd.Timedelta(days=WINDOW_DAYS)).all()
    assert 0.01 < (o.date == "").mean() < 0.1


def test_cli_comment_and_outcome_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    assert main(["--out", str(out), "--creators", "60", "--seed", "3"]) == 0
    assert re.search(r"\d+ comments, \d+ outcomes", capsys.readouterr().out)
    quiet = tmp_path / "quiet"
    assert main(["--out", str(quiet), "--creators", "60", "--seed", "3", "--no-comments", "--no-outcomes"]) == 0
    assert "comments" not in capsys.readouterr().out
    assert not (quiet / "comments.csv").exists() and not (quiet / "outcomes.csv").exists()
    assert (quiet / "posts.csv").read_bytes() == (out / "posts.csv").read_bytes()
