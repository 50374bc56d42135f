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


# --- Scale: every metric is correct from 1e-300 to 1e300 or refuses clearly ---

# Powers of ten, not of two: s * X then carries rounding, and the identities
# below must hold through it.
EXTREME_SCALES = [1e-300, 1e300]


@pytest.fixture(scope="module")
def three_sets():
    rng = np.random.RandomState(0)
    return (
        rng.normal(size=(120, 3)),
        rng.normal(size=(100, 3)) + 0.4,
        rng.normal(size=(80, 3)),
    )


def _median_heuristic(X, Y):
    from skflow.metrics._metrics import median_heuristic

    return median_heuristic(X, Y)


@pytest.mark.parametrize("s", [*EXTREME_SCALES, 1e-20])
@pytest.mark.parametrize(
    "metric, degree",
    [
        (energy_distance, 0.5),  # the square root of a mean distance
        (lambda X, Y: sliced_wasserstein(X, Y, random_state=0), 1.0),
        (lambda X, Y: sliced_wasserstein(X, Y, p=1, random_state=0), 1.0),
        (lambda X, Y: sliced_wasserstein(X, Y, p=7.5, random_state=0), 1.0),
        (wasserstein1, 1.0),
        (lambda X, Y: wasserstein1(X, Y, metric="cityblock"), 1.0),
        (_median_heuristic, 1.0),
    ],
    ids=["energy", "sw2", "sw1", "sw7.5", "w1", "w1-l1", "median"],
)
def test_distances_are_homogeneous_in_every_float64_range(
    metric, degree, s, three_sets
):
    X, Y, _ = three_sets
    value = metric(X, Y)
    assert value > 0
    # abs=0: pytest.approx's default absolute tolerance (1e-12) would pass a
    # value of 0 where 1e-150 is expected.
    expected = s**degree * value
    assert metric(s * X, s * Y) == pytest.approx(expected, rel=1e-6, abs=0)


@pytest.mark.parametrize("s", [1e-300, 1e-20, 1e300])
def test_wasserstein1_at_any_scale_matches_the_one_dimensional_formula(s):
    # POT's simplex alone is 30-47% off for costs below about 1e-20.
    rng = np.random.RandomState(0)
    u, v = rng.normal(size=120), rng.normal(1.0, 2.0, size=100)
    expected = s * scipy.stats.wasserstein_distance(u, v)
    assert wasserstein1(s * u[:, None], s * v[:, None]) == pytest.approx(
        expected, rel=1e-9, abs=0
    )


@pytest.mark.parametrize("s", EXTREME_SCALES)
@pytest.mark.parametrize(
    "metric",
    [
        mmd,
        coverage,
        lambda X, Y: c2st_auc(X, Y, random_state=0),
        lambda X, Y: dcr(X, Y, 1.5 * X[::2]),
        lambda X, Y: coverage(X, Y, metric="cosine"),
        lambda X, Y: dcr(X, Y, 1.5 * X[::2], metric="chebyshev"),
    ],
    ids=["mmd", "coverage", "c2st", "dcr", "coverage-cosine", "dcr-chebyshev"],
)
def test_scale_invariant_metrics_are_unchanged_by_any_scale(metric, s, three_sets):
    X, Y, _ = three_sets
    value = metric(X, Y)
    assert 0 < value < np.inf
    assert metric(s * X, s * Y) == pytest.approx(value, rel=1e-9)


@pytest.mark.parametrize("s", EXTREME_SCALES)
def test_mmd_with_a_bandwidth_scaled_with_the_data_is_unchanged(s):
    # Two single points at distance 5: MMD^2 = 2 - 2 exp(-25 / (2 h^2)).
    x, y, h = np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]]), 2.0
    expected = np.sqrt(2 - 2 * np.exp(-25.0 / (2 * h**2)))
    assert mmd(s * x, s * y, bandwidth=s * h) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("s", EXTREME_SCALES)
def test_sample_report_is_unchanged_by_any_scale(s, three_sets):
    train, synth, test = three_sets
    report = sample_report(train, test, synth, random_state=0)
    scaled = sample_report(s * train, s * test, s * synth, random_state=0)
    assert all(np.isfinite(v) for v in scaled.values())
    assert scaled == pytest.approx(report, rel=1e-6)


def test_sample_report_standardises_each_column_in_its_own_range():
    # Columns at 1e300 and 1e-300 side by side: each is standardised by its
    # own spread, so the report equals that of the unit-scale rows.
    rng = np.random.RandomState(0)
    train, test, synth = (rng.normal(size=(60, 2)) for _ in range(3))
    columns = np.array([1e300, 1e-300])
    report = sample_report(train, test, synth, random_state=0)
    mixed = sample_report(
        train * columns, test * columns, synth * columns, random_state=0
    )
    assert mixed == pytest.approx(report, rel=1e-6)


