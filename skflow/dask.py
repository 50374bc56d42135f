"""Generating rows on a Dask cluster.

:func:`sample_dataframe` turns a fitted sampler into a lazy
:class:`dask.dataframe.DataFrame` of as many rows as asked for, drawn partition
by partition on the workers and written out with Dask's own writers
(``.to_parquet()``). Dask schedules, moves and writes; skflow only says what
each partition holds.

This module needs the ``dask`` extra (``pip install skflow[dask]``: Dask's
DataFrame and distributed scheduler, pandas and pyarrow); ``import skflow``
does not import it. Read more in the :ref:`User Guide <scaling>`.
"""

from __future__ import annotations

import uuid

import numpy as np

try:
    import dask
    import dask.dataframe as dd
except ImportError as exc:  # dask is an optional extra
    raise ImportError(
        "skflow.dask needs Dask's DataFrame (with pandas and pyarrow): "
        "pip install skflow[dask]"
    ) from exc

from ._partitions import (
    PROBE_ROWS,
    check_n_rows,
    choose_npartitions,
    draw_partition,
    partition_seeds,
    partition_sizes,
    partition_starts,
    probe,
    seed_sequence,
)

__all__ = ["fit_partitions", "sample_dataframe", "subsample"]


def _current_client():
    """The distributed ``Client`` in use, or None (no cluster, or no
    distributed installed: Dask's local schedulers run the graph then)."""
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:  # "No clients found"
        return None


def sample_dataframe(
    estimator,
    n_rows,
    *,
    npartitions=None,
    random_state=None,
    client=None,
    target_name="target",
):
    """Generate ``n_rows`` rows as a Dask DataFrame, partition by partition.

    Each partition is drawn on a worker by ``estimator.sample(k,
    random_state=seed)``, with ``seed`` taken from its own child of one
    :class:`numpy.random.SeedSequence`, so the rows are the same whatever the
    number of workers, their threads, or the order the partitions run in. The
    fitted model travels to each worker once, not with every task. Nothing is
    drawn until the result is computed or written (``.to_parquet(path)``).

    Parameters
    ----------
    estimator : fitted sampler
        Any fitted estimator with ``sample``: a skflow sampler, a
        ``GenerativePipeline`` (a ``TabularEncoder`` pipeline gives back the
        table's columns and dtypes), a ``ClassConditionalSampler`` (its labels
        become the column ``target_name``), a ``GroupedSampler``, or
        scikit-learn's ``GaussianMixture`` and ``KernelDensity``.

    n_rows : int
        Number of rows to generate.

    npartitions : int or None, default=None
        Number of partitions; their sizes differ by at most one row. None
        sizes them at about 64 MiB each, measured on a few rows drawn first (a
        number that depends on the model and ``n_rows`` only). The rows depend
        on ``npartitions``: keep it to reproduce a draw.

    random_state : int, numpy.random.SeedSequence, RandomState or None, \
default=None
        Seeds the partitions. An int or a SeedSequence gives the same rows on
        every call; a ``RandomState`` gives one draw of it; None fresh rows
        from the operating system's entropy.

    client : distributed.Client or None, default=None
        The cluster to scatter the model to. None uses the client in use (the
        last one created) if there is one; without any, the model is one task
        of the graph, so the result computes with any Dask scheduler.

    target_name : str, default="target"
        Name of the label column for a model whose ``sample`` returns labels
        (``ClassConditionalSampler``).

    Returns
    -------
    frame : dask.dataframe.DataFrame
        ``n_rows`` rows in ``npartitions`` partitions, with a global integer
        index ``0 .. n_rows - 1`` (known divisions). Its columns are those the
        model was fitted with (``x0``, ``x1``, ... for a model fitted on an
        array) with the dtypes its ``sample`` returns.

    Raises
    ------
    ValueError
        If ``n_rows`` or ``npartitions`` is not a positive integer, or
        ``npartitions > n_rows``.

    See Also
    --------
    skflow.GroupedSampler : One model per group, fitted over a cluster.

    Notes
    -----
    Partition ``k`` holds rows ``start_k .. start_k + size_k - 1`` and is
    drawn with the ``k``-th spawned child of
    ``SeedSequence(random_state)``; ``fit-sample --output rows.parquet`` on
    the command line draws the same partitions in one process.

    The model is shipped once per worker: with a distributed client it is
    scattered to every worker (``client.scatter(estimator, broadcast=True)``)
    and each task refers to that copy; without one it is a single task that
    every partition depends on, which Dask's schedulers compute once and share.
    Memory on a worker is the model plus the partitions it holds at once
    (about 64 MiB each by default, one or two per thread while writing), so it
    does not grow with ``n_rows``.

    Bit-identical rows also need the same number of torch threads per draw
    (see "Do threads change the rows?" in the performance guide). Dask's
    worker processes run with ``OMP_NUM_THREADS=1``, which skflow's thread
    policy follows; for in-process workers set ``SKFLOW_NUM_THREADS=1`` or
    give the sampler a fixed ``n_jobs``.

    A result built with a client refers to the model scattered to that
    cluster: compute it there (not with ``scheduler="sync"``), while the
    client is open.

    Examples
    --------
    >>> import numpy as np
    >>> from skflow import SlicedWassersteinFlow
    >>> from skflow.dask import sample_dataframe
    >>> X = np.random.RandomState(0).normal(size=(100, 2))
    >>> sampler = SlicedWassersteinFlow(
    ...     max_iter=2, hidden_layer_sizes=(8,), device="cpu", random_state=0
    ... ).fit(X)
    >>> frame = sample_dataframe(sampler, 1000, npartitions=4, random_state=0)
    >>> frame.npartitions, list(frame.columns)
    (4, ['x0', 'x1'])
    >>> frame.compute(scheduler="sync").shape
    (1000, 2)
    """
    n_rows = check_n_rows(n_rows)
    meta, names, bytes_per_row = probe(estimator, min(n_rows, PROBE_ROWS), target_name)
    npartitions = choose_npartitions(n_rows, npartitions, bytes_per_row)
    sizes = partition_sizes(n_rows, npartitions)
    starts = partition_starts(sizes)
    sizes = sizes.tolist()
    seeds = partition_seeds(seed_sequence(random_state), npartitions)
    divisions = (*starts, n_rows - 1)
    if client is None:
        client = _current_client()
    # The dtypes are the model's own: no conversion of text columns to
    # pyarrow strings on the way (dask's "dataframe.convert-string").
    with dask.config.set({"dataframe.convert-string": False}):
        if client is not None:
            model = client.scatter(estimator, broadcast=True, hash=False)
            return dd.from_map(
                draw_partition,
                sizes,
                seeds,
                starts,
                args=[model, names, target_name, meta],
                meta=meta,
                divisions=divisions,
                label="skflow-sample",
            )
        name = f"skflow-sample-{uuid.uuid4().hex}"
        model = dask.delayed(estimator, name=f"{name}-model", traverse=False)
        parts = [
            dask.delayed(draw_partition)(
                size,
                seed,
                start,
                model,
                names,
                target_name,
                meta,
                dask_key_name=(name, k),
            )
            for k, (size, seed, start) in enumerate(zip(sizes, seeds, starts))
        ]
        return dd.from_delayed(parts, meta=meta, divisions=divisions, verify_meta=False)


