"""Input tables on object storage: a URL (``s3://bucket/key.csv``) is fetched once, to a local file.

Any fsspec URL works (``s3://`` through s3fs from the ``s3`` extra, ``gs://`` with gcsfs,
``https://``, ``file://``). The copy keeps the object's file name, so its extension still says its
format, and it stands in for the URL: :class:`FetchedFile` is a path (``os.fspath`` gives the local
copy) whose ``str`` is the URL, so every error and the quarantine report name the URL, not the copy.

The batch fetches each input given as a URL before its first stage, into a temporary folder of the
store's local directory that it removes once the tables are read: the bytes it fingerprints for its
checkpoints are then the bytes it parses, even when an object is replaced on the bucket during the run.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path
from typing import Any

from matcher.errors import InputFileError

__all__ = ["FetchedFile", "fetch", "is_url"]

logger = logging.getLogger(__name__)

_CHUNK = 8 << 20


def is_url(location: object) -> bool:
    """True for an fsspec URL (``s3://...``, ``memory://...``, ``file://...``), of an input or a
    store; False for a path, which never holds ``://``."""
    return isinstance(location, str) and "://" in location


class FetchedFile(os.PathLike[str]):
    """The local copy of a fetched input: a path to the copy that prints as the URL it came from.

    Attributes:
        url: where the file was fetched from.
        path: the local copy.
        size: its size in bytes.
        sha256: the hex SHA-256 of its bytes, computed as they arrived.
    """

    __slots__ = ("url", "path", "size", "sha256")

    def __init__(self, url: str, path: Path, size: int, sha256: str) -> None:
        self.url, self.path, self.size, self.sha256 = url, path, size, sha256

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"FetchedFile({self.url!r}, path={str(self.path)!r}, size={self.size}, sha256={self.sha256[:12]!r}...)"


def fetch(url: str, directory: str | Path, **storage_options: Any) -> FetchedFile:
    """Copy the file at ``url`` into ``directory`` (created if needed), under the URL's file name.

    Args:
        url: an fsspec URL of one file.
        directory: where the copy goes; a file of the same name there is an error, not replaced.
        storage_options: passed to the file system (for S3: ``endpoint_url``, ``key``, ...; by
            default s3fs reads the usual AWS environment variables and files).

    Raises:
        InputFileError: the URL names no file, it cannot be read (not found, access denied, network),
            or the file system it needs is not installed; the message says which and what to do.
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
    folder = InputFileError(f"{url}: names a folder, not a file; give the URL of the table file itself")
    if not name or url.endswith("/"):
        raise folder
    target = Path(directory) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    dst = open(target, "xb")  # a name taken twice is the caller's mistake: FileExistsError
    try:
        with dst:
            # Object stores open a prefix as an empty file: ask what the name is first.
            if fs.info(remote).get("type") == "directory":
                raise folder
            digest = hashlib.sha256()
            with fs.open(remote, "rb") as src:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    dst.write(chunk)
    except BaseException as exc:
        target.unlink(missing_ok=True)  # no partial copy is left behind
        if exc is folder:
            raise folder from None
        if isinstance(exc, FileNotFoundError):
            raise InputFileError(f"{url}: not found; check the URL (for S3: the bucket and the key)") from None
        if isinstance(exc, IsADirectoryError):
            raise folder from None
        if isinstance(exc, PermissionError):
            raise InputFileError(
                f"{url}: access denied ({exc}); check the credentials (for S3: AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or ~/.aws) and that they may read this object"
            ) from None
        if isinstance(exc, OSError):
            raise InputFileError(f"{url}: cannot be fetched ({type(exc).__name__}: {exc}); check the URL and the network") from None
        raise
    size = target.stat().st_size
    logger.info("fetched %s (%.1f MB) in %.1f s", url, size / 1e6, time.perf_counter() - started)
    return FetchedFile(url, target, size, digest.hexdigest())
