"""ProximalMFGFlow: the estimator shell around ``_core``."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch

from .._base import (
    DEPRECATED,
    LEARNING_RATE_CONSTRAINT,
    MAX_INNER_STEPS,
    BaseSampler,
    check_hidden_layer_sizes,
)
from .._compat import Hidden, Interval, StrOptions
from .._conditional import latent_conditional_draw
from .._docstrings import fill_sampler_docstring
from .._dp import NoisyGradient, PrivacyPlan
from .._gaussian import gaussian_start
from .._nn import init_critic
from .._progress_bars import sample_chunks
from .._recovery import MAX_RECOVERIES
from .._streaming import StreamingFitMixin
from .._torch_utils import (
    draw_seed,
    make_streams,
    resolve_dtype,
    to_numpy,
)
from .._validation import (
    check_bool,
    check_count,
    check_memory,
    trace_need,
    training_bytes,
)
from ..exceptions import NumericalInstabilityError
from ..privacy import DifferentialPrivacy, check_privacy
from ._core import (
    GENERATORS,
    HISTORY_KEYS,
    SOLVERS,
    Field,
    flow_samples,
    init_field,
    integrate,
    proximal_flow,
    velocity,
)

STARTS = ("gaussian", "normal")

# History entries computed from the data; a private fit leaves them out.
_DATA_HISTORY_KEYS = ("critic_loss", "terminal_divergence")


@fill_sampler_docstring
class ProximalMFGFlow(StreamingFitMixin, BaseSampler):
    r"""Generative flow regularised by Wasserstein-1 and Wasserstein-2 proximals.

    A continuous-time flow ``dx/dt = v(x, t)`` carries Gaussian noise to the
    data in time ``T``. It is trained adversarially, without reverse
    simulation, against an ``L``-Lipschitz critic (the Wasserstein-1 proximal of
    an f-divergence, finite even for data on a low-dimensional manifold) with a
    kinetic-energy penalty ``lambda`` (the Wasserstein-2 proximal, which makes
    the optimal flow unique with straight trajectories). Gu et al. [1]_ show
    through mean-field-game theory that both are needed for a well-posed flow.

    Read more in the :ref:`User Guide <proximal_mfg_flow>`.

    Parameters
    ----------
    parameterization : {"velocity", "potential"}, default="velocity"
        A velocity network ``v(x, t)``, or a potential network ``U(x, t)`` with
        ``v = -grad_x U / kinetic_weight`` (the optimality condition; needs
        ``kinetic_weight > 0``). ``U`` is represented as ``kinetic_weight *
        N(x, t)`` so the velocity scale does not depend on ``kinetic_weight``.

    solver : {"euler", "heun", "rk4"}, default="euler"
        Explicit Runge-Kutta solver of the ODE, in training and sampling. The
        optimal flow moves every point in a straight line at constant speed,
        along which forward Euler is exact; higher orders help while training
        is far from that optimum.

    n_steps : int, default=10
        ODE steps on ``[0, time_horizon]`` during training; the default number
        of steps of ``sample``. At most 10,000 (also in ``sample``).

    time_horizon : float, default=1.0
        ``T``, the duration of the flow.

    lipschitz_constant : float, default=3.0
        ``L``, the bound on the critic's Lipschitz constant (spectral
        normalisation [2]_ of every layer). ``np.inf`` drops the Wasserstein-1
        proximal: an unconstrained critic (for ablations; ill-posed on manifold
        data).

    kinetic_weight : float, default=0.05
        ``lambda``, the weight of the kinetic energy ``int_0^T E 0.5|v|^2 dt``.
        0 drops the Wasserstein-2 proximal (velocity generator only). The
        optimal speed is at most ``L / lambda``, so points move at most
        ``L * T / lambda`` (standardised units): keep ``lambda`` well under
        ``L * T / 3``.

    divergence : {"kl", "alpha"}, default="kl"
        The f-divergence of the terminal cost: Kullback-Leibler (Donsker-Varadhan
        form) or the alpha-divergence ``f(x) = (x^alpha - 1)/(alpha(alpha-1))``.

    alpha : float, default=2.0
        Order of the alpha-divergence (> 1); ignored for ``"kl"``.

    n_critic_steps : int, default=3
        Critic ascent steps per generator step; at most 10,000.

    learning_rate : float, default=2e-3
        Adam learning rate of the generator, in (0, 10].

    critic_learning_rate : float, default=1e-2
        Adam learning rate of the critic, in (0, 10].

    hidden_layer_sizes : tuple of int, default=(64, 64)
        Hidden widths of the generator network and of the critic.

    batch_size : int, default=512
        Start points (and data rows) per iteration.

    max_iter : int, default=1000
        Generator steps.

    init : {"gaussian", "normal"}, default="gaussian"
        Distribution of ``x(0)`` in the standardised feature space: the data's
        moment-matched Gaussian (covariance shrunk 5% toward the identity), so
        the flow only transports what a Gaussian misses, or ``N(0, I)`` as in
        [1]_.

    privacy : DifferentialPrivacy, float or None, default=None
        Fit with differential privacy: a
        :class:`~skflow.privacy.DifferentialPrivacy` budget, or a number as
        its ``epsilon`` (``delta=1e-5``). Every critic step is then a DP-SGD
        step (Poisson batches of about ``batch_size`` rows, per-row gradients
        clipped, Gaussian noise, accounted by Opacus); the generator learns
        from the private critic only. The columns are scaled by the budget's
        public ``bounds`` (or a ``TabularEncoder`` with ``domains`` before the
        sampler), the flow starts from ``N(0, I)`` on that scale whatever
        ``init`` says (the data's Gaussian is a statistic of the rows), and
        ``warm_start`` is refused. ``divergence="kl"`` is trained in its
        shifted form, whose data term is a mean over rows. See
        :ref:`privacy`.

    {sampler_parameters}

    generator : {"velocity", "potential"}
        Deprecated spelling of ``parameterization`` (the name
        :class:`SlicedWassersteinFlow` uses for the same idea); removed in 0.2.

    start : {"gaussian", "normal"}
        Deprecated spelling of ``init`` (the name
        :class:`LipschitzParticleSampler` uses); removed in 0.2.

    n_time_steps : int
        Deprecated spelling of ``n_steps`` (the name ``sample`` uses); removed
        in 0.2.

    Attributes
    ----------
    n_iter_ : int
        Generator steps run.

    history_ : dict of list of float
        One value per iteration for each key: ``"generator_loss"`` (``E
        phi(x(T)) + lambda * kinetic energy``), ``"critic_loss"`` (minus the
        critic objective), ``"kinetic_energy"`` (``int_0^T E 0.5|v|^2 dt``),
        ``"terminal_divergence"`` (the critic objective, a lower bound on the
        Lipschitz-regularised divergence of ``x(T)`` to the data) and
        ``"hj_residual"`` (mean squared Hamilton-Jacobi residual on 64 path
        points; see Notes). A fit with ``privacy`` leaves out
        ``"critic_loss"`` and ``"terminal_divergence"``: they need the data.

    {privacy_attributes}

    {sampler_attributes}

    See Also
    --------
    LipschitzParticleSampler : Particle gradient flow of the same
        Lipschitz-regularised divergence.
    SlicedWassersteinFlow : JKO flow in sliced-Wasserstein space.

    Notes
    -----
    The training problem (with ``Q`` the standardised data, ``rho_t`` the law
    of ``x(t)``) is

    .. math::

        \min_v \max_{\phi \in \mathrm{Lip}_L}\;
            E_{\rho_T}[\phi] - \inf_\nu \{\nu + E_Q[f^*(\phi - \nu)]\}
            + \lambda \int_0^T E_{\rho_t}\big[\tfrac12 |v(x, t)|^2\big]\, dt.

    Its optimality conditions form a mean-field game: ``v = -grad U /
    lambda`` with ``-d_t U + |grad U|^2 / (2 lambda) = 0`` and ``U(., T) =
    phi*``. ``hj_residual`` records the mean of ``r^2`` with ``r = -d_t U +
    |grad U|^2 / (2 lambda)`` for the potential generator; for the velocity
    generator (no ``U``) it records the mean of ``|r|^2`` with ``r = d_t v +
    (v . grad) v``, the pressureless Burgers equation that the HJ dynamics
    imply (characteristics are straight lines at constant speed), computed by
    one Jacobian-vector product.

    Each iteration integrates the ODE once on a batch with the graph kept
    (``n_steps`` times the solver's stages network evaluations), takes
    ``n_critic_steps`` critic steps on the terminal points and one generator
    step. ``sample(n)`` integrates ``n`` fresh start points, in chunks.

    References
    ----------
    .. [1] H. Gu, M. A. Katsoulakis, L. Rey-Bellet and B. J. Zhang,
       "Combining Wasserstein-1 and Wasserstein-2 proximals: robust manifold
       learning via well-posed generative flows", 2024. arXiv:2407.11901.
    .. [2] T. Miyato, T. Kataoka, M. Koyama and Y. Yoshida, "Spectral
       normalization for generative adversarial networks", ICLR 2018.
       arXiv:1802.05957.

    Examples
    --------
    >>> from sklearn.datasets import load_wine
    >>> from skflow import ProximalMFGFlow
    >>> X, _ = load_wine(return_X_y=True)
    >>> flow = ProximalMFGFlow(max_iter=5, random_state=0).fit(X)
    >>> flow.sample(4).shape
    (4, 13)
    >>> X_new, paths = flow.sample(4, n_steps=5, return_trajectories=True)
    >>> paths.shape
    (6, 4, 13)
    """

    _parameter_constraints: dict = {
        **BaseSampler._parameter_constraints,
        "parameterization": [StrOptions(set(GENERATORS))],
        "solver": [StrOptions(set(SOLVERS))],
        "n_steps": [Interval(Integral, 1, MAX_INNER_STEPS, closed="both")],
        "time_horizon": [Interval(Real, 0.0, None, closed="neither")],
        "lipschitz_constant": [Interval(Real, 0.0, None, closed="right")],
        "kinetic_weight": [Interval(Real, 0.0, None, closed="left")],
        "divergence": [StrOptions({"kl", "alpha"})],
        "alpha": [Interval(Real, 1.0, None, closed="neither")],
        "n_critic_steps": [Interval(Integral, 1, MAX_INNER_STEPS, closed="both")],
        "learning_rate": LEARNING_RATE_CONSTRAINT,
        "critic_learning_rate": LEARNING_RATE_CONSTRAINT,
        "hidden_layer_sizes": [tuple, list],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions(set(STARTS))],
        "privacy": [
            DifferentialPrivacy,
            Interval(Real, 0.0, None, closed="neither"),
            None,
        ],
        # The spellings before 0.1, deprecated (see _renamed_parameters).
        "generator": [StrOptions(set(GENERATORS)), Hidden(StrOptions({DEPRECATED}))],
        "n_time_steps": [
            Hidden(StrOptions({DEPRECATED})),
            Interval(Integral, 1, MAX_INNER_STEPS, closed="both"),
        ],
        "start": [StrOptions(set(STARTS)), Hidden(StrOptions({DEPRECATED}))],
    }

    _renamed_parameters = {
        "generator": "parameterization",
        "start": "init",
        "n_time_steps": "n_steps",
    }

    def __init__(
        self,
        *,
        parameterization="velocity",
        solver="euler",
        n_steps=10,
        time_horizon=1.0,
        lipschitz_constant=3.0,
        kinetic_weight=0.05,
        divergence="kl",
        alpha=2.0,
        n_critic_steps=3,
        learning_rate=2e-3,
        critic_learning_rate=1e-2,
        hidden_layer_sizes=(64, 64),
        batch_size=512,
        max_iter=1000,
        init="gaussian",
        privacy=None,
        warm_start=False,
        device="auto",
        n_jobs=None,
        dtype="float32",
        random_state=None,
        verbose=0,
        generator=DEPRECATED,
        start=DEPRECATED,
        n_time_steps=DEPRECATED,
    ):
        self.parameterization = parameterization
        self.solver = solver
        self.n_steps = n_steps
        self.time_horizon = time_horizon
        self.lipschitz_constant = lipschitz_constant
        self.kinetic_weight = kinetic_weight
        self.divergence = divergence
        self.alpha = alpha
        self.n_critic_steps = n_critic_steps
        self.learning_rate = learning_rate
        self.critic_learning_rate = critic_learning_rate
        self.hidden_layer_sizes = hidden_layer_sizes
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.init = init
        self.privacy = privacy
        self.warm_start = warm_start
        self.device = device
        self.n_jobs = n_jobs
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose
        self.generator = generator
        self.start = start
        self.n_time_steps = n_time_steps

    # ------------------------------------------------------------- fitting
    def _check_parameter_combinations(self) -> None:
        """What the per-parameter constraints cannot say."""
        if self._param("parameterization") == "potential" and self.kinetic_weight == 0:
            raise ValueError(
                "parameterization='potential' needs kinetic_weight > 0 (its "
                "velocity is -grad U / kinetic_weight); use "
                "parameterization='velocity' to drop the kinetic penalty."
            )
        if np.isnan(self.lipschitz_constant) or np.isnan(self.kinetic_weight):
            raise ValueError(
                "lipschitz_constant and kinetic_weight must be numbers, not NaN."
            )

    def _check_memory(self, data, hidden) -> None:
        """Refuse sizes that cannot fit before the first allocation."""
        itemsize = data.element_size()
        d = data.shape[1]
        rows, n_steps = int(self.batch_size), int(self._param("n_steps"))
        # The field is applied at every time step with its graph kept for the
        # backward pass; the critic sees the terminal points and a data batch.
        field, path = training_bytes((d + 1, *hidden, d), rows * n_steps, itemsize)
        critic, batch = training_bytes((d, *hidden, 1), 2 * rows, itemsize)
        check_memory(
            f"{type(self).__name__}.fit",
            {
                f"the field and critic of hidden_layer_sizes="
                f"{self.hidden_layer_sizes}": (
                    field + critic,
                    "use narrower layers, e.g. hidden_layer_sizes=(64, 64).",
                ),
                f"the paths of batches of {rows} rows over n_steps={n_steps}": (
                    path + batch + (n_steps + 1) * rows * d * itemsize,
                    "lower batch_size (e.g. 256), n_steps or hidden_layer_sizes.",
                ),
                **trace_need(self.max_iter, len(HISTORY_KEYS), itemsize),
            },
            device=data.device,
        )

    def _fit_scaled(
        self, data: torch.Tensor, rng: np.random.RandomState, next_batch=None
    ) -> None:
        self._check_parameter_combinations()
        hidden = check_hidden_layer_sizes(self.hidden_layer_sizes)
        device, dtype = data.device, data.dtype
        n_features = data.shape[1]
        if self._warm_tensors is None:
            self._check_memory(data, hidden)
        else:
            self._check_trace_memory(len(HISTORY_KEYS), data)
        warm = self._warm_tensors
        budget = check_privacy(self.privacy, self)
        if warm is not None:
            mean, cholesky = warm["start"]["mean"], warm["start"]["cholesky"]
        elif self._param("init") == "gaussian" and budget is None:
            mean, cholesky = gaussian_start(data)
        else:
            # N(0, I); in a private fit always: the data's Gaussian is a
            # statistic of the rows.
            mean = torch.zeros(n_features, device=device, dtype=dtype)
            cholesky = torch.eye(n_features, device=device, dtype=dtype)
        streams = make_streams(draw_seed(rng), device)
        private = None
        if budget is not None:
            plan = PrivacyPlan(
                budget,
                data.shape[0],
                min(int(self.batch_size), data.shape[0]),
                int(self.max_iter) * int(self.n_critic_steps),
            )
            private = NoisyGradient(
                plan, streams.noise, streams.batches, draw_seed(rng)
            )
        if warm is not None:
            # Continue from the fitted (averaged) generator and the last critic;
            # the architecture and kinetic weight are the fitted ones.
            hidden = tuple(w.shape[0] for w in warm["critic"]["weights"][:-1])
            field = Field(**warm["field"])
            field = field._replace(
                parameters=[
                    p.detach().clone().requires_grad_(True) for p in field.parameters
                ]
            )
        else:
            field = init_field(
                self._param("parameterization"),
                n_features,
                hidden,
                kinetic_weight=float(self.kinetic_weight),
                time_horizon=float(self.time_horizon),
                generator=streams.init,
                device=device,
                dtype=dtype,
            )
        weights, biases, vectors = init_critic(
            n_features, hidden, streams.init, device, dtype
        )
        if warm is not None:
            weights = [
                w.clone().requires_grad_(True) for w in warm["critic"]["weights"]
            ]
            biases = [b.clone().requires_grad_(True) for b in warm["critic"]["biases"]]
        with self._progress(self.max_iter, ("loss", "divergence")) as report:
            result = proximal_flow(
                data,
                field,
                weights,
                biases,
                vectors,
                (mean, cholesky),
                streams=streams,
                solver=self.solver,
                n_time_steps=self._param("n_steps"),
                lipschitz_constant=float(self.lipschitz_constant),
                divergence=self.divergence,
                alpha=float(self.alpha),
                n_critic_steps=int(self.n_critic_steps),
                learning_rate=float(self.learning_rate),
                critic_learning_rate=float(self.critic_learning_rate),
                batch_size=int(self.batch_size),
                max_iter=int(self.max_iter),
                private=private,
                next_batch=next_batch,
                # A rolled-back window re-run would spend the budget twice.
                max_recoveries=MAX_RECOVERIES if private is None else 0,
                callback=report,
            )
        self._check_numerics(
            result.loop,
            "keep both proximals (a finite lipschitz_constant and "
            "kinetic_weight > 0), lower learning_rate or critic_learning_rate, "
            "or use dtype='float64'.",
        )
        self._tensors = {
            "start": {"mean": mean, "cholesky": cholesky},
            # The averaged generator samples; the critic is kept so that
            # warm_start continues the adversarial game.
            "field": field._replace(
                parameters=[p.detach() for p in result.average]
            )._asdict(),
            "critic": {
                "weights": [w.detach() for w in weights],
                "biases": [b.detach() for b in biases],
            },
        }
        values = to_numpy(result.history)
        self._record_fit(
            result.loop.n_iter,
            {
                key: values[:, column].tolist()
                for column, key in enumerate(HISTORY_KEYS)
                # A private fit does not estimate what needs the data.
                if private is None or key not in _DATA_HISTORY_KEYS
            },
        )
        if private is None:
            self._forget_privacy()
        else:
            self._record_privacy(private.plan, private.steps)
        self._warn_if_interrupted(result.loop.interrupted)

    # ------------------------------------------------------------ sampling
    def _integrate(self, n_samples, tensors, generator, n_steps, keep_path):
        return flow_samples(
            Field(**tensors["field"]),
            (tensors["start"]["mean"], tensors["start"]["cholesky"]),
            n_samples,
            generator=generator,
            solver=self.solver,
            n_steps=n_steps,
            keep_path=keep_path,
            chunks=lambda n_rows: sample_chunks(type(self).__name__, n_rows),
        )

    _sampling_remedy = (
        "refit with dtype='float64', a larger kinetic_weight or a smaller "
        "learning_rate."
    )
    _diverged_remedy = "lower time_horizon or learning_rate, or raise kinetic_weight."

    _conditional_method = "latent MCMC"

    def _sample_scaled_given(self, targets, tensors, generator):
        # The flow maps its Gaussian start to rows: condition on its noise.
        field = Field(**tensors["field"])
        mean, cholesky = tensors["start"]["mean"], tensors["start"]["cholesky"]
        n_steps = self._param("n_steps")

        def push_forward(z):
            return integrate(
                lambda x, t: velocity(field, x, t),
                mean + z @ cholesky.T,
                time_horizon=field.time_horizon,
                n_steps=n_steps,
                solver=self.solver,
            ).terminal

        return latent_conditional_draw(push_forward, mean.shape[0], targets, generator)

    def _sample_scaled(self, n_samples, tensors, generator):
        return self._integrate(
            n_samples, tensors, generator, self._param("n_steps"), False
        )[0]

    def _sample_n_steps(self, n_steps):
        if n_steps is None:
            n_steps = self._param("n_steps")
        return check_count(
            n_steps,
            "n_steps",
            maximum=MAX_INNER_STEPS,
            remedy="pass e.g. n_steps=20, or None for the constructor's n_steps.",
        )

    def _extra_sample_needs(self, n_samples, *, n_steps=None, keep_path=False):
        if not keep_path:
            return {}
        n_points = self._sample_n_steps(n_steps) + 1
        itemsize = resolve_dtype(self.dtype).itemsize
        # The path on the device, then in float64 standardised and unscaled.
        return {
            f"the trajectories of {n_samples} rows over {n_points} time points": (
                n_points * n_samples * self.n_features_in_ * (itemsize + 16),
                "ask for fewer rows or fewer n_steps with return_trajectories=True, "
                "or sample the rows without their trajectories.",
            )
        }

    def _sample_scaled_with_extras(
        self, n_samples, tensors, generator, *, n_steps=None, keep_path=False
    ):
        n_steps = self._sample_n_steps(n_steps)
        terminal, path = self._integrate(
            n_samples, tensors, generator, n_steps, bool(keep_path)
        )
        return terminal, ({} if path is None else {"path": path})

    def sample(
        self,
        n_samples=1,
        *,
        random_state=None,
        n_steps=None,
        return_trajectories=False,
        conditions=None,
    ):
        """Generate new rows by integrating the flow from fresh noise.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to generate.

        random_state : int, RandomState instance or None, default=None
            With an int, the same rows on every call. With None, each call
            advances the fitted ``random_state_``, so repeated calls differ while
            the whole sequence is reproducible from the constructor's seed.

        n_steps : int or None, default=None
            ODE steps on ``[0, time_horizon]`` (with the fitted ``solver``);
            None uses the constructor's ``n_steps`` (the training steps).

        return_trajectories : bool, default=False
            Also return the whole paths.

        conditions : dict, DataFrame, ndarray or None, default=None
            Columns to fix, the others drawn from the flow's conditional (by
            Langevin chains on the start noise, through the training
            ``n_steps``): see :meth:`BaseSampler.sample
            <skflow.LipschitzParticleSampler.sample>` and :ref:`conditional`.
            Not with ``n_steps`` or ``return_trajectories``.

        Returns
        -------
        X_new : ndarray or DataFrame of shape (n_samples, n_features_in_)
            Generated rows in the original feature space, in the container
            ``fit`` received.

        trajectories : ndarray of shape (n_steps + 1, n_samples, n_features_in_)
            Only with ``return_trajectories=True``: the states at times ``k *
            time_horizon / n_steps`` in the original feature units (constant
            columns filled in); ``trajectories[-1]`` equals ``X_new``.
        """
        if conditions is not None:
            if n_steps is not None or return_trajectories:
                raise ValueError(
                    "conditions draw through the training n_steps and return rows "
                    "only; call sample(..., conditions=...) without n_steps and "
                    "return_trajectories."
                )
            return super().sample(
                n_samples, random_state=random_state, conditions=conditions
            )
        return_trajectories = check_bool(return_trajectories, "return_trajectories")
        X_new, extras = self._sample(
            n_samples,
            random_state,
            n_steps=n_steps,
            keep_path=return_trajectories,
        )
        if not return_trajectories:
            return X_new
        path = to_numpy(extras["path"])
        n_points, n_rows, n_scaled = path.shape
        flat = self._unscale(path.reshape(n_points * n_rows, n_scaled))
        if not np.isfinite(flat).all():
            raise NumericalInstabilityError(
                "ProximalMFGFlow generated trajectories that overflow float64 in "
                "the original units (features of magnitude near 1e308); rescale "
                "those features before fitting, e.g. divide them by a power of 10."
            )
        return X_new, flat.reshape(n_points, n_rows, -1)

    @classmethod
    def _upgrade_state(cls, state):
        # 0.1.0.dev0: start_mean, start_cholesky, the averaged generator as
        # parameter_{i} (its kind, kinetic weight and horizon in _field_spec),
        # the critic as critic_weight_{i} and critic_bias_{i}.
        flat = state["_tensors"]
        kind, kinetic_weight, horizon = state.pop("_field_spec")
        state.pop("_critic_hidden", None)

        def numbered(prefix):
            count = sum(name.startswith(prefix) for name in flat)
            return [flat[f"{prefix}{i}"] for i in range(count)]

        state["_tensors"] = {
            "start": {"mean": flat["start_mean"], "cholesky": flat["start_cholesky"]},
            "field": Field(
                kind, numbered("parameter_"), kinetic_weight, horizon
            )._asdict(),
            "critic": {
                "weights": numbered("critic_weight_"),
                "biases": numbered("critic_bias_"),
            },
        }
        return state
