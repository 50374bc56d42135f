"""The thread policy: how many CPU threads torch may use in one fit or draw.

skflow's networks are small (tens to hundreds of units, batches of hundreds of
rows). On such kernels a second intra-op thread buys little, and on a machine
whose cores are busy with other work it costs a great deal: OpenMP threads that
wait for a preempted sibling spin, and a fit that takes seconds on one thread
took minutes with torch's default of one thread per core. So every fit, draw,
score and transform runs inside :func:`torch_threads`, with the count that
:func:`resolve_n_threads` gives for the problem's size and the cores free at
that moment, and the caller's settings come back afterwards.

Written here because neither torch nor threadpoolctl scopes torch's intra-op
thread count to a block of code: ``torch.set_num_threads`` is process-wide, and
threadpoolctl limits the BLAS and OpenMP libraries it finds (used here for
numpy's BLAS) but not torch's own thread pool.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import torch

# Multiply-adds per training or sampling batch (rows x widest layer^2) below
# which one thread is used whatever the machine's state: a draw of a few rows,
# where waking a second thread costs more than it saves. Above it the policy
# reads the load. Measured by benchmarks/bench_threads.py (doc/performance.md)
# on the 2-core CI machine, idle: a single MLP step is too short to time well
# below 1e7 multiply-adds (two threads 0.8-1.2x one, run to run), but whole
# fits at the default settings (batches of 256-1,024 rows x width 64, 1e6-4e6)
# ran up to 1.5x faster on two idle cores (SlicedWassersteinFlow on wine: 6.6 s
# against 9.6 s), and 2-3x slower on two cores beside a busy process.
PARALLEL_WORK = 1.0e6

# Reads of the scheduler's run queue per decision: a CPU-bound neighbour is
# runnable at every read, a short-lived one rarely at all of them.
_LOAD_READS = 3
_LOAD_READ_PAUSE = 0.001

# Environment variables through which a parent process caps its children's
# threads: joblib's loky backend sets them to cpu_count // n_jobs in each worker,
# so nested parallelism (one process per class, per candidate) never runs more
# threads than there are cores.
_THREAD_LIMIT_VARIABLES = ("SKFLOW_NUM_THREADS", "OMP_NUM_THREADS")


def available_cpus() -> int:
    """CPUs this process may use: its affinity mask, capped by the environment.

    ``SKFLOW_NUM_THREADS`` (or, failing it, ``OMP_NUM_THREADS``, which joblib
    sets in its worker processes) caps the count when it holds a positive
    integer.
    """
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity masks
        count = os.cpu_count() or 1
    for name in _THREAD_LIMIT_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return max(1, min(count, int(value)))
    return max(1, count)


def busy_cpus_elsewhere() -> int:
    """CPUs that other processes keep busy now: the run queue less our threads.

    The fourth field of ``/proc/loadavg`` counts the tasks runnable right now
    (an instant reading, unlike the load averages, which lag by a minute); this
    process's own runnable threads (torch's pool may still be spinning from the
    last call) are subtracted. The smallest of a few reads a millisecond apart
    is kept, so a task that ran for an instant does not count. 0 where
    ``/proc`` is not there (macOS, Windows).
    """
    busy = None
    for read in range(_LOAD_READS):
        if read:
            time.sleep(_LOAD_READ_PAUSE)
        try:
            with open("/proc/loadavg") as loadavg:
                running = int(loadavg.read().split()[3].split("/")[0])
            own = sum(_is_running(task) for task in os.listdir("/proc/self/task"))
        except (OSError, ValueError, IndexError):
            return 0
        busy = max(0, running - own) if busy is None else min(busy, running - own)
    return max(0, busy)


def _is_running(task: str) -> bool:
    try:
        with open(f"/proc/self/task/{task}/stat") as stat:
            line = stat.read()
    except OSError:  # the thread ended between the listing and the read
        return False
    # The state letter follows the parenthesised command name, which may
    # itself hold spaces or parentheses.
    return line[line.rindex(")") + 2] == "R"


def resolve_n_threads(n_jobs: int | None, work: float) -> int:
    """The number of torch threads for one call.

    Parameters
    ----------
    n_jobs : int or None
        The estimator's parameter. None: one thread when ``work`` is below
        :data:`PARALLEL_WORK`; above it, the available CPUs
        (:func:`available_cpus`) that no other process keeps busy
        (:func:`busy_cpus_elsewhere`), at least one. A positive int: that many
        threads, at most the available CPUs (more only contend for them, and
        ``n_jobs=10**12`` would overflow torch's setting). A negative int
        counts back from the available CPUs, scikit-learn's way: -1 is all of
        them, -2 all but one.
    work : float
        Multiply-adds of one batch of the call (rows x widest layer squared).
    """
    cpus = available_cpus()
    if n_jobs is None:
        if work < PARALLEL_WORK or cpus == 1:
            return 1
        return max(1, cpus - busy_cpus_elsewhere())
    if n_jobs < 0:
        return max(1, cpus + 1 + n_jobs)
    return min(int(n_jobs), cpus)


# Calls in flight across Python threads, and the setting to restore when the
# last of them ends: torch's thread count is process-wide, so two fits running
# in threads (joblib's threading backend) must not restore each other's.
_lock = threading.Lock()
_in_flight = 0
_outside: int | None = None
# Per Python thread: the counts of the calls it has entered, innermost last.
_local = threading.local()
_blas = None


def _blas_controller():
    """threadpoolctl's view of the loaded BLAS libraries, found once."""
    global _blas
    if _blas is None:
        from threadpoolctl import ThreadpoolController

        _blas = ThreadpoolController().select(user_api="blas")
    return _blas


_openmp = None


@contextmanager
def openmp_threads(n_threads: int | None = None) -> Iterator[None]:
    """Run the block with at most ``n_threads`` OpenMP threads.

    For scikit-learn's OpenMP code (HistGradientBoosting in ``c2st_auc``): by
    default it spins up one thread per core, and beside another busy process
    its threads wait on each other, measured at 2-27 s instead of 0.2 s on a
    2-core machine. None applies the thread policy for a large call: the
    available CPUs that no other process keeps busy, at least one.
    """
    global _openmp
    if n_threads is None:
        n_threads = resolve_n_threads(None, PARALLEL_WORK)
    if _openmp is None:
        from threadpoolctl import ThreadpoolController

        _openmp = ThreadpoolController().select(user_api="openmp")
    with _openmp.limit(limits=n_threads):
        yield


@contextmanager
def torch_threads(n_threads: int) -> Iterator[None]:
    """Run the block with ``n_threads`` torch intra-op threads (and BLAS threads).

    The caller's torch setting comes back when the block ends, also after an
    exception; nested blocks restore their enclosing block's count. numpy's BLAS
    (through threadpoolctl) is limited to the same count for the block.
    """
    global _in_flight, _outside
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    with _lock:
        if _in_flight == 0:
            _outside = torch.get_num_threads()
        _in_flight += 1
        stack.append(n_threads)
        if torch.get_num_threads() != n_threads:
            torch.set_num_threads(n_threads)
    try:
        with _blas_controller().limit(limits=n_threads):
            yield
    finally:
        with _lock:
            stack.pop()
            _in_flight -= 1
            if stack:
                restore = stack[-1]
            elif _in_flight == 0:
                restore = _outside
            else:
                restore = None
            if restore is not None and torch.get_num_threads() != restore:
                torch.set_num_threads(restore)
