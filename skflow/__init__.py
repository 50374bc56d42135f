"""skflow: scikit-learn-compatible generative samplers built on optimal transport
and gradient flows.

``fit(X)`` on real rows, ``sample(n)`` new ones.
"""

from . import datasets, impute, metrics, privacy
from ._persistence import load, save
from ._version import __version__
from .augment import ClassConditionalSampler, SyntheticOverSampler
from .auto import AutoSampler, GaussianMixtureSampler
from .encoders import AutoencoderTransformer, TabularEncoder
from .exceptions import (
    DeviceWarning,
    NumericalInstabilityError,
    NumericalInstabilityWarning,
)
from .grouped import GroupedSampler
from .ot import EntropicOTGenerator
from .particles import LipschitzParticleSampler
from .pipeline import GenerativePipeline, make_generative_pipeline
from .proximal import ProximalMFGFlow
from .sliced import SlicedWassersteinFlow

__all__ = [
    "AutoSampler",
    "AutoencoderTransformer",
    "ClassConditionalSampler",
    "DeviceWarning",
    "EntropicOTGenerator",
    "GaussianMixtureSampler",
    "GenerativePipeline",
    "GroupedSampler",
    "LipschitzParticleSampler",
    "NumericalInstabilityError",
    "NumericalInstabilityWarning",
    "ProximalMFGFlow",
    "SlicedWassersteinFlow",
    "SyntheticOverSampler",
    "TabularEncoder",
    "__version__",
    "datasets",
    "impute",
    "load",
    "make_generative_pipeline",
    "metrics",
    "privacy",
    "save",
]
