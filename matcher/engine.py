"""Serve recommendations from a published snapshot: encode the brief, search, filter, rerank, explain."""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from matcher.audience import AudienceSketch
from matcher.collaborations import mention_forms, mentions_in
from matcher.config import Config, RankConfig, ShortlistConfig, Weights
from matcher.embed import CachingEncoder, Encoder, encode_briefs
from matcher.errors import NotFittedError
from matcher.index import VectorIndex
from matcher.niches import niche_arrays
from matcher.prices import PRICE_COLUMNS, PRICE_MANIFEST_FILE, estimate_prices, load_price_calibration, price_inputs
from matcher.request import (
    MAX_K,
    RequestError,
    check_brief,
    check_budget,
    check_costs,
    check_creator_ids,
    check_diversity,
    check_filters,
    check_k,
    check_known_creators,
    check_lookalike,
    check_max_overlap,
    check_weights,
)
from matcher.rerank import Reranker, load_reranker
from matcher.schema import AudienceOverlap, Brand, Filters, Hit, LeftOut, Match, NicheScore, Shortlist, ShortlistPick
from matcher.shortlist import conflicts, duplicate_matrix, pair_penalties, plan, rank_plan
from matcher.store import Snapshot, Store

__all__ = [
    "Matcher", "Queries", "FilterColumns", "filter_columns", "filter_mask", "rank_snapshot", "query_searches", "Searched", "topical_candidates",
    "brief_niche_probabilities", "lookalike_query", "reprice", "shortlist_matches", "audience_report", "content_vectors", "brand_of",
]

logger = logging.getLogger(__name__)


# At most this many category codes are matched by comparing the codes with each one; more by a
# look-up table (one comparison of small ints is 0.02 ms at 1M rows, a table look-up 1.2 ms).
_FEW_CODES = 8


class SearchIndex(Protocol):
    """What ranking asks of an index: :meth:`VectorIndex.search`'s answers over the snapshot's rows."""

    def search(self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None) -> list[list[Hit]]: ...

    def search_each(self, requests: Iterable[tuple[np.ndarray, int, np.ndarray | None]]) -> list[list[Hit]]: ...


