"""TabularEncoder on tables as they come: missing values, dates, skewed and
zero-inflated numbers, recorded precision, many categories, row keys.

Distributional claims are checked through a stand-in sampler with a known
behaviour, a narrow Gaussian kernel density on the encoded rows: it
reproduces the encoded joint distribution, so whatever the encoder lets a
sampler learn comes back, and what it loses does not.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from sklearn.neighbors import KernelDensity

import skflow
from skflow import TabularEncoder


def _kde_pipeline(bandwidth=0.05):
    return skflow.make_generative_pipeline(
        TabularEncoder(), KernelDensity(bandwidth=bandwidth)
    )


def _noisy_decode(encoder, frame, scale, seed=0):
    """Decode the encoded rows plus Gaussian noise: arbitrary nearby rows."""
    encoded = encoder.transform(frame)
    rng = np.random.default_rng(seed)
    return encoder.inverse_transform(encoded + rng.normal(0, scale, encoded.shape))


def test_every_missing_marker_round_trips_in_its_dtype():
    n = 40
    rng = np.random.default_rng(0)
    gaps = rng.random(n) < 0.25
    frame = pd.DataFrame(
        {
            "float": np.where(gaps, np.nan, rng.normal(size=n)),
            "Float64": pd.array(np.where(gaps, np.nan, rng.normal(size=n)), "Float64"),
            "Int64": pd.array(
                np.ma.masked_array(rng.integers(0, 100, n), gaps).tolist(), "Int64"
            ),
            "boolean": pd.array(
                np.ma.masked_array(rng.random(n) < 0.5, gaps).tolist(), "boolean"
            ),
            "string": pd.array(
                np.where(gaps, None, rng.choice(["a", "b"], n)), dtype="string"
            ),
            "object_none": pd.Series(
                np.where(gaps, None, rng.choice(["u", "v", "w"], n)), dtype=object
            ),
            "category": pd.Categorical(
                np.where(gaps, None, rng.choice(["lo", "hi"], n)),
                categories=["lo", "hi"],
            ),
            "dates": pd.Series(
                np.where(gaps, pd.NaT, pd.date_range("2021-03-01", periods=n))
            ).astype("datetime64[s]"),
        }
    )
    encoder = TabularEncoder().fit(frame)
    back = encoder.inverse_transform(encoder.transform(frame))
    assert list(back.dtypes) == list(frame.dtypes)
    for name in frame.columns:
        np.testing.assert_array_equal(back[name].isna(), frame[name].isna(), name)
    assert back["object_none"][gaps].map(lambda v: v is None).all()
    exact = [c for c in frame.columns if c not in ("float", "Float64")]
    assert_frame_equal(back[exact], frame[exact], check_exact=True)
    assert_frame_equal(back, frame, check_exact=False, rtol=1e-12)


def test_pyarrow_backed_columns_round_trip():
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame(
        {
            "n": pd.array([1, 2, None, 4, 5, 6], dtype="int64[pyarrow]"),
            "s": pd.array(["a", None, "b", "a", "b", "a"], dtype="string[pyarrow]"),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a tiny table
        encoder = TabularEncoder().fit(frame)
    back = encoder.inverse_transform(encoder.transform(frame))
    assert list(back.dtypes) == list(frame.dtypes)
    assert_frame_equal(back, frame)


def test_missingness_that_depends_on_another_column_comes_back():
    # x is missing for 80 % of group "a" and 5 % of group "b": the sampler sees
    # the missing state beside the group and gives back both rates.
    rng = np.random.default_rng(1)
    n = 2000
    group = rng.choice(["a", "b"], n)
    x = rng.normal(size=n)
    x[rng.random(n) < np.where(group == "a", 0.8, 0.05)] = np.nan
    frame = pd.DataFrame({"group": group, "x": x})
    synthetic = _kde_pipeline().fit(frame).sample(4000, random_state=0)
    rates = synthetic["x"].isna().groupby(synthetic["group"]).mean()
    real = frame["x"].isna().groupby(frame["group"]).mean()
    # Binomial spread of a rate from ~2000 rows is under 0.01; 0.04 leaves room
    # for the kernel's smoothing.
    np.testing.assert_allclose(rates[["a", "b"]], real[["a", "b"]], atol=0.04)
    assert synthetic["group"].notna().all()


def test_no_missing_values_where_the_real_column_had_none():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=300),
            "k": rng.integers(0, 4, 300),
            "c": rng.choice(["p", "q"], 300),
        }
    )
    encoder = TabularEncoder().fit(frame)
    out = _noisy_decode(encoder, frame, scale=3.0)
    assert out.notna().all().all()


def test_dates_keep_time_zone_resolution_and_grid():
    n = 200
    frame = pd.DataFrame(
        {
            "day": pd.date_range("2019-01-01", periods=n, freq="D"),
            "minute": pd.date_range(
                "2022-05-01 08:00", periods=n, freq="7min", tz="America/Lima"
            ),
            "weekly": pd.date_range("2020-01-06", periods=n, freq="W-MON"),
            "wait": pd.to_timedelta(np.arange(n) % 37, unit="min"),
        }
    )
    encoder = TabularEncoder().fit(frame)
    assert set(encoder.column_kinds_.values()) == {"datetime", "timedelta"}
    out = _noisy_decode(encoder, frame, scale=0.3)
    assert list(out.dtypes) == list(frame.dtypes)
    assert (out["day"] == out["day"].dt.normalize()).all()  # at midnight
    assert (out["minute"].dt.second == 0).all()
    assert str(out["minute"].dt.tz) == "America/Lima"
    assert (out["weekly"].dt.day_of_week == 0).all()  # still Mondays
    assert (out["wait"] % pd.Timedelta(minutes=1) == pd.Timedelta(0)).all()
    for name in frame.columns:
        assert frame[name].min() <= out[name].min() <= out[name].max()
        assert out[name].max() <= frame[name].max()


def _seasonal_frame(seed=0):
    """Four years of daily rows whose temperature follows the season."""
    dates = pd.date_range("2014-01-01", "2017-12-31", freq="D")
    rng = np.random.default_rng(seed)
    temperature = _season(dates) + rng.normal(0.0, 1.0, len(dates))
    return pd.DataFrame({"date": dates, "temp": temperature})


def _season(dates):
    day = pd.DatetimeIndex(dates).day_of_year.to_numpy()
    return 10 - 8 * np.cos(2 * np.pi * (day - 15) / 365.25)


def test_dates_spanning_years_encode_their_phase_in_the_year():
    frame = _seasonal_frame()
    encoder = TabularEncoder().fit(frame)
    assert encoder.codecs_["date"].period_ is not None
    assert list(encoder.get_feature_names_out()) == [
        "date",
        "date_year_cos",
        "date_year_sin",
        "temp",
    ]
    encoded = encoder.transform(frame)
    # The column's total variance is still 1: half for the time, half for the
    # phase.
    np.testing.assert_allclose(encoded[:, :3].var(axis=0).sum(), 1.0, rtol=1e-6)
    assert_frame_equal(encoder.inverse_transform(encoded), frame)
    # The phase decides the day in the year, the time the year: the rows of
    # 2015 with the phase of the rows of 2016 decode to 2016's dates shifted
    # by a year (within a day: 2016 is a leap year).
    in_2015 = (frame["date"].dt.year == 2015).to_numpy()
    in_2016 = (frame["date"].dt.year == 2016).to_numpy()
    mixed = encoded[in_2015].copy()
    mixed[:, 1:3] = encoded[in_2016][:365, 1:3]
    decoded = encoder.inverse_transform(
        np.column_stack([mixed[:, :3], encoded[in_2015, 3]])
    )
    expected = frame["date"][in_2016].iloc[:365].to_numpy() - np.timedelta64(365, "D")
    gap = (decoded["date"].to_numpy() - expected) / np.timedelta64(1, "D")
    assert np.abs(gap).max() <= 1
    # Shorter spans have no phase (one year of days is just a time).
    short = TabularEncoder().fit(frame.iloc[:500])
    assert short.codecs_["date"].period_ is None


def test_dates_spanning_years_keep_their_season():
    # A wide kernel density blurs the absolute time by weeks; with the phase
    # the temperature still follows the season at the decoded dates (RMS 1.4
    # around the curve, the noise being 1.0); without it, 4.0.
    frame = _seasonal_frame()
    pipe = skflow.make_generative_pipeline(
        TabularEncoder(), KernelDensity(bandwidth=0.1)
    ).fit(frame)
    out = pipe.sample(4000, random_state=0)
    residual = out["temp"] - _season(out["date"])
    assert np.sqrt(np.mean(residual**2)) < 2.0
    assert frame["date"].min() <= out["date"].min()
    assert out["date"].max() <= frame["date"].max()
    assert (out["date"] == out["date"].dt.normalize()).all()


@pytest.mark.parametrize(
    "values, grid",
    [
        (np.round(np.random.default_rng(0).uniform(0, 100, 300), 2), 0.01),
        (np.floor(np.random.default_rng(1).uniform(0, 100, 300)), 1.0),
        (np.random.default_rng(2).integers(0, 40, 300) / 2, 0.5),
    ],
    ids=["cents", "whole", "halves"],
)
def test_decoded_numbers_stay_on_the_recorded_grid(values, grid):
    frame = pd.DataFrame({"v": values})
    encoder = TabularEncoder().fit(frame)
    out = _noisy_decode(encoder, frame, scale=0.5)["v"].to_numpy()
    steps = out / grid
    np.testing.assert_allclose(steps, np.rint(steps), atol=1e-9)
    # Printed as recorded: no 16-digit tails.
    assert all(len(repr(float(v)).split(".")[-1]) <= 2 for v in out)


def test_zero_inflated_and_small_integer_columns_keep_their_point_masses():
    rng = np.random.default_rng(3)
    n = 3000
    amount = np.where(rng.random(n) < 0.6, 0.0, np.round(rng.lognormal(3, 1, n), 2))
    year = rng.choice(np.arange(2010, 2017), n, p=[0.3, 0.05, 0.1, 0.1, 0.1, 0.05, 0.3])
    frame = pd.DataFrame({"amount": amount, "year": year})
    synthetic = _kde_pipeline().fit(frame).sample(6000, random_state=1)
    zero_share = (synthetic["amount"] == 0).mean()
    assert abs(zero_share - 0.6) < 0.03
    # The year's levels keep their frequencies, end levels included (a
    # continuous treatment bunches toward the middle).
    real = frame["year"].value_counts(normalize=True).sort_index()
    fake = synthetic["year"].value_counts(normalize=True).reindex(real.index)
    np.testing.assert_allclose(fake, real, atol=0.03)
    positive = synthetic["amount"][synthetic["amount"] > 0]
    assert positive.min() >= amount[amount > 0].min()


def test_heavy_tailed_column_is_quantile_mapped_and_bounds_do_not_pile_up():
    rng = np.random.default_rng(4)
    n = 2000
    frame = pd.DataFrame(
        {
            "income": np.round(rng.lognormal(10, 1.2, n), 0),
            "age": rng.uniform(18, 90, n),
        }
    )
    encoder = TabularEncoder().fit(frame)
    assert encoder.codecs_["income"].transform_ == "quantile"
    assert encoder.codecs_["age"].transform_ == "linear"
    # Encoded heavy tails look Gaussian: no encoded value beyond 4 sigma.
    assert np.abs(encoder.transform(frame)).max() < 4
    out = _noisy_decode(encoder, frame, scale=0.5)
    for name in ("income", "age"):
        low = frame[name].min()
        at_bound = (out[name] <= low + 1e-9).mean()
        # Reflection, not clipping: the minimum is not a point mass.
        assert at_bound < 0.01, name


def test_repeated_values_of_a_continuous_column_come_back_exactly():
    # A logged amount: 40 distinct values off any grid (more than MAX_MASSES,
    # each under MASS_MIN_SHARE), each on many rows, plus a continuous part.
    rng = np.random.default_rng(11)
    n = 6000
    atoms = np.log(rng.uniform(50, 5000, 40))
    weights = rng.dirichlet(np.full(40, 2.0))
    on_atom = rng.random(n) < 0.8
    amount = np.where(
        on_atom, rng.choice(atoms, n, p=weights), rng.uniform(3.0, 9.0, n)
    )
    frame = pd.DataFrame({"amount": amount})
    codec = TabularEncoder().fit(frame).codecs_["amount"]
    assert codec.masses_.size == 0 and codec.transform_ == "quantile"
    # Every normal score decodes: scores drawn from N(0, 1), the encoded
    # marginal's law, give each atom its share of rows within 0.01 (the
    # binomial sd of a share is at most 0.0035 here), and the rows off the
    # atoms their share.
    scores = np.random.default_rng(12).normal(size=20_000)
    values = codec._inverse(scores * codec.fill_std_ + codec.fill_mean_)
    real_share = (amount[:, None] == atoms).mean(axis=0)
    decoded_share = (values[:, None] == atoms).mean(axis=0)
    np.testing.assert_allclose(decoded_share, real_share, atol=0.01)
    assert abs(np.isin(values, atoms).mean() - on_atom.mean()) < 0.02
    # Encoded rows decode to themselves.
    assert_frame_equal(
        TabularEncoder()
        .fit(frame)
        .inverse_transform(TabularEncoder().fit(frame).transform(frame)),
        frame,
    )


def test_adjacent_atoms_meet_without_a_value_between_them():
    # Thirty values, all repeated: the column is discrete, and no score
    # decodes between two of them.
    rng = np.random.default_rng(13)
    atoms = np.round(rng.lognormal(size=30), 6)
    values = rng.choice(atoms, 5000, p=rng.dirichlet(np.full(30, 3.0)))
    codec = TabularEncoder().fit(pd.DataFrame({"v": values})).codecs_["v"]
    assert codec.transform_ == "quantile"
    assert np.all(np.diff(codec.inverse_scores_) > 0)
    decoded = codec._inverse(np.linspace(-6, 6, 100_001))
    assert np.isin(decoded, atoms).all()


def test_a_plain_continuous_column_keeps_interpolating():
    rng = np.random.default_rng(14)
    values = rng.lognormal(size=3000)
    codec = TabularEncoder().fit(pd.DataFrame({"v": values})).codecs_["v"]
    assert codec.transform_ == "quantile"
    decoded = codec._inverse(np.random.default_rng(15).normal(size=3000))
    # Values between the knots, not copies of the rows.
    assert np.isin(decoded, values).mean() < 0.01


def test_whole_numbers_get_no_atoms_rounding_returns_them():
    # A skewed count: quantile-mapped, repeated values, but on the whole-number
    # grid, so the decoding map is the encoding's (no flats) and rounding
    # returns whole numbers.
    rng = np.random.default_rng(16)
    values = rng.negative_binomial(2, 0.05, 3000).astype(float) + 50
    codec = TabularEncoder().fit(pd.DataFrame({"v": values})).codecs_["v"]
    assert codec.transform_ == "quantile" and codec.step_ == (1.0, 0)
    np.testing.assert_array_equal(codec.inverse_knots_, codec.knots_)
    decoded = codec._inverse(np.random.default_rng(17).normal(size=3000))
    np.testing.assert_array_equal(decoded, np.round(decoded))


def test_many_levels_stay_within_the_width_bound_with_their_frequencies():
    rng = np.random.default_rng(5)
    n = 6000
    levels = np.array([f"L{i:04d}" for i in range(2000)])
    weights = 1.0 / np.arange(1, 2001)
    draws = rng.choice(levels, n, p=weights / weights.sum())
    frame = pd.DataFrame({"store": draws, "x": rng.normal(size=n)})
    encoder = TabularEncoder(max_categories=30).fit(frame)
    encoded = encoder.transform(frame)
    assert encoded.shape[1] == 30 + 1
    out = encoder.inverse_transform(encoded)
    assert set(out["store"]) <= set(draws)
    # Pooled levels come back by frequency: the decoded share of the top 29
    # levels matches, and many distinct rare levels appear.
    top = frame["store"].value_counts().index[:29]
    assert abs(out["store"].isin(top).mean() - frame["store"].isin(top).mean()) < 1e-9
    assert out["store"].nunique() > 200
    again = encoder.inverse_transform(encoded)
    assert_frame_equal(out, again)  # deterministic for the same rows


def _levels_on_a_line(n_levels=60, rows_per_level=40, seed=30):
    """Levels that a numeric column tells apart: level i sits near x = i."""
    rng = np.random.default_rng(seed)
    index = np.repeat(np.arange(n_levels), rows_per_level)
    return pd.DataFrame(
        {
            "site": np.array([f"S{i:03d}" for i in range(n_levels)])[index],
            "x": index + rng.normal(0, 0.1, index.size),
        }
    )


def test_pooled_levels_are_drawn_given_the_rest_of_the_row():
    # Sixty equally common levels, fifty-one of them pooled: a draw by
    # frequency alone would hit a row's own level 1 time in 51; given x, the
    # level is nearly determined.
    frame = _levels_on_a_line()
    encoder = TabularEncoder(max_categories=10).fit(frame)
    assert encoder.codecs_["site"].pooled_.size == 51
    out = encoder.inverse_transform(encoder.transform(frame))
    pooled = frame["site"].isin(encoder.codecs_["site"].pooled_)
    assert (out["site"][pooled] == frame["site"][pooled]).mean() > 0.8
    # The same rows still decode to the same levels.
    assert_frame_equal(out, encoder.inverse_transform(encoder.transform(frame)))


def test_a_context_that_says_nothing_gives_back_the_frequencies():
    rng = np.random.default_rng(31)
    n, n_levels = 20_000, 80
    weights = 0.93 ** np.arange(n_levels)
    levels = np.array([f"L{i:02d}" for i in range(n_levels)])
    frame = pd.DataFrame(
        {
            "store": rng.choice(levels, n, p=weights / weights.sum()),
            "x": rng.normal(size=n),
            "y": rng.exponential(size=n),
        }
    )
    encoder = TabularEncoder(max_categories=10).fit(frame)
    pooled = encoder.codecs_["store"].pooled_
    out = encoder.inverse_transform(encoder.transform(frame))
    real = frame["store"][frame["store"].isin(pooled)].value_counts(normalize=True)
    decoded = out["store"][out["store"].isin(pooled)].value_counts(normalize=True)
    total_variation = 0.5 * real.sub(decoded, fill_value=0).abs().sum()
    # About 12,000 pooled rows over 71 levels: sampling noise alone gives a
    # total variation near 0.03.
    assert total_variation < 0.06


def test_pooled_draws_do_not_depend_on_the_chunk_size(monkeypatch):
    from skflow.encoders import _columns

    frame = _levels_on_a_line(seed=32)
    encoder = TabularEncoder(max_categories=10).fit(frame)
    encoded = encoder.transform(frame) + np.random.default_rng(33).normal(
        0, 0.3, (len(frame), 1 + 10)
    )
    whole = encoder.inverse_transform(encoded)
    monkeypatch.setattr(_columns, "DRAW_CHUNK_CELLS", 7 * 51)
    assert_frame_equal(whole, encoder.inverse_transform(encoded))


def test_pooled_models_survive_saving_and_codecs_saved_without_them(tmp_path):
    frame = _levels_on_a_line(seed=34)
    encoder = TabularEncoder(max_categories=10).fit(frame)
    encoded = encoder.transform(frame)
    skflow.save(encoder, tmp_path / "encoder.skflow")
    loaded = skflow.load(tmp_path / "encoder.skflow")
    assert_frame_equal(
        loaded.inverse_transform(encoded), encoder.inverse_transform(encoded)
    )
    # A codec from before the pooled model draws by frequency.
    del loaded.codecs_["site"].__dict__["pooled_model_"]
    out = loaded.inverse_transform(encoded)
    assert out["site"].isin(frame["site"]).all()


def test_row_key_is_regenerated_unique():
    n = 50
    frame = pd.DataFrame({"id": np.arange(101, 101 + n), "x": np.linspace(0, 1, n)})
    encoder = TabularEncoder().fit(frame)
    assert encoder.column_kinds_["id"] == "key"
    assert encoder.transform(frame).shape == (n, 1)
    out = encoder.inverse_transform(np.zeros((80, 1)))
    assert out["id"].is_unique and out["id"].min() == 101
    assert out["id"].dtype == frame["id"].dtype


@pytest.mark.parametrize("dtype", [object, "string"])
def test_text_row_keys_are_fresh_unique_and_never_real(dtype):
    rng = np.random.default_rng(7)
    n = 300
    # Three-letter codes over seven letters: 343 possible, 300 taken, so a
    # random draw of the same look would often hit a real one.
    letters = np.array(list("ABCDEFG"))
    pool = np.array(
        ["".join(t) for t in letters[np.indices((7, 7, 7)).reshape(3, -1).T]]
    )
    codes = rng.choice(pool, size=n, replace=False)
    frame = pd.DataFrame(
        {
            "code": pd.array(codes, dtype=dtype),
            "ticket": pd.array(
                [f"T-{i:05d}" for i in rng.permutation(n) + 40], dtype=dtype
            ),
            "x": rng.normal(size=n),
        }
    )
    encoder = TabularEncoder().fit(frame)
    assert encoder.column_kinds_["code"] == encoder.column_kinds_["ticket"] == "key"
    assert encoder.transform(frame).shape == (n, 1)  # keys are not encoded
    out = encoder.inverse_transform(np.zeros((500, 1)))
    assert out["code"].dtype == frame["code"].dtype
    assert out["code"].is_unique and out["ticket"].is_unique
    assert not set(out["code"]) & set(codes)
    assert set("".join(out["code"])) <= set("ABCDEFG")
    # The prefix-and-number pattern continues from its smallest number.
    assert out["ticket"].iloc[0] == "T-00040" and out["ticket"].iloc[-1] == "T-00539"
    # The saved model holds no real key.
    assert not any(
        isinstance(v, str) and v in set(codes)
        for v in vars(encoder.codecs_["code"]).values()
    )
    # Repeated strings are levels, not keys.
    frame["code"] = pd.array(np.repeat(codes[:150], 2), dtype=dtype)
    assert TabularEncoder().fit(frame).column_kinds_["code"] == "category"


def test_documented_edge_cases():
    rng = np.random.default_rng(6)
    frame = pd.DataFrame(
        {
            "empty": np.full(30, np.nan),
            "nan_text": rng.choice(["nan", "ok"], 30).astype(object),
            "x": rng.normal(size=30),
        }
    )
    encoder = TabularEncoder().fit(frame)
    out = _noisy_decode(encoder, frame, scale=1.0)
    assert out["empty"].isna().all()  # a column with no value decodes missing
    # The string "nan" is a level like any other, not a missing value.
    assert out["nan_text"].notna().all() and set(out["nan_text"]) <= {"nan", "ok"}
    with pytest.warns(UserWarning, match="3 rows"):
        TabularEncoder().fit(frame.head(3))
    with pytest.raises(ValueError, match="infinite"):
        TabularEncoder().fit(frame.assign(x=np.inf))


def test_numeric_arrays_get_the_same_marginal_treatment():
    # A Student-t (df=2) column is heavy-tailed: quantile-mapped even as a
    # plain array, so a sampler sees Gaussian-like marginals.
    rng = np.random.default_rng(7)
    X = np.column_stack([rng.standard_t(2, 1000), rng.normal(size=1000)])
    encoder = TabularEncoder().fit(X)
    assert [encoder.codecs_[i].transform_ for i in (0, 1)] == ["quantile", "linear"]
    np.testing.assert_allclose(encoder.inverse_transform(encoder.transform(X)), X)


def _retail(n=400, seed=0):
    rng = np.random.default_rng(seed)
    price = np.round(rng.uniform(5, 100, n), 2)
    discount = np.round(price * rng.uniform(0, 0.4, n), 2)
    stores = rng.integers(0, 12, n)
    start = pd.Timestamp("2024-01-01") + pd.to_timedelta(
        rng.integers(0, 100, n), unit="D"
    )
    return pd.DataFrame(
        {
            "price": price,
            "discount": discount,
            "sale_price": np.round(price - discount, 2),
            "store_id": [f"S{i:02d}" for i in stores],
            "store_name": [f"Store number {i}" for i in stores],
            "start": start,
            "end": start + pd.to_timedelta(rng.integers(0, 30, n), unit="D"),
            "units": rng.poisson(20, n),
        }
    )


def test_exact_relations_are_found_and_kept_in_decoded_rows():
    frame = _retail()
    encoder = TabularEncoder().fit(frame)
    found = set(encoder.relations_)
    # The difference is found in some arrangement of its three columns.
    arithmetic = [r for r in found if " = " in r]
    assert len(arithmetic) == 1
    assert set(
        arithmetic[0].replace("=", " ").replace("+", " ").replace("-", " ").split()
    ) == {
        "price",
        "discount",
        "sale_price",
    }
    assert "start <= end" in found and "store_id -> store_name" in found
    out = _noisy_decode(encoder, frame, scale=1.0)
    np.testing.assert_allclose(
        out["sale_price"], out["price"] - out["discount"], atol=1e-9
    )
    assert (out["end"] >= out["start"]).all()
    names = dict(zip(frame["store_id"], frame["store_name"]))
    assert (out["store_id"].map(names) == out["store_name"]).all()
    # Derived columns are not encoded; the round trip is still exact.
    assert (
        encoder.transform(frame).shape[1]
        < TabularEncoder(relations=None).fit(frame).transform(frame).shape[1]
    )
    back = encoder.inverse_transform(encoder.transform(frame))
    assert_frame_equal(back, frame, check_exact=False, rtol=1e-12)


def test_a_boolean_column_can_be_the_source_of_a_lookup():
    # A boolean column decodes as its values (not as a category's values and
    # missing mask); the lookups it determines still decode row by row.
    rng = np.random.default_rng(0)
    flag = rng.random(60) < 0.4
    frame = pd.DataFrame(
        {
            "flag": flag,
            "copy": flag,
            "word": np.where(flag, "yes", "no"),
            "x": rng.normal(size=60),
        }
    )
    encoder = TabularEncoder().fit(frame)
    assert {"flag -> copy", "flag -> word"} <= set(encoder.relations_)
    out = _noisy_decode(encoder, frame, scale=1.0)
    assert len(out) == len(frame) and out["copy"].dtype == bool
    assert (out["copy"] == out["flag"]).all()
    assert (out["word"] == np.where(out["flag"], "yes", "no")).all()
    back = encoder.inverse_transform(encoder.transform(frame))
    assert_frame_equal(back, frame, check_exact=False, rtol=1e-12)


def test_declared_relations_are_checked_and_none_finds_nothing():
    frame = _retail()
    declared = TabularEncoder(relations=["sale_price = price - discount"]).fit(frame)
    assert declared.relations_ == ["sale_price = price - discount"]
    assert TabularEncoder(relations=None).fit(frame).relations_ == []
    with pytest.raises(ValueError, match="does not hold"):
        TabularEncoder(relations=["price = discount * units"]).fit(frame)
    with pytest.raises(ValueError, match="Cannot read"):
        TabularEncoder(relations=["price ~ discount"]).fit(frame)
    with pytest.raises(ValueError, match="does not have"):
        TabularEncoder(relations=["total = price + tax"]).fit(frame)


def test_independent_columns_get_no_relation():
    rng = np.random.default_rng(8)
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=300),
            "b": rng.normal(size=300),
            "c": rng.normal(size=300),
            "k": rng.choice(list("pqrs"), 300),
            "m": rng.choice(list("xyz"), 300),
        }
    )
    assert TabularEncoder().fit(frame).relations_ == []


def test_missing_values_unseen_in_fit_encode_at_the_centre():
    # A column complete in fit may have gaps later (a cross-validation fold):
    # they encode at the block's centre, never as NaN.
    frame = pd.DataFrame(
        {
            "flag": [True, False] * 20,
            "x": np.linspace(0, 1, 40),
            "c": ["a", "b", "c", "d"] * 10,
        }
    )
    encoder = TabularEncoder().fit(frame)
    gaps = pd.DataFrame(
        {
            "flag": pd.array([None, True], dtype="boolean"),
            "x": [np.nan, 0.5],
            "c": [None, "a"],
        }
    )
    encoded = encoder.transform(gaps)
    assert np.isfinite(encoded).all()
    np.testing.assert_allclose(encoded[0], 0.0, atol=1e-12)


def test_few_valued_columns_decode_only_values_they_had():
    # Yearly dates (12 first-of-January values) and a cylinder count with rare
    # levels: each value is a level, so no decoded row falls between them.
    rng = np.random.default_rng(9)
    n = 400
    years = pd.to_datetime([f"{y}-01-01" for y in rng.integers(1970, 1982, n)])
    cylinders = rng.choice([3, 4, 5, 6, 8], n, p=[0.01, 0.5, 0.01, 0.23, 0.25])
    frame = pd.DataFrame(
        {"year": years, "cylinders": cylinders, "x": rng.normal(size=n)}
    )
    encoder = TabularEncoder().fit(frame)
    out = _noisy_decode(encoder, frame, scale=1.5)
    assert out["year"].isin(set(frame["year"])).all()
    assert out["cylinders"].isin(set(frame["cylinders"])).all()
