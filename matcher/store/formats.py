"""The bytes of the files a snapshot or checkpoint holds: ``.npy`` arrays (no pickles) and Parquet frames."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["npy_bytes", "parquet_bytes", "read_parquet_bytes", "npy_alloc", "read_npy"]


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


def npy_alloc(shape: tuple[int, ...], dtype: Any) -> tuple[bytearray, np.ndarray]:
    """The bytes of an ``.npy`` file (the same bytes ``np.save`` writes) and a writable array over its data.

    Filling the array fills the file's bytes, so a large array is held once, not once as an array
    and again as its serialised copy.
    """
    dt = np.dtype(dtype)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": np.lib.format.dtype_to_descr(dt), "fortran_order": False, "shape": tuple(shape)})
    head = header.getvalue()
    count = int(np.prod(shape, dtype=np.int64))
    buf = bytearray(len(head) + count * dt.itemsize)
    buf[: len(head)] = head
    return buf, np.frombuffer(buf, dtype=dt, count=count, offset=len(head)).reshape(shape)


def read_npy(data: bytes | bytearray) -> np.ndarray:
    """A read-only array over the data of ``.npy`` bytes, without copying them (no pickles)."""
    head = io.BytesIO(bytes(memoryview(data)[:65536]))
    version = np.lib.format.read_magic(head)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(head)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(head)
    if dtype.hasobject:
        raise ValueError("object arrays are not allowed in a checkpoint")
    count = int(np.prod(shape, dtype=np.int64))
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=head.tell()).reshape(shape, order="F" if fortran else "C")
    arr.flags.writeable = False
    return arr
