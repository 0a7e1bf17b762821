"""Where a store's snapshot files live: a local directory, or an fsspec URL (``s3://bucket/prefix``).

The snapshot side of :class:`~matcher.store.Store` (snapshot files, their manifests, the ``CURRENT``
pointer, the list of published snapshots, temporaries) goes through a :class:`Blobs`:

- :class:`LocalBlobs`, a directory: every file written and fsynced through
  :mod:`matcher.store.durable`, a snapshot directory renamed into place, the pointer replaced by
  an atomic rename.
- :class:`FsspecBlobs`, any fsspec file system (S3 through s3fs, ``memory://``, ``file://``). An
  object store has no rename and no fsync: a snapshot's objects are written under its own prefix,
  each read back and checked (size and sha256) before the manifest is written last; until then
  the prefix is a temporary, removed by the next run. The pointer object is replaced with a single
  PUT (atomic on S3: a reader gets the old or the new id, never a mix) and read back. Object stores
  have no ``flock``: a *lease object* (:class:`Lease`), created only if absent (S3's conditional
  ``If-None-Match: *`` write), keeps a second batch on the same store out.

Keys are ``/``-joined plain names below the root (``snapshots/<id>/manifest.json``); the store
checks each name with :func:`~matcher.files.check_name` before it composes a key, and every read
is bounded by the size the manifest states (:func:`~matcher.files.iter_bounded`).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from matcher.errors import StoreError
from matcher.fetch import is_url
from matcher.files import Directory, Source, check_name, iter_bounded, iter_confined, read_confined
from matcher.store.durable import (
    DurableFile,
    TMP_PREFIX,
    atomic_write,
    count_object,
    crash_point,
    fsync_path,
    sha256,
    write_durable,
)

__all__ = [
    "Blobs",
    "LocalBlobs",
    "FsspecBlobs",
    "Lease",
    "LEASE_FILE",
    "LEASE_TTL_S",
    "StoreBusyError",
    "StoreWriteError",
    "open_blobs",
    "default_work_dir",
]

logger = logging.getLogger(__name__)

#: The lease object of a store on object storage (held while a batch, forget or rollback runs).
LEASE_FILE = "batch.lease"
#: A lease not renewed for this long is taken to be left by a dead process. The holder renews it
#: every quarter of that.
LEASE_TTL_S = 120.0


class StoreBusyError(StoreError):
    """Another process holds the store's lock (a batch, forget or rollback is running)."""


class StoreWriteError(StoreError):
    """Writing to the store failed (disk full, permissions, I/O error); nothing was published."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def default_work_dir(url: str) -> Path:
    """The local directory of a store on object storage when none is given: one directory per URL
    under the user's cache directory (``$XDG_CACHE_HOME`` or ``~/.cache``), ``matcher/stores/<url>-<hash>``."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in url.split("://", 1)[-1]).strip("-.")[:60]
    return base / "matcher" / "stores" / f"{slug}-{hashlib.sha256(url.encode()).hexdigest()[:10]}"


