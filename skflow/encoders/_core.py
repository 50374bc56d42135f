"""Torch functions of the MLP autoencoder: tensors in, tensors out.

An autoencoder is a flat list of tensors ``[W_0, b_0, ..., W_{L-1}, b_{L-1}]``
for the encoder followed by the same for the decoder (see
:func:`skflow._nn.init_mlp`); ``n_encoder`` says where the decoder starts. New
tensors are made on the input's device and dtype; randomness comes only from an
explicit ``torch.Generator``; nothing here validates, prints or moves data to the
host except the one loss read-out per epoch of :func:`train_autoencoder`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import torch

from .._loop import LoopOutcome, TrainingStep, run_loop
from .._nn import init_mlp, mlp_forward
from .._recovery import MAX_RECOVERIES
from .._torch_utils import RandomStreams, adam


class AutoencoderResult(NamedTuple):
    """What :func:`train_autoencoder` returns.

    ``parameters`` are the weights of the epoch with the best monitored loss
    (validation loss when a validation split exists, else training loss);
    ``train_loss`` and ``validation_loss`` have one entry per completed epoch
    (``validation_loss`` is empty without a split); ``best_epoch`` is 0 when
    the starting weights of a continued run were never beaten. ``loop`` says
    how the epochs ended (:class:`skflow._loop.LoopOutcome`): ``loop.n_iter``
    epochs; ``loop.stop_reason`` is ``"early_stopping"`` when
    ``n_iter_no_change`` epochs in a row failed to improve by ``tol``;
    ``loop.non_finite_at`` is the (0-based) epoch whose loss was NaN or
    infinite after the allowed rollbacks were spent; ``loop.interrupted`` is
    True when Ctrl-C (``KeyboardInterrupt``) ended the loop: the result then
    covers the completed epochs only.
    """

    parameters: list[torch.Tensor]
    train_loss: torch.Tensor
    validation_loss: torch.Tensor
    best_epoch: int
    loop: LoopOutcome


def init_autoencoder(
    n_features: int,
    n_components: int,
    hidden_layer_sizes: tuple[int, ...],
    generator: torch.Generator,
    device: torch.device,
    dtype: torch.dtype,
) -> tuple[list[torch.Tensor], int]:
    """Encoder ``d -> hidden -> k`` and mirrored decoder ``k -> hidden[::-1] -> d``.

    Returns the flat parameter list and the number of encoder tensors.
    """
    encoder = init_mlp(
        [n_features, *hidden_layer_sizes, n_components], generator, device, dtype
    )
    decoder = init_mlp(
        [n_components, *hidden_layer_sizes[::-1], n_features],
        generator,
        device,
        dtype,
    )
    return encoder + decoder, len(encoder)


def encode(
    x: torch.Tensor, parameters: list[torch.Tensor], n_encoder: int
) -> torch.Tensor:
    """Latent codes ``z = f(x)``, shape ``(n, n_components)``."""
    return mlp_forward(x, parameters[:n_encoder])


def decode(
    z: torch.Tensor, parameters: list[torch.Tensor], n_encoder: int
) -> torch.Tensor:
    """Reconstructions ``g(z)``, shape ``(n, n_features)``."""
    return mlp_forward(z, parameters[n_encoder:])


def reconstruction_loss(
    x: torch.Tensor, parameters: list[torch.Tensor], n_encoder: int
) -> torch.Tensor:
    """Mean squared reconstruction error per entry, ``mean ||x - g(f(x))||^2 / d``."""
    return torch.mean(
        (decode(encode(x, parameters, n_encoder), parameters, n_encoder) - x) ** 2
    )


def _full_loss(
    x: torch.Tensor, parameters: list[torch.Tensor], n_encoder: int, chunk: int
) -> torch.Tensor:
    """Reconstruction loss over all rows, in chunks of ``chunk`` rows (memory)."""
    total = torch.zeros((), device=x.device, dtype=x.dtype)
    with torch.no_grad():
        for start in range(0, x.shape[0], chunk):
            rows = x[start : start + chunk]
            total = total + reconstruction_loss(rows, parameters, n_encoder) * len(rows)
    return total / x.shape[0]


@dataclass(eq=False, repr=False, kw_only=True)
class _EpochStep(TrainingStep):
    """One epoch of mini-batch Adam, and the best epoch's weights so far."""

    train: torch.Tensor
    validation: torch.Tensor | None
    parameters: list[torch.Tensor]
    n_encoder: int
    streams: RandomStreams
    max_iter: int
    learning_rate: float
    batch_size: int
    alpha: float
    tol: float
    n_iter_no_change: int
    keep_initial: bool

    def __post_init__(self):
        self.parameters = [
            p.detach().clone().requires_grad_(True) for p in self.parameters
        ]
        self.in_place = self.parameters
        self.optimizers = [adam(self.parameters, lr=self.learning_rate)]
        self.batch_size = min(self.batch_size, self.train.shape[0])
        # Columns: training loss, then validation loss when there is a split;
        # the last column is the monitored one.
        self.trace = torch.empty(
            self.max_iter,
            1 if self.validation is None else 2,
            device=self.train.device,
            dtype=self.train.dtype,
        )
        self.best = [p.detach().clone() for p in self.parameters]
        self.best_loss, self.best_epoch, self.no_change = float("inf"), 0, 0
        if self.keep_initial:
            # The starting weights compete as epoch 0, on all monitored rows.
            monitored = self.train if self.validation is None else self.validation
            self.best_loss = float(
                _full_loss(monitored, self.parameters, self.n_encoder, self.batch_size)
            )

    def run(self, iteration: int) -> None:
        parameters, (optimizer,) = self.parameters, self.optimizers
        n_rows = self.train.shape[0]
        order = torch.randperm(
            n_rows, generator=self.streams.batches, device=self.train.device
        )
        epoch_loss = torch.zeros((), device=self.train.device, dtype=self.train.dtype)
        for start in range(0, n_rows, self.batch_size):
            rows = self.train[order[start : start + self.batch_size]]
            loss = reconstruction_loss(rows, parameters, self.n_encoder)
            objective = loss
            if self.alpha > 0:
                penalty = sum((w**2).sum() for w in parameters[0::2])
                objective = loss + 0.5 * self.alpha * penalty
            optimizer.zero_grad(set_to_none=True)
            objective.backward()
            optimizer.step()
            epoch_loss = epoch_loss + loss.detach() * len(rows)
        self.trace[iteration, 0] = epoch_loss / n_rows
        if self.validation is not None:
            self.trace[iteration, 1] = _full_loss(
                self.validation, parameters, self.n_encoder, self.batch_size
            )

    def check(self, window: slice) -> tuple[torch.Tensor, torch.Tensor]:
        # Windows are single epochs; values: training loss, monitored loss.
        last = self.trace[window.stop - 1]
        return torch.isfinite(last[-1]), last[[0, -1]]

    def first_non_finite(self, window: slice) -> int:
        return 0

    def report(self, values: list[float]) -> tuple[float, float | None]:
        train_loss, monitored = values
        return train_loss, (monitored if self.validation is not None else None)

    def stop(self, n_iter: int, values: list[float]) -> str | None:
        # scikit-learn's MLP rule: an epoch that does not beat the best loss by
        # more than tol counts towards n_iter_no_change.
        _, monitored = values
        self.no_change = (
            0 if monitored < self.best_loss - self.tol else self.no_change + 1
        )
        if monitored < self.best_loss:
            self.best_loss, self.best_epoch = monitored, n_iter
            self.best = [p.detach().clone() for p in self.parameters]
        return "early_stopping" if self.no_change >= self.n_iter_no_change else None