class FilterColumns:
    """The columns filters test, as plain numpy arrays, each converted once on first use.

    Rebuilding a mask from the pandas columns took about 5 ms per query at 1M creators (a nullable
    cast of the follower counts, ``isin`` over object columns); from these arrays it takes a fraction
    of a millisecond. Get one with :func:`filter_columns`, which keeps it as long as its snapshot.
    """

    def __init__(self, snapshot: Snapshot) -> None:
        # The frames, not the snapshot: a reference to the snapshot would keep it alive in the cache.
        self.creators = snapshot.creators
        self.signals = snapshot.signals
        self.index = getattr(snapshot, "index", None)
        self.niche_model = getattr(snapshot, "niche_model", None)
        self.posts = getattr(snapshot, "posts", None)
        self.post_offsets = getattr(snapshot, "post_offsets", None)
        self.size = len(self.creators)
        self._codes: dict[str, tuple[np.ndarray, pd.Index]] = {}

    @cached_property
    def followers(self) -> np.ndarray:
        """Follower counts as float64, NaN where unknown (the same nullable cast the filter is defined on)."""
        return self.creators["followers"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)

    @cached_property
    def followers_unknown(self) -> np.ndarray:
        return np.isnan(self.followers)

    @cached_property
    def trust(self) -> np.ndarray:
        return self.signals["trust_score"].to_numpy(dtype="float64")

    @cached_property
    def has_brand_column(self) -> bool:
        return "is_brand_account" in self.signals

    @cached_property
    def any_brand_account(self) -> bool:
        return self.has_brand_column and bool(self.signals["is_brand_account"].any())

    @cached_property
    def not_brand_account(self) -> np.ndarray:
        """Rows not recognised as brand accounts."""
        return ~self.signals["is_brand_account"].to_numpy(dtype=bool)

    @cached_property
    def creator_ids(self) -> np.ndarray:
        return self.creators["creator_id"].to_numpy(dtype=object)

    @cached_property
    def suppression_prefixes(self) -> np.ndarray:
        """The first 8 bytes of each creator's suppression key (:meth:`Store.suppression_key`) as
        uint64: erased creators are found by comparing these, one hash per creator per snapshot."""
        return np.fromiter((int(Store.suppression_key(str(c))[:16], 16) for c in self.creator_ids), dtype=np.uint64, count=len(self.creator_ids))

    @cached_property
    def niche_ids(self) -> np.ndarray:
        """Each creator's niches as taxonomy positions, ``(n, max_niches)`` int16, -1 where none."""
        if self.niche_model is None:
            return np.full((self.size, 0), -1, dtype=np.int16)
        return niche_arrays(self.signals, self.niche_model.taxonomy_)[0]

    def has_niche(self, niche_ids: Sequence[str]) -> np.ndarray:
        """Rows assigned any of ``niche_ids``.

        Raises:
            ValueError: the snapshot has no niches, or an id is not in its taxonomy.
        """
        if self.niche_model is None:
            raise ValueError("this snapshot has no niches (it was written before niches existed); run 'matcher batch' again to filter by niche")
        taxonomy = self.niche_model.taxonomy_
        wanted = [taxonomy.position(n) for n in taxonomy.check(list(niche_ids), where="niche filter")]
        ids = self.niche_ids
        out = np.zeros(self.size, dtype=bool)
        for w in wanted:
            out |= (ids == w).any(axis=1)
        return out

    @cached_property
    def post_words(self) -> np.ndarray:
        """Every post's words as :func:`matcher.collaborations.mentions_in` gives them, built on the
        first ``mentions`` filter and kept with the snapshot."""
        if self.posts is None or "text" not in self.posts:
            return np.zeros(0, dtype=object)
        return mentions_in(self.posts["text"].astype("string").fillna("").astype(str))

    def mentions(self, terms: Sequence[str]) -> np.ndarray:
        """Rows of the creators with a post that names any of ``terms`` (:func:`matcher.collaborations.mention_forms`)."""
        out = np.zeros(self.size, dtype=bool)
        words, offsets = self.post_words, self.post_offsets
        if not len(words) or offsets is None:
            return out
        series = pd.Series(words, dtype=object)
        hit = np.zeros(len(words), dtype=bool)
        for term in terms:
            for form in mention_forms(term):
                hit |= series.str.contains(form, regex=False).to_numpy(dtype=bool)
        rows = np.searchsorted(np.asarray(offsets), np.flatnonzero(hit), side="right") - 1
        out[rows] = True
        return out

    def codes(self, column: str) -> tuple[np.ndarray, pd.Index]:
        """``column`` as small integer codes (-1: missing) and the distinct values they stand for."""
        if column not in self._codes:
            codes, uniques = pd.factorize(self.creators[column])
            dtype = np.int8 if len(uniques) < 127 else np.int16 if len(uniques) < 32_767 else np.int32
            self._codes[column] = (codes.astype(dtype), pd.Index(uniques))
        return self._codes[column]

    def isin(self, column: str, values: Sequence[str], *, subtags: bool = False) -> np.ndarray:
        """Rows whose ``column`` is one of ``values`` (as ``Series.isin``; missing values never match).

        With ``subtags``, a value also matches its regional forms: ``en`` matches ``en-us``.
        """
        codes, uniques = self.codes(column)
        hit = np.asarray(uniques.isin(list(values)), dtype=bool)
        if subtags and len(uniques):
            primary = pd.Index([str(u).split("-", 1)[0] for u in uniques])
            hit |= np.asarray(primary.isin(list(values)), dtype=bool)
        wanted = np.flatnonzero(hit)
        if wanted.size == 0:
            return np.zeros(self.size, dtype=bool)
        if wanted.size <= _FEW_CODES:
            out = codes == int(wanted[0])  # a Python int keeps the comparison in the codes' small dtype
            for c in wanted[1:]:
                out |= codes == int(c)
            return out
        return np.append(hit, False)[codes]  # code -1 (missing) reads the appended False

    def rows_of(self, creator_ids: Sequence[str]) -> np.ndarray:
        """The rows of the given creator ids (ids not in the snapshot are skipped)."""
        index = self.index
        if isinstance(index, VectorIndex) and hasattr(index, "index_") and index.size == self.size:
            # The index's id map, checked against the creators column (the rows are aligned in a
            # snapshot), instead of a second map of a million ids.
            ids = self.creator_ids
            found = (index.row_of(cid) for cid in creator_ids)
            return np.array([r for cid, r in zip(creator_ids, found) if r is not None and ids[r] == cid], dtype=np.intp)
        return np.flatnonzero(self.creators["creator_id"].isin(creator_ids).to_numpy(dtype=bool))

    def warm(self) -> FilterColumns:
        """Convert every column a filter can test now, so no query pays for it. Returns ``self``."""
        present = {
            "followers_unknown": "followers" in self.creators,  # converts the follower counts too
            "trust": "trust_score" in self.signals,
            "not_brand_account": self.any_brand_account,
            "creator_ids": "creator_id" in self.creators,
            "niche_ids": self.niche_model is not None,
        }
        columns = [lambda name=name: getattr(self, name) for name, ok in present.items() if ok]
        columns += [lambda column=column: self.codes(column) for column in ("country", "language", "platform") if column in self.creators]
        for convert in columns:
            try:
                convert()
            except (TypeError, ValueError) as exc:
                # Serving goes on; only a query filtering on this column fails, saying why.
                logger.warning("a filter column cannot be prepared (%s); queries filtering on it will fail until 'matcher batch' rebuilds the snapshot", exc)
        return self


_filter_columns: dict[int, tuple[weakref.ref, FilterColumns]] = {}


def filter_columns(snapshot: Snapshot) -> FilterColumns:
    """The :class:`FilterColumns` of ``snapshot``, built on first use and kept while the snapshot lives."""
    key = id(snapshot)
    entry = _filter_columns.get(key)
    if entry is not None:
        ref, cols = entry
        # The frames are compared too: a snapshot whose tables were replaced gets fresh columns.
        if (
            ref() is snapshot and cols.creators is snapshot.creators and cols.signals is snapshot.signals
            and cols.index is getattr(snapshot, "index", None) and cols.posts is getattr(snapshot, "posts", None)
        ):
            return cols
    cols = FilterColumns(snapshot)
    try:
        ref = weakref.ref(snapshot, lambda _ref, key=key: _filter_columns.pop(key, None))
    except TypeError:  # an object that cannot be weakly referenced is served uncached
        return cols
    _filter_columns[key] = (ref, cols)
    return cols


