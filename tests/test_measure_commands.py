"""The measure commands end to end (tiny), the run-file gradflow block, and the report sections."""
import copy
import json
from pathlib import Path

import pytest

from seqbench.cli import main
from seqbench.measure.power_law import fit_power_law
from seqbench.report.decisions import decide
from seqbench.report.render import sections
from seqbench.runner import execute
from seqbench.store import load_runs
from seqbench.tasks import get_task

from conftest import TINY


def tiny_run(results, model="rnn", task="adding", length=6, seed=0, model_cfg=None, train_cfg=None):
    overrides = copy.deepcopy(TINY)
    overrides["model"].update(model_cfg or {})
    overrides["train"].update(train_cfg or {})
    cfg = get_task(task).resolve(model, length, seed, overrides)
    return execute(cfg, results)[0]


def test_run_file_carries_gradflow(results):
    record = tiny_run(results)
    for stage in ("init", "final"):
        block = getattr(record.gradflow, stage)
        assert block["distance"][0] == 0 and len(block["distance"]) == len(block["norm"]) == 6
        assert block["slope"] is not None
    assert record.grad_norm.n_steps == TINY["train"]["steps"]


@pytest.mark.parametrize("model", ["rnn", "transformer"])
def test_the_gradient_probe_does_not_change_the_run(model, results, tmp_path, monkeypatch):
    """A run with the probe (before and after training) is bit-identical to one without it: the probe
    leaves the random streams, the weights and their gradients as they were. Dropout draws from the
    global stream during training, so a probe that drew from it would show."""
    import seqbench.runner

    dropout = {"io_dropout": 0.2}
    probed = tiny_run(results, model=model, model_cfg=dropout)
    monkeypatch.setattr(seqbench.runner, "gradient_profile", lambda model, batch, output: None)
    bare = tiny_run(tmp_path / "bare", model=model, model_cfg=dropout)
    assert bare.gradflow.init is None and probed.gradflow.init is not None  # the stand-in did stand in
    assert probed.loss_curve == bare.loss_curve and probed.val_curve == bare.val_curve
    assert probed.metrics == bare.metrics


def test_gradflow_cli(results, capsys):
    assert main(["gradflow", "--task", "adding", "--model", "rnn,transformer", "--length", "5", "8",
                 "--init-only", "--model.params=20000", "--model.n_heads=2", "--results", str(results)]) == 0
    files = sorted((results / "measure").glob("gradflow-*.json"))
    assert len(files) == 4
    data = json.loads(files[0].read_text())
    assert data["init"]["slope"] is not None and data["final"] is None and "provenance" in data
    assert main(["gradflow", "--task", "adding", "--model", "rnx", "--results", str(results)]) == 2
    assert "did you mean 'rnn'" in capsys.readouterr().err


def test_speed_cli(results):
    assert main(["speed", "--models", "rnn,transformer", "--lengths", "8", "16", "32", "--min-run-time", "0.01",
                 "--params", "40000", "--scale-threads", "1", "--results", str(results)]) == 0
    data = json.loads((results / "measure" / "speed-cpu.json").read_text())
    rnn = data["models"]["rnn"]
    assert [p["T"] for p in rnn["points"]] == [8, 16, 32]
    assert rnn["points"][-1]["sequential_depth"] == 32
    assert data["models"]["transformer"]["points"][-1]["sequential_depth"] == 2
    assert all(p["mfu_train"] > 0 and p["saved_bytes"] > 0 for p in rnn["points"])
    assert rnn["exponent"]["train"] is not None and data["provenance"]["device"] == "cpu"
    assert main(["speed", "--lengths", "0", "--results", str(results)]) == 2
    # --keep-existing leaves a finished measurement alone (`make standard` on a finished leaderboard).
    before = (results / "measure" / "speed-cpu.json").read_bytes()
    assert main(["speed", "--models", "rnn", "--lengths", "8", "--min-run-time", "0.01", "--scale-threads", "1",
                 "--keep-existing", "--results", str(results)]) == 0
    assert (results / "measure" / "speed-cpu.json").read_bytes() == before


def test_fit_power_law():
    T = [16, 32, 64, 128, 256, 512, 1024]
    assert fit_power_law(T, [t**2 * 1e-6 for t in T], x_min=256).exponent == pytest.approx(2.0)
    assert fit_power_law(T[:3], [t * 1e-3 for t in T[:3]], x_min=256).exponent == pytest.approx(1.0)
    law = fit_power_law([10, 100, float("nan")], [0.5, 5.0, 1.0])  # a non-finite point is left out
    assert law.n_points == 2 and law(1000) == pytest.approx(50.0)
    assert fit_power_law([64, 64], [1.0, 2.0]) is None  # one length: no slope to fit


def _render(records, results, out):
    found = sections(decide(records), results, out)
    return {s.title: s for s in found}


def test_report_sections_cope_with_nothing(tmp_path):
    found = _render([], tmp_path / "results", tmp_path / "out")
    assert list(found) == ["Gradient flow", "Clipping and initialisation ablation", "Cost and parallelism"]
    assert all(s.markdown and not s.figures for s in found.values())


def test_report_sections_from_runs(results, tmp_path):
    for seed in (0, 1):
        tiny_run(results, seed=seed)
        tiny_run(results, model="lstm", seed=seed)
        for clip, init, nonlinearity in ((None, "identity", "relu"), (1.0, "orthogonal", "tanh")):
            tiny_run(results, seed=seed, model_cfg={"init": init, "nonlinearity": nonlinearity},
                     train_cfg={"clip": clip})
    main(["speed", "--models", "rnn", "--lengths", "8", "16", "--min-run-time", "0.01", "--params", "20000",
          "--scale-threads", "1", "--results", str(results)])
    records, _ = load_runs(results)
    out = tmp_path / "out"
    found = _render(records, results, out)
    flow, ablation, cost = found.values()
    assert flow.figures == ["figures/gradflow.png"] and "| adding | 6 | lstm |" in flow.markdown
    assert "| adding | 20,000 | off | relu | identity |" in ablation.markdown
    assert cost.figures == ["figures/cost-cpu.png"] and "| rnn |" in cost.markdown
    first = {p: (out / p).read_bytes() for s in found.values() for p in s.figures}
    found_again = _render(records, results, out)
    assert {p: (out / p).read_bytes() for s in found_again.values() for p in s.figures} == first
