r"""Wasserstein-1 + Wasserstein-2 proximal generative flows: tensor core.

After Gu, Katsoulakis, Rey-Bellet and Zhang, arXiv:2407.11901.

A continuous-time flow :math:`\dot x = v(x, t)`, :math:`t \in [0, T]`, pushes a
Gaussian start :math:`\rho_0` to :math:`\rho_T`; it is trained adversarially on

.. math::

    \min_v \max_{\phi \in \mathrm{Lip}_L}
        E_{\rho_T}[\phi] - \inf_\nu \{\nu + E_Q[f^*(\phi - \nu)]\}
        + \lambda \int_0^T E_{\rho_t}[\tfrac12 |v(x, t)|^2] \, dt,

the Lipschitz-regularised f-divergence (Wasserstein-1 proximal) of the terminal
points to the data :math:`Q`, plus :math:`\lambda` times the kinetic energy
(Wasserstein-2 proximal). The mean-field-game optimality conditions are
:math:`v = -\nabla U / \lambda` with the Hamilton-Jacobi equation

.. math::

    -\partial_t U + \frac{1}{2\lambda} |\nabla U|^2 = 0, \qquad U(\cdot, T) = \phi^*,

whose characteristics are straight lines at constant speed: :math:`v` solves the
pressureless Burgers equation :math:`\partial_t v + (v \cdot \nabla) v = 0`.

Functions of tensors: the device and dtype follow the inputs, randomness comes from
an explicit ``torch.Generator``, nothing is validated or printed here.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

import torch

from .._divergences import critic_objective, uses_shift
from .._dp import NoisyGradient, private_critic_step
from .._gaussian import draw_gaussian
from .._loop import LoopOutcome, TrainingStep, first_false, run_loop
from .._nn import Critic, critic_forward, init_mlp, lipschitz_critic, mlp_forward
from .._recovery import MAX_RECOVERIES
from .._torch_utils import RandomStreams, adam, iter_chunks, minibatch

SOLVERS = ("euler", "heun", "rk4")
GENERATORS = ("velocity", "potential")

# Butcher tableaux of the explicit Runge-Kutta solvers: stage time offsets c,
# stage coefficients a (row i combines stages 0..i-1) and final weights b. The
# weights b also give the quadrature of the kinetic energy along each step.
_TABLEAUX = {
    "euler": ((0.0,), ((),), (1.0,)),
    "heun": ((0.0, 1.0), ((), (1.0,)), (0.5, 0.5)),
    "rk4": (
        (0.0, 0.5, 0.5, 1.0),
        ((), (0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)),
        (1 / 6, 1 / 3, 1 / 3, 1 / 6),
    ),
}

# Activation of the critic (1-Lipschitz, so spectral normalisation bounds the
# network). ReLU, as in the particle sampler: under spectral normalisation a
# smooth ELU critic stayed nearly flat on the pinwheel (objective ~0.01 vs ~0.1,
# mean input-gradient 0.17 vs 0.3 after 1500 steps), starving the generator.
CRITIC_ACTIVATION = "relu"

# Sampling uses an exponential moving average of the generator's weights: the
# adversarial iterates oscillate around the equilibrium and their average is a
# better generator (Yazici et al., ICLR 2019, arXiv:1806.04498).
EMA_DECAY = 0.99

# Path points per iteration on which the Hamilton-Jacobi residual is estimated.
HJ_ROWS = 64


class Field(NamedTuple):
    """A generator network: the velocity ``v(x, t)`` as a function of tensors.

    Attributes
    ----------
    kind : str
        ``"velocity"`` (the MLP outputs ``v``) or ``"potential"`` (the MLP
        outputs ``N`` and ``U = kinetic_weight * N``, so ``v = -grad N``).
    parameters : list of Tensor
        ``[W_0, b_0, W_1, b_1, ...]`` of the MLP on ``(x, t / T)``.
    kinetic_weight : float
        ``lambda``; scales ``U`` (potential) and the kinetic penalty.
    time_horizon : float
        ``T``.
    """

    kind: str
    parameters: list[torch.Tensor]
    kinetic_weight: float
    time_horizon: float


def init_field(
    kind: str,
    n_features: int,
    hidden_layer_sizes: tuple[int, ...],
    *,
    kinetic_weight: float,
    time_horizon: float,
    generator: torch.Generator,
    device: torch.device,
    dtype: torch.dtype,
) -> Field:
    """A freshly initialised generator whose velocity starts near zero.

    The output layer is scaled by 0.01 so the untrained flow is almost the
    identity map: training starts from the Gaussian start, not from a random
    transport.
    """
    n_out = n_features if kind == "velocity" else 1
    sizes = [n_features + 1, *hidden_layer_sizes, n_out]
    parameters = init_mlp(sizes, generator, device, dtype)
    with torch.no_grad():
        parameters[-2].mul_(0.01)
        parameters[-1].zero_()
    for parameter in parameters:
        parameter.requires_grad_(True)
    return Field(kind, parameters, float(kinetic_weight), float(time_horizon))


def _network(field: Field, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """The MLP on ``(x, t / T)``; ``t`` has shape ``(n,)`` or is a scalar tensor."""
    times = (t / field.time_horizon).to(x.dtype).expand(x.shape[0]).unsqueeze(1)
    return mlp_forward(torch.cat([x, times], dim=1), field.parameters)


def potential(field: Field, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``U(x, t) = kinetic_weight * N(x, t)``, shape ``(n,)`` (potential kind)."""
    return field.kinetic_weight * _network(field, x, t).squeeze(1)


