"""The sampler contract shared by every skflow estimator.

:class:`BaseSampler` owns everything that is the same for all methods: input
validation, internal feature scaling, device and dtype resolution, the rules for
random states, the numpy/DataFrame round trip, ``score`` and cross-device pickling.
A method implements two hooks on tensors in the scaled feature space:

* ``_fit_scaled(data, rng)`` learns from a ``(n_rows, n_features)`` tensor, sets
  ``self._tensors`` (a dict of the learned tensors), ``n_iter_`` and ``history_``;
* ``_sample_scaled(n_samples, tensors, generator)`` draws ``n_samples`` rows with
  ``tensors`` already on the requested device and dtype.
"""

from __future__ import annotations

import functools
import inspect
import re
import warnings
from abc import ABCMeta, abstractmethod
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from . import _progress_bars
from ._compat import (
    Interval,
    InvalidParameterError,
    StrOptions,
    _fit_context,
    validate_data,
)
from ._frames import beyond_float_dtypes, float_range_message
from ._recovery import recovery_message
from ._threads import resolve_n_threads, torch_threads
from ._torch_utils import (
    check_random_state,
    draw_seed,
    make_generator,
    map_tensors,
    resolve_device,
    resolve_dtype,
    tensors_to,
    to_numpy,
    to_tensor,
)
from ._validation import check_count, check_memory, trace_need
from ._version import __version__
from ._warnings import warn
from .exceptions import NumericalInstabilityError, NumericalInstabilityWarning
from .privacy import check_privacy, public_bounds

# A column whose spread is below this fraction of its largest absolute value is
# treated as constant: it is not modelled and is written back unchanged by ``sample``.
# About 50 float64 rounding steps: a constant column's computed spread is a few
# steps, while real variation at an offset (values near 1e12 varying by 1, a
# relative 1e-12) is kept.
_CONSTANT_RTOL = 1e-14

# ``score`` compares held-out rows with at least this many generated rows...
_SCORE_MIN_SAMPLES = 1000
# ...and at most this many of each (the energy distance costs n^2).
_SCORE_MAX_SAMPLES = 5000


# ``n_jobs``: None (the thread policy), a positive count, or a negative one
# counted back from the available CPUs; 0 is refused.
# n_jobs: None, a positive count or a negative count back from the CPUs; at
# most 2**15 either way (joblib's process backend overflows a C int at 2**31,
# and no machine or cluster runs that many workers).
MAX_JOBS = 2**15
N_JOBS_CONSTRAINT = [
    Interval(Integral, 1, MAX_JOBS, closed="both"),
    Interval(Integral, -MAX_JOBS, -1, closed="both"),
    None,
]


# Adam moves each weight by about ``learning_rate`` per step whatever the scale
# of its gradient, and skflow's networks see standardised data with weights of
# order 1: beyond 10 every step overshoots by orders of magnitude. (Beyond
# float32's 3.4e38, torch's Adam itself fails with "value cannot be converted to
# type float without overflow".)
MAX_LEARNING_RATE = 10.0
LEARNING_RATE_CONSTRAINT = [
    Interval(Real, 0.0, MAX_LEARNING_RATE, closed="right"),
]


def keeps_state_on_failure(fit):
    """Decorate a ``fit`` method so that a fit that raises changes nothing.

    Whatever goes wrong (bad input found late, a numerical blow-up, Ctrl-C
    before the first iteration), the estimator keeps the attributes it had
    before the call: a model fitted earlier is not lost, and a new estimator
    stays unfitted. Fitting assigns new objects rather than mutating old ones,
    so a shallow copy of the instance dictionary is the whole state, with one
    exception: random states are advanced in place (a continued fit draws its
    seeds from the fitted ``random_state_``, any fit from a ``RandomState``
    passed as ``random_state``). Their positions are saved too and put back in
    place, so the ``sample()`` stream after a failed fit is the one a twin
    estimator that never tried would draw.
    """

    @functools.wraps(fit)
    def guarded_fit(self, *args, **kwargs):
        state = dict(self.__dict__)
        positions = _random_state_positions(state.values())
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(state)
            _restore_random_state_positions(positions)
            raise

    return guarded_fit


def _random_state_positions(values) -> list:
    """``(random state, saved position)`` for each numpy random state in ``values``."""
    positions = []
    for value in values:
        if isinstance(value, np.random.RandomState):
            positions.append((value, value.get_state()))
        elif isinstance(value, np.random.Generator):
            positions.append((value, value.bit_generator.state))
    return positions


def _restore_random_state_positions(positions: list) -> None:
    """Put each random state of :func:`_random_state_positions` back, in place."""
    for value, position in positions:
        if isinstance(value, np.random.RandomState):
            value.set_state(position)
        else:
            value.bit_generator.state = position


def pass_input_scale(estimator, shared: bool) -> None:
    """Tell ``estimator``, about to be fitted, whether its rows share one scale.

    :class:`~skflow.GenerativePipeline` calls this on its last step with the
    ``_shared_output_scale`` marker of the transformer before it (a
    :class:`~skflow.TabularEncoder` sets it), and the meta-estimators pass it on
    to their clones. A skflow sampler told ``shared=True`` centres its rows but
    does not standardise them column by column, so the encoder's weighting of
    its columns reaches the sampler's geometry. Other estimators are left
    alone. The flag only matters during ``fit``: the scaling it chose is
    stored with the model.
    """
    if hasattr(type(estimator), "_shared_input_scale"):
        estimator._shared_input_scale = bool(shared)


