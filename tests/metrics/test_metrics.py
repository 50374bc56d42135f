"""Metric identities, closed forms and reference implementations."""

import numpy as np
import ot
import pytest
import scipy.stats
import torch

from skflow._pairwise import energy_distance_tensor, mean_pairwise
from skflow.metrics import (
    c2st_auc,
    coverage,
    dcr,
    energy_distance,
    mmd,
    sample_report,
    sliced_wasserstein,
    wasserstein1,
)


@pytest.fixture(scope="module")
def samples():
    rng = np.random.RandomState(0)
    return rng.normal(size=(300, 4)), rng.normal(size=(250, 4)) + 0.5


@pytest.mark.parametrize(
    "metric", [energy_distance, mmd, sliced_wasserstein, wasserstein1]
)
def test_distance_of_sample_to_itself_is_zero(metric, samples):
    X, _ = samples
    assert metric(X, X) == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("metric", [energy_distance, mmd, wasserstein1])
def test_symmetric_and_permutation_invariant(metric, samples):
    X, Y = samples
    rng = np.random.RandomState(1)
    value = metric(X, Y)
    assert value > 0
    assert metric(Y, X) == pytest.approx(value, rel=1e-9)
    assert metric(X[rng.permutation(len(X))], Y[rng.permutation(len(Y))]) == (
        pytest.approx(value, rel=1e-9)
    )


def test_dataframes_are_matched_by_column_name(samples):
    # Reordered columns are the same rows; other columns are an error, not a
    # silent comparison by position.
    pd = pytest.importorskip("pandas")
    X, Y = samples
    names = [f"f{i}" for i in range(X.shape[1])]
    first, second = pd.DataFrame(X, columns=names), pd.DataFrame(Y, columns=names)
    shuffled = second[names[::-1]]
    # (Equal up to summation order: a DataFrame's values are column-major.)
    assert energy_distance(first, shuffled) == pytest.approx(energy_distance(X, Y))
    report = sample_report(first[:150], first[150:], shuffled, random_state=0)
    expected = sample_report(X[:150], X[150:], Y, random_state=0)
    assert report == pytest.approx(expected, rel=1e-9)
    with pytest.raises(ValueError, match="different columns"):
        energy_distance(first, second.rename(columns={"f0": "other"}))


def test_energy_distance_matches_scipy_in_one_dimension():
    rng = np.random.RandomState(0)
    u, v = rng.standard_t(3, 400), rng.normal(1.0, 2.0, 300)
    expected = scipy.stats.energy_distance(u, v)
    assert energy_distance(u[:, None], v[:, None]) == pytest.approx(expected, rel=1e-9)


def test_energy_distance_chunking_does_not_change_the_value(samples):
    X, Y = (torch.from_numpy(a) for a in samples)
    whole = energy_distance_tensor(X, Y, chunk_rows=10_000)
    chunked = energy_distance_tensor(X, Y, chunk_rows=17)
    assert float(chunked) == pytest.approx(float(whole), rel=1e-12)


def test_mean_pairwise_equals_dense_mean(samples):
    X, Y = (torch.from_numpy(a) for a in samples)
    dense = torch.cdist(X, Y).mean()
    assert float(mean_pairwise(X, Y, lambda d: d, chunk_rows=64)) == pytest.approx(
        float(dense), rel=1e-10
    )


def test_mmd_closed_form_for_two_points():
    # Two single points at distance d: MMD^2 = 2 - 2 exp(-d^2 / (2 h^2)).
    x, y, h = np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]]), 2.0
    expected = np.sqrt(2 - 2 * np.exp(-25.0 / (2 * h**2)))
    assert mmd(x, y, bandwidth=h) == pytest.approx(expected, rel=1e-12)


def test_mmd_rejects_non_positive_bandwidth(samples):
    with pytest.raises(ValueError, match="bandwidth"):
        mmd(*samples, bandwidth=0.0)


@pytest.mark.parametrize("p", [1, 2])
def test_sliced_wasserstein_in_one_dimension_is_exact(p):
    rng = np.random.RandomState(0)
    u, v = rng.normal(size=200), rng.exponential(size=200)
    exact = ot.wasserstein_1d(u, v, p=p) ** (1 / p)
    assert sliced_wasserstein(u[:, None], v[:, None], p=p, random_state=0) == (
        pytest.approx(exact, rel=1e-9)
    )


def test_sliced_wasserstein_detects_a_translation():
    # A translation by t: SW_2^2 = |t|^2 E[theta_1^2] = |t|^2 / d.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(2000, 3))
    shift = np.array([3.0, 0.0, 0.0])
    value = sliced_wasserstein(X, X + shift, n_projections=4000, random_state=0)
    assert value == pytest.approx(3.0 / np.sqrt(3), rel=0.05)


def test_wasserstein1_matches_one_dimensional_formula():
    rng = np.random.RandomState(0)
    u, v = rng.normal(size=150), rng.normal(2.0, 1.5, size=150)
    expected = scipy.stats.wasserstein_distance(u, v)
    for metric in ("euclidean", "cityblock"):
        assert wasserstein1(u[:, None], v[:, None], metric=metric) == pytest.approx(
            expected, rel=1e-9
        )


def test_wasserstein1_subsamples_beyond_cap(samples):
    X, Y = samples
    value = wasserstein1(X, Y, max_samples=50, random_state=0)
    assert value == wasserstein1(X, Y, max_samples=50, random_state=0)
    assert value > 0


def test_wasserstein1_rejects_unknown_metric(samples):
    with pytest.raises(ValueError, match="metric"):
        wasserstein1(*samples, metric="cosine")


