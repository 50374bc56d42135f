"""SlicedWassersteinFlow: the estimator shell around ``_core``."""

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
    keeps_state_on_failure,
)
from .._compat import Interval, StrOptions, _fit_context
from .._conditional import latent_conditional_draw
from .._docstrings import fill_sampler_docstring
from .._gaussian import gaussian_start
from .._progress_bars import sample_chunks
from .._streaming import SUBSAMPLE_HINT, StreamingFitMixin
from .._torch_utils import (
    draw_seed,
    make_streams,
    to_numpy,
)
from .._validation import check_count, check_memory, trace_need, training_bytes
from .._warnings import warn
from ..privacy import DifferentialPrivacy
from ._core import (
    Model,
    data_functional,
    density_functional,
    draw,
    draw_particles,
    init_model,
    push_forward,
    sliced_jko_flow,
)

PARAMETERIZATIONS = ("auto", "generator", "normalizing_flow", "particles")

# "auto" particle count: twice the rows, within these bounds.
_AUTO_MIN_PARTICLES, _AUTO_MAX_PARTICLES = 1000, 20000


@fill_sampler_docstring
class SlicedWassersteinFlow(StreamingFitMixin, BaseSampler):
    r"""JKO gradient flow in sliced-Wasserstein space.

    Each step of the Jordan-Kinderlehrer-Otto scheme moves a generative model a
    little further down a functional ``F``, with the sliced-Wasserstein distance
    to the previous step as the proximal term (Bonet et al. [1]_). ``fit(X)``
    minimises ``F(mu) = 0.5 * SW_2^2(mu, data)``; :meth:`fit_density` samples
    from an unnormalised density by minimising ``KL(mu || target)``.

    Read more in the :ref:`User Guide <sliced_wasserstein_flow>`.

    Parameters
    ----------
    parameterization : str, default="auto"
        One of ``"auto"``, ``"generator"``, ``"normalizing_flow"``,
        ``"particles"``.
        The model of each ``mu_k``: a pushforward network ``x = A z + b +
        MLP(z)`` of ``z ~ N(0, I)`` (``"generator"``), a RealNVP normalizing
        flow [2]_ with an exact log-density (``"normalizing_flow"``), or a cloud of
        points moved directly (``"particles"``). ``"auto"`` uses the generator
        for ``fit`` and the normalizing flow for ``fit_density``, whose
        functional needs the density.

    step_size : float, default=0.2
        The JKO time step ``tau`` (in sliced-Wasserstein time; see Notes).

    max_iter : int, default=100
        Number of JKO steps.

    n_inner_steps : int, default=10
        Adam steps that solve each JKO step, warm-started from the last one;
        at most 10,000.

    learning_rate : float, default=5e-3
        Adam learning rate of the inner solver, in (0, 10].

    n_projections : int, default=100
        Random directions per sliced-Wasserstein estimate, drawn afresh at every
        inner step.

    hidden_layer_sizes : tuple of int, default=(64, 64)
        Hidden widths of the generator's MLP or of each coupling layer's MLP.

    n_layers : int, default=4
        Coupling layers of the normalizing flow.

    batch_size : int, default=512
        Latent draws (and data rows) per inner step.

    entropy_weight : float, default=0.0
        Weight of ``E[log mu]`` (negative entropy) added to ``F`` in ``fit``:
        spreads the model and keeps it from collapsing onto the rows. Exact for
        the normalizing flow, a nearest-neighbour estimate otherwise.

    n_particles : int or "auto", default="auto"
        Number of points for ``parameterization="particles"``: twice the rows,
        between 1000 and 20000, for ``"auto"``.

    privacy : None, default=None
        Not available for this family, which raises ValueError when it
        is set: its sliced-Wasserstein loss sorts each data batch
        against the generated one, so no gradient belongs to one row
        and per-row clipping cannot bound a row's influence.
        LipschitzParticleSampler and ProximalMFGFlow take a budget;
        see :ref:`privacy`.

    {sampler_parameters}

    Attributes
    ----------
    parameterization_ : str
        The model used (``"auto"`` resolved).

    n_iter_ : int
        JKO steps run.

    history_ : dict of list of float
        Per JKO step: ``"objective"`` (``F(mu_k)``; for ``fit_density`` the KL
        to the target up to its unknown log-normaliser) and ``"step_distance"``
        (``SW_2(mu_k, mu_{k-1})``).

    {sampler_attributes}

    See Also
    --------
    LipschitzParticleSampler : Particle flow of a Lipschitz-regularised
        divergence.

    Notes
    -----
    The JKO step is

    .. math::

        \mu_{k+1} = \arg\min_\mu \frac{SW_2^2(\mu, \mu_k)}{2\tau} + F(\mu),

    with ``SW_2^2`` estimated by sorting projections on random directions. For a
    translation, ``SW_2^2 = W_2^2 / d``, so a step ``tau`` in sliced space moves
    the mean like ``d * tau`` in Wasserstein space: after ``k`` steps the mean is
    at Wasserstein time about ``k * d * tau``. Changes of shape are cheaper in
    the sliced metric (near ``N(0, I)`` anisotropic covariance modes relax up to
    ``(d + 2) / 2`` times faster), so the sliced flow reaches the same minimiser
    of ``F`` along a different path. For a time-accurate flow use
    ``n_inner_steps=30``.

    Fitting costs ``max_iter * n_inner_steps`` gradient steps on a batch;
    ``sample(n)`` pushes ``n`` latent draws through the last model (particles:
    draws without replacement, then a Gaussian-kernel smoothing of the points).

    References
    ----------
    .. [1] C. Bonet, N. Courty, F. Septier and L. Drumetz, "Efficient gradient
       flows in sliced-Wasserstein space", Transactions on Machine Learning
       Research, 2022. arXiv:2110.10972.
    .. [2] L. Dinh, J. Sohl-Dickstein and S. Bengio, "Density estimation using
       Real NVP", ICLR 2017. arXiv:1605.08803.

    Examples
    --------
    >>> from sklearn.datasets import load_wine
    >>> from skflow import SlicedWassersteinFlow
    >>> X, _ = load_wine(return_X_y=True)
    >>> flow = SlicedWassersteinFlow(max_iter=5, random_state=0).fit(X)
    >>> flow.sample(4).shape
    (4, 13)
    """

    _parameter_constraints: dict = {
        "privacy": [
            DifferentialPrivacy,
            Interval(Real, 0.0, None, closed="neither"),
            None,
        ],
        **BaseSampler._parameter_constraints,
        "parameterization": [StrOptions(set(PARAMETERIZATIONS))],
        "step_size": [Interval(Real, 0.0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_inner_steps": [Interval(Integral, 1, MAX_INNER_STEPS, closed="both")],
        "learning_rate": LEARNING_RATE_CONSTRAINT,
        "n_projections": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [tuple, list],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "entropy_weight": [Interval(Real, 0.0, None, closed="left")],
        "n_particles": [
            Interval(Integral, 2, None, closed="left"),
            StrOptions({"auto"}),
        ],
    }

    def __init__(
        self,
        *,
        parameterization="auto",
        step_size=0.2,
        max_iter=100,
        n_inner_steps=10,
        learning_rate=5e-3,
        n_projections=100,
        hidden_layer_sizes=(64, 64),
        n_layers=4,
        batch_size=512,
        entropy_weight=0.0,
        n_particles="auto",
        privacy=None,
        warm_start=False,
        device="auto",
        n_jobs=None,
        dtype="float32",
        random_state=None,
        verbose=0,
    ):
        self.parameterization = parameterization
        self.step_size = step_size
        self.max_iter = max_iter
        self.n_inner_steps = n_inner_steps
        self.learning_rate = learning_rate
        self.n_projections = n_projections
        self.hidden_layer_sizes = hidden_layer_sizes
        self.n_layers = n_layers
        self.batch_size = batch_size
        self.entropy_weight = entropy_weight
        self.n_particles = n_particles
        self.privacy = privacy
        self.warm_start = warm_start
        self.device = device
        self.n_jobs = n_jobs
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------- fitting
    def _fit_scaled(
        self, data: torch.Tensor, rng: np.random.RandomState, next_batch=None
    ) -> None:
        if self._warm_tensors is not None:
            kind = self.parameterization_
        else:
            kind = (
                "generator"
                if self.parameterization == "auto"
                else self.parameterization
            )
        functional = data_functional(
            data,
            n_projections=int(self.n_projections),
            batch_size=int(self.batch_size),
            entropy_weight=float(self.entropy_weight),
            next_batch=next_batch,
        )
        mean, cholesky = gaussian_start(data)
        n_particles = self._resolve_n_particles(data.shape[0])
        self._run(
            kind,
            functional,
            mean,
            cholesky,
            rng,
            n_particles,
            needs_log_prob=kind == "normalizing_flow" and self.entropy_weight > 0,
        )

    def _check_streamable(self) -> None:
        super()._check_streamable()
        if self.parameterization == "particles":
            raise ValueError(
                "SlicedWassersteinFlow(parameterization='particles') moves one set "
                "of particles fitted to all rows at once and cannot stream them; "
                + SUBSAMPLE_HINT
            )

    @_fit_context(prefer_skip_nested_validation=True)
    @keeps_state_on_failure
    def fit_density(self, log_prob, n_features):
        """Fit the flow to an unnormalised density: sample a posterior.

        Minimises ``F(mu) = E_mu[V] + E_mu[log mu]`` with ``V = -log_prob``, the
        KL divergence to the target up to its log-normaliser. The flow starts
        from ``N(0, I)``; no scaling is applied (``sample`` returns points in the
        coordinates ``log_prob`` uses).

        Parameters
        ----------
        log_prob : callable
            Maps a torch tensor of shape ``(n, n_features)`` (on the estimator's
            device and dtype) to a tensor of shape ``(n,)`` of log-densities up
            to a constant; must be differentiable with torch autograd in its
            input. One computed under ``torch.no_grad()``, from a detached
            tensor or through numpy has no gradient to follow and is refused
            with a ``ValueError``.
        n_features : int
            Dimension of the target.

        Returns
        -------
        self : object
            The fitted flow.
        """
        if not callable(log_prob):
            raise TypeError(
                f"log_prob must be a callable mapping an (n, d) tensor to (n,) "
                f"log-densities, got {type(log_prob).__name__}."
            )
        n_features = check_count(
            n_features, "n_features", remedy="the dimension of the target."
        )

        def fit_step(rng, device, dtype):
            self._check_log_prob(log_prob, n_features, device, dtype)
            self._fit_identity_scaling(n_features)
            kind = (
                "normalizing_flow"
                if self.parameterization == "auto"
                else self.parameterization
            )
            self._run(
                kind,
                density_functional(log_prob),
                torch.zeros(n_features, device=device, dtype=dtype),
                torch.eye(n_features, device=device, dtype=dtype),
                rng,
                self._resolve_n_particles(0),
                needs_log_prob=kind == "normalizing_flow",
                method="fit_density",
            )

        self._fit_on_device(fit_step)
        self._warn_if_still_descending()
        return self

    def _warn_if_still_descending(self) -> None:
        """ConvergenceWarning when the KL objective was still falling at max_iter.

        Compares the mean objective of the last fifth of the steps with that of
        the fifth before it: a drop above 5 % of the whole fit's drop, and above
        the noise of the Monte Carlo estimates, means the flow had not reached
        the target yet (with the particle parameterization, whose points move
        at most about ``n_inner_steps * learning_rate`` per step, a distant
        target takes many steps).
        """
        objective = np.asarray(self.history_["objective"])
        window = max(5, len(objective) // 5)
        if len(objective) < 2 * window:
            return
        late = objective[-2 * window : -window].mean() - objective[-window:].mean()
        total = objective[0] - objective.min()
        noise = 2 * objective[-window:].std() / np.sqrt(window)
        if total > 0 and late > 0.05 * total and late > noise:
            warn(
                f"{type(self).__name__}.fit_density was still lowering its "
                f"objective at max_iter={self.max_iter}: the last {window} steps "
                f"lowered it by {late / total:.0%} of the whole fit's drop, so "
                "the samples may not have reached the target. Raise max_iter, "
                "or learning_rate (parameterization='particles' moves each "
                "point by at most about n_inner_steps * learning_rate per step).",
                ConvergenceWarning,
            )

    @staticmethod
    def _check_log_prob(log_prob, n_features, device, dtype):
        """Evaluate ``log_prob`` once near the start, ``N(0, I)``: a torch tensor
        of shape (n,), finite, and differentiable in its input (the flow moves
        along its gradient; without one it stays at the start)."""
        probe = torch.zeros(3, n_features, device=device, dtype=dtype)
        probe[1] += 0.5
        probe[2] -= 0.5
        probe.requires_grad_(True)
        no_gradient = (
            "log_prob must be a differentiable torch function of its input; it "
            "returned a tensor without gradient. Do not detach, call .numpy() or "
            "use torch.no_grad() inside it: write it with torch operations on the "
            "tensor it receives."
        )
        try:
            with torch.enable_grad():
                values = log_prob(probe)
        except Exception as exc:
            if "requires grad" in str(exc):
                # Tensor.numpy() on an input that autograd tracks.
                raise ValueError(f"{no_gradient} ({exc})") from exc
            raise ValueError(
                f"log_prob failed on a (3, {n_features}) tensor: {exc!r}. It must "
                f"accept torch tensors of shape (n, {n_features})."
            ) from exc
        if not isinstance(values, torch.Tensor):
            raise ValueError(
                f"log_prob must return a torch tensor (autograd differentiates "
                f"it); it returned a {type(values).__name__}. Write it with torch "
                "operations."
            )
        if values.shape != (3,):
            raise ValueError(
                f"log_prob must return a torch tensor of shape (n,); for n=3 it "
                f"returned shape {tuple(values.shape)}. Sum over the feature axis "
                "if needed."
            )
        if not bool(torch.isfinite(values).all()):
            raise ValueError(
                "log_prob returned NaN or infinite values near the origin; the flow "
                "starts from N(0, I), so log_prob must be finite there."
            )
        gradient = (
            torch.autograd.grad(values.sum(), probe, allow_unused=True)[0]
            if values.requires_grad
            else None
        )
        if gradient is None:
            raise ValueError(no_gradient)

    def _resolve_n_particles(self, n_rows: int) -> int:
        if self.n_particles != "auto":
            return int(self.n_particles)
        return min(max(2 * n_rows, _AUTO_MIN_PARTICLES), _AUTO_MAX_PARTICLES)

    def _check_memory(self, kind, mean, hidden, n_particles, method) -> None:
        """Refuse sizes that cannot fit before the first allocation."""
        itemsize = mean.element_size()
        d = mean.shape[0]
        widths = (d, *hidden, d if kind == "generator" else 2 * d)
        if kind == "particles":
            rows, weights, batch = n_particles, 4 * n_particles * d * itemsize, 0
        else:
            rows = int(self.batch_size)
            weights, batch = training_bytes(widths, rows, itemsize)
            if kind == "normalizing_flow":
                weights, batch = (n * int(self.n_layers) for n in (weights, batch))
        n_projections = int(self.n_projections)
        check_memory(
            f"{type(self).__name__}.{method}",
            {
                f"the {kind} of hidden_layer_sizes={self.hidden_layer_sizes}"
                + ("" if kind != "normalizing_flow" else f" x {self.n_layers}"): (
                    weights,
                    "use narrower layers (e.g. hidden_layer_sizes=(64, 64)), "
                    "fewer n_layers, or fewer n_particles.",
                ),
                f"the activations of batches of {rows} rows through layers {widths}": (
                    batch,
                    "lower batch_size (e.g. 256) or narrow hidden_layer_sizes.",
                ),
                # The directions, and the model, anchor and data batches
                # projected, sorted and differentiated along each of them.
                f"batches of {rows} rows on n_projections={n_projections}": (
                    n_projections * (d + 6 * rows) * itemsize,
                    "lower n_projections (e.g. 50) or batch_size (e.g. 256).",
                ),
                # The objective and the step distance of every JKO step.
                **trace_need(self.max_iter, 2, itemsize),
            },
            device=mean.device,
        )

    def _run(
        self,
        kind,
        functional,
        mean,
        cholesky,
        rng,
        n_particles,
        *,
        needs_log_prob,
        method="fit",
    ):
        hidden = check_hidden_layer_sizes(self.hidden_layer_sizes)
        streams = make_streams(draw_seed(rng), mean.device)
        warm = self._warm_tensors
        if warm is not None:
            # Continue from the fitted model, whatever the parameters now say.
            model = Model(**warm["model"])
            kind = model.kind
            self._check_trace_memory(2, mean)
        else:
            self._check_memory(kind, mean, hidden, n_particles, method)
            model = init_model(
                kind,
                mean.shape[0],
                hidden_layer_sizes=hidden,
                n_layers=int(self.n_layers),
                mean=mean,
                cholesky=cholesky,
                generator=streams.init,
                n_particles=n_particles,
            )
        with self._progress(self.max_iter, ("objective", "step_distance")) as report:
            result = sliced_jko_flow(
                model,
                functional,
                streams=streams,
                step_size=float(self.step_size),
                max_iter=int(self.max_iter),
                n_inner_steps=int(self.n_inner_steps),
                learning_rate=float(self.learning_rate),
                n_projections=int(self.n_projections),
                batch_size=int(self.batch_size),
                needs_log_prob=needs_log_prob,
                callback=report,
            )
        remedy = "lower learning_rate or step_size, or use dtype='float64'."
        if method == "fit_density":
            remedy = (
                "log_prob may be NaN or infinite where the flow went (outside a "
                "bounded support, say): make it finite everywhere (a large "
                "negative value instead of -inf), or " + remedy
            )
        self._check_numerics(result.loop, remedy, method=method)
        self.parameterization_ = kind
        self._tensors = {"model": result.model._asdict()}
        self._record_fit(
            result.loop.n_iter,
            {
                "objective": to_numpy(result.objective).tolist(),
                "step_distance": to_numpy(result.step_distance).tolist(),
            },
        )
        self._warn_if_interrupted(result.loop.interrupted)

    # ------------------------------------------------------------ sampling
    @property
    def _conditional_method(self):
        # A pushforward network or a normalizing flow is a map of noise;
        # plain particles have none, so they are drawn by rejection.
        kind = self._tensors["model"]["kind"]
        return "rejection" if kind == "particles" else "latent MCMC"

    def _sample_scaled_given(self, targets, tensors, generator):
        model = Model(**tensors["model"])
        return latent_conditional_draw(
            lambda z: push_forward(model, z)[0], model.n_features, targets, generator
        )

    def _sample_scaled(self, n_samples, tensors, generator):
        model = Model(**tensors["model"])
        if model.kind == "particles":
            return draw_particles(model.parameters[0], n_samples, generator)
        with torch.no_grad():
            return torch.cat(
                [
                    draw(model, rows.stop - rows.start, generator)[0]
                    for rows in sample_chunks(type(self).__name__, n_samples)
                ]
            )

    @classmethod
    def _upgrade_state(cls, state):
        # 0.1.0.dev0: the model's parameters as parameter_{i}, its kind and
        # sizes in _model_spec.
        kind, n_features, n_layers = state.pop("_model_spec")
        flat = state["_tensors"]
        parameters = [flat[f"parameter_{i}"] for i in range(len(flat))]
        state["_tensors"] = {
            "model": Model(kind, parameters, n_features, n_layers)._asdict()
        }
        return state
