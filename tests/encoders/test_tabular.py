"""TabularEncoder: exact round trips per dtype, decoding rules, errors."""

import pickle

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from sklearn.utils.estimator_checks import parametrize_with_checks

from skflow import TabularEncoder


def mixed_frame(n=60, seed=0):
    """Every supported dtype, including pandas' nullable and category dtypes."""
    rng = np.random.default_rng(seed)
    cities = np.array(["Oslo", "Lima", "Pune", "Kyiv"])
    return pd.DataFrame(
        {
            "height": rng.normal(170, 10, n),
            "weight32": rng.normal(70, 8, n).astype(np.float32),
            "age": rng.integers(18, 90, n),
            "visits": rng.integers(0, 5, n).astype(np.uint8),
            "score": pd.array(rng.integers(-3, 3, n), dtype="Int64"),
            "ratio": pd.array(rng.uniform(0, 1, n), dtype="Float64"),
            "smoker": rng.random(n) < 0.3,
            "insured": pd.array(rng.random(n) < 0.6, dtype="boolean"),
            "city": cities[rng.integers(0, 4, n)].astype(object),
            "city_str": pd.array(cities[rng.integers(0, 4, n)], dtype="string"),
            "grade": pd.Categorical(
                rng.choice(["low", "mid", "high"], n),
                categories=["low", "mid", "high", "unused"],
                ordered=True,
            ),
            "code": pd.Categorical(rng.choice([10, 20, 30], n)),
        }
    )


@parametrize_with_checks([TabularEncoder()])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_round_trip_restores_every_dtype():
    df = mixed_frame()
    encoder = TabularEncoder().fit(df)
    back = encoder.inverse_transform(encoder.transform(df))
    # Names, order, dtypes (category dtypes with their declared categories and
    # order, nullable dtypes) and every non-float value exactly; floats up to
    # the rounding of (x - mean) / std * std + mean.
    assert list(back.columns) == list(df.columns)
    assert list(back.dtypes) == list(df.dtypes)
    exact = [c for c in df.columns if df[c].dtype.kind != "f"]
    assert_frame_equal(back[exact], df[exact], check_exact=True)
    assert_frame_equal(back, df, check_exact=False, rtol=1e-12)


def test_output_width_layout_and_names():
    df = mixed_frame()
    encoder = TabularEncoder().fit(df)
    names = list(encoder.get_feature_names_out())
    # 6 continuous columns; "visits" (5 levels) and "score" (6 levels) are
    # small integer scales, each level at least 10 % of the rows: a state block
    # per level; then 4 + 4 + 3 + 3 one-hot columns, in input column order.
    assert encoder.column_kinds_["visits"] == "int"
    assert len(names) == 6 + 5 + 6 + 4 + 4 + 3 + 3 == encoder.transform(df).shape[1]
    assert names[:3] == ["height", "weight32", "age"]
    assert names[3:8] == [f"visits_state_{level}" for level in range(5)]
    assert names[8:14] == [f"score_state_{level}" for level in range(-3, 3)]
    assert names[14:17] == ["ratio", "smoker", "insured"]
    assert names[17:21] == ["city_Kyiv", "city_Lima", "city_Oslo", "city_Pune"]
    assert names[-3:] == ["code_10", "code_20", "code_30"]


def test_two_level_categorical_names_every_indicator():
    # A categorical block keeps both indicators of two levels: one name each,
    # so the names match the encoded columns.
    df = pd.DataFrame({"c": ["a", "b", "a", "b"] * 5, "x": np.arange(20.0)})
    encoder = TabularEncoder().fit(df)
    names = list(encoder.get_feature_names_out())
    assert names == ["c_a", "c_b", "x"]
    assert len(names) == encoder.transform(df).shape[1]


def test_scaling_gives_each_column_unit_total_variance():
    df = mixed_frame(n=500)
    encoder = TabularEncoder().fit(df)
    Z = encoder.transform(df)
    names = encoder.get_feature_names_out()
    for column in df.columns:
        wanted = {column} | {
            f"{column}_{c}" for c in encoder.categories_.get(column, [])
        }
        block = [
            i
            for i, name in enumerate(names)
            if name in wanted or name.startswith(f"{column}_state_")
        ]
        total = Z[:, block].var(axis=0).sum()
        assert total == pytest.approx(1.0, rel=1e-9), column
        assert np.allclose(Z[:, block].mean(axis=0), 0.0, atol=1e-9)


