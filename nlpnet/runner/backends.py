"""Where the runs of a sweep execute: in this process, in local worker processes, or on Dask.

Every backend has the same small interface, read by :func:`nlpnet.runner.run_trials`:
``start()``; ``submit(ref, task)``; ``results()``, a generator yielding ``(ref, outcome)``
as runs finish (runs submitted while it is being iterated are included), where the outcome
is the run's row or a :class:`Lost` when the worker running it died; ``stop()``, which
cancels everything still pending and ends the workers at once.

Every run goes through :func:`call_trial`, wherever it executes: one BLAS thread (so a
run's floating-point sums do not depend on the machine's thread count, and the same seed
gives the same numbers on every backend), the trial's exceptions caught and turned into a
``failed`` row with the reason.

* :class:`SerialBackend` (``workers=1``): runs in the calling process, in submission order.
* :class:`ProcessBackend`: a ``concurrent.futures.ProcessPoolExecutor`` (the platform's
  default start method, so a script without a ``__main__`` guard works where ``fork`` is
  the default, as ProcessPoolExecutor users expect). Workers ignore SIGINT
  (the parent alone handles Ctrl-C and ends them), and die with their parent even when it
  is killed by SIGKILL (``PR_SET_PDEATHSIG`` on Linux, plus a watchdog thread that exits
  when the parent process changes). At most ``workers`` runs are in flight, so a dying
  worker, which breaks the whole pool, loses only runs that were running; those are retried
  one at a time, so that a run that kills its worker cannot take an innocent run with it
  twice.
* :class:`DaskBackend`: ``dask.distributed`` (optional extra ``cluster``), either a
  ``LocalCluster`` of ``workers`` single-threaded processes started here, or a running
  scheduler at ``scheduler``. The LocalCluster's scheduler declares a task lost at the
  first worker death (``allowed-failures: 0``) and holds one task per worker
  (``worker-saturation: 1.0``), so a death loses exactly the run on that worker.
"""
from __future__ import annotations

import collections
import os
import pickle
import signal
import sys
import threading
import time
import traceback
import uuid
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import NamedTuple

__all__ = ["Lost", "call_trial", "SerialBackend", "ProcessBackend", "DaskBackend", "make_backend", "BACKENDS"]

BACKENDS = ("processes", "dask")
_DASK_EXTRA = 'the Dask backend needs the optional extra "cluster": pip install "nlpnet[cluster]"'


class Lost(NamedTuple):
    """A run whose worker died before it returned; ``reason`` says how."""

    reason: str


def call_trial(trial, task) -> dict:
    """Run one trial with one BLAS thread; an exception becomes a ``failed`` row."""
    from threadpoolctl import threadpool_limits
    t0 = time.perf_counter()
    try:
        with threadpool_limits(limits=1):
            row = dict(trial(task))
    except Exception as exc:  # one bad run must not end the sweep
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" (at {tb[-1].filename.rsplit(os.sep, 1)[-1]}:{tb[-1].lineno})" if tb else ""
        row = {"status": "failed", "message": f"{type(exc).__name__}: {exc}{where}"}
    row.setdefault("time_s", time.perf_counter() - t0)
    return row


class SerialBackend:
    """Runs every task in this process, one after the other."""

    name = "serial"

    def __init__(self, trial):
        self.trial = trial
        self.queue = collections.deque()

    def start(self):
        return self

    def submit(self, ref, task):
        self.queue.append((ref, task))

    def results(self):
        while self.queue:
            ref, task = self.queue.popleft()
            yield ref, call_trial(self.trial, task)

    def stop(self):
        self.queue.clear()


# --- local worker processes -------------------------------------------------------------

