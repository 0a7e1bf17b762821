"""Confined, bounded reads of the files a manifest lists: plain names, regular files, never past their size.

A manifest (a snapshot's, or a checkpoint's done marker) names the files of one directory. Whoever
can write the manifest chooses those names, so a name is only ever taken as a plain file name
inside that directory: no separator, no ``..``, no absolute path. The file is opened without
following a symlink and without blocking (a FIFO would otherwise wait for a writer), must be a
regular file (not a device, socket or directory), and is never read past the size the manifest
states, so a file that grew, or one that never ends, cannot exhaust memory.
"""

from __future__ import annotations

import hashlib
import io
import mmap
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Protocol

from matcher.errors import StoreError

__all__ = ["check_name", "MappedFile", "map_confined", "load_confined", "MAPPED_SUFFIXES", "read_confined", "iter_confined", "iter_bounded", "sha256_confined", "read_hashed", "Source", "Directory", "Memory", "CHUNK_BYTES"]

CHUNK_BYTES = 1 << 20
_FIX = "the manifest was altered or written by something else; run 'matcher batch' again or 'matcher rollback'"


def check_name(name: object, directory: Path | str) -> str:
    """``name`` if it is a plain file name of ``directory``; else :class:`StoreError`.

    Raises:
        StoreError: not a string, empty, ``.`` or ``..``, holding a path separator or NUL, or absolute.
    """
    if (
        not isinstance(name, str)
        or name in ("", ".", "..")
        or "/" in name
        or "\\" in name
        or "\x00" in name
        or os.path.isabs(name)
        or (os.altsep is not None and os.altsep in name)
    ):
        raise StoreError(f"{directory}: the manifest lists {name!r}, which is not a plain file name inside it; {_FIX}")
    return name


def _open(directory: Path, name: str) -> tuple[int, int]:
    """Descriptor and size of ``directory/name``, a regular file opened without following a symlink."""
    check_name(name, directory)
    path = directory / name
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise StoreError(f"{path}: missing; run 'matcher batch' again or 'matcher rollback'") from None
    except OSError as exc:  # ELOOP: a symlink; ENXIO: a socket; EACCES, ...
        raise StoreError(f"{path}: cannot be opened as a plain file ({exc.strerror or exc}); {_FIX}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise StoreError(f"{path}: is not a regular file (a device, pipe or directory); {_FIX}")
    except BaseException:
        os.close(fd)
        raise
    return fd, int(st.st_size)


class MappedFile(mmap.mmap):
    """The bytes of a file, mapped into memory: bytes-like, so the stages pass it on as they pass
    ``bytes``, but its pages are the file's (the kernel writes dirty ones back and drops clean ones
    under memory pressure), not the process's anonymous memory. ``path`` is where the file is now.

    Made by :func:`map_confined` (read-only). It is unmapped when the last array over it goes.
    """

    path: Path


def map_confined(directory: Path, name: str, *, size: int | None) -> MappedFile | bytes:
    """``directory/name`` mapped read-only (opened as :func:`iter_confined` opens it), checked to be
    exactly ``size`` bytes when given; an empty file gives ``b""`` (nothing to map).

    The caller hashes the mapping and compares it with its manifest before using it.

    Raises:
        StoreError: as :func:`iter_confined`.
    """
    fd, actual = _open(directory, name)
    try:
        _check_size(actual, size, str(directory / name))
        if actual == 0:
            return b""
        mapped = MappedFile(fd, actual, access=mmap.ACCESS_READ)
    finally:
        os.close(fd)
    mapped.path = directory / name
    return mapped


#: Files :func:`load_confined` maps rather than reads: arrays and FAISS indexes, the gigabytes of a
#: large collection, whose readers take any buffer.
MAPPED_SUFFIXES = (".npy", ".faiss")


def load_confined(directory: Path, name: str, *, size: int | None) -> MappedFile | bytes:
    """:func:`map_confined` for a file named with one of :data:`MAPPED_SUFFIXES`, else :func:`read_confined`."""
    return (map_confined if name.endswith(MAPPED_SUFFIXES) else read_confined)(directory, name, size=size)


def iter_confined(directory: Path, name: str, *, size: int | None) -> Iterator[bytes]:
    """The bytes of ``directory/name`` in chunks, checked to be exactly ``size`` bytes when given.

    Never reads more than ``size`` + 1 bytes, whatever the file does meanwhile.

    Raises:
        StoreError: the name is not plain, the file is missing or not a regular file, or its size differs.
    """
    fd, actual = _open(directory, name)
    try:
        yield from iter_bounded(lambda n: os.read(fd, n), actual=actual, size=size, where=str(directory / name))
    finally:
        os.close(fd)


def _check_size(actual: int, size: int | None, where: str) -> None:
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or actual != size):
        raise StoreError(
            f"{where}: holds {actual} bytes, not the {size!r} the manifest states, so its checksum cannot match "
            "(truncated, grown or altered); run 'matcher batch' again or 'matcher rollback'"
        )


