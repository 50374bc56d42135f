"""Fits on rows streamed from outside memory, shared by the minibatch families.

:func:`skflow.dask.fit_partitions` reads a dataset partition after partition
and hands the estimator a *stream*: an object whose ``batches(estimator,
first_scaled, batch_size, device, dtype)`` returns a callable giving the next
``batch_size`` scaled rows as a tensor. A family whose every use of the data
is a fresh minibatch (the sliced-Wasserstein flow's functional, the proximal
flow's critic batches, the Sinkhorn solver's data batches) can draw those
batches from the stream instead of from the rows in memory; the first block
sets the scaling, the Gaussian start and the columns, as ``fit`` would.

Families that hold every row at once (the particle flows, the semi-discrete
solver's one dual weight per row) refuse, and so do private fits: the privacy
accounting needs the number of rows and Poisson batches over all of them.
"""

from __future__ import annotations

from ._base import keeps_state_on_failure
from ._compat import _fit_context
from ._torch_utils import to_tensor

SUBSAMPLE_HINT = (
    "fit it on skflow.dask.subsample(data, n_rows) instead, with as many rows "
    "as its batch budget (or memory) allows."
)


class StreamingFitMixin:
    """``_fit_stream`` for a :class:`~skflow._base.BaseSampler` whose
    ``_fit_scaled(data, rng, next_batch=None)`` can take its data batches
    from a stream.

    A family sets :meth:`_stream_batch_rows` (rows per data batch) and extends
    :meth:`_check_streamable` with the settings that need every row at once.
    """

    def _stream_batch_rows(self) -> int:
        """Rows of one data batch of the fit."""
        return int(self.batch_size)

    def _check_streamable(self) -> None:
        """Raise a ``ValueError`` where these settings cannot stream rows."""
        if getattr(self, "privacy", None) is not None:
            raise ValueError(
                f"A private {type(self).__name__} cannot be fitted on streamed "
                "partitions: its privacy accounting draws Poisson batches over "
                "a known number of rows. Fit it on skflow.dask.subsample(data, "
                "n_rows) instead."
            )

    @_fit_context(prefer_skip_nested_validation=True)
    @keeps_state_on_failure
    def _fit_stream(self, first, stream):
        """Fit on rows streamed from outside memory.

        ``first`` (the first block of rows, a DataFrame or array) sets the
        scaling, the Gaussian start and the columns, as ``fit`` would; every
        data batch then comes from ``stream.batches(self, scaled_first,
        self._stream_batch_rows(), device, dtype)``. A fresh fit: a fitted
        model is not continued, whatever ``warm_start`` says.
        """
        self._check_streamable()
        X = self._validate_fit_data(first)
        scaled = self._fit_scaling(X)

        def fit_step(rng, device, dtype):
            next_batch = stream.batches(
                self, scaled, self._stream_batch_rows(), device, dtype
            )
            self._fit_scaled(
                to_tensor(scaled, device, dtype), rng, next_batch=next_batch
            )

        self._fit_on_device(fit_step)
        self._check_diverged(scaled)
        return self