def test_sample_report_refuses_sets_beyond_float64_after_standardising():
    rng = np.random.RandomState(0)
    train, test, synth = (rng.normal(size=(40, 2)) for _ in range(3))
    with pytest.raises(ValueError, match="X_synth standardised .* float64"):
        sample_report(1e-300 * train, test, 1e300 * synth)


def test_energy_distance_of_two_points_near_float64_max_is_finite():
    # Single points a, b: E = sqrt(2 |a - b|), here 2.4e154 although |a - b|
    # itself (3e308) is beyond float64.
    a, b = np.array([[1.5e308]]), np.array([[-1.5e308]])
    assert energy_distance(a, b) == pytest.approx(np.sqrt(6.0) * 1e154, rel=1e-12)


@pytest.mark.parametrize("metric", [wasserstein1, sliced_wasserstein], ids=["w1", "sw"])
def test_distances_beyond_float64_raise_overflow_error(metric):
    a, b = np.array([[1.5e308]]), np.array([[-1.5e308]])
    with pytest.raises(OverflowError, match="beyond the largest float64"):
        metric(a, b)
    # Just inside the range the same call is the exact 1-D distance 3e307.
    assert metric(a / 10, b / 10) == pytest.approx(3e307, rel=1e-12)


def test_sliced_wasserstein_is_pots_value_with_the_same_directions(samples):
    X, Y = samples
    directions = ot.sliced.get_random_projections(4, 50, np.random.RandomState(3))
    expected = ot.sliced_wasserstein_distance(X, Y, projections=directions, p=3)
    value = sliced_wasserstein(X, Y, n_projections=50, p=3, random_state=3)
    assert value == pytest.approx(expected, rel=1e-12)


def test_sliced_wasserstein_blocks_do_not_change_the_value(samples):
    from skflow.metrics._metrics import _sliced_mean_power

    X, Y = samples
    directions = ot.sliced.get_random_projections(4, 30, np.random.RandomState(0))
    whole = _sliced_mean_power(X, Y, directions, 2.0)
    blocked = _sliced_mean_power(X, Y, directions, 2.0, block_entries=7)
    assert blocked == pytest.approx(whole, rel=1e-12)


# --- Parameters: numbers must be finite and in range, flags bools ---


@pytest.mark.parametrize(
    "bandwidth, error",
    [
        (np.inf, ValueError),
        (np.nan, ValueError),
        (-1.0, ValueError),
        (True, TypeError),
        ("1.0", TypeError),
    ],
)
def test_mmd_refuses_a_bandwidth_that_is_not_a_finite_positive_number(
    bandwidth, error, samples
):
    with pytest.raises(error, match="bandwidth must be a finite real number > 0"):
        mmd(*samples, bandwidth=bandwidth)


def test_mmd_refuses_a_kernel_that_underflows_for_every_pair_of_distinct_rows():
    # Two points at distance 1: k = exp(-1 / (2 h^2)) is about 1e-196 at
    # h = 1/30 (kept), and underflows to 0 at h = 1/40 (refused).
    x, y = np.array([[0.0]]), np.array([[1.0]])
    h = 1 / 30
    assert mmd(x, y, bandwidth=h) == pytest.approx(
        np.sqrt(2 - 2 * np.exp(-0.5 / h**2)), rel=1e-12
    )
    for tiny in (1 / 40, 1e-300):
        with pytest.raises(ValueError, match="underflows to 0 for every pair"):
            mmd(x, y, bandwidth=tiny)
    # Identical rows only: nothing to underflow, the MMD is 0.
    assert mmd(x, x, bandwidth=1e-300) == 0.0


def test_mmd_refuses_a_kernel_that_is_one_for_every_pair(samples):
    with pytest.raises(ValueError, match="rounding noise"):
        mmd(*samples, bandwidth=1e12)


@pytest.mark.parametrize(
    "p, error",
    [
        (1e300, ValueError),
        (np.inf, ValueError),
        (np.nan, ValueError),
        (0.5, ValueError),
        (101, ValueError),
        (True, TypeError),
        ("2", TypeError),
    ],
)
def test_sliced_wasserstein_refuses_p_outside_one_to_a_hundred(p, error, samples):
    with pytest.raises(error, match=r"p must be a finite real number in \[1, 100\]"):
        sliced_wasserstein(*samples, p=p)


def test_sliced_wasserstein_refuses_powers_that_underflow():
    # Projected differences of about 1e-10 of the scale: their 100th powers
    # (1e-1000) are below float64; p = 2 keeps them.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(50, 2))
    with pytest.raises(ValueError, match="underflow float64; lower p"):
        sliced_wasserstein(X, X + 1e-10, p=100, random_state=0)
    assert sliced_wasserstein(X, X + 1e-10, p=2, random_state=0) > 0
    # The same rows in another order are at distance 0 for any p.
    assert sliced_wasserstein(X, X[::-1], p=100, random_state=0) == 0.0


