"""Spectrally normalised critics: the Lipschitz bound and the hand-written gradient."""

import pytest
import torch

from skflow._nn import (
    ACTIVATIONS,
    Critic,
    critic_forward,
    critic_input_gradient,
    flatten_critic,
    init_critic,
    spectral_normalize,
    unflatten_critic,
)


def _critic(n_features=5, hidden=(16, 8), seed=0, device="cpu", n_power=50):
    generator = torch.Generator(device=device).manual_seed(seed)
    weights, biases, vectors = init_critic(
        n_features, hidden, generator, torch.device(device), torch.float64
    )
    for _ in range(n_power):
        normalized, vectors = spectral_normalize(weights, vectors)
    return Critic([w.detach() for w in normalized], [b.detach() for b in biases])


def test_power_iteration_reaches_the_true_spectral_norm(device):
    critic = _critic(device=device)
    for weight in critic.weights:
        assert float(torch.linalg.matrix_norm(weight, ord=2)) == pytest.approx(
            1.0, abs=1e-3
        )


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_critic_is_one_lipschitz(activation, device):
    critic = _critic(device=device)
    generator = torch.Generator(device=device).manual_seed(1)
    x = torch.randn(2000, 5, generator=generator, dtype=torch.float64, device=device)
    y = x + 0.3 * torch.randn(
        2000, 5, generator=generator, dtype=torch.float64, device=device
    )
    ratio = (
        critic_forward(x, critic, activation) - critic_forward(y, critic, activation)
    ).abs() / (x - y).norm(dim=1)
    assert float(ratio.max()) <= 1.0 + 1e-3
    gradient_norms = critic_input_gradient(x, critic, activation).norm(dim=1)
    assert float(gradient_norms.max()) <= 1.0 + 1e-3


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_input_gradient_matches_autograd(activation, device):
    critic = _critic(device=device, n_power=1)
    x = torch.randn(64, 5, dtype=torch.float64, device=device, requires_grad=True)
    (expected,) = torch.autograd.grad(critic_forward(x, critic, activation).sum(), x)
    torch.testing.assert_close(
        critic_input_gradient(x.detach(), critic, activation), expected
    )


def test_flatten_unflatten_round_trip():
    critic = _critic(n_power=1)
    shapes = [tuple(w.shape) for w in critic.weights]
    restored = unflatten_critic(flatten_critic(critic), shapes)
    for a, b in zip(critic.weights + critic.biases, restored.weights + restored.biases):
        torch.testing.assert_close(a, b)


def test_init_leaves_global_rng_alone():
    state = torch.get_rng_state()
    _critic()
    assert torch.equal(torch.get_rng_state(), state)
