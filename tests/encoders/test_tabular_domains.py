"""TabularEncoder(domains=...): an encoder fitted from public metadata only."""

import json
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

import skflow
from skflow import GaussianMixtureSampler, TabularEncoder, make_generative_pipeline
from skflow._testing import fast_flow

DOMAINS = {
    "height": (140.0, 210.0),
    "weight32": {"range": (30, 200), "missing": True},
    "age": (0, 120),
    "small": (0, 255),
    "visits": {"range": (0, 50), "missing": True},
    "smoker": [False, True],
    "insured": {"levels": [False, True], "missing": True},
    "city": ["Kyiv", "Lima", "Oslo", "Pune", "Quito"],
    "name": {"levels": ["ann", "bob", "cy"], "missing": True},
    "grade": ["low", "mid", "high"],
    "day": ("2019-01-01", "2025-12-31"),
    "stamp": ("2019-01-01", pd.Timestamp("2026-01-01")),
    "local": {"range": ("2019-01-01", "2026-01-01"), "missing": True},
    "wait": (pd.Timedelta(0), "30 days"),
    "source": ["web"],
}


def frame(n=60, seed=0):
    """Every column kind, values inside DOMAINS (missing where declared)."""
    rng = np.random.default_rng(seed)
    grades = pd.CategoricalDtype(["low", "mid", "high"])
    days = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), "D")
    frame = pd.DataFrame(
        {
            "height": rng.uniform(150, 200, n),
            "weight32": rng.uniform(40, 120, n).astype(np.float32),
            "age": rng.integers(18, 90, n),
            "small": rng.integers(0, 256, n).astype(np.uint8),
            "visits": pd.array(rng.integers(0, 20, n), dtype="Int64"),
            "smoker": rng.random(n) < 0.3,
            "insured": pd.array(rng.random(n) < 0.5, dtype="boolean"),
            "city": rng.choice(["Kyiv", "Lima", "Oslo", "Pune"], n).astype(object),
            "name": pd.array(rng.choice(["ann", "bob", "cy"], n), dtype="string"),
            "grade": pd.Categorical(rng.choice(["low", "mid"], n), dtype=grades),
            "day": pd.Series(days).astype("datetime64[s]"),
            "stamp": days + pd.to_timedelta(rng.integers(0, 86_400_000, n), "ms"),
            "local": (days + pd.Timedelta(hours=12)).tz_localize("Europe/Oslo"),
            "wait": pd.to_timedelta(rng.integers(0, 10**6, n), "s"),
            "source": ["web"] * n,
        }
    )
    for column in ("weight32", "visits", "insured", "name", "local"):
        frame.loc[rng.random(n) < 0.2, column] = None
    return frame


def encoder():
    return TabularEncoder(domains=DOMAINS)


def test_round_trip_of_every_column_kind():
    df = frame()
    fitted = encoder().fit(df)
    assert fitted.fits_without_data_ is True
    back = fitted.inverse_transform(fitted.transform(df))
    assert list(back.columns) == list(df.columns)
    assert list(back.dtypes) == list(df.dtypes)
    exact = [c for c in df.columns if df[c].dtype.kind != "f"]
    assert_frame_equal(back[exact], df[exact], check_exact=True)
    assert_frame_equal(back, df, check_exact=False, rtol=1e-6)
    assert fitted.column_kinds_ == {
        "height": "float",
        "weight32": "float",
        "age": "int",
        "small": "int",
        "visits": "int",
        "smoker": "bool",
        "insured": "bool",
        "city": "category",
        "name": "category",
        "grade": "category",
        "day": "datetime",
        "stamp": "datetime",
        "local": "datetime",
        "wait": "timedelta",
        "source": "category",
    }


def test_layout_and_names_follow_the_domains():
    fitted = encoder().fit(frame())
    names = list(fitted.get_feature_names_out())
    assert names == [
        "height",
        "weight32_state_missing",
        "weight32",
        "age",
        "small",
        "visits_state_missing",
        "visits",
        "smoker",
        "insured_False",
        "insured_True",
        "insured_missing",
        # Every declared level, in the declared order, seen in the rows or not.
        "city_Kyiv",
        "city_Lima",
        "city_Oslo",
        "city_Pune",
        "city_Quito",
        "name_ann",
        "name_bob",
        "name_cy",
        "name_missing",
        "grade_low",
        "grade_mid",
        "grade_high",
        "day",
        "stamp",
        "local_state_missing",
        "local",
        "wait",
        # "source" has one level and cannot be missing: a constant, no column.
    ]
    assert fitted.transform(frame()).shape[1] == len(names)
    assert list(fitted.categories_["city"]) == DOMAINS["city"]
    assert fitted.relations_ == []


