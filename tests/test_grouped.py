"""GroupedSampler: one sampler per group of rows, groups given by columns.

The sampler contract runs over it (with numeric group keys, every group below
``min_group_size``, so the pooled model is what the checks exercise); the tests
below check the grouping itself: rows of each group follow that group, group
columns and dtypes come back, proportions follow the largest-remainder rule,
the small-group rules, equality with ClassConditionalSampler for one column,
fits over a Dask cluster through joblib, and skflow.save/load.
"""

import warnings

import joblib
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from skflow import ClassConditionalSampler, GroupedSampler, load, save
from skflow._testing import fast_flow
from skflow.utils.estimator_checks import parametrize_with_checks

pd = pytest.importorskip("pandas")


@pytest.fixture(autouse=True)
def _quiet():
    # The fast settings stop long before convergence on purpose; the checks'
    # data puts every row in its own group, which fit reports as pooled.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=".*small_groups='pool'")
        yield


@parametrize_with_checks(
    [GroupedSampler(fast_flow(), by=0, random_state=0)], sklearn_checks=False
)
def test_grouped_sampler_keeps_the_contract(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def shops():
    """Three regions x two years with well-separated means; one tiny group."""
    rng = np.random.RandomState(0)
    regions = np.repeat(["north", "south", "west"], [90, 60, 30])
    years = np.tile([2023, 2024], 90)
    centre = {"north": 0.0, "south": 10.0, "west": 20.0}
    sales = np.array([centre[r] for r in regions]) + 0.5 * (years - 2023)
    frame = pd.DataFrame(
        {
            "sales": sales + rng.normal(scale=0.3, size=len(regions)),
            "region": pd.Categorical(regions),
            "staff": rng.poisson(5, len(regions)).astype(np.int64),
            "year": years,
        }
    )
    tiny = pd.DataFrame(
        {
            "sales": [40.0, 41.0, 39.5],
            "region": pd.Categorical(["east"] * 3, categories=["east"]),
            "staff": [3, 4, 5],
            "year": [2024] * 3,
        }
    )
    frame = pd.concat([frame, tiny], ignore_index=True)
    frame["region"] = frame["region"].astype(
        pd.CategoricalDtype(["east", "north", "south", "west"])
    )
    return frame


def _gm():
    return GaussianMixture(n_components=1, random_state=0)


def test_each_group_gets_its_own_model(shops):
    model = GroupedSampler(_gm(), by=["region", "year"], random_state=0).fit(shops)
    assert model.groups_.tolist() == [
        ["east", 2024],
        ["north", 2023],
        ["north", 2024],
        ["south", 2023],
        ["south", 2024],
        ["west", 2023],
        ["west", 2024],
    ]
    assert model.group_counts_.tolist() == [3, 45, 45, 30, 30, 15, 15]
    rows = model.sample(groups=[("south", 2024)] * 400 + [("west", 2023)] * 400)
    south, west = rows.iloc[:400], rows.iloc[400:]
    assert (south["region"] == "south").all() and (south["year"] == 2024).all()
    assert (west["region"] == "west").all() and (west["year"] == 2023).all()
    # The group means are 10.5 and 20 with a spread of 0.3.
    assert abs(south["sales"].mean() - 10.5) < 0.2
    assert abs(west["sales"].mean() - 20.0) < 0.2


def test_a_long_fit_over_groups_shows_its_progress(shops, capsys, monkeypatch):
    # One model per group, fitted in turn: nothing printed, unless the fit
    # outlasts the quiet delay (a minute, zero here); then a bar of the groups.
    import skflow._progress_bars

    GroupedSampler(_gm(), by="region", random_state=0).fit(shops)
    assert capsys.readouterr() == ("", "")
    monkeypatch.setattr(skflow._progress_bars, "QUIET_PROGRESS_DELAY", 0.0)
    GroupedSampler(_gm(), by="region", random_state=0).fit(shops)
    out, err = capsys.readouterr()
    assert out == "" and "GroupedSampler.fit" in err


def test_columns_dtypes_and_proportions(shops):
    model = GroupedSampler(_gm(), by=["region", "year"], random_state=0).fit(shops)
    rows = model.sample(100, random_state=0)
    assert list(rows.columns) == list(shops.columns)
    assert rows.dtypes.equals(shops.dtypes)
    # Largest remainder over 3/45/45/30/30/15/15 of 183 rows, in group order.
    counts = rows.groupby(["region", "year"], observed=True).size()
    assert counts.tolist() == [2, 25, 25, 16, 16, 8, 8]
    assert counts.sum() == 100


def test_groups_are_generated_in_the_order_asked(shops):
    model = GroupedSampler(_gm(), by="region", random_state=0).fit(shops)
    asked = ["west", "north", "west", "south"]
    assert model.sample(groups=asked)["region"].tolist() == asked
    frame = model.sample(groups=shops[["region"]].iloc[:5])
    assert frame["region"].tolist() == shops["region"].iloc[:5].tolist()
    with pytest.raises(ValueError, match=r"Unknown group\(s\) \['middle'\]"):
        model.sample(groups=["middle"])
    with pytest.raises(ValueError, match="n_samples=3 but groups has 4 rows"):
        model.sample(3, groups=asked)


def test_small_group_rules(shops):
    by = ["region", "year"]
    with pytest.warns(UserWarning, match=r"1 group\(s\).*\('east', 2024\) \(3 rows\)"):
        pooled = GroupedSampler(_gm(), by=by, random_state=0).fit(shops)
    assert pooled.estimators_[0] is None and pooled.pooled_estimator_ is not None
    # The pooled model is fitted on every row: its rows spread over all regions.
    east = pooled.sample(groups=[("east", 2024)] * 500, random_state=0)
    assert (east["region"] == "east").all()
    assert east["sales"].std() > 5

    dropped = GroupedSampler(_gm(), by=by, small_groups="drop", random_state=0)
    dropped.fit(shops)
    assert dropped.pooled_estimator_ is None
    assert dropped.dropped_groups_.tolist() == [["east", 2024]]
    assert "east" not in set(dropped.sample(500)["region"])
    with pytest.raises(ValueError, match="dropped at fit"):
        dropped.sample(groups=[("east", 2024)])

    with pytest.raises(ValueError, match=r"\('east', 2024\) \(3 rows\)"):
        GroupedSampler(_gm(), by=by, small_groups="raise").fit(shops)
    with pytest.raises(ValueError, match="leaves nothing to model"):
        GroupedSampler(_gm(), by=by, small_groups="drop", min_group_size=100).fit(shops)


def test_score_uses_the_pooled_model_for_unseen_groups(shops):
    model = GroupedSampler(fast_flow(), by="region", random_state=0).fit(shops)
    held_out = shops.copy()
    held_out["region"] = held_out["region"].cat.add_categories("unseen")
    held_out.loc[:9, "region"] = "unseen"
    assert np.isfinite(model.score(held_out))
    strict = GroupedSampler(fast_flow(), by="region", small_groups="drop").fit(shops)
    with pytest.raises(ValueError, match="Unknown group"):
        strict.score(held_out)


def test_one_grouping_column_is_a_class_conditional_sampler(shops):
    # The same seeds for the same groups: the same fits and the same rows.
    features = shops[["sales", "staff"]]
    grouped = GroupedSampler(_gm(), by="region", small_groups="raise", random_state=3)
    grouped.set_params(min_group_size=1).fit(shops[["sales", "region", "staff"]])
    labelled = ClassConditionalSampler(_gm(), random_state=3).fit(
        features, shops["region"].astype(str)
    )
    X_new, y_new = labelled.sample(50, random_state=1)
    rows = grouped.sample(50, random_state=1)
    assert rows["region"].astype(str).tolist() == y_new.tolist()
    np.testing.assert_allclose(rows["sales"], X_new["sales"])


def test_array_input_and_group_positions():
    rng = np.random.RandomState(0)
    X = np.column_stack(
        [rng.normal(size=120), np.repeat([1.0, 2.0, 3.0], 40), rng.normal(size=120)]
    )
    model = GroupedSampler(_gm(), by=-2, random_state=0).fit(X)
    assert model.by_ == [1] and model.groups_.ravel().tolist() == [1.0, 2.0, 3.0]
    rows = model.sample(groups=[3.0, 1.0])
    assert rows.shape == (2, 3) and rows.dtype == np.float64
    assert rows[:, 1].tolist() == [3.0, 1.0]


@pytest.mark.parametrize(
    "by, match",
    [
        ("nowhere", "by='nowhere' is not a column of X"),
        (["region", "region"], "names a column twice"),
        (["sales", "region", "staff", "year"], "nothing is left to model"),
        ([], "by is empty"),
        (7, "by=7 is not a column"),
    ],
)
def test_bad_groupings_are_refused(shops, by, match):
    with pytest.raises(ValueError, match=match):
        GroupedSampler(_gm(), by=by).fit(shops)


def test_missing_group_values_are_refused(shops):
    frame = shops.astype({"year": float})
    frame.loc[[4, 9], "year"] = np.nan
    with pytest.raises(ValueError, match=r"'year' has 2 missing values.*\[4, 9\]"):
        GroupedSampler(_gm(), by="year").fit(frame)


def test_fits_spread_over_a_dask_cluster(shops):
    distributed = pytest.importorskip("dask.distributed")
    model = GroupedSampler(fast_flow(), by=["region", "year"], random_state=0)
    in_turn = model.fit(shops).sample(40, random_state=0)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_backend("dask"),
    ):
        spread = GroupedSampler(fast_flow(), by=["region", "year"], random_state=0)
        spread.fit(shops)
    pd.testing.assert_frame_equal(spread.sample(40, random_state=0), in_turn)


def test_group_error_names_the_group(shops):
    frame = shops.copy()
    frame.loc[frame["region"] == "west", "sales"] = np.nan
    with pytest.raises(ValueError, match="on group 'west' \\(30 sample\\(s\\)\\)"):
        GroupedSampler(fast_flow(), by="region").fit(frame)


def test_save_load_round_trip(shops, tmp_path):
    model = GroupedSampler(fast_flow(), by=["region", "year"], random_state=0)
    model.fit(shops)
    save(model, tmp_path / "grouped.skflow")
    loaded = load(tmp_path / "grouped.skflow")
    pd.testing.assert_frame_equal(
        loaded.sample(30, random_state=2), model.sample(30, random_state=2)
    )
    assert loaded.sample(groups=[("east", 2024)])["region"].tolist() == ["east"]
