"""Check that an estimator follows skflow's sampler contract.

The contract (the user guide's "The sampler contract") is what every skflow
sampler promises beyond scikit-learn's estimator API: ``sample`` returns finite
float64 rows of the fitted width and validates ``n_samples``, random states
follow fixed rules and the global ones are never touched, a DataFrame comes
back as a DataFrame, a pickled or saved model draws the same bits, a ``fit``
that raises changes nothing, and so on. This module states each rule as a
check, so that a sampler written outside skflow can be tested against the same
rules, the way imbalanced-learn ships ``imblearn.utils.estimator_checks`` for
its resamplers on top of scikit-learn's checks.

Each check is a function ``check_xxx(name, estimator_orig)``: it fits clones of
the unfitted ``estimator_orig`` on small data (50 rows of Gaussian blobs) and
raises an ``AssertionError`` that names the rule broken and how to fix it.
:func:`yield_sampler_checks` gives the checks that apply to an estimator,
:func:`check_sampler` runs them, and :func:`parametrize_with_checks` makes one
pytest test per estimator and check, scikit-learn's own checks included.
"""

from __future__ import annotations

import inspect
import io
import numbers
import os
import pickle
import re
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stderr, redirect_stdout
from functools import partial
from pathlib import Path
from unittest import SkipTest

import joblib
import numpy as np
import sklearn
import torch
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning, NotFittedError, SkipTestWarning
from sklearn.utils import get_tags

from .._persistence import _is_trusted, load, save
from ..exceptions import DeviceWarning

__all__ = [
    "check_clone",
    "check_concurrent_sample_calls",
    "check_constant_column_is_kept",
    "check_dataframe_round_trip",
    "check_device_switch_after_fit",
    "check_failed_fit_keeps_state",
    "check_fit_does_not_mutate_input",
    "check_fit_is_deterministic",
    "check_fit_rejects_bad_input",
    "check_fit_rejects_non_numeric_dataframe",
    "check_history_consistent_with_n_iter",
    "check_no_global_random_state_use",
    "check_not_fitted",
    "check_pickle_round_trip",
    "check_pickled_state_is_device_free",
    "check_raw_feature_scales_are_restored",
    "check_sample_n_samples_validation",
    "check_sample_random_state",
    "check_sample_shape_dtype_finite",
    "check_sampler",
    "check_score",
    "check_score_rejects_wrong_n_features",
    "check_skflow_save_load_round_trip",
    "check_unavailable_device_falls_back",
    "check_verbose_one_shows_progress",
    "check_verbose_zero_is_silent",
    "check_warm_start",
    "parametrize_with_checks",
    "yield_sampler_checks",
]

# One column in thousands, one in units, one in hundredths: the raw scales the
# contract says a sampler handles with default settings.
_RAW_SCALES = np.array([1000.0, 1.0, 0.01])

# A device index no machine has: torch understands it, so it must warn and
# fall back rather than raise.
_MISSING_DEVICE = "cuda:64"

# Folders whose frames a warning must not be attributed to.
_LIBRARY_FOLDERS = tuple(
    os.path.dirname(os.path.abspath(module.__file__)) + os.sep
    for module in (sklearn, joblib)
)


# ---------------------------------------------------------------- data, fits
def _blobs():
    """50 rows of three Gaussian blobs in 3-D and their labels.

    Small on purpose: every check fits at most a few clones, and the suite for
    one estimator at fast settings runs in seconds.
    """
    return make_blobs(n_samples=50, n_features=3, centers=3, random_state=0)


def _needs_y(estimator) -> bool:
    """Whether ``fit`` (and ``score``) need labels: a class-conditional sampler."""
    return get_tags(estimator).target_tags.required


def _fit(estimator, X, y):
    """Fit ``estimator`` (with ``y`` when it needs labels) and return it.

    ConvergenceWarning is silenced: checks fit with the short budgets of the
    estimator they are given, which stop early on purpose.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if _needs_y(estimator):
            estimator.fit(X, y)
        else:
            estimator.fit(X)
    return estimator


def _score(estimator, X, y):
    return estimator.score(X, y) if _needs_y(estimator) else estimator.score(X)


def _rows(drawn):
    """The rows of what ``sample`` returned: the first item of a tuple
    ``(X, y, ...)`` (a class-conditional sampler), else all of it."""
    return drawn[0] if isinstance(drawn, tuple) else drawn


def _draw(estimator, *args, **kwargs):
    return _rows(estimator.sample(*args, **kwargs))


def _as_array(rows) -> np.ndarray:
    return rows.to_numpy() if hasattr(rows, "to_numpy") else np.asarray(rows)


def _output(estimator, X) -> np.ndarray:
    """What a fitted estimator computes, to compare two models bit for bit:
    30 rows drawn with ``random_state=0`` from a sampler, ``transform(X)`` of a
    transformer."""
    if _is_sampler(estimator):
        return _as_array(_draw(estimator, 30, random_state=0))
    return np.asarray(estimator.transform(X))


def _output_name(estimator) -> str:
    return "sample(30, random_state=0)" if _is_sampler(estimator) else "transform(X)"


def _random_state_keys(estimator) -> list:
    """Every ``random_state`` parameter, nested ones (``sampler__random_state``)
    included, as scikit-learn's ``set_random_state`` finds them."""
    return [
        key
        for key in estimator.get_params()
        if key == "random_state" or key.endswith("__random_state")
    ]


def _seeded(estimator, seed=0):
    """A clone with every ``random_state`` parameter set to ``seed``."""
    estimator = clone(estimator)
    keys = _random_state_keys(estimator)
    if keys:
        estimator.set_params(**dict.fromkeys(keys, seed))
    return estimator


def _joblib_round_trip(estimator):
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


