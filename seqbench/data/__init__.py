"""Data: one batch type, synthetic generators on the device, real-data loaders."""
from .batch import Batch
from .synthetic import GENERATORS

__all__ = ["Batch", "GENERATORS"]
