"""Property-based tests: any table, any scale, any valid setting.

Hypothesis draws tables of random shape, container, column dtypes, scales
(from 1e-300 to 1e300), offsets and constant or repeated columns, and valid
constructor settings, for every sampler alone, behind a ``TabularEncoder`` and
inside ``ClassConditionalSampler``. The property: ``fit`` then ``sample``
either returns valid rows (the right shape, container, column dtypes, every
value finite) or raises one of skflow's own errors (raised by skflow's code or
by scikit-learn's validation that skflow calls, of a documented kind). Never a
non-finite row, never a traceback from inside torch, numpy or pandas.

The examples are derandomised (the same on every run) so that CI is stable.
``SKFLOW_HYPOTHESIS_EXAMPLES=500 python -m pytest tests/test_properties.py``
runs a longer, random search instead (``--hypothesis-seed`` repeats one).
"""

import os
import traceback
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from skflow import ClassConditionalSampler, TabularEncoder, make_generative_pipeline
from skflow._testing import fast_samplers
from skflow.exceptions import NumericalInstabilityError

SEARCH = os.environ.get("SKFLOW_HYPOTHESIS_EXAMPLES")
PROPERTY_SETTINGS = settings(
    max_examples=int(SEARCH or 25),
    deadline=None,
    derandomize=SEARCH is None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# The kinds of error skflow documents; an error of another kind, or raised
# from outside skflow and scikit-learn's validation, fails the property.
OUR_ERRORS = (ValueError, TypeError, MemoryError, NumericalInstabilityError)
VALIDATION_FILES = ("sklearn/utils/validation.py", "sklearn/utils/_param_validation")

SCALES = [1e-300, 1e-30, 1e-6, 1.0, 1e6, 1e30, 1e300]
COLUMN_DTYPES = ["float64", "float32", "float16", "int64", "bool"]


def _id(estimator):
    kind = getattr(estimator, "parameterization", "") or getattr(
        estimator, "solver", ""
    )
    return type(estimator).__name__ + (f"-{kind}" if kind else "")


SAMPLERS = fast_samplers()


@st.composite
def tables(draw, min_rows=8):
    """A table: (X, column dtypes or None for an ndarray)."""
    n_rows = draw(st.integers(min_rows, 60))
    n_columns = draw(st.integers(1, 4))
    frame = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((n_rows, n_columns))
    for j in range(n_columns):
        scale = draw(st.sampled_from(SCALES))
        offset = draw(st.sampled_from([0.0, 1.0, -1e3]))
        shape = draw(st.sampled_from(["normal", "skewed", "discrete", "constant"]))
        column = values[:, j]
        if shape == "skewed":
            column = np.exp(2 * column)
        elif shape == "discrete":
            column = np.round(column)
        elif shape == "constant":
            column = np.zeros(n_rows)
        values[:, j] = (column + offset) * scale
    if draw(st.booleans()) and n_columns > 1:
        values[:, -1] = values[:, 0]  # a repeated column
    # Never all-constant: a table with nothing to learn is its own test.
    values[:, 0] += np.linspace(0.0, 1.0, n_rows) * SCALES[3]
    if not frame:
        return values, None
    dtypes = [draw(st.sampled_from(COLUMN_DTYPES)) for _ in range(n_columns)]
    columns = {}
    for j, dtype in enumerate(dtypes):
        column = values[:, j]
        if dtype == "bool":
            column = column > np.median(column)
        elif dtype == "int64":
            column = np.clip(np.round(column), -(2**53), 2**53)
        elif dtype in ("float16", "float32"):
            limit = np.finfo(dtype).max
            column = np.clip(column, -limit, limit)
        columns[f"c{j}"] = column.astype(dtype)
    return pd.DataFrame(columns), dtypes


def _raised_by_us(error: BaseException) -> bool:
    """Whether ``error`` is of a documented kind and raised by skflow's code
    (or the scikit-learn validation it calls), not inside a dependency."""
    if not isinstance(error, OUR_ERRORS):
        return False
    frames = traceback.extract_tb(error.__traceback__)
    where = frames[-1].filename.replace(os.sep, "/")
    return "/skflow/" in where or any(name in where for name in VALIDATION_FILES)


def _check_rows(rows, X, n_rows):
    """The drawn rows have the shape, container and dtypes of ``X``; finite."""
    assert rows.shape == (n_rows, X.shape[1])
    if isinstance(X, pd.DataFrame):
        assert isinstance(rows, pd.DataFrame)
        assert list(rows.columns) == list(X.columns)
        values = rows.to_numpy(dtype=np.float64)
    else:
        assert isinstance(rows, np.ndarray) and rows.dtype == np.float64
        values = rows
    assert np.isfinite(values).all(), "non-finite generated rows"


def _fit_and_draw(model, X, y, n_rows):
    """``model.fit`` and ``sample``: the rows, or None for one of our errors."""

    def fit_and_draw():
        if y is None:
            return model.fit(X).sample(n_rows)
        return model.fit(X, y).sample(y=y[:n_rows])[0]

    return _ours_or_raise(fit_and_draw)


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
@PROPERTY_SETTINGS
@given(
    table=tables(),
    n_rows=st.integers(1, 30),
    dtype=st.sampled_from(["float32", "float64"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_table_gives_valid_rows_or_our_error(estimator, table, n_rows, dtype, seed):
    X, _ = table
    model = clone(estimator).set_params(dtype=dtype, random_state=seed)
    rows = _fit_and_draw(model, X, None, n_rows)
    if rows is not None:
        _check_rows(rows, X, n_rows)
        if isinstance(X, pd.DataFrame):
            # Float columns keep their dtype; the others come back as float64.
            for name, kind in zip(X.columns, X.dtypes):
                expected = kind if kind.kind == "f" else np.dtype("float64")
                assert rows[name].dtype == expected


@pytest.mark.parametrize("estimator", SAMPLERS[:4], ids=_id)
@PROPERTY_SETTINGS
@given(table=tables(), n_rows=st.integers(1, 30), seed=st.integers(0, 2**32 - 1))
def test_any_table_behind_an_encoder(estimator, table, n_rows, seed):
    X, dtypes = table
    if dtypes is None:
        X = pd.DataFrame(X, columns=[f"c{j}" for j in range(X.shape[1])])
    pipeline = make_generative_pipeline(
        TabularEncoder(), clone(estimator).set_params(random_state=seed)
    )
    rows = _fit_and_draw(pipeline, X, None, n_rows)
    if rows is not None:
        _check_rows(rows, X, n_rows)
        for name in X.columns:
            # Decoded within the range seen in fit, in the column's dtype.
            assert rows[name].dtype == X[name].dtype
            if X[name].dtype.kind in "fi":
                low, high = X[name].min(), X[name].max()
                assert rows[name].between(low, high).all()


@pytest.mark.parametrize("estimator", SAMPLERS[:3], ids=_id)
@PROPERTY_SETTINGS
@given(
    table=tables(min_rows=16),
    labels=st.sampled_from([["a", "b"], [0, 1, 2], [True, False]]),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_labelled_table_in_a_class_conditional_sampler(
    estimator, table, labels, seed
):
    X, _ = table
    y = np.array([labels[i % len(labels)] for i in range(X.shape[0])])
    model = ClassConditionalSampler(clone(estimator), random_state=seed)
    n_rows = min(10, X.shape[0])
    rows = _fit_and_draw(model, X, y, n_rows)
    if rows is not None:
        _check_rows(rows, X, n_rows)


def _check_table(out, X, n_rows):
    """``out`` has ``n_rows`` rows of ``X``'s columns, every value finite."""
    assert out.shape == (n_rows, X.shape[1])
    values = (
        out.to_numpy(dtype=np.float64)
        if isinstance(out, pd.DataFrame)
        else np.asarray(out, dtype=np.float64)
    )
    assert np.isfinite(values).all(), "non-finite values"


def _ours_or_raise(call):
    """``call()``, or None for one of our errors (any other error fails)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return call()
        except Exception as error:
            assert _raised_by_us(error), (
                f"{type(error).__name__} from inside a dependency: {error}\n"
                + "".join(traceback.format_tb(error.__traceback__)[-3:])
            )
            return None


@PROPERTY_SETTINGS
@given(table=tables(), seed=st.integers(0, 2**32 - 1))
def test_any_table_through_the_autoencoder(table, seed):
    from skflow import AutoencoderTransformer

    X, _ = table
    model = AutoencoderTransformer(
        n_components=1, hidden_layer_sizes=(8,), max_iter=5, random_state=seed
    )
    codes = _ours_or_raise(lambda: model.fit_transform(X))
    if codes is not None:
        assert codes.shape == (X.shape[0], 1) and np.isfinite(codes).all()
        _check_table(model.inverse_transform(codes), X, X.shape[0])


@PROPERTY_SETTINGS
@given(table=tables(min_rows=20), seed=st.integers(0, 2**32 - 1))
def test_any_labelled_table_in_the_resampler_and_grouped_sampler(table, seed):
    from skflow import GaussianMixtureSampler, GroupedSampler, SyntheticOverSampler

    X, _ = table
    n_rows = X.shape[0]
    y = np.where(np.arange(n_rows) < n_rows // 3, "rare", "common")
    resampled = _ours_or_raise(
        lambda: SyntheticOverSampler(
            GaussianMixtureSampler(), random_state=seed
        ).fit_resample(X, y)
    )
    if resampled is not None:
        X_new, y_new = resampled
        assert len(X_new) == len(y_new) == 2 * (n_rows - n_rows // 3)
        _check_table(X_new, X, len(y_new))
    frame = pd.DataFrame(np.asarray(X, dtype=np.float64)).assign(group=y)
    grouped = GroupedSampler(GaussianMixtureSampler(), by="group", random_state=seed)
    rows = _ours_or_raise(lambda: grouped.fit(frame).sample(10))
    if rows is not None:
        _check_table(rows.drop(columns="group"), frame.drop(columns="group"), 10)
        assert set(rows["group"]) <= {"rare", "common"}


@PROPERTY_SETTINGS
@given(
    table=tables(min_rows=20),
    share=st.sampled_from([0.05, 0.3]),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_table_with_holes_through_the_imputer(table, share, seed):
    from skflow import GaussianMixtureSampler
    from skflow.impute import GenerativeImputer

    X, _ = table
    values = np.asarray(X, dtype=np.float64).copy()
    holes = np.random.default_rng(seed).random(values.shape) < share
    holes[:, 0] &= np.arange(len(values)) % 2 == 0  # every column keeps values
    values[holes] = np.nan
    imputer = GenerativeImputer(GaussianMixtureSampler(), max_iter=1, random_state=seed)
    filled = _ours_or_raise(lambda: imputer.fit_transform(values))
    if filled is not None:
        _check_table(filled, values, len(values))
        observed = ~np.isnan(values)
        np.testing.assert_array_equal(filled[observed], values[observed])