def _same_value(a, b) -> bool:
    """Parameter equality that survives clone and reload: nested estimators
    are compared by class (their parameters are separate ``get_params(deep=True)``
    entries), sequences item by item, arrays by value."""
    if hasattr(a, "get_params") and hasattr(b, "get_params"):
        return type(a) is type(b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same_value, a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def _different_params(a: dict, b: dict) -> list:
    keys = sorted(set(a) | set(b))
    return [
        key
        for key in keys
        if key not in a or key not in b or not _same_value(a[key], b[key])
    ]


# ------------------------------------------------------------ failure reports
def _require(condition, message: str) -> None:
    """Raise ``AssertionError(message)`` unless ``condition`` holds.

    Not ``assert``: the checks must also fail under ``python -O``.
    """
    if not condition:
        raise AssertionError(message)


def _expect_error(call, errors, match, what: str, remedy: str):
    """Require ``call()`` to raise one of ``errors`` whose message matches
    ``match`` (a regular expression, or None for any message)."""
    expected = " or ".join(error.__name__ for error in errors)
    try:
        call()
    except errors as exc:
        if match is not None and not re.search(match, str(exc)):
            raise AssertionError(
                f"{what} raised {type(exc).__name__}({str(exc)!r}), whose message "
                f"does not mention {match!r}; {remedy}"
            ) from exc
        return exc
    except Exception as exc:
        raise AssertionError(
            f"{what} must raise {expected}, but raised {type(exc).__name__}: "
            f"{exc}; {remedy}"
        ) from exc
    raise AssertionError(f"{what} must raise {expected}, but raised nothing; {remedy}")


def _not_fitted_calls(estimator, X, y) -> dict:
    """The calls that need a fitted model, by how a message names them."""
    if _is_sampler(estimator):
        calls = {"sample(3)": lambda: estimator.sample(3)}
        if hasattr(estimator, "score"):
            calls["score(X)"] = lambda: _score(estimator, X, y)
        return calls
    calls = {"transform(X)": lambda: estimator.transform(X)}
    if hasattr(estimator, "inverse_transform"):
        calls["inverse_transform(X)"] = lambda: estimator.inverse_transform(X)
    return calls


# ------------------------------------------------------ who gets which check
def _is_sampler(estimator) -> bool:
    return hasattr(estimator, "sample")


def _is_transformer(estimator) -> bool:
    return not _is_sampler(estimator) and hasattr(estimator, "transform")


def _has_param(estimator, name: str) -> bool:
    return name in estimator.get_params(deep=False)


def _accepts_input(estimator, tag: str) -> bool:
    """Whether the estimator's input tag ``tag`` is set, or that of what it
    delegates its input to (a pipeline's first step, a class-conditional
    sampler's ``sampler``)."""
    if getattr(get_tags(estimator).input_tags, tag):
        return True
    steps = getattr(estimator, "steps", None)
    if steps:
        first = steps[0][1]
        return first not in (None, "passthrough") and _accepts_input(first, tag)
    inner = estimator.get_params(deep=False).get("sampler")
    return hasattr(inner, "get_params") and _accepts_input(inner, tag)


def _accepts_strings(estimator) -> bool:
    """Whether the estimator takes text columns (its ``string`` input tag)."""
    return _accepts_input(estimator, "string")


def _accepts_nan(estimator) -> bool:
    """Whether the estimator models missing values (its ``allow_nan`` tag)."""
    return _accepts_input(estimator, "allow_nan")


def _every_estimator(estimator) -> bool:
    """every sampler and transformer"""
    return True


def _samplers(estimator) -> bool:
    """samplers (estimators with ``sample``)"""
    return _is_sampler(estimator)


def _samplers_with_score(estimator) -> bool:
    """samplers with ``score``"""
    return _is_sampler(estimator) and hasattr(estimator, "score")


def _samplers_with_max_iter(estimator) -> bool:
    """samplers with a ``max_iter`` parameter (iterative fits)"""
    return _is_sampler(estimator) and _has_param(estimator, "max_iter")


def _samplers_with_warm_start(estimator) -> bool:
    """samplers with a ``warm_start`` parameter"""
    return _is_sampler(estimator) and _has_param(estimator, "warm_start")


def _samplers_refusing_strings(estimator) -> bool:
    """samplers whose input tags do not accept strings (no encoder in front)"""
    return _is_sampler(estimator) and not _accepts_strings(estimator)


def _with_device(estimator) -> bool:
    """estimators with a ``device`` parameter"""
    return _has_param(estimator, "device")


def _with_progress_bar(estimator) -> bool:
    """estimators with both ``verbose`` and ``max_iter`` parameters"""
    return _has_param(estimator, "verbose") and _has_param(estimator, "max_iter")


def _storable_by_skflow(estimator) -> bool:
    """estimators made only of skflow and scikit-learn classes (the only ones
    :func:`skflow.load` rebuilds)"""
    parts = [estimator] + [
        value
        for value in estimator.get_params(deep=True).values()
        if hasattr(value, "get_params")
    ]
    return all(_is_trusted(type(part).__module__) for part in parts)


_CHECK_SECTIONS = """

    Applied by :func:`yield_sampler_checks` to {applies_to}.

    Parameters
    ----------
    name : str
        The estimator's name, used in the failure messages.

    estimator_orig : estimator
        An unfitted instance. The check fits clones of it (with labels when its
        ``target_tags.required`` tag says so) and leaves it unchanged.

    Raises
    ------
    AssertionError
        When the rule is broken; the message says which rule and how to fix
        it.
"""

# (check, predicate) in the order yield_sampler_checks gives them.
_CHECKS: list = []


def _check(applies_to):
    """Register a check with the predicate that says which estimators get it,
    and append the sections every check's docstring shares."""

    def register(check):
        check.__doc__ = check.__doc__.rstrip() + _CHECK_SECTIONS.format(
            applies_to=applies_to.__doc__
        )
        _CHECKS.append((check, applies_to))
        return check

    return register


# ---------------------------------------------------------------- the checks
@_check(_every_estimator)
def check_not_fitted(name, estimator_orig):
    """Using an unfitted estimator raises ``NotFittedError``.

    A sampler's ``sample`` (and ``score``), a transformer's ``transform`` (and
    ``inverse_transform``), called before ``fit``.
    """
    X, y = _blobs()
    estimator = clone(estimator_orig)
    for call_name, call in _not_fitted_calls(estimator, X, y).items():
        _expect_error(
            call,
            (NotFittedError,),
            None,
            f"{name}.{call_name} before fit",
            "call sklearn.utils.validation.check_is_fitted(self) first in "
            "every method that needs a fitted model.",
        )


@_check(_every_estimator)
def check_clone(name, estimator_orig):
    """``clone`` of a fitted estimator is unfitted, has the same parameters,
    and refitted on the same rows gives the same model."""
    X, y = _blobs()
    fitted = _fit(_seeded(estimator_orig), X, y)
    try:
        copy = clone(fitted)
    except Exception as exc:
        raise AssertionError(
            f"clone({name}) raised {type(exc).__name__}: {exc}; __init__ must "
            "store each parameter unchanged under its own name."
        ) from exc
    _require(
        type(copy) is type(fitted),
        f"clone({name}) returned a {type(copy).__name__}; clone must return an "
        "instance of the same class.",
    )
    changed = _different_params(
        copy.get_params(deep=True), fitted.get_params(deep=True)
    )
    _require(
        not changed,
        f"clone({name}) changed the parameters {changed}; __init__ must store "
        "each parameter unchanged (validate and convert in fit instead).",
    )
    for call_name, call in _not_fitted_calls(copy, X, y).items():
        _expect_error(
            call,
            (NotFittedError,),
            None,
            f"clone(fitted {name}).{call_name}",
            "clone must return an unfitted copy: do not copy fitted attributes "
            "in __sklearn_clone__ or __deepcopy__.",
        )
    _require(
        np.array_equal(_output(_fit(copy, X, y), X), _output(fitted, X)),
        f"A clone of {name} refitted on the same rows gives a different "
        f"{_output_name(fitted)}; every setting must be a parameter returned by "
        "get_params, so that clone carries it.",
    )


@_check(_samplers)
def check_sample_shape_dtype_finite(name, estimator_orig):
    """``sample(n)`` returns ``n`` finite float64 rows of the fitted width.

    Fitted on an ndarray whose columns are in thousands, units and hundredths,
    for ``n`` in 1, 7 and 500. A sampler returning a tuple ``(X, y, ...)``
    returns ``n`` items in each of its parts.
    """
    X, y = _blobs()
    X = X * _RAW_SCALES
    sampler = _fit(clone(estimator_orig), X, y)
    for n in (1, 7, 500):
        drawn = sampler.sample(n)
        rows = _rows(drawn)
        call = f"{name}.sample({n})"
        _require(
            isinstance(rows, np.ndarray),
            f"{call} returned a {type(rows).__name__} after a fit on an ndarray; "
            "return the container fit received (ndarray in, ndarray out).",
        )
        _require(
            rows.shape == (n, X.shape[1]),
            f"{call} returned shape {rows.shape} instead of (n_samples, "
            f"n_features_in_) = {(n, X.shape[1])}; return one row per requested "
            "sample with every fitted column.",
        )
        _require(
            rows.dtype == np.float64,
            f"{call} returned dtype {rows.dtype}; return float64 rows whatever "
            "the internal precision (e.g. tensor.double().cpu().numpy()).",
        )
        _require(
            np.isfinite(rows).all(),
            f"{call} returned non-finite values; never hand out NaN or inf rows: "
            "raise an error that names the remedy instead.",
        )
        for position, part in enumerate(drawn[1:] if isinstance(drawn, tuple) else ()):
            _require(
                len(part) == n,
                f"{call} returned {len(part)} items in part {position + 1} of its "
                f"tuple; each part (such as the labels) has one item per row.",
            )


@_check(_samplers)
def check_sample_n_samples_validation(name, estimator_orig):
    """``sample`` accepts Python and numpy integers and refuses anything else.

    0 and -1 raise ``ValueError``; 2.5, 3.0, ``"3"``, ``True`` and None raise
    ``TypeError``, each naming ``n_samples``. None is accepted only where it is
    the documented default of ``n_samples`` (a meta-estimator leaving the
    count to its inner sampler).
    """
    X, y = _blobs()
    sampler = _fit(clone(estimator_orig), X, y)
    parameter = inspect.signature(sampler.sample).parameters.get("n_samples")
    none_is_default = parameter is not None and parameter.default is None
    cases = [
        (0, ValueError),
        (-1, ValueError),
        (2.5, TypeError),
        (3.0, TypeError),
        ("3", TypeError),
        (True, TypeError),
    ]
    if not none_is_default:
        cases.append((None, TypeError))
    for value, error in cases:
        _expect_error(
            lambda value=value: sampler.sample(value),
            (error,),
            "n_samples",
            f"{name}.sample(n_samples={value!r})",
            "validate n_samples first in sample: a Python or numpy integer (not "
            "a bool) of at least 1, with a ValueError naming n_samples for "
            "values <= 0 and a TypeError naming it for other types.",
        )
    rows = _draw(sampler, np.int64(4))
    _require(
        np.shape(rows) == (4, X.shape[1]),
        f"{name}.sample(np.int64(4)) returned shape {np.shape(rows)}; numpy "
        "integers are valid n_samples (test numbers.Integral, not int).",
    )
    if none_is_default:
        rows = _draw(sampler, None)
        _require(
            np.ndim(rows) == 2 and np.shape(rows)[1] == X.shape[1],
            f"{name}.sample(None) returned shape {np.shape(rows)}; None is the "
            "documented default of n_samples, so it must draw rows.",
        )


@_check(_samplers)
def check_sample_random_state(name, estimator_orig):
    """``sample`` follows the random-state rules.

    Without a ``random_state``, each call advances the fitted
    ``random_state_``, so successive calls differ while the sequence is
    reproducible from the constructor's seed. With an int, the same rows on
    every call (different ints, different rows), and the fitted stream does
    not advance.
    """
    X, y = _blobs()
    streamed = _fit(_seeded(estimator_orig), X, y)
    first, second = _as_array(_draw(streamed, 50)), _as_array(_draw(streamed, 50))
    _require(
        not np.array_equal(first, second),
        f"Two calls of {name}.sample(50) without random_state returned the same "
        "rows; without a random_state, draw from the fitted random_state_ and "
        "advance it.",
    )
    seeded = _random_state_keys(estimator_orig)
    if seeded:
        replay = _fit(_seeded(estimator_orig), X, y)
        again = _as_array(_draw(replay, 50)), _as_array(_draw(replay, 50))
        _require(
            np.array_equal(first, again[0]) and np.array_equal(second, again[1]),
            f"Two {name} fitted with the same random_state drew different "
            "sequences from sample(50); create random_state_ at the end of fit "
            "from the constructor's random_state.",
        )
    explicit = _fit(_seeded(estimator_orig), X, y)
    same_seed = (
        _as_array(_draw(explicit, 50, random_state=3)),
        _as_array(_draw(explicit, 50, random_state=3)),
    )
    _require(
        np.array_equal(*same_seed),
        f"{name}.sample(50, random_state=3) returned different rows on two "
        "calls; draw from a generator made from the given random_state on "
        "every call.",
    )
    _require(
        not np.array_equal(
            same_seed[0], _as_array(_draw(explicit, 50, random_state=4))
        ),
        f"{name}.sample(50, random_state=3) and random_state=4 returned the same "
        "rows; the draw must depend on the random_state passed.",
    )
    if seeded:
        _require(
            np.array_equal(_as_array(_draw(explicit, 50)), first),
            f"{name}.sample(50, random_state=...) advanced the fitted stream (the "
            "next sample(50) changed); an explicit random_state must not touch "
            "random_state_.",
        )


@_check(_every_estimator)
def check_fit_is_deterministic(name, estimator_orig):
    """Two fits with the same ``random_state`` give the same model, bit for bit."""
    X, y = _blobs()
    first = _output(_fit(_seeded(estimator_orig), X, y), X)
    second = _output(_fit(_seeded(estimator_orig), X, y), X)
    _require(
        np.array_equal(first, second),
        f"{name} fitted twice on the same rows (every random_state=0) gave a "
        f"different {_output_name(estimator_orig)}; seed every random draw in fit "
        "from random_state, never from the global or the operating system's "
        "state.",
    )


@_check(_every_estimator)
def check_no_global_random_state_use(name, estimator_orig):
    """``fit``, ``sample``, ``score`` and ``transform`` leave the global numpy
    and torch random states as they were, with ``random_state`` 0 and None."""
    X, y = _blobs()
    for seed in (0, None):
        numpy_state = np.random.get_state()  # noqa: NPY002 (the global state)
        torch_state = torch.get_rng_state()
        estimator = _fit(_seeded(estimator_orig, seed), X, y)
        if _is_sampler(estimator):
            estimator.sample(20)
            estimator.sample(20, random_state=1)
            if hasattr(estimator, "score"):
                _score(estimator, X, y)
        else:
            estimator.transform(X)
        after = np.random.get_state()  # noqa: NPY002
        numpy_untouched = (
            after[0] == numpy_state[0]
            and np.array_equal(after[1], numpy_state[1])
            and after[2:] == numpy_state[2:]
        )
        _require(
            numpy_untouched and torch.equal(torch.get_rng_state(), torch_state),
            f"{name} with random_state={seed} changed the global "
            f"{'numpy' if not numpy_untouched else 'torch'} random state; draw "
            "from generators the estimator owns (numpy.random.RandomState, "
            "torch.Generator), seed them from random_state or, for None, from "
            "the operating system's entropy (sklearn's check_random_state(None) "
            "returns the global generator), and build torch modules inside "
            "torch.random.fork_rng().",
        )


@_check(_every_estimator)
def check_pickle_round_trip(name, estimator_orig):
    """A fitted estimator unpickled (``pickle`` and ``joblib``) computes the same
    bits, and a sampler's stream continues where the pickled one stood."""
    X, y = _blobs()
    estimator = _fit(_seeded(estimator_orig), X, y)
    expected = _output(estimator, X)
    restored = {
        "pickle": pickle.loads(pickle.dumps(estimator)),
        "joblib": _joblib_round_trip(estimator),
    }
    following = _as_array(_draw(estimator, 30)) if _is_sampler(estimator) else None
    for how, copy in restored.items():
        _require(
            np.array_equal(_output(copy, X), expected),
            f"{name} after a {how} round trip gives a different "
            f"{_output_name(estimator)}; __getstate__/__setstate__ must keep "
            "every fitted value exactly (store tensors, do not recompute them).",
        )
        if following is not None:
            _require(
                np.array_equal(_as_array(_draw(copy, 30)), following),
                f"{name} after a {how} round trip draws another sample(30) than "
                "the original; pickle random_state_ with the model so the "
                "stream continues.",
            )


@_check(_storable_by_skflow)
def check_skflow_save_load_round_trip(name, estimator_orig):
    """``skflow.save`` then ``skflow.load`` gives the same class, parameters and
    bits (small draws of 1 to 3 rows included), and the sampling stream
    continues where the saved one stood."""
    X, y = _blobs()
    estimator = _fit(_seeded(estimator_orig), X, y)
    expected = _output(estimator, X)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.skflow"
        save(estimator, path)
        restored = load(path)
    _require(
        type(restored) is type(estimator),
        f"skflow.load rebuilt a {type(restored).__name__} from a saved {name}.",
    )
    changed = _different_params(
        restored.get_params(deep=True), estimator.get_params(deep=True)
    )
    _require(
        not changed,
        f"{name} after skflow.save and skflow.load has other parameters "
        f"{changed}; parameters must be JSON values, tuples, arrays or "
        "estimators that skflow.save stores as they are.",
    )
    _require(
        np.array_equal(_output(restored, X), expected),
        f"{name} after skflow.save and skflow.load gives a different "
        f"{_output_name(estimator)}; keep fitted tensors contiguous and exact in "
        "__getstate__, which skflow.save stores.",
    )
    if not _is_sampler(estimator):
        return
    for n in (1, 2, 3):
        _require(
            np.array_equal(
                _as_array(_draw(restored, n, random_state=1)),
                _as_array(_draw(estimator, n, random_state=1)),
            ),
            f"{name} after skflow.save and skflow.load draws a different "
            f"sample({n}, random_state=1); small draws go through other matrix "
            "kernels, so store fitted tensors as contiguous copies "
            "(tensor.contiguous()) at the end of fit.",
        )
    _require(
        np.array_equal(_as_array(_draw(restored, 30)), _as_array(_draw(estimator, 30))),
        f"{name} after skflow.save and skflow.load draws another sample(30) than "
        "the original; keep random_state_ in the saved state so the stream "
        "continues.",
    )


def _device_bound(obj, where: str, seen: set):
    """Yield ``(where, what)`` for each tensor off the CPU and each
    ``torch.Generator`` reachable from a pickled state."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, torch.Generator):
        yield where, "a torch.Generator"
    elif isinstance(obj, torch.Tensor):
        if obj.device.type != "cpu":
            yield where, f"a tensor on {obj.device}"
    elif isinstance(obj, torch.nn.Module):
        for key, value in obj.state_dict(keep_vars=True).items():
            yield from _device_bound(value, f"{where}.{key}", seen)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from _device_bound(value, f"{where}[{key!r}]", seen)
    elif isinstance(obj, (list, tuple)):
        for index, value in enumerate(obj):
            yield from _device_bound(value, f"{where}[{index}]", seen)
    elif hasattr(obj, "get_params") and hasattr(obj, "__getstate__"):
        yield from _device_bound(obj.__getstate__(), where, seen)


@_check(_every_estimator)
def check_pickled_state_is_device_free(name, estimator_orig):
    """The pickled state of a fitted estimator holds tensors on the CPU only and
    no ``torch.Generator``, so a model fitted on a GPU loads on a CPU-only
    machine.

    Fitted on the estimator's own ``device``: run it with ``device="cuda"`` to
    test what a GPU fit leaves behind.
    """
    X, y = _blobs()
    estimator = _fit(clone(estimator_orig), X, y)
    _output(estimator, X)  # fills any device cache
    for where, what in _device_bound(estimator.__getstate__(), "state", set()):
        raise AssertionError(
            f"The pickled state of {name} holds {what} at {where}; move fitted "
            "tensors to the CPU in __getstate__ (tensor.cpu()), drop device "
            "caches, and keep int seeds instead of torch.Generator objects."
        )


@_check(_samplers)
def check_concurrent_sample_calls(name, estimator_orig):
    """``sample`` called from 4 threads at once gives each call the rows it
    gives alone."""
    X, y = _blobs()
    sampler = _fit(_seeded(estimator_orig), X, y)
    seeds = range(8)
    expected = [_as_array(_draw(sampler, 40, random_state=seed)) for seed in seeds]
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(
                pool.map(
                    lambda seed: _as_array(_draw(sampler, 40, random_state=seed)),
                    seeds,
                )
            )
    except Exception as exc:
        raise AssertionError(
            f"{name}.sample raised {type(exc).__name__} when called from 4 "
            f"threads at once: {exc}; keep the state of a draw in local "
            "variables, not on the estimator."
        ) from exc
    for seed, got, want in zip(seeds, results, expected):
        _require(
            np.array_equal(got, want),
            f"{name}.sample(40, random_state={seed}) called from 4 threads at "
            "once returned other rows than alone; keep the state of a draw "
            "(generators, buffers) in local variables, not on the estimator.",
        )


@_check(_samplers_with_warm_start)
def check_warm_start(name, estimator_orig):
    """``fit`` with ``warm_start=True`` continues the fitted model.

    ``n_iter_`` grows, ``history_`` keeps the first fit's values in front and
    stays as long as ``n_iter_``, the continued model samples finite rows (300,
    beyond any stored particles), rows of another width are refused with a
    ``ValueError`` naming the features and leave the model as it was, and on
    an unfitted estimator ``warm_start=True`` is an ordinary fit.
    """
    X, y = _blobs()
    sampler = _fit(_seeded(estimator_orig), X, y)
    n_first = sampler.n_iter_
    history_first = {
        key: list(values) for key, values in getattr(sampler, "history_", {}).items()
    }
    _fit(sampler.set_params(warm_start=True), X, y)
    _require(
        sampler.n_iter_ > n_first,
        f"{name}.fit with warm_start=True ran to n_iter_={sampler.n_iter_} from "
        f"n_iter_={n_first}; a continued fit trains the fitted model further and "
        "counts every iteration so far.",
    )
    for key, values in getattr(sampler, "history_", {}).items():
        _require(
            len(values) == sampler.n_iter_ and values[:n_first] == history_first[key],
            f"{name}.history_[{key!r}] after a warm start does not begin with the "
            "first fit's values or is not n_iter_ long; append the new "
            "iterations to the recorded ones.",
        )
    _require(
        np.isfinite(_as_array(_draw(sampler, 300, random_state=0))).all(),
        f"{name} continued with warm_start=True samples non-finite rows.",
    )
    before = _as_array(_draw(sampler, 5, random_state=0))
    _expect_error(
        lambda: _fit(sampler, X[:, :1], y),
        (ValueError,),
        "features",
        f"{name}.fit with warm_start=True on rows of another width",
        "a continued fit must refuse rows with other columns than the first "
        "fit (validate_data(self, X, reset=False)).",
    )
    _require(
        np.array_equal(_as_array(_draw(sampler, 5, random_state=0)), before),
        f"A refused warm-start fit changed {name}; keep the fitted model when a "
        "continuation fails.",
    )
    fresh = _fit(_seeded(estimator_orig).set_params(warm_start=True), X, y)
    plain = _fit(_seeded(estimator_orig), X, y)
    _require(
        np.array_equal(
            _as_array(_draw(fresh, 20, random_state=0)),
            _as_array(_draw(plain, 20, random_state=0)),
        ),
        f"{name}.fit with warm_start=True on an unfitted estimator differs from "
        "an ordinary fit; with nothing to continue, start as fit does.",
    )


def _bad_refits(X):
    """Inputs that make a refit fail, the later the better: all-constant rows of
    another width pass validation and fail when the model is set up."""
    constant = np.ones((len(X), X.shape[1] + 1))
    with_nan = np.hstack([X, X[:, :1]])
    with_nan[-1, -1] = np.nan
    return {
        "all-constant rows of another width": constant,
        "rows of another width with a NaN": with_nan,
    }


@_check(_every_estimator)
def check_failed_fit_keeps_state(name, estimator_orig):
    """A ``fit`` that raises leaves the estimator exactly as it was.

    A fitted estimator keeps its attributes (the same objects) and its model; a
    new one stays unfitted. Tried with all-constant rows of another width and
    with rows of another width holding a NaN; inputs the estimator accepts are
    skipped.
    """
    X, y = _blobs()
    fitted = _fit(_seeded(estimator_orig), X, y)
    before = _output(fitted, X)
    n_raised = 0
    for what, bad in _bad_refits(X).items():
        state = dict(vars(fitted))
        try:
            _fit(fitted, bad, y)
        except (ValueError, TypeError):
            n_raised += 1
        else:
            # Accepted: nothing to compare; start the next try from the model.
            fitted = _fit(_seeded(estimator_orig), X, y)
            continue
        now = vars(fitted)
        changed = sorted(set(now) ^ set(state)) + [
            key for key in state if key in now and now[key] is not state[key]
        ]
        _require(
            not changed,
            f"A refit of {name} on {what} raised but changed the attributes "
            f"{changed}; validate and compute into local variables and assign "
            "fitted attributes only once nothing can fail, or restore "
            "self.__dict__ when fit raises.",
        )
        try:
            after = _output(fitted, X)
        except Exception as exc:
            raise AssertionError(
                f"After a refit of {name} on {what} raised, "
                f"{_output_name(fitted)} raised {type(exc).__name__}: {exc}; a "
                "failed fit must leave the fitted model usable, as it was."
            ) from exc
        _require(
            np.array_equal(after, before),
            f"After a refit of {name} on {what} raised, {_output_name(fitted)} "
            "changed; a failed fit must leave the fitted model as it was.",
        )
        fresh = clone(estimator_orig)
        try:
            _fit(fresh, bad, y)
        except (ValueError, TypeError):
            for call_name, call in _not_fitted_calls(fresh, X, y).items():
                _expect_error(
                    call,
                    (NotFittedError,),
                    None,
                    f"{name}.{call_name} after a first fit on {what} raised",
                    "a failed first fit must leave the estimator unfitted: set "
                    "no attribute ending in '_' (n_features_in_ included) "
                    "before everything that can fail has passed.",
                )
    if n_raised == 0:
        raise SkipTest(f"{name} accepted every bad input; nothing to compare.")


@_check(_with_device)
def check_device_switch_after_fit(name, estimator_orig):
    """``set_params(device="cpu")`` after ``fit`` takes effect at the next use,
    without refitting, and switching back gives the first results again.

    Identical bits when the fit ran on the CPU, within 1e-4 otherwise.
    """
    X, y = _blobs()
    estimator = _fit(_seeded(estimator_orig), X, y)
    original = estimator.get_params()["device"]
    expected = _output(estimator, X)
    on_cpu = str(getattr(estimator, "device_", "cpu")).startswith("cpu")
    for device in ("cpu", original):
        try:
            got = _output(estimator.set_params(device=device), X)
        except Exception as exc:
            raise AssertionError(
                f"{name}.{_output_name(estimator)} after set_params(device="
                f"{device!r}) raised {type(exc).__name__}: {exc}; like n_jobs, "
                "device is read at each use: move the fitted tensors there."
            ) from exc
        same = (
            np.array_equal(got, expected)
            if on_cpu
            else got.shape == expected.shape
            and np.allclose(got, expected, rtol=1e-4, atol=1e-4)
        )
        _require(
            same,
            f"{name}.{_output_name(estimator)} after set_params(device="
            f"{device!r}) differs from the same call before; the same model "
            "must give the same rows on the device it now names.",
        )


def _package_folder(cls) -> str:
    """The folder of the package that defines ``cls`` (its file for a lone
    module): a warning attributed in there points into the library."""
    path = Path(inspect.getfile(cls)).resolve()
    folder = path.parent
    if not (folder / "__init__.py").exists():
        return str(path)
    while (folder.parent / "__init__.py").exists():
        folder = folder.parent
    return str(folder) + os.sep


@_check(_with_device)
def check_unavailable_device_falls_back(name, estimator_orig):
    """``device="cuda:64"`` (a device torch knows but no machine has) warns
    with ``skflow.exceptions.DeviceWarning``, fits on the CPU (``device_ ==
    "cpu"``) and gives a usable model.

    The warning points at the line that called ``fit``, not at a frame inside
    the estimator's package, scikit-learn or joblib.
    """
    if torch.cuda.device_count() > 64:
        raise SkipTest("this machine has a GPU with index 64")
    X, y = _blobs()
    estimator = clone(estimator_orig).set_params(device=_MISSING_DEVICE)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        try:
            _fit(estimator, X, y)
        except Exception as exc:
            raise AssertionError(
                f"{name}.fit with device={_MISSING_DEVICE!r} raised "
                f"{type(exc).__name__}: {exc}; a device torch understands but "
                "this machine lacks must warn and fall back to the CPU."
            ) from exc
        n_fit_warnings = len(record)
        # Still the missing device: each use falls back (and warns) again.
        usable = np.isfinite(_output(estimator, X)).all()
    record = record[:n_fit_warnings]
    device_warnings = [w for w in record if issubclass(w.category, DeviceWarning)]
    _require(
        any("falling back to 'cpu'" in str(w.message) for w in device_warnings),
        f"{name}.fit with device={_MISSING_DEVICE!r} did not warn with a "
        "skflow.exceptions.DeviceWarning saying \"falling back to 'cpu'\"; warn "
        "so, then run on the CPU.",
    )
    _require(
        str(getattr(estimator, "device_", None)) == "cpu",
        f"{name}.device_ is {getattr(estimator, 'device_', None)!r} after falling "
        "back; record the device the model was fitted on in device_.",
    )
    inside = (*_LIBRARY_FOLDERS, _package_folder(type(estimator_orig)))
    here = os.path.abspath(__file__)
    for w in device_warnings:
        filename = os.path.abspath(w.filename)
        _require(
            filename == here or not filename.startswith(inside),
            f"{name}'s DeviceWarning points at {w.filename}, inside a library; "
            "raise it with a stacklevel that reaches the line that called fit.",
        )
    _require(usable, f"{name} fitted after a device fallback gives non-finite results.")


@_check(_every_estimator)
def check_fit_does_not_mutate_input(name, estimator_orig):
    """``fit``, ``sample``, ``score`` and ``transform`` leave ``X`` and ``y`` as
    they were."""
    X, y = _blobs()
    X_copy, y_copy = X.copy(), y.copy()
    estimator = _fit(clone(estimator_orig), X, y)
    if _is_sampler(estimator):
        estimator.sample(10)
        if hasattr(estimator, "score"):
            _score(estimator, X, y)
    else:
        estimator.transform(X)
    _require(
        np.array_equal(X, X_copy) and np.array_equal(y, y_copy),
        f"{name} changed the rows it was given; work on a copy (e.g. "
        "validate_data(..., copy=True) or X - mean rather than X -= mean).",
    )


@_check(_samplers_with_max_iter)
def check_history_consistent_with_n_iter(name, estimator_orig):
    """A fitted iterative sampler records ``n_iter_ >= 1`` and a non-empty
    ``history_`` dict of finite per-iteration lists, each ``n_iter_`` long."""
    X, y = _blobs()
    sampler = _fit(clone(estimator_orig), X, y)
    n_iter = getattr(sampler, "n_iter_", None)
    history = getattr(sampler, "history_", None)
    _require(
        isinstance(n_iter, numbers.Integral) and n_iter >= 1,
        f"{name}.n_iter_ is {n_iter!r}; record the number of iterations run "
        "(at least 1) in n_iter_.",
    )
    _require(
        isinstance(history, dict) and history,
        f"{name}.history_ is {history!r}; record a dict of per-iteration lists "
        "(losses and other diagnostics) in history_.",
    )
    for key, values in history.items():
        _require(
            len(values) == n_iter and np.isfinite(values).all(),
            f"{name}.history_[{key!r}] has {len(values)} values for n_iter_="
            f"{n_iter} or non-finite ones; record one finite value per "
            "iteration.",
        )


def _silence_verbosity(estimator):
    """``estimator`` with every ``verbose`` parameter, nested ones included, off
    (False where the parameter is a bool, as in Pipeline, else 0)."""
    params = estimator.get_params()
    keys = [key for key in params if key == "verbose" or key.endswith("__verbose")]
    return estimator.set_params(
        **{key: False if isinstance(params[key], bool) else 0 for key in keys}
    )


def _captured(call):
    """Run ``call()`` and return what it printed to stdout and stderr.

    Warnings are recorded, not printed: they are not output of the estimator.
    """
    out, err = io.StringIO(), io.StringIO()
    with (
        warnings.catch_warnings(record=True),
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        call()
    return out.getvalue(), err.getvalue()


@_check(_every_estimator)
def check_verbose_zero_is_silent(name, estimator_orig):
    """With ``verbose`` 0 (every ``verbose`` parameter), ``fit``, ``sample``,
    ``score`` and ``transform`` print nothing."""
    X, y = _blobs()
    estimator = _silence_verbosity(clone(estimator_orig))

    def use():
        _fit(estimator, X, y)
        if _is_sampler(estimator):
            estimator.sample(5)
            if hasattr(estimator, "score"):
                _score(estimator, X, y)
        else:
            estimator.transform(X)

    out, err = _captured(use)
    _require(
        out == "" and err == "",
        f"{name} with verbose=0 printed {(out or err)[:80]!r}; print nothing "
        "(and show no progress bar) unless verbose is set.",
    )


@_check(_with_progress_bar)
def check_verbose_one_shows_progress(name, estimator_orig):
    """With ``verbose=1``, ``fit`` shows a progress bar named after the
    estimator's class on stderr and prints nothing on stdout."""
    X, y = _blobs()
    estimator = clone(estimator_orig).set_params(verbose=1)
    out, err = _captured(lambda: _fit(estimator, X, y))
    _require(
        out == "",
        f"{name}.fit with verbose=1 printed {out[:80]!r} on stdout; show "
        "progress on stderr (tqdm's default), keeping stdout for the user's "
        "data.",
    )
    _require(
        type(estimator).__name__ in err,
        f"{name}.fit with verbose=1 showed no progress bar naming "
        f"{type(estimator).__name__} on stderr; use tqdm(desc=type(self).__name__, "
        "disable=not self.verbose).",
    )


@_check(_samplers)
def check_dataframe_round_trip(name, estimator_orig):
    """Fitted on a DataFrame, ``sample`` returns a DataFrame with the same
    columns in the same order, float32 columns kept float32, and
    ``feature_names_in_`` set."""
    try:
        import pandas as pd
    except ImportError as exc:
        raise SkipTest("pandas is not installed") from exc
    X, y = _blobs()
    columns = [f"feature {i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=columns).astype({columns[0]: "float32"})
    sampler = _fit(clone(estimator_orig), frame, y)
    rows = _draw(sampler, 12)
    _require(
        isinstance(rows, pd.DataFrame),
        f"{name} fitted on a DataFrame sampled a {type(rows).__name__}; return "
        "the container fit received, with its column names.",
    )
    _require(
        list(rows.columns) == columns and rows.shape == (12, len(columns)),
        f"{name} fitted on a DataFrame sampled columns {list(rows.columns)} and "
        f"shape {rows.shape}; return n_samples rows of the fitted columns, in "
        "their order.",
    )
    _require(
        rows[columns[0]].dtype == np.float32,
        f"{name} returned the float32 column {columns[0]!r} as "
        f"{rows[columns[0]].dtype}; give float columns back in their own dtype.",
    )
    _require(
        np.array_equal(getattr(sampler, "feature_names_in_", None), columns),
        f"{name}.feature_names_in_ does not list the DataFrame's columns; set it "
        "in fit (validate_data does).",
    )


@_check(_samplers)
def check_constant_column_is_kept(name, estimator_orig):
    """A constant column comes back unchanged, exactly, in every sampled row;
    the others stay finite."""
    X, y = _blobs()
    X = np.column_stack([X, np.full(len(X), 7.5)])
    rows = _as_array(_draw(_fit(clone(estimator_orig), X, y), 20))
    _require(
        np.isfinite(rows).all() and np.array_equal(rows[:, -1], np.full(20, 7.5)),
        f"{name} fitted with a constant column of 7.5 sampled "
        f"{rows[:3, -1].tolist()}... there (or non-finite rows); leave constant "
        "columns out of the model and write their value back exactly.",
    )


@_check(_samplers)
def check_raw_feature_scales_are_restored(name, estimator_orig):
    """Fitted on one column in thousands and one in hundredths, 2000 sampled
    rows have each column's mean within half a standard deviation and its
    spread within a factor of two of the data's: a scale mix-up is off by
    orders of magnitude."""
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.normal(5000.0, 800.0, 300), rng.normal(0.03, 0.01, 300)])
    y = np.arange(len(X)) % 2
    rows = _as_array(_draw(_fit(clone(estimator_orig), X, y), 2000, random_state=0))
    mean_ok = np.abs(rows.mean(0) - X.mean(0)) < 0.5 * X.std(0)
    ratio = rows.std(0) / X.std(0)
    spread_ok = (ratio > 0.5) & (ratio < 2.0)
    _require(
        mean_ok.all() and spread_ok.all(),
        f"{name} fitted on columns of scale 1000 and 0.01 sampled means "
        f"{rows.mean(0).tolist()} and spreads {rows.std(0).tolist()} for data "
        f"means {X.mean(0).tolist()} and spreads {X.std(0).tolist()}; standardise "
        "each column in fit and undo it in sample.",
    )