def _take(part, n_rows: int, seed: int):
    """``n_rows`` rows of the pandas frame ``part``, uniformly without
    replacement, in their order."""
    if n_rows == 0:
        return part.iloc[:0]
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(part), size=n_rows, replace=False))
    return part.iloc[chosen]


def subsample(data, n_rows, *, random_state=None, columns=None):
    """A uniform random sample of the rows of a Dask DataFrame or Parquet dataset.

    Every set of ``n_rows`` rows is equally likely, as with
    ``frame.sample(n=n_rows)`` on the whole table, but only one partition at
    a time is in a worker's memory: the number of rows taken from each
    partition is one multivariate hypergeometric draw over the partition
    lengths, and each partition gives its share in one task. The result is a
    pandas DataFrame in memory, ready for ``fit``.

    Parameters
    ----------
    data : dask.dataframe.DataFrame or str or path-like
        The rows, or the path of a Parquet dataset (a file or a folder, local
        or remote) read with :func:`dask.dataframe.read_parquet`.

    n_rows : int
        Number of rows to take; at most the number of rows of ``data``.

    random_state : int, numpy.random.SeedSequence, RandomState or None, \
default=None
        Seeds the draw: an int or a SeedSequence gives the same rows on every
        call (for the same partitioning), None fresh rows.

    columns : list or None, default=None
        Read only these columns (from a Parquet dataset, the others are never
        loaded).

    Returns
    -------
    rows : pandas.DataFrame of shape (n_rows, n_columns)
        The sampled rows, partition by partition, in their original order and
        with their original index.

    Raises
    ------
    ValueError
        If ``n_rows`` is not a positive integer or exceeds the number of rows.

    See Also
    --------
    fit_partitions : Fit a minibatch sampler on every partition in turn.
    sample_dataframe : Generate rows partition by partition.

    Notes
    -----
    This is the out-of-core recipe for skflow's samplers: a minibatch fit
    never uses more rows than its batch budget (``SlicedWassersteinFlow``:
    ``max_iter * n_inner_steps * batch_size``; ``ProximalMFGFlow``:
    ``max_iter * n_critic_steps * batch_size``;
    ``EntropicOTGenerator(solver="sinkhorn")``: ``max_iter * 2 * batch_size``), so
    a uniform sample of that many rows is as much data as one fit can see.
    ``LipschitzParticleSampler`` and the semi-discrete ``EntropicOTGenerator``
    hold every data row at once (a critic evaluated on all of them, a dual
    weight per row): fit them on a subsample of the size memory allows. The
    minibatch samplers can also stream every partition
    (:func:`fit_partitions`). Cost:
    one pass to count the rows of each partition and one to take them.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import pandas as pd
    >>> from skflow.dask import subsample
    >>> frame = dd.from_pandas(pd.DataFrame({"x": range(1000)}), npartitions=4)
    >>> rows = subsample(frame, 10, random_state=0)
    >>> rows.shape, rows["x"].is_unique
    ((10, 1), True)
    """
    n_rows = check_n_rows(n_rows)
    if not hasattr(data, "npartitions"):
        data = dd.read_parquet(data, columns=columns)
    elif columns is not None:
        data = data[list(columns)]
    root = seed_sequence(random_state)
    # The partitions as one fixed list: Dask may fuse or split the partitions
    # of a Parquet dataset differently for each expression it optimises, so the
    # lengths and the takes must come from the same ones.
    partitions = data.to_delayed()
    lengths = np.asarray(
        dask.compute(*[dask.delayed(len)(part) for part in partitions]),
        dtype=np.int64,
    )
    total = int(lengths.sum())
    if n_rows > total:
        raise ValueError(
            f"n_rows={n_rows} is more than the {total} rows of the data; ask for "
            "at most that many (or fit on all of them)."
        )
    counter, *children = root.spawn(1 + len(lengths))
    counts = np.random.default_rng(counter).multivariate_hypergeometric(
        lengths, n_rows, method="marginals"
    )
    seeds = [int(child.generate_state(1)[0]) for child in children]
    parts = [
        dask.delayed(_take)(part, int(count), seed)
        for part, count, seed in zip(partitions, counts, seeds)
        if count > 0
    ]
    import pandas as pd

    return pd.concat(dask.compute(*parts), axis=0)


