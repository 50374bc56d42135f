"""Conditional generation: closed forms, every family, tables, bad conditions."""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import norm
from sklearn.mixture import GaussianMixture

from skflow import (
    ClassConditionalSampler,
    EntropicOTGenerator,
    LipschitzParticleSampler,
    ProximalMFGFlow,
    SlicedWassersteinFlow,
    TabularEncoder,
    make_generative_pipeline,
)
from skflow._conditional import gaussian_mixture_conditional, latent_conditional_draw
from skflow._testing import fast_samplers
from skflow.auto import GaussianMixtureSampler

# A correlated Gaussian and its conditional given x0 = 1 (closed form).
LOWER = np.array([[1.0, 0.0, 0.0], [0.8, 0.6, 0.0], [0.5, 0.3, 0.8]])
COVARIANCE = LOWER @ LOWER.T
GIVEN = 1.0
EXACT_MEAN = COVARIANCE[1:, 0] / COVARIANCE[0, 0] * GIVEN
EXACT_COVARIANCE = COVARIANCE[1:, 1:] - np.outer(COVARIANCE[1:, 0], COVARIANCE[0, 1:])


def _gaussian_rows(n=3000, seed=0):
    return np.random.RandomState(seed).randn(n, 3) @ LOWER.T


def test_latent_chains_reach_a_linear_models_exact_conditional():
    # g(z) = A z is N(0, A A^T): the chains' rows must have its conditional.
    A = torch.tensor(LOWER, dtype=torch.float64)
    targets = torch.full((4000, 3), float("nan"), dtype=torch.float64)
    targets[:, 0] = GIVEN
    draw = latent_conditional_draw(
        lambda z: z @ A.T, 3, targets, torch.Generator().manual_seed(0)
    )
    rows = draw.rows.numpy()
    assert np.all(rows[:, 0] == GIVEN)
    # Standard errors at 4000 rows are about 0.015; kernel bias is ~0.03^2.
    np.testing.assert_allclose(rows[:, 1:].mean(axis=0), EXACT_MEAN, atol=0.05)
    np.testing.assert_allclose(np.cov(rows[:, 1:].T), EXACT_COVARIANCE, atol=0.05)
    assert 0.4 < draw.acceptance_rate < 0.75


def test_mixture_conditional_is_exact_on_a_bimodal_mixture():
    means = torch.tensor([[-1.5, -1.5], [1.5, 1.5]], dtype=torch.float64)
    covariance = torch.tensor([[0.5, 0.3], [0.3, 0.5]], dtype=torch.float64)
    weights = torch.tensor([0.5, 0.5], dtype=torch.float64)
    targets = torch.full((20000, 2), float("nan"), dtype=torch.float64)
    targets[:, 0] = 0.5
    rows = gaussian_mixture_conditional(
        weights,
        means,
        covariance.expand(2, 2, 2),
        targets,
        torch.Generator().manual_seed(0),
    ).rows.numpy()
    w = norm.pdf(0.5, [-1.5, 1.5], np.sqrt(0.5))
    w /= w.sum()
    component_means = np.array([-1.5, 1.5]) + 0.6 * (0.5 - np.array([-1.5, 1.5]))
    exact = w @ component_means
    exact_var = w @ (0.32 + component_means**2) - exact**2
    assert abs(rows[:, 1].mean() - exact) < 0.03
    assert abs(rows[:, 1].var() - exact_var) < 0.03


@pytest.mark.parametrize(
    "sampler",
    [
        GaussianMixtureSampler(random_state=0),
        SlicedWassersteinFlow(max_iter=60, random_state=0),
        LipschitzParticleSampler(random_state=0),
        EntropicOTGenerator(max_iter=300, random_state=0),
        ProximalMFGFlow(max_iter=150, random_state=0),
    ],
    ids=lambda s: type(s).__name__,
)
def test_every_family_draws_the_gaussian_conditional(sampler):
    # Columns on very different scales: conditions are in the input units.
    scale = np.array([10.0, 1.0, 0.1])
    X = _gaussian_rows() * scale + np.array([100.0, 0.0, 5.0])
    sampler.fit(X)
    rows = sampler.sample(1500, conditions={0: 100.0 + 10.0 * GIVEN}, random_state=1)
    assert np.all(rows[:, 0] == 110.0)
    standardised = (rows[:, 1:] - np.array([0.0, 5.0])) / scale[1:]
    # The unconditioned mean is 0: a tolerance of 0.15 spreads (model error
    # of a short fit included) separates it from the conditional (0.8, 0.5).
    np.testing.assert_allclose(standardised.mean(axis=0), EXACT_MEAN, atol=0.15)
    np.testing.assert_allclose(
        standardised.std(axis=0), np.sqrt(np.diag(EXACT_COVARIANCE)), rtol=0.3
    )
    report = sampler.conditional_report_
    assert report["method"] in ("exact", "latent MCMC", "pinned transport", "rejection")
    assert 0 < report["acceptance_rate"] <= 1


