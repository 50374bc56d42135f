"""The one training loop of skflow: windows, rollback, interruption, progress.

Every iterative fit in skflow runs the same loop. A core supplies its
mathematics as a :class:`TrainingStep` (one iteration on the device, and what
the host needs to know at the end of a window); :func:`run_loop` owns the rest:

* iterations run in windows of ``check_every``; the host synchronises once per
  window, never inside it, so a GPU queue stays full;
* a window whose values are not finite is rolled back to the last finite state
  with halved learning rates and run again (:class:`~skflow._recovery.
  FiniteCheckpoint`); after ``max_recoveries`` rollbacks the loop gives up and
  reports the iteration in :attr:`LoopOutcome.non_finite_at`;
* a finite window is saved, reported to the progress callback and tested by the
  step's stop rules (tolerance, memorisation, early stopping);
* Ctrl-C (``KeyboardInterrupt``) keeps the iterations completed so far, or is
  passed on when there are none.

This is the split of scikit-learn's ``BaseMixture.fit_predict`` (the base class
owns the EM loop, subclasses supply the E and M steps) and of skorch's
``NeuralNet.fit_loop`` (the loop owns epochs and callbacks, the module its
forward pass). It is written here by hand because neither torch nor
scikit-learn has such a loop: torch leaves the loop to its users, and neither
``BaseMixture`` nor skorch synchronises by windows or rolls a window back.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch

from ._recovery import MAX_RECOVERIES, FiniteCheckpoint, Recovery


class LoopOutcome(NamedTuple):
    """How a training loop ended; one field of every core's result.

    Attributes
    ----------
    n_iter : int
        Iterations (epochs, JKO steps) completed; the traces of a result hold
        this many rows.
    stop_reason : str
        ``"max_iter"``, or the reason a stop rule of the step gave
        (``"tol"``, ``"memorization"``, ``"early_stopping"``).
    non_finite_at : int or None
        The (0-based) first non-finite iteration of the window that was still
        non-finite once the allowed rollbacks were spent; None otherwise.
    interrupted : bool
        Whether Ctrl-C (``KeyboardInterrupt``) ended the loop; the result then
        holds the last completed iteration.
    recoveries : tuple of Recovery
        Rollbacks to the last finite state, each with halved learning rates;
        see :class:`skflow._recovery.FiniteCheckpoint`.
    """

    n_iter: int
    stop_reason: str = "max_iter"
    non_finite_at: int | None = None
    interrupted: bool = False
    recoveries: tuple[Recovery, ...] = ()


class TrainingStep(ABC):
    """One iteration of a fit and its state, as :func:`run_loop` drives it.

    A subclass holds the tensors it trains and sets the three attributes the
    checkpoint needs. :meth:`run` works on the device only and writes iteration
    ``i``'s row of preallocated traces; :meth:`check` gathers, on the device,
    everything the host needs at the end of a window, which :func:`run_loop`
    then reads in one transfer.

    Attributes
    ----------
    max_iter : int
        Iterations to run at most: the length of the step's traces, which
        :func:`run_loop` reads so that the two cannot disagree.
    in_place : sequence of Tensor
        Tensors updated in place (network parameters, particles, averages);
        saved and restored in place.
    optimizers : sequence of torch.optim.Optimizer
        Their moments are saved; their learning rates are halved per rollback.
    schedulers : sequence of learning-rate schedulers
        Their position is saved; their base rates are halved with the rates.
    step_factor : float
        ``0.5 ** rollbacks`` so far, kept current by :func:`run_loop`: a step
        whose step sizes are not learning rates of ``optimizers`` (a dual
        ascent step, say) multiplies them by it.
    """

    max_iter: int
    in_place: Sequence[torch.Tensor] = ()
    optimizers: Sequence[torch.optim.Optimizer] = ()
    schedulers: Sequence = ()
    step_factor: float = 1.0

    @abstractmethod
    def run(self, iteration: int) -> None:
        """Run the 0-based ``iteration`` and write its row of the traces.

        No host reads (``.item()``, ``.tolist()``, ``float(tensor)``, ``bool``
        of a tensor): the loop synchronises once per window, in :meth:`check`.
        """

    @abstractmethod
    def check(self, window: slice) -> tuple[torch.Tensor, torch.Tensor]:
        """What the host needs after the iterations of ``window``, on the device.

        Returns
        -------
        finite : Tensor of dtype bool, scalar
            Whether the window's trace rows and the state are finite.
        values : Tensor of shape (k,)
            The numbers :meth:`report` and :meth:`stop` read, in the order
            they read them.
        """

    @abstractmethod
    def first_non_finite(self, window: slice) -> int:
        """Offset in ``window`` of the iteration blamed for a failed check.

        Called only after :meth:`check` found the window non-finite, so it may
        read the host (see :func:`first_false`).
        """

    def reassigned(self) -> dict[str, object]:
        """Tensors (or lists of them) the step reassigns, by attribute name.

        The checkpoint clones them at each save; :meth:`restore` sets fresh
        clones back. Power-iteration vectors and dual potentials are examples:
        each iteration makes new tensors instead of updating the old ones.
        """
        return {}

    def restore(self, saved: dict[str, object]) -> None:
        """Put back the tensors of :meth:`reassigned` after a rollback."""
        for name, value in saved.items():
            setattr(self, name, value)

    def report(self, values: list[float]) -> tuple[float, float | None]:
        """The progress callback's two numbers; by default ``values[:2]``."""
        return values[0], values[1]

    def stop(self, n_iter: int, values: list[float]) -> str | None:
        """The reason to end the loop after ``n_iter`` iterations, or None.

        Runs once per finite window with the values of :meth:`check`; a rule
        that needs another host read (a nearest-neighbour distance) makes it
        here, once per window. Never stops by default.
        """
        return None


