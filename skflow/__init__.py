"""skflow: scikit-learn-compatible generative samplers built on optimal transport
and gradient flows.

``fit(X)`` on real rows, ``sample(n)`` new ones.
"""

__version__ = "0.1.0.dev0"

from . import datasets, metrics  # noqa: E402
from ._persistence import load, save  # noqa: E402
from .augment import ClassConditionalSampler, SyntheticOverSampler  # noqa: E402
from .encoders import AutoencoderTransformer, TabularEncoder  # noqa: E402
from .exceptions import (  # noqa: E402
    DeviceWarning,
    NumericalInstabilityError,
    NumericalInstabilityWarning,
)
from .ot import EntropicOTGenerator  # noqa: E402
from .particles import LipschitzParticleSampler  # noqa: E402
from .pipeline import GenerativePipeline, make_generative_pipeline  # noqa: E402
from .proximal import ProximalMFGFlow  # noqa: E402
from .sliced import SlicedWassersteinFlow  # noqa: E402

__all__ = [
    "AutoencoderTransformer",
    "ClassConditionalSampler",
    "DeviceWarning",
    "EntropicOTGenerator",
    "GenerativePipeline",
    "LipschitzParticleSampler",
    "NumericalInstabilityError",
    "NumericalInstabilityWarning",
    "ProximalMFGFlow",
    "SlicedWassersteinFlow",
    "SyntheticOverSampler",
    "TabularEncoder",
    "__version__",
    "datasets",
    "load",
    "make_generative_pipeline",
    "metrics",
    "save",
]
