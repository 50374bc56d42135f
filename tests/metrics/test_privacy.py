"""privacy_report: copies and overfitted samplers score risky, fresh rows safe.

Tolerances come from the sample sizes, not from a run. Without leakage an AUC
of ``m`` members against ``m`` non-members has standard deviation
``sqrt((2m + 1) / (12 m^2))`` (Mann-Whitney under the null); the tests allow
four of them. A share ``p`` over ``n`` rows has ``sqrt(p (1 - p) / n)``.
"""

import numpy as np
import pytest
from sklearn.neighbors import KernelDensity

from skflow.metrics import privacy_report, sample_report

N = 400


def auc_tolerance(m):
    """Four standard deviations of a null AUC with ``m`` rows per group."""
    return 4 * np.sqrt((2 * m + 1) / (12 * m**2))


def gaussian_rows(rng, n, d=4):
    # Correlated columns on different scales: the report standardises them.
    X = rng.normal(size=(n, d))
    X[:, 1] += X[:, 0]
    return X * np.array([1.0, 100.0, 0.01, 5.0])[:d]


@pytest.fixture(scope="module")
def sets():
    rng = np.random.RandomState(0)
    return gaussian_rows(rng, N), gaussian_rows(rng, N), gaussian_rows(rng, N)


def test_copy_baseline_scores_risky(sets):
    train, holdout, _ = sets
    copies = train[np.random.RandomState(1).permutation(N)]
    report = privacy_report(train, holdout, copies)
    assert report["mia_distance_auc"] > 0.9
    assert report["mia_density_auc"] > 0.9
    assert report["mia_distance_advantage"] > 0.8
    assert report["exact_copy_share"] == 1.0
    assert report["exact_copy_holdout"] == 0.0
    assert report["near_copy_share"] == 1.0
    assert report["singling_out_risk"] > 0.5
    assert report["dcr"] == 0.0