@pytest.mark.parametrize("sampler", fast_samplers(), ids=lambda s: type(s).__name__)
def test_conditions_by_range_and_partial_rows_on_every_sampler(sampler):
    X = _gaussian_rows(600)
    sampler.fit(X)
    rows = sampler.sample(50, conditions={1: (0.0, None)}, random_state=0)
    assert rows.shape == (50, 3) and np.all(rows[:, 1] >= 0)
    partial = np.full((4, 3), np.nan)
    partial[:, 2] = [-1.0, 0.0, 0.5, 1.0]
    partial[0, 0] = 0.3
    completed = sampler.sample(conditions=partial, random_state=0)
    assert completed.shape == (4, 3) and np.isfinite(completed).all()
    np.testing.assert_array_equal(completed[:, 2], partial[:, 2])
    assert completed[0, 0] == 0.3
    again = sampler.sample(conditions=partial, random_state=0)
    np.testing.assert_array_equal(completed, again)


def test_dataframe_sampler_takes_conditions_by_name():
    X = pd.DataFrame(_gaussian_rows(800), columns=["a", "b", "c"])
    sampler = GaussianMixtureSampler(random_state=0).fit(X)
    rows = sampler.sample(20, conditions={"a": 0.5}, random_state=0)
    assert list(rows.columns) == ["a", "b", "c"] and (rows["a"] == 0.5).all()


def _table(n=1500, seed=0):
    rng = np.random.RandomState(seed)
    region = rng.choice(["north", "south", "east"], n, p=[0.5, 0.3, 0.2])
    age = (rng.gamma(4, 10, n) + 18).round(1)
    income = np.where(region == "north", 50.0, 30.0) * (1 + age / 100) + rng.randn(n)
    income[rng.rand(n) < 0.1] = np.nan
    when = pd.Timestamp("2020-01-01") + pd.to_timedelta(
        rng.randint(0, 700, n), unit="D"
    )
    return pd.DataFrame(
        {
            "region": region,
            "age": age,
            "income": income,
            "when": when,
            "flag": rng.rand(n) < 0.3,
        }
    )


def test_pipeline_conditions_in_the_tables_terms():
    table = _table()
    pipeline = make_generative_pipeline(
        TabularEncoder(), GaussianMixtureSampler(random_state=0)
    ).fit(table)
    rows = pipeline.sample(
        300, conditions={"region": "north", "age": (30, 40)}, random_state=0
    )
    assert (rows["region"] == "north").all()
    assert rows["age"].between(30, 40).all()
    assert (rows.dtypes == table.dtypes).all()
    real = table[(table.region == "north") & table.age.between(30, 40)]
    # North's incomes are 50 (1 + age/100): about 67.5 here, 45 in the south.
    assert abs(rows["income"].mean() - real["income"].mean()) < 2.0
    assert pipeline.conditional_report_["method"] == "exact"
    day = pd.Timestamp("2020-06-01")
    assert (
        pipeline.sample(5, conditions={"when": day}, random_state=0)["when"] == day
    ).all()
    partial = table.head(6).copy()
    partial["income"] = np.nan
    partial.loc[0, "region"] = None
    completed = pipeline.sample(conditions=partial, random_state=0)
    assert len(completed) == 6
    pd.testing.assert_series_equal(completed["age"], partial["age"])
    assert (completed["region"][1:] == partial["region"][1:]).all()


def test_pipeline_behind_other_transformers_uses_rejection():
    from sklearn.preprocessing import StandardScaler

    X = _gaussian_rows(1000)
    pipeline = make_generative_pipeline(
        StandardScaler(), GaussianMixtureSampler(random_state=0)
    ).fit(X)
    rows = pipeline.sample(200, conditions={0: GIVEN}, random_state=0)
    assert np.all(rows[:, 0] == GIVEN)
    assert abs(rows[:, 1].mean() - EXACT_MEAN[0]) < 0.15
    report = pipeline.conditional_report_
    assert report["method"] == "rejection" and report["acceptance_rate"] < 0.5


@pytest.mark.parametrize(
    "conditions, message",
    [
        ({"region": "west"}, "never seen"),
        ({"age": 500.0}, "outside"),
        ({"age": (300, 400)}, "misses"),
        ({"age": (40, 30)}, "low end"),
        ({"nope": 1}, "no column"),
        ({}, "empty"),
        ({"age": np.nan}, "missing value"),
        ({"region": ["north", "south", "east"]}, "one value"),
        ({"region": ("north", "south")}, "not numeric"),
    ],
)
def test_improbable_or_malformed_conditions_raise(conditions, message):
    pipeline = make_generative_pipeline(
        TabularEncoder(), GaussianMixtureSampler(random_state=0)
    ).fit(_table(400))
    with pytest.raises(ValueError, match=message):
        pipeline.sample(5, conditions=conditions)


