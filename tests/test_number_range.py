"""Data at the edges of the floating-point range: finite rows or our error.

Issue 18: a float32 column near 3.4e38 (or a float16 one near 65504) came back
with ``inf`` in generated rows; TabularEncoder at 1e300 decoded non-finite
values and at 1e-300 found relations that are not there; the autoencoder's
scaler overflowed at 1e300 and lost the spread at 1e-300. The identities here:
exact powers of two are exact in floating point, so encoding ``X * 2**k`` must
give exactly the code of ``X``, and decoding must give exactly ``2**k`` times
the decoding of ``X``, at any ``k`` that keeps the values normal.
"""

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from skflow import (
    AutoencoderTransformer,
    ClassConditionalSampler,
    GaussianMixtureSampler,
    NumericalInstabilityError,
    SyntheticOverSampler,
    TabularEncoder,
    make_generative_pipeline,
)
from skflow._scaling import column_exponents, mean_and_std, scale_exponent
from skflow._testing import fast_samplers

SAMPLERS = [*fast_samplers(), GaussianMixtureSampler(random_state=0)]
EDGE_DTYPES = [np.float32, np.float16]
# Powers of two that keep N(0, 1) rows normal (not subnormal) and finite.
EXPONENTS = [-990, -500, -64, 64, 500, 1000]


def _edge_frame(dtype, n_rows=120, seed=0):
    """Columns in [0.9, 1.0] x the largest finite value of ``dtype``, one of
    them negative."""
    rng = np.random.default_rng(seed)
    largest = float(np.finfo(dtype).max)
    values = rng.uniform(0.9, 1.0, size=(n_rows, 3)) * largest * np.array([1, -1, 1])
    return pd.DataFrame(values.astype(dtype), columns=["a", "b", "c"])


def _ids(estimators):
    return [
        type(e).__name__ + str(getattr(e, "parameterization", "")) for e in estimators
    ]


