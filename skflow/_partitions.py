"""Many rows drawn in partitions: the same rows however they are computed.

:func:`skflow.dask.sample_dataframe` computes the partitions on a Dask cluster;
the command line's Parquet output (``fit-sample --output rows.parquet``) draws
them one after the other in one process. Both split ``n_rows`` with
:func:`partition_sizes`, seed partition ``k`` with the ``k``-th child of one
:class:`numpy.random.SeedSequence` (:func:`partition_seeds`) and draw it with
:func:`draw_partition`. A partition's rows therefore depend on the fitted model,
its size and its seed only: not on the number of workers, on the order in which
partitions run, or on which of the two callers made them.

pandas is imported inside the functions: skflow imports without it.
"""

from __future__ import annotations

import copy
import inspect
import math
from numbers import Integral

import numpy as np

from ._validation import check_count

# Partitions are sized so that one holds about this many bytes of rows: large
# enough that the per-task overhead of a scheduler (about a millisecond) is
# negligible next to drawing the rows, small enough that a worker with a few
# threads holds a few of them at once in a fraction of its memory.
PARTITION_BYTES = 64 * 2**20

# Rows drawn once, before any partition, to learn the columns, their dtypes and
# the size of a row.
PROBE_ROWS = 64


def seed_sequence(random_state) -> np.random.SeedSequence:
    """The root :class:`~numpy.random.SeedSequence` of a partitioned draw.

    Parameters
    ----------
    random_state : int, numpy.random.SeedSequence, RandomState, Generator or None
        An int (>= 0) or a SeedSequence gives the same partitions on every
        call (a SeedSequence is copied, so that spawning never advances the
        caller's); a ``RandomState`` or ``Generator`` gives one draw of it;
        None the operating system's entropy.
    """
    if random_state is None:
        return np.random.SeedSequence()
    if isinstance(random_state, np.random.SeedSequence):
        return np.random.SeedSequence(
            random_state.entropy, spawn_key=random_state.spawn_key
        )
    if isinstance(random_state, np.random.RandomState):
        return np.random.SeedSequence(int(random_state.randint(2**31 - 1)))
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(2**63 - 1)))
    if (
        isinstance(random_state, (bool, np.bool_))
        or not isinstance(random_state, Integral)
        or random_state < 0
    ):
        raise ValueError(
            "random_state must be a non-negative integer, a "
            "numpy.random.SeedSequence, RandomState or Generator, or None; got "
            f"{random_state!r}."
        )
    return np.random.SeedSequence(int(random_state))


def partition_seeds(root: np.random.SeedSequence, npartitions: int) -> list[int]:
    """One seed per partition: a 32-bit draw of each spawned child of ``root``.

    Spawned children are independent streams by construction (numpy's
    recommended way to seed parallel work), and child ``k`` is the same
    whatever ``npartitions`` is, so partition ``k`` of a draw with more
    partitions starts from the same seed.
    """
    return [int(child.generate_state(1)[0]) for child in root.spawn(npartitions)]


