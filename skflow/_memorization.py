"""The memorisation stop shared by the particle flow and the entropic OT generator.

A sampler whose long-time limit is the empirical distribution (the particle flow,
a generator trained long enough) starts to copy training rows. Both stop once the
median distance from what they generate to the nearest training row falls to the
training rows' own nearest-neighbour spacing.
"""

from __future__ import annotations

import torch

from ._torch_utils import iter_chunks


def median_nearest_distance(
    points: torch.Tensor,
    reference: torch.Tensor,
    *,
    exclude_self: bool = False,
    chunk_rows: int = 2048,
) -> torch.Tensor:
    """Median over ``points`` of the distance to the nearest ``reference`` row.

    With ``exclude_self`` (``points is reference``) each row's zero distance to
    itself is skipped: the leave-one-out nearest-neighbour spacing of a sample.
    """
    nearest = []
    for rows in iter_chunks(points.shape[0], chunk_rows):
        distances = torch.cdist(points[rows], reference)
        if exclude_self:
            diagonal = torch.arange(rows.start, rows.stop, device=points.device)
            distances[diagonal - rows.start, diagonal] = float("inf")
        nearest.append(distances.min(dim=1).values)
    return torch.cat(nearest).median()


def memorization_reference(
    data: torch.Tensor,
    generator: torch.Generator,
    *,
    max_rows: int = 4096,
    ratio: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference rows and threshold of the memorisation stop.

    At most ``max_rows`` training rows (a random subset drawn from
    ``generator``) and ``ratio`` times their median leave-one-out
    nearest-neighbour spacing: a fit stops once generated points are, in
    median, that close to their nearest reference row.
    """
    if data.shape[0] > max_rows:
        index = torch.randperm(data.shape[0], generator=generator, device=data.device)
        data = data[index[:max_rows]]
    return data, ratio * median_nearest_distance(data, data, exclude_self=True)