def _check_streamable(estimator) -> None:
    """Refuse, before any partition is read, samplers that cannot be fitted on
    streamed rows."""
    from ._streaming import SUBSAMPLE_HINT, StreamingFitMixin

    if not isinstance(estimator, StreamingFitMixin):
        raise ValueError(
            "fit_partitions streams rows into the minibatch samplers "
            "(SlicedWassersteinFlow, ProximalMFGFlow, EntropicOTGenerator with "
            f"the Sinkhorn solver); {type(estimator).__name__} is not one of them "
            "(LipschitzParticleSampler moves particles fitted to every row at "
            "once): " + SUBSAMPLE_HINT
        )
    estimator._check_streamable()


class _PartitionStream:
    """Scaled batches of rows, partition after partition, each row once a pass.

    The partitions are visited in a random order; each is validated and scaled
    as the fitted estimator scales rows, its rows shuffled, and served
    ``batch_size`` at a time. Rows left over at the end of a partition are
    served with the next one's; after the last partition a new pass starts in
    a new order. With a distributed client the next partition is read on the
    cluster while the current one is served.
    """

    def __init__(self, partitions, rng, client):
        self.partitions = partitions
        self.rng = rng
        self.client = client
        self.order = list(rng.permutation(len(partitions)))
        self.position = 0
        self.pending = None
        self.n_read = 0

    def _submit(self):
        """Start reading the next partition (on the cluster, with a client)."""
        if self.position == len(self.order):
            self.order = list(self.rng.permutation(len(self.partitions)))
            self.position = 0
        part = self.partitions[self.order[self.position]]
        self.position += 1
        self.pending = self.client.compute(part) if self.client else part

    def read(self):
        """The next partition's rows (a pandas DataFrame)."""
        if self.pending is None:
            self._submit()
        pending = self.pending
        self._submit()
        self.n_read += 1
        return pending.result() if self.client else pending.compute()

    def batches(self, estimator, first_scaled, batch_size, device, dtype):
        """A callable returning the next ``batch_size`` scaled rows as a tensor
        on ``device`` (for ``skflow._streaming.StreamingFitMixin``)."""
        import torch

        from ._torch_utils import to_tensor

        def shuffled(scaled):
            return to_tensor(scaled[self.rng.permutation(len(scaled))], device, dtype)

        buffer = {"rows": shuffled(first_scaled), "at": 0}

        def next_batch():
            rows, at = buffer["rows"], buffer["at"]
            while len(rows) - at < batch_size:
                block = estimator._validate_data_against_fit(self.read())
                rows = torch.cat([rows[at:], shuffled(estimator._scale(block))])
                at = 0
            buffer["rows"], buffer["at"] = rows, at + batch_size
            return rows[at : at + batch_size]

        return next_batch