class Blobs:
    """The files of a store below its root, by key (see the module's docstring)."""

    #: The store's location as given: a directory path or a URL.
    location: Path | str

    def where(self, key: str = "") -> str:
        """The key's path or URL, for messages."""
        raise NotImplementedError

    def iter(self, key: str, *, size: int | None) -> Iterator[bytes]:
        """The bytes of a plain file in chunks, exactly ``size`` of them when given.

        Raises:
            StoreError: missing, not a plain file, or of another size.
        """
        raise NotImplementedError

    def read(self, key: str, *, size: int | None, max_bytes: int | None = None) -> bytes:
        """All bytes of a plain file (see :meth:`iter`); ``max_bytes`` bounds a file of unstated size."""
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        raise NotImplementedError

    def dirs(self, key: str) -> list[str]:
        """Names of the directories (prefixes) directly below ``key``; none when it does not exist."""
        raise NotImplementedError

    def stamp(self, key: str) -> tuple[Any, ...] | None:
        """Something that changes when the file is replaced (inode and mtime, or ETag); None when missing."""
        raise NotImplementedError

    def replace(self, key: str, data: bytes) -> None:
        """Replace a small file all at once (readers see the old or the new bytes)."""
        raise NotImplementedError

    def replace_pointer(self, key: str, data: bytes, previous: bytes | None) -> None:
        """Replace the pointer; if it cannot be made durable, put ``previous`` back and raise.

        Calls the crash points ``pointer-written`` (just before readers can see it) and
        ``pointer-swapped`` (just after).
        """
        raise NotImplementedError

    def remove(self, key: str) -> None:
        """Delete a file; nothing when it is missing."""
        raise NotImplementedError

    def remove_dir(self, key: str, *, first: str) -> None:
        """Delete a directory and everything below it, its file ``first`` before the rest."""
        raise NotImplementedError

    def write_dir(self, key: str, files: Mapping[str, bytes | DurableFile], *, last: str, finish: Callable[[dict[str, dict[str, Any]]], bytes]) -> None:
        """Write a directory of files, then the file ``last`` with the bytes ``finish(listing)``, last of all.

        A file is given as bytes, or as a :class:`~matcher.store.durable.DurableFile` (a checkpoint
        file with the checksum of the bytes written to it, listed as it is, not hashed again). ``listing`` maps each name to its
        ``sha256`` and ``bytes``. A directory already at ``key`` is replaced. Calls the crash point
        ``snapshot-files`` once every file but the last is written.

        Raises:
            OSError: a write failed, or a file read back differs (nothing is left at ``key``).
        """
        raise NotImplementedError

    def source(self, key: str) -> Source:
        """The directory ``key`` as a :class:`~matcher.files.Source` (for :meth:`VectorIndex.load`)."""
        raise NotImplementedError

    def clean_temporaries(self, key: str, *, complete: str) -> int:
        """Remove temporaries below ``key`` that a killed process left. Returns how many."""
        raise NotImplementedError

    @contextlib.contextmanager
    def hold(self, purpose: str) -> Iterator[None]:
        """Keep other machines out for the block (a local store: the caller's ``flock`` is enough)."""
        yield

    def check_held(self) -> None:
        """Raise :class:`StoreBusyError` when the lease of :meth:`hold` was lost."""

    def held_elsewhere(self) -> bool:
        """True while a live lease of another process is present."""
        return False