def test_coverage_full_for_same_rows_and_zero_far_away(samples):
    X, _ = samples
    assert coverage(X, X) == 1.0
    assert coverage(X, X + 100.0) == 0.0


def test_coverage_counts_balls_hit():
    # Real rows on a line, spacing 1; with k=1 each radius is 1. One synthetic
    # point at 0.2 covers the rows at 0 and 1 only.
    real = np.arange(10.0)[:, None]
    assert coverage(real, np.array([[0.2]]), n_neighbors=1) == pytest.approx(0.2)


def test_coverage_validates_n_neighbors(samples):
    with pytest.raises(ValueError, match="n_neighbors"):
        coverage(samples[0][:5], samples[1], n_neighbors=5)


def test_c2st_auc_near_half_for_same_distribution_and_one_when_separated():
    rng = np.random.RandomState(0)
    X, Y = rng.normal(size=(400, 3)), rng.normal(size=(400, 3))
    assert abs(c2st_auc(X, Y, random_state=0) - 0.5) < 0.1
    assert c2st_auc(X, Y + 10.0, random_state=0) > 0.99
    # Shared rows push it well below 0.5 (as documented): copies, not a match.
    assert c2st_auc(X, X, random_state=0) < 0.1


def test_dcr_zero_for_copies_and_near_one_for_fresh_rows():
    rng = np.random.RandomState(0)
    train, holdout, fresh = (rng.normal(size=(500, 3)) for _ in range(3))
    assert dcr(train, train, holdout) == 0.0
    assert 0.8 < dcr(train, fresh, holdout) < 1.25


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda X, Y: energy_distance(X, Y, max_samples=0), "max_samples"),
        (lambda X, Y: mmd(X, Y, max_samples=2.5), "max_samples"),
        (lambda X, Y: sliced_wasserstein(X, Y, n_projections=0), "n_projections"),
        (lambda X, Y: sliced_wasserstein(X, Y, p=0), "p must be"),
    ],
)
def test_bad_metric_parameters_are_named(samples, call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call(*samples)


def test_metrics_reject_mismatched_features():
    with pytest.raises(ValueError, match="features"):
        energy_distance(np.ones((3, 2)), np.ones((3, 3)))


def test_metrics_reject_nan():
    X = np.array([[0.0, np.nan], [1.0, 1.0]])
    with pytest.raises(ValueError, match="NaN"):
        energy_distance(X, X)


def test_sample_report_keys_and_ranges():
    rng = np.random.RandomState(0)
    train, test = rng.normal(size=(200, 3)), rng.normal(size=(100, 3))
    synth = rng.normal(size=(150, 3))
    report = sample_report(train, test, synth)
    assert set(report) == {
        "energy_distance",
        "mmd",
        "sliced_wasserstein",
        "wasserstein1",
        "coverage",
        "c2st_auc",
        "dcr",
    }
    assert all(np.isfinite(v) for v in report.values())
    assert 0 <= report["coverage"] <= 1 and 0 <= report["c2st_auc"] <= 1
    # A copy of the training rows is flagged by dcr, fresh rows are not.
    assert sample_report(train, test, train)["dcr"] == 0.0
    assert report["dcr"] > 0.7


def test_sample_report_caps_the_neighbour_metrics_but_keeps_every_training_row():
    rng = np.random.RandomState(1)
    train, test = rng.normal(size=(600, 3)), rng.normal(size=(500, 3))
    synth = rng.normal(size=(500, 3))
    whole = sample_report(train, test, synth, max_samples=None)
    # A cap at the sizes themselves draws nothing: the same numbers.
    assert sample_report(train, test, synth, max_samples=600) == whole
    capped = sample_report(train, test, synth, max_samples=100)
    assert 0 <= capped["coverage"] <= 1
    # Estimates on 100-row subsets of the same laws: coverage within 0.15 of
    # the full value, dcr within 30% (both are ratios of medians or fractions).
    assert abs(capped["coverage"] - whole["coverage"]) < 0.15
    assert abs(capped["dcr"] / whole["dcr"] - 1) < 0.3
    # Copies of training rows beyond any subset are still found: the queries are
    # capped, the training rows never are.
    copies = train[rng.choice(600, size=500)]
    assert sample_report(train, test, copies, max_samples=50)["dcr"] == 0.0


def test_energy_distance_bounded_memory_on_large_input():
    # 100k x 50 against a small set: the chunked sum never materialises the
    # 100k x 100k matrix (that would need 80 GB).
    rng = np.random.RandomState(0)
    big = rng.normal(size=(100_000, 50)).astype(np.float64)
    value = float(
        mean_pairwise(torch.from_numpy(big), torch.from_numpy(big[:64]), lambda d: d)
    )
    assert np.isfinite(value) and value > 0


def test_sample_report_takes_a_mixed_table_as_it_is():
    # Text, missing values and dates go through a TabularEncoder fitted on the
    # training rows; a copy of the training rows has dcr 0.
    pd = pytest.importorskip("pandas")
    from skflow.metrics import sample_report

    n = 120

    def table(seed):
        r = np.random.default_rng(seed)
        return pd.DataFrame(
            {
                "x": np.where(r.random(n) < 0.2, np.nan, r.normal(size=n)),
                "city": r.choice(["a", "b", "c"], n),
                "day": pd.Timestamp("2024-01-01")
                + pd.to_timedelta(r.integers(0, 90, n), unit="D"),
            }
        )

    train, test = table(1), table(2)
    report = sample_report(train, test, table(3), random_state=0)
    assert all(np.isfinite(value) for value in report.values())
    copied = sample_report(train, test, train.sample(frac=1.0, random_state=0))
    assert copied["dcr"] == 0.0
