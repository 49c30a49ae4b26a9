"""The cost claims, from the speed probe's file (`seqbench speed`, measure/speed-<device>.json):
attention is parallel where the rnn is a chain of T steps, and its step time grows faster with T."""
from __future__ import annotations

from ..scope import SPEED
from .base import FINDINGS, NOT_MEASURED, NOT_REPRODUCED, REPRODUCED, Evidence, Finding, Needs

SPEED_PROBE = Needs(probe=SPEED, by="`seqbench speed`")


def _speed(evidence: Evidence, models=("transformer", "rnn")) -> dict | None:
    """The speed probe's entries of `models`, or None when one is missing."""
    measured = (evidence.speed or {}).get("models") or {}
    return {m: measured[m] for m in models} if all(isinstance(measured.get(m), dict) for m in models) else None


def _depths(points: list[dict]) -> tuple[int, int, int, int] | None:
    """(shortest T, its sequential depth, longest T, its depth) over the probe's points."""
    pts = sorted((p for p in points if p.get("sequential_depth") is not None), key=lambda p: p["T"])
    return (pts[0]["T"], pts[0]["sequential_depth"], pts[-1]["T"], pts[-1]["sequential_depth"]) if len(pts) >= 2 else None


@FINDINGS.register("attention-parallel", needs=SPEED_PROBE)
def attention_parallel(evidence: Evidence) -> Finding:
    claim = ("The Transformer's training step is parallel where the rnn's is a chain of T dependent steps: it gains more "
             "from parallel hardware (thread speed-up) and its sequential depth does not grow with T.")
    rule = ("from the speed probe: reproduced when the Transformer's fwd+bwd speed-up from 1 thread to the most threads "
            "measured (same T) exceeds the rnn's and its sequential depth at the longest T equals that at the shortest; "
            "not measured without a speed probe of both, or with one thread only")
    measured = _speed(evidence)
    scaling = {m: (measured[m].get("thread_scaling") or {}) for m in measured} if measured else {}
    depths = {m: _depths(measured[m].get("points") or []) for m in measured} if measured else {}
    if not measured or any(not s.get("speedup") or (s.get("threads") or 1) < 2 for s in scaling.values()) \
            or any(d is None for d in depths.values()):
        return Finding("attention-parallel", claim, NOT_MEASURED, {}, rule)
    numbers = {}
    for m in ("transformer", "rnn"):
        s, (t0, d0, t1, d1) = scaling[m], depths[m]
        numbers[f"{m} thread speed-up"] = f"{s['speedup']:.2f}× ({s['threads']} threads, T={s['T']})"
        numbers[f"{m} sequential depth"] = f"{d0} at T={t0}, {d1} at T={t1}"
    numbers["device"] = evidence.speed.get("device")
    t, r = scaling["transformer"], scaling["rnn"]
    if (t["threads"], t["T"]) != (r["threads"], r["T"]):  # not one comparison
        return Finding("attention-parallel", claim, NOT_MEASURED, numbers, rule)
    _, d0, _, d1 = depths["transformer"]
    ok = t["speedup"] > r["speedup"] and d1 == d0
    return Finding("attention-parallel", claim, REPRODUCED if ok else NOT_REPRODUCED, numbers, rule)


@FINDINGS.register("attention-quadratic", needs=SPEED_PROBE)
def attention_quadratic(evidence: Evidence) -> Finding:
    claim = ("The Transformer's training-step time grows faster with T than the rnn's (attention's cost is quadratic in T), "
             "at the lengths measured, on this hardware.")
    rule = "reproduced when the Transformer's fitted exponent (fwd+bwd step time ∝ T^k, speed probe) exceeds the rnn's"
    measured = _speed(evidence)
    try:
        k = {m: float(measured[m]["exponent"]["train"]) for m in ("transformer", "rnn")}
    except (KeyError, TypeError, ValueError):
        return Finding("attention-quadratic", claim, NOT_MEASURED, {}, rule)
    lengths = sorted({p["T"] for m in ("transformer", "rnn") for p in measured[m].get("points", [])})
    numbers = {"transformer exponent": round(k["transformer"], 3), "rnn exponent": round(k["rnn"], 3),
               "lengths": f"{lengths[0]}–{lengths[-1]}" if lengths else None, "device": evidence.speed.get("device")}
    ok = k["transformer"] > k["rnn"]
    return Finding("attention-quadratic", claim, REPRODUCED if ok else NOT_REPRODUCED, numbers, rule)
