"""The sampler contract, checked on every skflow sampler.

Each estimator appears with fast constructor settings; the same checks run for
all of them, plus scikit-learn's own ``parametrize_with_checks``.
"""

import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skflow._testing import fast_samplers, interrupting_progress_bar
from skflow.exceptions import DeviceWarning


def _id(estimator):
    kind = getattr(estimator, "parameterization", "") or getattr(
        estimator, "solver", ""
    )
    return type(estimator).__name__ + (f"-{kind}" if kind else "")


SAMPLERS = fast_samplers()


@pytest.fixture(autouse=True)
def _quiet_convergence():
    # The fast settings stop long before convergence on purpose.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@parametrize_with_checks(fast_samplers())
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _fit(estimator, X, device="cpu"):
    return clone(estimator).set_params(device=device).fit(X)


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_sample_shape_dtype_finite(estimator, wine_data, device):
    sampler = _fit(estimator, wine_data, device)
    for n in (1, 7, 500):
        X_new = sampler.sample(n)
        assert X_new.shape == (n, wine_data.shape[1])
        assert X_new.dtype == np.float64
        assert np.isfinite(X_new).all()


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_not_fitted(estimator):
    with pytest.raises(NotFittedError):
        clone(estimator).sample(3)


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
@pytest.mark.parametrize(
    "n_samples, error",
    [
        (0, ValueError),
        (-1, ValueError),
        (2.5, TypeError),
        (3.0, TypeError),
        ("3", TypeError),
        (True, TypeError),
        (None, TypeError),
    ],
)
def test_n_samples_validated(estimator, blobs_data, n_samples, error):
    sampler = _fit(estimator, blobs_data)
    with pytest.raises(error, match="n_samples"):
        sampler.sample(n_samples)


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_numpy_integer_n_samples(estimator, blobs_data):
    assert _fit(estimator, blobs_data).sample(np.int64(4)).shape == (4, 2)


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_random_state_rules(estimator, blobs_data):
    a = _fit(estimator, blobs_data)
    b = _fit(estimator, blobs_data)
    # Same seed, same draw, every call.
    np.testing.assert_array_equal(
        a.sample(50, random_state=3), a.sample(50, random_state=3)
    )
    assert not np.array_equal(
        a.sample(50, random_state=3), a.sample(50, random_state=4)
    )
    # Without a seed, successive draws differ...
    first, second = a.sample(50), a.sample(50)
    assert not np.array_equal(first, second)
    # ...but the sequence is reproducible from the constructor's seed.
    np.testing.assert_array_equal(first, b.sample(50))
    np.testing.assert_array_equal(second, b.sample(50))
    # An explicit seed does not advance the fitted stream.
    c = _fit(estimator, blobs_data)
    c.sample(50, random_state=0)
    np.testing.assert_array_equal(c.sample(50), first)


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_fit_is_deterministic(estimator, blobs_data):
    a = _fit(estimator, blobs_data).sample(40, random_state=0)
    b = _fit(estimator, blobs_data).sample(40, random_state=0)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
