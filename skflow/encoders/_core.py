"""Torch functions of the MLP autoencoder: tensors in, tensors out.

An autoencoder is a flat list of tensors ``[W_0, b_0, ..., W_{L-1}, b_{L-1}]``
for the encoder followed by the same for the decoder (see
:func:`skflow._nn.init_mlp`); ``n_encoder`` says where the decoder starts. New
tensors are made on the input's device and dtype; randomness comes only from an
explicit ``torch.Generator``; nothing here validates, prints or moves data to the
host except the one loss read-out per epoch of :func:`train_autoencoder`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch

from .._nn import init_mlp, mlp_forward
from .._recovery import MAX_RECOVERIES, FiniteCheckpoint, Recovery


class AutoencoderResult(NamedTuple):
    """What :func:`train_autoencoder` returns.

    ``parameters`` are the weights of the epoch with the best monitored loss
    (validation loss when a validation split exists, else training loss);
    ``train_loss`` and ``validation_loss`` have one entry per completed epoch
    (``validation_loss`` is empty without a split); ``best_epoch`` is 0 when
    the starting weights of a continued run were never beaten;
    ``stopped_early`` is True when ``n_iter_no_change`` epochs in a row failed
    to improve by ``tol``. ``non_finite_at`` is the epoch whose loss was NaN or
    infinite after the allowed rollbacks were spent, else None; ``recoveries``
    lists the rollbacks made (0-based epoch that failed, epochs restored).
    ``interrupted`` is True when Ctrl-C (``KeyboardInterrupt``) ended the loop:
    the result then covers the completed epochs only.
    """

    parameters: list[torch.Tensor]
    train_loss: torch.Tensor
    validation_loss: torch.Tensor
    n_epochs: int
    best_epoch: int
    stopped_early: bool
    non_finite_at: int | None
    interrupted: bool = False
    recoveries: tuple[Recovery, ...] = ()


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


def train_autoencoder(
    train: torch.Tensor,
    validation: torch.Tensor | None,
    parameters: list[torch.Tensor],
    n_encoder: int,
    *,
    generator: torch.Generator,
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
    ``generator``) in batches of ``batch_size``, minimising
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

    The monitored loss is read on the host once per epoch: that synchronisation
    is what early stopping needs, and an epoch is many batches.
    """
    parameters = [p.detach().clone().requires_grad_(True) for p in parameters]
    optimizer = torch.optim.Adam(parameters, lr=learning_rate)
    weights = parameters[0::2]
    n_rows = train.shape[0]
    batch_size = min(batch_size, n_rows)
    best = [p.detach().clone() for p in parameters]
    best_loss, best_epoch, no_change = float("inf"), 0, 0
    if keep_initial:
        monitored_rows = validation if validation is not None else train
        best_loss = float(_full_loss(monitored_rows, parameters, n_encoder, batch_size))
    train_losses, validation_losses = [], []
    stopped_early, non_finite_at, interrupted = False, None, False
    completed = 0
    checkpoint = FiniteCheckpoint(
        parameters, [optimizer], max_recoveries=max_recoveries
    )
    checkpoint.save(0)
    try:
        while completed < max_iter:
            epoch = completed + 1
            order = torch.randperm(n_rows, generator=generator, device=train.device)
            epoch_loss = torch.zeros((), device=train.device, dtype=train.dtype)
            for start in range(0, n_rows, batch_size):
                rows = train[order[start : start + batch_size]]
                loss = reconstruction_loss(rows, parameters, n_encoder)
                objective = loss
                if alpha > 0:
                    objective = loss + 0.5 * alpha * sum((w**2).sum() for w in weights)
                optimizer.zero_grad(set_to_none=True)
                objective.backward()
                optimizer.step()
                epoch_loss = epoch_loss + loss.detach() * len(rows)
            train_losses.append(epoch_loss / n_rows)
            if validation is not None:
                validation_losses.append(
                    _full_loss(validation, parameters, n_encoder, batch_size)
                )
                monitored = validation_losses[-1]
            else:
                monitored = train_losses[-1]
            # One host read per epoch: the early-stopping decision needs it.
            value = float(monitored)
            if not math.isfinite(value):
                if checkpoint.restore(epoch - 1) is None:
                    non_finite_at = completed = epoch
                    break
                # Undo the epoch and run it again with smaller steps.
                del train_losses[completed:], validation_losses[completed:]
                continue
            if value < best_loss - tol:
                no_change = 0
            else:
                no_change += 1
            if value < best_loss:
                best_loss, best_epoch = value, epoch
                best = [p.detach().clone() for p in parameters]
            completed = epoch
            checkpoint.save(completed)
            if callback is not None:
                callback(
                    epoch,
                    float(train_losses[-1]),
                    value if validation is not None else None,
                )
            if no_change >= n_iter_no_change:
                stopped_early = True
                break
    except KeyboardInterrupt:
        # Ctrl-C: keep what the completed epochs learned (nothing learned yet:
        # let the interrupt through; a continued model is then left as it was).
        if completed == 0:
            raise
        interrupted = True
        del train_losses[completed:], validation_losses[completed:]
    empty = train.new_zeros(0)
    return AutoencoderResult(
        parameters=best,
        train_loss=torch.stack(train_losses) if train_losses else empty,
        validation_loss=(
            torch.stack(validation_losses) if validation_losses else empty
        ),
        n_epochs=completed,
        best_epoch=best_epoch,
        stopped_early=stopped_early,
        non_finite_at=non_finite_at,
        interrupted=interrupted,
        recoveries=tuple(checkpoint.recoveries),
    )
