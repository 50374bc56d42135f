"""Roll a training loop back to its last finite state, with smaller steps.

The fit loop of skflow (:func:`skflow._loop.run_loop`) synchronises with the
host once per window of iterations and tests its losses and state for
finiteness there. When that test fails, :class:`FiniteCheckpoint` puts back the
state saved at the last window that passed (tensors, optimiser moments,
learning-rate schedules), halves the learning rates, and the loop re-runs the
window. After ``max_recoveries``
rollbacks the loop gives up and the estimator raises
:class:`~skflow.exceptions.NumericalInstabilityError` with its remedy.

Written here because neither torch nor scikit-learn has a rollback of this kind:
``torch.optim`` state dicts restore moments but not the tensors they update.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import NamedTuple

import torch

# Up to 2**6 = 64 times smaller steps before giving up: past that, the step is
# rarely the cause and the remedy in the error message is the better help.
MAX_RECOVERIES = 6


class Recovery(NamedTuple):
    """One rollback: the window that failed and the iteration restored."""

    failed_at: int
    restored_to: int


class FiniteCheckpoint:
    """The last finite state of a training loop.

    Parameters
    ----------
    in_place : sequence of Tensor
        Tensors the loop updates in place (network parameters, particles, moving
        averages); restored in place so that optimisers keep pointing at them.
    optimizers : sequence of torch.optim.Optimizer
        Their moments are restored and their learning rates halved per rollback.
    schedulers : sequence of learning-rate schedulers
        Their position is restored; their base rates are halved with the
        optimisers' so that the schedule continues at the smaller scale.
    max_recoveries : int
        Rollbacks allowed before :meth:`restore` refuses.

    Notes
    -----
    A loop calls :meth:`save` with its starting iteration before it begins, so
    a failure in the first window has a state to go back to. Tensors the loop
    *reassigns* (dual potentials, power-iteration vectors) go
    through :meth:`save` as keywords and come back from :meth:`restore`.
    Random generators are not rewound: the re-run window draws fresh batches,
    which is part of what gets a stochastic loop past a bad draw.
    """

    def __init__(
        self,
        in_place: Sequence[torch.Tensor],
        optimizers: Sequence[torch.optim.Optimizer] = (),
        schedulers: Sequence = (),
        *,
        max_recoveries: int = MAX_RECOVERIES,
    ):
        self.in_place = list(in_place)
        self.optimizers = list(optimizers)
        self.schedulers = list(schedulers)
        self.max_recoveries = max_recoveries
        self.recoveries: list[Recovery] = []
        # Filled by save(); allocated once, reused by every later save.
        self._buffers = [torch.empty_like(t) for t in self.in_place]
        self._optimizer_states: list[dict] = []
        self._scheduler_states: list[dict] = []
        self._others: dict[str, object] = {}
        self._factor_at_save = 1.0
        self.iteration: int | None = None

    @property
    def step_factor(self) -> float:
        """Factor applied to every step size so far: ``0.5 ** len(recoveries)``."""
        return 0.5 ** len(self.recoveries)

    def save(self, iteration: int, **others) -> None:
        """Record the state after ``iteration`` completed iterations.

        ``others`` are tensors or lists of tensors the loop reassigns; they are
        cloned.
        """
        with torch.no_grad():
            for buffer, tensor in zip(self._buffers, self.in_place):
                buffer.copy_(tensor)
        self._optimizer_states = [
            copy.deepcopy(o.state_dict()) for o in self.optimizers
        ]
        self._scheduler_states = [
            copy.deepcopy(s.state_dict()) for s in self.schedulers
        ]
        self._others = {name: _clone(value) for name, value in others.items()}
        # The saved rates already carry the halvings made before this save.
        self._factor_at_save = self.step_factor
        self.iteration = iteration

    def restore(self, failed_at: int) -> dict[str, object] | None:
        """Put the saved state back with halved learning rates.

        Parameters
        ----------
        failed_at : int
            The (0-based) iteration whose values were first non-finite.

        Returns
        -------
        dict or None
            Fresh clones of the ``others`` given to :meth:`save`, keyed as
            given; None once ``max_recoveries`` rollbacks have been spent (the
            state is then left as it is).
        """
        if self.iteration is None:
            raise RuntimeError("FiniteCheckpoint.restore before any save().")
        if len(self.recoveries) >= self.max_recoveries:
            return None
        self.recoveries.append(Recovery(failed_at, self.iteration))
        ratio = self.step_factor / self._factor_at_save
        with torch.no_grad():
            for buffer, tensor in zip(self._buffers, self.in_place):
                tensor.copy_(buffer)
        for optimizer, state in zip(self.optimizers, self._optimizer_states):
            optimizer.load_state_dict(state)
            for group in optimizer.param_groups:
                group["lr"] *= ratio
        for scheduler, state in zip(self.schedulers, self._scheduler_states):
            scheduler.load_state_dict(state)
            scheduler.base_lrs = [lr * ratio for lr in scheduler.base_lrs]
            scheduler._last_lr = [
                group["lr"] for group in scheduler.optimizer.param_groups
            ]
        return {name: _clone(value) for name, value in self._others.items()}


def _clone(value):
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    return [v.detach().clone() for v in value]


def recovery_message(estimator: str, recoveries: Sequence[Recovery]) -> str:
    """The warning text after a fit that rolled back at least once."""
    events = ", ".join(
        f"iteration {r.failed_at + 1} (back to {r.restored_to})" for r in recoveries
    )
    return (
        f"{estimator}.fit produced non-finite values and recovered "
        f"{len(recoveries)} time(s): {events}; each recovery restored the last "
        f"finite state and halved the learning rates (now x{0.5 ** len(recoveries):g}"
        "). The model is finite; if this recurs, lower the learning rates or use "
        "dtype='float64'."
    )