@_check(_samplers_with_score)
def check_score(name, estimator_orig):
    """``score`` returns a finite float that is higher for the training rows
    than for the same rows shifted by 5 standard deviations, is the same on
    every call, and does not advance the sampling stream."""
    X, y = _blobs()
    sampler = _fit(_seeded(estimator_orig), X, y)
    twin = _fit(_seeded(estimator_orig), X, y)
    same = _score(sampler, X, y)
    _require(
        isinstance(same, numbers.Real)
        and not isinstance(same, bool)
        and np.isfinite(same),
        f"{name}.score returned {same!r}; return one finite float.",
    )
    shifted = _score(sampler, X + 5 * X.std(0), y)
    _require(
        same > shifted,
        f"{name}.score gave {same} for its training rows and {shifted} for them "
        "shifted by 5 standard deviations; higher must be better (return a "
        "negative distance), as GridSearchCV maximises the score.",
    )
    _require(
        _score(sampler, X, y) == same,
        f"{name}.score changed between two calls on the same rows; compare with "
        "rows drawn from a fixed seed.",
    )
    if _random_state_keys(estimator_orig):
        _require(
            np.array_equal(_as_array(_draw(sampler, 20)), _as_array(_draw(twin, 20))),
            f"{name}.score advanced the sampling stream (the next sample(20) "
            "changed); draw the compared rows from their own fixed seed.",
        )