def first_false(mask: torch.Tensor, default: int) -> int:
    """Index of the first False of a 1-D boolean ``mask``, ``default`` if none.

    Reads the host: for :meth:`TrainingStep.first_non_finite`, after a failed
    window only.
    """
    index = torch.nonzero(~mask)
    return int(index[0]) if index.numel() else default


def run_loop(
    step: TrainingStep,
    *,
    check_every: int,
    max_recoveries: int = MAX_RECOVERIES,
    callback: Callable[[int, float, float | None], None] | None = None,
) -> LoopOutcome:
    """Drive ``step`` for ``step.max_iter`` iterations in windows of ``check_every``.

    Parameters
    ----------
    step : TrainingStep
        The iteration and its state; trained in place.
    check_every : int
        Window length: the host synchronises after every ``check_every``
        iterations and after the last.
    max_recoveries : int, default=MAX_RECOVERIES
        Rollbacks allowed before the loop gives up.
    callback : callable or None, default=None
        ``callback(n_iter, a, b)`` once per finite window, with ``(a, b)`` from
        :meth:`TrainingStep.report`.

    Returns
    -------
    LoopOutcome

    Notes
    -----
    The state is saved before the first iteration, so a failure in the first
    window has a state to go back to. A rollback does not rewind random
    generators: the re-run window draws fresh batches. The stop rules run
    before the callback, so a step's own bookkeeping (the best epoch's
    weights) is complete even when Ctrl-C arrives during the callback.
    """
    checkpoint = FiniteCheckpoint(
        step.in_place, step.optimizers, step.schedulers, max_recoveries=max_recoveries
    )
    checkpoint.save(0, **step.reassigned())
    max_iter = step.max_iter
    n_iter, stop_reason, non_finite_at, interrupted = 0, "max_iter", None, False
    try:
        while n_iter < max_iter:
            step.run(n_iter)
            n_iter += 1
            if n_iter % check_every and n_iter < max_iter:
                continue
            window = slice(max(0, n_iter - check_every), n_iter)
            finite, values = step.check(window)
            # The one host synchronisation of the window.
            finite, *values = torch.cat(
                [finite.to(values.dtype).reshape(1), values.reshape(-1)]
            ).tolist()
            if not finite:
                failed_at = window.start + step.first_non_finite(window)
                restored = checkpoint.restore(failed_at)
                if restored is None:
                    non_finite_at = failed_at
                    break
                # Re-run the window from the last finite state.
                step.restore(restored)
                step.step_factor = checkpoint.step_factor
                n_iter = checkpoint.iteration
                continue
            checkpoint.save(n_iter, **step.reassigned())
            reason = step.stop(n_iter, values)
            if callback is not None:
                callback(n_iter, *step.report(values))
            if reason is not None:
                stop_reason = reason
                break
    except KeyboardInterrupt:
        # Ctrl-C: keep what the completed iterations learned (nothing
        # learned yet: let the interrupt through).
        if n_iter == 0:
            raise
        interrupted = True
    return LoopOutcome(
        n_iter, stop_reason, non_finite_at, interrupted, tuple(checkpoint.recoveries)
    )