def train_autoencoder(
    train: torch.Tensor,
    validation: torch.Tensor | None,
    parameters: list[torch.Tensor],
    n_encoder: int,
    *,
    streams: RandomStreams,
    max_iter: int,
    learning_rate: float,
    batch_size: int,
    alpha: float,
    tol: float,
    n_iter_no_change: int,
    keep_initial: bool = False,
    max_recoveries: int = MAX_RECOVERIES,
    callback: Callable[[int, float, float | None], None] | None = None,
) -> AutoencoderResult:
    """Mini-batch Adam on the reconstruction loss, with early stopping.

    Each epoch visits the training rows once in a random order (from
    ``streams.batches``) in batches of ``batch_size``, minimising
    ``mean ||x - g(f(x))||^2 / d + alpha * sum ||W||^2 / 2``. After each epoch the
    monitored loss (on ``validation`` if given, else the training loss of the
    epoch) is compared, like scikit-learn's MLP, with the best so far: an epoch
    that does not improve it by more than ``tol`` counts towards
    ``n_iter_no_change``; reaching it stops training. The best epoch's weights are
    returned.

    With ``keep_initial`` (continuing a fitted model), the starting weights
    enter the comparison as epoch 0 with their loss over all monitored rows,
    so a continuation never hands back weights worse than it was given.

    An epoch whose monitored loss is not finite is undone (weights and Adam
    moments go back to the end of the previous epoch) and run again with half
    the learning rate, at most ``max_recoveries`` times.

    Ctrl-C (``KeyboardInterrupt``) during an epoch discards that epoch and
    returns the best weights of the completed ones; with none completed the
    interrupt is passed on.

    The monitored loss is read on the host once per epoch (a window of one
    epoch in :func:`skflow._loop.run_loop`): that synchronisation is what early
    stopping needs, and an epoch is many batches.
    """
    step = _EpochStep(
        train=train,
        validation=validation,
        parameters=parameters,
        n_encoder=n_encoder,
        streams=streams,
        max_iter=max_iter,
        learning_rate=learning_rate,
        batch_size=batch_size,
        alpha=alpha,
        tol=tol,
        n_iter_no_change=n_iter_no_change,
        keep_initial=keep_initial,
    )
    loop = run_loop(
        step, check_every=1, max_recoveries=max_recoveries, callback=callback
    )
    losses = step.trace[: loop.n_iter]
    return AutoencoderResult(
        parameters=step.best,
        train_loss=losses[:, 0],
        validation_loss=losses[:, 1] if validation is not None else train.new_zeros(0),
        best_epoch=step.best_epoch,
        loop=loop,
    )
