"""Encoders that map data to a continuous space a sampler can model, and back."""

from ._autoencoder import AutoencoderTransformer
from ._tabular import TabularEncoder

__all__ = ["AutoencoderTransformer", "TabularEncoder"]