@_check(_samplers_with_score)
def check_score_rejects_wrong_n_features(name, estimator_orig):
    """``score`` on rows of another width raises a ``ValueError`` naming the
    features."""
    X, y = _blobs()
    sampler = _fit(clone(estimator_orig), X, y)
    for width in (X.shape[1] + 1, X.shape[1] - 1):
        _expect_error(
            lambda width=width: _score(sampler, np.ones((5, width)), y[:5]),
            (ValueError,),
            "features",
            f"{name}.score on rows of {width} features (fitted on {X.shape[1]})",
            "validate the rows against the fit, validate_data(self, X, reset=False).",
        )


_BAD_FIT_INPUTS = [
    ("NaN", np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 4.0]]), "NaN"),
    ("infinity", np.array([[0.0, np.inf], [1.0, 2.0], [3.0, 4.0]]), "infinit"),
    ("one row", np.array([[0.0, 1.0]]), "1 sample"),
    ("no rows", np.empty((0, 2)), "0 sample"),
    ("no columns", np.empty((5, 0)), "0 feature"),
    ("strings", np.array([["a", "b"], ["c", "d"]]), "encode"),
    ("all-constant columns", np.ones((4, 3)), "constant"),
]


@_check(_samplers)
def check_fit_rejects_bad_input(name, estimator_orig):
    """``fit`` refuses bad rows with a ``ValueError`` naming the problem.

    NaN ("NaN"; skipped where the estimator models missing values, its
    ``allow_nan`` tag), infinity ("infinity" or "infinite"), one row ("1
    sample"), no rows ("0 sample"), no columns ("0 feature"), strings (advice to
    "encode" them; skipped where the estimator takes strings) and all-constant
    columns ("constant"). Class-conditional samplers get one label for every
    row.
    """
    skipped = set()
    if _accepts_strings(estimator_orig):
        skipped.add("strings")
    if _accepts_nan(estimator_orig):
        skipped.add("NaN")
    for what, bad, match in _BAD_FIT_INPUTS:
        if what in skipped:
            continue
        _expect_error(
            lambda bad=bad: _fit(clone(estimator_orig), bad, np.zeros(len(bad))),
            (ValueError,),
            match,
            f"{name}.fit on rows with {what}",
            f"validate X in fit (validate_data(self, X, dtype=np.float64, "
            f"ensure_min_samples=2)) and raise a ValueError whose message "
            f"mentions {match!r} and the remedy.",
        )


