"""Manifest names are plain files of their directory, opened as regular files and never read past their size."""

from __future__ import annotations

import os
import stat
import time

import pytest

from matcher.errors import StoreError
from matcher.files import check_name, read_confined, sha256_confined


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
