"""FAISS vector index over creators: exact for small collections, HNSW for large ones, ids kept outside FAISS.

An index is updated in place between runs (:meth:`VectorIndex.update`): unchanged creators keep their
nodes, new and changed ones are added. FAISS's HNSW graph cannot delete a node, so a replaced or
removed creator's node stays in the graph, dead: the graph is permuted so that live rows come first,
in row order, and dead nodes after them, and every search excludes the dead tail. An exact index
drops its dead rows at once. The graph is built again once dead nodes pass a set share of it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from matcher.errors import NotFittedError, StoreError
from matcher.files import Directory, Source, read_hashed
from matcher.schema import Hit

__all__ = ["IndexUpdate", "VectorIndex", "matching_rows", "normalize_rows", "plan_update"]

logger = logging.getLogger(__name__)

INDEX_FILE = "index.faiss"
VECTORS_FILE = "creator_vectors.npy"
IDS_FILE = "creator_ids.npy"
META_FILE = "index.json"
# The creator ids of the HNSW graph's dead nodes, in node order: erasure finds a creator's old vectors by them.
DEAD_IDS_FILE = "dead_ids.npy"
# A filter that lets at least this share of the rows through (typically only brand accounts left
# out) is applied after an ordinary search that fetches proportionally more: cheaper than scanning
# the qualifying rows, or a graph walk that tests every node against a selector.
OVERFETCH_MIN_FRACTION = 0.5
# Extra hits fetched past k, so that rows tied in score at the cut can still be ordered by row.
TIE_MARGIN = 16
# .npy headers are a few hundred bytes; this bounds what is kept of a vectors file while it is hashed.
NPY_HEADER_MAX = 1 << 16
# A subset scan of one query over at least this many rows is split across FAISS's threads: FAISS
# parallelises a scan over queries, not over rows, so one query would use one core (at 5% of 1M
# rows: 6.9 ms on one core, 3.9 ms on two).
PARALLEL_SCAN_MIN_ROWS = 20_000
# Rows compared per block when matching a new run's vectors against the indexed ones (a block's
# boolean temporary stays a few MB whatever the number of creators).
MATCH_BLOCK = 65_536

_scan_pool: ThreadPoolExecutor | None = None
_scan_pool_lock = threading.Lock()


def _forget_pool_in_child() -> None:
    # A forked process has none of its parent's threads: a pool made there would never run a task.
    global _scan_pool, _scan_pool_lock
    _scan_pool = None
    _scan_pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_in_child)


def _pool(threads: int) -> ThreadPoolExecutor:
    """A process-wide pool for split scans, sized to FAISS's thread setting (grown, never shrunk)."""
    global _scan_pool
    with _scan_pool_lock:
        if _scan_pool is None or _scan_pool._max_workers < threads:
            _scan_pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="matcher-scan")
        return _scan_pool


def normalize_rows(x: np.ndarray) -> np.ndarray:
    """Return a float32 copy of ``x`` with unit-length rows; all-zero rows stay zero.

    A copy, because ``faiss.normalize_L2`` works in place and callers' arrays must not change.
    """
    out = np.array(x, dtype=np.float32, copy=True, order="C")
    if out.ndim == 1:
        out = out[None, :]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


class _StorageView:
    """Lends FAISS's vector storage to numpy without copying it.

    An array made from this object has it as ``base``, and this object holds the index, so the
    memory outlives every array taken from it. Read-only: a write would change the index behind
    FAISS's back.
    """

    def __init__(self, index: faiss.Index, flat: faiss.IndexFlat, n: int) -> None:
        d = int(flat.d)
        self.index = index
        address = faiss.rev_swig_ptr(flat.get_xb(), n * d).ctypes.data
        self.__array_interface__ = {"version": 3, "shape": (n, d), "typestr": np.dtype(np.float32).str, "data": (address, True)}


@dataclass(frozen=True)
class IndexUpdate:
    """What :meth:`VectorIndex.update` did, or will do (:func:`plan_update`).

    ``action`` is ``reused`` (the same creators and vectors in the same order: nothing changes),
    ``extended`` (creators only added after the indexed ones), ``updated`` (creators added, replaced
    or removed in place) or ``rebuilt`` (built from scratch: the kind changes, or dead nodes would
    pass ``max_dead_fraction``). ``kept`` holds, for each new row, the indexed row whose creator and
    vector it keeps, or -1 when the row is added.
    """

    action: str
    kept: np.ndarray
    added: int  # rows whose vector is new: new creators and changed ones
    replaced: int  # indexed creators whose vector changed
    removed: int  # indexed creators no longer present
    dead: int  # dead nodes in the graph afterwards
    nodes: int  # nodes in the graph afterwards, live and dead

    @property
    def dead_fraction(self) -> float:
        """Share of the graph's nodes that are dead afterwards."""
        return self.dead / self.nodes if self.nodes else 0.0