@_check(_samplers_refusing_strings)
def check_fit_rejects_non_numeric_dataframe(name, estimator_orig):
    """``fit`` on a DataFrame with a text column raises a ``TypeError`` naming
    that column."""
    try:
        import pandas as pd
    except ImportError as exc:
        raise SkipTest("pandas is not installed") from exc
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "colour": ["red", "blue", "red"]})
    _expect_error(
        lambda: _fit(clone(estimator_orig), frame, np.zeros(len(frame))),
        (TypeError,),
        "colour",
        f"{name}.fit on a DataFrame with the text column 'colour'",
        "look at the dtypes before converting and raise a TypeError that names "
        "the non-numeric columns and suggests an encoder, "
        "make_generative_pipeline(TabularEncoder(), sampler).",
    )


# ---------------------------------------------------------------- the runners
def yield_sampler_checks(estimator):
    """Yield the contract checks that apply to ``estimator``.

    Every check is a function ``check(name, estimator_orig)``. Which ones an
    estimator gets follows from what it has: every sampler and transformer
    gets the checks on fitting, cloning, pickling, random states and output;
    samplers (estimators with ``sample``) get the checks on ``sample``;
    estimators with a ``device``, ``warm_start``, ``max_iter``, ``verbose``
    parameter or a ``score`` method get the checks of those; the
    ``skflow.save`` round trip is checked on estimators made of skflow and
    scikit-learn classes only. Each check's documentation says whom it applies
    to.

    Parameters
    ----------
    estimator : estimator
        An unfitted sampler (with ``fit`` and ``sample``) or transformer (with
        ``fit`` and ``transform``).

    Yields
    ------
    check : callable
        A check ``check(name, estimator_orig)`` that raises an
        ``AssertionError`` when the rule is broken.

    Raises
    ------
    TypeError
        If ``estimator`` has neither ``sample`` nor ``transform``.

    See Also
    --------
    check_sampler : Run them all.
    parametrize_with_checks : One pytest test per estimator and check.

    Examples
    --------
    >>> from skflow import SlicedWassersteinFlow
    >>> from skflow.utils.estimator_checks import yield_sampler_checks
    >>> checks = list(yield_sampler_checks(SlicedWassersteinFlow()))
    >>> checks[0].__name__
    'check_not_fitted'
    """
    if not (_is_sampler(estimator) or _is_transformer(estimator)):
        raise TypeError(
            f"{type(estimator).__name__} has neither sample nor transform; the "
            "sampler contract checks samplers (fit, sample) and transformers "
            "(fit, transform)."
        )
    for check, applies in _CHECKS:
        if applies(estimator):
            yield check