def _saved(est, path):
    skflow.save(est, path)
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        arrays = np.load(archive.open("arrays.npz"), allow_pickle=False)
        arrays = {key: arrays[key] for key in arrays.files}
    return manifest, arrays


def test_fitted_state_does_not_depend_on_the_rows(tmp_path):
    # Two tables with the same schema and nothing else in common (other
    # values, other rows, other missing cells; one with no rows at all) give
    # the same encoder.
    first, second = frame(n=80, seed=1), frame(n=25, seed=2)
    second["height"] = 209.0
    second["city"] = "Quito"
    encoders = [encoder().fit(table) for table in (first, second, first.iloc[:0])]
    probe = frame(n=30, seed=3)
    reference = encoders[0].transform(probe)
    for other in encoders[1:]:
        np.testing.assert_array_equal(other.transform(probe), reference)
        for side in (0, 1):
            np.testing.assert_array_equal(
                other.output_bounds_[side], encoders[0].output_bounds_[side]
            )
    manifest, arrays = _saved(encoders[0], tmp_path / "0.skflow")
    for i, other in enumerate(encoders[1:], start=1):
        other_manifest, other_arrays = _saved(other, tmp_path / f"{i}.skflow")
        assert other_manifest == manifest
        assert other_arrays.keys() == arrays.keys()
        for key in arrays:
            np.testing.assert_array_equal(other_arrays[key], arrays[key])


def test_an_encoder_fitted_on_rows_does_depend_on_them(tmp_path):
    # The comparison above can fail: without domains the same two tables give
    # different saved states.
    first, second = frame(n=80, seed=1), frame(n=25, seed=2)
    fitted = [TabularEncoder().fit(table) for table in (first, second)]
    assert fitted[0].fits_without_data_ is False
    assert not hasattr(fitted[0], "output_bounds_")
    manifests = [_saved(est, tmp_path / f"{i}.skflow") for i, est in enumerate(fitted)]
    first_arrays, second_arrays = manifests[0][1], manifests[1][1]
    assert manifests[0][0] != manifests[1][0] or any(
        not np.array_equal(first_arrays[k], second_arrays.get(k, np.zeros(0)))
        for k in first_arrays
    )


def test_width_does_not_depend_on_whether_values_are_missing():
    complete = frame()
    complete["weight32"] = complete["weight32"].fillna(60.0)
    complete["visits"] = complete["visits"].fillna(3)
    complete["insured"] = complete["insured"].fillna(False)
    complete["name"] = complete["name"].fillna("ann")
    complete["local"] = complete["local"].fillna(pd.Timestamp("2021-01-01", tz="UTC"))
    assert not complete.isna().any().any()
    with_missing, without = encoder().fit(frame()), encoder().fit(complete)
    assert list(with_missing.get_feature_names_out()) == list(
        without.get_feature_names_out()
    )
    assert with_missing.transform(complete).shape == without.transform(frame()).shape
    # A column declared without 'missing' has no missing state, whether or not
    # the rows have missing values.
    names = with_missing.get_feature_names_out()
    assert not any(name.startswith("height_state") for name in names)


def test_undeclared_missing_values_are_refused_at_transform():
    df = frame()
    df.loc[3, "height"] = np.nan
    df.loc[4, "city"] = None
    fitted = encoder().fit(df)  # fit reads no values
    with pytest.raises(ValueError, match=r"\['height', 'city'\].*'missing': True"):
        fitted.transform(df)


def test_values_beyond_the_range_are_clipped():
    df = frame(n=4)
    fitted = encoder().fit(df)
    beyond = df.copy()
    beyond["height"] = [100.0, 300.0, 140.0, 210.0]
    beyond["age"] = [-5, 200, 0, 120]
    beyond["day"] = pd.to_datetime(
        ["2000-01-01", "2040-01-01", "2019-01-01", "2025-12-31"]
    ).astype("datetime64[s]")
    encoded = fitted.transform(beyond)
    names = list(fitted.get_feature_names_out())
    low, high = fitted.output_bounds_
    for column in ("height", "age", "day"):
        j = names.index(column)
        # Below the range encodes as its low end, above as its high end.
        assert encoded[0, j] == encoded[2, j] == low[j]
        assert encoded[1, j] == encoded[3, j] == high[j]
    back = fitted.inverse_transform(encoded)
    assert list(back["height"]) == [140.0, 210.0, 140.0, 210.0]
    assert list(back["age"]) == [0, 120, 0, 120]
    assert list(back["day"].astype(str)) == [
        "2019-01-01",
        "2025-12-31",
        "2019-01-01",
        "2025-12-31",
    ]


