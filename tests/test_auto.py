"""AutoSampler: the race, its guard, its budget, and the sampler contract."""

import time
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

import skflow
from skflow import AutoSampler, TabularEncoder, make_generative_pipeline
from skflow._testing import fast_flow
from skflow.auto import GaussianMixtureSampler, default_candidates, expand_candidates


@pytest.fixture(autouse=True)
def _quiet_convergence():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture
def blobs():
    X, _ = make_blobs(n_samples=300, centers=4, n_features=3, random_state=0)
    return X


class CopySampler(BaseEstimator):
    """Returns training rows verbatim: perfect by any distance, and a copier."""

    def fit(self, X, y=None):
        self.rows_ = np.asarray(X, dtype=float)
        self.n_features_in_ = self.rows_.shape[1]
        return self

    def sample(self, n_samples=1, *, random_state=None):
        rng = np.random.RandomState(random_state)
        return self.rows_[rng.randint(len(self.rows_), size=n_samples)]

    def score(self, X, y=None):
        return 0.0


class SlowSampler(CopySampler):
    """Sleeps in fit, then samples Gaussian noise around the mean."""

    def __init__(self, seconds=0.3):
        self.seconds = seconds

    def fit(self, X, y=None):
        time.sleep(self.seconds)
        return super().fit(X)

    def sample(self, n_samples=1, *, random_state=None):
        rng = np.random.RandomState(random_state)
        spread = self.rows_.std(axis=0)
        return self.rows_.mean(axis=0) + spread * rng.normal(
            size=(n_samples, self.n_features_in_)
        )


class FailingSampler(CopySampler):
    def fit(self, X, y=None):
        raise RuntimeError("this candidate always fails")


def _mixtures():
    # One Gaussian against a mixture, on four blobs: the mixture must win.
    return [
        ("one_gaussian", GaussianMixtureSampler(max_components=1)),
        ("mixture", GaussianMixtureSampler(max_components=8)),
    ]


def test_the_better_model_wins(blobs):
    auto = AutoSampler(candidates=_mixtures(), cv=2, random_state=0).fit(blobs)
    assert auto.best_params_ == {"candidate": "mixture"}
    board = auto.leaderboard_
    assert list(board["candidate"]) == ["mixture", "one_gaussian"]
    assert board.loc[0, "c2st"] < board.loc[1, "c2st"]
    assert board.loc[0, "status"] == "chosen"
    assert auto.best_score_ == pytest.approx(board.loc[0, "score_mean"])


@pytest.mark.parametrize("scoring", ["c2st_energy", "c2st", "energy_distance"])
def test_a_candidate_that_copies_its_training_rows_loses(blobs, scoring):
    # Copies are closer to held-out rows than any model's rows (the energy
    # distance of the train rows themselves), yet dcr is 0: they must lose.
    candidates = [("copies", CopySampler()), *_mixtures()]
    auto = AutoSampler(candidates=candidates, scoring=scoring, random_state=0).fit(
        blobs
    )
    board = auto.leaderboard_.set_index("candidate")
    assert auto.best_params_["candidate"] != "copies"
    assert board.loc["copies", "dcr"] < 0.1
    assert board.loc["copies", "status"].startswith("memorises")


def test_successive_halving_keeps_the_best_third(blobs):
    candidates = [
        (f"gmm{k}", GaussianMixtureSampler(max_components=k)) for k in (1, 2, 4, 8, 16)
    ]
    auto = AutoSampler(candidates=candidates, cv=3, incumbent=None, random_state=0)
    counts = auto.fit(blobs).leaderboard_.set_index("candidate")["n_splits"]
    # Round 1: all 5; round 2: ceil(5 / 3) = 2; round 3 would have 1: not run.
    assert sorted(counts) == [1, 1, 1, 2, 2]
    assert counts[auto.best_params_["candidate"]] == 2
    out = auto.leaderboard_[auto.leaderboard_["n_splits"] == 1]
    assert (out["status"] == "out after round 1").all()
    assert auto.leaderboard_["lead"].isna().all()


