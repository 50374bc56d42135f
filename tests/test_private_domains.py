"""skflow.privacy.private_domains: column domains under differential privacy.

The mechanisms are checked against their closed forms: the discrete Laplace
probabilities, the release probability of a level with a given count, the
power-of-two bins; the budget split over the columns; and the domains at a
budget so large that the noise vanishes, which must be those of the rows.
"""

import math

import numpy as np
import pandas as pd
import pytest

from skflow import _private_domains as mechanisms
from skflow.privacy import private_domains


def _table(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, n),
            "income": np.where(rng.random(n) < 0.1, np.nan, rng.lognormal(10, 1, n)),
            "debt": -rng.exponential(100.0, n),
            "smoker": rng.choice(["yes", "no", "sometimes"], n),
            "member": rng.random(n) < 0.3,
            "when": pd.Timestamp("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 900, n), unit="D"),
        }
    )


def test_discrete_laplace_has_its_closed_form_probabilities():
    # P(Z = k) = (1 - a) / (1 + a) * a**|k| with a = exp(-epsilon).
    epsilon, n = 0.7, 400_000
    draws = mechanisms.discrete_laplace(epsilon, n, np.random.default_rng(0))
    alpha = math.exp(-epsilon)
    for k in range(-3, 4):
        expected = (1 - alpha) / (1 + alpha) * alpha ** abs(k)
        observed = np.mean(draws == k)
        assert abs(observed - expected) < 5 * math.sqrt(expected / n), k
    assert abs(draws.mean()) < 5 * draws.std() / math.sqrt(n)
    assert mechanisms.tail_at_least(epsilon, 2) == pytest.approx(
        np.mean(draws >= 2), abs=5 * math.sqrt(0.2 / n)
    )


def test_a_level_is_released_with_its_closed_form_probability():
    # A level of count c appears when c + Z >= threshold: P(Z >= threshold - c).
    epsilon, delta, trials = 0.5, 1e-3, 3000
    threshold = mechanisms.level_threshold(epsilon, delta)
    counts = {"below": threshold - 2, "at": threshold, "above": threshold + 3}
    values = np.concatenate([[name] * c for name, c in counts.items()]).astype(object)
    rng = np.random.default_rng(0)
    released = {name: 0 for name in counts}
    for _ in range(trials):
        for name in _levels_or_none(values, epsilon, delta, rng):
            released[name] += 1
    for name, count in counts.items():
        m = threshold - count
        expected = (
            mechanisms.tail_at_least(epsilon, m)
            if m >= 1
            else 1 - mechanisms.tail_at_least(epsilon, 1 - m)
        )
        spread = math.sqrt(expected * (1 - expected) / trials)
        assert abs(released[name] / trials - expected) < 5 * spread + 1e-9, name


def _levels_or_none(values, epsilon, delta, rng):
    try:
        return mechanisms.noisy_levels(values, epsilon, delta, rng, "x")[0]
    except ValueError:  # no level released in this draw
        return []


def test_a_level_of_one_row_appears_with_probability_at_most_delta():
    # The stability threshold: one row's level passes with probability <= delta.
    epsilon, delta = 1.0, 1e-6
    threshold = mechanisms.level_threshold(epsilon, delta)
    assert mechanisms.tail_at_least(epsilon, threshold - 1) <= delta
    assert mechanisms.tail_at_least(epsilon, threshold - 2) > delta  # the smallest
    values = np.array(["rare"] + ["common"] * 500, dtype=object)
    rng = np.random.default_rng(0)
    for _ in range(2000):
        levels, _ = mechanisms.noisy_levels(values, epsilon, delta, rng, "x")
        assert levels == ["common"]


