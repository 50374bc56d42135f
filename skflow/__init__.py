"""skflow: scikit-learn-compatible generative samplers built on optimal transport
and gradient flows.

``fit(X)`` on real rows, ``sample(n)`` new ones.
"""

__version__ = "0.1.0.dev0"

from . import datasets, metrics  # noqa: E402
from .augment import ClassConditionalSampler, SyntheticOverSampler  # noqa: E402
from .exceptions import DeviceWarning, NumericalInstabilityError  # noqa: E402
from .particles import LipschitzParticleSampler  # noqa: E402
from .sliced import SlicedWassersteinFlow  # noqa: E402

__all__ = [
    "ClassConditionalSampler",
    "DeviceWarning",
    "LipschitzParticleSampler",
    "NumericalInstabilityError",
    "SlicedWassersteinFlow",
    "SyntheticOverSampler",
    "__version__",
    "datasets",
    "metrics",
]