# The most inner steps (critic, dual or JKO steps) one iteration may take: the
# loop reports progress and checks Ctrl-C between iterations, so an iteration
# must stay short; more work belongs in max_iter.
MAX_INNER_STEPS = 10_000


def spread_ratio(rows: np.ndarray, reference=None) -> float:
    """How many times as wide as ``reference`` the ``rows`` spread.

    The spread of a set of rows is the widest column's 5%-95% quantile range,
    robust to heavy tails; ``reference`` None stands for a unit spread, and a
    reference narrower than 0.1 counts as 0.1 (standardised units), so sparse
    indicator columns do not make every model look diverged.
    """

    def spread(values):
        if len(values) < 2:
            return 0.0
        low, high = np.nanquantile(values, [0.05, 0.95], axis=0)
        return float(np.max(high - low, initial=0.0))

    base = 1.0 if reference is None else max(spread(np.asarray(reference)), 0.1)
    return spread(np.asarray(rows, dtype=np.float64)) / base


def check_n_samples(n_samples) -> int:
    """Validate the number of rows asked of ``sample`` (see :func:`check_count`)."""
    return check_count(n_samples, "n_samples", remedy="pass e.g. n_samples=100.")


def check_sample_memory(estimator, n_samples: int, extra=None) -> None:
    """Refuse a ``sample(n_samples)`` whose rows cannot fit in memory.

    The rows exist about five times at their peak: generated on the device
    (in the model's dtype, and once more while checked), then in float64 as
    standardised rows, unscaled rows and the output container. ``extra`` adds
    needs in :func:`~skflow._validation.check_memory`'s form (a sampler's
    extra outputs, such as trajectories).
    """
    n_features = int(getattr(estimator, "n_features_in_", 1))
    itemsize = resolve_dtype(getattr(estimator, "dtype", "float64")).itemsize
    check_memory(
        f"{type(estimator).__name__}.sample",
        {
            f"{n_samples} rows of {n_features} features": (
                n_samples * n_features * (2 * itemsize + 3 * 8),
                "ask for fewer rows, or draw them in chunks: repeated calls "
                "sample(100_000) give new rows each time (reproducibly from "
                "random_state), to write out or reduce one chunk at a time.",
            ),
            **(extra or {}),
        },
    )


def check_hidden_layer_sizes(hidden_layer_sizes) -> tuple[int, ...]:
    """Validate a tuple or list of hidden-layer widths; return it as ints.

    Each width must be a positive integer (Python or numpy; not a bool, not a
    float such as 2.5, which ``int`` would silently truncate).
    """
    remedy = "e.g. hidden_layer_sizes=(64, 64)."
    if isinstance(hidden_layer_sizes, (Integral, np.integer)) and not isinstance(
        hidden_layer_sizes, (bool, np.bool_)
    ):
        raise InvalidParameterError(
            f"hidden_layer_sizes must be a non-empty tuple of positive ints, got "
            f"the int {hidden_layer_sizes!r}; for one hidden layer pass "
            f"({hidden_layer_sizes},)."
        )
    if not isinstance(hidden_layer_sizes, (tuple, list)) or not hidden_layer_sizes:
        raise InvalidParameterError(
            f"hidden_layer_sizes must be a non-empty tuple of positive ints, got "
            f"{hidden_layer_sizes!r}; {remedy}"
        )
    for width in hidden_layer_sizes:
        if isinstance(width, (bool, np.bool_)) or not isinstance(width, Integral):
            raise InvalidParameterError(
                f"hidden_layer_sizes must be a non-empty tuple of positive ints, "
                f"got {hidden_layer_sizes!r}: the width {width!r} is of type "
                f"{type(width).__name__}; {remedy}"
            )
        if width < 1:
            raise ValueError(
                f"hidden_layer_sizes must be a non-empty tuple of positive ints, "
                f"got {hidden_layer_sizes!r}: the width {width!r} is below 1; "
                f"{remedy}"
            )
    return tuple(int(width) for width in hidden_layer_sizes)


def check_fit_numerics(
    estimator, failed_at, recoveries, remedy: str, method: str = "fit"
) -> None:
    """Raise if a fit stayed non-finite; warn if it rolled back and recovered.

    ``failed_at`` is None or the 1-based iteration (epoch) that was still
    non-finite once the rollbacks were spent; ``recoveries`` are the rollbacks
    made; ``remedy`` names the parameters to change.
    """
    name = type(estimator).__name__
    if failed_at is not None:
        raise NumericalInstabilityError(
            f"{name}.{method} produced non-finite values at iteration {failed_at}, "
            f"and {len(recoveries)} rollbacks to the last finite state with "
            f"halved learning rates did not help; {remedy}"
        )
    if recoveries:
        warn(recovery_message(name, recoveries), NumericalInstabilityWarning)


# In every fit-interrupted warning: the command line looks for it to abort
# instead of writing rows from a partial model.
FIT_INTERRUPTED = "fit was interrupted (KeyboardInterrupt)"