def iter_bounded(read: Callable[[int], bytes], *, actual: int, size: int | None, where: str) -> Iterator[bytes]:
    """Chunks from ``read(n)`` (at most ``n`` bytes per call, ``b""`` at the end) of a file that held
    ``actual`` bytes when it was opened, checked to be exactly ``size`` bytes when given.

    The one bounded read behind every store backend: never more than ``size`` + 1 bytes, whatever
    the file does meanwhile.

    Raises:
        StoreError: the size differs from ``size``, or the file grew or shrank while it was read.
    """
    _check_size(actual, size, where)
    limit = actual if size is None else size
    left = limit + 1  # one byte more shows a file that grew after its size was taken
    while left > 0:
        chunk = read(min(CHUNK_BYTES, left))
        if not chunk:
            break
        left -= len(chunk)
        if left == 0:
            raise StoreError(f"{where}: grew past the {limit} bytes the manifest states while it was read; {_FIX}")
        yield chunk
    if left > 1:
        raise StoreError(f"{where}: shrank below the {limit} bytes the manifest states while it was read; {_FIX}")


def read_confined(directory: Path, name: str, *, size: int | None, max_bytes: int | None = None) -> bytes:
    """All bytes of ``directory/name`` (see :func:`iter_confined`); ``max_bytes`` bounds a file of unstated size.

    Raises:
        StoreError: as :func:`iter_confined`, or the file is over ``max_bytes``.
    """
    if size is None and max_bytes is not None:
        fd, actual = _open(directory, name)
        os.close(fd)
        if actual > max_bytes:
            raise StoreError(f"{directory / name}: {actual} bytes, over the {max_bytes} bytes such a file may hold; {_FIX}")
        size = actual
    return b"".join(iter_confined(directory, name, size=size))


def sha256_confined(directory: Path, name: str, *, size: int | None) -> str:
    """Hex sha256 of ``directory/name``, read in chunks (see :func:`iter_confined`)."""
    h = hashlib.sha256()
    for chunk in iter_confined(directory, name, size=size):
        h.update(chunk)
    return h.hexdigest()


def read_hashed(src: Source, name: str, *, size: int | None) -> tuple[bytearray, str]:
    """The bytes of ``name`` in ``src`` and their hex sha256, from one read.

    The bytes fill one buffer, of ``size`` when given (the source then checks the file is exactly
    that long), hashed as they arrive: a file of gigabytes is held once, not as its chunks and
    again joined. The caller compares the hash with its manifest before using the bytes.

    Raises:
        StoreError: as ``src.iter`` (missing, not a plain file, another size).
    """
    h = hashlib.sha256()
    data = bytearray(size or 0)
    got = 0
    for chunk in src.iter(name, size=size):
        data[got : got + len(chunk)] = chunk
        h.update(chunk)
        got += len(chunk)
    return data, h.hexdigest()


class Source(Protocol):
    """Where the files a manifest lists are read from: a local directory, or a prefix of an object store."""

    def where(self, name: str) -> str:
        """The file's path or URL, for messages."""
        ...

    def iter(self, name: str, *, size: int | None) -> Iterator[bytes]:
        """The file's bytes in chunks, confined and bounded as :func:`iter_confined`."""
        ...


class Directory:
    """A :class:`Source` over a local directory."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def where(self, name: str) -> str:
        return str(self.path / name)

    def iter(self, name: str, *, size: int | None) -> Iterator[bytes]:
        return iter_confined(self.path, name, size=size)


class Memory:
    """A :class:`Source` over files held in memory (name → bytes), read as :func:`iter_bounded` reads a file."""

    def __init__(self, files: Mapping[str, bytes], *, where: str = "<memory>") -> None:
        self.files = files
        self.prefix = where

    def where(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    def iter(self, name: str, *, size: int | None) -> Iterator[bytes]:
        if name not in self.files:
            raise StoreError(f"{self.where(name)}: missing; run 'matcher batch' again")
        data = self.files[name]
        return iter_bounded(io.BytesIO(data).read, actual=len(data), size=size, where=self.where(name))