def check_sampler(estimator, *, sklearn_checks=True, expected_failed_checks=None):
    """Check that ``estimator`` follows the sampler contract.

    Runs every check of :func:`yield_sampler_checks` and, by default, then
    scikit-learn's :func:`~sklearn.utils.estimator_checks.check_estimator`.
    The first broken rule raises.

    Parameters
    ----------
    estimator : estimator
        An unfitted sampler or transformer. Give it fast settings (a few
        iterations, small networks): each check fits it a few times on 50 rows.

    sklearn_checks : bool, default=True
        Also run scikit-learn's checks.

    expected_failed_checks : dict or None, default=None
        ``{check_name: reason}`` for checks known to fail; they are skipped
        with a ``SkipTestWarning`` giving the reason (passed on to
        scikit-learn's checks too).

    Raises
    ------
    AssertionError
        From the first check whose rule is broken.

    See Also
    --------
    yield_sampler_checks : The checks, one by one.
    parametrize_with_checks : The same checks as pytest tests.

    Examples
    --------
    >>> from skflow import SlicedWassersteinFlow
    >>> from skflow.utils.estimator_checks import check_sampler
    >>> sampler = SlicedWassersteinFlow(
    ...     parameterization="particles", max_iter=2, n_particles=60,
    ...     device="cpu", random_state=0)
    >>> check_sampler(sampler, sklearn_checks=False)
    """
    name = type(estimator).__name__
    expected = expected_failed_checks or {}
    for check in yield_sampler_checks(estimator):
        reason = expected.get(check.__name__)
        try:
            if reason is not None:
                raise SkipTest(f"expected to fail: {reason}")
            check(name, estimator)
        except SkipTest as skip:
            warnings.warn(
                f"Skipping {check.__name__} for {name}: {skip}",
                SkipTestWarning,
                stacklevel=2,
            )
    if sklearn_checks:
        from sklearn.utils.estimator_checks import check_estimator

        check_estimator(estimator, expected_failed_checks=expected)