def filter_mask(snapshot: Snapshot, filters: Filters | None, *, exclude_brand_accounts: bool = True) -> np.ndarray | None:
    """Boolean mask over the snapshot's creator rows that pass ``filters`` (None: no restriction).

    Accounts recognised as brands are left out unless ``filters.include_brand_accounts`` is set or
    ``exclude_brand_accounts`` is false. Returns a new array the caller may change.
    """
    cols = filter_columns(snapshot)
    drop_brands = exclude_brand_accounts and not (filters is not None and filters.include_brand_accounts) and cols.has_brand_column
    if (filters is None or not filters.active) and not (drop_brands and cols.any_brand_account):
        return None
    mask = cols.not_brand_account.copy() if drop_brands else np.ones(cols.size, dtype=bool)
    if filters is None:
        return mask
    if filters.min_trust is not None:
        mask &= cols.trust >= filters.min_trust
    if filters.min_followers is not None or filters.max_followers is not None:
        f = cols.followers
        # Comparisons with NaN are False, so unknown counts fail both bounds unless allowed.
        ok = f >= filters.min_followers if filters.min_followers is not None else np.ones(cols.size, dtype=bool)
        if filters.max_followers is not None:
            ok &= f <= filters.max_followers
        if filters.allow_unknown_followers:
            ok |= cols.followers_unknown
        mask &= ok
    if filters.countries:
        mask &= cols.isin("country", filters.countries)
    if filters.languages:
        mask &= cols.isin("language", filters.languages, subtags=True)
    if filters.platforms:
        mask &= cols.isin("platform", filters.platforms)
    if filters.niches:
        mask &= cols.has_niche(filters.niches)
    if filters.mentions:
        mask &= cols.mentions(filters.mentions)
    if filters.exclude_creators:
        mask[cols.rows_of(filters.exclude_creators)] = False
    return mask


def brief_niche_probabilities(snapshot: Snapshot, queries: np.ndarray) -> np.ndarray:
    """Confidence of every niche (columns in the snapshot taxonomy's order) for each query vector.

    The same model that assigned the snapshot's creators, so a brief and a creator are compared on
    one scale (see :func:`matcher.niches.niche_agreement`).

    Raises:
        ValueError: the snapshot has no niche model (written before niches existed).
    """
    model = getattr(snapshot, "niche_model", None)
    if model is None:
        raise ValueError("this snapshot has no niches (it was written before niches existed); run 'matcher batch' again")
    return model.predict_proba(np.atleast_2d(queries))


def lookalike_query(
    snapshot: Snapshot, brief: np.ndarray | None, like: Sequence[str], unlike: Sequence[str] = (), *, rank: RankConfig | None = None,
) -> np.ndarray:
    """The query vector of a look-alike request, Rocchio-style.

    ``normalize(α·brief + β·mean(liked) − γ·mean(unliked))`` with α, β, γ the config's
    ``rank.lookalike_brief``, ``rank.lookalike_like`` and ``rank.lookalike_unlike``. A creator's
    vector is its profile vector in the index (``index.vectors_``: the bio and the mean of its posts,
    unit length), the vector every query is first compared with. The result is one unit query
    vector, ranked as a brief's is: candidates from the index, topic from profile and posts, then
    the reranker. A term whose list is empty (or ``brief`` None) is left out.

    Raises:
        RequestError: a creator id is not in the snapshot, or the terms cancel out.
    """
    rank = rank or RankConfig()
    index = snapshot.index
    vectors = index.vectors_
    q = np.zeros(vectors.shape[1], dtype=np.float64)
    if brief is not None:
        q += rank.lookalike_brief * np.asarray(brief, dtype=np.float64)
    for ids, field, weight in ((like, "like", rank.lookalike_like), (unlike, "unlike", -rank.lookalike_unlike)):
        if not ids:
            continue
        check_known_creators(ids, field, lambda cid: index.row_of(cid) is not None)
        rows = np.array([index.row_of(cid) for cid in ids], dtype=np.int64)
        q += weight * vectors[rows].astype(np.float64).mean(axis=0)
    norm = float(np.linalg.norm(q))
    if not np.isfinite(norm) or norm < 1e-9:
        raise RequestError("the brief, liked and unliked creators cancel out into no direction; give a brief or other creators to look like")
    return (q / norm).astype(np.float32)


def topical_candidates(
    snapshot: Snapshot, query: np.ndarray, n: int, filters: Filters | None, *, exclude_brand_accounts: bool = True, index: SearchIndex | None = None,
) -> list[Hit]:
    """The ``n`` creators most similar to one query vector among those that pass ``filters``.

    When only a few brand accounts are left out, the index fetches a few more hits than ``n`` and
    drops them afterwards instead of running a filtered search (:meth:`VectorIndex.search`).
    """
    mask = filter_mask(snapshot, filters, exclude_brand_accounts=exclude_brand_accounts)
    return (index or snapshot.index).search(query, n, allowed=mask)[0]


#: A query's searches, as :func:`query_searches` makes them: its candidates, and the unfiltered
#: candidates the reranker anchors on (None when the candidates are those already, or no calibration).
Searched = tuple[list[Hit], list[Hit] | None]