@pytest.mark.parametrize("seed", [0, 1])
def test_fresh_rows_score_safe(seed, sets):
    # Synthetic rows independent of the training rows: members and
    # non-members are exchangeable for every attack.
    train, holdout, _ = sets
    fresh = gaussian_rows(np.random.RandomState(10 + seed), N)
    report = privacy_report(train, holdout, fresh, random_state=seed)
    assert abs(report["mia_distance_auc"] - 0.5) <= auc_tolerance(N)
    assert abs(report["mia_density_auc"] - 0.5) <= auc_tolerance(N // 2)
    # The advantage is a Kolmogorov-Smirnov distance: about 0.87 sqrt(2 / m)
    # under the null, well under 3 times that.
    assert report["mia_distance_advantage"] < 3 * 0.87 * np.sqrt(2 / N)
    assert report["exact_copy_share"] == 0.0
    # Both singling-out rates are about near_quantile = 0.05 over N queries.
    assert abs(report["singling_out_risk"]) <= 4 * np.sqrt(2 * 0.05 * 0.95 / N)
    assert report["near_copy_share"] <= 0.05 + 4 * np.sqrt(0.05 * 0.95 / N)
    assert 0.7 < report["dcr"] < 1.4


@pytest.mark.parametrize(
    "overfit",
    [
        pytest.param(
            lambda X, rng: X + 0.02 * X.std(0) * rng.normal(size=X.shape),
            id="jittered-copies",
        ),
        pytest.param(
            lambda X, rng: (
                X.std(0)
                * KernelDensity(bandwidth=0.1)
                .fit(X / X.std(0))
                .sample(len(X), random_state=rng)
            ),
            id="narrow-kde",
        ),
    ],
)
def test_overfitted_sampler_scores_risky(overfit, sets):
    # No row is an exact copy, so only the attacks can tell.
    train, holdout, _ = sets
    synthetic = overfit(train, np.random.RandomState(2))
    report = privacy_report(train, holdout, synthetic)
    assert report["exact_copy_share"] == 0.0
    assert report["mia_distance_auc"] > 0.7
    assert report["mia_density_auc"] > 0.65
    assert report["singling_out_risk"] > 0.3
    assert report["near_copy_share"] > 0.5 > report["near_copy_holdout"]
    assert report["dcr"] < 0.5


def test_attribute_inference_tells_a_copied_column_from_an_independent_one():
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(3)

    def table(n):
        return pd.DataFrame(
            {
                "x": rng.normal(size=n),
                "y": rng.normal(size=n),
                "z": rng.normal(size=n),
                # Independent of the quasi-identifiers: nothing to learn about
                # the population, so only a leak helps the attacker.
                "disease": rng.choice(["a", "b", "c", "d", "e"], n),
                "income": rng.lognormal(size=n).round(2),
                "noise": rng.choice(["a", "b", "c", "d", "e"], n),
                "score": rng.normal(size=n),
            }
        )

    train, holdout, fresh = table(N), table(N), table(N)
    synthetic = fresh.copy()
    # Quasi-identifiers near the training rows', the leaked columns copied
    # from the same rows, the others drawn afresh.
    synthetic[["x", "y", "z"]] = train[["x", "y", "z"]] + 0.05 * rng.normal(size=(N, 3))
    synthetic[["disease", "income"]] = train[["disease", "income"]]
    report = privacy_report(
        train,
        holdout,
        synthetic,
        sensitive=["disease", "income", "noise", "score"],
        quasi_identifiers=["x", "y", "z"],
    )
    # Leaked: about every member guessed, about chance for the control.
    assert report["attribute_rate_disease"] > 0.9
    assert abs(report["attribute_holdout_disease"] - 0.2) < 4 * np.sqrt(0.16 / N)
    assert report["attribute_risk_disease"] > 0.6
    assert report["attribute_risk_income"] > 0.6
    # Independent: members and control are guessed at the same (chance) rate.
    bound = 4 * np.sqrt(2 * 0.25 / N)
    assert abs(report["attribute_risk_noise"]) < bound
    assert abs(report["attribute_risk_score"]) < bound
    assert report["attribute_risk"] == max(
        report[f"attribute_risk_{c}"] for c in ("disease", "income", "noise", "score")
    )


def test_mixed_dataframe_as_it_is():
    # Text, categorical, date, boolean and missing values go through a
    # TabularEncoder; a row key (fresh ids in the synthetic rows) is left out
    # of the exact comparison, so copies with new ids are still copies.
    pd = pytest.importorskip("pandas")

    def table(n, seed):
        rng = np.random.RandomState(seed)
        return pd.DataFrame(
            {
                "id": [f"P-{seed}-{i:04d}" for i in range(n)],
                "age": rng.randint(18, 90, n),
                "income": np.where(rng.rand(n) < 0.1, np.nan, rng.lognormal(size=n)),
                "city": pd.Categorical(rng.choice(["Oslo", "Lima", "Pune"], n)),
                "day": pd.Timestamp("2020-01-01")
                + pd.to_timedelta(rng.randint(0, 300, n), unit="D"),
                "smoker": rng.rand(n) < 0.3,
            }
        )

    train, holdout = table(300, 1), table(300, 2)
    copies = train.sample(frac=1.0, random_state=0).assign(
        id=[f"Q{i}" for i in range(300)]
    )
    copied = privacy_report(train, holdout, copies, sensitive="smoker")
    assert copied["exact_copy_share"] == 1.0
    assert copied["mia_distance_auc"] > 0.9
    assert copied["attribute_rate_smoker"] > 0.95
    fresh = privacy_report(train, holdout, table(300, 3), sensitive=["smoker"])
    assert fresh["exact_copy_share"] == 0.0
    assert abs(fresh["mia_distance_auc"] - 0.5) <= auc_tolerance(300)
    assert abs(fresh["attribute_risk_smoker"]) < 4 * np.sqrt(2 * 0.25 / 300)


def test_exact_copies_of_a_discrete_table_have_the_holdout_baseline():
    # Two binary columns: every possible row is in the training rows, so fresh
    # rows "copy" as often as held-out rows do; read the share against it.
    rng = np.random.RandomState(4)
    train, holdout, fresh = (rng.randint(0, 2, size=(200, 2)) for _ in range(3))
    report = privacy_report(train, holdout, fresh)
    assert report["exact_copy_share"] == report["exact_copy_holdout"] == 1.0
    assert abs(report["mia_distance_auc"] - 0.5) <= auc_tolerance(200)


def test_array_and_numeric_dataframe_give_the_same_report(sets):
    pd = pytest.importorskip("pandas")
    train, holdout, synthetic = sets
    names = ["a", "b", "c", "d"]
    frames = [pd.DataFrame(X, columns=names) for X in sets]
    expected = privacy_report(train, holdout, synthetic, sensitive=[1])
    report = privacy_report(*frames, sensitive=["b"])
    renamed = {k.replace("_b", "_1"): v for k, v in report.items()}
    assert renamed == pytest.approx(expected)
    # Columns are matched by name, not position.
    shuffled = frames[2][names[::-1]]
    assert privacy_report(frames[0], frames[1], shuffled) == pytest.approx(
        privacy_report(train, holdout, synthetic)
    )


def test_keys_and_reproducibility(sets):
    train, holdout, synthetic = sets
    report = privacy_report(train, holdout, synthetic)
    assert list(report) == [
        "mia_distance_auc",
        "mia_distance_advantage",
        "mia_density_auc",
        "mia_density_advantage",
        "singling_out_rate",
        "singling_out_holdout",
        "singling_out_risk",
        "exact_copy_share",
        "exact_copy_holdout",
        "near_copy_share",
        "near_copy_holdout",
        "dcr",
    ]
    assert all(isinstance(value, float) for value in report.values())
    assert privacy_report(train, holdout, synthetic) == report
    with_attribute = privacy_report(train, holdout, synthetic, sensitive=2)
    assert set(with_attribute) - set(report) == {
        "attribute_rate_2",
        "attribute_holdout_2",
        "attribute_risk_2",
        "attribute_risk",
    }


def test_max_samples_caps_the_queries_but_every_copy_is_found(sets):
    # The searches hold every synthetic row: a copied member is found even
    # when only a few rows are evaluated.
    train, holdout, _ = sets
    report = privacy_report(train, holdout, train, max_samples=50)
    assert report["mia_distance_auc"] > 0.9
    assert report["exact_copy_share"] == 1.0
    assert report["near_copy_share"] == 1.0


def test_sample_report_adds_the_privacy_keys_on_request(sets):
    train, holdout, synthetic = sets
    plain = sample_report(train, holdout, synthetic)
    assert not any(key.startswith("privacy_") for key in plain)
    both = sample_report(train, holdout, synthetic, privacy=True)
    audit = privacy_report(train, holdout, synthetic)
    assert {k: v for k, v in both.items() if k in plain} == plain
    assert {k: v for k, v in both.items() if k not in plain} == {
        f"privacy_{k}": v for k, v in audit.items()
    }


def test_sample_report_passes_privacy_options_on(sets):
    train, holdout, synthetic = sets
    both = sample_report(train, holdout, synthetic, privacy={"sensitive": [1]})
    audit = privacy_report(train, holdout, synthetic, sensitive=[1])
    assert any(key.startswith("attribute_") for key in audit)
    assert {k: v for k, v in both.items() if k.startswith("privacy_")} == {
        f"privacy_{k}": v for k, v in audit.items()
    }
    with pytest.raises(ValueError, match=r"unknown options \['max_samples'\]"):
        sample_report(train, holdout, synthetic, privacy={"max_samples": 10})
    with pytest.raises(TypeError, match="True, False or a dict"):
        sample_report(train, holdout, synthetic, privacy="yes")


def test_errors_name_the_problem_and_the_remedy(sets):
    pd = pytest.importorskip("pandas")
    train, holdout, synthetic = sets
    with pytest.raises(ValueError, match=r"at least 4 rows .* got 3 holdout rows"):
        privacy_report(train, holdout[:3], synthetic)
    with pytest.raises(ValueError, match="synthetic has 3 columns but train has 4"):
        privacy_report(train, holdout, synthetic[:, :3])
    with pytest.raises(ValueError, match="holdout.*NaN"):
        privacy_report(train, np.where(holdout > 1, np.nan, holdout), synthetic)
    frames = [pd.DataFrame(X, columns=list("abcd")) for X in sets]
    other = frames[2].rename(columns={"d": "e"})
    with pytest.raises(ValueError, match="different columns"):
        privacy_report(frames[0], frames[1], other)
    with pytest.raises(ValueError, match=r"train does not have: \['income'\]"):
        privacy_report(*frames, sensitive=["a", "income"])
    with pytest.raises(ValueError, match="by position"):
        privacy_report(train, holdout, synthetic, sensitive="a")
    with pytest.raises(ValueError, match=r"does not have: \[7\]"):
        privacy_report(train, holdout, synthetic, sensitive=[7])
    with pytest.raises(ValueError, match="both sensitive and quasi-identifiers"):
        privacy_report(*frames, sensitive=["a"], quasi_identifiers=["a", "b"])
    with pytest.raises(ValueError, match="No quasi-identifier is left"):
        privacy_report(*frames, sensitive=list("abcd"))
    with pytest.raises(ValueError, match="near_quantile"):
        privacy_report(train, holdout, synthetic, near_quantile=1.0)
    with pytest.raises(ValueError, match="numeric_tolerance"):
        privacy_report(train, holdout, synthetic, numeric_tolerance=-0.1)
    with pytest.raises(ValueError, match="max_samples must be an integer >= 4"):
        privacy_report(train, holdout, synthetic, max_samples=3)
    with pytest.raises(ValueError, match="DataFrame of 4 columns"):
        privacy_report(frames[0], frames[1], synthetic[:, :2])
