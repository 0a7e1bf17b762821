"""The embedded store: verified, versioned snapshot directories, an atomic 'current' pointer and
rollback, the lock, and the run state (run history, suppression list: SQLite in the store, or
PostgreSQL shared by several machines, :mod:`matcher.store.state`).

Durable writes and crash hooks are in :mod:`matcher.store.durable`, file bytes in
:mod:`matcher.store.formats`, the in-memory snapshot in :mod:`matcher.store.snapshot`, a run's
checkpoints in :mod:`matcher.store.checkpoints`.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import io
import json
import logging
import os
import shutil
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from matcher.audience import CREATORS_FILE as AUDIENCE_CREATORS
from matcher.audience import MANIFEST_FIELD as AUDIENCE_FIELD
from matcher.audience import SIGNATURES_FILE as AUDIENCE_SIGNATURES
from matcher.audience import AudienceSketch
from matcher.errors import StoreError
from matcher.fetch import is_url
from matcher.files import Source, check_name, read_hashed
from matcher.index import IDS_FILE, INDEX_FILE, META_FILE, VECTORS_FILE, VectorIndex
from matcher.niches import MODEL_FILE as NICHE_MODEL_FILE
from matcher.niches import NicheModel
from matcher.store.blobs import Blobs, StoreBusyError, StoreWriteError, default_work_dir, open_blobs
from matcher.prices import creator_plan
from matcher.store.checkpoints import Checkpoints
from matcher.store.durable import TMP_PREFIX, DurableFile, crash_point, sha256
from matcher.store.formats import NPY_HEAD, PARQUET_TAIL, npy_header, parquet_rows, read_parquet_bytes
from matcher.store.state import RunState, SqliteState, StateBusyError, open_state
from matcher.store.snapshot import (
    BRAND_NICHES_FILE,
    COLLABORATIONS_FILE,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    MATCH_COLUMNS,
    MATCHES_FILE,
    SHORTLIST_PICKS_FILE,
    SHORTLISTS_FILE,
    Snapshot,
    order_key,
    snapshot_files,
)

__all__ = [
    "POINTER",
    "PUBLISHED_FILE",
    "LOCK_FILE",
    "DB_FILE",
    "MAX_MANIFEST_BYTES",
    "MAX_POINTER_BYTES",
    "Store",
    "StoreBusyError",
    "StoreWriteError",
]

logger = logging.getLogger(__name__)

POINTER = "CURRENT"
PUBLISHED_FILE = "published.json"
LOCK_FILE = "batch.lock"
DB_FILE = "matcher.sqlite"

# The manifest and the small store-level files are JSON of a few kB; a larger one is not ours.
MAX_MANIFEST_BYTES = 64 << 20
MAX_POINTER_BYTES = 4096

T = TypeVar("T")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# How long taking the lock waits for a reader's probe (:meth:`Store.locked`) to let go: a probe
# holds it for microseconds, a run for minutes.
_LOCK_PATIENCE_S = 0.5


def _flock_soon(fd: int) -> None:
    """Take the exclusive lock, retrying briefly; raises BlockingIOError if another process keeps it."""
    deadline = time.monotonic() + _LOCK_PATIENCE_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


class Store:
    """A directory (or an object-store URL) holding snapshots, the pointer to the published one,
    checkpoints and ``matcher.sqlite``.

    Layout::

        STORE/CURRENT                    id of the published snapshot (swapped atomically)
        STORE/published.json             ids of the retained snapshots that passed audit and were published
        STORE/snapshots/<id>/            one complete snapshot: manifest.json + plain files (never changed
                                         after it is written; erasure writes a new revision <id>-r<n>)
        STORE/work/<key>/                checkpoints of an unfinished batch run
        STORE/batch.lock                 held (flock) while a batch, forget or rollback runs
        STORE/matcher.sqlite             run history, suppression list (WAL mode), unless ``db`` is given
        STORE/cache/embeddings.sqlite    embedding cache keyed by content hash

    The root may be an fsspec URL (``s3://bucket/prefix``): the snapshots, ``CURRENT`` and
    ``published.json`` live there (see :mod:`matcher.store.blobs`), while ``matcher.sqlite``, the
    embedding cache, checkpoints and the lock file live in a local work directory, ``root``
    (``work_dir``, else one directory per URL under the user's cache directory). A batch on
    object storage also holds the store's lease object (docs/object-storage.md).

    With ``db`` (``postgresql://...``) the run history and the suppression list live in that
    PostgreSQL database instead, shared by every machine given the same URL, and each published
    snapshot's matches are copied there and read from there (:mod:`matcher.store.state`).

    Args:
        root: the store directory, or its URL.
        work_dir: the local work directory of a store on object storage (ignored for a directory,
            which is its own).
        db: a PostgreSQL URL for the shared run state; None keeps it in ``matcher.sqlite``.
    """

    def __init__(self, root: str | Path, *, work_dir: str | Path | None = None, db: str | None = None) -> None:
        #: Where the snapshot files are: the store directory, or its URL.
        self.blobs: Blobs = open_blobs(root)
        #: The store as given: a directory path, or a URL.
        self.location: Path | str = self.blobs.location
        #: The local directory: the store directory itself, or a URL store's work directory.
        self.root = Path(root) if not is_url(root) else Path(work_dir) if work_dir is not None else default_work_dir(str(root))
        self.db = db
        self._state: RunState | None = None
        self._matches_cache: dict[str, tuple[tuple[Any, ...], pd.DataFrame]] = {}

    @classmethod
    def of(cls, store: str | Path | Store, *, db: str | None = None) -> Store:
        """``store`` itself if it is a :class:`Store`, else the store at that directory or URL (with
        its run state in ``db`` when given)."""
        return store if isinstance(store, Store) else cls(store, db=db)

    def __str__(self) -> str:
        return str(self.location)

    def __repr__(self) -> str:
        return f"Store({str(self.location)!r})"

    def _key(self, *names: str) -> str:
        return "/".join(names)

    # -- paths ------------------------------------------------------------------------------
    @property
    def snapshots_dir(self) -> Path:
        """Directory of snapshot directories of a store directory (a store on object storage keeps
        them at its URL: see :meth:`snapshot_location`)."""
        return self.root / "snapshots"

    @property
    def cache_path(self) -> Path:
        """Path of the embedding cache."""
        return self.root / "cache" / "embeddings.sqlite"

    @property
    def work_dir(self) -> Path:
        """Directory of checkpoints of unfinished runs."""
        return self.root / "work"

    @property
    def state(self) -> RunState:
        """The run state: PostgreSQL when the store was opened with ``db``, else ``matcher.sqlite`` here.

        Raises:
            StateError: ``db`` is not a PostgreSQL URL.
        """
        if self._state is None:
            self._state = open_state(self.db, sqlite_path=self.root / DB_FILE)
        return self._state

    def connect(self) -> sqlite3.Connection:
        """Open the store's own SQLite database (created on first use), in WAL mode so readers never block."""
        return SqliteState(self.root / DB_FILE).connect()

    # -- lock -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _flock(self, purpose: str) -> Iterator[None]:
        """Hold the local directory's exclusive lock (``flock``) for the block; released even if the process dies.

        With a PostgreSQL run state, a lock kept there is held too, so processes on machines that
        share the store and the database (not the lock file) never overlap either.

        Raises:
            StoreBusyError: another process holds it; the message names that process.
        """
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreWriteError(f"{self.root / LOCK_FILE}: cannot open the store's lock file ({exc.strerror or exc}); check that {self.root} is a writable directory") from None
        try:
            try:
                _flock_soon(fd)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
                raise StoreBusyError(
                    f"{self.root}: the store is locked by {holder}; batch runs never overlap. Wait for it to "
                    f"finish (or stop that process), then run again"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"'{purpose}' (pid {os.getpid()}, since {_now()})\n".encode(), 0)
            with contextlib.ExitStack() as held:
                try:
                    held.enter_context(self.state.run_lock())  # a shared run state: also against other machines
                except StateBusyError as exc:
                    raise StoreBusyError(f"{exc}; batch runs never overlap. Wait for it to finish (or stop that process), then run again") from None
                yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    @contextlib.contextmanager
    def lock(self, purpose: str = "batch") -> Iterator[None]:
        """Hold the store's exclusive lock for the block: the local ``flock``, and on object storage
        also the store's lease object (:class:`~matcher.store.blobs.Lease`).

        Raises:
            StoreBusyError: another process holds it; the message names that process.
        """
        with self._flock(purpose), self.blobs.hold(purpose):
            yield

    def locked(self) -> bool:
        """True while some process holds the store's lock (a batch, forget or rollback is running).

        Probes with a shared lock taken and released at once; :meth:`lock` waits out such a probe.
        On object storage, a live lease of another process counts too.
        """
        if self.blobs.held_elsewhere():
            return True
        try:
            fd = os.open(self.root / LOCK_FILE, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # releases the probe's lock, if it was taken
        return False

    def clean_temporaries(self) -> int:
        """Remove temporaries left by a killed process (call with the lock held). Returns how many."""
        removed = 0
        parents = [self.root, self.snapshots_dir]
        if self.work_dir.is_dir():
            parents += [self.work_dir, *(p for p in self.work_dir.rglob("*") if p.is_dir())]
        for parent in parents:
            if not parent.is_dir():
                continue
            for p in list(parent.iterdir()):
                if not p.name.startswith(TMP_PREFIX):
                    continue
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)
                removed += 1
        removed += self.blobs.clean_temporaries("snapshots", complete=MANIFEST)
        if removed:
            logger.info("removed %d temporary file(s) left by an interrupted run", removed)
        return removed

    # -- writing ----------------------------------------------------------------------------
    def write_snapshot_files(self, snapshot_id: str, files: Mapping[str, bytes | DurableFile], *, fields: Mapping[str, Any] | None = None) -> Path | str:
        """Write a complete snapshot (not yet published). Returns its directory or URL.

        Files are given as bytes, or as already durable files (checkpoints, as
        :class:`~matcher.store.durable.DurableFile` with the checksum of the bytes written there,
        which is listed without hashing the file again), which are hard-linked when possible. In a directory, everything goes to a temporary directory, is
        fsynced and listed in the manifest with its sha256 and size; the directory is renamed into
        place last. On object storage, every object is read back and checked before the manifest,
        written last, lists it (:meth:`Blobs.write_dir <matcher.store.blobs.Blobs.write_dir>`).

        Raises:
            OSError: a write, link or fsync failed (the temporary directory is removed).
        """
        check_name(snapshot_id, self.blobs.where("snapshots"))

        def manifest(listing: dict[str, dict[str, Any]]) -> bytes:
            return json.dumps({
                **dict(fields or {}),
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "snapshot_id": snapshot_id,
                "created_at": _now(),
                "files": listing,
            }, indent=2, sort_keys=True, default=str).encode()

        self.blobs.write_dir(self._key("snapshots", snapshot_id), files, last=MANIFEST, finish=manifest)
        crash_point("snapshot-renamed")
        return self.snapshot_location(snapshot_id)

    def snapshot_location(self, snapshot_id: str, name: str | None = None) -> Path | str:
        """A snapshot's directory (or URL), or one of its files."""
        key = self._key("snapshots", snapshot_id, *([name] if name else []))
        return self.root / key if isinstance(self.location, Path) else self.blobs.where(key)

    def snapshot_source(self, snapshot_id: str) -> Source:
        """A snapshot's files as a :class:`~matcher.files.Source` (for ``VectorIndex.load``)."""
        check_name(snapshot_id, self.blobs.where("snapshots"))
        return self.blobs.source(self._key("snapshots", snapshot_id))

    def write_snapshot(self, snap: Snapshot, *, extra_files: Mapping[str, bytes] | None = None, meta: Mapping[str, Any] | None = None) -> Path:
        """Write an in-memory snapshot (plus ``extra_files``, e.g. ``matches.parquet``) as a snapshot directory."""
        files: dict[str, bytes | Path] = {**snapshot_files(snap), **dict(extra_files or {})}
        fields = {
            "counts": {"creators": len(snap.creators), "posts": len(snap.posts), "brands": len(snap.brands)},
            "index": {"kind": snap.index.kind_, "size": snap.index.size, "dim": snap.index.dim},
            **({AUDIENCE_FIELD: snap.audience.manifest_field()} if snap.audience is not None else {}),
            **dict(meta or {}),
        }
        path = self.write_snapshot_files(snap.snapshot_id, files, fields=fields)
        snap.manifest = self.read_manifest(snap.snapshot_id)
        return path

    def _read_published(self) -> list[str]:
        try:
            data = json.loads(self.blobs.read(PUBLISHED_FILE, size=None, max_bytes=MAX_MANIFEST_BYTES))
            return [str(x) for x in data["snapshots"]]
        except (FileNotFoundError, StoreError) as exc:
            if self.blobs.exists(PUBLISHED_FILE):
                logger.warning("%s cannot be read (%s); treating only the current snapshot as published", self.blobs.where(PUBLISHED_FILE), exc)
            # A store written before the list existed: its published snapshot is the only one known good.
            cur = self.current_or_none()
            return [cur] if cur else []
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("%s is unreadable (%s); treating only the current snapshot as published", self.blobs.where(PUBLISHED_FILE), exc)
            cur = self.current_or_none()
            return [cur] if cur else []

    def _write_published(self, ids: Iterable[str]) -> None:
        keep = sorted({i for i in ids if self._complete(i)}, key=order_key)
        self.blobs.replace(PUBLISHED_FILE, json.dumps({"format": "matcher.published", "snapshots": keep}, indent=1).encode())

    def published_ids(self) -> list[str]:
        """Ids of the retained snapshots that passed audit and were published, oldest first."""
        return sorted({i for i in self._read_published() if self._complete(i)}, key=order_key)

    def _complete(self, snapshot_id: str) -> bool:
        try:
            check_name(snapshot_id, self.blobs.where("snapshots"))
        except StoreError:
            return False
        return self.blobs.exists(self._key("snapshots", snapshot_id, MANIFEST))

    def snapshot_ids(self) -> list[str]:
        """Ids of every complete snapshot directory (published or not), oldest first."""
        return sorted((i for i in self.blobs.dirs("snapshots") if not i.startswith(".") and self._complete(i)), key=order_key)

    def publish(self, snapshot_id: str, *, replaces: str | None = None) -> None:
        """Make ``snapshot_id`` the one readers see: verify it, list it as published, swap the pointer.

        The pointer is replaced by an atomic rename and its directory fsynced; if that fsync fails the
        previous pointer is put back, so a failed publish leaves the previous snapshot published.

        Args:
            replaces: a published id that ``snapshot_id`` supersedes (an erasure revision).

        Raises:
            StoreError: the snapshot does not exist or fails verification.
            OSError: the list or the pointer could not be written.
        """
        self.verify(snapshot_id)  # never point readers at something that does not verify
        previous = self.current_or_none()
        self.serve_matches(snapshot_id)  # before the pointer: a reader that sees it finds the rows
        ids = [i for i in self.published_ids() if i != replaces] + [snapshot_id]
        self._write_published(ids)
        crash_point("published-list")
        self.blobs.check_held()  # on object storage: refuse if this run's lease was lost meanwhile
        self._swap_pointer(snapshot_id, previous)
        logger.info("published snapshot %s", snapshot_id)

    def serve_matches(self, snapshot_id: str, *, again: bool = True) -> None:
        """Copy a snapshot's stored matches into the run state when it keeps them (PostgreSQL), in
        one transaction; ``again=False`` leaves a copy already there alone. Nothing to do with SQLite."""
        if not self.state.serves_matches or (not again and self.state.has_matches(snapshot_id)):
            return
        self.state.publish_matches(snapshot_id, self.snapshot_matches(snapshot_id))

    def _prune_served(self) -> None:
        if self.state.serves_matches:
            self.state.prune_matches(self.snapshot_ids())

    def _swap_pointer(self, snapshot_id: str, previous: str | None) -> None:
        # In a directory: a temporary file, fsync, rename, fsync of the directory (the old pointer is
        # put back if that last fsync fails). On object storage: one PUT, read back.
        self.blobs.replace_pointer(POINTER, (snapshot_id + "\n").encode(), None if previous is None else (previous + "\n").encode())

    def replace_published(self, old: str, new: str) -> None:
        """List ``new`` as published in place of ``old`` (used when erasure rewrites a snapshot)."""
        self._write_published([i for i in self.published_ids() if i != old] + [new])

    def prune(self, keep: int) -> list[str]:
        """Delete snapshot directories beyond the newest ``keep`` published ones (the current one always stays).

        Unpublished leftovers (from failed or interrupted runs) are deleted too. Call with the lock held.
        Returns the ids removed.
        """
        current = self.current_or_none()
        kept = set(self.published_ids()[-keep:]) | ({current} if current else set())
        removed = []
        for name in self.blobs.dirs("snapshots"):
            if name in kept or name.startswith("."):
                continue
            self.blobs.remove_dir(self._key("snapshots", name), first=MANIFEST)
            removed.append(name)
        if removed:
            logger.info("removed %d old snapshot(s), keeping the newest %d", len(removed), keep)
        self._prune_served()
        return removed

    def remove_snapshot(self, snapshot_id: str) -> None:
        """Delete a snapshot's directory (whether or not it verifies); the caller holds the lock and
        has made sure nothing published points at it."""
        check_name(snapshot_id, self.blobs.where("snapshots"))
        # Its rows in PostgreSQL stay until the next pruning (:meth:`prune`): a replica still serving
        # it while it loads the snapshot that replaced it answers from them. Erasure has already
        # deleted the erased creators' rows from every snapshot.
        # The manifest goes first, so a half-removed directory can never pass for a snapshot.
        self.blobs.remove_dir(self._key("snapshots", snapshot_id), first=MANIFEST)

    def rollback(self, to: str | None = None) -> tuple[str, str]:
        """Publish an earlier retained snapshot again, without recomputing anything.

        Args:
            to: the snapshot id to return to; default: the newest published one older than the current one
                that verifies.

        Returns:
            ``(previous_id, new_id)``.

        Raises:
            StoreError: nothing is published, ``to`` is not a retained published snapshot, it fails
                verification, or no earlier snapshot exists.
            StoreBusyError: a batch run holds the lock.
        """
        with self.lock("rollback"):
            current = self.current_id()
            published = self.published_ids()
            if to is None:
                target = None
                for sid in self._older(current, published):
                    try:
                        self.verify(sid)
                    except StoreError as exc:
                        logger.warning("skipping snapshot %s: %s", sid, exc)
                        continue
                    target = sid
                    break
                if target is None:
                    raise StoreError(f"{self.location}: no earlier snapshot to roll back to (retained: {', '.join(published) or 'none'})")
            else:
                if to not in published:
                    raise StoreError(
                        f"{self.location}: '{to}' is not a retained published snapshot; choose one of: {', '.join(published) or 'none'} "
                        "('matcher runs' shows which run made each)"
                    )
                self.verify(to)
                target = to
            if target != current:
                self.blobs.check_held()
                self.serve_matches(target, again=False)
                self._swap_pointer(target, current)
        logger.info("rolled back from snapshot %s to %s", current, target)
        self.record_run(f"rollback-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S%fZ')}", status="rollback", started_at=_now(), finished_at=_now(), snapshot_id=target, details={"from": current, "to": target})
        return current, target

    # -- reading ----------------------------------------------------------------------------
    def current_id(self) -> str:
        """The published snapshot's id.

        Raises:
            StoreError: nothing has been published in this store.
        """
        try:
            if not self.blobs.exists(POINTER):
                raise FileNotFoundError(self.blobs.where(POINTER))
            value = self.blobs.read(POINTER, size=None, max_bytes=MAX_POINTER_BYTES).decode("utf-8", "replace").strip()
        except FileNotFoundError:
            raise StoreError(
                f"{self.location}: no published snapshot; run 'matcher batch --store {self.location} ...' first"
            ) from None
        if not value or "/" in value or "\\" in value or "\x00" in value or value.startswith("."):
            raise StoreError(f"{self.blobs.where(POINTER)}: does not name a snapshot; run 'matcher batch' again")
        return value

    def current_or_none(self) -> str | None:
        """The published snapshot's id, or None when nothing is published (or the pointer is unreadable)."""
        try:
            return self.current_id()
        except StoreError:
            return None

    def read_manifest(self, snapshot_id: str) -> dict[str, Any]:
        """Read and check a snapshot's manifest (format and version first).

        Raises:
            StoreError: missing, unreadable, or written by an incompatible version.
        """
        check_name(snapshot_id, self.blobs.where("snapshots"))
        key = self._key("snapshots", snapshot_id, MANIFEST)
        path = self.blobs.where(key)
        where = self.blobs.where(self._key("snapshots", snapshot_id))
        try:
            if not self.blobs.exists(key):
                raise FileNotFoundError(path)
            manifest = json.loads(self.blobs.read(key, size=None, max_bytes=MAX_MANIFEST_BYTES))
        except FileNotFoundError:
            raise StoreError(f"{path}: snapshot manifest missing; run 'matcher batch' again") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise StoreError(f"{path}: manifest is not valid JSON ({exc}); run 'matcher batch' again") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
            got = manifest if not isinstance(manifest, dict) else manifest.get("format_version")
            raise StoreError(
                f"{path}: format version {got!r}; this matcher reads {FORMAT!r} version {FORMAT_VERSION}: "
                "rebuild the store with 'matcher batch'"
            )
        if not isinstance(manifest.get("files"), dict):
            raise StoreError(f"{path}: manifest lists no files; run 'matcher batch' again")
        # Every name is a plain file of the snapshot directory, with a stated size and checksum,
        # before anything it names is opened.
        for name, meta in manifest["files"].items():
            check_name(name, where)
            if name == MANIFEST or not isinstance(meta, dict) or not isinstance(meta.get("sha256"), str) or isinstance(meta.get("bytes"), bool) or not isinstance(meta.get("bytes"), int) or meta["bytes"] < 0:
                raise StoreError(f"{path}: the entry for {name!r} has no valid size and sha256; run 'matcher batch' again")
        return manifest

    def verify(self, snapshot_id: str) -> dict[str, Any]:
        """Check that every file of a snapshot is present with the manifest's size and sha256, that
        each ``.npy`` and Parquet file has a plain header, and that the per-creator files agree in
        size. Returns the manifest.

        Files are streamed in chunks: memory stays flat however large the snapshot. In a store
        directory two files are checked at a time (hashing lets go of the GIL, so a snapshot of
        gigabytes is checked on two cores); on object storage one at a time. Whichever files fail,
        the error names the first of them in the manifest's order.

        Raises:
            StoreError: the manifest is bad, or a file is missing, truncated, altered or unreadable.
        """
        manifest = self.read_manifest(snapshot_id)
        src = self.snapshot_source(snapshot_id)
        names = list(manifest["files"])
        check = functools.partial(self._verify_file, snapshot_id, src)
        if isinstance(self.location, Path) and len(names) > 1:
            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="matcher-verify") as pool:
                done = [pool.submit(check, name, manifest["files"][name]) for name in names]
                wait(done)
            got = [f.result() for f in done]  # the first failure in the manifest's order is raised
        else:
            got = [check(name, manifest["files"][name]) for name in names]
        rows = {name: n for name, n in zip(names, got) if n is not None}
        n = rows.get("creators.parquet")
        if n is not None and (rows.get(IDS_FILE, n) != n or rows.get("post_offsets.npy", n + 1) != n + 1 or rows.get("signals.parquet", n) != n):
            where = self.blobs.where(self._key("snapshots", snapshot_id))
            raise StoreError(f"{where}: creators, index and posts disagree in size; run 'matcher batch' again")
        return manifest

    def _verify_file(self, snapshot_id: str, src: Source, name: str, meta: Mapping[str, Any]) -> int | None:
        """Check one file of :meth:`verify`; returns its rows (``.npy`` and Parquet files) or None."""
        path = src.where(name)
        if not self.blobs.exists(self._key("snapshots", snapshot_id, name)):
            raise StoreError(f"{path}: missing from snapshot {snapshot_id}; run 'matcher batch' again or 'matcher rollback'")
        h = hashlib.sha256()
        head = b""
        parquet = name.endswith(".parquet")
        tail: deque[bytes] = deque()  # the last PARQUET_TAIL bytes (or a little more), for the footer
        kept = 0
        for chunk in src.iter(name, size=meta["bytes"]):
            h.update(chunk)
            if len(head) < NPY_HEAD:
                head += chunk[: NPY_HEAD - len(head)]
            if parquet:
                tail.append(chunk)
                kept += len(chunk)
                while kept - len(tail[0]) >= PARQUET_TAIL:
                    kept -= len(tail.popleft())
        if h.hexdigest() != meta["sha256"]:
            raise StoreError(f"{path}: checksum differs from the manifest (corrupt, truncated or altered); run 'matcher batch' again or 'matcher rollback'")
        # The headers too, so that a file whose manifest entry was rewritten to match it is
        # refused here as it would be by a full load.
        try:
            if name.endswith(".npy"):
                return int((npy_header(head)[0] or (1,))[0])
            if parquet:
                return parquet_rows(b"".join(tail)[-PARQUET_TAIL:])
        except ValueError as exc:
            raise StoreError(f"{path}: not a readable {name.rsplit('.', 1)[-1]} file ({exc}); run 'matcher batch' again or 'matcher rollback'") from None
        return None

    def _older(self, current: str, published: list[str] | None = None) -> list[str]:
        published = self.published_ids() if published is None else published
        return sorted((i for i in published if order_key(i) < order_key(current)), key=order_key, reverse=True)

    def _first_good(self, read: Callable[[str], T]) -> tuple[str, T]:
        """``read`` the published snapshot, or else the newest earlier one that reads, with a warning."""
        current = self.current_id()
        try:
            return current, read(current)
        except StoreError as exc:
            first = exc
        logger.warning("published snapshot %s cannot be served: %s", current, first)
        for sid in self._older(current):
            try:
                value = read(sid)
            except StoreError as exc:
                logger.warning("earlier snapshot %s cannot be served either: %s", sid, exc)
                continue
            logger.warning(
                "serving the earlier snapshot %s instead of %s; run 'matcher batch' to publish a good one, "
                "or 'matcher rollback' to make this one current", sid, current,
            )
            return sid, value
        raise StoreError(f"{first}; no earlier snapshot verifies either") from None

    def resolve(self) -> str:
        """Id of the snapshot readers are served (see :meth:`served`), decided by :meth:`verify`
        (every file's checksum and header, the sizes agreeing) without loading the snapshot: a
        reader of one file, or the batch looking for its parent, holds no more than a file's chunk.

        Raises:
            StoreError: nothing published, or no retained snapshot can be served.
        """
        return self._first_good(self.verify)[0]

    def served(self) -> Snapshot:
        """The snapshot every reader serves: the published one if it loads, else the newest earlier one that does.

        This is the one decision of what is served: ``recommend()``, the HTTP service, ``matcher
        export``, ``matcher matches``, ``read_matches()`` and ``evaluate_store`` all take it from
        here. A snapshot is good when every file matches its checksum *and* parses (the ``.npy``
        arrays as plain arrays, the Parquet tables, the FAISS index, sizes that agree); a published
        snapshot that fails either test is skipped with a warning. ``served_for`` names the
        published id. :meth:`resolve` names the same snapshot without loading it: it checks the
        checksums and each file's header (:meth:`verify`), which finds every damage a full load
        finds short of a file whose body is corrupt under a plain header *and* whose manifest entry
        was rewritten to match it.

        Raises:
            StoreError: nothing published, or no retained snapshot can be served.
        """
        current = self.current_id()
        _, snap = self._first_good(self._load)
        snap.served_for = current
        return snap

    def load(self, snapshot_id: str | None = None) -> Snapshot:
        """Load and verify a snapshot.

        Without ``snapshot_id``: the published snapshot, or, if it fails verification, the newest earlier
        published one that passes (with a warning); ``served_for`` then names the published id. With
        ``snapshot_id``: exactly that snapshot. Every file's sha256 is checked against the manifest
        before it is parsed; no pickle is ever read (``.npy`` with ``allow_pickle=False``, Parquet, JSON,
        FAISS from the verified bytes).

        Raises:
            StoreError: nothing published, or the snapshot (and every fallback) is missing, altered or truncated.
        """
        if snapshot_id is not None:
            return self._load(snapshot_id)
        return self.served()

    def blob_reader(self, sid: str, manifest: Mapping[str, Any]) -> Callable[[str], bytes]:
        """A function giving the bytes of one of snapshot ``sid``'s files, read inside the snapshot
        and checked against ``manifest`` (its checksum and size).

        The function raises :class:`StoreError` when the file is not in the manifest or its bytes differ.
        """
        src = self.snapshot_source(sid)
        sums = {name: meta["sha256"] for name, meta in manifest["files"].items()}
        sizes = {name: meta["bytes"] for name, meta in manifest["files"].items()}

        def blob(name: str) -> bytes:
            if name not in sums:
                raise StoreError(f"{src.where(name)}: not listed in the manifest of snapshot {sid}; run 'matcher batch' again")
            data, digest = read_hashed(src, name, size=sizes[name])
            if digest != sums[name]:
                raise StoreError(f"{src.where(name)}: checksum differs from the manifest (corrupt or altered); run 'matcher batch' again or 'matcher rollback'")
            return data  # type: ignore[return-value]  # a bytearray: bytes-like, not copied again

        return blob

    def _load(self, sid: str) -> Snapshot:
        manifest = self.read_manifest(sid)
        src = self.snapshot_source(sid)
        d = src.where("").rstrip("/")
        blob = self.blob_reader(sid, manifest)
        sums = {name: meta["sha256"] for name, meta in manifest["files"].items()}
        sizes = {name: meta["bytes"] for name, meta in manifest["files"].items()}

        def npy(name: str) -> np.ndarray:
            try:
                return np.load(io.BytesIO(blob(name)), allow_pickle=False)
            except ValueError as exc:
                raise StoreError(f"{src.where(name)}: not a plain .npy array ({exc}); run 'matcher batch' again") from None

        def parquet(name: str) -> pd.DataFrame:
            data = blob(name)
            try:
                return read_parquet_bytes(data)
            except Exception as exc:  # pyarrow raises several types for a malformed file
                raise StoreError(f"{src.where(name)}: not a readable Parquet file ({type(exc).__name__}); run 'matcher batch' again") from None

        for name in manifest["files"]:
            if not self.blobs.exists(self._key("snapshots", sid, name)):
                raise StoreError(f"{src.where(name)}: missing from snapshot {sid}; run 'matcher batch' again or 'matcher rollback'")
        index_files_names = {INDEX_FILE, VECTORS_FILE, IDS_FILE, META_FILE}
        try:
            index = VectorIndex.load(src, checksums=sums, sizes=sizes)
        except (RuntimeError, ValueError, KeyError) as exc:
            raise StoreError(f"{d}: the index cannot be read ({exc}); run 'matcher batch' again") from None
        snap = Snapshot(
            snapshot_id=sid,
            creators=parquet("creators.parquet"),
            signals=parquet("signals.parquet"),
            posts=parquet("posts.parquet"),
            post_vectors=npy("post_vectors.npy"),
            post_offsets=npy("post_offsets.npy"),
            index=index,
            brands=parquet("brands.parquet"),
            manifest=manifest,
            niche_model=NicheModel.from_files(blob, where=d) if NICHE_MODEL_FILE in manifest["files"] else None,
            brand_niches=parquet(BRAND_NICHES_FILE) if BRAND_NICHES_FILE in manifest["files"] else None,
            collaborations=parquet(COLLABORATIONS_FILE) if COLLABORATIONS_FILE in manifest["files"] else None,
            audience=AudienceSketch.from_files(blob, manifest.get(AUDIENCE_FIELD) or {}, where=str(d)) if AUDIENCE_SIGNATURES in manifest["files"] else None,
        )
        if len(snap.creators) != index.size or len(snap.post_offsets) != len(snap.creators) + 1:
            raise StoreError(f"{d}: creators, index and posts disagree in size; run 'matcher batch' again")
        # The files not parsed here (matches, quarantine, config) are checked too, so that every
        # reader agrees on whether a snapshot is good.
        parsed = {"creators.parquet", "signals.parquet", "posts.parquet", "post_vectors.npy", "post_offsets.npy", "brands.parquet", BRAND_NICHES_FILE, COLLABORATIONS_FILE, *index_files_names}
        if snap.audience is not None:
            parsed |= {AUDIENCE_SIGNATURES, AUDIENCE_CREATORS}
        for name in manifest["files"]:
            if name not in parsed:
                blob(name)
        return snap

    def _matches(self, sid: str, *, full_check: bool = False) -> pd.DataFrame:
        check_name(sid, self.blobs.where("snapshots"))
        manifest_key = self._key("snapshots", sid, MANIFEST)
        stamp = self.blobs.stamp(manifest_key)
        if stamp is None:
            raise StoreError(f"{self.blobs.where(manifest_key)}: snapshot manifest missing; run 'matcher batch' again")
        cached = self._matches_cache.get(sid)
        if cached is not None and cached[0] == stamp and not full_check:
            return cached[1]
        manifest = self.verify(sid) if full_check else self.read_manifest(sid)
        if MATCHES_FILE not in manifest["files"]:
            raise StoreError(f"{self.blobs.where(self._key('snapshots', sid))}: snapshot has no stored matches; run 'matcher batch' again")
        frame = read_parquet_bytes(self.blob_reader(sid, manifest)(MATCHES_FILE))
        if "weak" not in frame.columns:  # written before the relevance floor existed
            frame.insert(list(MATCH_COLUMNS).index("weak"), "weak", False)
        if len(self._matches_cache) >= 4:
            self._matches_cache.pop(next(iter(self._matches_cache)))
        self._matches_cache[sid] = (stamp, frame)
        return frame

    def creator_plan(self, snapshot_id: str) -> pd.DataFrame:
        """Each creator's price range and trust confidence (:func:`matcher.prices.creator_plan`) from
        snapshot ``snapshot_id``'s per-creator table, checked against its manifest."""
        import pyarrow.parquet as pq

        manifest = self.read_manifest(snapshot_id)
        data = self.blob_reader(snapshot_id, manifest)("signals.parquet")
        try:
            names = set(pq.ParquetFile(io.BytesIO(data)).schema_arrow.names)
            wanted = ["creator_id", "price_low", "price_high", "price_basis", "trust_confidence", "n_posts", "comments_seen", "history_days"]
            frame = pd.read_parquet(io.BytesIO(data), columns=[c for c in wanted if c in names])
        except Exception as exc:  # pyarrow raises several types for a malformed file
            raise StoreError(f"{self.snapshots_dir / snapshot_id / 'signals.parquet'}: not a readable Parquet file ({type(exc).__name__}); run 'matcher batch' again") from None
        return creator_plan(frame)

    def read_matches(self, snapshot_id: str | None = None, *, brand_id: str | None = None) -> pd.DataFrame:
        """Stored matches of a snapshot, ordered by brand and rank.

        Without ``snapshot_id``: those of the snapshot readers are served (:meth:`served`).
        With it: that snapshot's. They are read from the run state when it keeps them (PostgreSQL),
        else from the snapshot's ``matches.parquet``, checked against its manifest.

        Raises:
            StoreError: nothing published, or the matches fail verification.
        """
        sid = self.resolve() if snapshot_id is None else snapshot_id
        if self.state.serves_matches:
            kept = self.state.read_matches(sid, brand_id=brand_id)
            if kept is not None:
                return kept
            logger.warning("the matches of snapshot %s are not in %s; reading them from the snapshot's file", sid, self.state.where())
        frame = self._matches(sid)
        if brand_id is not None:
            return frame[frame["brand_id"] == brand_id].reset_index(drop=True)
        return frame.copy()

    def read_collaborations(self, snapshot_id: str | None = None) -> pd.DataFrame | None:
        """A snapshot's ``collaborations.parquet`` (the creators' past collaborations), checked
        against its manifest; None for a snapshot written before collaborations were stored.

        Raises:
            StoreError: nothing published, or the file fails verification.
        """
        sid = self.resolve() if snapshot_id is None else snapshot_id
        manifest = self.read_manifest(sid)
        if COLLABORATIONS_FILE not in manifest["files"]:
            return None
        return read_parquet_bytes(self.blob_reader(sid, manifest)(COLLABORATIONS_FILE))

    def snapshot_matches(self, snapshot_id: str) -> pd.DataFrame:
        """The stored matches in a snapshot's own file (``matches.parquet``, checked against its
        manifest), whichever run state the store keeps."""
        return self._matches(snapshot_id).copy()

    # -- run history ------------------------------------------------------------------------
    def read_shortlists(self, snapshot_id: str | None = None, *, brand_id: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The nightly batch's shortlists: one row per brand with a budget, and one row per pick
        (:func:`~matcher.store.snapshot.shortlist_frames`), each checked against the manifest.

        Raises:
            StoreError: nothing published, the snapshot has no shortlists (written before they
                existed), or a file fails verification.
        """
        sid = self.resolve() if snapshot_id is None else snapshot_id
        manifest = self.read_manifest(sid)
        if SHORTLISTS_FILE not in manifest["files"]:
            raise StoreError(f"{self.snapshots_dir / sid}: snapshot has no stored shortlists (written before they existed); run 'matcher batch' again")
        blob = self.blob_reader(sid, manifest)
        summary, picks = read_parquet_bytes(blob(SHORTLISTS_FILE)), read_parquet_bytes(blob(SHORTLIST_PICKS_FILE))
        if brand_id is not None:
            summary = summary[summary["brand_id"] == brand_id].reset_index(drop=True)
            picks = picks[picks["brand_id"] == brand_id].reset_index(drop=True)
        return summary, picks

    def record_run(self, run_id: str, *, status: str, started_at: str, finished_at: str | None = None, snapshot_id: str | None = None, details: Mapping[str, Any] | None = None) -> None:
        """Insert or update a row of the run history."""
        self.state.record_run(run_id, status=status, started_at=started_at, finished_at=finished_at, snapshot_id=snapshot_id, details=details)

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest ``limit`` rows of the run history (batch runs, rollbacks, erasures), newest first.

        A run recorded as ``running`` while nobody holds the store's lock was killed (its lock died
        with it): it is shown as ``interrupted`` at once, as the next run will record it.
        """
        rows = self.state.run_rows(limit)
        running = {r[0] for r in rows if r[3] == "running"}
        if running and not self.locked() and not self.state.run_lock_held():
            # Read again after the probe: a run that finished in between has its final status by now,
            # and one read as 'running' before the probe that still is has lost its lock, so its
            # process is gone (a run started after the probe is not among them).
            rows = self.state.run_rows(limit)
            published = set(self._read_published())
            rows = [
                (*r[:3], "published" if r[4] in published else "interrupted", *r[4:]) if r[3] == "running" and r[0] in running else r
                for r in rows
            ]
        out = []
        for run_id, started, finished, status, sid, details in rows:
            try:
                parsed = json.loads(details) if details else {}
            except json.JSONDecodeError:
                parsed = {}
            out.append({"run_id": run_id, "started_at": started, "finished_at": finished, "status": status, "snapshot_id": sid, "details": parsed})
        return out

    def mark_interrupted(self) -> int:
        """Close the history rows of runs that died while 'running' (call with the lock held). Returns how many."""
        return self.state.close_running(self._read_published())

    # -- suppression (erased creators) ------------------------------------------------------
    @staticmethod
    def suppression_key(creator_id: str) -> str:
        """The hash under which a forgotten creator is kept out (the list never spells out ids)."""
        return sha256(("matcher.suppressed\x00" + str(creator_id)).encode("utf-8", "surrogatepass"))

    def suppress(self, creator_ids: Iterable[str]) -> int:
        """Add creators to the suppression list (and, where the run state keeps stored matches,
        delete their rows in the same transaction). Returns how many were not on it yet."""
        ids = sorted({str(c) for c in creator_ids})
        return self.state.suppress({self.suppression_key(c) for c in ids}, creator_ids=ids)

    def suppressed_keys(self) -> frozenset[str]:
        """Hashes of every suppressed creator id."""
        return self.state.suppressed_keys()

    def carry_over_suppressed(self) -> int:
        """With a PostgreSQL state: add the suppression list of the store's own SQLite file to it.

        Batch runs and ``matcher forget`` call this under the lock, so creators erased before the
        store moved to PostgreSQL (or by a command run without ``--db``) stay out. Returns how
        many were new there.
        """
        local = self.root / DB_FILE
        if not self.state.shared or not local.exists():
            return 0
        added = self.state.suppress(SqliteState(local).suppressed_keys())
        if added:
            logger.warning("added %d erased creator(s) from %s to the suppression list in %s", added, local, self.state.where())
        return added

    def suppression_version(self) -> int:
        """A number that changes whenever the suppression list does (0 while it is empty)."""
        return self.state.suppression_version()

    def forget_legacy_matches(self, creator_ids: Iterable[str]) -> None:
        """Delete the creators' rows from the SQLite matches table of stores written before matches
        moved into snapshots, or from the stored matches kept in PostgreSQL."""
        self.state.forget_matches(sorted({str(c) for c in creator_ids}))

    # -- checkpoints ------------------------------------------------------------------------
    def checkpoints(self, key: str) -> Checkpoints:
        """The checkpoints of the run identified by ``key`` (see :class:`Checkpoints`)."""
        return Checkpoints(self.work_dir, key)

    def clear_checkpoints(self) -> None:
        """Discard the checkpoints of every unfinished run."""
        shutil.rmtree(self.work_dir, ignore_errors=True)