def warn_fit_interrupted(
    estimator, n_completed: int, unit: str, kept: str, use: str
) -> None:
    """After a fit ended by Ctrl-C: say so, what was kept, and that it is usable."""
    warn(
        f"{type(estimator).__name__}.{FIT_INTERRUPTED} "
        f"after {n_completed} completed {unit}; the fitted model holds {kept} "
        f"and can {use}. Fit again for a full run.",
        UserWarning,
    )


@contextmanager
def fit_interrupted_warnings():
    """Hold back the fit-interrupted warnings raised in the block.

    A skflow sampler that Ctrl-C stops keeps its partial model and says so
    with a warning (:data:`FIT_INTERRUPTED`) instead of raising: the
    one sign a meta-estimator gets that its user asked to stop. The block's
    warnings of that kind are collected in the list it yields, whatever the
    filters say; the caller decides whether to show them
    (:func:`show_held_warnings`). Other warnings pass as usual.
    """
    held = []
    show = warnings.showwarning

    def watch(message, category, filename, lineno, file=None, line=None):
        if FIT_INTERRUPTED in str(message):
            held.append((message, category, filename, lineno))
        else:
            show(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        warnings.filterwarnings("always", message=f".*{re.escape(FIT_INTERRUPTED)}")
        warnings.showwarning = watch
        yield held


def show_held_warnings(held) -> None:
    """Emit warnings held by :func:`fit_interrupted_warnings`, through the
    caller's filters."""
    for message, category, filename, lineno in held:
        warnings.warn_explicit(message, category, filename, lineno)


def _non_numeric_columns(X) -> list:
    """Names of DataFrame columns that are neither numeric nor boolean."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(X, "columns"):
        return []
    bad = []
    for name, dtype in zip(X.columns, dtypes):
        kind = getattr(dtype, "kind", "O")
        if kind not in "biuf":
            bad.append(name)
    return bad


# The layout of ``_tensors`` that ``__getstate__`` records. 1 (no marker): the
# 0.1.0.dev0 files, whose models were flattened into ``parameter_{i}`` keys with
# side tuples to rebuild them; 2: named, nested containers.
STATE_LAYOUT = 2

# The default of a renamed constructor parameter's old spelling: any other value
# means the caller used the old name (see TorchEstimatorMixin._renamed_parameters).
DEPRECATED = "deprecated"


def _move_tensor(device: torch.device, dtype: torch.dtype):
    """A function moving one tensor to ``device``, floating ones also to ``dtype``."""

    def move(tensor: torch.Tensor) -> torch.Tensor:
        if torch.is_floating_point(tensor):
            return tensor.to(device=device, dtype=dtype)
        return tensor.to(device)

    return move


class TorchEstimatorMixin:
    """What every skflow estimator with learned torch tensors shares.

    The base of :class:`BaseSampler` and :class:`~skflow.AutoencoderTransformer`:

    * one fitting frame, :meth:`_fit_on_device`: the random state (the
      constructor's seed, or the fitted stream when ``warm_start`` continues),
      the device and dtype resolved once, the thread policy, the fitted tensors
      handed back for a continued fit, and ``device_`` / ``random_state_``
      recorded afterwards;
    * the fitted model in ``self._tensors``: a nest of dicts and lists whose
      leaves are tensors (with the small ints and strings that say what they
      are, e.g. a model's ``kind``), moved across devices and dtypes by one
      function, :func:`~skflow._torch_utils.map_tensors`, and cached per
      device by :meth:`_tensors_on`, so ``set_params(device=...)`` after
      ``fit`` takes effect at the next use without refitting;
    * device-free pickling that records the skflow version and the layout of
      the fitted state, so a model fitted on a GPU loads on a CPU-only host and
      files of earlier releases are upgraded on load (:meth:`_upgrade_state`);
    * the progress bar and the thread block of one call;
    * renamed constructor parameters: the old spelling stays for one release
      with the default ``"deprecated"``, warns with a ``FutureWarning`` at
      ``fit`` and, when given, is the value used (:meth:`_param`).
    """

    # Old spelling -> new name of each constructor parameter renamed in this
    # release (a subclass lists its own); both are constructor parameters.
    _renamed_parameters: dict = {}
    # The release that renamed them; the old spellings go in the next one.
    _renamed_in = ("0.1", "0.2")

    def _param(self, name: str):
        """The value of constructor parameter ``name``, taken from its old
        spelling when the caller set that one."""
        for old, new in self._renamed_parameters.items():
            if new == name and getattr(self, old, DEPRECATED) != DEPRECATED:
                return getattr(self, old)
        return getattr(self, name)

    def _warn_renamed_parameters(self) -> None:
        renamed, removed = self._renamed_in
        for old, new in self._renamed_parameters.items():
            value = getattr(self, old, DEPRECATED)
            if value != DEPRECATED:
                warn(
                    f"{type(self).__name__}({old}=...) was renamed to {new} in "
                    f"skflow {renamed}; the old name is removed in {removed}. "
                    f"Pass {new}={value!r} instead.",
                    FutureWarning,
                )

    def _continues_fit(self) -> bool:
        """Whether this ``fit`` continues the last one (``warm_start=True``)."""
        return bool(getattr(self, "warm_start", False)) and hasattr(self, "n_iter_")

    def _fit_on_device(self, fit_step, *, warm=False):
        """Resolve seed, device and dtype once, run ``fit_step(rng, device,
        dtype)``, then record ``device_`` and the sampling stream ``random_state_``.

        Every way of fitting (``fit``, ``fit_density``) goes through here. With
        ``warm``, the fitted tensors are handed to the method as
        ``self._warm_tensors`` (on the fit's device) and the seed continues the
        fitted stream, so a continued fit draws new batches. ``fit_step`` sets
        ``self._tensors``.
        """
        self._warn_renamed_parameters()
        rng = self.random_state_ if warm else check_random_state(self.random_state)
        device = resolve_device(self.device)
        dtype = resolve_dtype(self.dtype)
        self._warm_tensors = self._tensors_on(device, dtype) if warm else None
        self._tensors = {}
        self._tensor_cache = None
        try:
            with self._torch_threads(getattr(self, "batch_size", 1)):
                fit_step(rng, device, dtype)
        finally:
            self._warm_tensors = None
        # Contiguous storage: a transposed view samples through other matrix
        # kernels than the contiguous copy that skflow.save writes, and small
        # draws would then differ in the last digits after a save and load.
        self._tensors = map_tensors(self._tensors, torch.Tensor.contiguous)
        # Fill the device cache now (the fitted tensors themselves, no copy), so
        # that sample and transform do not change the estimator's state
        # (scikit-learn's check_dict_unchanged) unless the device changes.
        self._tensors_on(device, dtype)
        self.device_ = str(device)
        self.random_state_ = np.random.RandomState(draw_seed(rng))
        return self

    def __getstate__(self):
        state = dict(super().__getstate__())
        if "_tensors" in state:
            # Device-free state: a model fitted on a GPU loads on a CPU-only host.
            state["_tensors"] = tensors_to(state["_tensors"], "cpu")
            state["_state_layout"] = STATE_LAYOUT
        state["_tensor_cache"] = None
        state["_skflow_version"] = __version__
        return state

    def __setstate__(self, state):
        version = state.pop("_skflow_version", None)
        if version is not None and version != __version__:
            warn(
                f"This {type(self).__name__} was saved with skflow {version} and is "
                f"loaded with skflow {__version__}; refit it if results look wrong.",
                UserWarning,
            )
        layout = state.pop("_state_layout", 1)
        if "_tensors" in state and layout != STATE_LAYOUT:
            if layout > STATE_LAYOUT:
                raise ValueError(
                    f"This {type(self).__name__} was saved by skflow {version}, "
                    f"whose fitted-state layout {layout} is newer than this skflow "
                    f"({__version__}) reads; upgrade skflow to load it."
                )
            state = self._upgrade_state(dict(state))
        for old, new in self._renamed_parameters.items():
            if new not in state and old in state:
                # Saved before the rename: the value moves to the new name.
                state = {**state, new: state[old], old: DEPRECATED}
        # A parameter added since the file was written (``privacy``) takes its
        # default, which is the behaviour the file was fitted with.
        added = {
            name: parameter.default
            for name, parameter in inspect.signature(
                type(self).__init__
            ).parameters.items()
            if name != "self"
            and parameter.default is not inspect.Parameter.empty
            and name not in state
        }
        super().__setstate__({**added, **state})

    @classmethod
    def _upgrade_state(cls, state: dict) -> dict:
        """Rebuild a layout-1 state (flat ``parameter_{i}`` keys) as layout 2.

        Each estimator with such files overrides it; the default keeps the state
        as it is (its layout did not change).
        """
        return state

    def _torch_threads(self, rows: int):
        """A block that runs with the thread policy's count for batches of ``rows``.

        The work of a batch is estimated as ``rows x (widest layer)^2``
        multiply-adds, the cost of its largest matrix product; see
        :func:`skflow._threads.resolve_n_threads` for the rule.
        """
        sizes = getattr(self, "hidden_layer_sizes", None)
        widths = () if sizes is None else check_hidden_layer_sizes(sizes)
        widest = max([*widths, getattr(self, "n_features_in_", 1), 1])
        work = float(rows) * widest * widest
        return torch_threads(resolve_n_threads(getattr(self, "n_jobs", None), work))

    def _tensors_on(self, device: torch.device, dtype: torch.dtype) -> dict:
        """The fitted tensors on ``device``/``dtype``, moved once and cached."""
        key = (str(device), dtype)
        cache = getattr(self, "_tensor_cache", None)
        if cache is None or cache[0] != key:
            self._tensor_cache = (
                key,
                map_tensors(self._tensors, _move_tensor(device, dtype)),
            )
        return self._tensor_cache[1]

    def _check_trace_memory(self, values_per_iteration: int, like) -> None:
        """Refuse a ``warm_start`` continuation whose ``max_iter`` traces
        cannot fit; ``like`` is a tensor of the fit's device and dtype.

        A first fit checks its traces with its networks and batches; a
        continuation reuses the fitted networks, so only the traces are new.
        """
        check_memory(
            f"{type(self).__name__}.fit",
            trace_need(self.max_iter, values_per_iteration, like.element_size()),
            device=like.device,
        )

    @contextmanager
    def _progress(self, total: int, names: tuple[str, ...] = ()):
        """A progress callback for a core's loop, drawing a tqdm bar on stderr.

        With ``verbose`` truthy the bar shows at once and stays; with
        ``verbose=0`` it appears only once the fit has run for
        :data:`skflow._progress_bars.QUIET_PROGRESS_DELAY` seconds, and is
        erased at the end, so a quiet fit prints nothing unless it runs long
        enough for the user to wonder whether it hangs. The callback takes
        ``(n_iter, *values)``, as :func:`skflow._loop.run_loop` calls it, and
        shows the values under ``names``.
        """
        with tqdm(
            total=total,
            desc=type(self).__name__,
            delay=0 if self.verbose else _progress_bars.QUIET_PROGRESS_DELAY,
            leave=bool(self.verbose),
        ) as bar:

            def report(n_iter, *values):
                # Postfix first without a refresh: a refresh would draw the
                # bar before its delay; update draws it once the delay is over.
                bar.set_postfix(dict(zip(names, values)), refresh=False)
                bar.update(n_iter - bar.n)

            yield report


class BaseSampler(TorchEstimatorMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class for skflow samplers: ``fit(X)`` then ``sample(n)``.

    Not for direct use; see the concrete samplers. The contract is described in
    the user guide ("The sampler contract").
    """

    _parameter_constraints: dict = {
        "warm_start": ["boolean"],
        "device": [str],
        "n_jobs": N_JOBS_CONSTRAINT,
        "dtype": [StrOptions({"float32", "float64"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # The remedy named when a draw turns non-finite.
    _sampling_remedy = "refit with dtype='float64' or a smaller step size."

    # True while fitted behind a transformer whose output is on one shared
    # scale (see pass_input_scale): the rows are then only centred, not
    # standardised per feature.
    _shared_input_scale = False

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _fit_scaled(self, data: torch.Tensor, rng: np.random.RandomState) -> None:
        """Learn from standardised rows; set ``_tensors``, ``n_iter_``, ``history_``."""

    @abstractmethod
    def _sample_scaled(
        self, n_samples: int, tensors: dict, generator: torch.Generator
    ) -> torch.Tensor:
        """Draw ``n_samples`` standardised rows using the fitted ``tensors``."""

    # -------------------------------------------------------------- public API
    @_fit_context(prefer_skip_nested_validation=True)
    @keeps_state_on_failure
    def fit(self, X, y=None):
        """Fit the sampler to the rows of ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training rows, numeric. Columns may have very different scales: they
            are standardised internally and restored by ``sample``.

        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted sampler.
        """
        warm = self._continues_fit()
        budget = check_privacy(getattr(self, "privacy", None), self)
        if warm and budget is not None:
            raise ValueError(
                f"warm_start=True continues the last fit, but {type(self).__name__} "
                "has a privacy budget: a continued fit would spend a second "
                "budget on the same rows, and the guarantee would be their sum. "
                "Set warm_start=False, or fit once with the whole budget."
            )
        if warm and getattr(self, "_fitted_to_density", False):
            raise ValueError(
                f"warm_start=True continues the last fit, but this "
                f"{type(self).__name__} was last fitted to a density "
                "(fit_density), which has no data scaling to continue in; set "
                "warm_start=False to fit X from scratch."
            )
        if warm:
            # Same columns and the first fit's scaling: the model lives there.
            X = self._validate_array(X, reset=False, ensure_min_samples=2)
            scaled = self._scale(X)
        else:
            X = self._validate_fit_data(X)
            scaled = (
                self._fit_scaling(X)
                if budget is None
                else self._fit_public_scaling(X, budget)
            )
        self._fit_on_device(
            lambda rng, device, dtype: self._fit_scaled(
                to_tensor(scaled, device, dtype), rng
            ),
            warm=warm,
        )
        # A private fit compares with the public scale: the rows' own spread
        # is a statistic outside the budget.
        self._check_diverged(None if budget is not None else scaled)
        return self

    # Generated rows may spread this many times as wide as the data before the
    # fit is taken to have diverged (finite, but nowhere near the data).
    _DIVERGED_SPREAD = 100.0

    def _check_diverged(self, scaled) -> None:
        """Raise if rows drawn from the fitted model spread over more than
        ``_DIVERGED_SPREAD`` times the standardised data ``scaled`` (None: the
        unit scale): a fit that diverged without turning non-finite (a huge
        step size or time horizon). 1,024 rows are drawn with a fixed seed, so
        the sampling stream does not move."""
        drawn = to_numpy(self._draw_scaled(1024, seed=0)[0])
        ratio = spread_ratio(drawn, scaled)
        if not ratio <= self._DIVERGED_SPREAD:
            raise NumericalInstabilityError(
                f"{type(self).__name__}.fit diverged: its rows spread {ratio:.3g} "
                f"times as wide as the data; {self._diverged_remedy}"
            )

    _diverged_remedy = "lower learning_rate or step_size, or use dtype='float64'."

    def _record_fit(self, n_iter: int, history: dict) -> None:
        """Set ``n_iter_`` and ``history_``, appended to the last fit's when warm."""
        if self._warm_tensors is not None:
            n_iter += self.n_iter_
            history = {
                key: self.history_[key] + values for key, values in history.items()
            }
        self.n_iter_ = n_iter
        self.history_ = history

    def sample(self, n_samples=1, *, random_state=None, conditions=None):
        """Generate new rows, freely or under conditions.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to generate. With ``conditions`` given as partial
            rows, one row per partial row (``n_samples`` may be left at 1).

        random_state : int, RandomState instance or None, default=None
            With an int, the same rows on every call. With None, each call
            advances the fitted ``random_state_``, so repeated calls differ while
            the whole sequence is reproducible from the constructor's seed.

        conditions : dict, DataFrame, ndarray or None, default=None
            Columns to fix, the others drawn from the model's conditional:
            ``{column: value}`` or ``{column: (low, high)}`` (by name for a
            sampler fitted on a DataFrame, else by index) for ``n_samples``
            rows meeting it, or partial rows (NaN for free cells), one
            completed row each. How the rows were drawn and the measured
            acceptance rate are in ``conditional_report_``; see
            :ref:`conditional` in the user guide. A condition the model gives
            (near) zero probability raises a ``ValueError``.

        Returns
        -------
        X_new : ndarray or DataFrame of shape (n_samples, `n_features_in_`)
            Generated rows in the original feature space, in the container
            ``fit`` received (a DataFrame comes back with the same columns).
        """
        if conditions is not None:
            from ._conditions import sample_sampler

            check_is_fitted(self)
            check_sample_memory(self, check_n_samples(n_samples))

            return sample_sampler(self, n_samples, random_state, conditions)
        return self._sample(n_samples, random_state)[0]

    # How this family draws under fixed coordinates: "rejection" (the
    # general fallback, see skflow._conditions), or the name of its own way,
    # which it implements as _sample_scaled_given(targets, tensors,
    # generator): standardised targets of shape (n, n_varying), NaN where
    # free, to a skflow._conditional.ConditionalDraw.
    _conditional_method = "rejection"
    # True where that way is an approximation worse than the model's own
    # conditional: rejection is then tried first, within a budget.
    _rejection_first = False

    def _draw_given(self, fixed: np.ndarray, seed: int):
        """Rows in input units with the finite entries of ``fixed`` kept.

        ``fixed`` has shape ``(n, n_features_in_)`` in input units, NaN where
        free. Returns the rows (ndarray) and the family's ConditionalDraw.
        """
        targets = self._scale(fixed)
        device = resolve_device(self.device)
        dtype = resolve_dtype(self.dtype)
        generator = make_generator(seed, device)
        with self._torch_threads(len(fixed)):
            draw = self._sample_scaled_given(
                to_tensor(targets, device, dtype),
                self._tensors_on(device, dtype),
                generator,
            )
            if not bool(torch.isfinite(draw.rows).all()):
                raise NumericalInstabilityError(
                    f"{type(self).__name__} generated non-finite rows under the "
                    f"conditions; {self._sampling_remedy}"
                )
        rows = self._unscale(to_numpy(draw.rows))
        given = ~np.isnan(fixed)
        rows[given] = fixed[given]
        self._check_output_range(rows)
        return rows, draw

    def _sample(self, n_samples, random_state, **options):
        """The whole ``sample`` path: validation, seed, draw, unscaling, container.

        ``options`` go to :meth:`_sample_scaled_with_extras`; its extra outputs
        come back beside the rows (a sampler's own ``sample`` adds them to its
        return value, e.g. ``ProximalMFGFlow``'s trajectories).
        """
        check_is_fitted(self)
        n_samples = check_n_samples(n_samples)
        check_sample_memory(
            self, n_samples, self._extra_sample_needs(n_samples, **options)
        )
        rng = (
            self.random_state_
            if random_state is None
            else check_random_state(random_state)
        )
        rows, extras = self._draw_scaled(n_samples, draw_seed(rng), **options)
        X_new = self._unscale(to_numpy(rows))
        self._check_output_range(X_new)
        return self._to_output(X_new), extras

    def _check_output_range(self, X_new: np.ndarray) -> None:
        """Raise if rows in input units cannot be handed out in the output dtypes.

        Finite standardised rows can still overflow when scaled back (features
        near the largest float64), or exceed a narrower column dtype the
        DataFrame came in (a float32 column near 3.4e38, a float16 one near
        65504): cast, they would be ``inf``. Never hand out such rows.
        """
        name = type(self).__name__
        if not np.isfinite(X_new).all():
            raise NumericalInstabilityError(
                f"{name} generated rows that overflow float64 in the original units "
                "(features of magnitude near 1e308); rescale those features before "
                "fitting, e.g. divide them by a power of 10."
            )
        if self._output_columns is None:
            return
        beyond = beyond_float_dtypes(X_new, self._output_dtypes)
        if beyond:
            raise NumericalInstabilityError(
                float_range_message(
                    name,
                    [self._output_columns[index] for index in beyond],
                    self._output_dtypes[beyond[0]],
                )
            )

    def score(self, X, y=None):
        """Negative energy distance between ``X`` and generated rows.

        Both sets are compared in the sampler's internal standardised space, so
        every feature counts equally whatever its unit. The generated set has
        ``max(len(X), 1000)`` rows drawn with a fixed seed, so repeated calls and
        competing hyper-parameters are compared on the same draw; beyond 5000
        held-out rows, a fixed random subset of 5000 is scored against 5000
        generated rows (the cost is quadratic). Higher is better (0 is a perfect
        match), as ``GridSearchCV`` expects.

        Parameters
        ----------
        X : array-like of shape (n_samples, `n_features_in_`)
            Held-out rows.

        y : None
            Ignored.

        Returns
        -------
        score : float
            ``-energy_distance(X, generated)``; see
            :func:`skflow.metrics.energy_distance`.
        """
        from ._pairwise import energy_distance_tensor

        check_is_fitted(self)
        X = self._validate_data_against_fit(X)
        if X.shape[0] > _SCORE_MAX_SAMPLES:
            subset = np.random.RandomState(0).choice(
                X.shape[0], _SCORE_MAX_SAMPLES, replace=False
            )
            X = X[subset]
        n_generated = max(X.shape[0], _SCORE_MIN_SAMPLES)
        generated, _ = self._draw_scaled(n_generated, seed=0)
        real = to_tensor(self._scale(X), generated.device, generated.dtype)
        # One thread for the distance: its sums are reduced in another order
        # with more threads (about 1e-6 apart), and repeated calls must give the
        # same value whatever the machine's load. The draw above follows the
        # sampler's n_jobs: bit-identical at a fixed thread count only (see
        # "What is bit-identical" in doc/sampler_contract.md).
        with torch_threads(1):
            return -float(energy_distance_tensor(real, generated))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "density_estimator"
        tags.target_tags.required = False
        tags.input_tags.allow_nan = False
        return tags

    # ------------------------------------------------------------- internals
    def _validate_fit_data(self, X):
        bad = _non_numeric_columns(X)
        if bad:
            raise TypeError(
                f"{type(self).__name__} needs numeric features, but columns "
                f"{bad} are not numeric. Encode them in a pipeline that "
                "decodes its samples: make_generative_pipeline(TabularEncoder(), "
                f"{type(self).__name__}()) takes categorical and text columns "
                "and gives them back as such."
            )
        self._output_columns = list(X.columns) if hasattr(X, "columns") else None
        self._output_dtypes = (
            [dtype if dtype.kind == "f" else np.dtype(np.float64) for dtype in X.dtypes]
            if self._output_columns is not None
            else None
        )
        return self._validate_array(X, reset=True, ensure_min_samples=2)

    def _validate_data_against_fit(self, X):
        return self._validate_array(X, reset=False, ensure_min_samples=1)

    def _validate_array(self, X, *, reset, ensure_min_samples):
        # skflow's validate_data: sklearn's checks, with the remedies.
        return validate_data(
            self,
            X,
            reset=reset,
            dtype=np.float64,
            ensure_min_samples=ensure_min_samples,
        )

    def _fit_scaling(self, X: np.ndarray) -> np.ndarray:
        """Standardise the columns of ``X``; remember constant columns.

        Behind a transformer whose output is on one shared scale (a
        :class:`~skflow.TabularEncoder`, see :func:`pass_input_scale`), the
        columns are centred only: the encoder weighs its columns on purpose
        (an indicator block of 30 levels has the total variance of one number),
        and standardising each indicator would give a 30-level column 30 times
        the weight of a numeric one in the geometry the sampler sees.
        """
        # Moments of X / max|X|, scaled back: squaring values beyond 1e154 (or
        # summing ones near 1e308) overflows, and finite data must not give an
        # infinite spread.
        # One working copy, centred and squared in place (what np.std does,
        # without its second copy of the data).
        magnitude = np.abs(X).max(axis=0)
        unit = X / np.where(magnitude > 0, magnitude, 1.0)
        unit_center = unit.mean(axis=0)
        unit -= unit_center
        np.multiply(unit, unit, out=unit)
        center = unit_center * magnitude
        spread = np.sqrt(unit.sum(axis=0) / X.shape[0]) * magnitude
        del unit
        # Relative to the column's own magnitude, so data on any scale (1e-30 or
        # 1e30) vary; an all-zero column has zero spread and zero magnitude.
        constant = spread <= _CONSTANT_RTOL * magnitude
        if constant.all():
            raise ValueError(
                f"All {X.shape[1]} columns of X are constant: there is no "
                "distribution to learn. Drop constant columns, or repeat the row."
            )
        self._center = center
        # The range conditions are checked against (skflow._conditions).
        self._low, self._high = X.min(axis=0), X.max(axis=0)
        self._spread = np.where(constant | self._shared_input_scale, 1.0, spread)
        self._varying = ~constant
        self._fitted_to_density = False
        return self._scale(X)

    def _fit_public_scaling(self, X: np.ndarray, budget) -> np.ndarray:
        """Clip and scale ``X`` by public bounds, for a private fit.

        The bounds come from the budget or from the transformer before the
        sampler in a :class:`~skflow.GenerativePipeline`, which must itself
        have been fitted without the data (a :class:`~skflow.TabularEncoder`
        with ``domains``). Clipping is per row, so it does not spend budget.
        A column spread uniformly over its bounds gets unit variance.
        """
        transformers = getattr(self, "_input_transformers", None) or []
        fitted_on_data = [
            type(step).__name__
            for step in transformers
            if not getattr(step, "fits_without_data_", False)
        ]
        if fitted_on_data:
            raise ValueError(
                f"{type(self).__name__} has a privacy budget, but the steps "
                f"{fitted_on_data} before it were fitted on the rows themselves "
                "(categories, ranges, means), outside the budget: the pipeline "
                "would not be private. Fit the encoder from public metadata, "
                "TabularEncoder(domains={column: (low, high) or [levels]}), and "
                "put no other data-fitted step before the sampler."
            )
        passed = (
            getattr(transformers[-1], "output_bounds_", None) if transformers else None
        )
        low, high = public_bounds(budget, X.shape[1], passed)
        X = np.clip(X, low, high)
        self._center = (low + high) / 2
        self._spread = (
            np.ones_like(low)
            if self._shared_input_scale
            else (high - low) / np.sqrt(12.0)
        )
        self._low, self._high = low, high
        self._varying = np.ones(X.shape[1], dtype=bool)
        self._fitted_to_density = False
        return self._scale(X)

    def _record_privacy(self, plan, steps: int) -> None:
        """``epsilon_`` and the rest after a private fit of ``steps`` noisy steps."""
        self.epsilon_ = plan.spent(steps)
        self.delta_ = plan.delta
        self.noise_multiplier_ = plan.noise_multiplier
        self.privacy_steps_ = int(steps)

    def _forget_privacy(self) -> None:
        """A fit without a budget: no ``epsilon_`` of an earlier private fit."""
        for name in ("epsilon_", "delta_", "noise_multiplier_", "privacy_steps_"):
            self.__dict__.pop(name, None)

    def _fit_identity_scaling(self, n_features: int) -> None:
        """No scaling: for models fitted without data (e.g. to a density)."""
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.n_features_in_ = n_features
        self._center = np.zeros(n_features)
        self._spread = np.ones(n_features)
        self._varying = np.ones(n_features, dtype=bool)
        self._fitted_to_density = True
        self._output_columns = None
        self._output_dtypes = None

    def _scale(self, X: np.ndarray) -> np.ndarray:
        return ((X - self._center) / self._spread)[:, self._varying]

    def _unscale(self, scaled: np.ndarray) -> np.ndarray:
        X = np.tile(self._center, (scaled.shape[0], 1))
        # Overflow is checked by the callers (_check_output_range), by name.
        with np.errstate(over="ignore"):
            X[:, self._varying] = (
                scaled * self._spread[self._varying] + self._center[self._varying]
            )
        return X

    def _to_output(self, X: np.ndarray):
        if self._output_columns is None:
            return X
        import pandas as pd

        frame = pd.DataFrame(X, columns=self._output_columns)
        return frame.astype(dict(zip(self._output_columns, self._output_dtypes)))

    def _extra_sample_needs(self, n_samples: int, **options) -> dict:
        """Memory needs of the extra outputs that ``options`` ask of a draw,
        for :func:`check_sample_memory` (none by default)."""
        return {}

    def _sample_scaled_with_extras(
        self, n_samples: int, tensors: dict, generator: torch.Generator, **options
    ) -> tuple[torch.Tensor, dict]:
        """Standardised rows and a dict of extra outputs (none by default).

        A sampler whose ``sample`` takes extra options (``ProximalMFGFlow``'s
        ``n_steps`` and ``return_trajectories``) overrides this hook; the rest
        implement only :meth:`_sample_scaled`.
        """
        return self._sample_scaled(n_samples, tensors, generator, **options), {}

    def _draw_scaled(
        self, n_samples: int, seed: int, **options
    ) -> tuple[torch.Tensor, dict]:
        """``n_samples`` standardised rows on the current device and the extra
        outputs of :meth:`_sample_scaled_with_extras`; never non-finite."""
        device = resolve_device(self.device)
        dtype = resolve_dtype(self.dtype)
        generator = make_generator(seed, device)
        with self._torch_threads(n_samples):
            rows, extras = self._sample_scaled_with_extras(
                n_samples, self._tensors_on(device, dtype), generator, **options
            )
            finite = torch.isfinite(rows).all()
            for value in extras.values():
                finite = finite & torch.isfinite(value).all()
            if not bool(finite):
                raise NumericalInstabilityError(
                    f"{type(self).__name__} generated non-finite rows; "
                    f"{self._sampling_remedy}"
                )
        return rows, extras

    def _check_numerics(self, result, remedy: str, method: str = "fit") -> None:
        """After a fit loop: raise if it stayed non-finite, warn if it recovered.

        ``result`` is a core's result with ``non_finite_at`` (None or the first
        bad iteration, 0-based) and ``recoveries`` (rollbacks made); ``remedy``
        names the parameters to change.
        """
        check_fit_numerics(
            self,
            None if result.non_finite_at is None else result.non_finite_at + 1,
            result.recoveries,
            remedy,
            method,
        )

    def _warn_if_interrupted(self, interrupted: bool) -> None:
        """After a fit ended by Ctrl-C: say so, and that the model is usable."""
        if interrupted:
            warn_fit_interrupted(
                self, self.n_iter_, "iterations", "the last of them", "sample"
            )
