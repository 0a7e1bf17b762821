"""Where input tables are: a path or a URL, of one file or of a folder of part files.

A URL (``s3://bucket/key.csv``; any fsspec URL: ``s3://`` through s3fs from the ``s3`` extra,
``gs://`` with gcsfs, ``https://``, ``file://``) is fetched once, to a local file. The copy keeps
the object's file name, so its extension still says its format, and it stands in for the URL:
:class:`FetchedFile` is a path (``os.fspath`` gives the local copy) whose ``str`` is the URL, so
every error and the quarantine report name the URL, not the copy.

A table may also be a folder of part files, as Spark, Hive, BigQuery or Ray write them: a local
directory, or a URL ending in ``/``. Its parts are the files directly in it, in name order, except
hidden and marker files (names starting with ``.`` or ``_``: ``.part-0.crc``, ``_SUCCESS``); a
subfolder is refused rather than skipped, so no part is left out unnoticed.

The batch fetches each input given as a URL before its first stage, into a temporary folder of the
store's local directory that it removes once the tables are read: the bytes it fingerprints for its
checkpoints are then the bytes it parses, even when an object is replaced on the bucket during the run.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from matcher.errors import InputFileError, MatcherError

__all__ = ["FetchedFile", "FetchStopped", "fetch", "fetched_copy", "side_by_side", "is_url", "is_part_name", "part_files", "folder_digest", "FETCH_THREADS"]

logger = logging.getLogger(__name__)

_CHUNK = 8 << 20
T = TypeVar("T")
#: Files fetched at once: the batch's inputs given as URLs, and the parts of one folder.
FETCH_THREADS = 4


def is_url(location: object) -> bool:
    """True for an fsspec URL (``s3://...``, ``memory://...``, ``file://...``), of an input or a
    store; False for a path, which never holds ``://``."""
    return isinstance(location, str) and "://" in location


class FetchedFile(os.PathLike[str]):
    """The local copy of a fetched input: a path to the copy that prints as the URL it came from.

    Attributes:
        url: where the file (or folder of parts) was fetched from.
        path: the local copy.
        size: its size in bytes (a folder's: its parts' total).
        sha256: the hex SHA-256 of its bytes, computed as they arrived (a folder's: its
            :func:`folder_digest`).
        parts: a folder's part names, each with the hex SHA-256 of its bytes; empty for a file.
    """

    __slots__ = ("url", "path", "size", "sha256", "parts")

    def __init__(self, url: str, path: Path, size: int, sha256: str, parts: dict[str, str] | None = None) -> None:
        self.url, self.path, self.size, self.sha256 = url, path, size, sha256
        self.parts = dict(parts or {})

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"FetchedFile({self.url!r}, path={str(self.path)!r}, size={self.size}, sha256={self.sha256[:12]!r}...)"


def is_part_name(name: str) -> bool:
    """Whether a file in a table folder is one of its parts: not hidden, not a marker (``_SUCCESS``)."""
    return not name.startswith((".", "_"))


def part_files(folder: Path, shown: str) -> list[Path]:
    """The part files of a local table folder, in name order (``shown`` names the folder in errors).

    Raises:
        InputFileError: the folder holds a subfolder, or no part file.
    """
    entries = sorted((p for p in folder.iterdir() if is_part_name(p.name)), key=lambda p: p.name)
    _check_parts(shown, [p.name for p in entries if p.is_dir()], [p.name for p in entries if not p.is_dir()])
    return [p for p in entries if not p.is_dir()]


def _check_parts(shown: str, folders: list[str], files: list[str]) -> None:
    if folders:
        raise InputFileError(
            f"{shown}: holds folder(s) {', '.join(folders[:5])}; a table folder holds its part files directly "
            "(partitioned subfolders are not read): give each folder as its own table, or move the parts up"
        )
    if not files:
        raise InputFileError(f"{shown}: holds no table files (names starting with '.' or '_' are not parts); check the folder")


def folder_digest(parts: list[tuple[str, str]]) -> str:
    """One SHA-256 for a folder of parts, from each part's name and SHA-256 in name order: the same
    for the same files whether they were read from a directory or fetched from a URL."""
    h = hashlib.sha256()
    for name, digest in parts:
        h.update(f"{name}\x00{digest}\x00".encode())
    return h.hexdigest()


def fetch(url: str, directory: str | Path, *, stop: threading.Event | None = None, **storage_options: Any) -> FetchedFile:
    """Copy the file at ``url`` into ``directory`` (created if needed), under the URL's file name;
    or, for a URL ending in ``/``, the folder's part files into a folder of that name.

    Args:
        url: an fsspec URL of one file, or of a folder of part files (ending in ``/``).
        directory: where the copy goes; a file or folder of the same name there is an error, not replaced.
        stop: once set (by :func:`side_by_side` when another fetch failed), the copy ends at its next
            chunk, removed, instead of running to its end.
        storage_options: passed to the file system (for S3: ``endpoint_url``, ``key``, ...; by
            default s3fs reads the usual AWS environment variables and files).

    Returns:
        The copy; for a folder, ``sha256`` is its :func:`folder_digest` and ``size`` its parts' total.

    Raises:
        InputFileError: the URL names no file (or a folder without the ``/``), it cannot be read (not
            found, access denied, network), the folder holds a subfolder or no part, or the file
            system it needs is not installed; the message says which and what to do.
    """
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise InputFileError(f"{url}: reading an input from a URL needs fsspec; pip install 'matcher[s3]'") from None
    try:
        fs, remote = url_to_fs(url, **storage_options)
    except ImportError as exc:
        raise InputFileError(f"{url}: no file system for this URL is installed ({exc}); for s3:// URLs pip install 'matcher[s3]'") from None
    except ValueError as exc:
        raise InputFileError(f"{url}: no file system for this URL ({exc}); give a path, or a URL such as s3://bucket/creators.csv") from None
    name = remote.rstrip("/").rsplit("/", 1)[-1]
    if not name:
        raise InputFileError(f"{url}: names no file or folder; give the URL of a table file, or of a folder of parts ending in '/'")
    started = time.perf_counter()
    if url.endswith("/"):
        fetched = _fetch_folder(fs, remote.rstrip("/"), url, Path(directory) / name, stop or threading.Event())
    else:
        # Object stores open a prefix as an empty file: ask what the name is first (not from a
        # listing an earlier call cached; a folder's parts come from its own fresh listing).
        fs.invalidate_cache(remote)
        try:
            kind = fs.info(remote).get("type")
        except OSError as exc:
            raise _fetch_error(url, exc) from None
        if kind == "directory":
            raise _fetch_error(url, IsADirectoryError(url))
        target = Path(directory) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        size, digest = _copy(fs, remote, target, url, stop)
        fetched = FetchedFile(url, target, size, digest)
    logger.info("fetched %s (%.1f MB) in %.1f s", url, fetched.size / 1e6, time.perf_counter() - started)
    return fetched


@contextmanager
def fetched_copy(url: str) -> Iterator[FetchedFile]:
    """:func:`fetch` of ``url`` into a temporary directory of ``$TMPDIR``, removed when the block ends."""
    with tempfile.TemporaryDirectory(prefix="matcher-fetch-") as tmp:
        yield fetch(url, tmp)


def _fetch_folder(fs: Any, remote: str, url: str, target: Path, stop: threading.Event) -> FetchedFile:
    # A file system instance is shared across calls and caches listings: list the folder as it is now.
    fs.invalidate_cache(remote)
    try:
        entries = fs.ls(remote, detail=True)
    except FileNotFoundError:
        entries = []
    except OSError as exc:
        raise _fetch_error(url, exc) from None
    if not entries:
        raise InputFileError(f"{url}: not found, or an empty folder; check the URL (for S3: the bucket and the prefix)")
    named = sorted(((str(e["name"]).rstrip("/").rsplit("/", 1)[-1], e) for e in entries), key=lambda t: t[0])
    named = [(n, e) for n, e in named if is_part_name(n)]
    _check_parts(url, [n for n, e in named if e.get("type") == "directory"], [n for n, e in named if e.get("type") != "directory"])
    target.mkdir(parents=True)  # a folder of that name already there is the caller's mistake: FileExistsError
    try:
        done = side_by_side([(_copy, (fs, str(e["name"]), target / n, f"{url.rstrip('/')}/{n}", stop)) for n, e in named], stop=stop)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)  # every copy has ended: none is left behind
        raise
    digests = {n: digest for (n, _), (_, digest) in zip(named, done)}
    return FetchedFile(url, target, sum(size for size, _ in done), folder_digest(list(digests.items())), digests)