def test_number_bins_are_ordered_and_hold_their_values():
    rng = np.random.default_rng(0)
    magnitudes = 10.0 ** rng.uniform(-300, 300, 5000)
    values = np.concatenate(
        [magnitudes, -magnitudes, [0.0, -0.0, 1.0, -1.0, 0.5, 2.0**-70, 1.7e308]]
    )
    bins = mechanisms.number_bins(values)
    order = np.argsort(values, kind="stable")
    assert np.all(np.diff(bins[order]) >= 0)  # the bin order is the value order
    for value, index in zip(values, bins):
        low, high = mechanisms.bin_edges(int(index))
        assert low <= value <= high
        if abs(value) >= 2.0**-64 and abs(value) < 1e308:
            assert high / low == pytest.approx(2.0) or high / low == pytest.approx(0.5)
    assert mechanisms.number_bins(np.array([np.nan]))[0] == 0


def test_with_a_vast_budget_the_domains_are_the_rows_own():
    X = _table()
    domains = private_domains(X, epsilon=1e6, random_state=0)
    for name in ("age", "income", "debt"):
        low, high = domains[name]["range"]
        values = X[name].dropna()
        assert low <= values.min() and values.max() <= high
        # Exactly the power-of-two bins of the least and the greatest value.
        ends = mechanisms.number_bins(np.array([values.min(), values.max()]))
        assert low == mechanisms.bin_edges(int(ends[0]))[0]
        assert high == mechanisms.bin_edges(int(ends[1]))[1]
    assert domains["income"]["missing"] and not domains["age"]["missing"]
    assert sorted(domains["smoker"]["levels"]) == ["no", "sometimes", "yes"]
    assert domains["member"] == {"levels": [False, True], "missing": False}
    low, high = domains["when"]["range"]
    assert low <= X["when"].min() and X["when"].max() <= high


def test_the_budget_is_split_over_the_columns_estimated(monkeypatch):
    X = _table()
    spent = []
    noise = mechanisms.discrete_laplace

    def recording(epsilon, size, rng):
        spent.append(epsilon)
        return noise(epsilon, size, rng)

    monkeypatch.setattr(mechanisms, "discrete_laplace", recording)
    known = {"when": (pd.Timestamp("2019-01-01"), pd.Timestamp("2023-01-01"))}
    domains = private_domains(X, epsilon=2.5, known=known, random_state=0)
    assert domains["when"] == known["when"]  # copied, not read or charged
    assert spent == [pytest.approx(2.5 / 5)] * 5  # one histogram per column


def test_the_domains_fit_a_private_pipeline():
    from skflow import LipschitzParticleSampler, TabularEncoder
    from skflow.pipeline import make_generative_pipeline

    X = _table().drop(columns=["when"])
    domains = private_domains(X, epsilon=1.0, random_state=0)
    encoder = TabularEncoder(domains=domains)
    sampler = LipschitzParticleSampler(
        max_iter=3, n_particles=50, privacy=1.0, random_state=0
    )
    model = make_generative_pipeline(encoder, sampler).fit(X)
    rows = model.sample(200, random_state=0)
    assert list(rows.columns) == list(X.columns)
    low, high = domains["age"]["range"]
    assert rows["age"].between(low, high).all()
    assert set(rows["smoker"]) <= set(domains["smoker"]["levels"])


def test_bad_calls_are_refused_with_the_remedy():
    X = _table(n=40)
    with pytest.raises(ValueError, match="Column 'age': no range .*known=, raise"):
        private_domains(X[["age"]], epsilon=0.05, random_state=0)
    with pytest.raises(ValueError, match="Column 'smoker': no level .*known="):
        private_domains(X[["smoker"]], epsilon=0.05, random_state=0)
    with pytest.raises(TypeError, match="reads a DataFrame"):
        private_domains(X.to_numpy(), epsilon=1.0)
    for bad in (0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="epsilon must be positive"):
            private_domains(X, epsilon=bad)
    with pytest.raises(TypeError, match="epsilon must be a number"):
        private_domains(X, epsilon=True)
    with pytest.raises(ValueError, match="delta must be in"):
        private_domains(X, epsilon=1.0, delta=1.0)
    with pytest.raises(ValueError, match=r"X does not have: \['height'\]"):
        private_domains(X, epsilon=1.0, known={"height": (0, 3)})
