"""DP-SGD for the critics: the noise plan, noisy per-row gradients, the step.

The torch core of :mod:`skflow.privacy` (see its docstring for what the
guarantee covers): tensors in, tensors out, randomness from explicit
generators, nothing validated here.
"""

from __future__ import annotations

import numpy as np
import torch

from ._divergences import data_term, uses_shift
from ._nn import Critic, critic_forward


def _opacus():
    """Opacus, imported when a private fit needs its accountant."""
    try:
        import opacus.accountants.utils  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "A fit with privacy needs Opacus for its privacy accountant: "
            "pip install 'skflow[privacy]' (or pip install opacus)."
        ) from exc
    import opacus

    return opacus


# Renyi orders of the RDP accountant: Opacus's defaults (up to 63) and higher
# ones, which a large epsilon over few steps needs (Opacus warns and gives a
# loose bound when the best order is its largest).
# Sparse above 256: each integer order costs Opacus O(order) to evaluate.
RDP_ORDERS = (
    [1 + x / 10.0 for x in range(1, 100)]
    + list(range(12, 256))
    + [320, 384, 448, 512, 640, 768, 896, 1024]
)

# Added to per-row gradient norms before dividing: a zero gradient is not
# scaled at all (Opacus uses the same guard).
_NORM_GUARD = 1e-6


class PrivacyPlan:
    """The noise of a private fit, set before it starts, and its accounting.

    Parameters
    ----------
    privacy : DifferentialPrivacy
        The budget.
    n_rows : int
        Training rows (public, as in Opacus).
    batch_size : int
        Expected rows per step; the sampling rate is ``batch_size / n_rows``
        (at most 1).
    max_steps : int
        The most noisy steps the fit may take: the noise is calibrated so that
        this many steps spend at most ``epsilon``.
    """

    def __init__(self, privacy, n_rows: int, batch_size: int, max_steps: int):
        get_noise_multiplier = _opacus().accountants.utils.get_noise_multiplier

        self.epsilon = float(privacy.epsilon)
        self.delta = float(privacy.delta)
        self.max_grad_norm = float(privacy.max_grad_norm)
        self.accountant = privacy.accountant
        self.n_rows = int(n_rows)
        self.sample_rate = min(1.0, int(batch_size) / self.n_rows)
        self.max_steps = int(max_steps)
        try:
            noise = get_noise_multiplier(
                target_epsilon=self.epsilon,
                target_delta=self.delta,
                sample_rate=self.sample_rate,
                steps=self.max_steps,
                accountant=self.accountant,
                **self._orders(),
            )
        except ValueError as exc:  # Opacus: "The privacy budget is too low."
            raise ValueError(
                f"epsilon={self.epsilon:g} (delta={self.delta:g}) is out of reach "
                f"for {self.max_steps} private steps at a sampling rate of "
                f"{self.sample_rate:.3g}: no noise level spends that little. Raise "
                "epsilon (1 is already strong), or lower max_iter or "
                "n_critic_steps."
            ) from exc
        self.noise_multiplier = float(noise)

    def _orders(self) -> dict:
        return {"alphas": RDP_ORDERS} if self.accountant == "rdp" else {}

    def spent(self, steps: int) -> float:
        """Epsilon spent by ``steps`` noisy steps, from Opacus's accountant."""
        if steps == 0:
            return 0.0
        accountant = _opacus().accountants.create_accountant(mechanism=self.accountant)
        accountant.history = [(self.noise_multiplier, self.sample_rate, int(steps))]
        return float(accountant.get_epsilon(delta=self.delta, **self._orders()))


