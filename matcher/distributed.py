"""The nightly batch's heavy steps on a Ray cluster: ``matcher batch --engine ray``.

:class:`RayStages` is handed to :func:`matcher.batch.run_batch` (``engine="ray"``) and runs four
steps of the run on Ray, each through the same code the local engine runs, so the published snapshot
is the local engine's:

* **reading the inputs**: each part of a table given as a folder of part files is read and converted
  (parsed, checked, its bad values reported) by a Ray task of its own (:meth:`RayStages.map_parts`),
  which fetches the part from its URL when the driver's copy is not on its machine; the duplicate ids
  and the quarantine report, which need every part, are settled on the driver, in part order;
* **embedding**: the texts the embedding cache does not hold, one chunk of
  :func:`matcher.embed.embed_groups` per call, through ``Dataset.map_batches`` on an actor pool
  (``ray.data.ActorPoolStrategy``, one chunk in flight per actor, so the next goes to whichever
  actor is free), each actor loading the encoder once with as many threads as it
  has CPUs (and on a GPU of its own when the cluster has GPUs); the cache's content hashes decide
  what is encoded, so unchanged text never is;
* **post signals**: :func:`matcher.signals.post_signals` (the patterns for sponsorship, disclosure and
  brand safety, the expensive part of the signals) with ``groupby(...).map_groups(...)`` over groups
  of whole creators, the hash shuffle's partition count set from the number of posts;
* **candidate search**: the brands' topical candidates from creator shards (:class:`ShardedIndex`),
  one FAISS index per shard in an actor (with one shard, the snapshot's own index shipped to it), each shard's top ``k`` merged to the global top ``k``; the
  reranker and its calibration then run as on the local engine.

A table of one file, the creator-level signals (they compare creators with their platform and tier
across the whole collection), the index the snapshot serves, the audit and the snapshot's files (manifest last)
stay with the driver, on the local engine's code. Ray is imported only here and only when a run asks
for it: ``import matcher`` and ``matcher --help`` never load it.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from matcher.config import EmbedConfig, IndexConfig
from matcher.embed import Encoder
from matcher.errors import ConfigError, MatcherError
from matcher.files import MappedFile, Memory
from matcher.index import VectorIndex
from matcher.schema import Hit
from matcher.signals import POST_SIGNAL_COLUMNS, post_signals
from matcher.store.snapshot import index_files

__all__ = ["RayStages", "ShardedIndex", "SHARD_CREATORS", "POSTS_PER_PARTITION"]

logger = logging.getLogger(__name__)

#: Creators per search shard when the number of shards is not given.
SHARD_CREATORS = 1_000_000
#: Posts per hash-shuffle partition of the post-signal step (Ray's default is 200 partitions, whatever the size).
POSTS_PER_PARTITION = 250_000
#: Searches :meth:`ShardedIndex.search_each` has asked the actors for and not yet collected.
SEARCHES_IN_FLIGHT = 16


def _ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401  # Ray Data ships in the 'data' extra of ray
    except ImportError as exc:
        raise ConfigError(f"the Ray engine needs Ray Data ({exc}); install it with: pip install 'matcher[ray]'") from None
    return ray


class RayStages:
    """Runs embedding, post signals and the brands' candidate search of a batch run on Ray.

    Args:
        address: the cluster to join (``"auto"``: the one ``ray start`` started on this machine, or
            ``ray://host:10001``); None starts Ray on this machine for the run. When Ray is already
            initialised in this process, that session is used and left running.
        actors: size of the encoding actor pool; None: the cluster's CPUs less one, so the pool
            never takes every CPU (Ray Data's other tasks would starve and the run hang).
        actor_cpus: CPUs per actor; the encoder runs that many threads, FAISS as many.
        shards: creator shards of the candidate search; None: one per :data:`SHARD_CREATORS` creators.
        gpus: encode on the cluster's GPUs: each encoding actor asks Ray for one GPU and runs the
            model there (``embed.device = "cuda"``), one actor per GPU unless ``actors`` says
            otherwise. None: when the cluster has any; False: never.

    Use it as a context manager (``run_batch`` does): entering starts or joins Ray, leaving stops
    the actors it made (and Ray, if it started it).
    """

    name = "ray"

    def __init__(
        self, *, address: str | None = None, actors: int | None = None, actor_cpus: int = 1, shards: int | None = None, gpus: bool | None = None,
    ) -> None:
        for what, value in (("actors", actors), ("shards", shards)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ConfigError(f"{what} must be a whole number >= 1 (or None for the default), got {value!r}")
        if isinstance(actor_cpus, bool) or not isinstance(actor_cpus, int) or actor_cpus < 1:
            raise ConfigError(f"actor_cpus must be a whole number >= 1, got {actor_cpus!r}")
        self.address = address
        self.actors = actors
        self.actor_cpus = actor_cpus
        self.shards = shards
        if gpus is not None and not isinstance(gpus, bool):
            raise ConfigError(f"gpus must be True, False or None (use them when the cluster has any), got {gpus!r}")
        self.gpus = gpus
        self._started = False
        self._actors: list[Any] = []

    # -- the session ----------------------------------------------------------------------------
    def __enter__(self) -> RayStages:
        ray = _ray()
        if not ray.is_initialized():
            try:
                ray.init(address=self.address, include_dashboard=False, configure_logging=False, log_to_driver=False)
            except ConnectionError as exc:
                raise ConfigError(
                    f"cannot join the Ray cluster at {self.address!r} ({exc}); start it with 'ray start --head' on this node, "
                    "or leave out --address to start Ray on this machine for the run"
                ) from None
            self._started = True
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        resources = ray.cluster_resources()
        self.cpus_ = int(resources.get("CPU", 1))
        self.gpus_ = int(resources.get("GPU", 0))
        if self.gpus and not self.gpus_:
            raise ConfigError("the Ray engine was asked to encode on GPUs, but the cluster has none; leave gpus unset to use them only when there are some")
        logger.info(
            "Ray engine: %d CPUs and %d GPUs in the cluster, %d encoding actor(s) of %d CPU(s)%s",
            self.cpus_, self.gpus_, self.pool_size(), self.actor_cpus, " and 1 GPU each" if self.actor_gpus() else "",
        )
        return self

    def __exit__(self, *exc: object) -> None:
        ray = _ray()
        for actor in self._actors:
            ray.kill(actor)
        self._actors.clear()
        if self._started:
            ray.shutdown()
            self._started = False

    def actor_gpus(self) -> int:
        """GPUs each encoding actor asks for: 1 when the cluster has GPUs (unless ``gpus=False``), else 0."""
        return 1 if self.gpus is not False and getattr(self, "gpus_", 0) > 0 else 0

    def pool_size(self) -> int:
        """The encoding actors: as asked, else one per GPU when they encode on GPUs, else as many as
        fit in the cluster's CPUs less one."""
        if self.actors is not None:
            return self.actors
        cpu_pool = max(1, (getattr(self, "cpus_", 2) - 1) // self.actor_cpus)
        return min(cpu_pool, self.gpus_) if self.actor_gpus() else cpu_pool

    # -- reading the inputs ---------------------------------------------------------------------
    def map_parts(self, fn: Callable[[Any, Any], Any], parts: Sequence[Any], shared: Any) -> list[Any]:
        """The ``map_parts`` of :func:`matcher.ingest.load_dataset`: each part of a table read and
        converted by a Ray task of one CPU, as many at once as the cluster has CPUs, ``shared`` (what
        every part needs, such as the accepted creators' ids) put in the object store once.

        A table of one file is converted here, on the driver: as a task its frame would only be
        copied through the object store. A part's :class:`~matcher.errors.MatcherError` (a file
        that cannot be read) is raised as it is, not wrapped in Ray's task error.
        """
        if len(parts) <= 1:
            return [fn(part, shared) for part in parts]
        ray = _ray()
        task = ray.remote(fn).options(num_cpus=1, max_retries=0)
        ref = ray.put(shared)
        try:
            return ray.get([task.remote(part, ref) for part in parts])
        except ray.exceptions.RayTaskError as exc:
            if isinstance(exc.cause, MatcherError):
                raise exc.cause from None
            raise

    # -- embedding ------------------------------------------------------------------------------
    def encode_parts(self, config: EmbedConfig) -> Callable[[Sequence[Sequence[str]]], Iterator[tuple[int, np.ndarray]]]:
        """The ``encode_parts`` of :func:`matcher.embed.embed_groups`: each part encoded by one actor call."""
        ray = _ray()
        gpus = self.actor_gpus()
        actor_config = replace(config, threads=self.actor_cpus, device="cuda" if gpus else config.device)

        def run(parts: Sequence[Sequence[str]]) -> Iterator[tuple[int, np.ndarray]]:
            if not parts:
                return
            items = [{"part": j, "texts": [str(t) for t in texts]} for j, texts in enumerate(parts)]
            # One part in flight per actor: a part goes to whichever actor is free. Ray Data's default
            # (two per actor) queues a second part behind a busy actor, and parts differ in cost (short
            # captions, long descriptions), so two costly parts could wait on one actor while the
            # other sat idle.
            pool = ray.data.ActorPoolStrategy(size=min(self.pool_size(), len(items)), max_tasks_in_flight_per_actor=1)
            ds = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
                EncodeActor,
                batch_size=1,
                batch_format="numpy",
                compute=pool,
                num_cpus=self.actor_cpus,
                num_gpus=gpus,
                fn_constructor_kwargs={"config": actor_config},
            )
            for row in ds.iter_rows():
                j = int(row["part"])
                flat = np.frombuffer(row["vectors"], dtype="<f4")
                yield j, flat.reshape(len(parts[j]), -1)

        return run

    # -- post signals ---------------------------------------------------------------------------
    def post_signals(
        self, posts: pd.DataFrame, *, early_chars: int = 100, unsafe_words: Mapping[str, tuple[str, ...]] | None = None, safe_phrases: Sequence[str] = (),
    ) -> pd.DataFrame:
        """:func:`matcher.signals.post_signals` of ``posts`` (aligned with them), computed on Ray by groups of whole creators."""
        settings = {"early_chars": early_chars, "unsafe_words": dict(unsafe_words or {}), "safe_phrases": tuple(safe_phrases)}
        if len(posts) == 0:
            return post_signals(posts, **settings)
        ray = _ray()
        frame = pd.DataFrame({"_pos": np.arange(len(posts), dtype=np.int64), "creator_id": posts["creator_id"].astype(str).to_numpy()})
        if "text" in posts:
            frame["text"] = posts["text"].astype(object).where(posts["text"].notna(), None).to_numpy()
        if "sponsored" in posts:
            frame["sponsored"] = posts["sponsored"].astype(object).where(posts["sponsored"].notna(), None).to_numpy()
        partitions = max(1, min(math.ceil(len(posts) / POSTS_PER_PARTITION), 4 * getattr(self, "cpus_", 2)))
        # A group per creator would cost one pandas call per creator: groups are buckets of whole
        # creators instead (a creator's posts always land in one bucket), as many as the partitions allow.
        buckets = max(1, 4 * partitions)
        frame["_bucket"] = (pd.util.hash_pandas_object(frame["creator_id"], index=False).to_numpy() % np.uint64(buckets)).astype(np.int64)
        cuts = np.linspace(0, len(frame), partitions + 1).astype(np.int64)
        ds = ray.data.from_pandas([frame.iloc[lo:hi] for lo, hi in zip(cuts[:-1], cuts[1:]) if hi > lo])
        out = ds.groupby("_bucket", num_partitions=partitions).map_groups(post_signals_of_group, batch_format="pandas", fn_kwargs=settings).to_pandas()
        if len(out) != len(posts):
            raise RuntimeError(f"post signals came back for {len(out)} of {len(posts)} posts")
        out = out.sort_values("_pos", kind="mergesort")
        result = pd.DataFrame({c: out[c].to_numpy() for c in POST_SIGNAL_COLUMNS}, index=posts.index)
        return result.astype({"is_sponsored": bool, "is_promo": bool, "disclosure": "float64", "unsafe": object})

    # -- candidate search -----------------------------------------------------------------------
    def ranking_index(
        self, snapshot: Any, config: IndexConfig, *, files: Mapping[str, bytes | MappedFile] | None = None, checksums: Mapping[str, str] | None = None
    ) -> ShardedIndex:
        """A :class:`ShardedIndex` over the snapshot's index: its creators in shards, each searched by an actor.

        ``files`` and ``checksums``: the index's files as :meth:`VectorIndex.save` wrote them (the
        batch's checkpoint files, mapped) and their SHA-256, for a single shard to take.
        """
        index = snapshot.index
        n = int(index.size)
        shards = self.shards or max(1, math.ceil(n / SHARD_CREATORS))
        params = {"exact_max": config.exact_max, "hnsw_m": config.hnsw_m, "ef_construction": config.ef_construction, "ef_search": config.ef_search}
        sharded = ShardedIndex(
            index.vectors_, [str(i) for i in index.ids_], shards=shards, actors=min(shards, self.pool_size()), actor_cpus=self.actor_cpus,
            params=params, built=index, files=files, checksums=checksums,
        )
        self._actors.extend(sharded.actors_)
        return sharded


class EncodeActor:
    """One encoding actor: the encoder loaded once, its threads set to the actor's CPUs (``config.threads``)."""

    def __init__(self, config: EmbedConfig) -> None:
        self.encoder = Encoder(config).load()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = [self.encoder.encode([str(t) for t in texts]).astype("<f4").tobytes() for texts in batch["texts"]]
        return {"part": np.asarray(batch["part"], dtype=np.int64), "vectors": np.array(vectors, dtype=object)}


def post_signals_of_group(group: pd.DataFrame, **settings: Any) -> pd.DataFrame:
    """:func:`matcher.signals.post_signals` of one group of posts, with their positions (``_pos``)."""
    group = group.reset_index(drop=True)
    sig = post_signals(group, **settings)
    return pd.concat([group[["_pos"]], sig.reset_index(drop=True)], axis=1)


class ShardSearcher:
    """An actor's shards of the creator index: one :class:`VectorIndex` per shard, FAISS told its threads here."""

    def __init__(self, threads: int) -> None:
        import faiss

        faiss.omp_set_num_threads(threads)
        self.parts: dict[int, VectorIndex] = {}

    def add(self, lo: int, vectors: np.ndarray, ids: list[str], params: dict[str, int]) -> int:
        self.parts[lo] = VectorIndex(**params).build(vectors, ids)
        return self.parts[lo].size

    def take(self, lo: int, files: dict[str, np.ndarray], checksums: dict[str, str]) -> int:
        """Take an index built elsewhere as the shard starting at row ``lo``: the files
        :meth:`VectorIndex.save` writes (as byte arrays), loaded only after each matches its checksum."""
        self.parts[lo] = VectorIndex.load(Memory(files, where=f"shard {lo}"), checksums=checksums, sizes={name: len(data) for name, data in files.items()})
        return self.parts[lo].size

    def search(self, queries: np.ndarray, k: int, allowed_bits: np.ndarray | None, n: int) -> list[list[tuple[int, float, str]]]:
        allowed = None if allowed_bits is None else np.unpackbits(allowed_bits, count=n).astype(bool)
        out: list[list[tuple[int, float, str]]] = [[] for _ in range(len(queries))]
        for lo, index in self.parts.items():
            mask = None if allowed is None else allowed[lo : lo + index.size]
            if mask is not None and not mask.any():
                continue
            for i, hits in enumerate(index.search(queries, k, allowed=mask)):
                out[i].extend((h.row + lo, h.score, h.id) for h in hits)
        return out


class ShardedIndex:
    """The creators of an index in contiguous shards, searched side by side by Ray actors.

    :meth:`search` answers as :meth:`VectorIndex.search` does over all rows: each shard returns its
    own top ``k`` among its allowed rows, and the merge keeps the global top ``k`` (equal scores
    ordered by row), so an exact search gives the same candidates as one exact index. With one
    shard and ``built`` (the index the driver built over these rows), the actor takes that index's
    files instead of building the graph again, and answers exactly as it does: ``files`` with their
    ``checksums`` when they are on disk already (mapped files are put in Ray's object store without a
    copy in the driver's memory), else the files ``built`` saves.
    """

    def __init__(
        self, vectors: np.ndarray, ids: Sequence[str], *, shards: int, actors: int, actor_cpus: int, params: Mapping[str, int],
        built: VectorIndex | None = None, files: Mapping[str, bytes | MappedFile] | None = None, checksums: Mapping[str, str] | None = None,
    ) -> None:
        ray = _ray()
        n = len(ids)
        self.size = n
        self.dim = int(vectors.shape[1])
        self.bounds_ = np.linspace(0, n, max(1, min(shards, n)) + 1).astype(np.int64) if n else np.zeros(2, dtype=np.int64)
        remote = ray.remote(ShardSearcher).options(num_cpus=actor_cpus)
        self.actors_ = [remote.remote(actor_cpus) for _ in range(max(1, actors))]
        pending = []
        if built is not None and len(self.bounds_) == 2 and n and built.size == n:
            # One shard: the index the driver built already (``built``, over these rows), shipped as its
            # files, instead of a second build of the same graph with the actor's CPUs.
            if files is None or checksums is None:
                files = index_files(built)
                checksums = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
            # As arrays, Ray copies their pages straight into its object store (no pickled copy first).
            arrays = {name: np.frombuffer(data, dtype=np.uint8) for name, data in files.items()}
            pending.append(self.actors_[0].take.remote(0, ray.put(arrays), dict(checksums)))
            del arrays
        else:
            for s, (lo, hi) in enumerate(zip(self.bounds_[:-1].tolist(), self.bounds_[1:].tolist())):
                if hi > lo:
                    actor = self.actors_[s % len(self.actors_)]
                    pending.append(actor.add.remote(lo, np.ascontiguousarray(vectors[lo:hi]), list(ids[lo:hi]), dict(params)))
        try:
            built_rows = sum(ray.get(pending))
        except BaseException:
            for actor in self.actors_:  # their CPUs back to the cluster, not held until collected
                ray.kill(actor)
            raise
        logger.info("candidate search: %d creators in %d shard(s) on %d actor(s)", built_rows, len(pending), len(self.actors_))

    def search(self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None) -> list[list[Hit]]:
        """The ``k`` most similar creators for each query row among the ``allowed`` rows, best first."""
        ray = _ray()
        q = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        answers = ray.get(self._asked(q, k, allowed))
        return [self._merged(answers, i, k) for i in range(q.shape[0])]

    def search_each(self, requests: Iterable[tuple[np.ndarray, int, np.ndarray | None]], *, in_flight: int = SEARCHES_IN_FLIGHT) -> list[list[Hit]]:
        """Each request's hits, as ``search(query, k, allowed=allowed)[0]`` answers it.

        The requests go to the actors without waiting for the answers before them, up to
        ``in_flight`` at once: the driver prepares the next masks while the actors search, and
        shards on several actors search side by side. The answers are those of one call each.
        """
        ray = _ray()
        out: list[list[Hit]] = []
        pending: deque[tuple[list[Any], int]] = deque()

        def collect() -> None:  # the oldest search asked, answered
            refs, want = pending.popleft()
            out.append(self._merged(ray.get(refs), 0, want))

        for query, k, allowed in requests:
            pending.append((self._asked(np.atleast_2d(np.asarray(query, dtype=np.float32)), k, allowed), k))
            if len(pending) >= max(1, in_flight):
                collect()
        while pending:
            collect()
        return out

    def _asked(self, queries: np.ndarray, k: int, allowed: np.ndarray | None) -> list[Any]:
        """Every actor's search of ``queries``, asked and not yet answered."""
        bits = None if allowed is None else np.packbits(np.asarray(allowed, dtype=bool))
        return [a.search.remote(queries, k, bits, self.size) for a in self.actors_]

    @staticmethod
    def _merged(answers: Sequence[list[list[tuple[int, float, str]]]], i: int, k: int) -> list[Hit]:
        """Query ``i``'s global top ``k`` from every actor's hits (equal scores ordered by row)."""
        merged = sorted((h for answer in answers for h in answer[i]), key=lambda h: (-h[1], h[0]))[:k]
        return [Hit(id=cid, row=int(row), score=float(score)) for row, score, cid in merged]
