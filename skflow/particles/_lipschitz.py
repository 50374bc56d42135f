"""LipschitzParticleSampler: the estimator shell around ``_core``."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from .._base import (
    LEARNING_RATE_CONSTRAINT,
    MAX_INNER_STEPS,
    BaseSampler,
    check_hidden_layer_sizes,
)
from .._compat import Interval, StrOptions
from .._docstrings import fill_sampler_docstring
from .._dp import NoisyGradient, PrivacyPlan
from .._gaussian import draw_gaussian, gaussian_start
from .._memorization import memorization_reference
from .._nn import ACTIVATIONS, init_critic, unflatten_critic
from .._progress_bars import sample_chunks
from .._recovery import MAX_RECOVERIES
from .._torch_utils import draw_seed, make_streams, to_numpy, to_tensor
from .._validation import check_memory, network_bytes, training_bytes
from .._warnings import warn
from ..privacy import DifferentialPrivacy, check_privacy
from ._core import (
    DIVERGENCES,
    ParticleModel,
    draw,
    draw_given,
    lipschitz_particle_flow,
)

# "auto" particle count: twice the rows, at least this many...
_AUTO_MIN_PARTICLES = 1000
# ...and at most this many; beyond it sample() transports fresh particles.
_AUTO_MAX_PARTICLES = 50_000


@fill_sampler_docstring
class LipschitzParticleSampler(BaseSampler):
    r"""Generative particle flow of a Lipschitz-regularised f-divergence.

    Particles start from a Gaussian matched to the data and are transported
    along the gradient of a Lipschitz critic that measures how far they are
    from the data (Gu et al. [1]_). The Lipschitz bound makes the divergence
    finite between empirical distributions and caps each particle's speed, so
    the flow is stable and works with few training rows.

    Read more in the :ref:`User Guide <lipschitz_particles>`.

    Parameters
    ----------
    divergence : {"kl", "alpha", "wasserstein"}, default="kl"
        The f-divergence regularised by the Lipschitz bound: Kullback-Leibler,
        the alpha-divergence (more robust on heavy tails; see ``alpha``), or
        ``"wasserstein"`` for the ``lipschitz_constant * W1`` limit.

    alpha : float, default=2.0
        Order of the alpha-divergence, > 1. Used when ``divergence="alpha"``.

    lipschitz_constant : float, default=1.0
        Bound ``L`` on the critic's Lipschitz constant, in standardised units.
        Large ``L`` approaches the f-divergence, small ``L`` approaches
        ``L * W1``. No particle moves more than ``L * step_size`` per iteration.

    n_particles : int or "auto", default="auto"
        Number of particles moved during ``fit``. ``"auto"`` uses twice the
        number of training rows, at least 1000 and at most 50000. Using as many
        particles as rows lets particles collapse onto training rows.

    step_size : float, default=0.1
        Time step ``dt`` of the explicit transport ``Y <- Y - dt * grad phi(Y)``.

    max_iter : int, default=500
        Maximum number of transport steps.

    n_critic_steps : int, default=5
        Adam ascent steps on the critic per transport step, warm-started;
        at most 10,000 (an iteration must stay short: more work belongs in
        ``max_iter``).

    hidden_layer_sizes : tuple of int, default=(64, 64)
        Widths of the critic's hidden layers.

    activation : {"relu", "elu", "tanh", "softplus"}, default="relu"
        Critic activation; all four are 1-Lipschitz, as the bound requires.

    learning_rate : float, default=1e-3
        Adam learning rate of the critic, in (0, 10].

    batch_size : int, default=1024
        Particles and data rows per critic step (all of them when fewer).
        Memory per critic step is bounded by the batch, not by the data.

    tol : float, default=1e-4
        Stop when the kinetic energy ``0.5 * mean |grad phi|^2``, averaged over
        10 iterations, falls below ``tol``.

    early_stopping : bool, default=True
        Stop once the particles are as close to the training rows as the
        training rows are to each other: when the median distance from a
        particle to its nearest training row falls to the median distance from
        a training row to its nearest other row (checked every 10 iterations on
        at most 2048 particles and 4096 rows). The flow's long-time limit is the
        training set itself; past this point particles start to copy training
        rows. Turn off to run to ``tol`` or ``max_iter``.

    init : "gaussian" or array-like, default="gaussian"
        Starting particles, ``"gaussian"`` or an array of shape
        ``(n_particles, n_features)``: a Gaussian with the data's mean and (slightly
        shrunk) covariance, or an array in the original feature space (its
        Gaussian fit then seeds the extra particles made by ``sample``).

    privacy : DifferentialPrivacy, float or None, default=None
        Fit with differential privacy: a
        :class:`~skflow.privacy.DifferentialPrivacy` budget, or a number as
        its ``epsilon`` (``delta=1e-5``). Every critic step is then a DP-SGD
        step (Poisson batches of about ``batch_size`` rows, per-row gradients
        clipped, Gaussian noise, accounted by Opacus). The columns are scaled
        by the budget's public ``bounds`` (or a ``TabularEncoder`` with
        ``domains`` before the sampler), the particles start from a standard
        Gaussian on that scale, ``early_stopping`` is off (it measures
        distances to the training rows), and ``warm_start`` is refused.
        ``divergence="kl"`` is trained in its shifted form, whose data term is
        a mean over rows. See :ref:`privacy`.

    {sampler_parameters}

    Attributes
    ----------
    particles_ : ndarray of shape (`n_particles_`, `n_features_in_`)
        Final particle positions in the original feature space.

    n_particles_ : int
        Number of particles moved.

    n_iter_ : int
        Number of transport steps run.

    converged_ : bool
        Whether the flow stopped on its own, on ``tol`` or ``early_stopping``
        (see ``stop_reason_``); False when ``max_iter`` or Ctrl-C ended it.

    stop_reason_ : {"tol", "early_stopping", "max_iter", "interrupted"}
        Why the flow stopped: the kinetic energy fell under ``tol``, the
        particles reached the training rows' spacing (``early_stopping``), the
        iteration budget ran out, or Ctrl-C ended the fit (the particles of
        the last completed iteration are kept, with a warning).

    history_ : dict of list of float
        Per iteration: ``"divergence"`` (the critic's divergence estimate) and
        ``"kinetic_energy"`` (the regularised Fisher information
        ``0.5 * mean |grad phi(Y)|^2``). A fit with ``privacy`` records the
        kinetic energy only: the divergence estimate needs the data.

    {privacy_attributes}

    {sampler_attributes}

    See Also
    --------
    sklearn.mixture.GaussianMixture : Parametric density model with ``sample``.
    sklearn.neighbors.KernelDensity : Kernel density estimate with ``sample``.

    Notes
    -----
    The divergence between particles ``P`` and data ``Q`` is

    .. math::

        D_f^L(P \| Q) = \sup_{\phi:\ \mathrm{Lip}(\phi) \le L}
            E_P[\phi] - \inf_\nu \{\nu + E_Q[f^*(\phi - \nu)]\},

    which for KL is ``E_P[phi] - log E_Q[exp(phi)]``. Each iteration takes a
    few ascent steps on ``phi`` and moves every particle by ``-dt * grad phi``;
    ``D`` decreases at the rate ``E_P|grad phi|^2``, twice the kinetic energy
    ``0.5 * E_P|grad phi|^2`` recorded in ``history_``.

    The Lipschitz bound is enforced by spectral normalisation [2]_ of every
    critic layer (power iteration, warm-started) with 1-Lipschitz activations: the
    product of the layers' spectral norms, times ``L``, bounds the critic's
    Lipschitz constant.

    ``sample(n)`` returns ``n`` distinct particles drawn without replacement from
    the fitted ones; past ``n_particles_`` rows, new particles are drawn from the
    starting Gaussian and moved by the recorded flow (every critic of the fit,
    replayed in order). Fitting costs ``max_iter * n_critic_steps`` critic steps
    on a batch plus ``max_iter`` gradient evaluations on all particles; each
    extra sampled row costs ``n_iter_`` gradient evaluations. Features are
    standardised internally, so ``L`` and ``step_size`` are in units of standard
    deviations.

    For heavy-tailed data prefer ``divergence="alpha"``: its conjugate grows
    polynomially rather than exponentially in the critic.

    References
    ----------
    .. [1] H. Gu, P. Birmpa, Y. Pantazis, L. Rey-Bellet and M. A. Katsoulakis,
       "Lipschitz-regularized gradient flows and generative particle
       algorithms for high-dimensional scarce data", SIAM Journal on
       Mathematics of Data Science, 2024. arXiv:2210.17230.
    .. [2] T. Miyato, T. Kataoka, M. Koyama and Y. Yoshida, "Spectral
       normalization for generative adversarial networks", ICLR 2018.
       arXiv:1802.05957.

    Examples
    --------
    >>> from sklearn.datasets import load_wine
    >>> from skflow import LipschitzParticleSampler
    >>> X, _ = load_wine(return_X_y=True)
    >>> sampler = LipschitzParticleSampler(max_iter=20, random_state=0).fit(X)
    >>> sampler.sample(5).shape
    (5, 13)
    """

    _parameter_constraints: dict = {
        **BaseSampler._parameter_constraints,
        "divergence": [StrOptions(set(DIVERGENCES))],
        "alpha": [Interval(Real, 1.0, None, closed="neither")],
        "lipschitz_constant": [Interval(Real, 0.0, None, closed="neither")],
        "n_particles": [
            Interval(Integral, 2, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "step_size": [Interval(Real, 0.0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_critic_steps": [Interval(Integral, 1, MAX_INNER_STEPS, closed="both")],
        "hidden_layer_sizes": [tuple, list],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "learning_rate": LEARNING_RATE_CONSTRAINT,
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "early_stopping": ["boolean"],
        "init": [StrOptions({"gaussian"}), "array-like"],
        "privacy": [
            DifferentialPrivacy,
            Interval(Real, 0.0, None, closed="neither"),
            None,
        ],
    }

    def __init__(
        self,
        *,
        divergence="kl",
        alpha=2.0,
        lipschitz_constant=1.0,
        n_particles="auto",
        step_size=0.1,
        max_iter=500,
        n_critic_steps=5,
        hidden_layer_sizes=(64, 64),
        activation="relu",
        learning_rate=1e-3,
        batch_size=1024,
        tol=1e-4,
        early_stopping=True,
        init="gaussian",
        privacy=None,
        warm_start=False,
        device="auto",
        n_jobs=None,
        dtype="float32",
        random_state=None,
        verbose=0,
    ):
        self.divergence = divergence
        self.alpha = alpha
        self.lipschitz_constant = lipschitz_constant
        self.n_particles = n_particles
        self.step_size = step_size
        self.max_iter = max_iter
        self.n_critic_steps = n_critic_steps
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.tol = tol
        self.early_stopping = early_stopping
        self.init = init
        self.privacy = privacy
        self.warm_start = warm_start
        self.device = device
        self.n_jobs = n_jobs
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def _fit_scaled(self, data: torch.Tensor, rng: np.random.RandomState) -> None:
        hidden = check_hidden_layer_sizes(self.hidden_layer_sizes)
        n_rows, n_features = data.shape
        device, dtype = data.device, data.dtype
        if self._warm_tensors is None:
            self._check_memory(n_rows, n_features, hidden, data)
        else:
            # The critic of every iteration, and two traces.
            flat = self._warm_tensors["model"]["critic_trajectory"]
            self._check_trace_memory(flat.shape[1] + 2, data)
        streams = make_streams(draw_seed(rng), device)
        budget = check_privacy(self.privacy, self)
        private = None
        if budget is not None:
            plan = PrivacyPlan(
                budget,
                n_rows,
                min(int(self.batch_size), n_rows),
                int(self.max_iter) * int(self.n_critic_steps),
            )
            private = NoisyGradient(
                plan, streams.noise, streams.batches, draw_seed(rng)
            )
        warm = self._warm_tensors
        if warm is not None:
            fitted = ParticleModel(**warm["model"])
            self._check_same_flow(fitted)
            hidden = tuple(shape[0] for shape in fitted.shapes[:-1])
        # The critic's weights are drawn before any particle, so they do not
        # depend on n_particles.
        weights, biases, vectors = init_critic(
            n_features, hidden, streams.init, device, dtype
        )
        if warm is not None:
            start, start_mean, start_cholesky = (
                fitted.particles,
                fitted.start_mean,
                fitted.start_cholesky,
            )
        else:
            start, start_mean, start_cholesky = self._starting_particles(
                data, streams.init, private=private is not None
            )
        self.n_particles_ = start.shape[0]
        if self.n_particles_ == n_rows:
            warn(
                f"n_particles={self.n_particles_} equals the number of training "
                "rows: particles can collapse onto the training rows. Use more "
                "particles (the default 'auto' uses twice as many).",
                UserWarning,
            )
        if warm is not None:
            # Continue from the last critic; spectral normalisation removes the
            # Lipschitz scale it was stored with.
            last = unflatten_critic(fitted.critic_trajectory[-1], fitted.shapes)
            weights = [w.clone().requires_grad_(True) for w in last.weights]
            biases = [b.clone().requires_grad_(True) for b in last.biases]
        with self._progress(self.max_iter, ("divergence", "kinetic")) as report:
            result = lipschitz_particle_flow(
                start,
                data,
                weights,
                biases,
                vectors,
                streams=streams,
                divergence=self.divergence,
                alpha=float(self.alpha),
                lipschitz_constant=float(self.lipschitz_constant),
                activation=self.activation,
                step_size=float(self.step_size),
                max_iter=int(self.max_iter),
                n_critic_steps=int(self.n_critic_steps),
                learning_rate=float(self.learning_rate),
                batch_size=int(self.batch_size),
                tol=float(self.tol),
                memorization_reference=(
                    memorization_reference(data, streams.batches)
                    if self.early_stopping and private is None
                    else None
                ),
                private=private,
                # A rolled-back window re-run would spend the budget twice.
                max_recoveries=MAX_RECOVERIES if private is None else 0,
                callback=report,
            )
        self._check_numerics(
            result.loop,
            "lower step_size or lipschitz_constant, use divergence='alpha' for "
            "heavy tails, or dtype='float64'.",
        )

        trajectory = result.critic_trajectory
        if warm is not None:
            trajectory = torch.cat([fitted.critic_trajectory, trajectory])
        # What sample() needs to replay the flow, frozen at fit time so that a
        # later set_params cannot change the fitted model.
        self._tensors = {
            "model": ParticleModel(
                particles=result.particles,
                start_mean=start_mean,
                start_cholesky=start_cholesky,
                critic_trajectory=trajectory,
                shapes=[tuple(weight.shape) for weight in weights],
                activation=self.activation,
                step_size=float(self.step_size),
            )._asdict()
        }
        self._record_outcome(result, private=private is not None)
        if private is None:
            self._forget_privacy()
        else:
            self._record_privacy(private.plan, private.steps)

    _diverged_remedy = (
        "lower step_size (default 0.1) or lipschitz_constant (default 1.0)."
    )

    def _record_outcome(self, result, private=False) -> None:
        """History, stop reason and particles of a finished flow; its warnings."""
        history = {"kinetic_energy": to_numpy(result.kinetic_energy).tolist()}
        if not private:
            # A private fit does not estimate the divergence: it needs the data.
            history = {"divergence": to_numpy(result.divergence).tolist(), **history}
        self._record_fit(result.loop.n_iter, history)
        self.stop_reason_ = (
            "interrupted"
            if result.loop.interrupted
            else {"memorization": "early_stopping"}.get(
                result.loop.stop_reason, result.loop.stop_reason
            )
        )
        self.converged_ = self.stop_reason_ in ("tol", "early_stopping")
        self.particles_ = self._unscale(to_numpy(result.particles))
        self._warn_if_interrupted(result.loop.interrupted)
        if self.stop_reason_ == "max_iter":
            warn(
                f"LipschitzParticleSampler stopped at max_iter={self.max_iter} with "
                f"kinetic energy {self.history_['kinetic_energy'][-1]:.3g} above "
                f"tol={self.tol}. The particles are usable; raise max_iter or tol "
                "to silence this warning.",
                ConvergenceWarning,
            )

    def _check_same_flow(self, fitted: ParticleModel):
        """A continued flow is replayed with one step size and activation."""
        if (
            float(self.step_size) != fitted.step_size
            or self.activation != fitted.activation
        ):
            raise ValueError(
                "warm_start continues the fitted flow, whose step_size="
                f"{fitted.step_size} and activation={fitted.activation!r} "
                "sample() replays; keep them, or set warm_start=False to refit."
            )

    def _check_memory(self, n_rows, n_features, hidden, data) -> None:
        """Refuse sizes that cannot fit before the first allocation."""
        itemsize = data.element_size()
        if self.n_particles != "auto" and isinstance(self.init, str):
            n_particles = int(self.n_particles)
        else:
            n_particles = max(2 * n_rows, _AUTO_MIN_PARTICLES)
        widths = (n_features, *hidden, 1)
        # Mini-batches of particles and rows, each capped by its population.
        rows = min(self.batch_size, n_particles) + min(self.batch_size, n_rows)
        weights, batch = training_bytes(widths, rows, itemsize)
        check_memory(
            f"{type(self).__name__}.fit",
            {
                f"the critic of hidden_layer_sizes={self.hidden_layer_sizes}": (
                    weights,
                    "use narrower layers, e.g. hidden_layer_sizes=(64, 64).",
                ),
                f"the activations of batches of {rows} rows through layers {widths}": (
                    batch,
                    "lower batch_size (e.g. 1024) or narrow hidden_layer_sizes.",
                ),
                f"n_particles={n_particles}": (
                    4 * n_particles * n_features * itemsize,
                    "lower n_particles, or use n_particles='auto'.",
                ),
                # The critic of every iteration is kept to replay the flow.
                f"the critics of max_iter={self.max_iter} iterations": (
                    int(self.max_iter) * (network_bytes(widths, itemsize) + 16),
                    "lower max_iter or narrow hidden_layer_sizes.",
                ),
            },
            device=data.device,
        )

    def _starting_particles(self, data, generator, private=False):
        """Starting particles and the Gaussian that seeds extra ones in sample.

        A private fit starts from the standard Gaussian of the public scale:
        the data's Gaussian is a statistic of the rows.
        """
        if isinstance(self.init, str):
            n_rows = data.shape[0]
            if self.n_particles == "auto":
                n_particles = min(
                    max(2 * n_rows, _AUTO_MIN_PARTICLES), _AUTO_MAX_PARTICLES
                )
            else:
                n_particles = int(self.n_particles)
            if private:
                n_features = data.shape[1]
                mean = data.new_zeros(n_features)
                cholesky = torch.eye(n_features, device=data.device, dtype=data.dtype)
            else:
                mean, cholesky = gaussian_start(data)
            return draw_gaussian(n_particles, mean, cholesky, generator), mean, cholesky
        init = np.asarray(self.init, dtype=np.float64)
        if init.ndim != 2 or init.shape[1] != self.n_features_in_:
            raise ValueError(
                f"init must have shape (n_particles, {self.n_features_in_}), got "
                f"{init.shape}."
            )
        if not np.isfinite(init).all():
            raise ValueError("init contains NaN or infinity; pass finite particles.")
        if self.n_particles != "auto" and init.shape[0] != self.n_particles:
            raise ValueError(
                f"init has {init.shape[0]} rows but n_particles={self.n_particles}; "
                "set n_particles='auto' or make them agree."
            )
        start = to_tensor(self._scale(init), data.device, data.dtype)
        return (start, *gaussian_start(start))

    # Pinned transport only approximates the flow's conditional (the
    # critics' field was learned for the joint): rejection first.
    _conditional_method = "pinned transport"
    _rejection_first = True

    def _sample_scaled_given(self, targets, tensors, generator):
        return draw_given(ParticleModel(**tensors["model"]), targets, generator)

    def _sample_scaled(
        self, n_samples: int, tensors: dict, generator: torch.Generator
    ) -> torch.Tensor:
        return draw(
            ParticleModel(**tensors["model"]),
            n_samples,
            generator,
            chunks=lambda n_rows: sample_chunks(type(self).__name__, n_rows),
        )

    @classmethod
    def _upgrade_state(cls, state):
        # 0.1.0.dev0: the tensors by name, what replays the flow in _flow_config.
        flat = state["_tensors"]
        config = state.pop("_flow_config")
        state["_tensors"] = {
            "model": ParticleModel(
                particles=flat["particles"],
                start_mean=flat["start_mean"],
                start_cholesky=flat["start_cholesky"],
                critic_trajectory=flat["critic_trajectory"],
                shapes=[tuple(shape) for shape in config["shapes"]],
                activation=config["activation"],
                step_size=config["step_size"],
            )._asdict()
        }
        return state