class NoisyGradient:
    """DP-SGD's gradient of a mean of per-row losses: clipped, summed, noised.

    One instance serves a whole fit and counts the steps it has taken, so the
    fit records exactly what it spent.

    Parameters
    ----------
    plan : PrivacyPlan
        Noise multiplier, clipping norm and sampling rate.
    noise : torch.Generator
        The Gaussian noise's stream, on the rows' device.
    batches : torch.Generator
        The Poisson batches' row order, on the rows' device.
    seed : int
        Seeds the host stream of batch sizes (a binomial draw per step, made on
        the host so that no device value is read).
    """

    def __init__(
        self,
        plan: PrivacyPlan,
        noise: torch.Generator,
        batches: torch.Generator,
        seed: int,
    ):
        self.plan = plan
        self.noise = noise
        self.batches = batches
        self.sizes = np.random.default_rng(seed)
        self.steps = 0

    def batch(self, rows: torch.Tensor) -> torch.Tensor:
        """A Poisson-sampled batch: each row in it with probability ``q``.

        Drawn as a Binomial(n, q) size and a uniform subset of that size,
        which is the same distribution; the accountant assumes it.
        """
        n_rows = rows.shape[0]
        size = int(self.sizes.binomial(n_rows, self.plan.sample_rate))
        order = torch.randperm(n_rows, generator=self.batches, device=rows.device)
        return rows[order[:size]]

    def gradient(
        self, row_loss, parameters: tuple, rows: torch.Tensor, *paired: torch.Tensor
    ) -> list:
        """The noisy gradient of ``mean(row_loss(parameters, row, *paired))``.

        Parameters
        ----------
        row_loss : callable
            ``row_loss(parameters, row, *paired_rows) -> scalar`` for one row
            of shape ``(n_features,)`` and its paired public inputs.
        parameters : tuple of Tensor
            The tensors to differentiate, detached leaves.
        rows : Tensor of shape (batch, n_features)
            A batch from :meth:`batch`.
        *paired : Tensor of shape (batch, ...)
            Public inputs paired with the rows, one per row.

        Returns
        -------
        list of Tensor
            Per parameter: the clipped per-row gradients summed, plus
            ``N(0, (noise_multiplier * max_grad_norm)^2)``, over the expected
            batch size ``q * n_rows`` (a data-independent normaliser).
        """
        clip = self.plan.max_grad_norm
        if rows.shape[0]:
            per_row = torch.func.vmap(
                torch.func.grad(row_loss), in_dims=(None, 0, *(0 for _ in paired))
            )(parameters, rows, *paired)
            norms = torch.sqrt(
                sum(g.reshape(g.shape[0], -1).pow(2).sum(dim=1) for g in per_row)
            )
            factor = (clip / (norms + _NORM_GUARD)).clamp(max=1.0)
            summed = [torch.tensordot(factor, g, dims=1) for g in per_row]
        else:
            summed = [torch.zeros_like(p) for p in parameters]
        scale = self.plan.noise_multiplier * clip
        expected = self.plan.sample_rate * self.plan.n_rows
        self.steps += 1
        return [
            (
                total
                + scale
                * torch.randn(
                    total.shape,
                    generator=self.noise,
                    device=total.device,
                    dtype=total.dtype,
                )
            )
            / expected
            for total in summed
        ]


def private_critic_step(
    make_critic,
    shift: torch.Tensor,
    generated: torch.Tensor,
    data: torch.Tensor,
    noisy: NoisyGradient,
    optimizer: torch.optim.Optimizer,
    *,
    divergence: str,
    alpha: float,
    activation: str,
    partners: torch.Generator,
) -> list[torch.Tensor]:
    """One private ascent step of a critic objective; the new power vectors.

    Each row of the Poisson batch is paired with a generated point drawn from
    ``generated``, and the pair's loss, minus the objective
    ``phi(g) - shift - data_term(phi(x))`` (shift for KL and alpha only), is
    the per-row loss that :meth:`NoisyGradient.gradient` clips. Clipping the
    pair together keeps the objective's balance between its two expectations:
    clipping only the data side would leave the generated side's exact
    gradient unopposed, and the critic's output would drift without bound
    (the objective is invariant to adding a constant to ``phi`` and
    ``shift`` only when both sides are weighted alike). DP-GANs clip the
    discriminator's real and fake terms together for the same reason. The
    generated points are public (noise and earlier private critics), so the
    pair's sensitivity is the clipping norm.

    The gradients are taken with respect to the *effective* (spectrally
    normalised) weights, then carried back to the raw weights through the
    normalisation by autograd: the normalisation does not read the data, so
    this is post-processing of the private gradient.

    Parameters
    ----------
    make_critic : callable
        ``make_critic() -> (Critic, vectors)``: the effective critic,
        differentiable in the raw weights, and the updated power vectors.
    shift : Tensor, scalar
        The objective's ``nu``, a trained leaf (unused for Wasserstein).
    generated : Tensor of shape (m, n_features)
        Generated points to draw the partners from (with replacement).
    data : Tensor of shape (n_rows, n_features)
        Every training row; the step draws its Poisson batch.
    noisy : NoisyGradient
        The fit's private gradient.
    optimizer : torch.optim.Optimizer
        Over the raw weights, biases and (when trained) ``shift``.
    partners : torch.Generator
        Draws the generated partners, on the device.
    """
    critic, vectors = make_critic()
    effective = [*critic.weights, *critic.biases]
    n_layers = len(critic.weights)
    leaves = tuple(t.detach().requires_grad_(True) for t in effective)
    shifted = uses_shift(divergence, private=True)
    nu = shift.detach() if shifted else torch.zeros_like(shift.detach())

    def as_critic(tensors) -> Critic:
        return Critic(list(tensors[:n_layers]), list(tensors[n_layers:]))

    def pair_loss(parameters, row, partner):
        *network, shift_value = parameters
        critic_now = as_critic(network)
        both = critic_forward(torch.stack([partner, row]), critic_now, activation)
        data_part = data_term(both[1:], divergence, alpha, shift_value).squeeze(0)
        generated_part = both[0] - (shift_value if shifted else 0.0)
        return data_part - generated_part

    rows = noisy.batch(data)
    index = torch.randint(
        generated.shape[0], (rows.shape[0],), generator=partners, device=rows.device
    )
    grads = noisy.gradient(
        pair_loss, (*leaves, nu.requires_grad_(True)), rows, generated[index]
    )
    optimizer.zero_grad(set_to_none=True)
    torch.autograd.backward(effective, grads[:-1])
    if shifted:
        shift.grad = grads[-1]
    optimizer.step()
    return vectors
