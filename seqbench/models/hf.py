"""Any `transformers` architecture as an encoder: `hf:<model_type>`, built from a preset in
hf_presets.yaml with random weights (never pretrained ones: every model trains from scratch on
the same budget).

The backbone reads `inputs_embeds`: the task's embedding (or real-valued features) goes through a
linear projection to `hidden_size`, like the Transformer's input projection, so the heads, tasks
and parameter budget work as they do for the native encoders. The backbone's own token table is
frozen and unused (vocab_size 1), so it stays out of the budget.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import torch
import yaml
from torch import nn

from ..config import ModelConfig, _parse_scalar, build_dataclass
from ..errors import UserError
from .encoders import Encoder, pool_positions, valid_mask

PRESETS_FILE = Path(__file__).with_name("hf_presets.yaml")
PREFIX = "hf:"
WIDTH_FIELD = "hidden_size"
# The backbone's token table is never read (inputs_embeds), so it has one row; special ids point at it.
UNUSED_VOCAB = {"vocab_size": 1, "pad_token_id": 0, "bos_token_id": 0, "eos_token_id": 0,
                "tie_word_embeddings": False, "use_cache": False}


@dataclass(frozen=True)
class HFPreset:
    """One `hf:<model_type>` entry of hf_presets.yaml (the file's header explains each field)."""
    model_type: str  # transformers' model_type, the key of AutoConfig.for_model
    description: str = ""  # one line for `seqbench list`
    causal: bool = True  # the output at t reads no input after t
    recurrent: bool = True  # sequential depth T x layers (a scan), else the layer count
    layers: str = "num_hidden_layers"  # the config field `model.n_layers` sets
    width_step: int = 1  # hidden_size is a multiple of this
    per_width: dict = field(default_factory=dict)  # field -> factor: set to round(factor x hidden_size)
    fine_knob: str | None = None  # a field the budget solver tunes after the width (as the Transformer's ff_dim)
    fine_unit: float = 1  # the knob's step (1: an integer field)
    kernels: list = field(default_factory=list)  # modules of fused CUDA kernels; without them, the reference scan
    scan: str | None = None  # a parallel-scan package the reference path uses when importable
    state: str = "cache"  # what it carries between positions: the output's cache, or the states the modules of backbone.<state> return
    config: dict = field(default_factory=dict)  # config fields; `model.hf` overrides them

    @property
    def name(self) -> str:
        return PREFIX + self.model_type

    def kernel(self, device: torch.device | str = "cpu") -> str:
        """'fast' (fused kernels importable, on CUDA), 'reference' (transformers' PyTorch scan) or
        'none needed' (an architecture without custom kernels)."""
        if not self.kernels:
            return "none needed"
        return "fast" if self.kernels_present() and torch.device(device).type == "cuda" else "reference"

    def kernels_present(self) -> bool:
        return all(importlib.util.find_spec(m) is not None for m in self.kernels)

    def scan_present(self) -> bool:
        return self.scan is not None and importlib.util.find_spec(self.scan) is not None

    def kernel_note(self) -> str:
        """For `seqbench list`: whether the fused kernels are importable here."""
        if not self.kernels:
            return "none needed"
        missing = [m for m in self.kernels if importlib.util.find_spec(m) is None]
        scan = f"{self.scan}'s parallel scan" if self.scan_present() else "reference scan"
        if missing:
            return f"{scan} ({', '.join(missing)} not installed; slow)"
        return f"fast on CUDA ({', '.join(self.kernels)}); {scan} on CPU"

    def resolve(self, width: int, cfg: ModelConfig) -> dict[str, Any]:
        """The config fields of a model of `width`: preset, scaled fields, layers, then `cfg.hf`."""
        if WIDTH_FIELD in cfg.hf:
            raise UserError(f"model.hf.{WIDTH_FIELD} is set by the parameter budget; set model.params instead")
        values = dict(self.config)
        values.update({key: max(1, round(factor * width)) for key, factor in self.per_width.items()})
        if cfg.n_layers:
            values[self.layers] = cfg.n_layers
        # From the command line (--model.hf.state_size=4) values arrive as text: parse them as config values are.
        values.update({k: _parse_scalar(v) if isinstance(v, str) else v for k, v in cfg.hf.items()})
        return {**UNUSED_VOCAB, **values, WIDTH_FIELD: width}


@cache
def presets() -> dict[str, HFPreset]:
    """`hf:<model_type>` -> its preset, from hf_presets.yaml."""
    data = yaml.safe_load(PRESETS_FILE.read_text()) or {}
    return {PREFIX + k: build_dataclass(HFPreset, {"model_type": k, **v}, f"{PRESETS_FILE.name}: {k}")
            for k, v in data.items()}


def transformers_version() -> str:
    import transformers

    return transformers.__version__


def transformers_config(preset: HFPreset, width: int, cfg: ModelConfig):
    from transformers import AutoConfig

    try:
        return AutoConfig.for_model(preset.model_type, **preset.resolve(width, cfg))
    except (ValueError, TypeError) as exc:  # an invalid combination of fields
        raise UserError(f"{preset.name}: bad config at hidden_size {width}: {exc}") from exc


def named_tensors(obj: Any, prefix: str = "cache", seen: set | None = None):
    """(name, tensor) for every tensor reachable from a cache: tensors, sequences, mappings and the
    attributes of cache objects, each tensor once (modules and parameters are not a cache)."""
    seen = set() if seen is None else seen
    if id(obj) in seen or isinstance(obj, (nn.Module, nn.Parameter, str, bytes, int, float, bool, type(None))):
        return
    seen.add(id(obj))
    if isinstance(obj, torch.Tensor):
        yield prefix, obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from named_tensors(value, f"{prefix}.{key}", seen)
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            yield from named_tensors(value, f"{prefix}.{i}", seen)
    elif hasattr(obj, "__dict__"):
        for key, value in vars(obj).items():
            yield from named_tensors(value, f"{prefix}.{key}", seen)


class HFEncoder(Encoder):
    """A `transformers` base model (AutoModel, random init) behind the encoder interface."""

    def __init__(self, preset: HFPreset, input_dim: int, width: int, cfg: ModelConfig):
        super().__init__()
        from transformers import AutoModel

        self.preset = preset
        self.config = transformers_config(preset, width, cfg)
        self.input_proj = nn.Linear(input_dim, width)
        try:
            self.backbone = AutoModel.from_config(self.config)
        except (ValueError, TypeError, ZeroDivisionError, RuntimeError) as exc:  # e.g. RWKV's init needs 2+ layers
            raise UserError(f"{preset.name} cannot be built at hidden_size {width} with "
                            f"{preset.layers}={getattr(self.config, preset.layers)}: {type(exc).__name__}: {exc}") from exc
        self.backbone.get_input_embeddings().requires_grad_(False)  # never read: inputs_embeds
        self.causal = preset.causal
        self.n_layers = int(getattr(self.config, preset.layers))
        self.output_dim = width

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        T = x.shape[1]
        padded = bool((lengths < T).any())
        # A causal model never reads ahead, so trailing padding cannot reach a valid position;
        # a bidirectional one is told where the padding is.
        mask = valid_mask(lengths, T).long() if padded and not self.causal else None
        extra = {"attention_mask": mask} if mask is not None else {}
        out = self.backbone(inputs_embeds=self.input_proj(x), use_cache=False, **extra).last_hidden_state  # (B, T, D)
        if padded:
            out = out.masked_fill(~valid_mask(lengths, T).unsqueeze(-1), 0.0)
        return out

    def pool(self, features, lengths):
        return pool_positions(features, lengths, self.causal)

    def sequential_depth(self, T: int) -> int:
        return T * self.n_layers if self.preset.recurrent else self.n_layers

    def carried_state(self, x):
        """What `transformers` carries: the cache its output holds with use_cache=True (Mamba's
        conv and SSM states, RWKV's state, Llama's keys and values), whatever object holds it; or,
        for a preset with `state: <attribute>`, the state each module of `backbone.<attribute>`
        returns beside its output (xLSTM, whose inference cache is mis-sized at small widths)."""
        if not self.causal:
            return None
        h = self.input_proj(x)
        if self.preset.state != "cache":
            states: list = []
            layers = getattr(self.backbone, self.preset.state)
            handles = [layer.register_forward_hook(lambda module, args, out: states.append(out[1])) for layer in layers]
            try:
                self.backbone(inputs_embeds=h, use_cache=False)
            finally:
                for handle in handles:
                    handle.remove()
            return dict(named_tensors(states, self.preset.state))
        out = self.backbone(inputs_embeds=h, use_cache=True)
        return dict(named_tensors({k: v for k, v in out.items() if k != "last_hidden_state"}, "out"))

    def info(self, device: torch.device | str = "cpu") -> dict:
        """What the run file records beside the native models' info: the resolved config, the kernel and,
        on the reference path, the parallel-scan package it used (None: transformers' loop over T)."""
        kernel = self.preset.kernel(device)
        scan = self.preset.scan if kernel == "reference" and self.preset.scan_present() else None
        # to_diff_dict: the fields that differ from the config class's defaults, which rebuild it exactly
        return {"kernel": kernel,
                "hf": {"model_type": self.preset.model_type, "recurrent": self.preset.recurrent, "scan": scan,
                       "transformers": transformers_version(), "config": self.config.to_diff_dict()}}


def builder(preset: HFPreset):
    def build(input_dim: int, width: int, cfg: ModelConfig) -> Encoder:
        return HFEncoder(preset, input_dim, width, cfg)
    return build


def register(models) -> None:
    """Register every preset as `hf:<model_type>` in the model registry."""
    for name, preset in presets().items():
        models.register(name, builder(preset), family="hf", causal=preset.causal, width_step=preset.width_step,
                        description=f"{preset.description} [transformers {preset.model_type}]", hf=preset,
                        measure_cost=True,
                        **({"fine_knob": f"hf.{preset.fine_knob}", "fine_knob_unit": preset.fine_unit} if preset.fine_knob else {}))

