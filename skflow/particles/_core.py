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

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

import torch

from .._conditional import ConditionalDraw, gaussian_mixture_conditional
from .._divergences import alpha_conjugate, critic_objective, uses_shift  # noqa: F401
from .._dp import NoisyGradient, private_critic_step
from .._gaussian import draw_gaussian
from .._loop import LoopOutcome, TrainingStep, first_false, run_loop
from .._memorization import median_nearest_distance
from .._nn import (
    Critic,
    critic_forward,
    critic_input_gradient,
    flatten_critic,
    lipschitz_critic,
    unflatten_critic,
)
from .._recovery import MAX_RECOVERIES
from .._torch_utils import RandomStreams, adam, iter_chunks, minibatch

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
    loop : LoopOutcome
        Iterations run, and ``loop.stop_reason``: ``"tol"`` (kinetic energy
        under ``tol``), ``"memorization"`` (particles reached the training
        rows' own spacing) or ``"max_iter"``; rollbacks (each halved the
        critic's learning rate) and interruption. See
        :class:`skflow._loop.LoopOutcome`.
    """

    particles: torch.Tensor
    critic_trajectory: torch.Tensor
    divergence: torch.Tensor
    kinetic_energy: torch.Tensor
    loop: LoopOutcome


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


@dataclass(eq=False, repr=False, kw_only=True)
class _ParticleStep(TrainingStep):
    """One iteration: critic ascent, then every particle moves by ``-dt grad phi``."""

    particles: torch.Tensor
    data: torch.Tensor
    weights: list[torch.Tensor]
    biases: list[torch.Tensor]
    vectors: list[torch.Tensor]
    streams: RandomStreams
    divergence: str
    alpha: float
    lipschitz_constant: float
    activation: str
    step_size: float
    max_iter: int
    n_critic_steps: int
    learning_rate: float
    batch_size: int
    tol: float
    memorization_reference: tuple[torch.Tensor, torch.Tensor] | None
    private: NoisyGradient | None = None

    def __post_init__(self):
        like = {"device": self.particles.device, "dtype": self.particles.dtype}
        self.particles = self.particles.clone()
        self.shift = torch.zeros((), **like, requires_grad=True)
        trained = [*self.weights, *self.biases]
        if uses_shift(self.divergence, private=self.private is not None):
            trained.append(self.shift)
        # beta1 = 0.5 is the usual choice for adversarial critics: the target moves.
        self.optimizers = [adam(trained, lr=self.learning_rate, betas=(0.5, 0.999))]
        self.in_place = [self.particles, *self.weights, *self.biases, self.shift]
        n_parameters = sum(
            w.numel() + b.numel() for w, b in zip(self.weights, self.biases)
        )
        self.trajectory = torch.empty(self.max_iter, n_parameters, **like)
        self.divergence_trace = torch.empty(self.max_iter, **like)
        self.kinetic_trace = torch.empty(self.max_iter, **like)

    def _critic_ascent(self) -> torch.Tensor:
        """``n_critic_steps`` Adam ascent steps on mini-batches; the last objective.

        In a private fit the objective needs the data, so it is not recorded
        (zero is returned); the steps are DP-SGD steps
        (:func:`skflow._dp.private_critic_step`).
        """
        (optimizer,) = self.optimizers
        if self.private is not None:
            for _ in range(self.n_critic_steps):
                self.vectors = private_critic_step(
                    lambda: lipschitz_critic(
                        self.weights,
                        self.biases,
                        self.vectors,
                        self.lipschitz_constant,
                    ),
                    self.shift,
                    self.particles,
                    self.data,
                    self.private,
                    optimizer,
                    divergence=self.divergence,
                    alpha=self.alpha,
                    activation=self.activation,
                    partners=self.streams.noise,
                )
            return self.shift.new_zeros(())
        for _ in range(self.n_critic_steps):
            critic, self.vectors = lipschitz_critic(
                self.weights, self.biases, self.vectors, self.lipschitz_constant
            )
            objective = critic_objective(
                critic_forward(
                    minibatch(self.particles, self.batch_size, self.streams.batches),
                    critic,
                    self.activation,
                ),
                critic_forward(
                    minibatch(self.data, self.batch_size, self.streams.batches),
                    critic,
                    self.activation,
                ),
                self.divergence,
                self.alpha,
                self.shift,
            )
            optimizer.zero_grad(set_to_none=True)
            (-objective).backward()
            optimizer.step()
        return objective

    def run(self, iteration: int) -> None:
        objective = self._critic_ascent()
        with torch.no_grad():
            critic, _ = lipschitz_critic(
                self.weights,
                [b.detach() for b in self.biases],
                self.vectors,
                self.lipschitz_constant,
                update=False,
            )
            velocity = critic_gradient(
                self.particles, critic, self.activation, GRADIENT_CHUNK_ROWS
            )
            self.particles -= self.step_size * velocity
            self.trajectory[iteration] = flatten_critic(critic)
            self.kinetic_trace[iteration] = 0.5 * velocity.pow(2).sum(dim=1).mean()
            self.divergence_trace[iteration] = objective.detach()

    def check(self, window: slice) -> tuple[torch.Tensor, torch.Tensor]:
        # tol reads the window's mean kinetic energy (a single step's is noisy).
        kinetic = self.kinetic_trace[window].mean()
        divergence = self.divergence_trace[window.stop - 1]
        finite = (
            torch.isfinite(kinetic)
            & torch.isfinite(divergence)
            & torch.isfinite(self.particles).all()
        )
        return finite, torch.stack([divergence, kinetic])

    def first_non_finite(self, window: slice) -> int:
        finite = torch.isfinite(self.kinetic_trace[window]) & torch.isfinite(
            self.divergence_trace[window]
        )
        # Finite traces but non-finite particles: blame the window's last step.
        return first_false(finite, default=window.stop - window.start - 1)

    def reassigned(self) -> dict[str, object]:
        return {"vectors": self.vectors}

    def stop(self, n_iter: int, values: list[float]) -> str | None:
        _, recent_kinetic = values
        if recent_kinetic < self.tol:
            return "tol"
        if self.memorization_reference is not None:
            rows, spacing = self.memorization_reference
            probe = self.particles[: min(self.particles.shape[0], 2048)]
            if bool(median_nearest_distance(probe, rows) <= spacing):
                return "memorization"
        return None


def lipschitz_particle_flow(
    particles: torch.Tensor,
    data: torch.Tensor,
    weights: list[torch.Tensor],
    biases: list[torch.Tensor],
    vectors: list[torch.Tensor],
    *,
    streams: RandomStreams,
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
    private: NoisyGradient | None = None,
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
    streams : RandomStreams
        The fit's random streams; mini-batch indices come from
        ``streams.batches`` (the flow itself is deterministic).
    check_every : int
        Host synchronisation period: every ``check_every`` iterations the
        convergence test, the finiteness test and ``callback(iteration,
        divergence, kinetic_energy)`` run; nothing reads device values between.
        A window with non-finite values is rolled back to the last finite state
        and re-run with half the critic's learning rate, at most
        ``max_recoveries`` times. Particle steps keep their size (the Lipschitz
        bound already caps them), so the stored critic trajectory replays the
        flow exactly. See :func:`skflow._loop.run_loop`.
    tol : float
        Stop once the mean kinetic energy over the last ``check_every``
        iterations is below ``tol``.
    memorization_reference : (Tensor, Tensor) or None
        ``(rows, spacing)``: stop once the median distance from the particles
        (at most 2048 of them) to their nearest row of ``rows`` falls to
        ``spacing``, the median nearest-neighbour distance among the training
        rows. The flow's long-time limit is the empirical distribution itself;
        past that point particles start to copy training rows.
    private : NoisyGradient or None
        Make every critic step a DP-SGD step on the data term
        (:func:`skflow._dp.private_critic_step`); the divergence estimate is
        then not recorded (zeros). Pass ``max_recoveries=0`` with it: a
        re-run window would spend the budget twice.

    Returns
    -------
    ParticleFlowResult
    """
    step = _ParticleStep(
        particles=particles,
        data=data,
        weights=weights,
        biases=biases,
        vectors=vectors,
        streams=streams,
        divergence=divergence,
        alpha=alpha,
        lipschitz_constant=lipschitz_constant,
        activation=activation,
        step_size=step_size,
        max_iter=max_iter,
        n_critic_steps=n_critic_steps,
        learning_rate=learning_rate,
        batch_size=batch_size,
        tol=tol,
        memorization_reference=memorization_reference,
        private=private,
    )
    loop = run_loop(
        step, check_every=check_every, max_recoveries=max_recoveries, callback=callback
    )
    return ParticleFlowResult(
        particles=step.particles,
        critic_trajectory=step.trajectory[: loop.n_iter],
        divergence=step.divergence_trace[: loop.n_iter],
        kinetic_energy=step.kinetic_trace[: loop.n_iter],
        loop=loop,
    )


def transport(
    particles: torch.Tensor,
    critic_trajectory: torch.Tensor,
    shapes: list[tuple[int, int]],
    *,
    activation: str,
    step_size: float,
    free: torch.Tensor | None = None,
) -> torch.Tensor:
    """Move new particles along a recorded flow.

    Applies ``x <- x - step_size * grad phi_t(x)`` for each recorded critic
    ``phi_t`` in order: the same map the fitted particles went through. With a
    boolean mask ``free`` (shape of ``particles``), only the free coordinates
    move; the others stay where they started.
    """
    with torch.no_grad():
        x = particles.clone()
        for flat in critic_trajectory:
            critic = unflatten_critic(flat, shapes)
            move = critic_gradient(x, critic, activation, GRADIENT_CHUNK_ROWS)
            if free is not None:
                move = move * free
            x -= step_size * move
    return x


class ParticleModel(NamedTuple):
    """A fitted particle flow: the particles and what replays the flow.

    Attributes
    ----------
    particles : Tensor of shape (n_particles, n_features)
        The fitted particles.
    start_mean, start_cholesky : Tensor
        The Gaussian the particles started from, ``N(mean, L L^T)``.
    critic_trajectory : Tensor of shape (n_iter, n_critic_parameters)
        The flattened critic of every transport step, in order.
    shapes : list of tuple of int
        The critic's weight shapes, to unflatten the trajectory.
    activation : str
        The critic's activation.
    step_size : float
        The transport step of the fit.
    """

    particles: torch.Tensor
    start_mean: torch.Tensor
    start_cholesky: torch.Tensor
    critic_trajectory: torch.Tensor
    shapes: list[tuple[int, int]]
    activation: str
    step_size: float


def draw(
    model: ParticleModel,
    n: int,
    generator: torch.Generator,
    chunks: Callable[[int], Iterable[slice]] | None = None,
) -> torch.Tensor:
    """``n`` rows: fitted particles first, then fresh ones moved along the flow.

    Up to ``n_particles`` rows are distinct fitted particles (a random subset);
    beyond that, new particles are drawn from the starting Gaussian and
    transported by the recorded critics (:func:`transport`), so they follow the
    same map as the fitted ones instead of repeating them. ``chunks``, a
    function of the count of new particles to row slices, moves them a slice
    at a time through the whole flow (an estimator passes one that reports
    progress); by default they move together.
    """
    particles = model.particles
    n_fitted = particles.shape[0]
    order = torch.randperm(n_fitted, generator=generator, device=particles.device)
    chosen = particles[order[: min(n, n_fitted)]]
    n_new = n - chosen.shape[0]
    if n_new == 0:
        return chosen
    fresh = draw_gaussian(n_new, model.start_mean, model.start_cholesky, generator)
    split = [slice(0, n_new)] if chunks is None else chunks(n_new)
    moved = [
        transport(
            fresh[rows],
            model.critic_trajectory,
            model.shapes,
            activation=model.activation,
            step_size=model.step_size,
        )
        for rows in split
    ]
    return torch.cat([chosen, *moved])


def draw_given(
    model: ParticleModel, targets: torch.Tensor, generator: torch.Generator
) -> ConditionalDraw:
    """Rows with the finite entries of ``targets`` fixed, by pinned transport.

    Each row starts from the starting Gaussian's exact conditional given its
    fixed coordinates and is moved by the recorded critics in its free
    coordinates only, the fixed ones pinned. Exact when the flow moves little
    (data near the Gaussian start); otherwise the free coordinates follow the
    joint flow's field at the pinned values, which approximates the
    conditional (measured in benchmarks/bench_conditional.py).
    """
    covariance = model.start_cholesky @ model.start_cholesky.T
    start = gaussian_mixture_conditional(
        torch.ones(1, device=targets.device, dtype=targets.dtype),
        model.start_mean[None],
        covariance[None],
        targets,
        generator,
    ).rows
    moved = transport(
        start,
        model.critic_trajectory,
        model.shapes,
        activation=model.activation,
        step_size=model.step_size,
        free=torch.isnan(targets),
    )
    return ConditionalDraw(moved, 1.0, 0.0)
