"""Crash-safe results files: one CSV row per finished run, whatever kills the writer.

A results file is a CSV whose header is the experiment's declared schema (never the first
row that happens to finish) and whose every record is one physical line: newlines inside
values are replaced before writing. Rows are written by :meth:`ResultsFile.append` as ONE
``os.write`` on an ``O_APPEND`` descriptor, followed by ``fsync``. A kill can still tear
that write (Linux stops a write to the page cache between pages when a fatal signal is
pending), so :meth:`ResultsFile.open` validates the file before anything is appended:

* a last record without its terminating newline is a torn write and is dropped;
* a record with the wrong number of fields, an empty key or an empty status is dropped;
* a second record with the same (config, method, seed) key is dropped (the first is kept);
* a record with status ``user_stop`` was interrupted by Ctrl-C under an older runner and is
  dropped, so that the run is redone;
* a header that differs from the declared schema is replaced by the schema, followed by any
  old columns that the schema no longer names (their values are kept).

When anything is dropped or the header changes, the file is rewritten through a temporary
file and ``os.replace``, so a kill during the repair leaves either the old or the new file.
Therefore, after a kill at any moment, the file parses and holds exactly one row per run
that had finished; the runs in progress are simply absent and a rerun redoes them.

An advisory lock (``.<file>.lock`` beside it, ``fcntl.flock``) keeps two sweeps from appending to the
same file at once; the kernel releases it when its holder dies, even by SIGKILL.
"""
from __future__ import annotations

import csv
import io
import math
import os
from enum import Enum
from numbers import Integral, Real
from pathlib import Path

try:  # POSIX only; without it the lock is skipped
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

__all__ = ["RUN_COLUMNS", "KEY_COLUMNS", "ResultsFile", "ResultsFileBusy", "read_rows", "schema",
           "format_cell", "parse_cell", "run_key"]

KEY_COLUMNS = ("config", "method", "seed")
RUN_COLUMNS = ("config", "seed", "method", "status", "train_mse", "test_mse", "time_s", "iterations")
_INTERRUPTED = "user_stop"


class ResultsFileBusy(RuntimeError):
    """Another live process holds the results file's lock."""


def schema(extra=()) -> tuple[str, ...]:
    """The full header: the standard run columns, the experiment's own columns, ``message``."""
    cols = list(RUN_COLUMNS)
    for c in extra:
        if not isinstance(c, str) or not c or any(ch in c for ch in ",\n\r\""):
            raise ValueError(f"columns: column names must be non-empty strings without commas, quotes or "
                             f"newlines, got {c!r}")
        if c not in cols:
            cols.append(c)
    if "message" not in cols:
        cols.append("message")
    return tuple(cols)


def run_key(row) -> tuple[str, str, str]:
    """The identity of a run: (config, method, seed) as strings."""
    return tuple(str(row[k]) for k in KEY_COLUMNS)


def format_cell(v) -> str:
    """A value as one CSV cell that :func:`parse_cell` reads back exactly (floats by repr)."""
    if v is None:
        return ""
    if isinstance(v, Enum):
        v = v.value
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, Integral):
        return str(int(v))
    if isinstance(v, Real):
        f = float(v)
        return "nan" if math.isnan(f) else repr(f)
    s = str(v)
    # one record per physical line: a torn tail is then exactly a last line without "\n"
    return s.replace("\r\n", "\n").replace("\r", "\n").replace("\n", " | ")


def parse_cell(s: str):
    """A CSV cell → int, float, or the string itself ("" stays "")."""
    for conv in (int, float):
        try:
            return conv(s)
        except (TypeError, ValueError):
            pass
    return s


def _line(columns, row) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([format_cell(row.get(c)) for c in columns])
    return buf.getvalue().encode("utf-8")


def _scan(path: Path):
    """(header, rows as string dicts, list of problems) of an existing file; header None if empty."""
    data = path.read_bytes() if path.exists() else b""
    if not data.strip():
        return None, [], []
    text = data.decode("utf-8", errors="replace")
    records = list(csv.reader(io.StringIO(text, newline="")))
    problems = []
    if not text.endswith("\n"):
        records.pop()  # the last write was torn
        problems.append("a torn last row (the run it belonged to will be redone)")
    if not records:
        return None, [], problems + ["a torn header"]
    header, body = records[0], records[1:]
    rows, seen = [], set()
    bad = dup = stopped = 0
    for rec in body:
        if len(rec) != len(header):
            bad += 1
            continue
        row = dict(zip(header, rec))
        if any(not row.get(k) for k in KEY_COLUMNS) or not row.get("status"):
            bad += 1
            continue
        key = run_key(row)
        if key in seen:
            dup += 1
            continue
        if row["status"] == _INTERRUPTED:
            stopped += 1
            continue
        seen.add(key)
        rows.append(row)
    if bad:
        problems.append(f"{bad} malformed row(s)")
    if dup:
        problems.append(f"{dup} duplicated row(s)")
    if stopped:
        problems.append(f"{stopped} row(s) of runs interrupted by Ctrl-C (status {_INTERRUPTED}; redone)")
    return header, rows, problems


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - not possible on every platform
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _replace_atomically(path: Path, columns, rows) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(_line(columns, dict(zip(columns, columns))))
        for r in rows:
            f.write(_line(columns, r))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def read_rows(path) -> list[dict]:
    """The valid rows of a results file, numbers parsed (torn or malformed rows left out; the
    file is not modified). Empty list when the file is missing."""
    _, rows, _ = _scan(Path(path))
    return [{k: parse_cell(v) for k, v in r.items()} for r in rows]


class ResultsFile:
    """A results CSV opened for appending finished runs (see the module docstring).

    ``with ResultsFile(path, columns) as rf: done = rf.rows; rf.append(row)``
    """

    def __init__(self, path, columns):
        self.path = Path(path)
        self.declared = tuple(columns)
        self.columns = self.declared
        self.rows: list[dict] = []
        self.repairs: list[str] = []
        self._fd = None
        self._lock = None

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()

    def open(self) -> list[dict]:
        """Lock, validate and repair the file; return the finished rows (parsed)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._acquire_lock()
        header, rows, self.repairs = _scan(self.path)
        if header is None:
            _replace_atomically(self.path, self.declared, [])
        else:
            columns = self.declared + tuple(c for c in header if c not in self.declared)
            if self.repairs or tuple(header) != columns:
                if tuple(header) != columns:
                    self.repairs.append("a header that differed from the declared columns")
                _replace_atomically(self.path, columns, rows)
            self.columns = columns
        self.rows = [{k: parse_cell(v) for k, v in r.items()} for r in rows]
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        return self.rows

    def append(self, row: dict) -> dict:
        """Write one finished run as one line, durably; return it as it reads back."""
        unknown = [k for k in row if k not in self.declared]
        if unknown:
            raise ValueError(f"columns: the trial returned {unknown}, which the declared columns do not name; "
                             f"add them to columns= (declared: {', '.join(self.declared)})")
        data = _line(self.columns, row)
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        os.fsync(self._fd)
        back = next(csv.reader(io.StringIO(data.decode("utf-8"))))
        return {c: parse_cell(v) for c, v in zip(self.columns, back)}

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._lock is not None:
            os.close(self._lock)  # releases the flock
            self._lock = None

    def _acquire_lock(self) -> None:
        if fcntl is None:  # pragma: no cover
            return
        fd = os.open(self.path.with_name(f".{self.path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ResultsFileBusy(f"{self.path}: another sweep is writing this file; wait for it to end or "
                                  "choose another output folder (--out)") from None
        self._lock = fd