def query_searches(
    snapshot: Snapshot,
    queries: np.ndarray,
    k: int,
    *,
    filters: Sequence[Filters | None],
    reranker: Reranker,
    candidates: int,
    index: SearchIndex | None = None,
) -> list[Searched]:
    """The index searches :func:`rank_snapshot` makes for each query vector, apart from its ranking.

    They go to the index together (``search_each``), so a :class:`matcher.distributed.ShardedIndex`
    has the next searches asked while its actors answer the first. The Ray engine searches this way
    on the driver and hands the answers to the worker processes that rank.
    """
    pool = max(candidates, k)
    exclude = reranker.fit.exclude_brand_accounts
    calibrated = reranker.rank_config.calibration != "none"
    # When the candidates are the brief's unfiltered best, the reranker anchors on them itself
    # (the same computation); otherwise the anchor comes from an unfiltered search.
    anchored = [
        calibrated and not (pool == candidates and (flt is None or (not flt.active and not flt.include_brand_accounts))) for flt in filters
    ]

    def requests() -> Iterator[tuple[np.ndarray, int, np.ndarray | None]]:
        # A generator: each mask is made when the index takes its search, not all of them at once.
        for q, flt, anchor in zip(queries, filters, anchored):
            yield q, pool, filter_mask(snapshot, flt, exclude_brand_accounts=exclude)
            if anchor:
                yield q, candidates, filter_mask(snapshot, None, exclude_brand_accounts=exclude)

    answers = iter((index or snapshot.index).search_each(requests()))
    return [(next(answers), next(answers) if anchor else None) for anchor in anchored]


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
    index: SearchIndex | None = None,
    searched: Sequence[Searched] | None = None,
) -> list[list[Match]]:
    """Rank creators for each query vector: topical candidates from the index, then the reranker.

    The candidate pool is ``max(candidates, k)`` per query, drawn only from creators that pass that
    query's filters, so a filter never hides qualifying creators behind unqualified ones. Topical
    fit is calibrated against the brief's ``candidates`` best creators in the whole collection
    (:meth:`Reranker.anchor`), so a filter or a larger ``k`` leaves every creator's score as it is:
    a filtered ranking is the unfiltered one with the others left out. A brand's own ``weights``
    apply to its query unless ``weights`` is given. ``index`` searches in place of the snapshot's
    own (the same rows and answers: :class:`matcher.distributed.ShardedIndex` searches shards of it).
    ``searched`` gives each query's searches, made already by :func:`query_searches` with the same
    arguments, instead of searching again.
    """
    out: list[list[Match]] = []
    brands = list(brands) if brands is not None else [None] * len(queries)
    if searched is not None and len(searched) != len(queries):
        raise ValueError(f"searched holds {len(searched)} queries' searches for {len(queries)} queries")
    for i, (q, flt, brand) in enumerate(zip(queries, filters, brands)):
        hits, anchor_hits = searched[i] if searched is not None else query_searches(
            snapshot, q[None, :], k, filters=[flt], reranker=reranker, candidates=candidates, index=index
        )[0]
        anchor = None if anchor_hits is None else reranker.anchor(snapshot, q, anchor_hits)
        w = weights or (Weights.from_mapping(brand.weights, source=f"brand {brand.brand_id} weights") if brand is not None and brand.weights else None)
        out.append(reranker.rank(snapshot, q, hits, k, weights=w, brand=brand, diversity=diversity, anchor=anchor))
    return out


def brand_of(snapshot: Snapshot, brand_id: str) -> Brand:
    """The brand ``brand_id`` of ``snapshot``'s brands table.

    Raises:
        RequestError: no such brand in the snapshot.
    """
    brands = snapshot.brands
    rows = brands[brands["brand_id"].astype(str) == str(brand_id)] if "brand_id" in brands else brands.iloc[0:0]
    if rows.empty:
        raise RequestError(f"brand_id: brand {brand_id!r} is not in the served snapshot; use a brand_id of the brands file given to 'matcher batch'")
    return Brand.from_record(rows.iloc[0].to_dict())


def audience_report(snapshot: Snapshot, creator_ids: Sequence[str]) -> AudienceOverlap:
    """The audience overlap among ``creator_ids`` in ``snapshot`` (all unknown when it has no comments sketch)."""
    sketch = getattr(snapshot, "audience", None) or AudienceSketch().fit(None, pd.DataFrame({"post_id": [], "creator_id": []}))
    return sketch.report(creator_ids)


def content_vectors(snapshot: Snapshot, creator_ids: Sequence[str]) -> np.ndarray:
    """Each creator's mean post vector (zeros for a creator without posts or not in the snapshot)."""
    vecs = snapshot.post_vectors
    offsets = snapshot.post_offsets
    out = np.zeros((len(creator_ids), vecs.shape[1] if vecs.ndim == 2 else 0), dtype=np.float64)
    for i, cid in enumerate(creator_ids):
        row = snapshot.index.row_of(cid)
        if row is None:
            continue
        lo, hi = int(offsets[row]), int(offsets[row + 1])
        if hi > lo:
            out[i] = vecs[lo:hi].astype(np.float64).mean(axis=0)
    return out


def _price(match: Match, costs: Mapping[str, float] | None) -> tuple[float, float, float, str | None] | None:
    """(low, mid, high, currency) of a match: the caller's own cost, else the match's price estimate; None when unknown."""
    if costs is not None:
        c = costs.get(match.creator_id)
        return None if c is None else (float(c), float(c), float(c), None)
    price = match.price
    if price is None or not (np.isfinite(price.mid) and price.mid > 0 and np.isfinite(price.low) and np.isfinite(price.high)):
        return None
    return float(price.low), float(price.mid), float(price.high), price.currency


def _amount(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}".rstrip("0").rstrip(".")


def _money(x: float, currency: str | None) -> str:
    return f"{_amount(x)} {currency}" if currency else _amount(x)


