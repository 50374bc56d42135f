"""The sampler contract, checked on every skflow sampler.

Each estimator appears with fast constructor settings. ``test_sampler_contract``
runs the public check suite, :mod:`skflow.utils.estimator_checks`, over all of
them (``tests/test_estimator_checks.py`` runs it over the transformers and
meta-estimators, and shows every check failing on a broken sampler);
``test_sklearn_compatible`` runs scikit-learn's checks. The tests after those
are about skflow's own machinery rather than the contract a third-party
sampler can be held to: the Ctrl-C hook in the progress bar, the device cache
in the pickled state, the energy distance behind ``score``, the attribution of
warnings by skflow's ``warn``, bit-identity in another process and on a GPU.
"""

import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from skflow._testing import fast_samplers, interrupting_progress_bar
from skflow.exceptions import DeviceWarning, NumericalInstabilityError
from skflow.utils import estimator_checks


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


@estimator_checks.parametrize_with_checks(fast_samplers(), sklearn_checks=False)
def test_sampler_contract(estimator, check, device):
    check(clone(estimator).set_params(device=device))


def _fit(estimator, X, device="cpu"):
    return clone(estimator).set_params(device=device).fit(X)


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
def test_a_long_quiet_fit_shows_its_progress(
    estimator, blobs_data, capsys, monkeypatch
):
    # verbose=0 prints nothing, unless the fit outlasts the quiet delay (a
    # minute): then its bar appears, so a long fit is never silent. The delay
    # is set to zero here to stand for a fit that long.
    import skflow._progress_bars

    clone(estimator).set_params(verbose=0).fit(blobs_data)
    assert capsys.readouterr() == ("", "")
    monkeypatch.setattr(skflow._progress_bars, "QUIET_PROGRESS_DELAY", 0.0)
    clone(estimator).set_params(verbose=0).fit(blobs_data)
    out, err = capsys.readouterr()
    if type(estimator).__name__ == "GaussianMixtureSampler":
        # EM in scikit-learn, done in milliseconds: no loop of skflow's.
        assert (out, err) == ("", "")
    else:
        assert out == "" and type(estimator).__name__ in err


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_a_long_draw_shows_its_progress(estimator, blobs_data, capsys, monkeypatch):
    # sample draws in chunks; past the quiet delay (a minute, zero here) a bar
    # of the rows drawn appears. Chunks of 16 rows stand for a huge request.
    import skflow._progress_bars

    sampler = clone(estimator).fit(blobs_data)
    capsys.readouterr()
    # Past the fitted particles, where there are any: new rows move.
    n_rows = 50 + getattr(sampler, "n_particles_", 0)
    monkeypatch.setattr(skflow._progress_bars, "SAMPLE_CHUNK_ROWS", 16)
    expected = sampler.sample(n_rows, random_state=0)
    assert capsys.readouterr() == ("", "")
    monkeypatch.setattr(skflow._progress_bars, "QUIET_PROGRESS_DELAY", 0.0)
    rows = sampler.sample(n_rows, random_state=0)
    out, err = capsys.readouterr()
    assert rows.shape == (n_rows, blobs_data.shape[1]) and np.isfinite(rows).all()
    np.testing.assert_array_equal(rows, expected)
    name = type(estimator).__name__
    if (
        name == "GaussianMixtureSampler"
        or getattr(estimator, "parameterization", "") == "particles"
    ):
        # A mixture's draw and a resampling of particles are one step each.
        assert (out, err) == ("", "")
    else:
        assert out == "" and f"{name}.sample" in err


def test_chunks_do_not_change_the_particle_flow(blobs_data):
    # New particles move along the recorded flow row by row, so moving them a
    # chunk at a time gives the same rows as moving them together.
    from skflow import LipschitzParticleSampler
    from skflow._progress_bars import sample_chunks
    from skflow._torch_utils import make_generator
    from skflow.particles._core import ParticleModel, draw

    sampler = LipschitzParticleSampler(max_iter=5, n_particles=30, random_state=0)
    model = ParticleModel(**sampler.fit(blobs_data)._tensors["model"])
    together = draw(model, 100, make_generator(1, torch.device("cpu")))
    chunked = draw(
        model,
        100,
        make_generator(1, torch.device("cpu")),
        chunks=lambda n_rows: sample_chunks("test", n_rows, chunk_rows=7),
    )
    torch.testing.assert_close(chunked, together, rtol=1e-6, atol=1e-6)
    assert not torch.equal(chunked[30:], chunked[:70])  # fresh rows, not copies


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


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_a_failed_continuation_keeps_the_sample_stream(
    estimator, blobs_data, monkeypatch
):
    import skflow._base

    twin = _fit(estimator, blobs_data).set_params(warm_start=True)
    sampler = _fit(estimator, blobs_data).set_params(warm_start=True)

    def ctrl_c_at_once(*args, **kwargs):
        raise KeyboardInterrupt

    # The continuation has drawn its seeds from random_state_ when it stops.
    monkeypatch.setattr(skflow._base, "tqdm", ctrl_c_at_once)
    with pytest.raises(KeyboardInterrupt):
        sampler.fit(blobs_data)
    monkeypatch.undo()
    np.testing.assert_array_equal(sampler.sample(7), twin.sample(7))
    # And the next continuation is the one the twin makes.
    assert np.array_equal(
        sampler.fit(blobs_data).sample(7, random_state=0),
        twin.fit(blobs_data).sample(7, random_state=0),
    )


def test_a_failed_fit_rewinds_a_random_state_instance(blobs_data, monkeypatch):
    import skflow._base

    seed = np.random.RandomState(3)
    position = seed.get_state()[1].copy(), seed.get_state()[2]
    sampler = clone(SAMPLERS[0]).set_params(random_state=seed)
    monkeypatch.setattr(skflow._base.BaseSampler, "_check_numerics", _blow_up)
    with pytest.raises(NumericalInstabilityError):
        sampler.fit(blobs_data)
    assert sampler.random_state is seed
    np.testing.assert_array_equal(seed.get_state()[1], position[0])
    assert seed.get_state()[2] == position[1]


def _blow_up(self, *args, **kwargs):
    raise NumericalInstabilityError("a fit that blew up")


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
def test_device_warning_points_at_the_callers_line(estimator, blobs_data):
    # skflow's warn walks out of skflow, scikit-learn and joblib, so the line
    # named is this file's call of fit (the public check accepts any line
    # outside those libraries).
    if torch.cuda.device_count() > 64:
        pytest.skip("a machine with 65 GPUs")
    with pytest.warns(DeviceWarning, match="falling back to 'cpu'") as record:
        clone(estimator).set_params(device="cuda:64").fit(blobs_data)
    device_warnings = [w for w in record if w.category is DeviceWarning]
    assert {w.filename for w in device_warnings} == {__file__}


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_score_is_a_negative_distance(estimator, blobs_data):
    # The public check asks only that higher is better; skflow's score is a
    # negative energy distance, so never above 0.
    assert _fit(estimator, blobs_data).score(blobs_data) <= 0.0


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