def test_encoded_rows_lie_within_output_bounds():
    df = frame(n=200, seed=4)
    # Values beyond the ranges too: they are clipped onto them.
    df.loc[:9, "height"] = np.linspace(0.0, 1000.0, 10)
    df.loc[:9, "wait"] = pd.to_timedelta(np.arange(10) * 10, "D") - pd.Timedelta("20D")
    fitted = encoder().fit(df)
    low, high = fitted.output_bounds_
    encoded = fitted.transform(df)
    assert low.shape == high.shape == (encoded.shape[1],)
    assert np.all(low < high)
    assert np.all(encoded >= low) and np.all(encoded <= high)
    # The bounds are attained: they are the encodings of the domains' ends and
    # of each level, not a loose box.
    ends = frame(n=2)
    ends["height"] = [140.0, 210.0]
    ends["age"] = [0, 120]
    ends["small"] = np.array([0, 255], np.uint8)
    ends["smoker"] = [False, True]
    j = [list(fitted.get_feature_names_out()).index(c) for c in ("height", "age")]
    ends_encoded = fitted.transform(ends)
    np.testing.assert_array_equal(ends_encoded[0, j], low[j])
    np.testing.assert_array_equal(ends_encoded[1, j], high[j])


def test_any_point_of_the_bounds_box_decodes_inside_the_domains():
    fitted = encoder().fit(frame())
    low, high = fitted.output_bounds_
    rows = np.random.default_rng(0).uniform(low, high, size=(500, low.size))
    out = fitted.inverse_transform(rows)
    assert list(out.dtypes) == list(frame().dtypes)
    assert out["height"].between(140, 210).all()
    assert out["age"].between(0, 120).all()
    assert out["visits"].dropna().between(0, 50).all()
    assert set(out["city"]) <= set(DOMAINS["city"])
    assert out["day"].between("2019-01-01", "2025-12-31").all()
    assert out["wait"].between(pd.Timedelta(0), pd.Timedelta("30 days")).all()
    assert (out["source"] == "web").all()
    # Declared missing columns come back missing for some rows; others never.
    assert out["name"].isna().any() and out["visits"].isna().any()
    assert out[["height", "age", "city", "grade", "day"]].notna().all().all()


def test_numeric_columns_use_the_unit_variance_uniform_scale():
    # A column spread uniformly over its range has variance 1 (half for the
    # value, half for the missing state when it may be missing), like the
    # total variance 1 a fitted encoder gives each column.
    df = pd.DataFrame({"x": np.linspace(-3.0, 7.0, 100_001)})
    fitted = TabularEncoder(domains={"x": (-3, 7)}).fit(df)
    encoded = fitted.transform(df)
    assert encoded.var() == pytest.approx(1.0, rel=1e-3)
    np.testing.assert_allclose(fitted.output_bounds_[1], [np.sqrt(3.0)])


def test_numeric_array_input():
    X = np.random.default_rng(0).uniform(0, 10, size=(20, 2))
    X[0, 1] = np.nan
    fitted = TabularEncoder(
        domains={0: (0, 10), 1: {"range": (0, 10), "missing": True}}
    ).fit(X)
    back = fitted.inverse_transform(fitted.transform(X))
    np.testing.assert_allclose(back, X, rtol=1e-12)
    assert fitted.output_bounds_[0].shape == (3,)


def test_millisecond_dates_round_trip_exactly():
    stamps = pd.Series(
        pd.to_datetime(["2021-03-04 05:06:07.891", "2024-12-31 23:59:59.999"])
    ).astype("datetime64[ms]")
    df = pd.DataFrame({"t": stamps})
    fitted = TabularEncoder(domains={"t": ("2021-01-01", "2025-01-01")}).fit(df)
    assert_frame_equal(fitted.inverse_transform(fitted.transform(df)), df)


def test_refitting_without_domains_drops_the_bounds():
    fitted = encoder().fit(frame())
    fitted.set_params(domains=None).fit(frame())
    assert fitted.fits_without_data_ is False
    assert not hasattr(fitted, "output_bounds_")