def matching_rows(old_ids: np.ndarray, old_vectors: np.ndarray, ids: Sequence[str], vectors: np.ndarray) -> np.ndarray:
    """For each of ``ids``, the row of ``old_ids`` with the same id and a bit-identical vector, else -1.

    ``vectors`` are compared as stored (unit rows, float32, see :func:`normalize_rows`); blocks of
    rows at a time, so no full-size temporary is made.
    """
    row_of = {str(cid): i for i, cid in enumerate(np.asarray(old_ids).tolist())}
    new = [str(i) for i in ids]
    out = np.fromiter((row_of.get(cid, -1) for cid in new), dtype=np.int64, count=len(new))
    for lo in range(0, len(new), MATCH_BLOCK):
        hi = min(len(new), lo + MATCH_BLOCK)
        rows = out[lo:hi]
        hit = rows >= 0
        if hit.any():
            same = np.all(np.asarray(old_vectors[rows[hit]]) == vectors[lo:hi][hit], axis=1)
            rows[np.flatnonzero(hit)[~same]] = -1
    return out


def plan_update(
    old_ids: np.ndarray, old_vectors: np.ndarray, ids: Sequence[str], vectors: np.ndarray, *,
    old_kind: str, old_nodes: int, kind: str, max_dead_fraction: float,
) -> IndexUpdate:
    """Decide how an index over ``old_ids`` (``old_nodes`` graph nodes, live and dead) becomes one over ``ids``.

    ``vectors`` as stored (:func:`normalize_rows`). The one decision shared by
    :meth:`VectorIndex.update` and the nightly batch, which decides before loading the old graph.
    """
    n, m = len(ids), len(old_ids)
    kept = matching_rows(old_ids, old_vectors, ids, vectors)
    n_kept = int(np.count_nonzero(kept >= 0))
    added = n - n_kept
    present = {str(i) for i in ids}
    removed = sum(1 for i in np.asarray(old_ids).tolist() if str(i) not in present)
    replaced = m - n_kept - removed
    if kind != old_kind:
        return IndexUpdate("rebuilt", kept, added, replaced, removed, 0, n)
    if n == m and added == 0 and bool(np.array_equal(kept, np.arange(n))):
        return IndexUpdate("reused", kept, 0, 0, 0, old_nodes - m, old_nodes)
    if kind == "flat":  # an exact index drops its dead rows at once
        return IndexUpdate("extended" if m == n_kept and bool(np.array_equal(kept[:m], np.arange(m))) else "updated", kept, added, replaced, removed, 0, n)
    dead = old_nodes - n_kept
    nodes = old_nodes + added
    if n == 0 or dead / nodes > max_dead_fraction:
        return IndexUpdate("rebuilt", kept, added, replaced, removed, 0, n)
    only_added = m == n_kept and bool(np.array_equal(kept[:m], np.arange(m)))
    return IndexUpdate("extended" if only_added else "updated", kept, added, replaced, removed, dead, nodes)


