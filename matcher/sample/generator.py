"""Seeded generator of a realistic sample dataset: creators, posts, brands, comments, outcomes
of past campaigns and ground-truth labels.

**Comments** (``comments.<ext>``) are a sample of the comments under each post: 2-10
audience comments (never more rows, replies included, than the post's ``comments`` count,
which stays the platform total), then the creator's replies. Audience authors (``u0001234``)
are a few loyal regulars per creator and many one-off accounts. Texts are questions about
the niche (each ends with ``?``; nothing else does), substantive remarks and generic praise
("nice pic", "🔥🔥🔥"). A reply has the creator as ``author_id``, starts with ``@`` and the
asker's id, and comes 0.5-12 h after the question for a creator labelled
``answers_questions=high`` (who answers 60-95% of questions; half of the ordinary creators)
and 24-96 h after for ``low`` (0-20%; every fake and brand account). ``is_creator_reply``
is blank in ~30% of rows, for ingest to derive. About 3% of ordinary creators are in
engagement pods (``in_pod=1``) of 8-12 creators, mostly of one niche: 75-90% of their
comments come within the hour from the pod's 6-9 shared accounts, short generic praise
("Amazing as always!!"). ``bought_engagement`` fakes get 90%+ generic comments from
one-off accounts.

**Outcomes** (``outcomes.<ext>``) are results of past campaigns at a fixed budget, so a
bigger account does not convert more by itself. Each brand worked with ~40 creators (brand
accounts excluded), half of them from the brand's niche and the rest drawn from everyone;
~10% of those worked with it twice. For creator c and brand b::

    outcome = 25 * fit * genuine * level * honest * responsive * lognormal(0, 0.5)

``fit`` is 1 in the brand's niche and 0.15 elsewhere (a keyword-stuffed bio does not
change a creator's niche); ``genuine`` is 0.10/0.15/0.25/0.35 for the four fake patterns
(bought_followers, bought_engagement, mass_following, engagement_burst), 0.45 for pod
members and 1 otherwise; ``level`` is the creator's true engagement rate over the median
of its tier, clipped to 0.5-1.5 and squared; ``honest`` is 0.7 with an undisclosed
sponsorship; ``responsive`` is 1.2 for ``answers_questions=high``. So a learner should
find topical fit first (about 6x), then audience genuineness (fakes and pods convert
poorly), then engagement relative to the tier, disclosure and answering questions.
``date`` is a day within the 180 days before the reference date (blank for ~5% of rows).

``price`` is what the creator was paid per post, in USD (blank for ~25% of rows), from a known
rule that differs from the published rates matcher's price prior uses, so calibration has
something to learn::

    price = rate[platform] * (followers / 10,000) ** 0.85 * clip(level, 0.25, 4) ** 0.5
            * (0.75 without sponsored posts) * lognormal(0, 0.35)

with ``rate`` $110 on Instagram, $45 on TikTok and $260 on YouTube, ``followers`` the count the
account shows and ``level`` its true engagement rate over its tier's median. Prices draw from a
stream of their own, so the outcome values are the same with or without them.

Conversations and outcomes draw from random streams of their own, so the other files are
the same whether or not they are written.
"""

from __future__ import annotations

import argparse
import functools
import math
import random
import re
import string
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from matcher.errors import ConfigError
from matcher.ingest import BRAND_COLUMNS, COMMENT_COLUMNS, CREATOR_COLUMNS, OUTCOME_COLUMNS, POST_COLUMNS
from matcher.sample.bad_rows import add_bad_brands, add_bad_comments, add_bad_creators, add_bad_outcomes, add_bad_posts
from matcher.sample.tables import write_table
from matcher.sample.vocabulary import (
    ANY_ANSWERS, BIO_TEMPLATES, BOT_COMMENTS, BRAND_ANY_ANSWERS, BRAND_BIOS, BRAND_CATALOGUE, BRAND_PROMOS, BRAND_QUESTIONS,
    BRAND_REMARKS, BRAND_SUFFIXES, BRAND_VARIANT_SUFFIXES, CITIES, CLOSERS, COMMON_SLOTS, CONVERSATION, COUNTRIES,
    FIRST_NAMES, GENERIC_CAPTIONS, GENERIC_COMMENTS, GENERIC_HASHTAGS, HANDLE_STYLES, NICHE_DATA, NICHES,
    POD_COMMENTS, QUESTION_TEMPLATES, REMARK_TEMPLATES, SPONSOR_EARLY, SPONSOR_HIDDEN, SPONSOR_LATE,
    YOUTUBE_CLOSERS, template_fields,
)
from matcher.signals import TIERS as SIGNAL_TIERS

__all__ = [
    "NICHES",
    "REFERENCE_DATE",
    "WINDOW_DAYS",
    "FAKE_PATTERNS",
    "TIERS",
    "SampleInfo",
    "generate",
    "tier_of",
    "main",
]

# --------------------------------------------------------------------------------------
# Constants of the data contract
# --------------------------------------------------------------------------------------

#: Every post is dated within ``WINDOW_DAYS`` days before this instant (UTC).
REFERENCE_DATE = "2026-11-01T00:00:00Z"
WINDOW_DAYS = 180
_REFERENCE_EPOCH = int(datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp())

#: Follower tiers, in order: nano <10k, micro 10k–100k, mid 100k–500k, macro 500k–1M, mega >1M.
TIERS: tuple[str, ...] = tuple(name for name, _, _ in SIGNAL_TIERS)
_TIER_EDGES = np.array([lo for _, lo, _ in SIGNAL_TIERS[1:]], dtype=np.int64)
# Engagement rate ((likes + comments) / followers) per post, low and high end per tier.
_ER_LO = np.array([0.050, 0.020, 0.010, 0.008, 0.006])
_ER_HI = np.array([0.080, 0.040, 0.020, 0.013, 0.012])
_ER_MEDIAN = (_ER_LO + _ER_HI) / 2.0

FAKE_PATTERNS: tuple[str, ...] = (
    "bought_followers",
    "bought_engagement",
    "mass_following",
    "engagement_burst",
)

_FORMATS = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}

# The brands file lists the contract's columns with the follower bounds after the languages.
_BRAND_FILE_COLUMNS = (
    "brand_id", "name", "description", "countries", "languages", "min_followers",
    "max_followers", "competitors", "exclude_creators",
)
if sorted(_BRAND_FILE_COLUMNS) != sorted(BRAND_COLUMNS):
    raise AssertionError("the sample's brands file must hold exactly the contract's brand columns")
# Ground truth, written beside the data: not part of the input contract.
_LABEL_COLUMNS = (
    "creator_id", "niche", "tier", "is_fake", "fake_pattern", "is_brand_account",
    "stuffed_bio_niche", "has_undisclosed_sponsorship", "answers_questions", "in_pod",
)
_BRAND_LABEL_COLUMNS = ("brand_id", "niche")

# Injection rates (fractions of creators / posts).
_FAKE_RATE = 0.04
_BRAND_ACCOUNT_RATE = 0.015
_STUFFED_RATE = 0.015
_GENERIC_CAPTION_RATE = 0.10
_YOUTUBE_BLANK_FOLLOWERS = 0.30
# Conversations: share of ordinary creators who answer most questions, share of ordinary
# creators in engagement pods, share of comment rows whose is_creator_reply is left blank,
# and the size of the audience id space (u0000001 ... u9999999).
_HIGH_ANSWER_SHARE = 0.5
_POD_RATE = 0.03
_BLANK_REPLY_FLAG = 0.30
_AUDIENCE_IDS = 10_000_000