@pytest.mark.parametrize("seed", [0, None])
def test_no_global_rng_side_effects(estimator, blobs_data, seed):
    np_state = np.random.get_state()  # noqa: NPY002 (the legacy global state)
    torch_state = torch.get_rng_state()
    sampler = _fit(clone(estimator).set_params(random_state=seed), blobs_data)
    sampler.sample(20)
    sampler.sample(20, random_state=1)
    sampler.score(blobs_data)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()  # noqa: NPY002
    assert after[0] == np_state[0] and np.array_equal(after[1], np_state[1])
    assert after[2:] == np_state[2:]


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_pickle_round_trip(estimator, blobs_data):
    sampler = _fit(estimator, blobs_data)
    expected = sampler.sample(30, random_state=0)
    for restored in (
        pickle.loads(pickle.dumps(sampler)),
        _joblib_round_trip(sampler),
    ):
        np.testing.assert_array_equal(restored.sample(30, random_state=0), expected)


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_safe_save_load_round_trip(estimator, blobs_data, tmp_path):
    import skflow

    sampler = _fit(estimator, blobs_data)
    expected = sampler.sample(30, random_state=0)
    path = tmp_path / "model.skflow"
    skflow.save(sampler, path)
    restored = skflow.load(path)
    assert type(restored) is type(sampler)
    assert restored.get_params() == sampler.get_params()
    np.testing.assert_array_equal(restored.sample(30, random_state=0), expected)
    # The sampling stream continues where the saved one stood.
    np.testing.assert_array_equal(restored.sample(30), sampler.sample(30))


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_small_draws_identical_after_save_load(estimator, tmp_path):
    # One to three rows of 13 features go through other matrix kernels than
    # large draws; a fitted tensor stored as a transposed view used to sample
    # differently from its contiguous saved copy there.
    from sklearn.datasets import load_wine

    import skflow

    sampler = _fit(estimator, load_wine().data)
    skflow.save(sampler, tmp_path / "model.skflow")
    restored = skflow.load(tmp_path / "model.skflow")
    for n_samples in (1, 2, 3):
        np.testing.assert_array_equal(
            restored.sample(n_samples, random_state=1),
            sampler.sample(n_samples, random_state=1),
        )


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_concurrent_sample_calls_are_safe(estimator, blobs_data):
    from concurrent.futures import ThreadPoolExecutor

    sampler = _fit(estimator, blobs_data)
    expected = [sampler.sample(40, random_state=seed) for seed in range(8)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda seed: sampler.sample(40, random_state=seed), range(8))
        )
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got, want)


