r"""Lipschitz-regularised f-divergence particle flows (generative particle algorithm).

Functions of tensors: the device and dtype follow the inputs, randomness comes from
an explicit ``torch.Generator``, nothing is validated or printed here.

The divergence between the particles :math:`P` and the data :math:`Q` is

.. math::

    D_f^L(P \| Q) = \sup_{\phi \in \mathrm{Lip}_L}
        E_P[\phi] - \inf_{\nu \in \mathbb{R}} \{\nu + E_Q[f^*(\phi - \nu)]\},

and the particles follow its gradient flow ``Y <- Y - dt * grad phi(Y)``, where
``phi`` is the optimal critic. Because ``|grad phi| <= L``, no particle moves more
than ``L * dt`` per step: the Lipschitz bound is the CFL condition of the explicit
scheme. Along the flow ``dD/dt = -E_P |grad phi|^2`` (the regularised Fisher
information); we record the kinetic energy ``0.5 * E_P |grad phi|^2``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch

from .._divergences import alpha_conjugate, critic_objective  # noqa: F401
from .._nn import (
    Critic,
    critic_forward,
    critic_input_gradient,
    flatten_critic,
    spectral_normalize,
    unflatten_critic,
)
from .._recovery import MAX_RECOVERIES, FiniteCheckpoint, Recovery
from .._torch_utils import iter_chunks

DIVERGENCES = ("kl", "alpha", "wasserstein")

# Rows per chunk when evaluating critic gradients on all particles: bounds the
# memory of a transport step by the chunk, not by the number of particles.
GRADIENT_CHUNK_ROWS = 65536


class ParticleFlowResult(NamedTuple):
    """What :func:`lipschitz_particle_flow` returns.

    Attributes
    ----------
    particles : Tensor of shape (n_particles, n_features)
        Final particle positions.
    critic_trajectory : Tensor of shape (n_iter, n_critic_parameters)
        Flattened, normalised critic used at each transport step; replaying it
        with :func:`transport` moves new particles along the same flow.
    divergence : Tensor of shape (n_iter,)
        Critic objective (divergence estimate) after each iteration's ascent.
    kinetic_energy : Tensor of shape (n_iter,)
        ``0.5 * mean |grad phi(Y)|^2`` over the particles at each transport step.
    n_iter : int
        Iterations run.
    stop_reason : str
        ``"tol"`` (kinetic energy under ``tol``), ``"memorization"`` (particles
        reached the training rows' own spacing) or ``"max_iter"``.
    non_finite_at : int or None
        First iteration whose particles or objective were non-finite after the
        allowed rollbacks were spent, if any.
    interrupted : bool
        Whether Ctrl-C (``KeyboardInterrupt``) ended the loop; the result then
        holds the last completed iteration.
    recoveries : tuple of Recovery
        Rollbacks to the last finite state (each halved the critic's learning
        rate); see :class:`skflow._recovery.FiniteCheckpoint`.
    """

    particles: torch.Tensor
    critic_trajectory: torch.Tensor
    divergence: torch.Tensor
    kinetic_energy: torch.Tensor
    n_iter: int
    stop_reason: str
    non_finite_at: int | None
    interrupted: bool = False
    recoveries: tuple[Recovery, ...] = ()


def _scaled(critic: Critic, bound: float) -> Critic:
    """``bound * critic``: scale the last layer so the network is bound-Lipschitz."""
    return Critic(
        [*critic.weights[:-1], critic.weights[-1] * bound],
        [*critic.biases[:-1], critic.biases[-1] * bound],
    )


def critic_gradient(
    x: torch.Tensor, critic: Critic, activation: str, chunk_rows: int
) -> torch.Tensor:
    """``grad phi(x)`` for every row, evaluated in chunks of ``chunk_rows``."""
    if x.shape[0] <= chunk_rows:
        return critic_input_gradient(x, critic, activation)
    return torch.cat(
        [
            critic_input_gradient(x[rows], critic, activation)
            for rows in iter_chunks(x.shape[0], chunk_rows)
        ]
    )


def median_nearest_distance(
    points: torch.Tensor,
    reference: torch.Tensor,
    *,
    exclude_self: bool = False,
    chunk_rows: int = 2048,
) -> torch.Tensor:
    """Median over ``points`` of the distance to the nearest ``reference`` row.

    With ``exclude_self`` (``points is reference``) each row's zero distance to
    itself is skipped: the leave-one-out nearest-neighbour spacing of a sample.
    """
    nearest = []
    for rows in iter_chunks(points.shape[0], chunk_rows):
        distances = torch.cdist(points[rows], reference)
        if exclude_self:
            diagonal = torch.arange(rows.start, rows.stop, device=points.device)
            distances[diagonal - rows.start, diagonal] = float("inf")
        nearest.append(distances.min(dim=1).values)
    return torch.cat(nearest).median()


def memorization_reference(
    data: torch.Tensor,
    generator: torch.Generator,
    *,
    max_rows: int = 4096,
    ratio: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference rows and threshold of the memorisation stop.

    At most ``max_rows`` training rows (a random subset drawn from
    ``generator``) and ``ratio`` times their median leave-one-out
    nearest-neighbour spacing: a fit stops once generated points are, in
    median, that close to their nearest reference row.
    """
    if data.shape[0] > max_rows:
        index = torch.randperm(data.shape[0], generator=generator, device=data.device)
        data = data[index[:max_rows]]
    return data, ratio * median_nearest_distance(data, data, exclude_self=True)


def _batch(
    rows: torch.Tensor, batch_size: int, generator: torch.Generator
) -> torch.Tensor:
    if rows.shape[0] <= batch_size:
        return rows
    index = torch.randint(
        rows.shape[0], (batch_size,), generator=generator, device=rows.device
    )
    return rows[index]


def lipschitz_particle_flow(
    particles: torch.Tensor,
    data: torch.Tensor,
    weights: list[torch.Tensor],
    biases: list[torch.Tensor],
    vectors: list[torch.Tensor],
    *,
    generator: torch.Generator,
    divergence: str = "kl",
    alpha: float = 2.0,
    lipschitz_constant: float = 1.0,
    activation: str = "relu",
    step_size: float = 0.1,
    max_iter: int = 500,
    n_critic_steps: int = 5,
    learning_rate: float = 1e-3,
    batch_size: int = 1024,
    tol: float = 0.0,
    memorization_reference: tuple[torch.Tensor, torch.Tensor] | None = None,
    check_every: int = 10,
    max_recoveries: int = MAX_RECOVERIES,
    callback: Callable[[int, float, float], None] | None = None,
) -> ParticleFlowResult:
    """Transport ``particles`` toward ``data`` along the Lipschitz-regularised flow.

    Each iteration (1) takes ``n_critic_steps`` Adam ascent steps on the critic
    objective, on mini-batches of particles and data, warm-started from the last
    iteration; (2) moves every particle by ``-step_size * grad phi``; (3) records
    the kinetic energy and the divergence estimate.

    Parameters
    ----------
    particles, data : Tensor of shape (n, n_features)
        Starting particles and target rows, on one device and dtype.
    weights, biases, vectors : list of Tensor
        Raw critic parameters (``requires_grad``) and power-iteration vectors, as
        made by :func:`skflow._nn.init_critic`; trained in place.
    generator : torch.Generator
        Source of mini-batch indices.
    check_every : int
        Host synchronisation period: every ``check_every`` iterations the
        convergence test, the finiteness test and ``callback(iteration,
        divergence, kinetic_energy)`` run; nothing reads device values between.
        A window with non-finite values is rolled back to the last finite state
        and re-run with half the critic's learning rate, at most
        ``max_recoveries`` times. Particle steps keep their size (the Lipschitz
        bound already caps them), so the stored critic trajectory replays the
        flow exactly.
    tol : float
        Stop once the mean kinetic energy over the last ``check_every``
        iterations is below ``tol``.
    memorization_reference : (Tensor, Tensor) or None
        ``(rows, spacing)``: stop once the median distance from the particles
        (at most 2048 of them) to their nearest row of ``rows`` falls to
        ``spacing``, the median nearest-neighbour distance among the training
        rows. The flow's long-time limit is the empirical distribution itself;
        past that point particles start to copy training rows.

    Returns
    -------
    ParticleFlowResult
    """
    device, dtype = particles.device, particles.dtype
    shift = torch.zeros((), device=device, dtype=dtype, requires_grad=True)
    parameters = [*weights, *biases] + ([shift] if divergence == "alpha" else [])
    # beta1 = 0.5 is the usual choice for adversarial critics: the target moves.
    optimizer = torch.optim.Adam(parameters, lr=learning_rate, betas=(0.5, 0.999))

    n_parameters = sum(w.numel() + b.numel() for w, b in zip(weights, biases))
    trajectory = torch.empty(max_iter, n_parameters, device=device, dtype=dtype)
    divergence_trace = torch.empty(max_iter, device=device, dtype=dtype)
    kinetic_trace = torch.empty(max_iter, device=device, dtype=dtype)
    particles = particles.clone()
    stop_reason = "max_iter"
    non_finite_at = None
    n_iter = 0
    checkpoint = FiniteCheckpoint(
        [particles, *weights, *biases, shift],
        [optimizer],
        max_recoveries=max_recoveries,
    )
    checkpoint.save(0, vectors=vectors)

    interrupted = False
    try:
        while n_iter < max_iter:
            iteration = n_iter
            for _ in range(n_critic_steps):
                normalized, vectors = spectral_normalize(weights, vectors)
                critic = _scaled(Critic(normalized, biases), lipschitz_constant)
                objective = critic_objective(
                    critic_forward(
                        _batch(particles, batch_size, generator), critic, activation
                    ),
                    critic_forward(
                        _batch(data, batch_size, generator), critic, activation
                    ),
                    divergence,
                    alpha,
                    shift,
                )
                optimizer.zero_grad(set_to_none=True)
                (-objective).backward()
                optimizer.step()

            with torch.no_grad():
                normalized, _ = spectral_normalize(weights, vectors, update=False)
                critic = _scaled(
                    Critic(normalized, [b.detach() for b in biases]), lipschitz_constant
                )
                velocity = critic_gradient(
                    particles, critic, activation, GRADIENT_CHUNK_ROWS
                )
                particles -= step_size * velocity
                trajectory[iteration] = flatten_critic(critic)
                kinetic_trace[iteration] = 0.5 * velocity.pow(2).sum(dim=1).mean()
                divergence_trace[iteration] = objective.detach()
            n_iter = iteration + 1

            if n_iter % check_every == 0 or n_iter == max_iter:
                window = slice(max(0, n_iter - check_every), n_iter)
                # One host synchronisation per window, not per iteration.
                recent_kinetic, recent_divergence, particles_finite = torch.stack(
                    [
                        kinetic_trace[window].mean(),
                        divergence_trace[iteration],
                        torch.isfinite(particles).all().to(dtype),
                    ]
                ).tolist()
                if not (
                    math.isfinite(recent_kinetic)
                    and math.isfinite(recent_divergence)
                    and particles_finite
                ):
                    failed_at = _first_non_finite(
                        kinetic_trace[window], divergence_trace[window], window.start
                    )
                    restored = checkpoint.restore(failed_at)
                    if restored is None:
                        non_finite_at = failed_at
                        break
                    # Re-run the window from the last finite state.
                    vectors, n_iter = restored["vectors"], checkpoint.iteration
                    continue
                checkpoint.save(n_iter, vectors=vectors)
                if callback is not None:
                    callback(n_iter, recent_divergence, recent_kinetic)
                if recent_kinetic < tol:
                    stop_reason = "tol"
                    break
                if memorization_reference is not None:
                    rows, spacing = memorization_reference
                    probe = particles[: min(particles.shape[0], 2048)]
                    if bool(median_nearest_distance(probe, rows) <= spacing):
                        stop_reason = "memorization"
                        break
    except KeyboardInterrupt:
        # Ctrl-C: keep what the completed iterations learned (nothing
        # learned yet: let the interrupt through).
        if n_iter == 0:
            raise
        interrupted = True

    return ParticleFlowResult(
        particles=particles,
        critic_trajectory=trajectory[:n_iter],
        divergence=divergence_trace[:n_iter],
        kinetic_energy=kinetic_trace[:n_iter],
        n_iter=n_iter,
        stop_reason=stop_reason,
        non_finite_at=non_finite_at,
        interrupted=interrupted,
        recoveries=tuple(checkpoint.recoveries),
    )


def _first_non_finite(kinetic, divergence, offset: int) -> int:
    bad = ~(torch.isfinite(kinetic) & torch.isfinite(divergence))
    index = torch.nonzero(bad)
    return offset + (int(index[0]) if index.numel() else kinetic.shape[0] - 1)


def transport(
    particles: torch.Tensor,
    critic_trajectory: torch.Tensor,
    shapes: list[tuple[int, int]],
    *,
    activation: str,
    step_size: float,
) -> torch.Tensor:
    """Move new particles along a recorded flow.

    Applies ``x <- x - step_size * grad phi_t(x)`` for each recorded critic
    ``phi_t`` in order: the same map the fitted particles went through.
    """
    with torch.no_grad():
        x = particles.clone()
        for flat in critic_trajectory:
            critic = unflatten_critic(flat, shapes)
            x -= step_size * critic_gradient(x, critic, activation, GRADIENT_CHUNK_ROWS)
    return x