@pytest.mark.parametrize("dtype", EDGE_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("sampler", SAMPLERS, ids=_ids(SAMPLERS))
def test_narrow_float_columns_at_their_edge_never_give_inf(sampler, dtype):
    X = _edge_frame(dtype)
    fitted = clone(sampler).fit(X)
    try:
        rows = fitted.sample(200)
    except NumericalInstabilityError as error:
        # The remedy is named: the cast, or the encoder that keeps the range.
        assert np.dtype(dtype).name in str(error)
        assert "float64" in str(error) and "TabularEncoder" in str(error)
        return
    assert list(rows.dtypes) == [np.dtype(dtype)] * 3
    assert np.isfinite(rows.to_numpy(dtype=np.float64)).all()


def test_the_conditional_path_checks_the_output_range_too():
    X = _edge_frame(np.float32)
    fitted = GaussianMixtureSampler(random_state=0).fit(X)
    # Free cells of the conditioned rows can overflow float32 as well.
    with pytest.raises(NumericalInstabilityError, match="float32"):
        # The median in float64: pandas' float32 median of two values near
        # the largest float32 overflows.
        fitted.sample(500, conditions={"a": float(X["a"].astype(float).median())})


@pytest.mark.parametrize("dtype", EDGE_DTYPES, ids=lambda d: np.dtype(d).name)
def test_pipeline_with_the_encoder_generates_within_the_edge(dtype):
    X = _edge_frame(dtype)
    pipeline = make_generative_pipeline(
        TabularEncoder(), GaussianMixtureSampler(random_state=0)
    ).fit(X)
    rows = pipeline.sample(500)
    assert list(rows.dtypes) == [np.dtype(dtype)] * 3
    values = rows.to_numpy(dtype=np.float64)
    assert np.isfinite(values).all()
    # Within the range seen in fit (reflected, not clipped to a pile).
    real = X.to_numpy(dtype=np.float64)
    assert (values >= real.min(axis=0)).all() and (values <= real.max(axis=0)).all()


def _gaussian_table(n_rows=300, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        rng.normal(size=(n_rows, 3)) * [1.0, 3.0, 0.5] + [0.0, 5.0, -2.0],
        columns=["a", "b", "c"],
    )


@pytest.mark.parametrize("exponent", EXPONENTS)
def test_encoder_is_exactly_equivariant_under_powers_of_two(exponent):
    X = _gaussian_table()
    scaled = np.ldexp(X, exponent)
    plain, shifted = TabularEncoder().fit(X), TabularEncoder().fit(scaled)
    codes = plain.transform(X)
    np.testing.assert_array_equal(shifted.transform(scaled), codes)
    assert shifted.relations_ == plain.relations_ == []
    # Decoding generated codes (beyond the seen range too, so the reflection
    # runs) gives the same values times 2**exponent.
    rng = np.random.default_rng(1)
    generated = rng.normal(size=(400, codes.shape[1])) * 1.5
    np.testing.assert_array_equal(
        shifted.inverse_transform(generated).to_numpy(),
        np.ldexp(plain.inverse_transform(generated).to_numpy(), exponent),
    )


@pytest.mark.parametrize("scale", [1e-300, 1.0, 1e300])
def test_encoder_finds_a_true_relation_at_any_scale_and_no_false_one(scale):
    rng = np.random.default_rng(0)
    a = rng.uniform(1.0, 2.0, size=200) * scale
    b = rng.uniform(1.0, 2.0, size=200) * scale
    X = pd.DataFrame({"a": a, "b": b, "c": rng.uniform(1.0, 2.0, size=200) * scale})
    assert TabularEncoder().fit(X).relations_ == []
    X["total"] = X["a"] + X["b"]
    encoder = TabularEncoder().fit(X)
    # One of the equivalent forms (total = a + b, a = total - b, ...).
    assert len(encoder.relations_) == 1
    assert set(encoder.relations_[0].replace("=", " ").split()) - {"+", "-"} == {
        "a",
        "b",
        "total",
    }
    decoded = encoder.inverse_transform(encoder.transform(X))
    np.testing.assert_allclose(decoded.to_numpy(), X.to_numpy(), rtol=1e-12)


def test_no_derived_column_derives_another():
    # a = b + c and b = c * c both hold. Before, b was derived after it had
    # derived a, and decoding a looked up a b not rebuilt yet (a KeyError);
    # at 1e-300 an absolute tolerance of 1e-12 made such chains out of
    # unrelated columns.
    rng = np.random.default_rng(0)
    c = rng.uniform(1.0, 2.0, size=300)
    X = pd.DataFrame({"a": c * c + c, "b": c * c, "c": c})
    encoder = TabularEncoder().fit(X)
    assert [text for text in encoder.relations_ if " = " in text] == ["a = b + c"]
    decoded = encoder.inverse_transform(encoder.transform(X))
    np.testing.assert_allclose(decoded.to_numpy(), X.to_numpy(), rtol=1e-9)


def test_values_near_1e_minus_300_are_not_on_a_whole_number_grid():
    X = pd.DataFrame({"x": np.linspace(1.0, 2.0, 50) * 1e-300})
    encoder = TabularEncoder().fit(X)
    decoded = encoder.inverse_transform(encoder.transform(X))
    assert (decoded["x"] > 0).all()
    np.testing.assert_allclose(decoded["x"], X["x"], rtol=1e-9)


def test_unclipped_decoding_past_the_largest_float_raises():
    X = _edge_frame(np.float64)
    encoder = TabularEncoder(clip=False).fit(X)
    far = encoder.transform(X) * 50.0
    with pytest.raises(NumericalInstabilityError, match="clip=True"):
        encoder.inverse_transform(far)
    # clip=True keeps the same codes within the range.
    decoded = TabularEncoder().fit(X).inverse_transform(far)
    assert np.isfinite(decoded.to_numpy()).all()


@pytest.mark.parametrize("exponent", [-990, -500, 500, 1000])
def test_autoencoder_is_exactly_equivariant_under_powers_of_two(exponent):
    X = _gaussian_table(n_rows=120).to_numpy()
    params = dict(n_components=2, max_iter=5, batch_size=64, random_state=0)
    plain = AutoencoderTransformer(**params).fit(X)
    shifted = AutoencoderTransformer(**params).fit(np.ldexp(X, exponent))
    codes = plain.transform(X)
    np.testing.assert_array_equal(shifted.transform(np.ldexp(X, exponent)), codes)
    np.testing.assert_array_equal(
        shifted.inverse_transform(codes),
        np.ldexp(plain.inverse_transform(codes), exponent),
    )


def test_autoencoder_refuses_decoded_rows_beyond_float64():
    X = _edge_frame(np.float64).to_numpy()
    fitted = AutoencoderTransformer(n_components=2, max_iter=5, random_state=0).fit(X)
    far = fitted.transform(X) * 1e6
    with pytest.raises(NumericalInstabilityError, match="overflow float64"):
        fitted.inverse_transform(far)


@pytest.mark.parametrize("scale", [2.0**-1000, 1e-300, 1.0, 1e300, 1.7e308])
def test_mean_and_std_are_finite_and_equivariant(scale):
    rng = np.random.default_rng(0)
    unit = rng.uniform(-1.0, 1.0, size=(500, 2))
    mean, std = mean_and_std(unit * scale)
    unit_mean, unit_std = unit.mean(axis=0), unit.std(axis=0)
    np.testing.assert_allclose(mean, unit_mean * scale, rtol=1e-12)
    np.testing.assert_allclose(std, unit_std * scale, rtol=1e-12)
    total_mean, total_std = mean_and_std(unit[:, 0] * scale, axis=None)
    assert np.isfinite([total_mean, total_std]).all()
    np.testing.assert_allclose(total_std, unit[:, 0].std() * scale, rtol=1e-12)


def test_exponents_bound_every_value():
    X = np.array([[0.0, 3.0, np.nan], [0.0, -5.0, 1e-300], [0.0, 4.0, np.nan]])
    exponents = column_exponents(X)
    np.testing.assert_array_equal(exponents[:2], [0, 3])
    assert 2.0 ** (exponents[2] - 1) <= 1e-300 < 2.0 ** exponents[2]
    assert scale_exponent(np.zeros(3)) == 0


@pytest.mark.parametrize("frame", [False, True], ids=["array", "frame"])
def test_oversampler_never_casts_new_rows_to_inf(frame):
    X = _edge_frame(np.float32, n_rows=200)
    y = np.r_[np.zeros(150, dtype=int), np.ones(50, dtype=int)]
    X = X if frame else X.to_numpy()
    oversampler = SyntheticOverSampler(
        GaussianMixtureSampler(random_state=0), random_state=0
    )
    remedy = "X.astype({'a': 'float64'" if frame else "X.astype('float64')"
    with pytest.raises(NumericalInstabilityError, match=re.escape(remedy)):
        oversampler.fit_resample(X, y)


def test_class_conditional_sampler_passes_the_error_on():
    X = _edge_frame(np.float32, n_rows=200)
    y = np.r_[np.zeros(150, dtype=int), np.ones(50, dtype=int)]
    fitted = ClassConditionalSampler(
        GaussianMixtureSampler(random_state=0), random_state=0
    ).fit(X, y)
    with pytest.raises(NumericalInstabilityError, match="float32"):
        fitted.sample(200)
