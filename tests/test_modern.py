"""The modern suite's runs in the report: their own section and finding; the leaderboard of the five unchanged."""
import dataclasses

from fixture_runs import record
from seqbench.record import ModelInfo, RunRecord
from seqbench.report.render import write_report
from seqbench.store import write_run


def hf_record(base: RunRecord, name: str, test: float, recurrent: bool = True) -> RunRecord:
    model = dataclasses.replace(base.config.model, name=name)
    return base.replace(config=dataclasses.replace(base.config, model=model),
                        run_id=f"{base.run_id[:8]}{abs(hash(name)) % 10**8:08d}",
                        metrics={k: test for k in base.metrics},
                        model_info=ModelInfo(causal=True, kernel="reference" if name != "hf:llama" else "none needed",
                                             hf={"model_type": name[3:], "recurrent": recurrent,
                                                 "config": {"hidden_size": 64}}))


def modern_runs() -> list[RunRecord]:
    # The main suite: recall at L=8, two seeds of the Transformer and the LSTM.
    main = [record("recall", m, 8, s, 3e-3, v, v, "converged") for m, v in (("transformer", 0.99), ("lstm", 0.4)) for s in (0, 1)]
    # The modern suite: another protocol (a smaller budget) with more runs of the five than the main one.
    modern = [record("recall", m, L, s, 3e-3, v, v, "converged", {"steps": 500})
              for m, v in (("transformer", 0.95), ("lstm", 0.35)) for L in (8, 16) for s in (0, 1)]
    base = [r for r in modern if r.config.model.name == "lstm"]
    hf = [hf_record(r, "hf:mamba", 0.6) for r in base] + [hf_record(r, "hf:llama", 0.97, recurrent=False) for r in base]
    return main + modern + hf


def test_modern_runs_get_their_section_and_finding_and_leave_the_main_table_alone(tmp_path):
    for r in modern_runs():
        write_run(tmp_path, r)
    summary = write_report(tmp_path, tmp_path / "out")
    md = (tmp_path / "out" / "leaderboard.md").read_text()
    main_table = md.split("## recall")[1].split("\n## ")[0]
    assert "hf:" not in main_table and "L=16" not in main_table  # the main suite's protocol, the five only
    assert "Modern recurrent models" in summary["sections"]
    modern = md.split("## Modern recurrent models")[1].split("\n## ")[0]
    assert "hf:mamba" in modern and "hf:llama" in modern and "transformer" in modern
    unfused = next(line for line in modern.splitlines() if line.startswith("Ran without fused kernels"))
    assert "hf:mamba on transformers' PyTorch reference scan" in unfused and "hf:llama" not in unfused
    assert summary["findings"]["recall-modern"] == "reproduced"  # mamba 0.6 against the Transformer's 0.95
    assert summary["findings"]["recall-attention"] == "reproduced"  # read on the main suite's protocol


def test_no_hf_runs_no_section(tmp_path):
    for r in modern_runs()[:4]:
        write_run(tmp_path, r)
    summary = write_report(tmp_path, tmp_path / "out")
    assert "Modern recurrent models" not in summary["sections"]
    assert summary["findings"]["recall-modern"] == "not measured"


def test_the_note_names_the_parallel_scan_a_model_ran_on():
    """Mamba with mamba.py installed runs its parallel scan, not transformers' reference loop: the run
    file's model_info.hf.scan says so, and so does the note."""
    import pandas as pd

    from seqbench.report.modern_section import kernel_note
    frame = pd.DataFrame({"model": ["hf:mamba", "hf:xlstm", "hf:rwkv", "lstm"],
                          "kernel": ["reference", "reference", "none needed", None],
                          "scan": ["mambapy", None, None, None]})
    note = kernel_note(frame)
    assert "hf:mamba on mambapy's parallel scan" in note and "hf:xlstm on transformers' PyTorch reference scan" in note
    assert "hf:rwkv" not in note and " lstm" not in note.split(":", 1)[1]  # only the unfused hf models
    assert kernel_note(frame[frame["kernel"] != "reference"]) == ""