class FetchStopped(MatcherError, RuntimeError):
    """A fetch given ``stop`` ended early because it was set: another fetch failed. :func:`side_by_side`
    raises that failure, never this."""


def side_by_side(calls: Sequence[tuple[Callable[..., T], tuple[Any, ...]]], *, stop: threading.Event | None = None) -> list[T]:
    """Each ``fn(*args)`` of ``calls``, up to :data:`FETCH_THREADS` at once; their results in order.

    On a failure the calls not yet started are cancelled, ``stop`` is set (calls given it, such as
    :func:`fetch`, then end at their next chunk instead of copying to the end), and the failure is
    raised once every call already running has ended, so the caller can clean up after all of them.
    The failure raised is the first in call order other than a call that ended because of ``stop``.
    """
    if not calls:
        return []
    with ThreadPoolExecutor(min(FETCH_THREADS, len(calls)), thread_name_prefix="matcher-fetch") as pool:
        futures = [pool.submit(fn, *args) for fn, args in calls]
        try:
            wait(futures, return_when=FIRST_EXCEPTION)  # a failure is seen when it happens, not in call order
        except BaseException:  # interrupted while waiting: the copies end at their next chunk
            _stop(futures, stop)
            raise
        failures = [f.exception() for f in futures if f.done() and not f.cancelled() and f.exception() is not None]
        if not failures:
            return [f.result() for f in futures]
        _stop(futures, stop)
        wait(futures)
        failures = [f.exception() for f in futures if not f.cancelled() and f.exception() is not None]
        raise next((e for e in failures if not isinstance(e, FetchStopped)), failures[0])  # type: ignore[misc]


