"""Manifest names are plain files of their directory, opened as regular files and never read past their size."""

from __future__ import annotations

import os
import stat
import time

import pytest

from matcher.errors import StoreError
from matcher.files import MappedFile, check_name, load_confined, map_confined, read_confined, sha256_confined


@pytest.mark.parametrize("name", ["../../../../etc/hostname", "/etc/hostname", "..", ".", "", "a/b", "a\\b", "x\x00y", 7, None])
def test_names_that_leave_the_directory_are_refused(tmp_path, name):
    with pytest.raises(StoreError, match="not a plain file name"):
        check_name(name, tmp_path)
    with pytest.raises(StoreError):
        read_confined(tmp_path, name, size=1)


def test_a_plain_file_reads_exactly_its_stated_size(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"hello")
    assert read_confined(tmp_path, "a.bin", size=5) == b"hello"
    with pytest.raises(StoreError, match="holds 5 bytes, not the 4"):
        read_confined(tmp_path, "a.bin", size=4)
    with pytest.raises(StoreError, match="missing"):
        read_confined(tmp_path, "nope.bin", size=5)
    with pytest.raises(StoreError, match="over the 3 bytes"):
        read_confined(tmp_path, "a.bin", size=None, max_bytes=3)


def test_symlinks_are_refused_even_to_a_good_file(tmp_path):
    (tmp_path / "real.bin").write_bytes(b"data")
    os.symlink(tmp_path / "real.bin", tmp_path / "link.bin")
    os.symlink("/dev/zero", tmp_path / "zero.npy")
    for name in ("link.bin", "zero.npy"):
        with pytest.raises(StoreError, match="cannot be opened as a plain file"):
            read_confined(tmp_path, name, size=4)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / "pipe.npy")
    t0 = time.monotonic()
    with pytest.raises(StoreError, match="not a regular file"):
        read_confined(tmp_path, "pipe.npy", size=10)
    with pytest.raises(StoreError, match="not a regular file"):
        sha256_confined(tmp_path, "pipe.npy", size=10)
    assert time.monotonic() - t0 < 5


def test_a_device_that_never_ends_is_refused(tmp_path):
    try:
        os.mknod(tmp_path / "zero.npy", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero
    except PermissionError:
        pytest.skip("creating a device node needs root")
    with pytest.raises(StoreError, match="not a regular file"):
        read_confined(tmp_path, "zero.npy", size=128)


def test_a_directory_is_refused(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(StoreError):
        read_confined(tmp_path, "d", size=0)


def test_read_hashed_gives_the_file_and_its_sha256_with_or_without_a_stated_size(tmp_path):
    import hashlib

    from matcher.files import CHUNK_BYTES, Directory, Memory, read_hashed

    data = os.urandom(2 * CHUNK_BYTES + 123)  # several chunks
    (tmp_path / "f.bin").write_bytes(data)
    for src in (Directory(tmp_path), Memory({"f.bin": data})):
        for size in (len(data), None):
            got, digest = read_hashed(src, "f.bin", size=size)
            assert bytes(got) == data
            assert digest == hashlib.sha256(data).hexdigest()
        with pytest.raises(StoreError, match="not the"):
            read_hashed(src, "f.bin", size=len(data) - 1)


def test_a_mapped_file_is_confined_and_checked_as_a_read_one_is(tmp_path):
    (tmp_path / "v.npy").write_bytes(b"vectors!")
    (tmp_path / "empty.npy").write_bytes(b"")
    os.symlink(tmp_path / "v.npy", tmp_path / "link.npy")
    mapped = map_confined(tmp_path, "v.npy", size=8)
    assert isinstance(mapped, MappedFile) and bytes(mapped) == b"vectors!" and mapped.path == tmp_path / "v.npy"
    assert map_confined(tmp_path, "empty.npy", size=0) == b""
    with pytest.raises(StoreError, match="holds 8 bytes, not the 9"):
        map_confined(tmp_path, "v.npy", size=9)
    with pytest.raises(StoreError, match="cannot be opened as a plain file"):
        map_confined(tmp_path, "link.npy", size=8)
    with pytest.raises(StoreError, match="not a plain file name"):
        map_confined(tmp_path, "../v.npy", size=8)
    os.mkfifo(tmp_path / "pipe.faiss")
    with pytest.raises(StoreError, match="not a regular file"):
        map_confined(tmp_path, "pipe.faiss", size=8)


def test_arrays_and_faiss_indexes_are_mapped_other_files_read(tmp_path):
    for name in ("a.npy", "index.faiss", "index.json", "posts.parquet"):
        (tmp_path / name).write_bytes(name.encode())
    got = {name: load_confined(tmp_path, name, size=len(name)) for name in ("a.npy", "index.faiss", "index.json", "posts.parquet")}
    assert {name: type(v) for name, v in got.items()} == {"a.npy": MappedFile, "index.faiss": MappedFile, "index.json": bytes, "posts.parquet": bytes}
    assert all(bytes(v) == name.encode() for name, v in got.items())