_PLATFORMS = ("instagram", "tiktok", "youtube")
_PLATFORM_WEIGHTS = (0.45, 0.30, 0.25)

_FORMATTER = string.Formatter()
_ARTICLE_RE = re.compile(r"\b([Aa]) (?=[aeiouAEIOU])")
_SLUG_RE = re.compile(r"[^a-z0-9]+")


def _sentence_starts(template: str) -> frozenset[str]:
    """Fields that open a sentence in ``template`` (their value gets a capital letter)."""
    starts = set()
    text = ""
    for literal, field, _, _ in _FORMATTER.parse(template):
        text += literal
        if field and (not text.strip() or text.rstrip()[-1:] in ".!?" and text.endswith(" ")):
            starts.add(field)
        if field:
            text += "x"
    return frozenset(starts)


def _end_sentence(text: str) -> str:
    return text if text[-1:] in ".!?" else f"{text}."


def _slug(text: str, sep: str = "") -> str:
    return _SLUG_RE.sub(sep, text.lower()).strip(sep)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _lower_first(text: str) -> str:
    """Lower-case the first letter unless the word is an acronym ("UTMB finisher" stays)."""
    if len(text) > 1 and text[1].islower():
        return text[:1].lower() + text[1:]
    return text



def tier_of(followers: int | None) -> str:
    """Return the follower tier of an account.

    Args:
        followers: Follower count, or ``None`` when the export does not give it.

    Returns:
        One of ``nano`` (<10k), ``micro`` (10k–100k), ``mid`` (100k–500k),
        ``macro`` (500k–1M), ``mega`` (≥1M) or ``unknown`` when followers is ``None``.
    """
    if followers is None:
        return "unknown"
    return TIERS[int(np.searchsorted(_TIER_EDGES, followers, side="right"))]


# --------------------------------------------------------------------------------------
# Public result type
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleInfo:
    """Where a generated sample was written and how many rows each main file holds.

    Attributes:
        directory: The output directory.
        creators, posts, brands: Paths of the three input files (extension = format).
        labels: Path of ``labels.csv`` (ground truth per creator).
        brand_labels: Path of ``brand_labels.csv`` (niche per brand).
        n_creators, n_posts, n_brands: Rows written to the creators, posts and brands
            files, deliberately bad rows included.
        comments, outcomes: Paths of the comments and outcomes files, or ``None`` when
            they were not asked for.
        n_comments, n_outcomes: Rows written to those files (0 when not written).
    """

    directory: Path
    creators: Path
    posts: Path
    brands: Path
    labels: Path
    brand_labels: Path
    n_creators: int
    n_posts: int
    n_brands: int
    comments: Path | None = None
    outcomes: Path | None = None
    n_comments: int = 0
    n_outcomes: int = 0


# --------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------


