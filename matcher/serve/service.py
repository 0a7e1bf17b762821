"""The state behind the app: the :class:`Matcher` over the served snapshot, the brief cache and the worker pool."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from matcher.config import Config, Weights
from matcher.embed import CachingEncoder, Encoder, QueryCache
from matcher.engine import Matcher, brand_of, shortlist_matches
from matcher.request import RequestError
from matcher.schema import Match, NicheScore, Shortlist
from matcher.serve.admission import DEFAULT_TIMEOUT_S, Admission, ServiceBusy
from matcher.serve.models import LoadOut, RecommendRequest, ShortlistRequest
from matcher.store import Snapshot, Store

__all__ = ["Service", "Served"]

T = TypeVar("T")


class _SnapshotView:
    """Per-snapshot lookups built once: facets for the page, brand ids for the 404 check."""

    def __init__(self, snap: Snapshot) -> None:
        self.snapshot_id = snap.snapshot_id
        c = snap.creators
        self.platforms = sorted(str(v) for v in c["platform"].dropna().unique()) if "platform" in c else []
        self.countries = sorted(str(v) for v in c["country"].dropna().unique()) if "country" in c else []
        brands = snap.brands
        self.brand_ids = set(brands["brand_id"].astype(str)) if "brand_id" in brands else set()


@dataclass(frozen=True)
class Served:
    """A snapshot and its lookups, replaced together as one reference so a request never mixes two."""

    snapshot: Snapshot
    view: _SnapshotView


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _serving_embed(config: Config) -> Config:
    """``config`` with one encoder thread per request unless ``embed.threads`` is set.

    Requests run side by side, one per core. A second ONNX Runtime thread per request speeds up a
    brief alone on an idle machine, but waits for a core whenever another request or process runs,
    and under load it made the 30 requests/s run queue up to the deadline
    (``benchmarks/results/serve_load.md``, README "Load").
    """
    if config.embed.threads:
        return config
    return dataclasses.replace(config, embed=dataclasses.replace(config.embed, threads=1))


def _worker_init() -> None:
    # FAISS's OpenMP setting is per thread (libgomp), so each worker sets its own: one query at a
    # time per worker, and the cores are already shared out between workers.
    import faiss

    faiss.omp_set_num_threads(1)


class Service:
    """The state behind the app: one :class:`Matcher` and a pool of ``serve.workers`` threads.

    Requests run side by side: encoding (ONNX Runtime) and the index search release the GIL, and
    the reranker only reads the snapshot. Each request takes one reference to the served snapshot
    and uses it throughout. A newly published snapshot is loaded by one request at a time, while the
    others keep serving the previous one, and then swapped in as one reference.

    Admission (:class:`~matcher.serve.admission.Admission`): a request whose queue ahead cannot
    finish before its deadline (at the recent time per job, with a margin) answers 503 at once with
    a ``Retry-After``, instead of waiting the whole deadline for it.
    """

    def __init__(
        self, store: str | Path | Store, *, config: Config | None = None, encoder: Encoder | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
        db: str | None = None,
    ) -> None:
        self.config = config or Config()
        self.store = Store.of(store, db=db)
        if encoder is None:
            encoder = Encoder(_serving_embed(self.config).embed)
        self.encoder = encoder
        # Repeated briefs are answered from the cache: the Matcher encodes through it.
        self.briefs = QueryCache(self.config.serve.brief_cache)
        self.matcher = Matcher(self.store, config=self.config, encoder=CachingEncoder(encoder, self.briefs)).load()
        self.timeout_s = timeout_s
        self.workers = self.config.serve.workers or _cores()
        self._served = Served(self.matcher.snapshot_, _SnapshotView(self.matcher.snapshot_))
        self._refresh_lock = threading.Lock()
        self.admission = Admission(workers=self.workers, timeout_s=timeout_s, initializer=_worker_init)

    def current(self) -> Served:
        """The snapshot to serve from, switching to a newly published one first.

        Raises:
            StoreError: the store's pointer cannot be read.
        """
        # Non-blocking: while one request loads a new snapshot (seconds at 100k creators), the
        # others go on with the one they have rather than queue behind the load.
        if self._refresh_lock.acquire(blocking=False):
            try:
                self.matcher.refresh()
                snap = self.matcher.snapshot_
                if snap is not self._served.snapshot:
                    self._served = Served(snap, _SnapshotView(snap))
            finally:
                self._refresh_lock.release()
        return self._served

    def snapshot(self, deadline: float) -> tuple[Snapshot, _SnapshotView]:
        """The latest published snapshot (switching to it first if it is new) and its lookups."""
        served = self.current()
        return served.snapshot, served.view

    def recommend(self, req: RecommendRequest, weights: Weights | None, deadline: float) -> tuple[str, list[Match], list[NicheScore]]:
        """Run one recommendation. Returns the snapshot id it was served from, the matches and the brief's niches.

        The steps of :meth:`Matcher.recommend` (the Matcher encodes through the brief cache), on one
        snapshot reference taken up front.
        """
        served = self.current()
        queries = self.matcher.queries(
            [req.brief], filters=req.filters.to_filters(), like=tuple(req.like), unlike=tuple(req.unlike), snapshot=served.snapshot,
        )
        if time.monotonic() > deadline:
            raise ServiceBusy()
        matches = self.matcher.rank(queries, req.k, weights=weights, diversity=req.diversity, snapshot=served.snapshot)[0]
        query = queries.vectors[0]
        model = served.snapshot.niche_model
        brief_niches = list(model.assign(query[None, :])[0]) if model is not None else []
        return served.snapshot.snapshot_id, matches, brief_niches

    def shortlist(self, req: ShortlistRequest, deadline: float) -> tuple[str, Shortlist]:
        """Pick one shortlist (the steps of :meth:`Matcher.shortlist`) on one snapshot reference taken up front.

        Raises:
            RequestError: the brand is not in the snapshot, or has no budget and none was given.
        """
        served = self.current()
        snap = served.snapshot
        brief = brand_of(snap, req.brand_id) if req.brand_id is not None else req.brief
        budget = req.budget if req.budget is not None else getattr(brief, "budget", None)
        if budget is None:
            raise RequestError(f"budget: brand {req.brand_id!r} has no budget in the brands file; give one")
        queries = self.matcher.queries([brief], filters=req.filters.to_filters(), snapshot=snap)
        if time.monotonic() > deadline:
            raise ServiceBusy()
        matches = self.matcher.rank(queries, req.k or self.config.shortlist.candidates, snapshot=snap)[0]
        result = shortlist_matches(snap, matches, budget=budget, max_overlap=req.max_overlap, config=self.config.shortlist, brand_id=req.brand_id)
        return snap.snapshot_id, result

    def load(self) -> LoadOut:
        """Queue length, shed requests and brief-cache counts."""
        cache = self.briefs.stats()
        queued, shed = self.admission.counts()
        return LoadOut(workers=self.workers, queued=queued, shed=shed, brief_cache_size=cache.size, brief_cache_hits=cache.hits, brief_cache_misses=cache.misses)

    async def run(self, fn: Callable[..., T], *args: Any, control: bool = False) -> T:
        """Run ``fn(*args, deadline)`` in the worker pool, or on the health thread if ``control``
        (neither queued behind the workers' jobs nor shed nor counted in the queue).

        Raises:
            ServiceOverloaded: the queue ahead cannot finish before the deadline.
            ServiceBusy: the deadline passed before ``fn`` finished.
        """
        return await self.admission.run(fn, *args, control=control)
