"""AutoencoderTransformer: the estimator shell around ``_core``."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from .._base import (
    LEARNING_RATE_CONSTRAINT,
    N_JOBS_CONSTRAINT,
    TorchEstimatorMixin,
    _non_numeric_columns,
    check_fit_numerics,
    check_hidden_layer_sizes,
    keeps_state_on_failure,
    spread_ratio,
    warn_fit_interrupted,
)
from .._compat import Interval, StrOptions, _fit_context, validate_data
from .._frames import column_kind
from .._scaling import column_exponents
from .._torch_utils import (
    draw_seed,
    iter_chunks,
    make_streams,
    resolve_device,
    resolve_dtype,
    to_numpy,
    to_tensor,
)
from .._validation import check_memory, trace_need, training_bytes
from .._warnings import warn
from ..exceptions import NumericalInstabilityError
from ._core import decode, encode, init_autoencoder, train_autoencoder

# Rows pushed through the network at once by transform / inverse_transform.
_CHUNK_ROWS = 65536


class AutoencoderTransformer(
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    TorchEstimatorMixin,
    BaseEstimator,
):
    r"""Nonlinear dimensionality reduction with an MLP autoencoder.

    An encoder ``f`` maps each (standardised) row to ``n_components`` latent
    coordinates and a decoder ``g`` maps them back; both are multilayer
    perceptrons trained to reconstruct the rows. Like
    :class:`~sklearn.decomposition.PCA` it has ``transform`` (encode) and
    ``inverse_transform`` (decode), so the two are interchangeable in a pipeline,
    e.g. ``make_generative_pipeline(AutoencoderTransformer(10), sampler)``.

    Read more in the :ref:`User Guide <pipelines>`.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the latent space.

    hidden_layer_sizes : tuple of int, default=(128, 64)
        Hidden widths of the encoder; the decoder mirrors them.

    alpha : float, default=1e-5
        L2 penalty (weight decay) on the weights, as in scikit-learn's MLP.

    learning_rate : float, default=1e-3
        Adam learning rate, in (0, 10].

    batch_size : int, default=128
        Rows per Adam step (all rows if fewer).

    max_iter : int, default=500
        Maximum number of epochs (passes over the training rows).

    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows and stop when their
        reconstruction error stops improving. With False, or when the split
        would leave no row on either side, the training loss is monitored.

    validation_fraction : float, default=0.1
        Fraction of the rows held out for early stopping.

    n_iter_no_change : int, default=20
        Epochs without an improvement larger than ``tol`` before stopping.

    tol : float, default=1e-4
        Minimum improvement of the monitored mean squared error (per entry, in
        the standardised space) that resets the patience counter.

    warm_start : bool, default=False
        When True and the transformer is fitted, ``fit`` continues training the
        fitted encoder and decoder for up to ``max_iter`` more epochs instead of
        starting over; the rows must have the same ``n_features_in_`` and are
        standardised with the first fit's statistics. ``n_components`` and
        ``hidden_layer_sizes`` must stay as fitted. See Notes.

    device : str, default="auto"
        Torch device: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``,
        ``"cuda"`` or ``"cuda:<index>"``; an unavailable device warns and falls
        back to the CPU. Changing it with ``set_params`` after ``fit`` takes
        effect at the next ``transform`` without refitting.

    n_jobs : int or None, default=None
        Number of CPU threads torch uses in ``fit``, ``transform`` and
        ``inverse_transform``. None applies skflow's thread policy: one thread
        for tiny batches (below 1e6 multiply-adds), otherwise the available
        CPUs that no other process keeps busy at the start of the call; ``-1``
        every available CPU, ``-2`` all but one; a positive int that many, at
        most the available CPUs. The caller's torch setting is restored after
        each call.

    dtype : {"float32", "float64"}, default="float32"
        Precision of the torch computation; outputs are float64 arrays.

    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the validation split and the batch
        order. The global numpy and torch random states are never touched.

    verbose : int, default=0
        1 shows a tqdm progress bar with the losses on stderr. 0 prints
        nothing, unless the fit runs past half a minute: its bar then appears, and
        is erased when the fit ends.

    Attributes
    ----------
    n_components_ : int
        Latent dimension.

    n_iter_ : int
        Epochs completed, over every fit so far when ``warm_start`` continues.

    best_epoch_ : int
        The epoch whose weights were kept (lowest monitored loss).

    history_ : dict of list of float
        ``"train_loss"`` and ``"validation_loss"`` (empty without a split): mean
        squared reconstruction error per entry, in the standardised space, per
        epoch; ``len(history_["train_loss"]) == n_iter_``. When warm-started
        fits mix runs with and without a validation split, the epochs without
        one have NaN validation loss, so both lists stay aligned by epoch.

    random_state_ : numpy.random.RandomState
        The stream a continued fit (``warm_start=True``) draws its batch order
        from, so each continuation sees new batches.

    device_ : str
        The device the model was fitted on.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit``; only when they are all strings.

    See Also
    --------
    sklearn.decomposition.PCA : The linear special case (a linear encoder and
        decoder trained on the same loss span the principal subspace).
    TabularEncoder : Turns mixed-type DataFrames into a continuous matrix.

    Notes
    -----
    With ``x`` standardised column by column (undone by ``inverse_transform``),
    the encoder ``f_\theta`` and decoder ``g_\phi`` minimise

    .. math::

        \frac{1}{n d} \sum_i \|x_i - g_\phi(f_\theta(x_i))\|^2
        + \frac{\alpha}{2} \sum_l \|W_l\|_F^2

    by mini-batch Adam. Hidden layers use SiLU activations; the latent and output
    layers are linear. Fitting costs ``n_iter_`` passes over the rows; transform
    and inverse_transform cost one network pass, in chunks of 65536 rows.

    Pressing Ctrl-C (``KeyboardInterrupt``) during ``fit`` discards the epoch
    in progress, keeps the weights of the completed epoch with the lowest
    monitored loss (as a finished fit does), warns, and leaves a usable
    transformer; an interrupt before the first epoch completes is passed
    on. With ``warm_start=True`` a second ``fit`` starts from the fitted weights
    (Adam's moments start afresh), holds out the same validation rows when
    given the same rows, and keeps the starting weights unless an epoch beats
    them on the monitored loss; ``n_iter_`` and ``history_`` accumulate. A
    continuation that fails leaves the fitted transformer as it was.

    A sampler fitted on ``f(X)`` and decoded by ``g`` generates in a space of
    dimension ``n_components`` instead of ``d``: fewer, better-conditioned
    coordinates for the flow, and the decoder keeps generated rows near the
    data manifold [1]_.

    References
    ----------
    .. [1] G. E. Hinton and R. R. Salakhutdinov, "Reducing the dimensionality of
       data with neural networks", Science 313(5786), 2006.

    Examples
    --------
    >>> from sklearn.datasets import load_wine
    >>> from skflow import AutoencoderTransformer
    >>> X, _ = load_wine(return_X_y=True)
    >>> ae = AutoencoderTransformer(n_components=3, max_iter=5, random_state=0)
    >>> Z = ae.fit_transform(X)
    >>> Z.shape, ae.inverse_transform(Z).shape
    ((178, 3), (178, 13))
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [tuple, list],
        "alpha": [Interval(Real, 0.0, None, closed="left")],
        "learning_rate": LEARNING_RATE_CONSTRAINT,
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0.0, 1.0, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "warm_start": ["boolean"],
        "device": [str],
        "n_jobs": N_JOBS_CONSTRAINT,
        "dtype": [StrOptions({"float32", "float64"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(128, 64),
        alpha=1e-5,
        learning_rate=1e-3,
        batch_size=128,
        max_iter=500,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=20,
        tol=1e-4,
        warm_start=False,
        device="auto",
        n_jobs=None,
        dtype="float32",
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.alpha = alpha
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.device = device
        self.n_jobs = n_jobs
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    @keeps_state_on_failure
    def fit(self, X, y=None):
        """Train the encoder and decoder on the rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows, numeric; standardised internally.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        warm = self._continues_fit()
        bad = _non_numeric_columns(X)
        if bad:
            # Not numpy's "DType ... could not be promoted by DateTime64DType".
            kinds = sorted({column_kind(X[name].dtype) for name in bad})
            raise TypeError(
                f"{type(self).__name__} needs numeric features, but columns "
                f"{bad} are not numeric ({', '.join(kinds)}). Encode them first: "
                "make_pipeline(TabularEncoder(), AutoencoderTransformer()) "
                "turns datetime, categorical and text columns into numbers."
            )
        # A continuation keeps the first fit's columns and scaling: the
        # network lives in that space.
        X = validate_data(
            self, X, dtype=np.float64, ensure_min_samples=2, reset=not warm
        )
        hidden = check_hidden_layer_sizes(self.hidden_layer_sizes)
        if warm:
            self._check_same_architecture(hidden)
        return self._fit_on_device(
            lambda rng, device, dtype: self._train(X, hidden, rng, device, dtype),
            warm=warm,
        )

    def _check_memory(self, n_features, hidden, train, device) -> None:
        """Refuse sizes that cannot fit before the first allocation."""
        itemsize = train.element_size()
        rows = min(int(self.batch_size), train.shape[0])
        widths = (n_features, *hidden, int(self.n_components), *hidden[::-1])
        widths = (*widths, n_features)
        weights, batch = training_bytes(widths, rows, itemsize)
        check_memory(
            f"{type(self).__name__}.fit",
            {
                f"the encoder and decoder of hidden_layer_sizes="
                f"{self.hidden_layer_sizes} and n_components={self.n_components}": (
                    weights,
                    "use narrower layers (e.g. hidden_layer_sizes=(64,)) or "
                    "fewer n_components.",
                ),
                f"the activations of batches of {rows} rows through layers {widths}": (
                    batch,
                    "lower batch_size (e.g. 128), hidden_layer_sizes or n_components.",
                ),
                # The training and validation losses of every epoch.
                **trace_need(self.max_iter, 2, itemsize),
            },
            device=device,
        )

    def _train(self, X, hidden, rng, device, dtype) -> None:
        """The body of ``fit``, inside :meth:`_fit_on_device`'s frame."""
        warm = self._warm_tensors is not None
        if warm:
            scaler, split_seed = self._scaler, self._split_seed
            exponents = self._column_exponents(X.shape[1])
        else:
            # StandardScaler sees the columns divided by exact powers of two:
            # its variance of values near 1e300 would overflow, and of values
            # near 1e-300 underflow to zero (see skflow._scaling).
            exponents = column_exponents(X)
            # An array whatever sklearn.set_config(transform_output=...) says.
            scaler = StandardScaler().set_output(transform="default")
            scaler.fit(np.ldexp(X, -exponents))
            split_seed = draw_seed(rng)
        scaled = scaler.transform(np.ldexp(X, -exponents))

        # The split has its own seed, kept with the model, so a continuation on
        # the same rows holds out the same validation rows as the first fit.
        n_rows = scaled.shape[0]
        n_validation = int(np.ceil(self.validation_fraction * n_rows))
        order = np.random.RandomState(split_seed).permutation(n_rows)
        if self.early_stopping and 1 <= n_validation < n_rows:
            train = to_tensor(scaled[order[n_validation:]], device, dtype)
            validation = to_tensor(scaled[order[:n_validation]], device, dtype)
        else:
            train, validation = to_tensor(scaled, device, dtype), None

        streams = make_streams(draw_seed(rng), device)
        if warm:
            fitted = self._warm_tensors
            parameters = fitted["encoder"] + fitted["decoder"]
            n_encoder = len(fitted["encoder"])
            self._check_trace_memory(2, train)
        else:
            self._check_memory(X.shape[1], hidden, train, device)
            parameters, n_encoder = init_autoencoder(
                X.shape[1], int(self.n_components), hidden, streams.init, device, dtype
            )
        names = ("train_loss", "validation_loss")
        with self._progress(self.max_iter, names) as report:
            result = train_autoencoder(
                train,
                validation,
                parameters,
                n_encoder,
                streams=streams,
                max_iter=int(self.max_iter),
                learning_rate=float(self.learning_rate),
                batch_size=int(self.batch_size),
                alpha=float(self.alpha),
                tol=float(self.tol),
                n_iter_no_change=int(self.n_iter_no_change),
                keep_initial=warm,
                callback=report,
            )
        loop = result.loop
        check_fit_numerics(
            self,
            None if loop.non_finite_at is None else loop.non_finite_at + 1,
            loop.recoveries,
            "lower learning_rate, or use dtype='float64'.",
        )
        # Finite but diverged (a learning rate of a few units): reconstructions
        # far wider than the rows they reconstruct.
        with torch.no_grad():
            probe = train[:1024]
            rebuilt = decode(
                encode(probe, result.parameters, n_encoder),
                result.parameters,
                n_encoder,
            )
        ratio = spread_ratio(to_numpy(rebuilt), to_numpy(probe))
        if not ratio <= 100.0:
            raise NumericalInstabilityError(
                f"{type(self).__name__}.fit diverged: its reconstructions spread "
                f"{ratio:.3g} times as wide as the rows; lower learning_rate."
            )
        # A fit that raised above left the transformer as it was
        # (keeps_state_on_failure); from here on the new model is recorded.
        n_before = self.n_iter_ if warm else 0
        history, best_epoch = self._continued_history(result, warm)
        self._scaler = scaler
        self._exponents = exponents
        self._split_seed = split_seed
        self._tensors = {
            "encoder": result.parameters[:n_encoder],
            "decoder": result.parameters[n_encoder:],
        }
        self.n_components_ = int(self.n_components)
        self._n_features_out = self.n_components_
        self.n_iter_ = n_before + loop.n_iter
        self.best_epoch_ = best_epoch
        self.history_ = history
        if loop.interrupted:
            warn_fit_interrupted(
                self,
                self.n_iter_,
                "epochs",
                f"the weights of epoch {self.best_epoch_} (lowest monitored loss)",
                "transform and inverse_transform",
            )
        elif loop.stop_reason != "early_stopping":
            warn(
                f"{type(self).__name__} ran all max_iter={self.max_iter} epochs "
                "without its monitored loss levelling off; raise max_iter or "
                "learning_rate.",
                ConvergenceWarning,
            )

    def _continued_history(self, result, warm: bool) -> tuple[dict, int]:
        """The loss history and best epoch, appended to the last fit's when warm."""
        history = {
            "train_loss": to_numpy(result.train_loss).tolist(),
            "validation_loss": to_numpy(result.validation_loss).tolist(),
        }
        if not warm:
            return history, result.best_epoch
        before = dict(self.history_)
        if before["validation_loss"] or history["validation_loss"]:
            # One fit with a validation split and one without: NaN marks the
            # epochs without one, so the lists stay aligned by epoch.
            for part in (before, history):
                missing = len(part["train_loss"]) - len(part["validation_loss"])
                part["validation_loss"] = (
                    part["validation_loss"] + [float("nan")] * missing
                )
        history = {key: before[key] + history[key] for key in history}
        best_epoch = (
            self.best_epoch_
            if result.best_epoch == 0
            else self.n_iter_ + result.best_epoch
        )
        return history, best_epoch

    def _check_same_architecture(self, hidden: tuple[int, ...]) -> None:
        """A continued fit trains the fitted network: its shape cannot change."""
        weights = self._tensors["encoder"][::2]
        fitted_hidden = tuple(int(w.shape[0]) for w in weights[:-1])
        if int(self.n_components) != self.n_components_ or hidden != fitted_hidden:
            raise ValueError(
                f"warm_start continues the fitted network, with n_components="
                f"{self.n_components_} and hidden_layer_sizes={fitted_hidden}, but "
                f"got n_components={self.n_components} and hidden_layer_sizes="
                f"{self.hidden_layer_sizes}; keep them, or set warm_start=False "
                "to refit."
            )

    def transform(self, X):
        """Encode rows into the latent space.

        Parameters
        ----------
        X : array-like of shape (n_samples, `n_features_in_`)
            Rows in the original feature space.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components_)
            Latent coordinates (float64).
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        exponents = self._column_exponents(X.shape[1])
        return self._apply(encode, self._scaler.transform(np.ldexp(X, -exponents)))

    def inverse_transform(self, X):
        """Decode latent coordinates into rows of the original feature space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components_)
            Latent coordinates, e.g. from ``transform`` or from a sampler.

        Returns
        -------
        X_original : ndarray of shape (n_samples, `n_features_in_`)
            Decoded rows, in the units of the training data (float64).
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=np.float64)
        if Z.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {Z.shape[1]} columns, but {type(self).__name__} decodes "
                f"{self.n_components_} latent components; pass the output of "
                "transform or of a sampler fitted on it."
            )
        unit = self._scaler.inverse_transform(self._apply(decode, Z))
        with np.errstate(over="ignore"):
            X_original = np.ldexp(unit, self._column_exponents(unit.shape[1]))
        if not np.isfinite(X_original).all():
            raise NumericalInstabilityError(
                f"{type(self).__name__} decoded rows that overflow float64 in the "
                "original units (features of magnitude near 1e308); rescale those "
                "features before fitting, e.g. divide them by a power of 10."
            )
        return X_original

    def _column_exponents(self, n_features: int) -> np.ndarray:
        """The powers of two the columns were divided by (none for a model
        saved before they were)."""
        exponents = getattr(self, "_exponents", None)
        return np.zeros(n_features, dtype=np.int64) if exponents is None else exponents

    def _apply(self, network, rows: np.ndarray) -> np.ndarray:
        device = resolve_device(self.device)
        dtype = resolve_dtype(self.dtype)
        tensors = self._tensors_on(device, dtype)
        parameters = tensors["encoder"] + tensors["decoder"]
        n_encoder = len(tensors["encoder"])
        with torch.no_grad(), self._torch_threads(min(rows.shape[0], _CHUNK_ROWS)):
            out = [
                to_numpy(
                    network(
                        to_tensor(rows[chunk], device, dtype),
                        parameters,
                        n_encoder,
                    )
                )
                for chunk in iter_chunks(rows.shape[0], _CHUNK_ROWS)
            ]
        return np.concatenate(out) if out else np.zeros((0, 0))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = False
        return tags

    @classmethod
    def _upgrade_state(cls, state):
        # 0.1.0.dev0: encoder then decoder as parameter_{i}, the encoder's
        # length in _n_encoder.
        flat = state["_tensors"]
        parameters = [flat[f"parameter_{i}"] for i in range(len(flat))]
        n_encoder = state.pop("_n_encoder")
        state["_tensors"] = {
            "encoder": parameters[:n_encoder],
            "decoder": parameters[n_encoder:],
        }
        return state
