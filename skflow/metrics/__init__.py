"""Sample-quality and privacy metrics for generated rows: numpy in, float out."""

from ._metrics import (
    c2st_auc,
    coverage,
    dcr,
    energy_distance,
    mmd,
    sample_report,
    sliced_wasserstein,
    wasserstein1,
)
from ._privacy import privacy_report

__all__ = [
    "c2st_auc",
    "coverage",
    "dcr",
    "energy_distance",
    "mmd",
    "privacy_report",
    "sample_report",
    "sliced_wasserstein",
    "wasserstein1",
]