def test_same_seed_same_bits_in_another_process(blobs_data, tmp_path):
    # One subprocess for every sampler: starting Python with torch costs seconds.
    import subprocess
    import sys

    samplers = fast_samplers()  # fresh instances, whatever other tests did
    here = [_fit(est, blobs_data).sample(25, random_state=0) for est in samplers]
    np.save(tmp_path / "X.npy", blobs_data)
    joblib.dump(samplers, tmp_path / "unfitted.joblib")
    script = (
        "import joblib, numpy as np, warnings; "
        "warnings.simplefilter('ignore'); "
        f"ests = joblib.load(r'{tmp_path / 'unfitted.joblib'}'); "
        f"X = np.load(r'{tmp_path / 'X.npy'}'); "
        f"np.save(r'{tmp_path / 'there.npy'}', "
        "np.stack([e.fit(X).sample(25, random_state=0) for e in ests]))"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    there = np.load(tmp_path / "there.npy")
    for estimator, mine, theirs in zip(samplers, here, there):
        np.testing.assert_array_equal(theirs, mine, err_msg=_id(estimator))


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_ctrl_c_during_fit_keeps_a_usable_model(estimator, blobs_data, monkeypatch):
    import skflow._base

    monkeypatch.setattr(skflow._base, "tqdm", interrupting_progress_bar(1))
    sampler = clone(estimator).set_params(verbose=1)
    with pytest.warns(UserWarning, match="interrupted"):
        sampler.fit(blobs_data)
    assert 1 <= sampler.n_iter_
    for values in sampler.history_.values():
        assert len(values) == sampler.n_iter_
    assert np.isfinite(sampler.sample(20, random_state=0)).all()
    assert getattr(sampler, "stop_reason_", "interrupted") == "interrupted"


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_warm_start_continues_the_fit(estimator, blobs_data):
    first = _fit(estimator, blobs_data)
    n_first = first.n_iter_
    history_first = {key: list(values) for key, values in first.history_.items()}
    continued = first.set_params(warm_start=True).fit(blobs_data)
    assert continued.n_iter_ > n_first
    for key, values in continued.history_.items():
        assert len(values) == continued.n_iter_
        assert values[:n_first] == history_first[key], key
    # Beyond the fitted particles too (replayed flows replay every iteration).
    assert np.isfinite(continued.sample(300, random_state=0)).all()
    # Rows of another width are refused, and the fitted model is kept.
    with pytest.raises(ValueError, match="features"):
        continued.fit(blobs_data[:, :1])
    assert np.isfinite(continued.sample(5, random_state=0)).all()
    # On an unfitted sampler, warm_start=True is an ordinary fit.
    fresh = clone(estimator).set_params(warm_start=True, device="cpu")
    np.testing.assert_array_equal(
        fresh.fit(blobs_data).sample(20, random_state=0),
        _fit(estimator, blobs_data).sample(20, random_state=0),
    )


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_a_failed_refit_keeps_the_fitted_model(estimator, blobs_data, monkeypatch):
    import skflow._base

    sampler = _fit(estimator, blobs_data)
    before = sampler.sample(20, random_state=0)
    state = dict(vars(sampler))

    def ctrl_c_at_once(*args, **kwargs):
        raise KeyboardInterrupt

    # Valid rows of another width, and Ctrl-C before the first iteration: the
    # refit has already rescaled when it stops.
    monkeypatch.setattr(skflow._base, "tqdm", ctrl_c_at_once)
    with pytest.raises(KeyboardInterrupt):
        sampler.fit(np.hstack([blobs_data, blobs_data[:, :1]]))
    assert vars(sampler).keys() == state.keys()
    assert all(vars(sampler)[key] is value for key, value in state.items())
    np.testing.assert_array_equal(sampler.sample(20, random_state=0), before)


def _joblib_round_trip(obj):
    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


def _tensors_in(obj):
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _tensors_in(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            yield from _tensors_in(value)


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_pickled_state_is_device_free(estimator, blobs_data, device):
    sampler = _fit(estimator, blobs_data, device)
    sampler.sample(5)  # populate any device cache
    state = sampler.__getstate__()
    tensors = list(_tensors_in(state))
    assert tensors, "a fitted sampler should hold its learned tensors"
    assert all(t.device.type == "cpu" for t in tensors)
    assert state.get("_tensor_cache") is None


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_device_switch_after_fit(estimator, blobs_data, device):
    sampler = _fit(estimator, blobs_data, device)
    expected = sampler.sample(25, random_state=0)
    sampler.set_params(device="cpu")
    moved = sampler.sample(25, random_state=0)
    assert moved.shape == expected.shape
    if device == "cpu":
        np.testing.assert_array_equal(moved, expected)
    else:
        np.testing.assert_allclose(moved, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_unavailable_device_falls_back_with_warning(estimator, blobs_data):
    if torch.cuda.device_count() > 64:
        pytest.skip("a machine with 65 GPUs")
    with pytest.warns(DeviceWarning, match="falling back to 'cpu'") as record:
        sampler = clone(estimator).set_params(device="cuda:64").fit(blobs_data)
    assert sampler.device_ == "cpu"
    # Attributed to the line that called fit, not to a frame inside a library.
    device_warnings = [w for w in record if w.category is DeviceWarning]
    assert {w.filename for w in device_warnings} == {__file__}


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_input_not_mutated(estimator, wine_data):
    X = np.array(wine_data)
    copy = X.copy()
    sampler = clone(estimator).fit(X)
    sampler.sample(10)
    sampler.score(X)
    np.testing.assert_array_equal(X, copy)


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_history_consistent_with_n_iter(estimator, blobs_data):
    sampler = _fit(estimator, blobs_data)
    assert sampler.n_iter_ >= 1
    assert sampler.history_
    for name, values in sampler.history_.items():
        assert len(values) == sampler.n_iter_, name
        assert all(np.isfinite(values)), name


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_dataframe_round_trip(estimator, wine_data):
    pd = pytest.importorskip("pandas")
    columns = [f"feature {i}" for i in range(wine_data.shape[1])]
    frame = pd.DataFrame(wine_data, columns=columns).astype({columns[0]: "float32"})
    sampler = clone(estimator).fit(frame)
    X_new = sampler.sample(12)
    assert isinstance(X_new, pd.DataFrame)
    assert list(X_new.columns) == columns
    assert X_new[columns[0]].dtype == np.float32
    assert X_new.shape == (12, len(columns))
    np.testing.assert_array_equal(sampler.feature_names_in_, columns)


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_constant_column_is_kept(estimator, blobs_data):
    X = np.column_stack([blobs_data, np.full(len(blobs_data), 7.5)])
    X_new = _fit(estimator, X).sample(20)
    np.testing.assert_array_equal(X_new[:, 2], 7.5)
    assert np.isfinite(X_new).all()


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_raw_scales_are_restored(estimator):
    # One column in thousands, one in hundredths: scaled internally, restored out.
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.normal(5000.0, 800.0, 300), rng.normal(0.03, 0.01, 300)])
    X_new = _fit(estimator, X).sample(2000, random_state=0)
    # Each column's mean within half a standard deviation and spread within a
    # factor of two: a scale mix-up is off by orders of magnitude.
    assert np.all(np.abs(X_new.mean(0) - X.mean(0)) < 0.5 * X.std(0))
    ratio = X_new.std(0) / X.std(0)
    assert np.all((ratio > 0.5) & (ratio < 2.0))


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_score_prefers_matching_rows(estimator, blobs_data):
    sampler = _fit(estimator, blobs_data)
    same = sampler.score(blobs_data)
    shifted = sampler.score(blobs_data + 5 * blobs_data.std(0))
    assert same > shifted
    assert same <= 0.0
    assert sampler.score(blobs_data) == same  # fixed draw: deterministic


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_wrong_n_features_raises(estimator, blobs_data):
    sampler = _fit(estimator, blobs_data)
    with pytest.raises(ValueError, match="features"):
        sampler.score(np.ones((5, 3)))


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
@pytest.mark.parametrize(
    "bad, error, match",
    [
        (np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 4.0]]), ValueError, "NaN"),
        (np.array([[0.0, np.inf], [1.0, 2.0], [3.0, 4.0]]), ValueError, "infinity"),
        (np.array([[0.0, 1.0]]), ValueError, "1 sample"),
        (np.empty((0, 2)), ValueError, "0 sample"),
        (np.empty((5, 0)), ValueError, "0 feature"),
        (np.array([["a", "b"], ["c", "d"]]), ValueError, "encode"),
        (np.ones((4, 3)), ValueError, "constant"),
    ],
    ids=["nan", "inf", "one-row", "no-rows", "no-columns", "strings", "all-constant"],
)
def test_bad_fit_input(estimator, bad, error, match):
    with pytest.raises(error, match=match):
        clone(estimator).fit(bad)


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_non_numeric_dataframe_names_columns(estimator):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "colour": ["red", "blue", "red"]})
    with pytest.raises(TypeError, match="colour"):
        clone(estimator).fit(frame)


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_verbose_zero_is_silent(estimator, blobs_data, capsys):
    _fit(estimator, blobs_data).sample(5)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_verbose_one_shows_progress(estimator, blobs_data, capsys):
    clone(estimator).set_params(verbose=1).fit(blobs_data)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert type(estimator).__name__ in captured.err