def partition_sizes(n_rows: int, npartitions: int) -> np.ndarray:
    """Split ``n_rows`` into ``npartitions`` sizes that differ by at most one.

    The first ``n_rows % npartitions`` partitions get one row more, as
    :func:`numpy.array_split` does.
    """
    sizes = np.full(npartitions, n_rows // npartitions, dtype=np.int64)
    sizes[: n_rows % npartitions] += 1
    return sizes


def check_n_rows(n_rows) -> int:
    """Validate the number of rows of a partitioned draw."""
    return check_count(
        n_rows, "n_rows", remedy="pass the number of rows to generate, e.g. 10**6."
    )


def choose_npartitions(n_rows: int, npartitions, bytes_per_row: float) -> int:
    """Validate ``npartitions``, or choose it when None.

    None gives partitions of about :data:`PARTITION_BYTES` each, from the
    measured size of a row: a number that depends on the model and
    ``n_rows`` only, never on the machine, so the rows stay the same.
    """
    npartitions = check_count(
        npartitions,
        "npartitions",
        allow_none=True,
        remedy="pass None to size partitions at about 64 MiB each.",
    )
    if npartitions is None:
        npartitions = math.ceil(n_rows * max(bytes_per_row, 1.0) / PARTITION_BYTES)
        return max(1, min(npartitions, n_rows))
    if npartitions > n_rows:
        raise ValueError(
            f"npartitions={npartitions} is more than n_rows={n_rows}: every "
            "partition needs at least one row; pass npartitions <= n_rows."
        )
    return npartitions


def partition_starts(sizes: np.ndarray) -> list[int]:
    """Position of each partition's first row."""
    return [0, *np.cumsum(sizes)[:-1].tolist()]


def _sample(estimator, n_rows: int, seed: int):
    """``estimator.sample(n_rows)`` seeded by ``seed``, without changing it.

    skflow samplers (and scikit-learn's ``KernelDensity``) take the seed in
    ``sample``, and concurrent calls on one model are safe. scikit-learn's
    ``GaussianMixture`` reads its constructor's ``random_state``: it is
    copied first, so that partitions drawn in threads of one worker never set
    each other's seed.
    """
    if "random_state" in inspect.signature(estimator.sample).parameters:
        return estimator.sample(n_rows, random_state=seed)
    seeded = copy.deepcopy(estimator).set_params(random_state=seed)
    return seeded.sample(n_rows)


def output_names(estimator, n_columns: int) -> list:
    """Column names for an estimator whose ``sample`` returns an array: the
    names it was fitted with if any, else ``x0``, ``x1``, ..."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and len(names) == n_columns:
        return list(names)
    return [f"x{i}" for i in range(n_columns)]


def draw_partition(
    n_rows, seed, start, estimator, names=None, target_name="target", meta=None
):
    """The ``n_rows`` rows of one partition, as a DataFrame.

    Parameters
    ----------
    n_rows : int
        Rows in the partition.
    seed : int
        The partition's seed, passed to ``estimator.sample``.
    start : int
        Position of the partition's first row in the whole draw: the frame's
        index is ``RangeIndex(start, start + n_rows)``.
    estimator : fitted sampler
        Its ``sample`` may return an array, a DataFrame, or (as
        ``ClassConditionalSampler`` does) a tuple ``(X, y)``; the labels of a
        model with ``classes_`` become the column ``target_name``, the second
        item of any other tuple (``GaussianMixture``'s component labels) is
        dropped.
    names : list or None
        Column names for array output (None: :func:`output_names`).
    target_name : str
        Name of the label column.
    meta : DataFrame or None
        An empty frame whose dtypes the partition is cast to where it differs,
        so that every partition has the dtypes the collection announces.
    """
    rows = _sample(estimator, int(n_rows), int(seed))
    frame = _as_frame(rows, estimator, names, target_name, int(start))
    if meta is not None and not frame.dtypes.equals(meta.dtypes):
        frame = frame.astype(meta.dtypes.to_dict())
    return frame


def _as_frame(rows, estimator, names, target_name: str, start: int):
    """What ``sample`` returned, as a DataFrame indexed from ``start``."""
    import pandas as pd

    labels = None
    if isinstance(rows, tuple):
        rows, labels = rows[0], (rows[1] if hasattr(estimator, "classes_") else None)
    if isinstance(rows, pd.DataFrame):
        frame = rows
    else:
        rows = np.asarray(rows)
        if names is None:
            names = output_names(estimator, rows.shape[1])
        frame = pd.DataFrame(rows, columns=names)
    if labels is not None:
        if target_name in frame.columns:
            raise ValueError(
                f"target_name={target_name!r} is already a column of the "
                "generated rows; pass another target_name for the labels."
            )
        frame[target_name] = np.asarray(labels)
    frame.index = pd.RangeIndex(start, start + len(frame))
    return frame


def probe(estimator, n_rows: int, target_name: str):
    """A few rows drawn to learn the output: ``(meta, names, bytes_per_row)``.

    ``meta`` is an empty frame with the columns and dtypes of every partition,
    ``names`` the column names given to array output (None for a model that
    returns DataFrames), ``bytes_per_row`` the memory of one row in pandas.
    """
    from sklearn.utils.validation import check_is_fitted

    if not hasattr(estimator, "sample"):
        raise TypeError(
            f"{type(estimator).__name__} has no sample method; pass a fitted "
            "sampler (a skflow sampler, a GenerativePipeline, a "
            "ClassConditionalSampler or a GroupedSampler)."
        )
    check_is_fitted(estimator)
    rows = _sample(estimator, min(int(n_rows), PROBE_ROWS), 0)
    first = rows[0] if isinstance(rows, tuple) else rows
    names = (
        None
        if hasattr(first, "columns")
        else output_names(estimator, np.asarray(first).shape[1])
    )
    frame = _as_frame(rows, estimator, names, target_name, 0)
    bytes_per_row = frame.memory_usage(deep=True, index=False).sum() / len(frame)
    return frame.iloc[:0], names, float(bytes_per_row)
