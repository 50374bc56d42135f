"""Lipschitz-bounded scalar MLPs (critics) as plain tensors and functions.

A critic is a list of weights ``[W_0, ..., W_{L-1}]`` and biases ``[b_0, ..., b_{L-1}]``
with a scalar output. Its Lipschitz constant is bounded by spectral normalisation
(Miyato et al., 2018): every weight is divided by its largest singular value, so
with 1-Lipschitz activations the network is 1-Lipschitz and ``bound * network`` is
``bound``-Lipschitz, because the Lipschitz constant of a composition is at most
the product of the layers' spectral norms.

The largest singular value is tracked by power iteration with persistent vectors,
one iteration per training step, warm-started from the previous step. Power
iteration approaches sigma from below; since the weights move little between
steps the estimate stays within a fraction of a percent of the true value after
the first few steps (``tests/test_nn.py`` checks it against ``torch.linalg``).
Exact SVDs would synchronise a GPU at every step.

The gradient of the critic with respect to its input is written out by hand
(back-propagation through the layers) rather than taken by autograd: transporting
particles needs only this gradient, under ``torch.no_grad``, and the closed form
is about twice as fast.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

ACTIVATIONS = ("relu", "elu", "tanh", "softplus")


class Critic(NamedTuple):
    """Effective (already normalised) critic weights: a pure function of x."""

    weights: list[torch.Tensor]
    biases: list[torch.Tensor]


def init_critic(
    n_features: int,
    hidden_layer_sizes: tuple[int, ...],
    generator: torch.Generator,
    device: torch.device,
    dtype: torch.dtype,
) -> tuple[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor]]:
    """Raw trainable weights, biases and unit power-iteration vectors.

    Weights follow ``nn.Linear``'s default, uniform on +-1/sqrt(fan_in), but are
    drawn from ``generator`` so the global torch random state is never touched.
    """
    sizes = (n_features, *hidden_layer_sizes, 1)
    weights, biases, vectors = [], [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = fan_in**-0.5
        kwargs = {"generator": generator, "device": device, "dtype": dtype}
        weight = (torch.rand(fan_out, fan_in, **kwargs) * 2 - 1) * bound
        bias = (torch.rand(fan_out, **kwargs) * 2 - 1) * bound
        vector = torch.randn(fan_out, **kwargs)
        weights.append(weight.requires_grad_(True))
        biases.append(bias.requires_grad_(True))
        vectors.append(vector / vector.norm())
    return weights, biases, vectors


def spectral_normalize(
    weights: list[torch.Tensor],
    vectors: list[torch.Tensor],
    *,
    update: bool = True,
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Divide each weight by its estimated spectral norm.

    Parameters
    ----------
    weights : list of Tensor
        Raw weights, shape ``(fan_out, fan_in)``.
    vectors : list of Tensor
        Left singular-vector estimates ``u``, shape ``(fan_out,)``.
    update : bool
        Run one power iteration (``v = W^T u / |W^T u|``, ``u = W v / |W v|``)
        before estimating ``sigma = u^T W v``.

    Returns
    -------
    normalized, vectors : list of Tensor
        ``W / sigma`` (differentiable in ``W``; ``u`` and ``v`` are constants, as
        in Miyato et al.) and the updated vectors.
    """
    normalized, new_vectors = [], []
    for weight, u in zip(weights, vectors):
        with torch.no_grad():
            v = F.normalize(weight.t() @ u, dim=0, eps=1e-12)
            if update:
                u = F.normalize(weight @ v, dim=0, eps=1e-12)
                v = F.normalize(weight.t() @ u, dim=0, eps=1e-12)
        sigma = torch.dot(u, weight @ v)
        normalized.append(weight / sigma)
        new_vectors.append(u)
    return normalized, new_vectors


def lipschitz_critic(
    weights: list[torch.Tensor],
    biases: list[torch.Tensor],
    vectors: list[torch.Tensor],
    bound: float,
    *,
    update: bool = True,
) -> tuple[Critic, list[torch.Tensor]]:
    """The effective critic ``bound * f``, with ``f`` spectrally normalised.

    Every weight is divided by its estimated spectral norm
    (:func:`spectral_normalize`), which makes ``f`` 1-Lipschitz for 1-Lipschitz
    activations; the last layer's weight and bias are then multiplied by
    ``bound``, which makes the network ``bound``-Lipschitz. Returns the critic
    and the updated power-iteration vectors.
    """
    normalized, vectors = spectral_normalize(weights, vectors, update=update)
    normalized[-1] = normalized[-1] * bound
    return Critic(normalized, [*biases[:-1], biases[-1] * bound]), vectors


def _activate(pre: torch.Tensor, activation: str) -> torch.Tensor:
    if activation == "relu":
        return torch.relu(pre)
    if activation == "elu":
        return F.elu(pre)
    if activation == "tanh":
        return torch.tanh(pre)
    return F.softplus(pre)