def test_the_incumbent_runs_every_round_beside_the_best_challengers(blobs):
    candidates = [
        (f"gmm{k}", GaussianMixtureSampler(max_components=k)) for k in (1, 2, 4, 8, 16)
    ]
    auto = AutoSampler(candidates=candidates, cv=3, random_state=0).fit(blobs)
    board = auto.leaderboard_.set_index("candidate")
    # The incumbent (the first, one Gaussian: the worst on four blobs) is in
    # every round; round 2: ceil(4 / 3) = 2 challengers, round 3: 1.
    assert board.loc["gmm1", "n_splits"] == 3
    assert sorted(board["n_splits"]) == [1, 1, 2, 3, 3]
    assert np.isnan(board.loc["gmm1", "lead"])
    # Its lead is clear on four blobs: the mixture takes the incumbent's place.
    assert auto.best_params_["candidate"] != "gmm1"
    assert board.loc[auto.best_params_["candidate"], "n_splits"] == 3
    assert board.loc[auto.best_params_["candidate"], "lead"] > 0


class ReseededMixture(GaussianMixtureSampler):
    """GaussianMixtureSampler on another seed than the race gives it: the same
    model as its parent, with other noise."""

    def fit(self, X, y=None):
        seed = None if self.random_state is None else self.random_state + 1
        return GaussianMixtureSampler(
            max_components=self.max_components, random_state=seed
        ).fit(X)


def test_a_lead_within_the_noise_keeps_the_incumbent(blobs):
    # The twin is the incumbent's own model on other seeds: its lead is noise.
    candidates = [
        ("incumbent", GaussianMixtureSampler(max_components=8)),
        ("twin", ReseededMixture(max_components=8)),
    ]
    # A seed on which the noise favours the twin, a little (under pure noise
    # a lead passes one standard error on about a fifth of the seeds).
    auto = AutoSampler(candidates=candidates, cv=4, random_state=10).fit(blobs)
    board = auto.leaderboard_.set_index("candidate")
    assert board.loc["twin", "lead"] > 0  # the premise: noise favours the twin
    assert board.loc["twin", "n_splits"] == board.loc["incumbent", "n_splits"] == 4
    assert auto.best_params_ == {"candidate": "incumbent"}
    assert board.loc["twin", "status"].startswith("runner-up: lead")
    # By the mean score alone the twin would have been chosen.
    assert board.loc["twin", "score_mean"] > board.loc["incumbent", "score_mean"]


def test_the_standard_error_pools_each_challengers_spread():
    from skflow.auto import lead_and_standard_error, paired_gaps

    ok = lambda score: {"status": "ok", "score": score}  # noqa: E731
    incumbent = [ok(0.0), ok(1.0), ok(2.0), {"status": "failed"}]
    leader = [ok(0.3), ok(1.1), ok(2.2), ok(9.0)]
    gaps = paired_gaps(leader, incumbent)
    np.testing.assert_allclose(gaps, [0.3, 0.1, 0.2])
    # Another challenger's differences about its own mean (a true lead of
    # 5 does not count as noise): squares 0.01 + 0.01 and 0.01 + 0.01 + 0 over
    # 1 + 2 degrees of freedom; the error is for the leader's three splits.
    other = np.array([5.1, 4.9])
    lead, error = lead_and_standard_error(gaps, [gaps, other])
    assert lead == pytest.approx(0.2)
    assert error == pytest.approx(np.sqrt((0.02 + 0.02) / 3 / 3))
    # No challenger with two shared splits: the noise cannot be estimated.
    assert np.isnan(lead_and_standard_error(gaps[:1], [gaps[:1]])[1])


def test_the_time_budget_holds(blobs):
    fit_seconds, budget = 0.3, 1.0
    candidates = [(f"slow{i}", SlowSampler(fit_seconds)) for i in range(8)]
    start = time.perf_counter()
    auto = AutoSampler(candidates=candidates, time_budget=budget, random_state=0)
    auto.fit(blobs)
    elapsed = time.perf_counter() - start
    # The race: the budget plus one fit started before it ran out; then the
    # refit (one more fit), scoring and setup. Generous for a loaded machine.
    assert elapsed < budget + 2 * fit_seconds + 3.0
    board = auto.leaderboard_
    assert (board["status"] == "round 1 not run (time budget)").sum() >= 3
    assert (board["n_splits"] >= 1).sum() >= 2


def test_same_seed_same_choice_and_rows(blobs):
    candidates = [*_mixtures(), ("flow", fast_flow())]
    first = AutoSampler(candidates=candidates, cv=2, random_state=3).fit(blobs)
    second = AutoSampler(candidates=candidates, cv=2, random_state=3).fit(blobs)
    pd.testing.assert_frame_equal(
        first.leaderboard_.drop(columns="seconds"),
        second.leaderboard_.drop(columns="seconds"),
    )
    np.testing.assert_array_equal(
        first.sample(20, random_state=0), second.sample(20, random_state=0)
    )