def test_save_and_load_round_trip(tmp_path):
    df = frame()
    fitted = encoder().fit(df)
    skflow.save(fitted, tmp_path / "e.skflow")
    restored = skflow.load(tmp_path / "e.skflow")
    assert restored.get_params()["domains"] == DOMAINS
    assert restored.fits_without_data_ is True
    np.testing.assert_array_equal(restored.transform(df), fitted.transform(df))
    for side in (0, 1):
        np.testing.assert_array_equal(
            restored.output_bounds_[side], fitted.output_bounds_[side]
        )
    encoded = fitted.transform(df)
    assert_frame_equal(
        restored.inverse_transform(encoded), fitted.inverse_transform(encoded)
    )
    # The parameters reload with their own types, time zone and unit.
    again = clone(restored).fit(df.iloc[:0])
    np.testing.assert_array_equal(again.transform(df), encoded)


def test_generative_pipeline_samples_inside_the_domains():
    df = frame(n=80)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe = make_generative_pipeline(encoder(), fast_flow()).fit(df)
    rows = pipe.sample(50, random_state=0)
    assert list(rows.dtypes) == list(df.dtypes)
    assert rows["height"].between(140, 210).all()
    assert set(rows["city"]) <= set(DOMAINS["city"])
    assert pipe[0].fits_without_data_ is True


# ---------------------------------------------------------------- errors
SCHEMA = pd.DataFrame(
    {
        "x": [1.0],
        "n": np.array([1]),
        "c": ["a"],
        "k": pd.Categorical(["a"], categories=["a", "b"]),
        "b": [True],
        "d": pd.to_datetime(["2020-01-01"]),
        "t": pd.to_timedelta(["1D"]),
    }
)
GOOD = {
    "x": (0, 1),
    "n": (0, 5),
    "c": ["a", "b"],
    "k": ["a", "b"],
    "b": [False, True],
    "d": ("2019-01-01", "2021-01-01"),
    "t": ("0s", "2D"),
}


def _with(**changes):
    domains = dict(GOOD)
    for name, spec in changes.items():
        if spec is None:
            del domains[name]
        else:
            domains[name] = spec
    return domains


def test_the_error_table_starts_from_a_valid_encoder():
    TabularEncoder(domains=GOOD).fit(SCHEMA).transform(SCHEMA)


@pytest.mark.parametrize(
    "domains, error, match",
    [
        (_with(x=None), ValueError, r"no entry for the columns \['x'\]"),
        ({**GOOD, "y": (0, 1)}, ValueError, r"names columns \['y'\] that X does"),
        (_with(x=(1, 1)), ValueError, "low < high"),
        (_with(x=(2, 1)), ValueError, "low < high"),
        (_with(x=(0, np.inf)), ValueError, "finite"),
        (_with(x=(-1e308, 1e308)), ValueError, "too wide"),
        (_with(x=("0", "1")), TypeError, "must be numbers"),
        (_with(x=(False, True)), TypeError, "must be numbers"),
        (_with(x=(0, 1, 2)), TypeError, "pair"),
        (_with(n=[1, 2, 3]), TypeError, "astype\\('category'\\)"),
        (_with(n=(0.5, 4)), ValueError, "whole-number"),
        (_with(n={"range": (0, 5), "missing": True}), ValueError, "nullable"),
        (_with(c=[]), ValueError, "no levels"),
        (_with(c=["a", "b", "a"]), ValueError, r"levels \['a'\] more than once"),
        (_with(c={"a", "b"}), TypeError, "a set has no fixed order"),
        (_with(c="ab"), TypeError, "list of levels"),
        (_with(c=["a", None]), ValueError, "missing value.*'missing': True"),
        (_with(c={"levels": ["a"], "range": (0, 1)}), ValueError, "not 'range'"),
        (_with(c={"levels": ["a"], "step": 1}), ValueError, "numeric columns"),
        (_with(c={"levels": ["a"], "steps": 1}), ValueError, "does not take"),
        (_with(c={"missing": True}), ValueError, "needs 'levels'"),
        (_with(c={"range": (0, 1)}), ValueError, "takes 'levels', not 'range'"),
        (
            _with(x={"levels": [1], "range": (0, 1)}),
            ValueError,
            "takes 'range', not 'levels'",
        ),
        (_with(c={"levels": ["a"], "missing": "yes"}), TypeError, "True or False"),
        (_with(k=["a", "z"]), ValueError, r"\['z'\], which are not categories"),
        (_with(b=[0, 1]), TypeError, "True and/or False"),
        (_with(b={"levels": [True, False], "missing": True}), ValueError, "nullable"),
        (_with(d=(0, 10)), TypeError, "must be a date"),
        (_with(d=("2019-01-01", "someday")), ValueError, "not a date"),
        (_with(d=("2019-01-01", pd.NaT)), ValueError, "missing value"),
        (
            _with(d=("2019-01-01", pd.Timestamp("2021-01-01", tz="UTC"))),
            ValueError,
            "naive bounds",
        ),
        (_with(d=("2020-01-01", "2020-01-01")), ValueError, "low < high"),
        (_with(t=(0, 5)), TypeError, "must be a duration"),
    ],
)
def test_invalid_domains_are_refused_with_the_remedy(domains, error, match):
    est = TabularEncoder(domains=domains)
    with pytest.raises(error, match=match):
        est.fit(SCHEMA)
    assert not hasattr(est, "codecs_")