def _activation_slope(pre: torch.Tensor, activation: str) -> torch.Tensor:
    if activation == "relu":
        return (pre > 0).to(pre.dtype)
    if activation == "elu":
        return torch.where(pre > 0, torch.ones_like(pre), torch.exp(pre))
    if activation == "tanh":
        return 1 - torch.tanh(pre) ** 2
    return torch.sigmoid(pre)


def critic_forward(x: torch.Tensor, critic: Critic, activation: str) -> torch.Tensor:
    """Critic values, shape ``(n,)``."""
    h = x
    last = len(critic.weights) - 1
    for layer, (weight, bias) in enumerate(zip(critic.weights, critic.biases)):
        h = h @ weight.t() + bias
        if layer < last:
            h = _activate(h, activation)
    return h.squeeze(-1)


def critic_input_gradient(
    x: torch.Tensor, critic: Critic, activation: str
) -> torch.Tensor:
    """Gradient of the critic with respect to its input, shape ``x.shape``.

    Forward pass keeping pre-activations, then the chain rule backwards:
    ``g <- (g * act'(pre_l)) @ W_l``, starting from the output row ``W_last``.
    """
    pre_activations = []
    h = x
    for weight, bias in zip(critic.weights[:-1], critic.biases[:-1]):
        pre = h @ weight.t() + bias
        pre_activations.append(pre)
        h = _activate(pre, activation)
    grad = critic.weights[-1].expand(x.shape[0], -1)
    for weight, pre in zip(reversed(critic.weights[:-1]), reversed(pre_activations)):
        grad = (grad * _activation_slope(pre, activation)) @ weight
    return grad


def flatten_critic(critic: Critic) -> torch.Tensor:
    """All weights and biases in one vector (for storing a critic per step)."""
    return torch.cat(
        [t.reshape(-1) for pair in zip(critic.weights, critic.biases) for t in pair]
    )


def unflatten_critic(flat: torch.Tensor, shapes: list[tuple[int, int]]) -> Critic:
    """Inverse of :func:`flatten_critic` (views into ``flat``, no copy)."""
    weights, biases = [], []
    offset = 0
    for fan_out, fan_in in shapes:
        weights.append(flat[offset : offset + fan_out * fan_in].view(fan_out, fan_in))
        offset += fan_out * fan_in
        biases.append(flat[offset : offset + fan_out])
        offset += fan_out
    return Critic(weights, biases)


def init_mlp(
    sizes: list[int],
    generator: torch.Generator,
    device,
    dtype,
    *,
    zero_output: bool = False,
) -> list:
    """Weights and biases ``[W_0, b_0, W_1, b_1, ...]`` of an MLP.

    nn.Linear's default initialisation, drawn from ``generator`` so the global
    torch random state is never touched. With ``zero_output`` the last layer is
    zeroed (after the draw, so the stream is the same): the network starts as
    the zero function, and a residual model built on it starts exactly at its
    base map.
    """
    parameters = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = fan_in**-0.5
        kwargs = {"generator": generator, "device": device, "dtype": dtype}
        parameters.append((torch.rand(fan_out, fan_in, **kwargs) * 2 - 1) * bound)
        parameters.append((torch.rand(fan_out, **kwargs) * 2 - 1) * bound)
    if zero_output:
        parameters[-2].zero_()
        parameters[-1].zero_()
    return parameters


def mlp_forward(x: torch.Tensor, parameters: list[torch.Tensor]) -> torch.Tensor:
    """The MLP of :func:`init_mlp` with SiLU hidden activations, linear output."""
    n_layers = len(parameters) // 2
    for layer in range(n_layers):
        x = x @ parameters[2 * layer].t() + parameters[2 * layer + 1]
        if layer < n_layers - 1:
            x = F.silu(x)
    return x


def init_residual_generator(
    linear: torch.Tensor,
    shift: torch.Tensor,
    hidden_layer_sizes: tuple[int, ...],
    generator: torch.Generator,
) -> list[torch.Tensor]:
    """Parameters ``[A, b, W_0, b_0, ...]`` of ``g(z) = A z + b + MLP(z)``.

    ``A`` (shape ``(n_features, latent_dim)``) and ``b`` are copies of
    ``linear`` and ``shift``; the MLP (``latent_dim -> hidden -> n_features``)
    starts at zero output, so ``g`` starts as the affine map: with ``A`` a
    Gaussian's factor, training starts exactly from that Gaussian.
    """
    n_features, latent_dim = linear.shape
    mlp = init_mlp(
        [latent_dim, *hidden_layer_sizes, n_features],
        generator,
        linear.device,
        linear.dtype,
        zero_output=True,
    )
    return [linear.clone(), shift.clone(), *mlp]


def residual_generator_forward(
    z: torch.Tensor, parameters: list[torch.Tensor]
) -> torch.Tensor:
    """``A z + b + MLP(z)`` for the parameters of :func:`init_residual_generator`."""
    linear, shift, *mlp = parameters
    return z @ linear.t() + shift + mlp_forward(z, mlp)
