"""Reading both ways: the bidirectional LSTM against the LSTM on named-entity tagging (CoNLL-2003)."""
from __future__ import annotations

from ...status import FINISHED
from .base import FINDINGS, NOT_MEASURED, NOT_REPRODUCED, REPRODUCED, STANDARD, Evidence, Finding, Needs, chosen_of, main_of


@FINDINGS.register("ner-bidirectional", needs=Needs(tasks=("conll2003",), by=STANDARD))
def ner_bidirectional(evidence: Evidence) -> Finding:
    claim = "bilstm beats lstm in CoNLL-2003 entity F1."
    rule = "reproduced when bilstm's worst seed scores above lstm's best seed (so the gap is beyond seed noise)"
    main = chosen_of(main_of(evidence.runs, "conll2003"))
    main = main[main["status"].isin(FINISHED)] if not main.empty else main
    scores = {m: main.loc[main["model"] == m, "value"].dropna() for m in ("bilstm", "lstm")} if not main.empty else {}
    if not scores or any(len(v) == 0 for v in scores.values()):
        return Finding("ner-bidirectional", claim, NOT_MEASURED, {}, rule)
    numbers = {f"{m} F1 (seeds)": [round(float(x), 4) for x in v] for m, v in scores.items()}
    ok = scores["bilstm"].min() > scores["lstm"].max()
    return Finding("ner-bidirectional", claim, REPRODUCED if ok else NOT_REPRODUCED, numbers, rule)