def shortlist_matches(
    snapshot: Snapshot,
    matches: Sequence[Match],
    *,
    budget: float,
    max_overlap: float | None = None,
    costs: Mapping[str, float] | None = None,
    config: ShortlistConfig | None = None,
    brand_id: str | None = None,
    method: str = "best",
) -> Shortlist:
    """Pick the set of ``matches`` worth most within ``budget`` (:func:`matcher.shortlist.plan`).

    Each match's value is its score; its cost is ``costs[creator_id]`` when ``costs`` is given, else
    the middle of its price estimate. Left out, with the reason: weak matches (off the brief's topic)
    and matches whose price is unknown. Audience overlap comes from the snapshot's commenter
    signatures (unknown overlap adds no penalty and never breaks ``max_overlap``); near-duplicate
    content from the creators' mean post vectors.

    ``method="rank"`` gives the baseline instead: the candidates in rank order, each taken while
    it fits the budget (overlap ignored), valued the same way; benchmarks compare the two.
    """
    if method not in ("best", "rank"):
        raise ValueError(f"method is {method!r}; use 'best' or 'rank'")
    cfg = config or ShortlistConfig()
    left: list[LeftOut] = []
    usable: list[tuple[Match, tuple[float, float, float, str | None]]] = []
    for m in matches:
        price = _price(m, costs)
        if m.weak:
            left.append(LeftOut(m.creator_id, m.rank, "weak match: its content is off the brief's topic"))
        elif price is None:
            left.append(LeftOut(m.creator_id, m.rank, "price unknown: no cost given and no price estimate, so it cannot be budgeted"))
        elif price[1] > budget:
            left.append(LeftOut(m.creator_id, m.rank, f"costs {_money(price[1], price[3])}, more than the whole budget"))
            usable.append((m, price))
        else:
            usable.append((m, price))
    ids = [m.creator_id for m, _ in usable]
    values = np.array([max(0.0, float(m.score)) for m, _ in usable], dtype=np.float64)
    mids = np.array([p[1] for _, p in usable], dtype=np.float64)
    overlap = audience_report(snapshot, ids) if ids else AudienceOverlap()
    n = len(ids)
    jac = np.full((n, n), np.nan)
    pos = {c: i for i, c in enumerate(ids)}
    for p in overlap.pairs:
        if p.jaccard is not None:
            jac[pos[p.a], pos[p.b]] = jac[pos[p.b], pos[p.a]] = p.jaccard
    dup = duplicate_matrix(content_vectors(snapshot, ids), cfg.duplicate_floor) if n else np.zeros((0, 0))
    penalties = pair_penalties(values, jac, dup, overlap_penalty=cfg.overlap_penalty, duplicate_penalty=cfg.duplicate_penalty)
    banned = conflicts(jac, max_overlap)
    if not n:
        best = None
    elif method == "rank":
        best = rank_plan(values, mids, budget, penalties)
        banned = np.zeros_like(banned)
    else:
        best = plan(values, mids, budget, penalties, banned, exact_max=cfg.exact_max, node_limit=cfg.node_limit, time_limit=cfg.time_limit)
    chosen = list(best.chosen) if best is not None else []
    currencies = {p[3] for _, p in usable if p[3]}
    currency = next(iter(currencies)) if len(currencies) == 1 else None
    picks = []
    for i in chosen:
        m, (lo, mid, hi, cur) = usable[i]
        shared = [(ids[j], penalties[i, j], jac[i, j], dup[i, j]) for j in chosen if j != i and penalties[i, j] > 0]
        added = float(values[i] - sum(x[1] for x in shared) / 2)
        parts = [f"rank {m.rank} for the brief, score {m.score:.3f}", f"costs {_money(mid, cur)}" + (f" (range {_amount(lo)}–{_money(hi, cur)})" if hi > lo else "")]
        known = [(other, j) for other, _, j, _ in shared if not np.isnan(j) and j > 0]
        if known:
            parts.append("shares audience with " + ", ".join(f"{o} ({j:.2f})" for o, j in known))
        dups = [(other, d) for other, _, _, d in shared if d > 0]
        if dups:
            parts.append("content close to " + ", ".join(o for o, _ in dups))
        if not (getattr(snapshot, "audience", None) and snapshot.audience.known(m.creator_id)):
            parts.append("audience overlap unknown (too few commenters)")
        parts.append(f"adds {added:.3f} to the set's value")
        picks.append(ShortlistPick(match=m, cost=mid, cost_low=lo, cost_high=hi, value_added=added, why="; ".join(parts)))
    taken = set(chosen)
    over = {m.creator_id for m, p in usable if p[1] > budget}
    for i, (m, _) in enumerate(usable):
        if i in taken or m.creator_id in over:
            continue
        clash = [ids[j] for j in sorted(taken) if banned[i, j]]
        left_over = budget - float(sum(usable[j][1][1] for j in chosen))
        if clash:
            reason = f"audience overlaps {', '.join(clash)} by more than max_overlap {max_overlap:g}"
        elif mids[i] > left_over:
            reason = f"costs {_money(mids[i], usable[i][1][3])}, more than the {_money(left_over, usable[i][1][3])} left; every set with it is worth less"
        else:
            reason = "it fits, but shares audience or content with the picks so much that it would lower the set's value"
        left.append(LeftOut(m.creator_id, m.rank, reason))
    left.sort(key=lambda x: x.rank)
    report = audience_report(snapshot, [ids[i] for i in chosen]) if chosen else AudienceOverlap()
    spend = float(sum(usable[i][1][1] for i in chosen))
    low = float(sum(usable[i][1][0] for i in chosen))
    high = float(sum(usable[i][1][2] for i in chosen))
    value = best.value if best is not None else 0.0
    share = "unknown" if report.distinct_share is None else f"{report.distinct_share:.0%} distinct"
    why = (
        f"{len(chosen)} creator(s) for {_money(spend, currency)} of {_money(budget, currency)}"
        + (f" (range {_amount(low)}–{_money(high, currency)})" if high > low else "")
        + f"; value {value:.3f} from scores summing to {float(values[chosen].sum()) if chosen else 0.0:.3f}; audience {share}"
        + (f"; {sum(1 for x in left if x.reason.startswith('price unknown'))} left out for an unknown price" if any(x.reason.startswith("price unknown") for x in left) else "")
    )
    return Shortlist(
        brand_id=brand_id,
        budget=float(budget),
        max_overlap=max_overlap,
        picks=tuple(sorted(picks, key=lambda p: p.match.rank)),
        spend=spend,
        spend_low=low,
        spend_high=high,
        currency=currency,
        value=float(value),
        score_sum=float(values[chosen].sum()) if chosen else 0.0,
        audience=report,
        left_out=tuple(left),
        method=best.method if best is not None else "none",
        candidates=len(matches),
        why=why,
    )


