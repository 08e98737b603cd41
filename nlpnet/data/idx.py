"""Reader for the IDX files of the MNIST distribution (plain or gzipped).

An IDX file is a 4-byte magic number ``0x00 0x00 T D`` — two zero bytes, a type code T
(0x08 unsigned byte, 0x09 signed byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64)
and the number of dimensions D — then D big-endian uint32 sizes, then the values in C order,
big-endian. MNIST's images are ``0x00000803`` (n × 28 × 28 bytes), its labels
``0x00000801`` (n bytes). The reader checks the magic number and that the data fills the
header's shape exactly, so a truncated download or a wrong file fails here with the file's
name instead of producing garbage digits.
"""
from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

__all__ = ["read_idx", "write_idx"]

_IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] != _GZIP_MAGIC:  # decide by content, not by the file name's extension
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as err:
        raise ValueError(f"{path}: truncated or corrupt gzip data ({err}); fetch the file again") from None


def read_idx(path) -> np.ndarray:
    """The array stored in the IDX file ``path`` (gzip detected from the content), native byte order."""
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(f"{path}: holds {len(data)} byte(s), too short for an IDX file (a 4-byte magic number "
                         "comes first)")
    magic = int.from_bytes(data[:4], "big")
    type_code, ndim = data[2], data[3]
    if data[0] != 0 or data[1] != 0 or type_code not in _IDX_TYPES or ndim == 0:
        raise ValueError(f"{path}: not an IDX file: magic number 0x{magic:08X} (an IDX file starts with two zero "
                         "bytes, a type code such as 0x08 for unsigned bytes, and the number of dimensions; "
                         "MNIST images start 0x00000803, labels 0x00000801)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated: the magic number announces {ndim} dimension(s) but the file ends "
                         f"inside the header ({len(data)} bytes)")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_TYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    got = len(data) - header
    if got != expected:
        what = "truncated" if got < expected else "longer than its header says"
        raise ValueError(f"{path}: {what}: the header gives shape {'×'.join(map(str, shape))} "
                         f"({expected} data bytes) but the file holds {got} data bytes; fetch the file again")
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)  # a writable native-order copy


def write_idx(path, array) -> Path:
    """Write ``array`` as an IDX file (gzipped when ``path`` ends in ``.gz``); the inverse of
    :func:`read_idx`, used by the tests and for exporting small subsets."""
    path = Path(path)
    arr = np.asarray(array)
    code = next((c for c, dt in _IDX_TYPES.items() if dt.kind == arr.dtype.kind
                 and dt.itemsize == arr.dtype.itemsize), None)
    if code is None or arr.ndim == 0:
        raise TypeError(f"array: IDX stores uint8, int8, int16, int32, float32 or float64 arrays with at least "
                        f"one dimension, got {arr.dtype} with shape {arr.shape}")
    body = bytes([0, 0, code, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    body += np.ascontiguousarray(arr, dtype=_IDX_TYPES[code]).tobytes()
    path.write_bytes(gzip.compress(body, mtime=0) if path.suffix == ".gz" else body)
    return path