def test_conditions_of_the_wrong_kind_for_integer_and_boolean_columns_raise():
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {
            "count": rng.integers(0, 5, 200),
            "flag": rng.random(200) < 0.5,
            "x": rng.normal(size=200),
        }
    )
    pipeline = make_generative_pipeline(
        TabularEncoder(), GaussianMixtureSampler(random_state=0)
    ).fit(table)
    with pytest.raises(ValueError, match="'count' \\(.*2.5.*\\) is not a whole"):
        pipeline.sample(5, conditions={"count": 2.5})
    with pytest.raises(ValueError, match="'flag' \\(3\\) is not a boolean"):
        pipeline.sample(5, conditions={"flag": 3})
    rows = pipeline.sample(5, conditions={"count": 2, "flag": True}, random_state=0)
    assert (rows["count"] == 2).all() and rows["flag"].all()
    assert (rows.dtypes == table.dtypes).all()


def test_sampler_conditions_outside_the_data_raise():
    sampler = GaussianMixtureSampler(random_state=0).fit(_gaussian_rows(500))
    with pytest.raises(ValueError, match="outside the range"):
        sampler.sample(3, conditions={0: 50.0})
    with pytest.raises(ValueError, match="partial rows"):
        sampler.sample(3, conditions=np.full((5, 3), np.nan))
    with pytest.raises(ValueError, match="shape"):
        sampler.sample(conditions=np.zeros((2, 5)))


def test_rejection_reports_near_impossible_conditions():
    from skflow._conditions import ImprobableConditionError

    sampler = SlicedWassersteinFlow(
        parameterization="particles", max_iter=20, random_state=0
    ).fit(_gaussian_rows(500))
    assert sampler._conditional_method == "rejection"
    # Five exact values far in the tails together: no particle comes close.
    with pytest.raises(ImprobableConditionError, match="zero probability"):
        sampler.sample(10, conditions={0: 2.5, 1: -2.0, 2: 2.4})


# ---------------------------------------------------------------- by class
def _two_class_table(n_per_class=400, seed=0):
    """b = 0.8 a + 3 y + noise of sd 0.6: within class y, b | a = 1 has mean
    0.8 + 3 y and sd 0.6."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n_per_class)
    a = rng.normal(size=2 * n_per_class)
    b = 0.8 * a + 3.0 * y + 0.6 * rng.normal(size=2 * n_per_class)
    return pd.DataFrame({"a": a, "b": b}), y


def test_class_conditional_sampler_draws_each_class_under_the_condition():
    X, y = _two_class_table()
    fitted = ClassConditionalSampler(
        GaussianMixtureSampler(random_state=0), random_state=0
    ).fit(X, y)
    labels = np.repeat([0, 1], 1000)
    rows, y_new = fitted.sample(y=labels, conditions={"a": 1.0})
    np.testing.assert_array_equal(y_new, labels)
    assert (rows["a"] == 1.0).all()
    for label in (0, 1):
        b = rows["b"][y_new == label]
        # Exact conditionals of the fitted mixtures; the tolerances cover the
        # fit on 400 rows (sd 0.6 / sqrt(400) = 0.03 for the mean).
        assert abs(b.mean() - (0.8 + 3.0 * label)) < 0.15
        assert abs(b.std() - 0.6) < 0.6 * 0.2
    assert set(fitted.conditional_report_) == {0, 1}
    assert fitted.conditional_report_[1]["method"] == "exact"


def test_class_conditional_sampler_takes_one_partial_row_per_label():
    X, y = _two_class_table()
    fitted = ClassConditionalSampler(
        GaussianMixtureSampler(random_state=0), random_state=0
    ).fit(X, y)
    partial = pd.DataFrame({"a": [1.0, np.nan, 0.0], "b": [np.nan, 3.0, np.nan]})
    rows, y_new = fitted.sample(y=[0, 1, 1], conditions=partial)
    np.testing.assert_array_equal(y_new, [0, 1, 1])
    assert rows.loc[0, "a"] == 1.0 and rows.loc[1, "b"] == 3.0
    assert rows.loc[2, "a"] == 0.0 and np.isfinite(rows.to_numpy()).all()
    with pytest.raises(ValueError, match="one partial row per label"):
        fitted.sample(y=[0, 1], conditions=partial)


def test_class_conditional_sampler_needs_labels_and_a_conditional_sampler():
    X, y = _two_class_table()
    fitted = ClassConditionalSampler(
        GaussianMixtureSampler(random_state=0), random_state=0
    ).fit(X, y)
    with pytest.raises(ValueError, match="conditions need y"):
        fitted.sample(10, conditions={"a": 1.0})
    plain = ClassConditionalSampler(GaussianMixture(2, random_state=0)).fit(
        X.to_numpy(), y
    )
    with pytest.raises(TypeError, match="takes no conditions"):
        plain.sample(y=[0, 1], conditions={0: 1.0})
