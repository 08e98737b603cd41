"""Progress of a sweep: runs done / total, failures, elapsed time, ETA.

``mode`` ``"bar"`` draws a tqdm bar (optional extra ``progress``) on stderr; ``"lines"``
prints one plain line per finished run (what logs and pipes want); ``"auto"`` (the
default, ``progress=True``) draws the bar when tqdm is installed and stderr is a terminal,
and prints lines otherwise; ``False`` prints nothing. A failed run is always reported with
its reason, in every mode except silent.
"""
from __future__ import annotations

import sys
import time

__all__ = ["Progress", "PROGRESS_MODES"]

PROGRESS_MODES = ("auto", "bar", "lines")
_TQDM_EXTRA = 'the progress bar needs tqdm, the optional extra "progress": pip install "nlpnet[progress]"'


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


def resolve_mode(progress, stream=None) -> str | None:
    """True/"auto" → "bar" or "lines"; False/None → None; checks the value."""
    if progress is None or progress is False:
        return None
    if progress is True:
        progress = "auto"
    if progress not in PROGRESS_MODES:
        raise ValueError(f"progress: expected True, False or one of {', '.join(PROGRESS_MODES)}, got {progress!r}")
    if progress == "auto":
        stream = stream or sys.stderr
        try:
            import tqdm  # noqa: F401
        except ImportError:
            return "lines"
        return "bar" if getattr(stream, "isatty", lambda: False)() else "lines"
    if progress == "bar":
        try:
            import tqdm  # noqa: F401
        except ImportError as exc:
            raise ImportError(f"{_TQDM_EXTRA} ({exc})") from None
    return progress


class Progress:
    """Counts finished runs of ``total`` (``done`` of them finished before this sweep)."""

    def __init__(self, mode, total: int, done: int = 0, stream=None, label: str = "runs"):
        self.mode, self.total, self.done0 = mode, total, done
        self.done, self.failed, self.stream = done, 0, stream or sys.stderr
        self.t0 = time.perf_counter()
        self.bar = None
        if mode == "bar":
            from tqdm.auto import tqdm
            self.bar = tqdm(total=total, initial=done, unit="run", desc=label, file=self.stream, dynamic_ncols=True,
                            smoothing=0.05)
            self.bar.set_postfix(failed=0)

    def note(self, text: str) -> None:
        """A message that does not break the bar."""
        if self.mode is None:
            return
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def update(self, row: dict) -> None:
        self.done += 1
        failed = row.get("status") == "failed"
        self.failed += failed
        if self.mode is None:
            return
        if self.bar is not None:
            self.bar.set_postfix(failed=self.failed, refresh=False)
            self.bar.update(1)
            if failed:
                self.note(f"failed: {_describe(row)}: {row.get('message', '')}")
            return
        elapsed = time.perf_counter() - self.t0
        new = self.done - self.done0
        eta = elapsed / new * (self.total - self.done) if new else 0.0
        mse = row.get("train_mse", "")
        mse = f" train_mse={mse:.3g}" if isinstance(mse, float) else ""
        t = row.get("time_s", "")
        t = f" ({t:.2f}s)" if isinstance(t, float) else ""
        why = f": {row.get('message', '')}" if failed else ""
        print(f"[{self.done}/{self.total}] {_describe(row)}: {row.get('status', '')}{mse}{t}{why}"
              f"  | failed {self.failed}, elapsed {_clock(elapsed)}, ETA {_clock(eta)}",
              file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _describe(row) -> str:
    return f"{row.get('config', '')} {row.get('method', '')} seed={row.get('seed', '')}"