def reprice(snapshot: Snapshot, store: str | Path, config: Config) -> bool:
    """Give ``snapshot`` the price ranges of the store's current price calibration.

    The batch writes each creator's price range with the calibration it found; one trained later
    (``matcher train``) would only reach the matches at the next batch. When the store's
    calibration is not the one the snapshot was priced with, the ranges are estimated again over
    the snapshot's own per-creator table (a vectorised pass, about a second at a million
    creators). Returns True when the prices changed.

    Raises:
        StoreError: the store's calibration is there but does not verify.
    """
    if "price_mid" not in snapshot.signals:
        return False  # written before prices existed: nothing to estimate them from consistently
    calibration = load_price_calibration(store, config=config.prices)
    want = calibration.digest() if calibration is not None else None
    have = (snapshot.manifest.get("prices") or {}).get("calibration")
    if want == have:
        return False
    prices = estimate_prices(price_inputs(snapshot.creators, snapshot.signals), config=config.prices, calibration=calibration)
    signals = snapshot.signals.copy()
    for col in PRICE_COLUMNS:
        signals[col] = prices[col].to_numpy()
    snapshot.signals = signals
    snapshot.manifest = {**snapshot.manifest, "prices": {"calibration": want, "calibrated_on": calibration.n_prices_ if calibration is not None else 0}}
    logger.info("priced snapshot %s with the store's %s", snapshot.snapshot_id, "price calibration" if calibration is not None else "published rates alone")
    return True


def _calibration_stamp(store: str | Path) -> tuple[int, int] | None:
    """When the store's price calibration last changed (mtime, size of its manifest), or None."""
    try:
        st = (Path(store) / PRICE_MANIFEST_FILE).stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size)


@dataclass(frozen=True)
class Queries:
    """Prepared briefs: one query vector per brief, with the filters and brand that go with it."""

    vectors: np.ndarray
    filters: tuple[Filters | None, ...]
    brands: tuple[Brand | None, ...]
    like: tuple[str, ...] = ()  # creators the queries look like (said in each match's why line)