def fit_partitions(estimator, data, *, columns=None, random_state=None):
    """Fit a minibatch sampler on rows streamed partition by partition.

    One ordinary fit of ``max_iter`` iterations whose data batches come from
    the dataset partition after partition: the first partition visited sets
    the scaling and the Gaussian start (as ``fit`` would on it), and its rows,
    then the next partition's, and so on, are served a batch at a time, each
    row once (a new pass in a new order if the fit outlasts the data). Only
    the partition being served and the next one (read meanwhile on the
    cluster) are in memory.

    Parameters
    ----------
    estimator : SlicedWassersteinFlow, ProximalMFGFlow or EntropicOTGenerator
        The sampler to fit, in place: a ``SlicedWassersteinFlow`` with the
        generator or normalizing-flow parameterization, a ``ProximalMFGFlow``,
        or an ``EntropicOTGenerator`` with ``solver="sinkhorn"`` or
        ``"auto"`` (which streams with the Sinkhorn solver); none private. A
        fit sees its batch budget of rows (``SlicedWassersteinFlow``:
        ``max_iter * n_inner_steps * batch_size``; ``ProximalMFGFlow``:
        ``max_iter * n_critic_steps * batch_size``; ``EntropicOTGenerator``:
        ``max_iter * 2 * batch_size``): a dataset larger than that is read
        only as far as needed.

    data : dask.dataframe.DataFrame or str or path-like
        Numeric rows, or the path of a Parquet dataset read with
        :func:`dask.dataframe.read_parquet`.

    columns : list or None, default=None
        Fit only these columns (from a Parquet dataset, the others are never
        read).

    random_state : int, numpy.random.SeedSequence, RandomState or None, \
default=None
        Seeds the order of the partitions and of the rows within each. With an
        int, and the estimator's own ``random_state`` an int, the fit repeats
        exactly.

    Returns
    -------
    estimator : SlicedWassersteinFlow, ProximalMFGFlow or EntropicOTGenerator
        The fitted ``estimator``.

    Raises
    ------
    ValueError
        Before any partition is read, if ``estimator`` holds every row at once
        (``LipschitzParticleSampler``, the particle parameterization, the
        semi-discrete solver) or is private: fit those on :func:`subsample`.

    See Also
    --------
    subsample : A uniform sample of the rows, for an ordinary fit of any
        sampler.

    Notes
    -----
    Streaming suits a fit whose batch budget is smaller than the data, or
    about its size: each batch is fresh rows, as in a fit on a subsample of the
    budget. While rows of one partition are served they stand for the whole
    dataset, so the partitions should be samples of the same distribution:
    shuffle a dataset that is sorted or grouped (``frame.shuffle(...)``) before
    writing it, or use :func:`subsample`, which draws uniformly from every
    partition. The scaling comes from the first partition visited.

    dask-ml's ``Incremental`` calls ``partial_fit`` once per block instead;
    continuing skflow's fits that way (``warm_start`` on each partition)
    restarts the Adam optimiser at every partition, which the benchmark
    measured as a clearly worse fit, so it is not offered.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skflow import SlicedWassersteinFlow
    >>> from skflow.dask import fit_partitions
    >>> rows = pd.DataFrame(np.random.RandomState(0).normal(size=(600, 2)))
    >>> frame = dd.from_pandas(rows, npartitions=3)
    >>> flow = SlicedWassersteinFlow(
    ...     max_iter=2, batch_size=100, hidden_layer_sizes=(8,), device="cpu",
    ...     random_state=0,
    ... )
    >>> flow = fit_partitions(flow, frame, random_state=0)
    >>> flow.n_iter_, flow.sample(4).shape
    (2, (4, 2))
    """
    _check_streamable(estimator)
    if not hasattr(data, "npartitions"):
        data = dd.read_parquet(data, columns=columns)
    elif columns is not None:
        data = data[list(columns)]
    rng = np.random.default_rng(seed_sequence(random_state))
    stream = _PartitionStream(data.to_delayed(), rng, _current_client())
    return estimator._fit_stream(stream.read(), stream)