def _die_with_parent(parent_pid: int) -> None:
    """Worker initializer: ignore Ctrl-C, and never outlive the sweep's process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: killed when our parent dies
        except (OSError, AttributeError):  # pragma: no cover - exotic libc
            pass
    ppid = os.getppid()

    def watchdog():  # portable fallback; under forkserver the parent is the server, which dies with the sweep
        while True:
            time.sleep(0.5)
            if os.getppid() != ppid or not _alive(parent_pid):
                os._exit(1)
    threading.Thread(target=watchdog, name="nlpnet-parent-watchdog", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - exists, owned by someone else
        return True
    return True


class ProcessBackend:
    """Local worker processes (see the module docstring)."""

    name = "processes"

    def __init__(self, trial, workers: int):
        self.trial, self.workers = trial, workers
        self.queue = collections.deque()      # waiting (ref, task, isolated)
        self.inflight: dict = {}              # future -> (ref, task, isolated)
        self.pool = None

    def start(self):
        try:
            pickle.dumps(self.trial)
        except Exception as exc:
            raise ValueError(f"trial: worker processes need a module-level function they can import; "
                             f"{self.trial!r} cannot be pickled ({exc})") from None
        self._new_pool()
        return self

    def _new_pool(self):
        self.pool = ProcessPoolExecutor(max_workers=self.workers, initializer=_die_with_parent,
                                        initargs=(os.getpid(),))

    def submit(self, ref, task, isolated=False):
        if isolated:
            self.queue.appendleft((ref, task, True))
        else:
            self.queue.append((ref, task, False))

    def _feed(self) -> bool:
        """Send waiting runs to idle workers; False when the pool turns out to be broken."""
        while self.queue and len(self.inflight) < self.workers:
            ref, task, isolated = self.queue[0]
            if any(iso for _, _, iso in self.inflight.values()):
                break  # an isolated retry runs alone
            if isolated and self.inflight:
                break
            try:
                fut = self.pool.submit(call_trial, self.trial, task)
            except BrokenProcessPool:
                return False
            self.queue.popleft()
            self.inflight[fut] = (ref, task, isolated)
        return True

    def results(self):
        while self.queue or self.inflight:
            if not self._feed():
                yield from self._collect_broken()
                continue
            done, _ = wait(list(self.inflight), timeout=0.5, return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                ref, _, _ = self.inflight.pop(fut)
                try:
                    out = fut.result()
                except BrokenProcessPool:
                    broken, out = True, Lost(self._death_reason())
                yield ref, out
            if broken:
                yield from self._collect_broken()

    def _collect_broken(self):
        """One worker died, so the executor failed every run in flight: report each (a run that
        had finished just before keeps its result) and start a new pool."""
        wait(list(self.inflight), timeout=5)
        reason = self._death_reason()
        for fut in list(self.inflight):
            ref, _, _ = self.inflight.pop(fut)
            ok = fut.done() and not fut.cancelled() and fut.exception() is None
            yield ref, (fut.result() if ok else Lost(reason))
        self.pool.shutdown(wait=False, cancel_futures=True)
        self._new_pool()

    def _death_reason(self) -> str:
        procs = list((getattr(self.pool, "_processes", None) or {}).values())
        end = time.monotonic() + 2.0
        # a broken pool terminates every worker; wait until all are reaped (the pool notices a
        # death when the worker's pipe closes, a moment before its exit status is available)
        while any(p.exitcode is None for p in procs) and time.monotonic() < end:
            time.sleep(0.01)
        codes = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
        sig = sorted((-c for c in codes if c < 0), key=lambda s: s == signal.SIGTERM)  # the cause, not the clean-up
        how = f"was killed by signal {sig[0]}" if sig else (f"exited with code {codes[0]}" if codes else "died")
        return f"a worker process {how} while the run was in progress"

    def resubmit_lost(self, ref, task):
        """A lost run's retry: alone in the pool, so its own death is attributable to it."""
        self.submit(ref, task, isolated=True)

    def stop(self):
        self.queue.clear()
        if self.pool is None:
            return
        # no public API stops running calls: terminate the worker processes ourselves
        procs = list(getattr(self.pool, "_processes", {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=5)
        self.inflight.clear()
        self.pool = None


# --- Dask --------------------------------------------------------------------------------

def _worker_report():
    """Run on every Dask worker before the sweep: can it import nlpnet, and which one?"""
    import nlpnet
    return {"version": nlpnet.__version__, "pid": os.getpid()}


class DaskBackend:
    """dask.distributed: a LocalCluster of ``workers`` processes, or a running ``scheduler``."""

    name = "dask"

    def __init__(self, trial, workers: int, scheduler: str | None = None, connect_timeout: float = 10.0,
                 worker_timeout: float = 30.0):
        try:
            import distributed  # noqa: F401
        except ImportError as exc:
            raise ImportError(f"{_DASK_EXTRA} ({exc})") from None
        self.trial, self.workers, self.scheduler = trial, workers, scheduler
        self.connect_timeout, self.worker_timeout = connect_timeout, worker_timeout
        self.cluster = self.client = self.ac = None
        self.refs: dict = {}
        self.token = uuid.uuid4().hex[:8]

    def start(self):
        import logging

        import dask
        from distributed import Client, LocalCluster, as_completed
        if self.scheduler is None:
            with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                                  "distributed.scheduler.worker-saturation": 1.0}):
                self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                            dashboard_address=None, scheduler_kwargs={"dashboard": False},
                                            silence_logs=logging.CRITICAL)  # we report lost runs
                self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(self.scheduler, timeout=f"{self.connect_timeout}s")
            except (OSError, TimeoutError) as exc:
                raise ValueError(f"scheduler: cannot connect to {self.scheduler!r} within {self.connect_timeout:g} s "
                                 f"({exc}); start one with `dask scheduler` and give its tcp:// address") from None
            try:
                self.client.wait_for_workers(1, timeout=self.worker_timeout)
            except (TimeoutError, OSError):
                self.stop()
                raise ValueError(f"scheduler: no worker joined {self.scheduler} within {self.worker_timeout:g} s; "
                                 f"start workers with `dask worker {self.scheduler} --nthreads 1`") from None
        self._check_workers()
        self.ac = as_completed()
        return self

    def _check_workers(self):
        import nlpnet
        try:
            reports = self.client.run(_worker_report)
        except Exception as exc:
            self.stop()
            raise ValueError(f"scheduler: a worker cannot import nlpnet ({type(exc).__name__}: {exc}); install the "
                             "same nlpnet on every worker (or start them with PYTHONPATH pointing at it)") from None
        other = {a: r["version"] for a, r in reports.items() if r["version"] != nlpnet.__version__}
        if other:
            print(f"warning: workers run other nlpnet versions than {nlpnet.__version__}: {other}", file=sys.stderr)

    def submit(self, ref, task):
        key = f"nlpnet-run-{task['config']}-{task['method']}-{task['seed']}-{self.token}-{uuid.uuid4().hex[:6]}"
        fut = self.client.submit(call_trial, self.trial, task, key=key, pure=False)
        self.refs[fut.key] = ref
        self.ac.add(fut)

    def resubmit_lost(self, ref, task):
        self.submit(ref, task)

    def results(self):
        from distributed import KilledWorker
        while not self.ac.is_empty():
            fut = next(self.ac)
            ref = self.refs.pop(fut.key)
            if fut.status == "finished":
                out = fut.result()
            elif fut.status == "cancelled":
                out = Lost("the Dask scheduler cancelled it (was the cluster restarted?)")
            else:
                exc = fut.exception()
                if not isinstance(exc, KilledWorker):
                    raise RuntimeError(f"the Dask cluster failed a run for a reason other than a worker death: "
                                       f"{type(exc).__name__}: {exc}") from exc
                worker = getattr(getattr(exc, "last_worker", None), "address", "")
                out = Lost(f"its Dask worker {worker} died".replace("  ", " "))
            fut.release()
            yield ref, out

    def stop(self):
        if self.client is not None:
            try:
                if self.ac is not None:
                    self.client.cancel(list(self.ac.futures))
                self.client.close(timeout=5)
            except Exception:  # pragma: no cover - closing a dead connection
                pass
            self.client = None
        if self.cluster is not None:
            try:
                self.cluster.close(timeout=10)
            except Exception:  # pragma: no cover
                pass
            self.cluster = None


def make_backend(trial, workers: int, backend: str = "processes", scheduler: str | None = None):
    """The backend for ``--workers W --backend B --scheduler ADDRESS``."""
    if backend == "dask" or scheduler is not None:
        return DaskBackend(trial, workers, scheduler)
    return SerialBackend(trial) if workers == 1 else ProcessBackend(trial, workers)
