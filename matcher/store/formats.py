"""The bytes of the files a snapshot or checkpoint holds: ``.npy`` arrays (no pickles) and Parquet frames."""

from __future__ import annotations

import io
import mmap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from matcher.files import MappedFile

__all__ = ["npy_bytes", "parquet_bytes", "read_parquet_bytes", "read_parquet_frame", "npy_map", "read_npy", "npy_header", "parquet_rows", "NPY_HEAD", "PARQUET_TAIL"]


def npy_bytes(arr: np.ndarray) -> bytes:
    """The bytes of ``arr`` as an ``.npy`` file (no pickles)."""
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """The bytes of ``frame`` as a Parquet file, without its index."""
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def read_parquet_bytes(data: bytes) -> pd.DataFrame:
    """The frame in the bytes of a Parquet file (as :func:`parquet_bytes` writes them)."""
    return pd.read_parquet(io.BytesIO(data))


def read_parquet_frame(data: bytes) -> pd.DataFrame:
    """The frame :func:`parquet_bytes` wrote, its text columns the object columns they were (None
    where missing), so writing it again gives the same bytes.

    pandas 3 reads text as its ``str`` dtype, which would be written back as ``large_string``: a frame
    passed through Parquet between processes must come back as it left.
    """
    import pyarrow.parquet as pq

    frame = read_parquet_bytes(data)
    meta = pq.read_schema(io.BytesIO(data)).pandas_metadata or {}
    for col in meta.get("columns", []):
        name = col.get("name")
        if col.get("numpy_type") == "object" and name in frame and frame[name].dtype != object:
            values = frame[name]
            frame[name] = values.astype(object).where(values.notna(), None)
    return frame


def npy_map(path: Path, shape: tuple[int, ...], dtype: Any) -> tuple[MappedFile, np.ndarray]:
    """The ``.npy`` file ``path`` (created, or replaced; the same bytes ``np.save`` writes), mapped, and
    a writable array over its data.

    Filling the array fills the file, so a large array is held once, not once as an array and again
    as its serialised copy; its pages are the file's, which the kernel writes back and can drop, not
    the process's anonymous memory. Fill it front to back (:func:`matcher.embed.embed_groups` with
    ``spill``): pages written all over are written back again and again.
    """
    dt = np.dtype(dtype)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": np.lib.format.dtype_to_descr(dt), "fortran_order": False, "shape": tuple(shape)})
    head = header.getvalue()
    count = int(np.prod(shape, dtype=np.int64))
    size = len(head) + count * dt.itemsize
    with open(path, "w+b") as fh:
        fh.write(head)
        fh.truncate(size)  # a sparse file: the data pages read as zeros until written
        fh.flush()
        mapped = MappedFile(fh.fileno(), size, access=mmap.ACCESS_WRITE)
    mapped.path = Path(path)
    return mapped, np.frombuffer(mapped, dtype=dt, count=count, offset=len(head)).reshape(shape)


NPY_HEAD = 65536
"""Bytes of an ``.npy`` file that always hold its header."""

PARQUET_TAIL = 4 << 20
"""Bytes at the end of a Parquet file enough for the footer of any table matcher writes."""


def npy_header(head: bytes | bytearray | memoryview) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """Shape, Fortran order, dtype and data offset from the first bytes of an ``.npy`` file.

    Raises:
        ValueError: not an ``.npy`` header, or an array of Python objects (a pickle).
    """
    buf = io.BytesIO(bytes(memoryview(head)[:NPY_HEAD]))
    version = np.lib.format.read_magic(buf)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(buf)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(buf)
    if dtype.hasobject:
        raise ValueError("an array of Python objects (a pickle), which matcher never writes or reads")
    return tuple(shape), bool(fortran), dtype, buf.tell()


def parquet_rows(tail: bytes | bytearray | memoryview) -> int:
    """The row count in a Parquet file's footer, from the file's last bytes (up to :data:`PARQUET_TAIL`).

    Raises:
        ValueError: the bytes do not end in a Parquet footer, or it does not parse.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    tail = bytes(tail)
    if len(tail) < 12 or tail[-4:] != b"PAR1":
        raise ValueError("no Parquet footer at the end of the file")
    length = int.from_bytes(tail[-8:-4], "little")
    if length + 8 > len(tail):
        raise ValueError(f"a Parquet footer of {length} bytes, more than a table matcher writes")
    try:
        return int(pq.read_metadata(pa.BufferReader(b"PAR1" + tail[-(length + 8):])).num_rows)
    except Exception as exc:  # pyarrow raises several types for a malformed footer
        raise ValueError(f"the Parquet footer does not parse ({type(exc).__name__})") from None


def read_npy(data: bytes | bytearray) -> np.ndarray:
    """A read-only array over the data of ``.npy`` bytes, without copying them (no pickles)."""
    shape, fortran, dtype, offset = npy_header(memoryview(data)[:NPY_HEAD])
    count = int(np.prod(shape, dtype=np.int64))
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=offset).reshape(shape, order="F" if fortran else "C")
    arr.flags.writeable = False
    return arr
