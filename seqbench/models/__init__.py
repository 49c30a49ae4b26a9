"""Model registry: five encoders behind one interface, plus plugins from entry points."""
from .registry import MODELS, build_encoder
from .model import SequenceModel, build_model, count_params

__all__ = ["MODELS", "SequenceModel", "build_encoder", "build_model", "count_params"]