def test_failing_candidates_lose_and_all_failing_is_an_error(blobs):
    candidates = [("broken", FailingSampler()), *_mixtures()]
    auto = AutoSampler(candidates=candidates, cv=2, random_state=0).fit(blobs)
    board = auto.leaderboard_.set_index("candidate")
    assert "this candidate always fails" in board.loc["broken", "status"]
    assert auto.best_params_["candidate"] == "mixture"
    with pytest.raises(ValueError, match="No candidate could be fitted.*always fails"):
        AutoSampler(candidates=[FailingSampler()], random_state=0).fit(blobs)


def test_ctrl_c_in_a_candidate_stops_the_whole_race(blobs, monkeypatch):
    # The candidate's loop keeps a partial model and warns; the race must not
    # take that for a finished fit and go on to the next candidate.
    import skflow._base
    from skflow._testing import interrupting_progress_bar

    started = []
    interrupting = interrupting_progress_bar(1)

    def progress_bar(*args, **kwargs):
        started.append(kwargs.get("desc"))
        return interrupting(*args, **kwargs)

    monkeypatch.setattr(skflow._base, "tqdm", progress_bar)
    candidates = [("flow", fast_flow()), *_mixtures(), ("flow2", fast_flow())]
    auto = AutoSampler(candidates=candidates, cv=2, random_state=0)
    with warnings.catch_warnings():
        # No partial model is kept, so no warning may say one is.
        warnings.filterwarnings("error", message=".*interrupted")
        with pytest.raises(KeyboardInterrupt):
            auto.fit(blobs)
    assert started == ["SlicedWassersteinFlow"]  # no later candidate ran
    assert not hasattr(auto, "best_estimator_")


def test_a_long_quiet_race_shows_its_progress(blobs, capsys, monkeypatch):
    # verbose=0: nothing, unless the race outlasts the quiet delay (a minute,
    # zero here): then a bar counting its fits.
    import skflow._progress_bars

    AutoSampler(candidates=_mixtures(), cv=2, random_state=0).fit(blobs)
    assert capsys.readouterr() == ("", "")
    monkeypatch.setattr(skflow._progress_bars, "QUIET_PROGRESS_DELAY", 0.0)
    AutoSampler(candidates=_mixtures(), cv=2, random_state=0).fit(blobs)
    out, err = capsys.readouterr()
    assert out == "" and "AutoSampler race" in err and "fit" in err


def test_dataframes_go_through_a_tabular_encoder():
    rng = np.random.default_rng(0)
    n = 200
    group = rng.choice(["a", "b", "c"], n)
    frame = pd.DataFrame(
        {
            "group": group,
            "x": np.where(group == "a", 0.0, 3.0) + rng.normal(size=n),
            "count": rng.poisson(3, n),
        }
    )
    auto = AutoSampler(candidates=_mixtures(), cv=2, random_state=0).fit(frame)
    assert isinstance(auto.best_estimator_, skflow.GenerativePipeline)
    assert isinstance(auto.best_estimator_[0], TabularEncoder)
    out = auto.sample(50, random_state=0)
    assert list(out.columns) == list(frame.columns)
    assert list(out.dtypes) == list(frame.dtypes)
    assert set(out["group"]) <= {"a", "b", "c"}
    np.testing.assert_array_equal(auto.feature_names_in_, frame.columns)


def test_labels_make_every_candidate_class_conditional(blobs):
    X, y = make_blobs(n_samples=300, centers=3, n_features=2, random_state=1)
    auto = AutoSampler(candidates=_mixtures(), cv=2, random_state=0).fit(X, y)
    assert isinstance(auto.best_estimator_, skflow.ClassConditionalSampler)
    X_new, y_new = auto.sample(90, random_state=0)
    assert X_new.shape == (90, 2) and set(y_new) == {0, 1, 2}
    X_new, y_new = auto.sample(y=np.zeros(10, dtype=int), random_state=0)
    assert (y_new == 0).all()


def test_behind_a_tabular_encoder_candidates_keep_its_scale():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"c": rng.choice(list("abcdef"), 200), "x": rng.normal(size=200)}
    )
    auto = AutoSampler(candidates=[("flow", fast_flow())], cv=2, random_state=0)
    pipe = make_generative_pipeline(TabularEncoder(), auto).fit(frame)
    np.testing.assert_array_equal(pipe[-1].best_estimator_._spread, 1.0)
    assert list(pipe.sample(5, random_state=0).columns) == ["c", "x"]


