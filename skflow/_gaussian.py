"""The moment-matched Gaussian every skflow flow starts from."""

from __future__ import annotations

import torch


def gaussian_start(
    data: torch.Tensor, shrinkage: float = 0.05
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and Cholesky factor of the data's Gaussian, shrunk toward identity.

    ``cov_s = (1 - s) * cov + s * I`` (data are standardised, so ``I`` is the
    natural target) keeps the factor full-rank with fewer rows than features.
    """
    mean = data.mean(dim=0)
    centered = data - mean
    cov = centered.t() @ centered / max(data.shape[0] - 1, 1)
    eye = torch.eye(data.shape[1], device=data.device, dtype=data.dtype)
    cov = (1.0 - shrinkage) * cov + shrinkage * eye
    return mean, torch.linalg.cholesky(cov)


def draw_gaussian(
    n: int, mean: torch.Tensor, cholesky: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """``n`` rows of ``N(mean, L L^T)``."""
    noise = torch.randn(
        n, mean.shape[0], generator=generator, device=mean.device, dtype=mean.dtype
    )
    return mean + noise @ cholesky.t()