def _stop(futures: Sequence[Future[Any]], stop: threading.Event | None) -> None:
    """The calls not yet started cancelled, and those running told to end (``stop``)."""
    if stop is not None:
        stop.set()
    for f in futures:
        f.cancel()


def _fetch_error(url: str, exc: BaseException) -> InputFileError:
    """What went wrong reading ``url``, and what to do."""
    if isinstance(exc, IsADirectoryError):
        return InputFileError(f"{url}: names a folder, not a file; end the URL with '/' to read the folder's part files")
    if isinstance(exc, FileNotFoundError):
        return InputFileError(f"{url}: not found; check the URL (for S3: the bucket and the key)")
    if isinstance(exc, PermissionError):
        return InputFileError(
            f"{url}: access denied ({exc}); check the credentials (for S3: AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or ~/.aws) and that they may read this object"
        )
    return InputFileError(f"{url}: cannot be fetched ({type(exc).__name__}: {exc}); check the URL and the network")


def _copy(fs: Any, remote: str, target: Path, url: str, stop: threading.Event | None = None) -> tuple[int, str]:
    """Copy the file ``remote`` to ``target``, hashing it as it arrives; its size and hex SHA-256.
    Once ``stop`` is set the copy ends (:class:`FetchStopped`) at its next chunk."""
    dst = open(target, "xb")  # a name taken twice is the caller's mistake: FileExistsError
    try:
        with dst:
            digest = hashlib.sha256()
            with fs.open(remote, "rb") as src:
                while chunk := src.read(_CHUNK):
                    if stop is not None and stop.is_set():
                        raise FetchStopped(url)
                    digest.update(chunk)
                    dst.write(chunk)
    except BaseException as exc:
        target.unlink(missing_ok=True)  # no partial copy is left behind
        if isinstance(exc, OSError):
            raise _fetch_error(url, exc) from None
        raise
    return target.stat().st_size, digest.hexdigest()