class LocalBlobs(Blobs):
    """A store directory on the local file system (the default)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.location = self.root

    def _path(self, key: str) -> Path:
        return self.root / key if key else self.root

    def where(self, key: str = "") -> str:
        return str(self._path(key))

    def iter(self, key: str, *, size: int | None) -> Iterator[bytes]:
        p = self._path(key)
        return iter_confined(p.parent, p.name, size=size)

    def read(self, key: str, *, size: int | None, max_bytes: int | None = None) -> bytes:
        p = self._path(key)
        return read_confined(p.parent, p.name, size=size, max_bytes=max_bytes)

    def exists(self, key: str) -> bool:
        p = self._path(key)
        return p.exists() or p.is_symlink()

    def dirs(self, key: str) -> list[str]:
        p = self._path(key)
        if not p.is_dir():
            return []
        return sorted(c.name for c in p.iterdir() if c.is_dir() and not c.is_symlink())

    def stamp(self, key: str) -> tuple[Any, ...] | None:
        try:
            st = self._path(key).stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    def replace(self, key: str, data: bytes) -> None:
        atomic_write(self._path(key), data)

    def replace_pointer(self, key: str, data: bytes, previous: bytes | None) -> None:
        path = self._path(key)
        tmp = path.with_name(TMP_PREFIX + path.name)
        try:
            write_durable(tmp, data)
            crash_point("pointer-written")
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        crash_point("pointer-swapped")
        try:
            fsync_path(path.parent)
        except OSError:
            # The new pointer is visible but may not survive a power cut: put the old one back so that
            # a run reporting failure has published nothing.
            try:
                if previous is None:
                    path.unlink(missing_ok=True)
                else:
                    atomic_write(path, previous)
            except OSError as exc:
                logger.error("could not restore the pointer (%s); check %s", exc, path)
            raise

    def remove(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def remove_dir(self, key: str, *, first: str) -> None:
        path = self._path(key)
        (path / first).unlink(missing_ok=True)
        shutil.rmtree(path, ignore_errors=True)

    def write_dir(self, key: str, files: Mapping[str, bytes | DurableFile], *, last: str, finish: Callable[[dict[str, dict[str, Any]]], bytes]) -> None:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(TMP_PREFIX + final.name)
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        try:
            listing: dict[str, dict[str, Any]] = {}
            for name in sorted(files):
                src = files[name]
                if isinstance(src, DurableFile):
                    try:
                        os.link(src.path, tmp / name)
                    except OSError:
                        data = src.path.read_bytes()
                        if len(data) != src.bytes or sha256(data) != src.sha256:
                            raise OSError(f"{src.path}: differs from the bytes written there earlier in this run; run 'matcher batch' again") from None
                        write_durable(tmp / name, data)
                    listing[name] = {"sha256": src.sha256, "bytes": src.bytes}
                else:
                    write_durable(tmp / name, src)
                    listing[name] = {"sha256": sha256(src), "bytes": len(src)}
            crash_point("snapshot-files")
            write_durable(tmp / last, finish(listing))
            fsync_path(tmp)
            if final.exists():
                self.remove_dir(key, first=last)
            os.replace(tmp, final)
            fsync_path(final.parent)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def source(self, key: str) -> Source:
        return Directory(self._path(key))

    def clean_temporaries(self, key: str, *, complete: str) -> int:
        # A local store's temporaries are its '.tmp-' names; Store.clean_temporaries removes them.
        return 0


class FsspecBlobs(Blobs):
    """A store on any fsspec file system: ``s3://bucket/prefix`` (s3fs), ``memory://``, ``file://``.

    Args:
        url: the store's root URL.
        storage_options: passed to the file system (for S3: ``endpoint_url``, ``key``, ``secret``...;
            by default s3fs takes them from the usual AWS environment variables and files).
    """

    def __init__(self, url: str, **storage_options: Any) -> None:
        try:
            from fsspec.core import url_to_fs
        except ImportError:  # pragma: no cover - fsspec comes with the [s3] extra
            raise StoreError(f"{url}: a store on object storage needs fsspec; pip install 'matcher[s3]'") from None
        self.location = url.rstrip("/")
        if url.startswith(("file://", "local://")):
            storage_options.setdefault("auto_mkdir", True)  # object stores have no directories to make
        try:
            self.fs, path = url_to_fs(self.location, **storage_options)
        except ImportError as exc:
            raise StoreError(f"{url}: no file system for this URL ({exc}); for s3:// URLs pip install 'matcher[s3]'") from None
        except ValueError as exc:
            raise StoreError(f"{url}: not a store URL ({exc}); give a directory or a URL such as s3://bucket/prefix") from None
        self.base = path.rstrip("/")
        self._lease: Lease | None = None

    def _path(self, key: str) -> str:
        return f"{self.base}/{key}" if key else self.base

    def where(self, key: str = "") -> str:
        return f"{self.location}/{key}" if key else self.location

    def _info(self, key: str) -> dict[str, Any] | None:
        path = self._path(key)
        self.fs.invalidate_cache(path)
        try:
            return self.fs.info(path)
        except FileNotFoundError:
            return None

    def iter(self, key: str, *, size: int | None) -> Iterator[bytes]:
        where = self.where(key)
        info = self._info(key)
        if info is None:
            raise StoreError(f"{where}: missing; run 'matcher batch' again or 'matcher rollback'")
        if info.get("type") != "file":
            raise StoreError(f"{where}: is not a plain object (a directory); the manifest was altered or written by something else; run 'matcher batch' again or 'matcher rollback'")
        return self._iter(key, int(info["size"]), size, where)

    def _iter(self, key: str, actual: int, size: int | None, where: str) -> Iterator[bytes]:
        try:
            with self.fs.open(self._path(key), "rb") as fh:
                yield from iter_bounded(fh.read, actual=actual, size=size, where=where)
        except FileNotFoundError:
            raise StoreError(f"{where}: missing; run 'matcher batch' again or 'matcher rollback'") from None
        except OSError as exc:
            if exc.errno != errno.EINVAL:  # s3fs: PreconditionFailed, the object's ETag changed mid-read
                raise
            raise StoreError(f"{where}: replaced while it was read ({exc}); read it again") from None

    def read(self, key: str, *, size: int | None, max_bytes: int | None = None) -> bytes:
        if size is None and max_bytes is not None:
            info = self._info(key)
            if info is None:
                raise StoreError(f"{self.where(key)}: missing; run 'matcher batch' again or 'matcher rollback'")
            if int(info["size"]) > max_bytes:
                raise StoreError(f"{self.where(key)}: {info['size']} bytes, over the {max_bytes} bytes such a file may hold; run 'matcher batch' again")
        return b"".join(self.iter(key, size=size))

    def exists(self, key: str) -> bool:
        info = self._info(key)
        return info is not None

    def dirs(self, key: str) -> list[str]:
        path = self._path(key)
        self.fs.invalidate_cache(path)
        try:
            entries = self.fs.ls(path, detail=True)
        except FileNotFoundError:
            return []
        return sorted(e["name"].rstrip("/").rsplit("/", 1)[-1] for e in entries if e.get("type") == "directory")

    def stamp(self, key: str) -> tuple[Any, ...] | None:
        info = self._info(key)
        if info is None:
            return None
        return (info.get("ETag") or info.get("etag") or info.get("mtime") or info.get("LastModified") or info.get("created"), int(info["size"]))

    def _put(self, key: str, data: bytes, *, counted: bool = True, **kwargs: Any) -> None:
        if counted:
            count_object()
        self.fs.pipe_file(self._path(key), data, **kwargs)

    def _check(self, key: str, data: bytes) -> None:
        """Read ``key`` back: it must hold exactly ``data`` (size and sha256)."""
        try:
            got = b"".join(self.iter(key, size=len(data)))
        except StoreError as exc:
            raise OSError(f"{self.where(key)}: read back after writing, it differs ({exc})") from None
        if sha256(got) != sha256(data):
            raise OSError(f"{self.where(key)}: read back after writing, its sha256 differs from what was written")

    def replace(self, key: str, data: bytes) -> None:
        self._put(key, data)
        self._check(key, data)

    def replace_pointer(self, key: str, data: bytes, previous: bytes | None) -> None:
        crash_point("pointer-written")
        self._put(key, data)  # one PUT: readers get the old or the new pointer, never a mix
        crash_point("pointer-swapped")
        try:
            self._check(key, data)
        except OSError:
            try:
                if previous is None:
                    self.remove(key)
                else:
                    self._put(key, previous)
            except OSError as exc:
                logger.error("could not restore the pointer (%s); check %s", exc, self.where(key))
            raise

    def remove(self, key: str) -> None:
        try:
            self.fs.rm_file(self._path(key))
        except FileNotFoundError:
            pass
        self.fs.invalidate_cache(self._path(key))

    def remove_dir(self, key: str, *, first: str) -> None:
        self.remove(f"{key}/{first}")
        path = self._path(key)
        try:
            self.fs.rm(path, recursive=True)
        except FileNotFoundError:
            pass
        self.fs.invalidate_cache(path)

    def write_dir(self, key: str, files: Mapping[str, bytes | DurableFile], *, last: str, finish: Callable[[dict[str, dict[str, Any]]], bytes]) -> None:
        try:
            self.remove_dir(key, first=last)  # a leftover of a killed attempt: nothing of it is kept
            listing: dict[str, dict[str, Any]] = {}
            for name in sorted(files):
                src = files[name]
                if isinstance(src, DurableFile):
                    want = {"sha256": src.sha256, "bytes": src.bytes}
                    count_object()
                    self.fs.put_file(str(src.path), self._path(f"{key}/{name}"))  # streamed, never held whole
                else:
                    want = {"sha256": sha256(src), "bytes": len(src)}
                    self._put(f"{key}/{name}", src)
                # Read back before the manifest may name it: what is listed is what the store holds.
                h = hashlib.sha256()
                try:
                    for chunk in self.iter(f"{key}/{name}", size=want["bytes"]):
                        h.update(chunk)
                except StoreError as exc:
                    raise OSError(f"{self.where(f'{key}/{name}')}: read back after writing, it differs ({exc})") from None
                if h.hexdigest() != want["sha256"]:
                    raise OSError(f"{self.where(f'{key}/{name}')}: read back after writing, its sha256 differs from what was written")
                listing[name] = want
            crash_point("snapshot-files")
            data = finish(listing)
            self._put(f"{key}/{last}", data)  # the commit: without it the prefix is a temporary
            self._check(f"{key}/{last}", data)
        except BaseException:
            with contextlib.suppress(Exception):
                self.remove_dir(key, first=last)
            raise

    def source(self, key: str) -> Source:
        return _Prefix(self, key)

    def clean_temporaries(self, key: str, *, complete: str) -> int:
        """Remove the prefixes below ``key`` that hold no ``complete`` file (a snapshot whose writer
        died before its manifest), and ``.tmp-`` names. Call with the lease held."""
        removed = 0
        for name in self.dirs(key):
            if name.startswith(TMP_PREFIX) or not self.exists(f"{key}/{name}/{complete}"):
                self.remove_dir(f"{key}/{name}", first=complete)
                removed += 1
        return removed

    # -- the lease --------------------------------------------------------------------------
    @contextlib.contextmanager
    def hold(self, purpose: str) -> Iterator[None]:
        lease = Lease(self, purpose).acquire()
        self._lease = lease
        try:
            yield
        finally:
            self._lease = None
            lease.release()

    def check_held(self) -> None:
        if self._lease is not None:
            self._lease.check()

    def held_elsewhere(self) -> bool:
        held = Lease.read(self)
        return held is not None and not Lease.stale(held) and (self._lease is None or held.get("token") != self._lease.token)


class _Prefix:
    """A :class:`~matcher.files.Source` over one prefix of an :class:`FsspecBlobs`."""

    def __init__(self, blobs: FsspecBlobs, key: str) -> None:
        self.blobs, self.key = blobs, key

    def where(self, name: str) -> str:
        return self.blobs.where(f"{self.key}/{name}")

    def iter(self, name: str, *, size: int | None) -> Iterator[bytes]:
        check_name(name, self.blobs.where(self.key))
        return self.blobs.iter(f"{self.key}/{name}", size=size)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Lease:
    """The lease object that keeps a second batch (forget, rollback) off a store on object storage.

    It is created only if absent: on S3 (and S3-compatible servers that support conditional writes)
    with ``If-None-Match: *``, so of two processes that try at once exactly one gets it. Its holder
    renews it every ``ttl / 4`` seconds from a background thread, and re-reads it before it
    replaces the pointer (:meth:`check`). A lease is taken over when its holder is gone: not
    renewed for ``ttl`` seconds, or held by a process of this host that no longer runs.
    """

    def __init__(self, blobs: FsspecBlobs, purpose: str, *, ttl: float = LEASE_TTL_S) -> None:
        self.blobs = blobs
        self.purpose = purpose
        self.ttl = ttl
        self.token = uuid.uuid4().hex
        self._stop = threading.Event()
        self._lost: str | None = None
        self._thread: threading.Thread | None = None

    def _body(self) -> bytes:
        return json.dumps({
            "purpose": self.purpose, "host": socket.gethostname(), "pid": os.getpid(), "token": self.token,
            "since": _now(), "expires": time.time() + self.ttl,
        }).encode()

    @staticmethod
    def read(blobs: FsspecBlobs) -> dict[str, Any] | None:
        """The lease's content; None when there is none."""
        for attempt in range(5):
            try:
                data = json.loads(blobs.read(LEASE_FILE, size=None, max_bytes=64 << 10))
            except StoreError:
                if not blobs.exists(LEASE_FILE):
                    return None
                time.sleep(0.05 * (attempt + 1))  # replaced by its holder's renewal while it was read
                continue
            except ValueError:
                return {"expires": 0}  # not ours or half-written by something else: it protects nothing
            return data if isinstance(data, dict) else {"expires": 0}
        return {"expires": 0}

    @staticmethod
    def stale(held: Mapping[str, Any]) -> bool:
        try:
            if float(held.get("expires", 0)) < time.time():
                return True
        except (TypeError, ValueError):
            return True
        pid = held.get("pid")
        return held.get("host") == socket.gethostname() and isinstance(pid, int) and pid != os.getpid() and not _pid_alive(pid)

    def acquire(self) -> Lease:
        """Take the lease.

        Raises:
            StoreBusyError: a live process holds it; the message names that process.
        """
        for _ in range(3):
            # Read first: a server that ignores the conditional write would otherwise let a second
            # process overwrite a live lease; after the read, the conditional create settles a race.
            held = Lease.read(self.blobs)
            if held is None:
                try:
                    self.blobs._put(LEASE_FILE, self._body(), counted=False, mode="create")
                except FileExistsError:
                    continue  # taken in between: read who has it
                self._thread = threading.Thread(target=self._renew, name="matcher-lease", daemon=True)
                self._thread.start()
                return self
            if not Lease.stale(held):
                raise StoreBusyError(
                    f"{self.blobs.where()}: the store is leased by '{held.get('purpose')}' (pid {held.get('pid')} on "
                    f"{held.get('host')}, since {held.get('since')}); batch runs never overlap. Wait for it to finish; a lease "
                    f"its holder stops renewing lapses after {self.ttl:.0f} s"
                )
            logger.warning(
                "taking over the lease of %s left by '%s' (pid %s on %s, since %s), which is no longer renewed",
                self.blobs.where(), held.get("purpose"), held.get("pid"), held.get("host"), held.get("since"),
            )
            self.blobs.remove(LEASE_FILE)
        raise StoreBusyError(f"{self.blobs.where()}: could not take the store's lease; another process is taking it too. Run again")

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 4):
            try:
                held = Lease.read(self.blobs)
                if held is None or held.get("token") != self.token:
                    self._lost = f"held by '{held.get('purpose')}' (pid {held.get('pid')} on {held.get('host')})" if held else "deleted"
                    return
                self.blobs._put(LEASE_FILE, self._body(), counted=False)
            except Exception as exc:  # a failed renewal is retried; check() refuses once the lease lapsed
                logger.warning("could not renew the lease of %s: %s", self.blobs.where(), exc)

    def check(self) -> None:
        """Raise :class:`StoreBusyError` unless the lease is still this process's own."""
        held = Lease.read(self.blobs)
        lost = self._lost or (None if held is not None and held.get("token") == self.token else (
            f"held by '{held.get('purpose')}' (pid {held.get('pid')} on {held.get('host')})" if held else "deleted"))
        if lost is None and held is not None and float(held.get("expires", 0)) < time.time():
            lost = "lapsed"
        if lost:
            raise StoreBusyError(
                f"{self.blobs.where()}: this run's lease was lost ({lost}) while it ran, so another run may be writing; "
                "nothing was published. Run 'matcher batch' again"
            )

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            held = Lease.read(self.blobs)
            if held is not None and held.get("token") == self.token:
                self.blobs.remove(LEASE_FILE)
        except Exception as exc:  # the lease lapses by itself
            logger.warning("could not release the lease of %s (%s); it lapses after %.0f s", self.blobs.where(), exc, self.ttl)


def open_blobs(root: str | Path) -> Blobs:
    """The :class:`Blobs` of a store root: :class:`FsspecBlobs` for a URL, else :class:`LocalBlobs`."""
    if is_url(root):
        return FsspecBlobs(str(root))
    return LocalBlobs(Path(root))