def test_domains_must_be_a_dict():
    with pytest.raises(ValueError, match="domains"):
        TabularEncoder(domains=[("x", (0, 1))]).fit(SCHEMA)


def test_string_columns_take_string_levels():
    df = pd.DataFrame({"s": pd.array(["a"], dtype="string")})
    with pytest.raises(TypeError, match="levels must be strings"):
        TabularEncoder(domains={"s": ["a", 1]}).fit(df)


def test_declared_relations_and_missing_error_conflict_with_domains():
    with pytest.raises(ValueError, match="keeps no relations"):
        TabularEncoder(domains=GOOD, relations=["x <= n"]).fit(SCHEMA)
    with pytest.raises(ValueError, match=r"\['x'\] may be missing.*missing='error'"):
        TabularEncoder(
            domains=_with(x={"range": (0, 1), "missing": True}), missing="error"
        ).fit(SCHEMA)


def test_a_level_outside_the_domain_is_refused_at_transform():
    fitted = TabularEncoder(domains=GOOD).fit(SCHEMA)
    rows = SCHEMA.copy()
    rows["c"] = ["z"]
    with pytest.raises(ValueError, match=r"'c' has values outside.*\['z'\]"):
        fitted.transform(rows)


def test_a_constant_table_has_nothing_to_model():
    with pytest.raises(ValueError, match="nothing to model"):
        TabularEncoder(domains={"c": ["a"]}).fit(pd.DataFrame({"c": ["a"]}))


def test_declared_step_puts_decoded_numbers_on_its_grid():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(
        {
            "rating": rng.randint(1, 6, 80).astype(float),
            "hours": rng.randint(0, 21, 80) * 0.5,
            "count": rng.randint(0, 50, 80),
        }
    )
    encoder = TabularEncoder(
        domains={
            "rating": {"range": (1, 5), "step": 1},
            "hours": {"range": (0, 10), "step": 0.5},
            "count": {"range": (0, 100), "step": 5},
        }
    ).fit(frame)
    noisy = encoder.transform(frame) + rng.normal(size=(80, 3)) * 0.3
    decoded = encoder.inverse_transform(noisy)
    np.testing.assert_array_equal(decoded["rating"] % 1, 0)
    np.testing.assert_array_equal(decoded["hours"] % 0.5, 0)
    np.testing.assert_array_equal(decoded["count"] % 5, 0)
    assert decoded["rating"].between(1, 5).all()
    # Without a step, a float column decodes off any grid.
    plain = TabularEncoder(
        domains={"rating": (1, 5), "hours": (0, 10), "count": (0, 100)}
    )
    plain_decoded = plain.fit(frame).inverse_transform(noisy)
    assert (plain_decoded["rating"] % 1 != 0).any()


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"range": (0, 10), "step": 0}, "positive"),
        ({"range": (0, 10), "step": "1"}, "positive number"),
        ({"range": (0, 10), "step": 20}, "wider than its range"),
    ],
)
def test_bad_steps_are_refused(spec, message):
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises((TypeError, ValueError), match=message):
        TabularEncoder(domains={"x": spec}).fit(frame)