class VectorIndex:
    """Cosine-similarity search over unit vectors.

    ``build`` picks exact search (``IndexFlatIP``) up to ``exact_max`` vectors and HNSW above it.
    Filtered queries are always exact when few creators qualify, and never return fewer than
    ``min(k, qualifying)`` hits. The vectors are kept once, in the FAISS index; ``vectors_`` is a
    read-only view of them.
    """

    def __init__(
        self,
        *,
        exact_max: int = 50_000,
        hnsw_m: int = 32,
        ef_construction: int = 200,
        ef_search: int = 128,
        exact_filter_fraction: float = 0.05,
    ) -> None:
        self.exact_max = exact_max
        self.hnsw_m = hnsw_m
        self.ef_construction = ef_construction
        self.ef_search = ef_search
        self.exact_filter_fraction = exact_filter_fraction

    # -- build ------------------------------------------------------------------------------
    def build(self, vectors: np.ndarray, ids: Sequence[str]) -> VectorIndex:
        """Index ``vectors`` (one row per creator) under external ``ids``. Returns ``self``.

        Raises:
            ValueError: shapes disagree, ids repeat, or vectors are not finite.
        """
        vecs = normalize_rows(vectors)
        if vecs.ndim != 2 or vecs.shape[0] != len(ids):
            raise ValueError(f"got {vecs.shape[0]} vectors for {len(ids)} ids; give one vector per id")
        if not np.isfinite(vecs).all():
            raise ValueError("vectors contain NaN or infinity; check the encoder output")
        id_arr = np.asarray([str(i) for i in ids], dtype=str)
        if len(set(id_arr.tolist())) != len(id_arr):
            raise ValueError("ids must be unique; deduplicate creators before indexing")
        return self._build_unit(vecs, id_arr)

    def _build_unit(self, vecs: np.ndarray, id_arr: np.ndarray) -> VectorIndex:
        """:meth:`build` from vectors normalised already (normalising twice can change the last bit)."""
        n, d = vecs.shape
        if n > self.exact_max:
            index = faiss.IndexHNSWFlat(d, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = self.ef_construction
            index.hnsw.efSearch = self.ef_search
            kind = "hnsw"
        else:
            index = faiss.IndexFlatIP(d)
            kind = "flat"
        if n:
            index.add(vecs)
        # FAISS copied the vectors into its storage; ``vecs`` is dropped here (1.5 kB per creator).
        self.index_ = index
        self.ids_ = id_arr
        self.dead_ids_ = np.asarray([], dtype=str)
        self.kind_ = kind
        self._row_of = {cid: i for i, cid in enumerate(id_arr.tolist())}
        logger.info("built %s index over %d creators (dim %d)", kind, n, d)
        return self

    def extend(self, vectors: np.ndarray, ids: Sequence[str]) -> VectorIndex:
        """Add creators after the indexed ones (as :meth:`build` would place them). Returns ``self``.

        The existing rows keep their positions; an HNSW graph takes the new nodes without being
        rebuilt. The index stays of the kind :meth:`build` chose (build again to change it).

        Raises:
            NotFittedError: the index is not built.
            ValueError: shapes disagree, an id repeats or is already indexed, or vectors are not finite.
        """
        self._check_built()
        vecs = self._checked(vectors, ids)
        new = [str(i) for i in ids]
        if len(set(new)) != len(new) or any(i in self._row_of for i in new):
            raise ValueError("ids must be unique and not indexed yet; deduplicate creators before indexing")
        if not new:
            return self
        m = self.size
        kept = np.concatenate([np.arange(m, dtype=np.int64), np.full(len(new), -1, dtype=np.int64)])
        self._apply(vecs, [*self.ids_.tolist(), *new], kept, new_rows=np.arange(m, m + len(new)))
        logger.info("extended %s index by %d creators to %d", self.kind_, len(new), self.size)
        return self

    def update(self, vectors: np.ndarray, ids: Sequence[str], *, max_dead_fraction: float, plan: IndexUpdate | None = None) -> VectorIndex:
        """Make the index hold ``ids`` (in this order) with ``vectors``, changing only what changed. Returns ``self``.

        Creators whose id and vector are already indexed keep their nodes; new and changed creators
        are added; replaced and removed creators' nodes become dead (an exact index drops them at
        once). Searches never return a dead node. When dead nodes would pass ``max_dead_fraction``
        of the graph, or the number of creators calls for the other kind, the index is built from
        scratch instead, as :meth:`build` would. What was done is in ``update_``.

        Args:
            vectors: one row per id, as given to :meth:`build` (normalised here).
            plan: :func:`plan_update` for these ids and ``normalize_rows(vectors)``, when the caller made it already.

        Raises:
            NotFittedError: the index is not built.
            ValueError: shapes disagree, ids repeat, or vectors are not finite.
        """
        self._check_built()
        if not 0.0 <= max_dead_fraction <= 1.0:
            raise ValueError(f"max_dead_fraction is {max_dead_fraction}; give a share between 0 and 1")
        vecs = self._checked(vectors, ids)
        new = [str(i) for i in ids]
        if len(set(new)) != len(new):
            raise ValueError("ids must be unique; deduplicate creators before indexing")
        kind = "hnsw" if len(new) > self.exact_max else "flat"
        if plan is None:
            plan = plan_update(self.ids_, self.vectors_, new, vecs, old_kind=self.kind_, old_nodes=self.nodes, kind=kind, max_dead_fraction=max_dead_fraction)
        if plan.action == "rebuilt":
            self._build_unit(vecs, np.asarray(new, dtype=str))
        elif plan.action != "reused":
            self._apply(vecs[plan.kept < 0], new, plan.kept, new_rows=np.flatnonzero(plan.kept < 0))
            logger.info(
                "updated %s index: %d creators added or replaced, %d removed, %d of %d nodes dead",
                self.kind_, plan.added, plan.removed, self.dead, self.nodes,
            )
        self.update_ = plan
        return self

    def _checked(self, vectors: np.ndarray, ids: Sequence[str]) -> np.ndarray:
        vecs = normalize_rows(vectors)
        if vecs.ndim != 2 or vecs.shape[0] != len(ids) or (len(ids) and vecs.shape[1] != self.dim):
            raise ValueError(f"got {vecs.shape[0]} vectors of dim {vecs.shape[1]} for {len(ids)} ids; give one vector of dim {self.dim} per id")
        if not np.isfinite(vecs).all():
            raise ValueError("vectors contain NaN or infinity; check the encoder output")
        return vecs

    def _apply(self, added: np.ndarray, ids: list[str], kept: np.ndarray, *, new_rows: np.ndarray) -> None:
        """Add ``added`` (the vectors of rows ``new_rows``) as new nodes, then order the nodes: row
        ``i`` of ``ids`` at node ``i`` (its kept node, ``kept[i]``, or its new one), dead nodes after."""
        total, old_ids = self.nodes, np.concatenate([self.ids_, self.dead_ids_])
        self.index_ = _owned(self.index_)  # a loaded index is a view of its file's bytes until it changes
        if len(added):
            self.index_.add(np.ascontiguousarray(added, dtype=np.float32))
        node = kept.copy()
        node[new_rows] = total + np.arange(len(new_rows))
        live = np.zeros(self.nodes, dtype=bool)
        live[node] = True
        dead = np.flatnonzero(~live)  # all below ``total``: every added node is live
        perm = np.concatenate([node, dead]).astype(np.int64)
        if not np.array_equal(perm, np.arange(perm.size)):
            self.index_.permute_entries(perm)  # graph links and storage alike
        if self.kind_ == "flat" and self.nodes > len(ids):
            self.index_.remove_ids(faiss.IDSelectorRange(len(ids), self.nodes))  # exact: no dead rows kept
        self.ids_ = np.asarray(ids, dtype=str)
        self.dead_ids_ = old_ids[dead] if self.kind_ == "hnsw" else np.asarray([], dtype=str)
        self._row_of = {cid: i for i, cid in enumerate(ids)}

    def remove(self, ids: Iterable[str]) -> VectorIndex:
        """Take creators out of the index (ids not indexed are ignored). Returns ``self``.

        The index is built again over the remaining creators, in their order, with the same settings
        (so its kind follows their number, as in :meth:`build`), and without dead nodes: nothing of a
        removed creator stays in it (erasure relies on this).
        """
        self._check_built()
        gone = {str(i) for i in ids}
        keep = np.fromiter((cid not in gone for cid in self.ids_.tolist()), dtype=bool, count=len(self.ids_))
        if keep.all() and not self.dead:
            return self
        vecs = np.array(self.vectors_[keep], copy=True)  # the view goes with the old FAISS index
        return self.build(vecs, self.ids_[keep].tolist())

    def _check_built(self) -> None:
        if not hasattr(self, "index_"):
            raise NotFittedError("VectorIndex is not built; call build() or VectorIndex.load() first")

    @property
    def size(self) -> int:
        """Number of indexed creators (live rows)."""
        self._check_built()
        return int(len(self.ids_))

    @property
    def nodes(self) -> int:
        """Number of vectors in the FAISS index: the live rows, then dead nodes (HNSW only)."""
        self._check_built()
        return int(self.index_.ntotal)

    @property
    def dead(self) -> int:
        """Dead nodes: replaced or removed creators still linked in the HNSW graph, never returned
        (their ids, in node order: ``dead_ids_``)."""
        return self.nodes - self.size

    @property
    def dim(self) -> int:
        """Vector dimension."""
        self._check_built()
        return int(self.index_.d)

    @property
    def vectors_(self) -> np.ndarray:
        """The indexed unit vectors, one float32 row per creator, read-only.

        A view of the FAISS index's own storage (the flat index, or the HNSW graph's storage, whose
        live rows come first), not a second copy. It stays valid for as long as nothing is added to ``index_``.
        """
        self._check_built()
        flat = self._flat()
        if self.size == 0:
            empty = np.zeros((0, int(flat.d)), dtype=np.float32)
            empty.flags.writeable = False
            return empty
        return np.asarray(_StorageView(self.index_, flat, self.size))

    @vectors_.setter
    def vectors_(self, value: np.ndarray) -> None:
        # The vectors live in the index. A caller that extends ``index_`` in place (the nightly batch
        # does) may still assign what it added; anything else would leave the two disagreeing.
        value = np.asarray(value)
        current = self.vectors_
        if value.shape != current.shape or not np.array_equal(value, current):
            raise ValueError(
                "vectors_ is a view of the vectors stored in the FAISS index; add vectors to index_ "
                "(or build a new VectorIndex) instead of assigning different ones"
            )

    def row_of(self, creator_id: str) -> int | None:
        """The index row of ``creator_id``, or None if it is not indexed."""
        self._check_built()
        return self._row_of.get(str(creator_id))

    # -- search -----------------------------------------------------------------------------
    def search_each(self, requests: Iterable[tuple[np.ndarray, int, np.ndarray | None]]) -> list[list[Hit]]:
        """Each request's hits: ``search(query, k, allowed=allowed)[0]`` for each ``(query, k, allowed)``.

        The requests are taken one at a time, so a generator of them holds one mask at once.
        """
        return [self.search(query, k, allowed=allowed)[0] for query, k, allowed in requests]

    def search(self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None) -> list[list[Hit]]:
        """Return the ``k`` most similar creators for each query row, best first.

        Exact results (flat index, or few qualifying rows) order equal scores by row.

        Args:
            queries: ``(d,)`` or ``(n, d)`` query vectors (normalised here, on a copy).
            k: hits wanted per query; fewer only when fewer creators qualify.
            allowed: optional boolean mask over index rows; only ``True`` rows may be returned.

        Raises:
            NotFittedError: the index is not built.
            ValueError: ``k`` < 1, a wrong query dimension, or a mask of the wrong length.
        """
        self._check_built()
        if k < 1:
            raise ValueError(f"k is {k}; ask for at least one result")
        q = normalize_rows(queries)
        if q.shape[1] != self.dim:
            raise ValueError(f"query dimension is {q.shape[1]}, the index holds dimension {self.dim}; use the same model")
        n = self.size
        if n == 0:
            return [[] for _ in range(q.shape[0])]
        if allowed is None:
            want = min(k, n)
            if self.kind_ == "flat":
                return self._exact(q, None, want)
            hits = self._faiss_search(q, want)
            # HNSW can come back short on a disconnected graph region; an exact scan never does.
            return [h if len(h) >= want else self._exact(q[i : i + 1], None, want)[0] for i, h in enumerate(hits)]
        allowed = np.asarray(allowed, dtype=bool)
        if allowed.shape != (n,):
            raise ValueError(f"filter mask has length {allowed.shape}, the index has {n} rows")
        m = int(np.count_nonzero(allowed))
        if m == 0:
            return [[] for _ in range(q.shape[0])]
        want = min(k, m)
        if m >= OVERFETCH_MIN_FRACTION * n:
            return [self._postfiltered(q[i : i + 1], allowed, m, want) for i in range(q.shape[0])]
        rows = np.flatnonzero(allowed)
        if self.kind_ == "flat" or m <= self.exact_filter_fraction * n:
            # Few qualify: a scan over just those rows is exact and cheaper than a graph walk that
            # would discard most of what it visits.
            return self._exact(q, rows, want)
        # Locals keep the bitmap and selector alive for the whole search (SWIG holds raw pointers).
        bitmap = np.packbits(allowed, bitorder="little")
        selector = faiss.IDSelectorBitmap(bitmap)
        params = faiss.SearchParametersHNSW(sel=selector)
        params.efSearch = max(self.ef_search, 2 * want)
        hits = self._faiss_search(q, want, params=params)
        return [h if len(h) >= want else self._exact(q[i : i + 1], rows, want)[0] for i, h in enumerate(hits)]

    def _faiss_search(self, q: np.ndarray, k: int, *, params: faiss.SearchParameters | None = None) -> list[list[Hit]]:
        dead_tail = None
        if params is None and self.kind_ == "hnsw":
            # Per-call parameters rather than setting index_.hnsw.efSearch, so a search changes no state.
            params = faiss.SearchParametersHNSW()
            params.efSearch = max(self.ef_search, k)
            if self.dead:
                # Dead nodes still route the walk but are never returned. (A filtered search's
                # bitmap covers only the live rows, so it leaves them out already.)
                dead_tail = faiss.IDSelectorRange(0, self.size)
                params.sel = dead_tail
        scores, rows = self.index_.search(q, k, params=params) if params is not None else self.index_.search(q, k)
        del dead_tail
        out: list[list[Hit]] = []
        for srow, rrow in zip(scores, rows):
            keep = rrow >= 0  # FAISS pads missing hits with -1
            out.append([Hit(str(self.ids_[r]), int(r), float(s)) for s, r in zip(srow[keep], rrow[keep])])
        return out

    def _flat(self) -> faiss.IndexFlat:
        """The FAISS flat index holding every vector: the index itself, or the HNSW graph's storage."""
        if self.kind_ == "flat":
            return self.index_
        return faiss.downcast_index(self.index_.storage)

    def _postfiltered(self, q: np.ndarray, allowed: np.ndarray, m: int, want: int) -> list[Hit]:
        """Top ``want`` allowed rows for one query: an unfiltered search fetching enough extra hits
        that ``want`` allowed ones are expected among them, fetching more when they are not."""
        n = self.size
        fetch = min(n, int(np.ceil(want * n / m * 1.05)) + TIE_MARGIN)
        for _ in range(4):
            if self.kind_ == "flat":
                scores, found = self._flat().search(q, fetch)
                hits = self._ordered(scores[0], found[0], want, complete=fetch >= n, allowed=allowed)
                if hits is not None:
                    return hits
            else:
                got = self._faiss_search(q, fetch)[0]
                kept = [h for h in got if allowed[h.row]]
                if len(kept) >= want:
                    return kept[:want]
                if len(got) < fetch:
                    break  # the graph returned all it could reach
            if fetch >= n:
                break
            fetch = min(n, 4 * fetch)
        # The allowed rows are unusually rare near this query: scan them exactly.
        return self._exact(q, np.flatnonzero(allowed), want)[0]

    def _exact(self, q: np.ndarray, rows: np.ndarray | None, k: int) -> list[list[Hit]]:
        """Exact top ``k`` over ``rows`` (None: every row) for each query, equal scores ordered by row."""
        flat = self._flat()
        if rows is None and self.dead:
            rows = np.arange(self.size, dtype=np.int64)  # the live rows only
        total = self.size if rows is None else int(rows.size)
        k = min(k, total)
        fetch = min(total, k + TIE_MARGIN)
        scores, found = self._scan(flat, q, rows, fetch)
        out: list[list[Hit]] = []
        for i in range(q.shape[0]):
            f, s, r = fetch, scores[i], found[i]
            while (hits := self._ordered(s, r, k, complete=f >= total)) is None:
                # More rows tie at the cut than the margin holds: fetch more until the tie is whole.
                f = min(total, 4 * f)
                s, r = (a[0] for a in self._scan(flat, q[i : i + 1], rows, f))
            out.append(hits)
        return out

    @staticmethod
    def _scan(flat: faiss.IndexFlat, q: np.ndarray, rows: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
        """FAISS's exact inner-product top ``k`` over all rows or just ``rows``, read in place.

        The subset scan reads only the listed rows: at 5% of 1M rows it takes 7 ms, against 16 ms
        through a selector bitmap and 33 ms for a numpy gather and matmul (0.4, 2.9 and 8 ms at 0.5%).
        It uses the same kernel as the unfiltered search, so scores agree bit for bit.
        """
        if rows is None:
            return flat.search(q, k)
        subset = np.ascontiguousarray(rows, dtype=np.int64)
        threads = faiss.omp_get_max_threads()
        if q.shape[0] > 1 or threads < 2 or subset.size < PARALLEL_SCAN_MIN_ROWS:
            return VectorIndex._scan_part(flat, q, subset, k)
        # One query over many rows: each thread scans a slice (FAISS releases the GIL), then the
        # slices' top k are merged; the union holds the overall top k.
        parts = list(_pool(threads).map(lambda part: VectorIndex._scan_part(flat, q, part, k), np.array_split(subset, threads)))
        vals = np.concatenate([v for v, _ in parts], axis=1)
        ids = np.concatenate([i for _, i in parts], axis=1)
        order = np.lexsort((ids[0], -vals[0]))
        order = order[ids[0][order] >= 0][:k]
        out_v = np.full((1, k), -np.inf, dtype=np.float32)
        out_i = np.full((1, k), -1, dtype=np.int64)
        out_v[0, : order.size], out_i[0, : order.size] = vals[0, order], ids[0, order]
        return out_v, out_i

    @staticmethod
    def _scan_part(flat: faiss.IndexFlat, q: np.ndarray, subset: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        subset = np.ascontiguousarray(subset, dtype=np.int64)
        vals = np.empty((q.shape[0], k), dtype=np.float32)
        ids = np.empty((q.shape[0], k), dtype=np.int64)
        faiss.knn_inner_products_by_idx(
            faiss.swig_ptr(q), flat.get_xb(), faiss.swig_ptr(subset), flat.d, q.shape[0], flat.ntotal, subset.size, k,
            faiss.swig_ptr(vals), faiss.swig_ptr(ids), 0,  # 0: every query scans the same subset
        )
        return vals, ids

    def _ordered(self, scores: np.ndarray, rows: np.ndarray, k: int, *, complete: bool, allowed: np.ndarray | None = None) -> list[Hit] | None:
        """The top ``k`` of one exact result, equal scores ordered by row; None when it cannot be known.

        ``complete``: the result holds every candidate row. Otherwise rows tied with its lowest score
        may have been cut at the fetch limit, so only rows scoring above it count, and None is
        returned when fewer than ``k`` of them (that are ``allowed``) remain: fetch more.
        """
        keep = rows >= 0  # FAISS pads missing hits with -1
        if not complete and keep.any():
            keep &= scores > scores[keep].min()
        if allowed is not None:
            keep &= allowed[rows]
        if not complete and np.count_nonzero(keep) < k:
            return None
        s, r = scores[keep], rows[keep]
        order = np.lexsort((r, -s))[:k]
        return [Hit(str(self.ids_[j]), int(j), float(sc)) for sc, j in zip(s[order], r[order])]

    # -- persistence ------------------------------------------------------------------------
    def save(self, directory: str | Path) -> list[str]:
        """Write the index as plain files in ``directory``; returns the file names written."""
        self._check_built()
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.index_, str(d / INDEX_FILE))
        # The vectors again as plain .npy, for readers without FAISS; load() checks it but keeps the index's copy.
        np.save(d / VECTORS_FILE, self.vectors_, allow_pickle=False)
        np.save(d / IDS_FILE, self.ids_, allow_pickle=False)
        np.save(d / DEAD_IDS_FILE, np.asarray(self.dead_ids_, dtype=str if len(self.dead_ids_) else "<U1"), allow_pickle=False)
        meta = {
            "kind": self.kind_,
            "size": self.size,
            "nodes": self.nodes,
            "dim": self.dim,
            "exact_max": self.exact_max,
            "hnsw_m": self.hnsw_m,
            "ef_construction": self.ef_construction,
            "ef_search": self.ef_search,
            "exact_filter_fraction": self.exact_filter_fraction,
        }
        (d / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True))
        return [INDEX_FILE, VECTORS_FILE, IDS_FILE, META_FILE, DEAD_IDS_FILE]

    @classmethod
    def load(
        cls, directory: str | Path | Source, *, checksums: Mapping[str, str], sizes: Mapping[str, int] | None = None,
        vectors_header: tuple[tuple[int, ...], np.dtype] | None = None,
    ) -> VectorIndex:
        """Load an index written by :meth:`save`, reading each file only after its sha256 matches.

        Files are opened as plain regular files of ``directory`` (no symlink, device or pipe), or read
        from a :class:`~matcher.files.Source` (a snapshot on object storage), and never read past
        their size in ``sizes``.

        The FAISS index is read in place from the checked bytes of its file: its vectors and graph
        are those bytes, not a copy of them, so loading holds the index once. The first change to
        the index (:meth:`update`, :meth:`extend`) makes it a copy of its own to change.

        Args:
            checksums: file name → expected sha256 hex, from the snapshot manifest.
            sizes: file name → size in bytes, from the snapshot manifest (each file must have it).
            vectors_header: the shape and dtype of ``creator_vectors.npy`` when the caller has read
                that file already and checked it against the same checksum (the nightly batch does,
                to plan an update): it is then not read again. Otherwise the file is hashed in
                chunks for its header.

        Raises:
            StoreError: a file is missing, or its checksum differs from the manifest.
        """
        src: Source = directory if not isinstance(directory, (str, Path)) else Directory(directory)
        d = src.where("").rstrip("/")
        sizes = dict(sizes or {})
        blobs = {name: _verified_bytes(src, name, checksums, sizes.get(name)) for name in (META_FILE, INDEX_FILE, IDS_FILE)}
        # Checked, but only its header is kept: the index holds the same vectors, and a second copy
        # would cost 1.5 kB per creator.
        if vectors_header is None:
            vec_shape, vec_dtype = _verified_npy_header(src, VECTORS_FILE, checksums, sizes.get(VECTORS_FILE))
        else:
            vec_shape, vec_dtype = tuple(vectors_header[0]), np.dtype(vectors_header[1])
        meta = json.loads(blobs[META_FILE])
        obj = cls(
            exact_max=meta["exact_max"],
            hnsw_m=meta["hnsw_m"],
            ef_construction=meta["ef_construction"],
            ef_search=meta["ef_search"],
            exact_filter_fraction=meta["exact_filter_fraction"],
        )
        # Read from the very bytes whose checksum was checked, so the file cannot change in between.
        obj.index_ = _index_over(blobs.pop(INDEX_FILE))
        obj.ids_ = _npy_from_bytes(blobs[IDS_FILE], src.where(IDS_FILE))
        # Indexes written before dead nodes existed have no such file (and no dead nodes).
        obj.dead_ids_ = _npy_from_bytes(_verified_bytes(src, DEAD_IDS_FILE, checksums, sizes.get(DEAD_IDS_FILE)), src.where(DEAD_IDS_FILE)) if DEAD_IDS_FILE in checksums else np.asarray([], dtype=str)
        obj.kind_ = meta["kind"]
        if obj.kind_ == "hnsw":
            obj.index_.hnsw.efSearch = obj.ef_search
        nodes, dim, n = int(obj.index_.ntotal), int(obj.index_.d), int(obj.ids_.shape[0])
        # An HNSW graph may hold dead nodes after its live rows; the meta says how many rows are live.
        if n != meta.get("size", nodes) or nodes < n or (nodes > n and obj.kind_ != "hnsw") or obj.dead_ids_.shape != (nodes - n,):
            raise StoreError(f"{d}: index holds {nodes} vectors but {n} ids; rebuild with 'matcher batch'")
        if vec_shape != (n, dim) or vec_dtype != np.float32:
            raise StoreError(f"{src.where(VECTORS_FILE)}: holds {vec_dtype} vectors of shape {vec_shape} but the index {n} x {dim}; rebuild with 'matcher batch'")
        obj._row_of = {cid: i for i, cid in enumerate(obj.ids_.tolist())}
        return obj


def _index_over(data: bytes | bytearray) -> faiss.Index:
    """The FAISS index serialised in ``data``, its vectors and graph read in place (FAISS's zero-copy
    reader): the index's arrays are views of ``data``, which the index object keeps alive.

    ``faiss.deserialize_index`` would copy the bytes into a buffer of its own and read the index
    out of that: three copies of a 1.9 GB graph at a million creators, for a moment, against one.
    Such an index can be searched and saved, not changed (FAISS aborts the process on a change to a
    view); :func:`_owned` makes one that can.
    """
    arr = np.frombuffer(data, dtype=np.uint8)
    index = faiss.read_index(faiss.ZeroCopyIOReader(faiss.swig_ptr(arr), arr.nbytes), faiss.IO_FLAG_MMAP_IFC)
    # The arrays of the index point into ``data``: FAISS's own attribute for what an index keeps alive.
    index.referenced_objects = [_ReadFrom(data)]
    return index


@dataclass(frozen=True)
class _ReadFrom:
    """The bytes an index from :func:`_index_over` was read from, in place."""

    data: bytes | bytearray


def _owned(index: faiss.Index) -> faiss.Index:
    """``index`` itself when it owns its arrays, else a copy that does (an index from :func:`_index_over`),
    read from the bytes it was read from, in 1 MB pieces (no second whole buffer), with the same
    search setting."""
    source = [o for o in getattr(index, "referenced_objects", None) or [] if isinstance(o, _ReadFrom)]
    if not source:
        return index
    view = memoryview(source[0].data)
    pos = 0

    def read(n: int) -> bytes:
        nonlocal pos
        piece = view[pos : pos + n]
        pos += len(piece)
        return bytes(piece)

    copy = faiss.read_index(faiss.PyCallbackIOReader(read), 0)
    if isinstance(index, faiss.IndexHNSW):
        copy.hnsw.efSearch = index.hnsw.efSearch  # the index as it stands, not as its file has it
    return copy


def _verified_bytes(src: Source, name: str, checksums: Mapping[str, str], size: int | None) -> bytes:
    path = src.where(name)
    expected = checksums.get(name)
    if expected is None:
        raise StoreError(f"{path}: not listed in the snapshot manifest; refusing to read an unlisted file")
    data, digest = read_hashed(src, name, size=size)
    if digest != expected:
        raise StoreError(f"{path}: checksum differs from the manifest (corrupt or altered); run 'matcher batch' again")
    return data  # type: ignore[return-value]  # a bytearray: bytes-like, not copied again


def _verified_npy_header(src: Source, name: str, checksums: Mapping[str, str], size: int | None) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of a .npy file whose sha256 matches ``checksums``, hashed in chunks (never held whole)."""
    path = src.where(name)
    expected = checksums.get(name)
    if expected is None:
        raise StoreError(f"{path}: not listed in the snapshot manifest; refusing to read an unlisted file")
    h = hashlib.sha256()
    head = b""
    # The header is parsed from the very bytes that were hashed.
    for chunk in src.iter(name, size=size):
        if len(head) < NPY_HEADER_MAX:
            head += chunk[: NPY_HEADER_MAX - len(head)]
        h.update(chunk)
    if h.hexdigest() != expected:
        raise StoreError(f"{path}: checksum differs from the manifest (corrupt or altered); run 'matcher batch' again")
    import io

    try:
        bio = io.BytesIO(head)
        version = np.lib.format.read_magic(bio)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read(bio)
    except ValueError as exc:
        raise StoreError(f"{path}: not a plain .npy array ({exc})") from None
    if fortran or dtype.hasobject:
        raise StoreError(f"{path}: not a plain C-ordered .npy array; run 'matcher batch' again")
    return tuple(shape), dtype


def _npy_from_bytes(data: bytes, path: str) -> np.ndarray:
    import io

    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as exc:
        raise StoreError(f"{path}: not a plain .npy array ({exc})") from None