class _TextMaker:
    """Fills caption templates from a seeded ``random.Random``."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd
        self.niches = []
        for name in NICHES:
            data = NICHE_DATA[name]
            compiled = [(t, template_fields(t), _sentence_starts(t)) for t in data["templates"]]
            self.niches.append((data, compiled))

    def fill(
        self, data: dict[str, Any], template: str, fields: Sequence[str], starts: frozenset[str] = frozenset()
    ) -> str:
        choice = self.rnd.choice
        values: dict[str, str] = {}
        used: dict[str, list[str]] = {}
        for field in fields:
            if field in values:
                continue
            base = field.rstrip("0123456789")
            pool = data.get(base) or COMMON_SLOTS[base]
            taken = used.setdefault(base, [])
            value = choice(pool)
            for _ in range(4):
                if value not in taken:
                    break
                value = choice(pool)
            taken.append(value)
            values[field] = _cap(value) if field in starts else value
        return template.format(**values)

    def caption(self, k: int) -> str:
        data, compiled = self.niches[k]
        template, fields, starts = self.rnd.choice(compiled)
        return self.fill(data, template, fields, starts)

    def hashtags(self, k: int, count: int) -> list[str]:
        return self.rnd.sample(self.niches[k][0]["hashtags"], count)


def _weighted_index(rng: np.random.Generator, weights: Sequence[float], size: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def _choose(rng: np.random.Generator, pool: np.ndarray, count: int) -> np.ndarray:
    count = min(count, len(pool))
    if count <= 0:
        return np.empty(0, dtype=np.int64)
    return np.sort(rng.choice(pool, size=count, replace=False))


def _injected_count(rate: float, n: int, minimum: int) -> int:
    count = int(round(rate * n))
    return max(count, minimum) if n >= 100 else count


def _validate(n_creators: Any, n_brands: Any, posts_per_creator: Any, fmt: Any, seed: Any) -> tuple[int, int]:
    for name, value in (("n_creators", n_creators), ("n_brands", n_brands), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ConfigError(f"{name} must be an int, got {value!r}")
    if n_creators < 1:
        raise ConfigError(f"n_creators must be >= 1, got {n_creators}; ask for at least one creator")
    if n_brands < 1:
        raise ConfigError(f"n_brands must be >= 1, got {n_brands}; ask for at least one brand")
    if seed < 0:
        raise ConfigError(f"seed must be >= 0, got {seed}")
    try:
        lo, hi = (int(v) for v in posts_per_creator)
    except (TypeError, ValueError):
        raise ConfigError(
            f"posts_per_creator must be a pair of ints (min, max), got {posts_per_creator!r}"
        ) from None
    if lo < 0 or hi < lo:
        raise ConfigError(f"posts_per_creator must satisfy 0 <= min <= max, got {(lo, hi)}")
    if fmt not in _FORMATS:
        raise ConfigError(f"fmt must be one of {sorted(_FORMATS)}, got {fmt!r}")
    return lo, hi


def generate(
    out_dir: str | Path,
    *,
    seed: int = 7,
    n_creators: int = 2000,
    n_brands: int = 30,
    posts_per_creator: tuple[int, int] = (8, 24),
    bad_rows: bool = True,
    fmt: str = "csv",
    comments: bool = True,
    outcomes: bool = True,
) -> SampleInfo:
    """Write a seeded synthetic dataset of creators, posts, brands, comments, campaign
    outcomes and ground-truth labels.

    The same arguments always give byte-identical files. Creators are spread evenly over
    :data:`NICHES`; followers are log-normal (mostly nano and micro); engagement follows
    the tier. About 4% of creators are labelled fakes (``bought_followers``,
    ``bought_engagement``, ``mass_following``, ``engagement_burst``), 1.5% are brand
    accounts and 1.5% have a bio stuffed with keywords of another niche. About 10% of
    ordinary posts are sponsored, disclosed early, late or not at all. Comments and
    outcomes are made as the module docstring describes; ``labels.csv`` gains
    ``answers_questions`` (high/low) and ``in_pod`` (1/0) whether or not they are written.

    Args:
        out_dir: Directory to write into (created if missing; files are overwritten).
        seed: Seed of every random choice.
        n_creators: Number of genuine creators (bad rows come on top).
        n_brands: Number of genuine brands; the first 30 are hand-written (two per
            niche), further ones are variants of those.
        posts_per_creator: Inclusive (min, max) number of posts per creator.
        bad_rows: Append a few deliberately invalid rows to each input file (and give
            one creator a bio with HTML tags and invisible characters, which is valid).
        fmt: ``"csv"``, ``"jsonl"`` or ``"parquet"`` for the creators, posts, brands,
            comments and outcomes files; ``labels.csv`` and ``brand_labels.csv`` are
            always CSV. In parquet, a column that mixes numbers and text (because of bad
            rows or epoch-second dates) is written as text.
        comments: Also write ``comments.<ext>``, a sample of the comments under each post
            with the creators' replies.
        outcomes: Also write ``outcomes.<ext>``, results of past campaigns.

    Returns:
        A :class:`SampleInfo` with the paths written and their row counts.

    Raises:
        ConfigError: An argument is out of range or of the wrong type, or
            ``fmt="parquet"`` without pyarrow installed.
    """
    lo, hi = _validate(n_creators, n_brands, posts_per_creator, fmt, seed)
    n = int(n_creators)
    seed = int(seed)
    rng = np.random.default_rng([seed, 20261101])
    rnd = random.Random(seed)
    maker = _TextMaker(rnd)

    creators, labels, post_plan = _make_creators(rng, rnd, n, lo, hi, bad_rows)
    posts, undisclosed = _make_posts(rng, rnd, maker, creators, post_plan)
    for i, flag in enumerate(undisclosed):
        labels["has_undisclosed_sponsorship"][i] = int(flag)
    brands, brand_labels = _make_brands(rng, int(n_brands), creators, post_plan)

    # Conversations and outcomes draw from streams of their own, so switching them on or
    # off leaves the other files as they are.
    talk_rng = np.random.default_rng([seed, 20261101, 1])
    talk = _plan_conversations(talk_rng, n, post_plan)
    labels["answers_questions"] = ["high" if h else "low" for h in talk["high"].tolist()]
    labels["in_pod"] = [int(p >= 0) for p in talk["pod_of"].tolist()]
    comment_table = _make_comments(talk_rng, post_plan, talk, creators, posts) if comments else None
    outcome_table = None
    if outcomes:
        outcome_rng = np.random.default_rng([seed, 20261101, 2])
        outcome_table = _make_outcomes(outcome_rng, post_plan, talk, labels, brand_labels)
        row_of = {cid: i for i, cid in enumerate(labels["creator_id"])}
        outcome_table["price"] = _campaign_prices(
            np.random.default_rng([seed, 20261101, 3]), post_plan, np.array([row_of[c] for c in outcome_table["creator_id"]], dtype=np.int64)
        )

    if bad_rows:
        add_bad_creators(creators, n)
        add_bad_posts(posts, creators, n)
        add_bad_brands(brands, int(n_brands))
        if comment_table is not None:
            add_bad_comments(comment_table, posts["post_id"][: len(post_plan["post_owner"])])
        if outcome_table is not None:
            add_bad_outcomes(outcome_table, labels["creator_id"])

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ext = _FORMATS[fmt]
    paths = {name: out / f"{name}.{ext}" for name in ("creators", "posts", "brands")}
    write_table(paths["creators"], CREATOR_COLUMNS, creators, fmt)
    write_table(paths["posts"], POST_COLUMNS, posts, fmt)
    write_table(paths["brands"], _BRAND_FILE_COLUMNS, brands, fmt)
    labels_path = out / "labels.csv"
    brand_labels_path = out / "brand_labels.csv"
    write_table(labels_path, _LABEL_COLUMNS, labels, "csv")
    write_table(brand_labels_path, _BRAND_LABEL_COLUMNS, brand_labels, "csv")
    comments_path = outcomes_path = None
    if comment_table is not None:
        comments_path = out / f"comments.{ext}"
        write_table(comments_path, COMMENT_COLUMNS, comment_table, fmt)
    if outcome_table is not None:
        outcomes_path = out / f"outcomes.{ext}"
        write_table(outcomes_path, OUTCOME_COLUMNS, outcome_table, fmt)
    return SampleInfo(
        directory=out,
        creators=paths["creators"],
        posts=paths["posts"],
        brands=paths["brands"],
        labels=labels_path,
        brand_labels=brand_labels_path,
        n_creators=len(creators["creator_id"]),
        n_posts=len(posts["post_id"]),
        n_brands=len(brands["brand_id"]),
        comments=comments_path,
        outcomes=outcomes_path,
        n_comments=len(comment_table["comment_id"]) if comment_table is not None else 0,
        n_outcomes=len(outcome_table["brand_id"]) if outcome_table is not None else 0,
    )


# --------------------------------------------------------------------------------------
# Creators
# --------------------------------------------------------------------------------------


def _make_creators(
    rng: np.random.Generator, rnd: random.Random, n: int, lo: int, hi: int, bad_rows: bool
) -> tuple[dict[str, list[Any]], dict[str, list[Any]], dict[str, Any]]:
    k = len(NICHES)
    niche = rng.permutation(np.resize(np.arange(k), n))
    platform = _weighted_index(rng, _PLATFORM_WEIGHTS, n)
    country_idx = _weighted_index(rng, [c[1] for c in COUNTRIES], n)
    lang_u = rng.random(n)

    # Followers: log-normal, micro and nano dominate. ``true_f`` drives engagement even
    # where the export leaves followers blank.
    true_f = np.clip(np.rint(10 ** rng.normal(4.2, 0.8, n)), 120, 40_000_000).astype(np.int64)

    # Roles: fakes and brand accounts come from instagram/tiktok (they need followers and
    # following), stuffed bios from anyone else. All three sets are disjoint.
    social = np.flatnonzero(platform != 2)
    order = rng.permutation(social)
    n_fake = _injected_count(_FAKE_RATE, n, len(FAKE_PATTERNS))
    n_brand = _injected_count(_BRAND_ACCOUNT_RATE, n, 1)
    n_stuffed = _injected_count(_STUFFED_RATE, n, 1)
    fake_idx = np.sort(order[:n_fake])
    brand_idx = np.sort(order[n_fake:n_fake + n_brand])
    rest = np.setdiff1d(np.arange(n), np.concatenate([fake_idx, brand_idx]))
    stuffed_idx = _choose(rng, rest, n_stuffed)

    pattern = np.full(n, -1, dtype=np.int64)
    pattern[fake_idx] = np.arange(len(fake_idx)) % len(FAKE_PATTERNS)
    is_brand = np.zeros(n, dtype=bool)
    is_brand[brand_idx] = True

    # Posts per creator (burst fakes need enough posts to show a burst).
    n_posts = rng.integers(lo, hi + 1, n)
    burst = pattern == 3
    n_posts[burst] = np.maximum(n_posts[burst], min(hi, 6))

    # Engagement model per creator.
    u_er = rng.random(n)
    comment_ratio = rng.uniform(0.02, 0.05, n)
    following_draw = np.rint(np.exp(rng.normal(math.log(600), 0.8, n))).astype(np.int64)
    brand_f = np.rint(10 ** rng.normal(4.6, 0.5, n)).astype(np.int64)
    true_f[is_brand] = brand_f[is_brand]

    shown_f = true_f.copy()
    bf = pattern == 0
    # bought_followers: start from a nano/micro audience and inflate it 8-30x.
    base_bf = np.rint(10 ** rng.uniform(3.3, 4.6, n)).astype(np.int64)
    shown_f[bf] = np.rint(base_bf[bf] * rng.uniform(8, 30, n)[bf]).astype(np.int64)
    true_f[bf] = shown_f[bf]
    mf = pattern == 2
    mf_followers = np.rint(10 ** rng.uniform(math.log10(600), math.log10(6000), n)).astype(np.int64)
    shown_f[mf] = mf_followers[mf]
    true_f[mf] = mf_followers[mf]

    tier_idx = np.searchsorted(_TIER_EDGES, shown_f, side="right")
    er = _ER_LO[tier_idx] + u_er * (_ER_HI[tier_idx] - _ER_LO[tier_idx])
    er[bf] = _ER_MEDIAN[tier_idx[bf]] * rng.uniform(0.05, 0.2, n)[bf]
    be = pattern == 1
    er[be] = _ER_MEDIAN[tier_idx[be]] * rng.uniform(4.0, 10.0, n)[be]
    comment_ratio[be] = rng.uniform(0.0005, 0.003, n)[be]
    er[mf] *= rng.uniform(0.7, 1.0, n)[mf]
    er[is_brand] *= rng.uniform(0.75, 1.0, n)[is_brand]

    # Following: ordinary accounts follow fewer people than follow them (once in the thousands).
    following = following_draw.copy()
    big = shown_f >= 1112
    following[big] = np.minimum(following[big], np.rint(0.9 * shown_f[big]).astype(np.int64))
    following[~big] = np.minimum(following[~big], 999)
    following = np.maximum(following, 12)
    following[is_brand] = np.minimum(following[is_brand], rng.integers(20, 400, n)[is_brand])
    mf_following = np.maximum(
        np.rint(shown_f * rng.uniform(1.2, 2.5, n)), rng.integers(1500, 4000, n)
    ).astype(np.int64)
    following[mf] = np.minimum(mf_following[mf], 7500)

    # YouTube-style exports: no following, and about 30% lack followers too.
    youtube = platform == 2
    blank_f = youtube & (rng.random(n) < _YOUTUBE_BLANK_FOLLOWERS) & (pattern < 0) & ~is_brand

    # Sponsorship habits: a third never post sponsored content; a few are careless.
    sponsor_rate = np.where(rng.random(n) < 0.35, 0.0, rng.uniform(0.06, 0.24, n))
    sponsor_rate[is_brand] = 0.0
    careless = (rng.random(n) < 0.10) & (sponsor_rate > 0)
    view_mult = np.select(
        [platform == 1, platform == 2], [rng.uniform(5, 25, n), rng.uniform(15, 40, n)],
        rng.uniform(5, 15, n),
    )
    share_ratio = rng.uniform(0.01, 0.10, n)

    # Text fields (seeded ``random.Random``; a Python loop over creators).
    ids = [f"c{i + 1:06d}" for i in range(n)]
    handles: list[str] = []
    bios: list[str] = []
    brand_names: list[str] = []
    seen_handles: dict[str, int] = {}
    stuffed_niche: list[str] = [""] * n
    stuffed_set = set(stuffed_idx.tolist())
    for i in range(n):
        data = NICHE_DATA[NICHES[niche[i]]]
        ccode = COUNTRIES[country_idx[i]][0]
        if is_brand[i]:
            for attempt in range(12):
                name = f"{rnd.choice(data['brand_words'])} {rnd.choice(BRAND_SUFFIXES)}"
                if attempt >= 8:
                    name = f"{name} {ccode}"
                if f"{_slug(name)}_official" not in seen_handles:
                    break
            handle, suffix = f"{_slug(name)}_official", 1
            while handle in seen_handles:
                suffix += 1
                handle = f"{_slug(name)}{suffix}_official"
            seen_handles[handle] = 1
            product = rnd.choice(data["product"])
            bio = rnd.choice(BRAND_BIOS).format(name=name, product_cap=_cap(product))
            brand_names.append(name)
        else:
            style = rnd.choice(HANDLE_STYLES)
            handle = _unique_handle(
                style.format(w=rnd.choice(data["handle_words"]), n=rnd.choice(FIRST_NAMES)), seen_handles
            )
            bio = _bio(rnd, data, ccode)
            brand_names.append("")
        if i in stuffed_set:
            other = (int(niche[i]) + rnd.randrange(1, k)) % k
            stuffed_niche[i] = NICHES[other]
            words = NICHE_DATA[NICHES[other]]["keywords"]
            bio = " ".join(rnd.choice(words) for _ in range(rnd.randint(12, 20)))
        handles.append(handle)
        bios.append(bio)

    if bad_rows:
        # One valid creator whose bio needs normalisation: HTML tags, zero-width and bidi marks.
        j = _html_bio_target(n, pattern, is_brand, stuffed_set)
        if j is not None:
            data = NICHE_DATA[NICHES[niche[j]]]
            bios[j] = (
                f"<p><b>{rnd.choice(data['roles'])}</b>\u200b {rnd.choice(data['bio_phrases'])}"
                f"<br/>\u202e{rnd.choice(data['emoji'])}\u202c \u2066DMs open\u2069\ufeff</p>"
            )

    languages = []
    for i in range(n):
        lang = "en"
        acc = 0.0
        for code, share in COUNTRIES[country_idx[i]][2]:
            acc += share
            if lang_u[i] < acc:
                lang = code
                break
        languages.append(lang)

    followers_out: list[Any] = [None if blank_f[i] else int(shown_f[i]) for i in range(n)]
    following_out: list[Any] = [None if youtube[i] else int(following[i]) for i in range(n)]
    creators: dict[str, list[Any]] = {
        "creator_id": ids,
        "handle": handles,
        "platform": [_PLATFORMS[p] for p in platform],
        "bio": bios,
        "followers": followers_out,
        "following": following_out,
        "country": [COUNTRIES[c][0] for c in country_idx],
        "language": languages,
    }
    labels: dict[str, list[Any]] = {
        "creator_id": list(ids),
        "niche": [NICHES[x] for x in niche],
        "tier": [tier_of(f) for f in followers_out],
        "is_fake": [int(p >= 0) for p in pattern],
        "fake_pattern": [FAKE_PATTERNS[p] if p >= 0 else "" for p in pattern],
        "is_brand_account": [int(b) for b in is_brand],
        "stuffed_bio_niche": stuffed_niche,
        "has_undisclosed_sponsorship": [0] * n,
    }
    plan = {
        "niche": niche, "platform": platform, "true_f": true_f, "er": er,
        "comment_ratio": comment_ratio, "n_posts": n_posts, "pattern": pattern,
        "is_brand": is_brand, "brand_names": brand_names, "sponsor_rate": sponsor_rate,
        "careless": careless, "view_mult": view_mult, "share_ratio": share_ratio,
        "shown_f": shown_f,
    }
    return creators, labels, plan


def _unique_handle(handle: str, seen: dict[str, int]) -> str:
    if handle not in seen:
        seen[handle] = 1
        return handle
    while True:
        seen[handle] += 1
        candidate = f"{handle}{seen[handle]}"
        if candidate not in seen:
            seen[candidate] = 1
            return candidate


def _bio(rnd: random.Random, data: dict[str, Any], country: str) -> str:
    role = rnd.choice(data["roles"])
    role2 = rnd.choice(data["roles"])
    for _ in range(3):
        if role2 != role:
            break
        role2 = rnd.choice(data["roles"])
    phrase = rnd.choice(data["bio_phrases"])
    bio = rnd.choice(BIO_TEMPLATES).format(
        Role=role, role2=_lower_first(role2), phrase=phrase, Phrase=_cap(phrase),
        city=rnd.choice(CITIES[country]), emoji=rnd.choice(data["emoji"]),
    )
    return bio


def _html_bio_target(n: int, pattern: np.ndarray, is_brand: np.ndarray, stuffed: set[int]) -> int | None:
    for j in range(n - 1, -1, -1):
        if pattern[j] < 0 and not is_brand[j] and j not in stuffed:
            return j
    return None


# --------------------------------------------------------------------------------------
# Posts
# --------------------------------------------------------------------------------------


def _make_posts(
    rng: np.random.Generator, rnd: random.Random, maker: _TextMaker,
    creators: dict[str, list[Any]], plan: dict[str, Any],
) -> tuple[dict[str, list[Any]], list[bool]]:
    n = len(creators["creator_id"])
    counts = plan["n_posts"]
    total = int(counts.sum())
    owner = np.repeat(np.arange(n), counts)

    # Dates: uniform over the window, whole minutes, newest first within each creator.
    offset = rng.integers(60, WINDOW_DAYS * 86400 - 60, total)
    ts = _REFERENCE_EPOCH - offset
    ts -= ts % 60
    order = np.lexsort((-ts, owner))
    ts = ts[order]
    epoch_form = rng.random(total) < 0.10
    iso = np.datetime_as_string(ts.astype("datetime64[s]"), unit="s")

    platform = plan["platform"][owner]
    is_brand = plan["is_brand"][owner]
    pattern = plan["pattern"][owner]

    # Sponsorship per post: 0 none, 1 early disclosure, 2 late/vague, 3 undisclosed.
    sponsored = rng.random(total) < plan["sponsor_rate"][owner]
    careless = plan["careless"][owner]
    mode_u = rng.random(total)
    mode = np.where(mode_u < 0.70, 1, 2)
    mode = np.where(careless & (mode_u < 0.55), 3, mode)
    mode = np.where(sponsored, mode, 0)
    # Every careless creator with sponsored posts has at least one undisclosed one.
    first_sp = {}
    for idx in np.flatnonzero(sponsored & careless):
        first_sp.setdefault(int(owner[idx]), int(idx))
    has3 = np.zeros(n, dtype=bool)
    np.logical_or.at(has3, owner[mode == 3], True)
    for c, idx in first_sp.items():
        if not has3[c]:
            mode[idx] = 3
    generic = (rng.random(total) < _GENERIC_CAPTION_RATE) & (mode == 0) & ~is_brand

    # Engagement.
    noise = np.exp(rng.normal(0.0, 0.3, total))
    eng = plan["true_f"][owner] * plan["er"][owner] * noise
    eng = np.where(mode > 0, eng * 0.85, eng)
    cr = plan["comment_ratio"][owner]
    likes_base = np.rint(eng / (1.0 + cr)).astype(np.int64)
    likes = likes_base.copy()
    # engagement_burst: a few ordinary posts (2-4, at most a quarter of the account's posts)
    # get 10-50x the account's median likes.
    burst = np.zeros(total, dtype=bool)
    for c in np.flatnonzero(plan["pattern"] == 3):
        mine = owner == c
        idx = np.flatnonzero(mine & (mode == 0))
        size = min(int(rng.integers(2, 5)), max(1, int(mine.sum()) // 4), len(idx))
        if size == 0:
            continue
        pick = rng.choice(idx, size=size, replace=False)
        usual = max(float(np.median(likes_base[mine])), 1.0)
        likes[pick] = np.rint(usual * rng.uniform(10, 50, size)).astype(np.int64)
        burst[pick] = True
    comments = rng.poisson(likes_base * cr * np.exp(rng.normal(0.0, 0.2, total)))
    comments = np.where(burst, comments * rng.integers(1, 4, total), comments)
    views = np.rint(likes_base * plan["view_mult"][owner] * np.exp(rng.normal(0.0, 0.2, total)))
    views = np.maximum(views, likes).astype(np.int64)
    has_views = (platform != 0) | (rng.random(total) < 0.15)
    shares = rng.poisson(likes_base * plan["share_ratio"][owner])
    share_p = np.select([platform == 1, platform == 0], [0.9, 0.4], 0.25)
    has_shares = rng.random(total) < share_p
    flag_u = rng.random(total)
    n_tags = rng.integers(1, 6, total)

    # Texts.
    handles = creators["handle"]
    niche = plan["niche"]
    brand_names = plan["brand_names"]
    texts: list[str] = []
    flags: list[Any] = []
    undisclosed = [False] * n
    sponsor_pools = [
        NICHE_DATA[name]["sponsors"] + [b["name"] for b in BRAND_CATALOGUE if b["niche"] == name]
        for name in NICHES
    ]
    choice = rnd.choice
    rand = rnd.random
    fix_articles = _ARTICLE_RE.sub
    for i in range(total):
        c = int(owner[i])
        k = int(niche[c])
        data = maker.niches[k][0]
        m = int(mode[i])
        fu = flag_u[i]
        if is_brand[i]:
            name = brand_names[c]
            body = choice(BRAND_PROMOS).format(
                product=choice(data["product"]), name=name, handle=handles[c],
                pct=choice(("15", "20", "25", "30")),
            )
            tags = [f"#{_slug(name)}", "#newarrivals", "#shopnow"][: 1 + int(n_tags[i]) % 3]
            tags += maker.hashtags(k, min(2, int(n_tags[i])))
            text = f"{body} {' '.join(tags)}"
            flag = False if fu < 0.8 else None
        elif generic[i]:
            body = choice(GENERIC_CAPTIONS)
            tags = rnd.sample(GENERIC_HASHTAGS, max(1, int(n_tags[i]) - 1))
            if int(n_tags[i]) > 1:
                tags.append(choice(data["hashtags"]))
            text = f"{body} {' '.join(tags)}"
            flag = False if fu < 0.85 else None
        else:
            body = _end_sentence(maker.caption(k))
            if rand() < 0.35:
                body = f"{body} {choice(CLOSERS)}"
            elif platform[i] == 2 and rand() < 0.5:
                body = f"{body} {choice(YOUTUBE_CLOSERS)}"
            if rand() < 0.3:
                body = f"{body} {choice(data['emoji'])}"
            if m == 0:
                tags = maker.hashtags(k, int(n_tags[i]))
                sep = "\n\n" if rand() < 0.15 else " "
                text = f"{body}{sep}{' '.join(tags)}"
                flag = False if fu < 0.85 else None
            else:
                sponsor = choice(sponsor_pools[k])
                product = choice(data["product"])
                tags = maker.hashtags(k, max(1, int(n_tags[i]) - 1))
                if m == 1:
                    lead = choice(SPONSOR_EARLY).format(sponsor=sponsor, product=product)
                    text = f"{lead} {body} {' '.join(tags)}"
                    flag = True if fu < 0.95 else None
                elif m == 2:
                    tail = choice(SPONSOR_LATE).format(sponsor=sponsor, product=product)
                    text = f"{body} {' '.join(tags)} {tail}"
                    flag = True if fu < 0.4 else (False if fu < 0.7 else None)
                else:
                    code = f"{choice(data['handle_words']).upper()}{choice(('10', '15', '20', '25'))}"
                    tail = choice(SPONSOR_HIDDEN).format(
                        sponsor=sponsor, product=product, code=code, sponsor_slug=_slug(sponsor, "-"),
                        product_slug=_slug(product, "-"), ref=_slug(handles[c]),
                    )
                    text = f"{body} {tail} {' '.join(tags)}"
                    flag = None if fu < 0.6 else False
                    undisclosed[c] = True
        texts.append(fix_articles(r"\1n ", text))
        flags.append(flag)

    posted_at: list[Any] = [
        int(ts[i]) if epoch_form[i] else f"{iso[i]}Z" for i in range(total)
    ]
    # Kept for the comments, which are drawn later from a separate random stream.
    plan["post_owner"] = owner
    plan["post_ts"] = ts
    plan["post_comments"] = comments.astype(np.int64)
    cid = creators["creator_id"]
    posts: dict[str, list[Any]] = {
        "post_id": [f"p{i + 1:07d}" for i in range(total)],
        "creator_id": [cid[c] for c in owner.tolist()],
        "text": texts,
        "posted_at": posted_at,
        "likes": likes.tolist(),
        "comments": comments.astype(np.int64).tolist(),
        "views": [v if h else None for v, h in zip(views.tolist(), has_views.tolist())],
        "shares": [s if h else None for s, h in zip(shares.tolist(), has_shares.tolist())],
        "sponsored": flags,
    }
    return posts, undisclosed


# --------------------------------------------------------------------------------------
# Brands
# --------------------------------------------------------------------------------------


def _make_brands(
    rng: np.random.Generator, n_brands: int, creators: dict[str, list[Any]], plan: dict[str, Any]
) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    cols: dict[str, list[Any]] = {c: [] for c in _BRAND_FILE_COLUMNS}
    blabels: dict[str, list[Any]] = {c: [] for c in _BRAND_LABEL_COLUMNS}
    ordinary = (plan["pattern"] < 0) & ~plan["is_brand"]
    ids = creators["creator_id"]
    size = len(BRAND_CATALOGUE)
    for b in range(n_brands):
        entry = BRAND_CATALOGUE[b % size]
        name = entry["name"]
        description = entry["description"]
        if b >= size:
            suffix = BRAND_VARIANT_SUFFIXES[(b // size - 1) % len(BRAND_VARIANT_SUFFIXES)]
            generation = (b // size - 1) // len(BRAND_VARIANT_SUFFIXES)
            new_name = f"{name} {suffix}" + (f" {generation + 2}" if generation else "")
            description = description.replace(name, new_name)
            name = new_name
        exclude: list[str] = []
        if entry.get("exclude") and b < size:
            pool = np.flatnonzero(ordinary & (plan["niche"] == NICHES.index(entry["niche"])))
            exclude = [ids[j] for j in _choose(rng, pool, int(entry["exclude"]))]
        cols["brand_id"].append(f"b{b + 1:03d}")
        cols["name"].append(name)
        cols["description"].append(description)
        cols["countries"].append("|".join(entry["countries"]) if "countries" in entry else None)
        cols["languages"].append("|".join(entry["languages"]) if "languages" in entry else None)
        cols["min_followers"].append(entry.get("min_followers"))
        cols["max_followers"].append(entry.get("max_followers"))
        competitors = [x for x in entry.get("competitors", []) if x != name]
        cols["competitors"].append("|".join(competitors) if competitors else None)
        cols["exclude_creators"].append("|".join(exclude) if exclude else None)
        blabels["brand_id"].append(f"b{b + 1:03d}")
        blabels["niche"].append(entry["niche"])
    return cols, blabels


# --------------------------------------------------------------------------------------
# Conversations: who comments, what they write, whether the creator answers
# --------------------------------------------------------------------------------------

# Text kinds of a comment row; each (group, kind) has its own pool of texts. The answer
# pools are aligned with the question pools: answer i answers question i.
(_K_QUESTION, _K_QUESTION_TPL, _K_REMARK, _K_REMARK_TPL, _K_GENERIC, _K_BOT, _K_POD, _K_ANSWER,
 _K_ANSWER_TPL, _K_ANSWER_ANY) = range(10)
_N_KINDS = 10


def _expand(templates: Sequence[str], products: Sequence[str]) -> list[str]:
    out: list[str] = []
    for template in templates:
        if "{product}" in template:
            out.extend(template.format(product=p) for p in products)
        else:
            out.append(template)
    return out


@functools.lru_cache(maxsize=1)
def _comment_pools() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return every comment text in one array with the start and size of each (group, kind).

    Groups ``0..K-1`` are the creators of niche k, groups ``K..2K-1`` brand accounts of
    niche k.
    """
    k = len(NICHES)
    texts: list[str] = []
    start = np.zeros((2 * k, _N_KINDS), dtype=np.int64)
    size = np.zeros((2 * k, _N_KINDS), dtype=np.int64)
    for g in range(2 * k):
        name = NICHES[g % k]
        products = NICHE_DATA[name]["product"]
        if g < k:
            pairs, templates = CONVERSATION[name]["questions"], QUESTION_TEMPLATES
            remarks, remark_templates = CONVERSATION[name]["remarks"], REMARK_TEMPLATES
            any_answers = ANY_ANSWERS
        else:
            pairs = [p for p in BRAND_QUESTIONS if "{" not in p[0]]
            templates = [p for p in BRAND_QUESTIONS if "{" in p[0]]
            remarks = [r for r in BRAND_REMARKS if "{" not in r]
            remark_templates = [r for r in BRAND_REMARKS if "{" in r]
            any_answers = BRAND_ANY_ANSWERS
        pools = {
            _K_QUESTION: [q for q, _ in pairs],
            _K_QUESTION_TPL: _expand([q for q, _ in templates], products),
            _K_REMARK: remarks,
            _K_REMARK_TPL: _expand(remark_templates, products),
            _K_GENERIC: GENERIC_COMMENTS,
            _K_BOT: BOT_COMMENTS,
            _K_POD: POD_COMMENTS,
            _K_ANSWER: [a for _, a in pairs],
            _K_ANSWER_TPL: _expand([a for _, a in templates], products),
            _K_ANSWER_ANY: any_answers,
        }
        for kind, pool in pools.items():
            start[g, kind] = len(texts)
            size[g, kind] = len(pool)
            texts.extend(pool)
    return np.array(texts, dtype=object), start, size