def test_integer_step_must_be_whole_and_dates_take_none():
    frame = pd.DataFrame(
        {"n": [1, 2], "d": pd.to_datetime(["2020-01-01", "2020-02-01"])}
    )
    with pytest.raises(ValueError, match="whole number"):
        TabularEncoder(
            domains={"n": {"range": (0, 9), "step": 0.5}, "d": ("2020", "2021")}
        ).fit(frame)
    with pytest.raises(ValueError, match="numeric columns"):
        TabularEncoder(
            domains={"n": (0, 9), "d": {"range": ("2020", "2021"), "step": 1}}
        ).fit(frame)


def test_numeric_levels_decode_to_the_declared_values_in_the_dtype():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(
        {
            "age": rng.choice([17.5, 22.0, 27.0, 32.0], 120),
            "score": rng.choice([1, 3, 5], 120),
        }
    )
    frame.loc[[3, 7], "age"] = np.nan
    encoder = TabularEncoder(
        domains={
            "age": {"levels": [17.5, 22, 27, 32], "missing": True},
            "score": {"levels": [1, 3, 5]},
        }
    ).fit(frame)
    # One-hot blocks: 4 levels + missing, and 3 levels.
    assert encoder.transform(frame).shape == (120, 8)
    noisy = encoder.transform(frame) + rng.normal(size=(120, 8)) * 0.2
    decoded = encoder.inverse_transform(noisy)
    assert decoded["age"].dtype == np.float64
    assert decoded["score"].dtype == frame["score"].dtype
    assert set(decoded["age"].dropna()) <= {17.5, 22.0, 27.0, 32.0}
    assert set(decoded["score"]) <= {1, 3, 5}
    clean = encoder.inverse_transform(encoder.transform(frame))
    pd.testing.assert_frame_equal(clean, frame)
    low, high = encoder.output_bounds_
    assert low.shape == high.shape == (8,)


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"levels": []}, "non-empty"),
        ({"levels": ["a", 2]}, "must be numbers"),
        ({"levels": [1, 1]}, "more than once"),
        ({"levels": [1, 2], "step": 1}, "both levels and a step"),
    ],
)
def test_bad_numeric_levels_are_refused(spec, message):
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises((TypeError, ValueError), match=message):
        TabularEncoder(domains={"x": spec}).fit(frame)


def test_integer_levels_must_be_whole():
    frame = pd.DataFrame({"n": [1, 2]})
    with pytest.raises(ValueError, match="whole"):
        TabularEncoder(domains={"n": {"levels": [1, 1.5]}}).fit(frame)


def test_declared_point_masses_come_back_exactly():
    rng = np.random.RandomState(0)
    amount = np.where(rng.rand(400) < 0.6, 0.0, np.minimum(rng.exponential(3, 400), 20))
    frame = pd.DataFrame({"amount": amount, "other": rng.normal(size=400)})
    frame.loc[[4, 9], "amount"] = np.nan
    domains = {
        "amount": {"range": (0, 20), "masses": [0], "missing": True},
        "other": (-4, 4),
    }
    encoder = TabularEncoder(domains=domains).fit(frame)
    encoded = encoder.transform(frame)
    low, high = encoder.output_bounds_
    assert np.all((encoded >= low - 1e-12) & (encoded <= high + 1e-12))
    pd.testing.assert_frame_equal(encoder.inverse_transform(encoded), frame)
    # Through a model, the zeros come back as exact zeros at about their rate.
    pipeline = make_generative_pipeline(
        TabularEncoder(domains=domains), GaussianMixtureSampler(random_state=0)
    ).fit(frame)
    rows = pipeline.sample(4000, random_state=0)
    share = (rows["amount"] == 0).mean()
    assert abs(share - 0.6) < 0.05
    # Without the declared mass, none is exactly zero.
    plain = {"amount": {"range": (0, 20), "missing": True}, "other": (-4, 4)}
    pipeline = make_generative_pipeline(
        TabularEncoder(domains=plain), GaussianMixtureSampler(random_state=0)
    ).fit(frame)
    assert (pipeline.sample(4000, random_state=0)["amount"] == 0).mean() < 0.05


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"range": (0, 10), "masses": [11]}, "in its range"),
        ({"range": (0, 10), "masses": [1, 1]}, "more than once"),
        ({"range": (0, 10), "masses": []}, "non-empty"),
        ({"levels": [1, 2], "masses": [1]}, "given as a range"),
    ],
)
def test_bad_masses_are_refused(spec, message):
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises((TypeError, ValueError), match=message):
        TabularEncoder(domains={"x": spec}).fit(frame)
