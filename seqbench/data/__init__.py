"""Data: one batch type, synthetic generators on the device, real-data loaders."""
from . import formal  # noqa: F401  (registers the formal-language generators)
from .batch import Batch
from .synthetic import GENERATORS

__all__ = ["Batch", "GENERATORS"]