def test_save_and_load_keep_the_choice(blobs, tmp_path):
    auto = AutoSampler(
        candidates=[*_mixtures(), ("flow", fast_flow())], cv=2, random_state=0
    ).fit(blobs)
    skflow.save(auto, tmp_path / "auto.skflow")
    loaded = skflow.load(tmp_path / "auto.skflow")
    np.testing.assert_array_equal(
        loaded.sample(10, random_state=1), auto.sample(10, random_state=1)
    )
    pd.testing.assert_frame_equal(loaded.leaderboard_, auto.leaderboard_)
    assert loaded.best_params_ == auto.best_params_
    assert loaded.score(blobs) == pytest.approx(auto.score(blobs))


def test_candidate_lists_and_grids_expand_to_named_entrants():
    entrants = expand_candidates(
        [
            GaussianMixtureSampler(),
            (GaussianMixtureSampler(), {"max_components": [1, 2]}),
            ("mine", GaussianMixtureSampler()),
            GaussianMixtureSampler(),
        ]
    )
    names = [name for name, _, _ in entrants]
    assert names == [
        "GaussianMixtureSampler",
        "GaussianMixtureSampler(max_components=1)",
        "GaussianMixtureSampler(max_components=2)",
        "mine",
        "GaussianMixtureSampler#2",
    ]
    assert entrants[2][1].max_components == 2 and entrants[2][2] == {
        "max_components": 2
    }
    with pytest.raises(TypeError, match="Cannot use 3 as a candidate"):
        expand_candidates([3])
    with pytest.raises(ValueError, match="candidates is empty"):
        expand_candidates([])


def test_default_candidates_cover_the_four_families_and_a_floor():
    names = [type(est).__name__ for _, est in default_candidates()]
    assert set(names) == {
        "GaussianMixtureSampler",
        "LipschitzParticleSampler",
        "EntropicOTGenerator",
        "SlicedWassersteinFlow",
        "ProximalMFGFlow",
    }
    settings = {name: est.get_params() for name, est in default_candidates()}
    assert settings["entropic_reg0.1_debias0.8"]["reg"] == 0.1
    assert settings["entropic_reg0.1_debias0.8"]["debias"] == 0.8


def test_gaussian_mixture_sampler_keeps_the_first_two_moments(blobs):
    # At a fixed point of EM, a full-covariance mixture's mean and covariance
    # are the data's: its draws must have them, within sampling error.
    sampler = GaussianMixtureSampler(dtype="float64", random_state=0).fit(blobs)
    assert sampler.n_components_ == 4  # BIC finds the four blobs
    assert len(sampler.history_["bic"]) == 5  # 1, 2, 4, 8, 16 components tried
    rows = sampler.sample(40000, random_state=0)
    spread = blobs.std(axis=0)
    np.testing.assert_allclose(
        rows.mean(axis=0), blobs.mean(axis=0), atol=0.03 * spread.max()
    )
    np.testing.assert_allclose(
        np.cov(rows.T), np.cov(blobs.T), rtol=0.05, atol=0.05 * spread.max() ** 2
    )
    np.testing.assert_array_equal(
        sampler.sample(5, random_state=1),
        clone(sampler).fit(blobs).sample(5, random_state=1),
    )


def test_gaussian_mixture_sampler_warm_start_continues_the_mixture(blobs):
    sampler = GaussianMixtureSampler(max_iter=2, random_state=0).fit(blobs)
    n_components, bic = sampler.n_components_, min(sampler.history_["bic"])
    sampler.set_params(warm_start=True, max_iter=100).fit(blobs)
    assert sampler.n_components_ == n_components
    assert sampler.n_iter_ == 6 and len(sampler.history_["bic"]) == 6
    # EM goes on from the two-step mixture: its BIC can only improve.
    assert sampler.history_["bic"][-1] <= bic + 1e-6


def test_bad_parameters_are_refused(blobs):
    with pytest.raises(ValueError, match="time_budget"):
        AutoSampler(time_budget=0).fit(blobs)
    with pytest.raises(ValueError, match="scoring"):
        AutoSampler(scoring="accuracy").fit(blobs)
    with pytest.raises(ValueError, match="one label per row"):
        AutoSampler(candidates=_mixtures()).fit(blobs, np.zeros(3))
    with pytest.raises(ValueError, match="not an entrant's name.*one_gaussian"):
        AutoSampler(candidates=_mixtures(), incumbent="lipschitz").fit(blobs)
    with pytest.raises(ValueError, match="incumbent=2 but there are 2 entrants"):
        AutoSampler(candidates=_mixtures(), incumbent=2).fit(blobs)
