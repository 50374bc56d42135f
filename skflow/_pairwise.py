"""Chunked pairwise kernel means in torch (written here: neither POT nor
scikit-learn computes an energy distance or an MMD in bounded memory).

Memory is bounded by ``chunk_rows ** 2`` entries whatever the sample sizes, so
100,000 x 50 samples compare in a few hundred MB.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._torch_utils import iter_chunks

CHUNK_ROWS = 4096

Kernel = Callable[[torch.Tensor], torch.Tensor]


def mean_pairwise(
    a: torch.Tensor, b: torch.Tensor, kernel: Kernel, chunk_rows: int = CHUNK_ROWS
) -> torch.Tensor:
    """``mean_{i,j} kernel(|a_i - b_j|)`` over all pairs, in blocks.

    The diagonal is included when ``a is b`` (a V-statistic), which makes the
    energy distance and the MMD of a sample with itself exactly zero.
    """
    total = torch.zeros((), dtype=a.dtype, device=a.device)
    for rows in iter_chunks(a.shape[0], chunk_rows):
        for cols in iter_chunks(b.shape[0], chunk_rows):
            distances = torch.cdist(
                a[rows], b[cols], compute_mode="donot_use_mm_for_euclid_dist"
            )
            total = total + kernel(distances).sum()
    return total / (a.shape[0] * b.shape[0])


def _identity(distances: torch.Tensor) -> torch.Tensor:
    return distances


def energy_distance_tensor(
    x: torch.Tensor, y: torch.Tensor, chunk_rows: int = CHUNK_ROWS
) -> torch.Tensor:
    """``sqrt(2 E|X-Y| - E|X-X'| - E|Y-Y'|)`` with V-statistics."""
    cross = mean_pairwise(x, y, _identity, chunk_rows)
    within_x = mean_pairwise(x, x, _identity, chunk_rows)
    within_y = mean_pairwise(y, y, _identity, chunk_rows)
    return torch.sqrt(torch.clamp(2 * cross - within_x - within_y, min=0.0))


def rbf_mmd_tensor(
    x: torch.Tensor,
    y: torch.Tensor,
    bandwidth: float,
    chunk_rows: int = CHUNK_ROWS,
    *,
    return_reach: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Biased (V-statistic) MMD with ``k(d) = exp(-(d / h)^2 / 2)``.

    ``(d / h)^2`` rather than ``d^2 / h^2``: for a tiny ``h`` the latter is
    ``0 / 0`` on the diagonal. With ``return_reach``, also a boolean tensor:
    False when the kernel underflowed to 0 for every pair of distinct rows (and
    some pair is distinct), so that only coincident rows were counted.
    """
    reached = torch.zeros((), dtype=torch.bool, device=x.device)
    distinct = torch.zeros((), dtype=torch.bool, device=x.device)

    def kernel(distances: torch.Tensor) -> torch.Tensor:
        nonlocal reached, distinct
        values = torch.exp(-0.5 * (distances / bandwidth) ** 2)
        if return_reach:
            apart = distances > 0
            distinct = distinct | apart.any()
            reached = reached | (apart & (values > 0)).any()
        return values

    cross = mean_pairwise(x, y, kernel, chunk_rows)
    within_x = mean_pairwise(x, x, kernel, chunk_rows)
    within_y = mean_pairwise(y, y, kernel, chunk_rows)
    value = torch.sqrt(torch.clamp(within_x + within_y - 2 * cross, min=0.0))
    if return_reach:
        return value, reached | ~distinct
    return value
