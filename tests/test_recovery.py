"""Non-finite values during fit: roll back to the last finite state, or raise."""

import math
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from skflow import (
    AutoencoderTransformer,
    EntropicOTGenerator,
    LipschitzParticleSampler,
    NumericalInstabilityError,
    NumericalInstabilityWarning,
    ProximalMFGFlow,
    SlicedWassersteinFlow,
)
from skflow._recovery import FiniteCheckpoint
from skflow.datasets import make_gaussian_mixture
from skflow.encoders import _core as encoders_core
from skflow.ot import _core as ot_core
from skflow.particles import _core as particles_core
from skflow.proximal import _core as proximal_core
from skflow.sliced import _core as sliced_core


# ------------------------------------------------------------ the checkpoint
def _adam(lr=1.0):
    weight = torch.tensor([3.0, -2.0], requires_grad=True)
    return weight, torch.optim.Adam([weight], lr=lr)


def _step(weight, optimizer):
    optimizer.zero_grad()
    weight.pow(2).sum().backward()
    optimizer.step()


def test_restore_puts_back_tensors_and_moments_and_halves_the_rate():
    weight, optimizer = _adam()
    checkpoint = FiniteCheckpoint([weight], [optimizer])
    for _ in range(3):
        _step(weight, optimizer)
    checkpoint.save(3, extra=torch.ones(2))
    saved_weight = weight.detach().clone()
    saved_moment = optimizer.state[weight]["exp_avg"].clone()
    for _ in range(2):
        _step(weight, optimizer)
    with torch.no_grad():
        weight.fill_(math.nan)

    restored = checkpoint.restore(failed_at=4)

    assert torch.equal(weight.detach(), saved_weight)
    assert torch.equal(optimizer.state[weight]["exp_avg"], saved_moment)
    assert optimizer.param_groups[0]["lr"] == 0.5
    assert torch.equal(restored["extra"], torch.ones(2))
    assert checkpoint.iteration == 3
    assert checkpoint.recoveries == [(4, 3)]


def test_each_recovery_halves_once_whether_or_not_a_save_came_between():
    weight, optimizer = _adam(lr=1.0)
    checkpoint = FiniteCheckpoint([weight], [optimizer])
    checkpoint.save(0)
    checkpoint.restore(failed_at=5)
    assert optimizer.param_groups[0]["lr"] == 0.5
    checkpoint.restore(failed_at=5)  # the same saved state, twice halved
    assert optimizer.param_groups[0]["lr"] == 0.25
    _step(weight, optimizer)
    checkpoint.save(10)  # saved at the halved rate
    checkpoint.restore(failed_at=12)
    assert optimizer.param_groups[0]["lr"] == 0.125
    assert checkpoint.step_factor == 0.125


def test_restore_rewinds_a_schedule_and_continues_it_at_half_scale():
    weight, optimizer = _adam(lr=1.0)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
    reference = torch.optim.lr_scheduler.CosineAnnealingLR(_adam(lr=0.5)[1], T_max=10)
    checkpoint = FiniteCheckpoint([weight], [optimizer], [schedule])
    for _ in range(3):
        _step(weight, optimizer)
        schedule.step()
        reference.optimizer.step()
        reference.step()
    checkpoint.save(3)
    for _ in range(4):
        _step(weight, optimizer)
        schedule.step()
    checkpoint.restore(failed_at=6)
    assert schedule.last_epoch == 3
    for _ in range(3):
        assert optimizer.param_groups[0]["lr"] == pytest.approx(
            reference.optimizer.param_groups[0]["lr"], rel=1e-12
        )
        _step(weight, optimizer)
        schedule.step()
        reference.optimizer.step()
        reference.step()


def test_restore_refuses_after_max_recoveries():
    weight, optimizer = _adam()
    checkpoint = FiniteCheckpoint([weight], [optimizer], max_recoveries=2)
    checkpoint.save(0)
    assert checkpoint.restore(1) is not None
    assert checkpoint.restore(1) is not None
    assert checkpoint.restore(1) is None
    assert len(checkpoint.recoveries) == 2


# ------------------------------------------------------------ the samplers
# Each case: an estimator running a few host-check windows, and a function of
# its core to poison with NaN (a call made in every iteration).
CASES = [
    pytest.param(
        lambda: LipschitzParticleSampler(
            max_iter=30,
            n_particles=100,
            n_critic_steps=2,
            hidden_layer_sizes=(16,),
            early_stopping=False,
            tol=0.0,
        ),
        particles_core,
        "critic_objective",
        id="particles",
    ),
    pytest.param(
        lambda: SlicedWassersteinFlow(
            max_iter=15,
            n_inner_steps=2,
            hidden_layer_sizes=(16,),
            batch_size=64,
            n_projections=20,
        ),
        sliced_core,
        "sliced_wasserstein_squared",
        id="sliced",
    ),
    pytest.param(
        lambda: EntropicOTGenerator(
            max_iter=30,
            n_dual_steps=2,
            hidden_layer_sizes=(16,),
            batch_size=32,
        ),
        ot_core,
        "entropic_cost",
        id="entropic",
    ),
    pytest.param(
        lambda: ProximalMFGFlow(
            max_iter=60,
            n_time_steps=3,
            hidden_layer_sizes=(16,),
            batch_size=64,
            n_critic_steps=1,
        ),
        proximal_core,
        "critic_objective",
        id="proximal",
    ),
]