def velocity(
    field: Field, x: torch.Tensor, t: torch.Tensor, *, create_graph: bool = False
) -> torch.Tensor:
    """``v(x, t)``, shape ``x.shape``.

    For the potential kind ``v = -grad_x U / lambda = -grad_x N`` by autograd;
    ``create_graph=True`` keeps the graph so a loss on ``v`` trains ``N``. The
    gradient is taken even under ``torch.no_grad`` (sampling).
    """
    if field.kind == "velocity":
        return _network(field, x, t)
    with torch.enable_grad():
        x_in = x if x.requires_grad else x.detach().requires_grad_(True)
        net = _network(field, x_in, t).sum()
        (grad,) = torch.autograd.grad(net, x_in, create_graph=create_graph)
    return -grad


class Trajectory(NamedTuple):
    """What :func:`integrate` returns.

    Attributes
    ----------
    terminal : Tensor of shape (n, n_features)
        ``x(T)``.
    kinetic_energy : Tensor, scalar
        ``int_0^T mean_x 0.5 |v|^2 dt`` by the solver's own quadrature.
    path : Tensor of shape (n_steps + 1, n, n_features) or None
        The states at ``t_k = k T / n_steps`` when ``keep_path`` is set.
    """

    terminal: torch.Tensor
    kinetic_energy: torch.Tensor
    path: torch.Tensor | None


def integrate(
    field_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x0: torch.Tensor,
    *,
    time_horizon: float,
    n_steps: int,
    solver: str,
    keep_path: bool = False,
) -> Trajectory:
    r"""Solve ``dx/dt = field_fn(x, t)`` from ``x0`` on ``[0, T]`` in ``n_steps``.

    Explicit Runge-Kutta with the tableau of ``solver`` (global error
    :math:`O(h)`, :math:`O(h^2)`, :math:`O(h^4)` for euler, heun, rk4). The
    kinetic energy uses the same weights: :math:`\int_0^T E\,\tfrac12|v|^2 dt
    \approx h \sum_k \sum_i b_i\, E\,\tfrac12 |k_i|^2`, with the stage velocities
    :math:`k_i` the solver evaluates anyway. Differentiable when ``field_fn``
    is.
    """
    offsets, coefficients, weights = _TABLEAUX[solver]
    h = time_horizon / n_steps
    x = x0
    kinetic = x0.new_zeros(())
    path = [x0] if keep_path else None
    for step in range(n_steps):
        t = x0.new_tensor(step * h)
        stages: list[torch.Tensor] = []
        for offset, row in zip(offsets, coefficients):
            state = x
            for coefficient, stage in zip(row, stages):
                if coefficient:
                    state = state + (h * coefficient) * stage
            stages.append(field_fn(state, t + offset * h))
        increment = stages[0] * weights[0]
        energy = weights[0] * stages[0].pow(2).sum(dim=1).mean()
        for weight, stage in zip(weights[1:], stages[1:]):
            increment = increment + weight * stage
            energy = energy + weight * stage.pow(2).sum(dim=1).mean()
        x = x + h * increment
        kinetic = kinetic + 0.5 * h * energy
        if keep_path:
            path.append(x)
    return Trajectory(x, kinetic, torch.stack(path) if keep_path else None)


