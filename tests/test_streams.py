"""Separate random streams for initialisation, minibatches and Monte Carlo noise.

Changing how much one purpose draws must leave the others' draws alone: more
particles do not change the critic's initial weights, a bigger batch does not
change the network's initial weights, more projections do not change which
rows a batch holds.
"""

import warnings

import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

import skflow
from skflow._torch_utils import RandomStreams, make_streams
from skflow.datasets import make_gaussian_mixture


@pytest.fixture(scope="module")
def data():
    X, _ = make_gaussian_mixture(150, 2, 2, random_state=0)
    return X


def test_streams_are_distinct_and_reproducible():
    first = make_streams(7, "cpu")
    again = make_streams(7, "cpu")
    draws = [torch.rand(5, generator=g) for g in first]
    for drawn, generator in zip(draws, again):
        assert torch.equal(drawn, torch.rand(5, generator=generator))
    assert not torch.equal(draws[0], draws[1])
    assert not torch.equal(draws[1], draws[2])
    assert RandomStreams._fields == ("init", "batches", "noise")


def _recorded(monkeypatch, module, name):
    """Patch ``module.name`` to record copies of the tensors it returns (taken at
    once: training updates them in place)."""
    original = getattr(module, name)
    seen = []

    def recording(*args, **kwargs):
        out = original(*args, **kwargs)
        seen.append(_flat(out))
        return out

    monkeypatch.setattr(module, name, recording)
    return seen


def _flat(obj):
    tensors = []
    skflow._torch_utils.map_tensors(obj, tensors.append)
    return [t.detach().clone() for t in tensors]


def _fit(sampler, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        return sampler.fit(X)


def _same(first, second):
    return len(first) == len(second) and all(
        torch.equal(a, b) for a, b in zip(first, second)
    )


def test_more_particles_keep_the_critics_initial_weights(data, monkeypatch):
    from skflow.particles import _lipschitz

    seen = _recorded(monkeypatch, _lipschitz, "init_critic")
    common = dict(max_iter=2, hidden_layer_sizes=(8,), random_state=0, device="cpu")
    _fit(skflow.LipschitzParticleSampler(n_particles=60, **common), data)
    _fit(skflow.LipschitzParticleSampler(n_particles=90, **common), data)
    _fit(skflow.LipschitzParticleSampler(n_particles=60, batch_size=32, **common), data)
    weights = seen
    assert _same(weights[0], weights[1]) and _same(weights[0], weights[2])
    # The seed does change them: the comparison can fail.
    _fit(
        skflow.LipschitzParticleSampler(
            n_particles=60, **{**common, "random_state": 1}
        ),
        data,
    )
    assert not _same(weights[0], seen[-1])


def test_critic_steps_keep_the_flows_start_points(data, monkeypatch):
    # More critic steps draw more data batches; the start points of every
    # iteration come from the noise stream and stay the same.
    from skflow.proximal import _core

    starts = _recorded(monkeypatch, _core, "draw_gaussian")
    common = dict(max_iter=3, n_steps=2, hidden_layer_sizes=(8,), random_state=0)
    _fit(skflow.ProximalMFGFlow(n_critic_steps=1, **common), data)
    first = list(starts)
    starts.clear()
    _fit(skflow.ProximalMFGFlow(n_critic_steps=3, **common), data)
    # One draw per iteration, then the divergence check's draw after the fit.
    assert len(first) == 3 + 1
    assert _same([draw for (draw,) in first], [draw for (draw,) in starts])


def test_projections_keep_the_batches_and_the_initial_model(data, monkeypatch):
    from skflow.sliced import _flow

    models = _recorded(monkeypatch, _flow, "init_model")
    batches = []
    original = skflow.sliced._core.minibatch

    def recording(rows, batch_size, generator, **kwargs):
        out = original(rows, batch_size, generator, **kwargs)
        batches.append(out.detach().clone())
        return out

    monkeypatch.setattr(skflow.sliced._core, "minibatch", recording)
    common = dict(max_iter=1, n_inner_steps=1, batch_size=64, random_state=0)
    _fit(skflow.SlicedWassersteinFlow(n_projections=10, **common), data)
    first = len(batches)
    _fit(skflow.SlicedWassersteinFlow(n_projections=40, **common), data)
    assert _same(models[0], models[1])
    assert first > 0 and _same(batches[:first], batches[first:])
    assert all(batch.shape == (64, 2) for batch in batches)