def _pick_texts(
    rng: np.random.Generator, group: np.ndarray, kind: np.ndarray, offset: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return a random text of each row's (group, kind), or the one at ``offset``, and the offsets."""
    pool, start, size = _comment_pools()
    if offset is None:
        offset = (rng.random(len(group)) * size[group, kind]).astype(np.int64)
    return pool[start[group, kind] + offset], offset


def _rank_within(mask: np.ndarray, first_row: np.ndarray) -> np.ndarray:
    """For rows grouped contiguously by post, the rank of each masked row among the masked
    rows of its post (``first_row``: index of the post's first row, per row)."""
    before = np.cumsum(mask) - mask
    return before - before[first_row]


def _plan_conversations(
    rng: np.random.Generator, n: int, plan: dict[str, Any]
) -> dict[str, np.ndarray]:
    """Draw each creator's comment section: audience, question share, answering habit, pod."""
    pattern = plan["pattern"]
    is_brand = plan["is_brand"]
    niche = plan["niche"]
    ordinary = (pattern < 0) & ~is_brand

    # Answering questions: half of the ordinary creators answer most questions within hours,
    # the rest (and every brand account and fake) few questions, days later.
    high = ordinary & (rng.random(n) < _HIGH_ANSWER_SHARE)
    p_answer = np.where(high, rng.uniform(0.60, 0.95, n), rng.uniform(0.0, 0.20, n))
    reply_lo = np.where(high, 0.5, 24.0) * 3600.0
    reply_hi = np.where(high, 12.0, 96.0) * 3600.0

    # Audience mix per creator: share of questions, share of generic comments among the
    # rest, share of comments from a handful of loyal regulars (the others are one-offs).
    q_share = rng.uniform(0.15, 0.35, n)
    gen_share = rng.uniform(0.25, 0.55, n)
    reg_share = rng.uniform(0.20, 0.50, n)
    weak = (pattern == 0) | (pattern == 2)  # bought followers, mass following
    q_share[weak] = rng.uniform(0.05, 0.15, n)[weak]
    gen_share[weak] = rng.uniform(0.50, 0.70, n)[weak]
    reg_share[weak] = rng.uniform(0.05, 0.15, n)[weak]
    bots = pattern == 1  # bought engagement: generic praise from one-off accounts
    q_share[bots] = 0.01
    gen_share[bots] = rng.uniform(0.90, 0.98, n)[bots]
    reg_share[bots] = 0.0
    q_share[is_brand] = rng.uniform(0.25, 0.45, n)[is_brand]
    n_regulars = rng.integers(3, 9, n)
    regulars = rng.integers(1, _AUDIENCE_IDS, (n, 8))

    # Engagement pods: groups of 8-12 ordinary creators (of one niche where it has enough)
    # whose posts get most of their comments from the pod's few shared accounts.
    pod_of = np.full(n, -1, dtype=np.int64)
    n_ordinary = int(ordinary.sum())
    n_pods = max(1, round(_POD_RATE * n_ordinary / 10)) if n_ordinary >= 100 else 0
    sizes = rng.integers(8, 13, max(n_pods, 1))
    free = ordinary.copy()
    for p in range(n_pods):
        pool = np.flatnonzero(free & (niche == int(rng.integers(len(NICHES)))))
        if len(pool) < sizes[p]:
            pool = np.flatnonzero(free)
        members = _choose(rng, pool, int(sizes[p]))
        pod_of[members] = p
        free[members] = False
    pod_size = rng.integers(6, 10, max(n_pods, 1))
    pod_ids = rng.integers(1, _AUDIENCE_IDS, (max(n_pods, 1), 9))
    pod_share = np.where(pod_of >= 0, rng.uniform(0.75, 0.90, n), 0.0)
    return {
        "high": high, "p_answer": p_answer, "reply_lo": reply_lo, "reply_hi": reply_hi,
        "q_share": q_share, "gen_share": gen_share, "reg_share": reg_share, "bots": bots,
        "n_regulars": n_regulars, "regulars": regulars, "pod_of": pod_of, "pod_size": pod_size,
        "pod_ids": pod_ids, "pod_share": pod_share,
    }


def _make_comments(
    rng: np.random.Generator, plan: dict[str, Any], talk: dict[str, np.ndarray],
    creators: dict[str, list[Any]], posts: dict[str, list[Any]],
) -> dict[str, list[Any]]:
    owner = plan["post_owner"]
    post_ts = plan["post_ts"]
    total = plan["post_comments"]
    n_posts = len(owner)
    k = len(NICHES)

    # A sample of 2-10 audience comments per post, never more than the post's total.
    size = np.minimum(rng.integers(2, 11, n_posts), total)
    post = np.repeat(np.arange(n_posts), size)
    first_row = (np.cumsum(size) - size)[post]
    r = len(post)
    c = owner[post]
    pod_row = rng.random(r) < talk["pod_share"][c]
    question = ~pod_row & (rng.random(r) < talk["q_share"][c])
    generic = ~pod_row & ~question & (rng.random(r) < talk["gen_share"][c])

    # Minutes to days after the post (pods within the hour), and before the export date.
    limit = (_REFERENCE_EPOCH - post_ts[post]).astype(float)
    delay = np.where(
        pod_row, rng.uniform(60, 3600, r), np.exp(rng.uniform(math.log(120), math.log(4 * 86400), r))
    )
    delay = np.where(delay < limit, delay, limit * rng.uniform(0.05, 0.95, r))
    at = post_ts[post] + delay.astype(np.int64)
    lo, hi = talk["reply_lo"][c], talk["reply_hi"][c]
    reply_at = at + (lo + (hi - lo) * rng.random(r)).astype(np.int64)
    answered = question & (rng.random(r) < talk["p_answer"][c]) & (reply_at <= _REFERENCE_EPOCH)

    # The replies count towards the post's total too: drop audience non-questions (then, if
    # need be, replies) until the sample fits.
    replies = np.bincount(post, weights=answered, minlength=n_posts).astype(np.int64)
    excess = np.maximum(size + replies - total, 0)
    other = ~question
    drop = other & (_rank_within(other, first_row) < excess[post])
    excess_left = np.maximum(excess - np.bincount(post, weights=other, minlength=n_posts).astype(np.int64), 0)
    answered &= ~(_rank_within(answered, first_row) < excess_left[post])

    # Authors: pod rows rotate through the pod's accounts (distinct within a post), the rest
    # are the creator's regulars or one-off accounts.
    pod = np.maximum(talk["pod_of"][c], 0)
    rotation = rng.integers(0, 1 << 30, n_posts)[post] + _rank_within(pod_row, first_row)
    pod_author = talk["pod_ids"][pod, rotation % talk["pod_size"][pod]]
    regular = rng.random(r) < talk["reg_share"][c]
    favourite = (talk["n_regulars"][c] * rng.random(r) ** 2).astype(np.int64)
    author = np.where(
        pod_row,
        pod_author,
        np.where(regular, talk["regulars"][c, favourite], rng.integers(1, _AUDIENCE_IDS, r)),
    )

    # Texts.
    group = np.where(plan["is_brand"][c], k + plan["niche"][c], plan["niche"][c])
    coin = rng.random(r) < 0.5
    kind = np.select(
        [pod_row, question & coin, question, generic & talk["bots"][c], generic, coin],
        [_K_POD, _K_QUESTION, _K_QUESTION_TPL, _K_BOT, _K_GENERIC, _K_REMARK],
        _K_REMARK_TPL,
    )
    texts, offset = _pick_texts(rng, group, kind)
    # Most replies answer the very question; some fit any question.
    asked = np.flatnonzero(answered)
    vague = rng.random(len(asked)) < 0.2
    answers, _ = _pick_texts(
        rng,
        group[asked],
        np.where(kind[asked] == _K_QUESTION, _K_ANSWER, _K_ANSWER_TPL),
        offset[asked],
    )
    vague_answers, _ = _pick_texts(rng, group[asked], np.full(len(asked), _K_ANSWER_ANY))
    answers = np.where(vague, vague_answers, answers)

    keep = np.flatnonzero(~drop)
    ids = np.array(creators["creator_id"][: len(plan["niche"])], dtype=object)
    row_post = np.concatenate([post[keep], post[asked]])
    row_at = np.concatenate([at[keep], reply_at[asked]])
    is_reply = np.concatenate([np.zeros(len(keep), dtype=bool), np.ones(len(asked), dtype=bool)])
    row_author = np.concatenate([author[keep], author[asked]])  # for a reply: whom it answers
    row_owner = np.concatenate([c[keep], c[asked]])
    bodies = np.concatenate([texts[keep], answers])
    del post, c, at, reply_at, author, texts, delay, limit, lo, hi, offset, drop
    order = np.lexsort((is_reply, row_at, row_post))
    m = len(order)
    row_at, is_reply, row_author = row_at[order], is_reply[order], row_author[order]
    epoch_form = rng.random(m) < 0.10
    blank_flag = rng.random(m) < _BLANK_REPLY_FLAG
    created: list[Any] = np.datetime_as_string(
        row_at.astype("datetime64[s]"), unit="s", timezone="UTC"
    ).tolist()
    for i in np.flatnonzero(epoch_form).tolist():
        created[i] = int(row_at[i])
    reply_rows = np.flatnonzero(is_reply)
    authors = [f"u{a:07d}" for a in row_author.tolist()]
    texts_out = bodies[order].tolist()
    owners = ids[row_owner[order]]
    for i in reply_rows.tolist():
        texts_out[i] = f"@{authors[i]} {texts_out[i]}"
        authors[i] = owners[i]
    flags: list[Any] = is_reply.tolist()
    for i in np.flatnonzero(blank_flag).tolist():
        flags[i] = None
    post_ids = np.array(posts["post_id"][:n_posts], dtype=object)
    return {
        "comment_id": [f"cm{i + 1:08d}" for i in range(m)],
        "post_id": post_ids[row_post[order]].tolist(),
        "author_id": authors,
        "text": texts_out,
        "created_at": created,
        "is_creator_reply": flags,
    }


# --------------------------------------------------------------------------------------
# Outcomes of past campaigns
# --------------------------------------------------------------------------------------

# Conversion multipliers of the outcome model (see the module docstring).
_OUTCOME_SCALE = 25.0
_OFF_NICHE_FIT = 0.15
_FAKE_GENUINENESS = (0.10, 0.15, 0.25, 0.35)  # in FAKE_PATTERNS order
_POD_GENUINENESS = 0.45
_UNDISCLOSED_FACTOR = 0.70
_RESPONSIVE_FACTOR = 1.20
_OUTCOME_NOISE = 0.5
# The price rule (see the module docstring): USD per post at 10,000 followers by platform (in
# _PLATFORMS order), follower elasticity, engagement elasticity, the factor without sponsored
# posts, the noise (sd of ln price) and the share of outcome rows that carry a price.
_PRICE_AT_10K = (110.0, 45.0, 260.0)
_PRICE_FOLLOWER_ELASTICITY = 0.85
_PRICE_ENGAGEMENT_ELASTICITY = 0.5
_PRICE_UNSPONSORED = 0.75
_PRICE_NOISE = 0.35
_PRICE_SHARE = 0.75


def _campaign_prices(rng: np.random.Generator, plan: dict[str, Any], rows: np.ndarray) -> list[Any]:
    """A price per outcome row (``rows``: the creator of each row), or None where the row has none."""
    tier_idx = np.searchsorted(_TIER_EDGES, plan["true_f"], side="right")
    level = np.clip(plan["er"] / _ER_MEDIAN[tier_idx], 0.25, 4.0)
    base = (
        np.asarray(_PRICE_AT_10K)[plan["platform"]]
        * (np.maximum(plan["shown_f"], 1) / 10_000.0) ** _PRICE_FOLLOWER_ELASTICITY
        * level**_PRICE_ENGAGEMENT_ELASTICITY
        * np.where(plan["sponsor_rate"] > 0, 1.0, _PRICE_UNSPONSORED)
    )
    price = base[rows] * np.exp(rng.normal(0.0, _PRICE_NOISE, len(rows)))
    given = rng.random(len(rows)) < _PRICE_SHARE
    return [round(float(p), 2) if g else None for p, g in zip(price, given)]


def _make_outcomes(
    rng: np.random.Generator, plan: dict[str, Any], talk: dict[str, np.ndarray],
    labels: dict[str, list[Any]], brand_labels: dict[str, list[Any]],
) -> dict[str, list[Any]]:
    niche = plan["niche"]
    pattern = plan["pattern"]
    n = len(niche)
    tier_idx = np.searchsorted(_TIER_EDGES, plan["true_f"], side="right")
    level = np.clip(plan["er"] / _ER_MEDIAN[tier_idx], 0.5, 1.5) ** 2
    genuine = np.ones(n)
    for p, factor in enumerate(_FAKE_GENUINENESS):
        genuine[pattern == p] = factor
    genuine[talk["pod_of"] >= 0] = _POD_GENUINENESS
    honest = np.where(
        np.array(labels["has_undisclosed_sponsorship"], dtype=bool), _UNDISCLOSED_FACTOR, 1.0
    )
    quality = level * genuine * honest * np.where(talk["high"], _RESPONSIVE_FACTOR, 1.0)
    candidates = ~plan["is_brand"]
    reference_day = np.datetime64(REFERENCE_DATE[:10], "D")
    ids = labels["creator_id"]
    out: dict[str, list[Any]] = {c: [] for c in OUTCOME_COLUMNS if c != "price"}
    for b, brand_id in enumerate(brand_labels["brand_id"]):
        home = NICHES.index(brand_labels["niche"][b])
        count = int(rng.integers(36, 45))
        same = _choose(rng, np.flatnonzero(candidates & (niche == home)), count // 2)
        rest = candidates.copy()
        rest[same] = False
        chosen = np.sort(np.concatenate([same, _choose(rng, np.flatnonzero(rest), count - len(same))]))
        fit = np.where(niche[chosen] == home, 1.0, _OFF_NICHE_FIT)
        base = _OUTCOME_SCALE * fit * quality[chosen]
        m = len(chosen)
        days = rng.integers(1, WINDOW_DAYS, m)
        again = rng.random(m) < 0.10
        days_again = 1 + (days - 1 + rng.integers(7, 60, m)) % (WINDOW_DAYS - 1)
        blank_date = (rng.random(m) < 0.05) & ~again
        noise = np.exp(rng.normal(0.0, _OUTCOME_NOISE, (2, m)))
        dates = np.datetime_as_string(reference_day - days, unit="D")
        dates_again = np.datetime_as_string(reference_day - days_again, unit="D")
        for j in range(m):
            rows = [(dates[j] if not blank_date[j] else None, noise[0, j])]
            if again[j]:
                rows.append((dates_again[j], noise[1, j]))
            for day, eps in rows:
                out["brand_id"].append(brand_id)
                out["creator_id"].append(ids[chosen[j]])
                out["outcome"].append(round(float(base[j] * eps), 1))
                out["date"].append(str(day) if day is not None else None)
    return out


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: ``python -m matcher.sample --out DIR [options]``.

    Args:
        argv: Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns:
        Process exit status (0 on success, 2 on a bad argument).
    """
    parser = argparse.ArgumentParser(
        prog="python -m matcher.sample",
        description="Write the seeded sample dataset (creators, posts, brands, comments, outcomes, labels).",
    )
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--creators", type=int, default=2000, help="number of creators (default 2000)")
    parser.add_argument("--brands", type=int, default=30, help="number of brands (default 30)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--format", dest="fmt", default="csv", choices=sorted(_FORMATS),
                        help="format of creators/posts/brands (default csv)")
    parser.add_argument("--min-posts", type=int, default=8, help="fewest posts per creator (default 8)")
    parser.add_argument("--max-posts", type=int, default=24, help="most posts per creator (default 24)")
    parser.add_argument("--no-bad-rows", action="store_true", help="do not append invalid rows")
    parser.add_argument("--no-comments", action="store_true", help="do not write the comments file")
    parser.add_argument("--no-outcomes", action="store_true", help="do not write the outcomes file")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        info = generate(
            args.out, seed=args.seed, n_creators=args.creators, n_brands=args.brands,
            posts_per_creator=(args.min_posts, args.max_posts), bad_rows=not args.no_bad_rows,
            fmt=args.fmt, comments=not args.no_comments, outcomes=not args.no_outcomes,
        )
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    extra = "".join(
        f", {count} {name}"
        for name, path, count in (
            ("comments", info.comments, info.n_comments), ("outcomes", info.outcomes, info.n_outcomes),
        )
        if path is not None
    )
    print(
        f"wrote {info.n_creators} creators, {info.n_posts} posts, {info.n_brands} brands{extra} "
        f"to {info.directory} in {elapsed:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