def hj_residual(field: Field, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    r"""Mean squared Hamilton-Jacobi residual at path points ``(x, t)``.

    * potential: :math:`r = -\partial_t U + |\nabla U|^2 / (2\lambda)` (the HJ
      equation of the module docstring), mean of :math:`r^2`;
    * velocity: no ``U`` exists, but the HJ dynamics say ``v`` is transported
      along itself (straight characteristics at constant speed):
      :math:`r = \partial_t v + (v \cdot \nabla) v = \frac{d}{d\epsilon}
      v(x + \epsilon v, t + \epsilon)|_{\epsilon=0}`, one forward-mode JVP; mean
      of :math:`|r|^2`.

    Only a diagnostic: no gradient flows back to the generator.
    """
    x = x.detach()
    t = t.detach()
    if field.kind == "potential":
        with torch.enable_grad():
            x_in = x.requires_grad_(True)
            t_in = t.clone().requires_grad_(True)
            u = potential(field, x_in, t_in)
            grad_x, grad_t = torch.autograd.grad(u.sum(), (x_in, t_in))
        lam = field.kinetic_weight
        residual = -grad_t + grad_x.pow(2).sum(dim=1) / (2.0 * lam)
        return residual.pow(2).mean().detach()
    params = [p.detach() for p in field.parameters]
    frozen = field._replace(parameters=params)
    with torch.no_grad():
        v = _network(frozen, x, t)
    _load_forward_mode_quietly()
    _, directional = torch.func.jvp(
        lambda xs, ts: _network(frozen, xs, ts), (x, t), (v, torch.ones_like(t))
    )
    return directional.pow(2).sum(dim=1).mean().detach()


@functools.cache
def _load_forward_mode_quietly() -> None:
    """Run one trivial JVP, once per process, with one warning silenced.

    torch's first forward-mode JVP in a process loads its decompositions
    through ``torch.jit.script``, which torch 2.13 itself deprecates: a warning
    about torch's internals that the user can do nothing about. Loading them
    here, once, keeps the filter out of the training loop (``catch_warnings``
    swaps the process-wide filters, which threads share).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r".*torch\.jit\.script.*", category=DeprecationWarning
        )
        torch.func.jvp(lambda u: u, (torch.zeros(1),), (torch.ones(1),))


class ProximalFlowResult(NamedTuple):
    """What :func:`proximal_flow` returns.

    Attributes
    ----------
    field : Field
        The trained generator (parameters still ``requires_grad``).
    average : list of Tensor
        Exponential moving average of the generator parameters (decay
        :data:`EMA_DECAY`), used for sampling.
    history : Tensor of shape (n_iter, 5)
        Per iteration: generator loss, critic loss, kinetic energy, terminal
        divergence estimate, Hamilton-Jacobi residual (columns in
        :data:`HISTORY_KEYS` order).
    loop : LoopOutcome
        Iterations run, rollbacks (each halving both learning rates) and
        interruption; see :class:`skflow._loop.LoopOutcome`.
    """

    field: Field
    average: list[torch.Tensor]
    history: torch.Tensor
    loop: LoopOutcome


HISTORY_KEYS = (
    "generator_loss",
    "critic_loss",
    "kinetic_energy",
    "terminal_divergence",
    "hj_residual",
)


def _critic(weights, biases, vectors, lipschitz_constant, *, update: bool):
    """The critic's effective weights: spectrally normalised times ``L``.

    An infinite ``L`` means no bound at all (a plain MLP critic): the
    Wasserstein-1 proximal is dropped.
    """
    if math.isinf(lipschitz_constant):
        return Critic(list(weights), list(biases)), vectors
    return lipschitz_critic(weights, biases, vectors, lipschitz_constant, update=update)


@dataclass(eq=False, repr=False, kw_only=True)
class _ProximalStep(TrainingStep):
    """One adversarial iteration: integrate, critic ascent, generator descent."""

    data: torch.Tensor
    field: Field
    weights: list[torch.Tensor]
    biases: list[torch.Tensor]
    vectors: list[torch.Tensor]
    start: tuple[torch.Tensor, torch.Tensor]
    streams: RandomStreams
    solver: str
    n_time_steps: int
    lipschitz_constant: float
    divergence: str
    alpha: float
    n_critic_steps: int
    learning_rate: float
    critic_learning_rate: float
    batch_size: int
    max_iter: int
    private: NoisyGradient | None = None
    next_batch: Callable[[], torch.Tensor] | None = None

    def __post_init__(self):
        like = {"device": self.data.device, "dtype": self.data.dtype}
        self.shift = torch.zeros((), **like, requires_grad=True)
        critic_parameters = [*self.weights, *self.biases]
        if uses_shift(self.divergence, private=self.private is not None):
            critic_parameters.append(self.shift)
        # beta1 = 0.5 is the usual choice for adversarial training: the target
        # moves.
        self.critic_optimizer = adam(
            critic_parameters, lr=self.critic_learning_rate, betas=(0.5, 0.999)
        )
        self.generator_optimizer = adam(
            self.field.parameters, lr=self.learning_rate, betas=(0.5, 0.999)
        )
        self.optimizers = [self.critic_optimizer, self.generator_optimizer]
        self.history = torch.empty(self.max_iter, len(HISTORY_KEYS), **like)
        # Sampling uses this average of the generator's weights (EMA_DECAY).
        self.average = [p.detach().clone() for p in self.field.parameters]
        self.in_place = [
            *self.field.parameters,
            *self.weights,
            *self.biases,
            self.shift,
            *self.average,
        ]
        self.terminal: torch.Tensor | None = None

    def _field_fn(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return velocity(self.field, x, t, create_graph=True)

    def _critic_ascent(self) -> torch.Tensor:
        """``n_critic_steps`` ascent steps against fresh data; the last objective.

        In a private fit these are DP-SGD steps
        (:func:`skflow._dp.private_critic_step`) and the objective, which
        needs the data, is not recorded (zero is returned).
        """
        if self.private is not None:
            for _ in range(self.n_critic_steps):
                self.vectors = private_critic_step(
                    lambda: _critic(
                        self.weights,
                        self.biases,
                        self.vectors,
                        self.lipschitz_constant,
                        update=True,
                    ),
                    self.shift,
                    self.terminal,
                    self.data,
                    self.private,
                    self.critic_optimizer,
                    divergence=self.divergence,
                    alpha=self.alpha,
                    activation=CRITIC_ACTIVATION,
                    partners=self.streams.noise,
                )
            return self.shift.new_zeros(())
        for _ in range(self.n_critic_steps):
            critic, self.vectors = _critic(
                self.weights,
                self.biases,
                self.vectors,
                self.lipschitz_constant,
                update=True,
            )
            objective = critic_objective(
                critic_forward(self.terminal, critic, CRITIC_ACTIVATION),
                critic_forward(self._data_batch(), critic, CRITIC_ACTIVATION),
                self.divergence,
                self.alpha,
                self.shift,
            )
            self.critic_optimizer.zero_grad(set_to_none=True)
            (-objective).backward()
            self.critic_optimizer.step()
        return objective

    def _data_batch(self) -> torch.Tensor:
        """A fresh batch of data rows: a resample of ``data``, or the next
        rows of the stream (``next_batch``) in an out-of-core fit."""
        if self.next_batch is not None:
            return self.next_batch()
        return minibatch(
            self.data, self.batch_size, self.streams.batches, whole_if_smaller=False
        )

    def _generator_descent(self, trajectory: Trajectory) -> torch.Tensor:
        """One step on ``E[phi(x(T))] + lambda * kinetic``; then the weight average."""
        critic, _ = _critic(
            [w.detach() for w in self.weights],
            [b.detach() for b in self.biases],
            self.vectors,
            self.lipschitz_constant,
            update=False,
        )
        terminal_cost = critic_forward(
            trajectory.terminal, critic, CRITIC_ACTIVATION
        ).mean()
        loss = terminal_cost + self.field.kinetic_weight * trajectory.kinetic_energy
        self.generator_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.generator_optimizer.step()
        with torch.no_grad():
            torch._foreach_lerp_(
                self.average,
                [p.detach() for p in self.field.parameters],
                1.0 - EMA_DECAY,
            )
        return loss

    def _residual(self, trajectory: Trajectory) -> torch.Tensor:
        """The HJ residual on a few path points at random grid times."""
        device = self.data.device
        rows = min(HJ_ROWS, self.batch_size)
        step_index = torch.randint(
            self.n_time_steps + 1,
            (rows,),
            generator=self.streams.noise,
            device=device,
        )
        points = trajectory.path.detach()[step_index, torch.arange(rows, device=device)]
        h = self.field.time_horizon / self.n_time_steps
        return hj_residual(self.field, points, step_index.to(self.data.dtype) * h)

    def run(self, iteration: int) -> None:
        mean, cholesky = self.start
        trajectory = integrate(
            self._field_fn,
            draw_gaussian(self.batch_size, mean, cholesky, self.streams.noise),
            time_horizon=self.field.time_horizon,
            n_steps=self.n_time_steps,
            solver=self.solver,
            keep_path=True,
        )
        self.terminal = trajectory.terminal.detach()
        objective = self._critic_ascent().detach()
        generator_loss = self._generator_descent(trajectory)
        self.history[iteration] = torch.stack(
            [
                generator_loss.detach(),
                -objective,
                trajectory.kinetic_energy.detach(),
                objective,
                self._residual(trajectory),
            ]
        )

    def check(self, window: slice) -> tuple[torch.Tensor, torch.Tensor]:
        finite = (
            torch.isfinite(self.history[window]).all()
            & torch.isfinite(self.terminal).all()
        )
        for parameter in self.field.parameters:
            finite = finite & torch.isfinite(parameter).all()
        # Generator loss and terminal divergence, for the callback.
        return finite, self.history[window.stop - 1, [0, 3]]

    def first_non_finite(self, window: slice) -> int:
        rows_finite = torch.isfinite(self.history[window]).all(dim=1)
        return first_false(rows_finite, default=0)

    def reassigned(self) -> dict[str, object]:
        return {"vectors": self.vectors}


def proximal_flow(
    data: torch.Tensor,
    field: Field,
    critic_weights: list[torch.Tensor],
    critic_biases: list[torch.Tensor],
    critic_vectors: list[torch.Tensor],
    start: tuple[torch.Tensor, torch.Tensor],
    *,
    streams: RandomStreams,
    solver: str = "euler",
    n_time_steps: int = 10,
    lipschitz_constant: float = 1.0,
    divergence: str = "kl",
    alpha: float = 2.0,
    n_critic_steps: int = 3,
    learning_rate: float = 1e-3,
    critic_learning_rate: float = 1e-3,
    batch_size: int = 256,
    max_iter: int = 1000,
    private: NoisyGradient | None = None,
    next_batch: Callable[[], torch.Tensor] | None = None,
    check_every: int = 25,
    max_recoveries: int = MAX_RECOVERIES,
    callback: Callable[[int, float, float], None] | None = None,
) -> ProximalFlowResult:
    """Train the generator ``field`` and the critic adversarially.

    Each iteration (1) draws ``batch_size`` start points ``x0 = mean + z C^T``
    and integrates the flow with the graph kept; (2) takes ``n_critic_steps``
    Adam ascent steps on the critic objective between the (detached) terminal
    points and fresh data batches; (3) takes one Adam step on the generator
    loss ``E[phi(x(T))] + lambda * kinetic_energy`` with the updated critic;
    (4) records the losses and the Hamilton-Jacobi residual on ``HJ_ROWS``
    path points at random times. No reverse simulation is needed.

    Parameters
    ----------
    data : Tensor of shape (n_rows, n_features)
        Target rows (standardised).
    field : Field
        Generator from :func:`init_field`; trained in place.
    critic_weights, critic_biases, critic_vectors : list of Tensor
        Raw critic parameters and power-iteration vectors from
        :func:`skflow._nn.init_critic`; trained in place.
    start : (Tensor, Tensor)
        Mean and Cholesky factor of the Gaussian start.
    streams : RandomStreams
        The fit's random streams: start points and HJ-residual times from
        ``streams.noise``, data batches from ``streams.batches``.
    private : NoisyGradient or None
        Make every critic step a DP-SGD step on the data term; the critic
        loss and terminal divergence are then not recorded (zeros). Pass
        ``max_recoveries=0`` with it: a re-run window would spend the budget
        twice.
    next_batch : callable or None
        Returns the next ``batch_size`` data rows (streamed from outside
        memory); the critic's data batches then come from it and ``data``
        only sets the device and dtype. Not with ``private``.
    check_every : int
        Host synchronisation period: every ``check_every`` iterations the
        finiteness test and ``callback(iteration, generator_loss,
        terminal_divergence)`` run; nothing reads device values between. A
        window with non-finite values is rolled back to the last finite state
        (both networks, their Adam moments, the weight average) and re-run with
        halved learning rates, at most ``max_recoveries`` times
        (:func:`skflow._loop.run_loop`).

    Returns
    -------
    ProximalFlowResult
    """
    step = _ProximalStep(
        data=data,
        field=field,
        weights=critic_weights,
        biases=critic_biases,
        vectors=critic_vectors,
        start=start,
        streams=streams,
        solver=solver,
        n_time_steps=n_time_steps,
        lipschitz_constant=lipschitz_constant,
        divergence=divergence,
        alpha=alpha,
        n_critic_steps=n_critic_steps,
        learning_rate=learning_rate,
        critic_learning_rate=critic_learning_rate,
        batch_size=batch_size,
        max_iter=max_iter,
        private=private,
        next_batch=next_batch,
    )
    loop = run_loop(
        step, check_every=check_every, max_recoveries=max_recoveries, callback=callback
    )
    return ProximalFlowResult(field, step.average, step.history[: loop.n_iter], loop)


def flow_samples(
    field: Field,
    start: tuple[torch.Tensor, torch.Tensor],
    n_samples: int,
    *,
    generator: torch.Generator,
    solver: str,
    n_steps: int,
    keep_path: bool = False,
    chunk_rows: int = 65536,
    chunks: Callable[[int], Iterable[slice]] | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Integrate the trained flow from ``n_samples`` fresh start points.

    Rows are processed in chunks of ``chunk_rows`` so memory is bounded by the
    chunk (times ``n_steps + 1`` when the path is kept); ``chunks``, a
    function of the row count to the row slices in turn, replaces that split
    (an estimator passes one that reports progress). Returns the terminal
    points and, with ``keep_path``, the path of shape ``(n_steps + 1,
    n_samples, n_features)``.
    """
    mean, cholesky = start
    frozen = field._replace(parameters=[p.detach() for p in field.parameters])

    def field_fn(x, t):
        return velocity(frozen, x, t)

    terminals, paths = [], []
    with torch.no_grad():
        split = chunks(n_samples) if chunks else iter_chunks(n_samples, chunk_rows)
        for rows in split:
            result = integrate(
                field_fn,
                draw_gaussian(rows.stop - rows.start, mean, cholesky, generator),
                time_horizon=field.time_horizon,
                n_steps=n_steps,
                solver=solver,
                keep_path=keep_path,
            )
            terminals.append(result.terminal)
            if keep_path:
                paths.append(result.path)
    terminal = torch.cat(terminals)
    return terminal, (torch.cat(paths, dim=1) if keep_path else None)