def test_decoding_rules_on_arbitrary_rows():
    df = mixed_frame()
    encoder = TabularEncoder().fit(df)
    rng = np.random.default_rng(1)
    encoded = encoder.transform(df)
    noisy = encoded * 3 + rng.normal(0, 2, encoded.shape)
    out = encoder.inverse_transform(noisy)
    assert list(out.dtypes) == list(df.dtypes)
    for column in ["height", "age", "visits", "score", "ratio"]:
        # Clipped to the range seen in fit.
        assert out[column].min() >= df[column].min()
        assert out[column].max() <= df[column].max()
    assert set(out["city"]) <= set(df["city"])
    assert set(out["grade"].astype(str)) <= {"low", "mid", "high"}
    assert out.notna().all().all()


def test_argmax_picks_the_largest_indicator():
    df = pd.DataFrame({"c": ["a", "b", "c", "a"], "x": [0.0, 1.0, 2.0, 3.0]})
    encoder = TabularEncoder().fit(df)
    names = list(encoder.get_feature_names_out())
    rows = np.zeros((3, 4))
    # A row that is "mostly b" in the encoded space must decode to "b".
    for i, category in enumerate(["a", "b", "c"]):
        rows[i] = encoder.transform(pd.DataFrame({"c": [category], "x": [1.0]}))[0]
    rows[:, names.index("c_b")] += 0.1  # does not change the argmax of a or c rows
    assert list(encoder.inverse_transform(rows)["c"]) == ["a", "b", "c"]


def test_clip_false_extrapolates_but_keeps_integer_dtype_range():
    df = pd.DataFrame({"x": [0.0, 1.0, 2.0], "n": np.array([0, 1, 2], np.uint8)})
    encoder = TabularEncoder(clip=False).fit(df)
    far = encoder.transform(df) * 1000
    out = encoder.inverse_transform(far)
    assert out["x"].max() > 2.0
    assert out["n"].dtype == np.uint8
    assert out["n"].min() == 0 and out["n"].max() == 255


def test_numpy_input_round_trip(wine_data):
    encoder = TabularEncoder().fit(wine_data)
    Z = encoder.transform(wine_data)
    assert Z.shape == wine_data.shape
    np.testing.assert_allclose(encoder.inverse_transform(Z), wine_data, rtol=1e-12)
    assert list(encoder.get_feature_names_out())[:2] == ["x0", "x1"]


def test_unseen_category_encodes_as_block_centre():
    df = pd.DataFrame({"c": ["a", "b", "a", "b"], "x": [0.0, 1.0, 2.0, 3.0]})
    encoder = TabularEncoder().fit(df)
    Z = encoder.transform(pd.DataFrame({"c": ["zzz"], "x": [1.0]}))
    assert np.allclose(Z[0, :2], 0.0)  # the "c" block comes first


@pytest.mark.parametrize("missing", [np.nan, None, pd.NA])
def test_missing_values_raise_with_remedy_when_asked(missing):
    df = pd.DataFrame(
        {"x": [1.0, 2.0, 3.0], "c": pd.array(["a", "b", "a"], dtype=object)}
    )
    column = "c" if missing is not np.nan else "x"
    df.loc[1, column] = missing
    with pytest.raises(ValueError, match=rf"columns \['{column}'\].*missing='model'"):
        TabularEncoder(missing="error").fit(df)
    with pytest.raises(ValueError, match="missing='model'"):
        TabularEncoder(missing="error").fit(np.array([[1.0, np.nan], [2.0, 3.0]]))


def test_bad_input():
    df = pd.DataFrame({"t": pd.date_range("2020", periods=3), "x": [1.0, 2.0, 3.0]})
    with pytest.raises(TypeError, match="'p'.*convert it"):
        TabularEncoder().fit(df.assign(p=pd.period_range("2020", periods=3)))
    encoder = TabularEncoder().fit(df[["x"]].assign(c=["a", "b", "a"]))
    with pytest.raises(ValueError, match="same order"):
        encoder.transform(pd.DataFrame({"c": ["a"], "x": [1.0]}))
    with pytest.raises(TypeError, match="fitted on a DataFrame"):
        encoder.transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="produces 3"):
        encoder.inverse_transform(np.zeros((2, 5)))
    with pytest.raises(TypeError, match="pd.to_numeric"):
        encoder.transform(pd.DataFrame({"x": ["1"], "c": ["a"]}))
    mixed = pd.Series(["a", 2, "b"], dtype=object)
    with pytest.raises(TypeError, match="'c' mixes strings.*astype\\(str\\)"):
        TabularEncoder().fit(df[["x"]].assign(c=mixed))


def test_pickle_round_trip():
    df = mixed_frame()
    encoder = TabularEncoder().fit(df)
    loaded = pickle.loads(pickle.dumps(encoder))
    np.testing.assert_array_equal(loaded.transform(df), encoder.transform(df))