@pytest.fixture(scope="module")
def rows():
    return make_gaussian_mixture(200, 3, 2, random_state=0)[0]


def _poison(monkeypatch, module, name, calls):
    """Make ``module.name`` return NaN on the calls whose 1-based index is in
    ``calls`` (a predicate); count every call."""
    real = getattr(module, name)
    count = {"n": 0}

    def poisoned(*args, **kwargs):
        count["n"] += 1
        value = real(*args, **kwargs)
        return value * math.nan if calls(count["n"]) else value

    monkeypatch.setattr(module, name, poisoned)
    return count


def _calls_per_run(make, module, name, rows, monkeypatch):
    count = _poison(monkeypatch, module, name, lambda n: False)
    make().set_params(device="cpu", random_state=0).fit(rows)
    return count["n"]


@pytest.mark.parametrize("make, module, name", CASES)
def test_one_bad_step_is_rolled_back_and_the_fit_completes(
    make, module, name, rows, monkeypatch
):
    clean_calls = _calls_per_run(make, module, name, rows, monkeypatch)
    # Poison one call two thirds of the way through: past the first window, so
    # the rollback goes to a saved state that is not the start.
    bad_call = 2 * clean_calls // 3
    count = _poison(monkeypatch, module, name, lambda n: n == bad_call)
    estimator = make().set_params(device="cpu", random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(rows)

    recovered = [w for w in caught if w.category is NumericalInstabilityWarning]
    assert len(recovered) == 1
    assert "recovered 1 time(s)" in str(recovered[0].message)
    assert "(back to 0)" not in str(recovered[0].message)
    assert recovered[0].filename == __file__
    assert count["n"] > clean_calls  # a window ran twice
    assert estimator.n_iter_ == estimator.max_iter
    for values in estimator.history_.values():
        assert np.isfinite(values).all()
    assert np.isfinite(estimator.sample(300, random_state=1)).all()


@pytest.mark.parametrize("make, module, name", CASES)
def test_a_fit_that_stays_non_finite_raises_and_keeps_the_previous_model(
    make, module, name, rows, monkeypatch
):
    estimator = make().set_params(device="cpu", random_state=0)
    with pytest.raises(NumericalInstabilityError, match="6 rollbacks.*; [a-z]"):
        _poison(monkeypatch, module, name, lambda n: n > 3)
        estimator.fit(rows)
    assert not hasattr(estimator, "n_iter_")

    monkeypatch.undo()
    before = estimator.fit(rows).sample(50, random_state=0)
    _poison(monkeypatch, module, name, lambda n: True)
    with pytest.raises(NumericalInstabilityError, match="did not help"):
        estimator.fit(rows)
    np.testing.assert_array_equal(estimator.sample(50, random_state=0), before)


# ------------------------------------------------------------ the autoencoder
def _autoencoder():
    return AutoencoderTransformer(
        n_components=2,
        hidden_layer_sizes=(16,),
        batch_size=50,
        max_iter=12,
        n_iter_no_change=100,  # run every epoch
        device="cpu",
        random_state=0,
    )


def test_autoencoder_undoes_a_bad_epoch(rows, monkeypatch):
    count = _poison(monkeypatch, encoders_core, "reconstruction_loss", lambda n: False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _autoencoder().fit(rows)
    per_run = count["n"]
    monkeypatch.undo()

    count = _poison(
        monkeypatch, encoders_core, "reconstruction_loss", lambda n: n == per_run // 2
    )
    encoder = _autoencoder()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        encoder.fit(rows)
    recovered = [w for w in caught if w.category is NumericalInstabilityWarning]
    assert len(recovered) == 1 and "recovered 1 time(s)" in str(recovered[0].message)
    assert count["n"] > per_run
    assert encoder.n_iter_ == encoder.max_iter
    for values in encoder.history_.values():
        assert len(values) in (0, encoder.n_iter_)
        assert np.isfinite(values).all()
    assert np.isfinite(encoder.inverse_transform(encoder.transform(rows))).all()


def test_autoencoder_that_stays_non_finite_raises_and_keeps_its_model(
    rows, monkeypatch
):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        encoder = _autoencoder().fit(rows)
    before = encoder.transform(rows)
    _poison(monkeypatch, encoders_core, "reconstruction_loss", lambda n: n > 2)
    with pytest.raises(NumericalInstabilityError, match="did not help; lower"):
        encoder.fit(rows)
    np.testing.assert_array_equal(encoder.transform(rows), before)
