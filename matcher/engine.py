"""Serve recommendations from a published snapshot: encode the brief, search, filter, rerank, explain."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from matcher.config import Config, Weights
from matcher.embed import Encoder
from matcher.errors import NotFittedError
from matcher.rerank import WEIGHTS_FILE, Reranker, load_weights
from matcher.schema import Brand, Filters, Match
from matcher.store import Snapshot, Store
from matcher.text import normalize_text

__all__ = ["Matcher", "filter_mask", "rank_snapshot"]

logger = logging.getLogger(__name__)

MAX_K = 1000


def filter_mask(snapshot: Snapshot, filters: Filters | None, *, exclude_brand_accounts: bool = True) -> np.ndarray | None:
    """Boolean mask over the snapshot's creator rows that pass ``filters`` (None: no restriction).

    Accounts recognised as brands are left out unless ``filters.include_brand_accounts`` is set or
    ``exclude_brand_accounts`` is false.
    """
    c = snapshot.creators
    sig = snapshot.signals
    drop_brands = exclude_brand_accounts and not (filters is not None and filters.include_brand_accounts) and "is_brand_account" in sig
    if (filters is None or not filters.active) and not (drop_brands and sig["is_brand_account"].any()):
        return None
    mask = np.ones(len(c), dtype=bool)
    if drop_brands:
        mask &= ~sig["is_brand_account"].to_numpy(dtype=bool)
    if filters is None:
        return mask
    if filters.min_trust is not None:
        mask &= sig["trust_score"].to_numpy(dtype="float64") >= filters.min_trust
    if filters.min_followers is not None or filters.max_followers is not None:
        f = c["followers"].astype("Float64")
        known = f.notna().to_numpy()
        ok = np.ones(len(c), dtype=bool)
        if filters.min_followers is not None:
            ok &= (f >= filters.min_followers).fillna(False).to_numpy(dtype=bool)
        if filters.max_followers is not None:
            ok &= (f <= filters.max_followers).fillna(False).to_numpy(dtype=bool)
        mask &= np.where(known, ok, filters.allow_unknown_followers)
    if filters.countries:
        mask &= c["country"].isin(filters.countries).fillna(False).to_numpy(dtype=bool)
    if filters.languages:
        mask &= c["language"].isin(filters.languages).fillna(False).to_numpy(dtype=bool)
    if filters.platforms:
        mask &= c["platform"].isin(filters.platforms).fillna(False).to_numpy(dtype=bool)
    if filters.exclude_creators:
        mask &= ~c["creator_id"].isin(filters.exclude_creators).to_numpy(dtype=bool)
    return mask


def rank_snapshot(
    snapshot: Snapshot,
    queries: np.ndarray,
    k: int,
    *,
    filters: Sequence[Filters | None],
    reranker: Reranker,
    candidates: int,
    weights: Weights | None = None,
    brands: Sequence[Brand | None] | None = None,
    diversity: float = 0.0,
) -> list[list[Match]]:
    """Rank creators for each query vector: topical candidates from the index, then the reranker.

    The candidate pool is ``max(candidates, k)`` per query, drawn only from creators that pass that
    query's filters, so a filter never hides qualifying creators behind unqualified ones. A brand's
    own ``weights`` apply to its query unless ``weights`` is given.
    """
    out: list[list[Match]] = []
    pool = max(candidates, k)
    brands = list(brands) if brands is not None else [None] * len(queries)
    for q, flt, brand in zip(queries, filters, brands):
        mask = filter_mask(snapshot, flt, exclude_brand_accounts=reranker.fit.exclude_brand_accounts)
        hits = snapshot.index.search(q, pool, allowed=mask)[0]
        w = weights or (Weights.from_mapping(brand.weights, source=f"brand {brand.brand_id} weights") if brand is not None and brand.weights else None)
        out.append(reranker.rank(snapshot, q, hits, k, weights=w, brand=brand, diversity=diversity))
    return out


class Matcher:
    """Recommends creators for a brief from the latest published snapshot of a store.

    Example::

        from matcher import Matcher, Filters
        m = Matcher("store/").load()
        for match in m.recommend("Lightweight trail running shoe", k=5, filters=Filters(countries=("US",))):
            print(match.rank, match.handle, match.score, match.why)

    A long-lived process picks up a newly published snapshot on the next call (see :meth:`refresh`).
    """

    def __init__(self, store: str | Path, *, config: Config | None = None, encoder: Encoder | None = None) -> None:
        self.store = store
        self.config = config or Config()
        self.encoder = encoder

    def load(self) -> Matcher:
        """Load the published snapshot and the encoder. Returns ``self``.

        Raises:
            StoreError: nothing is published, or the snapshot fails verification.
        """
        self.store_ = Store(self.store)
        self.snapshot_ = self.store_.load()
        if self.encoder is None:
            self.encoder = Encoder(self.config.embed)
        if not hasattr(self.encoder, "model_"):
            self.encoder.load()
        model = self.snapshot_.manifest.get("model", {})
        if model and model.get("id") not in (None, self.encoder.model_id):
            logger.warning("snapshot was built with %s but the encoder is %s; scores may be off", model.get("id"), self.encoder.model_id)
        learned = load_weights(Path(self.store) / WEIGHTS_FILE)
        if learned is not None:
            logger.info("serving learned weights from %s", Path(self.store) / WEIGHTS_FILE)
        self.weights_ = learned or self.config.weights
        self.reranker_ = Reranker(self.weights_, fit=self.config.fit, evidence_posts=self.config.evidence_posts)
        return self

    def refresh(self) -> bool:
        """Switch to a newer published snapshot if there is one. Returns True if it switched."""
        self._check()
        current = self.store_.current_id()
        # served_for: a published snapshot that failed verification is not retried on every call.
        if current in (self.snapshot_.snapshot_id, self.snapshot_.served_for):
            return False
        self.snapshot_ = self.store_.load()
        logger.info("switched to snapshot %s", self.snapshot_.snapshot_id)
        return True

    def _check(self) -> None:
        if not hasattr(self, "snapshot_"):
            raise NotFittedError("Matcher is not loaded; call Matcher(store).load() first")

    @property
    def snapshot_id(self) -> str:
        """The id of the snapshot being served."""
        self._check()
        return self.snapshot_.snapshot_id

    def recommend(
        self,
        brief: str | Brand,
        k: int = 10,
        *,
        filters: Filters | None = None,
        weights: Weights | None = None,
        diversity: float = 0.0,
    ) -> list[Match]:
        """Rank creators for one brief.

        Args:
            brief: product description text, or a :class:`Brand` (its own filters apply too).
            k: number of matches (1..1000); fewer only when fewer creators qualify.
            filters: restrictions on who may be returned.
            weights: override the configured (or learned, or brand's) weights for this call.
            diversity: 0 (off) to 1: trade score for variety among the top k (maximal marginal relevance).

        Returns:
            Matches, best first, each with component scores, flags and matched posts.

        Raises:
            NotFittedError: :meth:`load` was not called.
            ValueError: blank brief or ``k`` out of range.
        """
        return self.recommend_many([brief], k, filters=filters, weights=weights, diversity=diversity)[0]

    def recommend_many(
        self,
        briefs: Sequence[str | Brand],
        k: int = 10,
        *,
        filters: Filters | None = None,
        weights: Weights | None = None,
        diversity: float = 0.0,
    ) -> list[list[Match]]:
        """Rank creators for several briefs at once; equal to calling :meth:`recommend` per brief."""
        self._check()
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise ValueError(f"k is {k!r}; ask for between 1 and {MAX_K} matches")
        self.refresh()
        if not 0.0 <= float(diversity) <= 1.0:
            raise ValueError(f"diversity is {diversity!r}; use a number between 0 (off) and 1")
        texts, flts, brands = [], [], []
        for b in briefs:
            if isinstance(b, Brand):
                texts.append(normalize_text(b.query_text, max_chars=self.config.max_text_chars))
                flts.append(b.filters().merge(filters))
                brands.append(b)
            else:
                texts.append(normalize_text(b, max_chars=self.config.max_text_chars))
                flts.append(filters)
                brands.append(None)
            if not texts[-1]:
                raise ValueError("the brief is blank; describe the product to match creators to")
        queries = self.encoder.encode(texts)
        return rank_snapshot(
            self.snapshot_, queries, k, filters=flts, reranker=self.reranker_, candidates=self.config.index.candidates,
            weights=weights, brands=brands, diversity=diversity,
        )