@pytest.mark.parametrize("make", ["regressor", "clusterer", "transformer"])
def test_c2st_auc_refuses_an_estimator_that_is_not_a_classifier(make, samples):
    from sklearn.cluster import KMeans
    from sklearn.linear_model import LinearRegression
    from sklearn.preprocessing import StandardScaler

    estimator = {
        "regressor": LinearRegression(),
        "clusterer": KMeans(n_clusters=2, n_init=1),
        "transformer": StandardScaler(),
    }[make]
    with pytest.raises(TypeError, match="classifier must be a scikit-learn"):
        c2st_auc(*samples, classifier=estimator)


def test_c2st_auc_takes_a_classifier_pipeline(samples):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, Y = samples
    pipeline = make_pipeline(StandardScaler(), LogisticRegression())
    # A mean shift of 0.5 per feature: the classifier sees it, but not always.
    assert 0.5 < c2st_auc(X, Y, classifier=pipeline, random_state=0) < 1.0


@pytest.mark.parametrize(
    "cv, error, match",
    [
        (0, ValueError, "cv must be an integer >= 2"),
        (1, ValueError, "cv must be an integer >= 2"),
        (2.5, TypeError, "cv must be an integer >= 2"),
        (True, TypeError, "cv must be an integer >= 2"),
        (400, ValueError, "at least 400 rows in each set"),
    ],
)
def test_c2st_auc_validates_cv(cv, error, match, samples):
    with pytest.raises(error, match=match):
        c2st_auc(*samples, cv=cv)


@pytest.mark.parametrize(
    "quantile, error",
    [(0.0, ValueError), (1.0, ValueError), (np.nan, ValueError), (True, TypeError)],
)
def test_dcr_validates_quantile(quantile, error, samples):
    X, Y = samples
    with pytest.raises(error, match=r"quantile must be a finite real number in \(0"):
        dcr(X, Y, X[:10], quantile=quantile)


@pytest.mark.parametrize("n_neighbors", [2.0, True, "3", 0])
def test_coverage_validates_n_neighbors_type(n_neighbors, samples):
    with pytest.raises((TypeError, ValueError), match="n_neighbors must be"):
        coverage(*samples, n_neighbors=n_neighbors)


@pytest.mark.parametrize("standardize", ["yes", 1, 0, None])
def test_sample_report_validates_standardize(standardize, three_sets):
    train, synth, test = three_sets
    with pytest.raises(TypeError, match="standardize must be True or False"):
        sample_report(train, test, synth, standardize=standardize)


@pytest.mark.parametrize("max_samples", [1, 0, 2.5])
def test_sample_report_names_max_samples(max_samples, three_sets):
    train, synth, test = three_sets
    with pytest.raises((TypeError, ValueError), match="max_samples must be an int"):
        sample_report(train, test, synth, max_samples=max_samples)
    # The smallest cap that works.
    assert 0 <= sample_report(train, test, synth, max_samples=2)["coverage"] <= 1


@pytest.mark.parametrize(
    "metric",
    [
        energy_distance,
        mmd,
        sliced_wasserstein,
        wasserstein1,
        coverage,
        c2st_auc,
        lambda X, Y: dcr(X, Y, X),
        lambda X, Y: sample_report(X, X, Y),
    ],
    ids=["energy", "mmd", "sw", "w1", "coverage", "c2st", "dcr", "report"],
)
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_every_metric_refuses_non_finite_values_naming_the_set(metric, bad, samples):
    X, Y = samples
    Y = Y.copy()
    Y[3, 1] = bad
    with pytest.raises(ValueError, match=r"(Y|X_synth) contains (NaN|infinity)"):
        metric(X, Y)


def test_coverage_and_dcr_give_other_metrics_the_rows_as_given():
    # A callable metric need not be homogeneous (|x - y| + 1 is not): rescaling
    # the rows would change which balls hold a synthetic row, so it sees them
    # unscaled and the value is the one computed by hand.
    from sklearn.neighbors import NearestNeighbors

    def shifted(a, b):
        return float(np.abs(a - b).sum()) + 1.0

    rng = np.random.RandomState(0)
    real, synth = rng.normal(size=(25, 2)) * 8.0, rng.normal(size=(20, 2)) * 8.0
    radii = (
        NearestNeighbors(n_neighbors=3, metric=shifted)
        .fit(real)
        .kneighbors(real)[0][:, -1]
    )
    nearest = (
        NearestNeighbors(n_neighbors=1, metric=shifted)
        .fit(synth)
        .kneighbors(real)[0][:, 0]
    )
    assert coverage(real, synth, n_neighbors=2, metric=shifted) == np.mean(
        nearest <= radii
    )
    to_train = NearestNeighbors(n_neighbors=1, metric=shifted).fit(real)
    expected = np.median(to_train.kneighbors(synth)[0][:, 0]) / np.median(
        to_train.kneighbors(real[::2] * 1.5)[0][:, 0]
    )
    assert dcr(real, synth, real[::2] * 1.5, metric=shifted) == pytest.approx(
        expected, rel=1e-12
    )