def _case_id(value) -> str:
    """A test id: an estimator's repr without whitespace (changed parameters
    only), or a check's name."""
    if hasattr(value, "get_params"):
        return re.sub(r"\s", "", str(value))
    while hasattr(value, "__wrapped__"):
        value = value.__wrapped__
    if isinstance(value, partial):
        keywords = ",".join(f"{key}={item}" for key, item in value.keywords.items())
        return value.func.__name__ + (f"({keywords})" if keywords else "")
    return getattr(value, "__name__", repr(value))


def parametrize_with_checks(
    estimators, *, sklearn_checks=True, expected_failed_checks=None
):
    """A pytest decorator: one test per estimator and contract check.

    Like :func:`sklearn.utils.estimator_checks.parametrize_with_checks`, whose
    checks it includes by default: the decorated test receives ``estimator``
    and ``check`` and calls ``check(estimator)``. Ids are the estimator's
    changed parameters and the check's name, so ``pytest -k check_score``
    selects one check.

    Parameters
    ----------
    estimators : list of estimators
        Unfitted instances with fast settings.

    sklearn_checks : bool, default=True
        Also parametrize over scikit-learn's checks.

    expected_failed_checks : callable or None, default=None
        Called with each estimator; returns ``{check_name: reason}`` for its
        checks known to fail. Those are marked ``xfail`` (strictly for the
        contract checks: one that passes again is reported, so the entry can
        go).

    Returns
    -------
    decorator : pytest.mark.parametrize
        Parametrizes ``"estimator, check"``.

    See Also
    --------
    check_sampler : Run the checks without pytest.

    Examples
    --------
    >>> from skflow import SlicedWassersteinFlow
    >>> from skflow.utils.estimator_checks import parametrize_with_checks
    >>> @parametrize_with_checks([SlicedWassersteinFlow(max_iter=3)])
    ... def test_contract(estimator, check):
    ...     check(estimator)
    """
    import pytest

    if any(isinstance(estimator, type) for estimator in estimators):
        raise TypeError(
            "parametrize_with_checks takes estimator instances, not classes; "
            "pass e.g. MySampler(max_iter=5)."
        )

    def cases():
        for estimator in estimators:
            expected = (
                expected_failed_checks(estimator) if expected_failed_checks else {}
            )
            name = type(estimator).__name__
            for check in yield_sampler_checks(estimator):
                case = partial(check, name)
                reason = expected.get(check.__name__)
                if reason is None:
                    yield estimator, case
                else:
                    mark = pytest.mark.xfail(reason=reason, strict=True)
                    yield pytest.param(estimator, case, marks=mark)
            if sklearn_checks:
                from sklearn.utils.estimator_checks import (
                    estimator_checks_generator,
                )

                yield from estimator_checks_generator(
                    estimator, mark="xfail", expected_failed_checks=expected
                )

    return pytest.mark.parametrize("estimator, check", list(cases()), ids=_case_id)
