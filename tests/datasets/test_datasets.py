"""Generated datasets have the structure their docstrings promise."""

import numpy as np
import pytest

from skflow.datasets import (
    make_gaussian_mixture,
    make_pinwheel,
    make_sphere,
    make_student_t_mixture,
)


@pytest.mark.parametrize(
    "make, kwargs",
    [
        (make_gaussian_mixture, dict(n_features=3)),
        (make_student_t_mixture, dict(n_features=3)),
        (make_pinwheel, dict(n_features=3)),
        (make_sphere, dict(n_features=3)),
    ],
)
def test_shapes_and_reproducibility(make, kwargs):
    def as_tuple(result):
        return result if isinstance(result, tuple) else (result,)

    first = as_tuple(make(101, random_state=0, **kwargs))
    second = as_tuple(make(101, random_state=0, **kwargs))
    X = first[0]
    assert X.shape == (101, 3)
    assert np.isfinite(X).all()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    other = as_tuple(make(101, random_state=1, **kwargs))
    assert not np.array_equal(X, other[0])


def test_gaussian_mixture_components_are_balanced_and_located():
    X, y = make_gaussian_mixture(3000, 2, 3, cluster_std=0.5, random_state=0)
    assert np.bincount(y).tolist() == [1000, 1000, 1000]
    means = np.array([X[y == k].mean(0) for k in range(3)])
    spread = np.array([X[y == k].std(0) for k in range(3)])
    # Within-component spread is near cluster_std, far below the box size.
    assert np.all(spread < 1.0)
    assert np.all(np.abs(means) <= 5.0 + 0.2)


def test_student_t_has_heavy_tails():
    X, _ = make_student_t_mixture(20000, 1, 1, df=1.5, random_state=0)
    Z, _ = make_student_t_mixture(20000, 1, 1, df=1000.0, random_state=0)
    center = np.median(X)
    iqr = np.subtract(*np.percentile(X, [75, 25]))
    # A Gaussian never strays 10 IQRs from its median (~13 sigma); t(1.5) does
    # about 1% of the time.
    assert np.mean(np.abs(X - center) > 10 * iqr) > 0.005
    z_iqr = np.subtract(*np.percentile(Z, [75, 25]))
    assert np.mean(np.abs(Z - np.median(Z)) > 10 * z_iqr) == 0.0


def test_sphere_lies_on_a_low_dimensional_sphere():
    X = make_sphere(500, 30, intrinsic_dim=2, radius=2.0, random_state=0)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 2.0, rtol=1e-12)
    singular_values = np.linalg.svd(X, compute_uv=False)
    assert np.sum(singular_values > 1e-8 * singular_values[0]) == 3


def test_sphere_noise_leaves_the_manifold():
    X = make_sphere(500, 10, noise=0.1, random_state=0)
    assert np.std(np.linalg.norm(X, axis=1)) > 0.01


def test_pinwheel_embedding_pads_zeros_and_labels_arms():
    X, y = make_pinwheel(1000, n_arms=4, n_features=7, random_state=0)
    assert X.shape == (1000, 7)
    np.testing.assert_array_equal(X[:, 2:], 0.0)
    assert set(y) == {0, 1, 2, 3}
    # Arms point in different directions: their mean angles differ.
    angles = [np.arctan2(*X[y == k, :2].mean(0)[::-1]) for k in range(4)]
    assert len(np.unique(np.round(angles, 1))) == 4


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: make_gaussian_mixture(0), ValueError),
        (lambda: make_gaussian_mixture(10.5), TypeError),
        (lambda: make_student_t_mixture(10, df=0), ValueError),
        (lambda: make_sphere(10, n_features=2, intrinsic_dim=2), ValueError),
        (lambda: make_pinwheel(10, n_features=1), ValueError),
        (lambda: make_student_t_mixture(10, df=np.inf), ValueError),
        (lambda: make_gaussian_mixture(10, cluster_std=-1.0), ValueError),
        (lambda: make_sphere(10, noise=-0.1), ValueError),
        (lambda: make_sphere(10, radius=np.nan), ValueError),
        (lambda: make_pinwheel(10, radial_std=-0.3), ValueError),
        (lambda: make_pinwheel(10, tangential_std="wide"), TypeError),
    ],
)
def test_invalid_arguments(call, error):
    with pytest.raises(error):
        call()