@pytest.mark.gpu
@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_gpu_fitted_model_loads_on_a_cpu_only_process(estimator, blobs_data, tmp_path):
    import subprocess
    import sys

    sampler = _fit(estimator, blobs_data, "cuda")
    assert sampler.device_.startswith("cuda")
    path = tmp_path / "model.joblib"
    joblib.dump(sampler, path)
    expected = sampler.set_params(device="cpu").sample(20, random_state=0)
    np.save(tmp_path / "expected.npy", expected)
    script = (
        "import joblib, numpy as np, torch; "
        "assert not torch.cuda.is_available(); "
        f"m = joblib.load(r'{path}'); m.set_params(device='cpu'); "
        f"np.testing.assert_allclose(m.sample(20, random_state=0), "
        f"np.load(r'{tmp_path / 'expected.npy'}'), rtol=1e-5, atol=1e-5)"
    )
    env = {**__import__("os").environ, "CUDA_VISIBLE_DEVICES": ""}
    subprocess.run([sys.executable, "-c", script], check=True, env=env)


@pytest.mark.parametrize("estimator", SAMPLERS[:1], ids=_id)
def test_score_on_many_rows_is_subsampled(estimator, blobs_data):
    sampler = _fit(estimator, blobs_data)
    big = np.tile(blobs_data, (40, 1))  # 8000 rows: scored on a fixed 5000
    assert np.isfinite(sampler.score(big))
    assert sampler.score(big) == sampler.score(big)
