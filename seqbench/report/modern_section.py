"""The "Modern recurrent models" section: the hf models (Mamba, Mamba-2, RWKV, xLSTM, Llama through
the transformers adapter) ranked beside the five, one table per (task, protocol) that has hf runs.

Each table holds one protocol, as every leaderboard table does (seqbench/protocol.py), so the five
and the modern models share a budget, schedule and data; the leaderboard's main tables keep the
five alone. Models that ran without fused kernels are named, with the scan they ran on (kernel_note).
"""
from __future__ import annotations

import pandas as pd

from .decisions import Decisions
from .leaderboard import task_table
from .section import Section, Text

TITLE = "Modern recurrent models"
ABOUT = ("Selective state spaces (Mamba, Mamba-2), RWKV and xLSTM, and Llama (a decoder Transformer with RoPE), "
         "built by `transformers` from YAML presets with random weights (`hf:<model_type>`, README 'Any transformers "
         "architecture') and sized to the same parameter budget as the five. One table per task and protocol "
         "with hf runs; the cells, ranks and marks read as in the leaderboard. The finding `recall-modern` "
         "compares them with the Transformer on associative recall.")


def modern_section(decisions: Decisions) -> Section | None:
    frame, summary, longest = decisions.frame, decisions.summary, decisions.longest
    if frame.empty or "adapter" not in frame or not (frame["adapter"] == "hf").any():
        return None
    blocks: list = [Text(ABOUT)]
    hf = frame[frame["adapter"] == "hf"]
    for (task, protocol), _ in hf.groupby(["task", "protocol"], sort=True):
        rows = summary[(summary["task"] == task) & (summary["protocol"] == protocol) & summary["main"]]
        runs = frame[(frame["task"] == task) & (frame["protocol"] == protocol) & frame["main"]]
        rows = rows[rows["metric"].notna()]
        if rows.empty:
            continue
        table = task_table(rows, runs, longest[(longest["task"] == task) & (longest["protocol"] == protocol)])
        blocks += [Text(f"**{task}**, protocol `{protocol}`."), table]
    note = kernel_note(frame)
    if note:
        blocks.append(Text(note))
    return Section(TITLE, blocks)


def kernel_note(frame: pd.DataFrame) -> str:
    """Which models ran without their fused kernels, and on what: a parallel-scan package where the run
    file names one (mamba.py for Mamba), else transformers' PyTorch reference scan."""
    unfused = frame[frame["kernel"] == "reference"]
    if unfused.empty:
        return ""
    by_scan: dict[str, set] = {}
    for model, scan in zip(unfused["model"], unfused["scan"]):  # runs_frame's columns
        ran = f"{scan}'s parallel scan" if isinstance(scan, str) and scan else "transformers' PyTorch reference scan"
        by_scan.setdefault(ran, set()).add(model)
    on = "; ".join(f"{', '.join(sorted(models))} on {ran}" for ran, models in sorted(by_scan.items()))
    return ("Ran without fused kernels (no mamba_ssm / causal_conv1d / mlstm_kernels here), so their step times are not "
            f"those of the fused kernels: {on}.")