class Matcher:
    """Recommends creators for a brief from the latest published snapshot of a store.

    Example::

        from matcher import Matcher, Filters
        m = Matcher("store/").load()
        for match in m.recommend("Lightweight trail running shoe", k=5, filters=Filters(countries=("US",))):
            print(match.rank, match.handle, match.score, match.why)

    A long-lived process picks up a newly published snapshot on the next call (see :meth:`refresh`).
    With ``db`` (the PostgreSQL run state a batch and ``matcher forget`` share), every call also
    leaves out the creators erased since, from the next call on (see :meth:`erased`).
    """

    def __init__(
        self, store: str | Path | Store, *, config: Config | None = None, encoder: Encoder | CachingEncoder | None = None, db: str | None = None
    ) -> None:
        self.store = store
        self.config = config or Config()
        self.encoder = encoder
        self.db = db

    def load(self) -> Matcher:
        """Load the published snapshot and the encoder. Returns ``self``.

        Raises:
            StoreError: nothing is published, or the snapshot fails verification.
        """
        self.store_ = Store.of(self.store, db=self.db)
        self._erased: dict[str, tuple[int, frozenset[str]]] = {}
        self._erased_lock = threading.Lock()
        self.snapshot_ = self.store_.load()
        self.price_stamp_ = _calibration_stamp(self.store_.root)
        reprice(self.snapshot_, self.store_.root, self.config)
        filter_columns(self.snapshot_).warm()
        self.erased(self.snapshot_)  # with a shared state: the erased creators, before the first request
        if self.encoder is None:
            self.encoder = Encoder(self.config.embed)
        if not hasattr(self.encoder, "model_"):
            self.encoder.load()
        model = self.snapshot_.manifest.get("model", {})
        if model and model.get("id") not in (None, self.encoder.model_id):
            logger.warning("snapshot was built with %s but the encoder is %s; scores may be off", model.get("id"), self.encoder.model_id)
        self.reranker_, _ = load_reranker(self.store_.root, self.config)
        self.weights_ = self.reranker_.weights
        return self

    def refresh(self) -> bool:
        """Switch to a newer published snapshot if there is one. Returns True if it switched."""
        self._check()
        current = self.store_.current_id()
        stamp = _calibration_stamp(self.store_.root)
        if stamp != self.price_stamp_:  # 'matcher train' wrote a new price calibration
            self.price_stamp_ = stamp
            reprice(self.snapshot_, self.store_.root, self.config)
        # served_for: a published snapshot that failed verification is not retried on every call.
        if current in (self.snapshot_.snapshot_id, self.snapshot_.served_for):
            return False
        snapshot = self.store_.load()
        reprice(snapshot, self.store_.root, self.config)
        # Before the switch, so the first query on the new snapshot does not convert its columns or
        # work out its erased creators.
        filter_columns(snapshot).warm()
        self.erased(snapshot)
        self.snapshot_ = snapshot
        logger.info("switched to snapshot %s", self.snapshot_.snapshot_id)
        return True

    def erased(self, snapshot: Snapshot | None = None) -> frozenset[str]:
        """The creators of ``snapshot`` (default: the one served) on the store's suppression list now.

        With a shared run state (PostgreSQL) the list's version is read on every call, one round
        trip (``benchmarks/results/pg_state.md``), and the ids are worked out again when it or the
        snapshot changed: ``matcher forget`` on any machine takes effect from the next call, even
        before the rewritten snapshot is published. With the store's own SQLite file this is empty:
        erasure reaches this process with the rewritten snapshot, on its next call.

        Raises:
            NotFittedError: :meth:`load` was not called.
            StateError: the shared run state cannot be reached.
        """
        self._check()
        if not self.store_.state.shared:
            return frozenset()
        snap = snapshot if snapshot is not None else self.snapshot_
        version = self.store_.suppression_version()
        with self._erased_lock:
            known = self._erased.get(snap.snapshot_id)
            if known is not None and known[0] == version:
                return known[1]
            keys = self.store_.suppressed_keys() if version else frozenset()
            ids: frozenset[str] = frozenset()
            if keys:
                cols = filter_columns(snap)
                rows = np.flatnonzero(np.isin(cols.suppression_prefixes, np.array([int(k[:16], 16) for k in keys], dtype=np.uint64)))
                ids = frozenset(c for c in (str(x) for x in cols.creator_ids[rows]) if Store.suppression_key(c) in keys)
            if len(self._erased) >= 4:
                self._erased.pop(next(iter(self._erased)))
            self._erased[snap.snapshot_id] = (version, ids)
            return ids

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
        brief: str | Brand | None = None,
        k: int = 10,
        *,
        like: Sequence[str] = (),
        unlike: Sequence[str] = (),
        filters: Filters | None = None,
        weights: Weights | None = None,
        diversity: float = 0.0,
    ) -> list[Match]:
        """Rank creators for one brief, or creators that look like given ones (or both).

        Example (look-alikes, no brief)::

            m.recommend(like=["c001", "c002"], unlike=["c009"], k=10)

        Args:
            brief: product description text (at most 2,000 characters: a longer one is refused, not
                cut), or a :class:`Brand` (its own filters apply too). Optional when ``like`` is given.
            k: number of matches (1..1000); fewer only when fewer creators qualify.
            like: creator ids whose content the matches should resemble (at most 100).
            unlike: creator ids whose content the matches should not resemble (at most 100).
                The query is built Rocchio-style (:func:`lookalike_query`); the creators in
                ``like`` and ``unlike`` are never returned.
            filters: restrictions on who may be returned.
            weights: override the configured (or learned, or brand's) weights for this call.
            diversity: 0 (off) to 1: trade score for variety among the top k (maximal marginal relevance).

        Returns:
            Matches, best first, each with component scores, flags and matched posts.

        Raises:
            NotFittedError: :meth:`load` was not called.
            RequestError: (a ValueError) the request breaks a rule of :mod:`matcher.request`: a blank
                or over-long brief, neither a brief nor ``like``, an unknown creator id, ``k`` out of
                range, an invalid country, language or platform.
        """
        return self.recommend_many([brief], k, like=like, unlike=unlike, filters=filters, weights=weights, diversity=diversity)[0]

    def brand(self, brand_id: str) -> Brand:
        """The brand ``brand_id`` of the served snapshot's brands table.

        Raises:
            RequestError: no such brand in the snapshot.
        """
        self._check()
        self.refresh()
        return brand_of(self.snapshot_, brand_id)

    def audience_overlap(self, creator_ids: Sequence[str]) -> AudienceOverlap:
        """The estimated audience overlap among creators: every pair's Jaccard of commenters (None
        when a creator has too few commenters) and the share of distinct audience
        (:mod:`matcher.audience`).

        Raises:
            RequestError: more than 100 ids, or an id not in the served snapshot.
        """
        self._check()
        ids = check_creator_ids(creator_ids, "creator_ids")
        self.refresh()
        snap = self.snapshot_
        check_known_creators(ids, "creator_ids", lambda cid: snap.index.row_of(cid) is not None)
        return audience_report(snap, ids)

    def shortlist(
        self,
        brief: str | Brand | None = None,
        *,
        budget: float,
        max_overlap: float | None = None,
        k: int | None = None,
        like: Sequence[str] = (),
        unlike: Sequence[str] = (),
        filters: Filters | None = None,
        weights: Weights | None = None,
        costs: Mapping[str, float] | None = None,
    ) -> Shortlist:
        """The set of creators worth most for a brief within ``budget``.

        Example::

            plan = m.shortlist(brand, budget=5000, max_overlap=0.2)
            for pick in plan.picks:
                print(pick.match.handle, pick.cost, pick.why)
            print(plan.spend_low, plan.spend_high, plan.audience.distinct_share)

        The candidates are the brief's ``k`` best matches (default ``shortlist.candidates``), as
        :meth:`recommend` ranks them with the same ``like``, ``unlike``, ``filters`` and ``weights``;
        the set is picked by :func:`shortlist_matches`.

        Args:
            brief: product description text or a :class:`Brand` (its filters apply).
            budget: the most the set may cost, in the prices' currency.
            max_overlap: no two picks whose audience overlap (Jaccard of commenters) is known to be
                above this; None: no limit (overlap is still penalised).
            k: candidates to pick from (1..1000).
            costs: each creator's cost, overriding the price estimates; a candidate without a
                cost is then left out (said in ``left_out``).

        Raises:
            RequestError: the budget, max_overlap, costs or any option of :meth:`recommend` is invalid.
        """
        budget = check_budget(budget)
        max_overlap = check_max_overlap(max_overlap)
        costs = check_costs(costs)
        k = self.config.shortlist.candidates if k is None else k
        matches = self.recommend(brief, k, like=like, unlike=unlike, filters=filters, weights=weights)
        return shortlist_matches(
            self.snapshot_, matches, budget=budget, max_overlap=max_overlap, costs=costs, config=self.config.shortlist,
            brand_id=brief.brand_id if isinstance(brief, Brand) else None,
        )

    def brief_niches(self, brief: str | Brand) -> tuple[NicheScore, ...]:
        """The niches of a brief, best first (at most ``niches.max_niches``, each at least ``niches.min_confidence``).

        Raises:
            NotFittedError: :meth:`load` was not called.
            ValueError: blank brief, or the snapshot has no niches.
        """
        probs = self.niche_probabilities(brief)
        model = self.snapshot_.niche_model
        return model.records(*model.select(probs[None, :]))[0]  # type: ignore[union-attr]

    def niche_probabilities(self, brief: str | Brand) -> np.ndarray:
        """A brief's confidence in every niche of the served snapshot's taxonomy (for :func:`matcher.niches.niche_agreement`)."""
        self._check()
        self.refresh()
        return brief_niche_probabilities(self.snapshot_, self.queries([brief]).vectors)[0]

    def recommend_many(
        self,
        briefs: Sequence[str | Brand | None],
        k: int = 10,
        *,
        like: Sequence[str] = (),
        unlike: Sequence[str] = (),
        filters: Filters | None = None,
        weights: Weights | None = None,
        diversity: float = 0.0,
    ) -> list[list[Match]]:
        """Rank creators for several briefs at once; equal to calling :meth:`recommend` per brief
        (``like`` and ``unlike`` apply to each; a brief may be None only when ``like`` is given)."""
        self._check()
        # The same rules as 'matcher recommend' and the HTTP API (matcher.request).
        k = check_k(k, limit=MAX_K)
        diversity = check_diversity(diversity)
        filters = check_filters(filters)
        weights = check_weights(weights)
        like, unlike = check_creator_ids(like, "like"), check_creator_ids(unlike, "unlike")
        for b in briefs:
            check_lookalike(b, like, unlike)
        self.refresh()
        checked = [b if b is None or isinstance(b, Brand) else check_brief(b) for b in briefs]
        prepared = self.queries(checked, filters=filters, like=like, unlike=unlike)
        return self.rank(prepared, k, weights=weights, diversity=diversity)

    def queries(
        self,
        briefs: Sequence[str | Brand | None],
        *,
        filters: Filters | None = None,
        like: Sequence[str] = (),
        unlike: Sequence[str] = (),
        snapshot: Snapshot | None = None,
    ) -> Queries:
        """Prepare briefs for :meth:`rank`: each encoded (:func:`matcher.embed.encode_briefs`), with
        ``filters`` (merged into a :class:`Brand`'s own filters) and the brand.

        With ``like`` or ``unlike``, each query is the look-alike vector (:func:`lookalike_query`)
        of its brief (None: no brief) and those creators, looked up in ``snapshot`` (default: the
        one served), and the given creators are excluded from the results.

        Briefs are not checked against the request rules here (:meth:`recommend_many` does that).

        Raises:
            NotFittedError: :meth:`load` was not called.
            ValueError: a brief is blank; RequestError: a brief is None without ``like``, or a
                creator id is not in the snapshot.
        """
        self._check()
        like, unlike = tuple(like), tuple(unlike)
        given = [b for b in briefs if b is not None]
        encoded = iter(encode_briefs(self.encoder, given, max_chars=self.config.max_text_chars) if given else ())  # type: ignore[arg-type]
        snap = snapshot if snapshot is not None else self.snapshot_
        erased = self.erased(snap)
        if erased:  # an erased creator is not in the served snapshot, whatever its files still hold
            check_known_creators(like, "like", lambda cid: cid not in erased)
            check_known_creators(unlike, "unlike", lambda cid: cid not in erased)
        vectors = []
        for b in briefs:
            v = next(encoded) if b is not None else None
            if like or unlike:
                check_lookalike(b, like, unlike)
                v = lookalike_query(snap, v, like, unlike, rank=self.config.rank)
            elif v is None:
                check_lookalike(None, like, unlike)
            vectors.append(v)
        if like or unlike:
            # Added to the user's exclusions, everything else as given (a merge with empty
            # Filters would turn allow_unknown_followers off).
            base = filters or Filters()
            filters = replace(base, exclude_creators=tuple(dict.fromkeys(base.exclude_creators + like + unlike)))
        if erased:
            base = filters or Filters()
            filters = replace(base, exclude_creators=tuple(dict.fromkeys(base.exclude_creators + tuple(sorted(erased)))))
        dim = snap.index.vectors_.shape[1]
        return Queries(
            vectors=np.vstack(vectors).astype(np.float32, copy=False) if vectors else np.zeros((0, dim), dtype=np.float32),
            filters=tuple(b.filters().merge(filters) if isinstance(b, Brand) else filters for b in briefs),
            brands=tuple(b if isinstance(b, Brand) else None for b in briefs),
            like=like,
        )

    def rank(
        self,
        queries: Queries,
        k: int = 10,
        *,
        weights: Weights | None = None,
        diversity: float = 0.0,
        snapshot: Snapshot | None = None,
    ) -> list[list[Match]]:
        """Rank creators for prepared briefs (:meth:`queries`) on ``snapshot`` (default: the one served).

        The options are taken as given; :meth:`recommend_many` checks them first.
        """
        self._check()
        ranked = rank_snapshot(
            snapshot if snapshot is not None else self.snapshot_, queries.vectors, k, filters=list(queries.filters), reranker=self.reranker_,
            candidates=self.config.index.candidates, weights=weights, brands=list(queries.brands), diversity=diversity,
        )
        if queries.like:
            said = "looks like " + ", ".join(queries.like)
            ranked = [[replace(m, why=f"{said}; {m.why}") for m in matches] for matches in ranked]
        return ranked
