r"""Variational f-divergence objectives shared by the critic-based families.

Used by the Lipschitz particle flow (Gu et al., arXiv:2210.17230) and the
proximal mean-field-game flow (Gu et al., arXiv:2407.11901): both train a critic
``phi`` to maximise a lower bound on ``D_f(P || Q)`` between generated points
``P`` and data ``Q``.
"""

from __future__ import annotations

import math

import torch


def alpha_conjugate(y: torch.Tensor, alpha: float) -> torch.Tensor:
    r"""Legendre conjugate of :math:`f_\alpha(x) = (x^\alpha - 1)/(\alpha(\alpha-1))`.

    :math:`f^*(y) = \alpha^{-1}((\alpha-1)\max(y,0))^{\alpha/(\alpha-1)}
    + 1/(\alpha(\alpha-1))`, for :math:`\alpha > 1`.
    """
    power = alpha / (alpha - 1.0)
    return ((alpha - 1.0) * torch.relu(y)) ** power / alpha + 1.0 / (
        alpha * (alpha - 1.0)
    )


def critic_objective(
    phi_particles: torch.Tensor,
    phi_data: torch.Tensor,
    divergence: str,
    alpha: float,
    shift: torch.Tensor,
) -> torch.Tensor:
    """Variational lower bound on ``D(P || Q)`` for a given critic.

    * ``"kl"``: ``E_P[phi] - log E_Q[exp(phi)]``, the inner infimum over ``nu`` in
      closed form (Donsker-Varadhan). The log-mean-exp is max-shifted
      (``torch.logsumexp``) so heavy tails do not overflow.
    * ``"alpha"``: ``E_P[phi] - nu - E_Q[f*(phi - nu)]`` with ``nu = shift``, a
      learned scalar.
    * ``"wasserstein"``: ``E_P[phi] - E_Q[phi]``, the ``L * W1`` limit.
    """
    if divergence == "kl":
        log_mean_exp = torch.logsumexp(phi_data, dim=0) - math.log(phi_data.shape[0])
        return phi_particles.mean() - log_mean_exp
    if divergence == "alpha":
        return (
            phi_particles.mean()
            - shift
            - alpha_conjugate(phi_data - shift, alpha).mean()
        )
    return phi_particles.mean() - phi_data.mean()


def kl_conjugate(y: torch.Tensor) -> torch.Tensor:
    """Legendre conjugate of :math:`f(x) = x \\log x`: :math:`f^*(y) = e^{y-1}`."""
    return torch.exp(y - 1.0)


def uses_shift(divergence: str, private: bool) -> bool:
    """Whether the critic objective trains the scalar ``shift`` (``nu``).

    The alpha-divergence always does. KL does in a private fit only: its
    Donsker-Varadhan form ``log E_Q[exp(phi)]`` is not a mean over rows, so
    one row's gradient is not defined; the shifted form
    ``nu + E_Q[exp(phi - nu - 1)]`` is, and has the same optimum in ``phi``.
    """
    return divergence == "alpha" or (private and divergence == "kl")


def data_term(
    phi_data: torch.Tensor, divergence: str, alpha: float, shift: torch.Tensor
) -> torch.Tensor:
    """Per-row values whose mean is the data part of a shifted objective.

    The objective is ``E_P[phi] - shift - mean(data_term)`` for KL (shifted,
    see :func:`uses_shift`) and alpha, ``E_P[phi] - mean(data_term)`` for
    Wasserstein.
    """
    if divergence == "kl":
        return kl_conjugate(phi_data - shift)
    if divergence == "alpha":
        return alpha_conjugate(phi_data - shift, alpha)
    return phi_data
