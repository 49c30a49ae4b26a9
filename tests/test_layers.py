"""The layers contract (pyproject.toml, checked by lint-imports) places every module of seqbench:
a module in no layer could import anything and be imported by anything, unseen."""
import tomllib

from conftest import REPO

PACKAGE = REPO / "seqbench"


def contracts() -> list[dict]:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def layered() -> list[str]:
    """The module names the layers contract places, siblings (`a | b`) split."""
    (layers,) = [c["layers"] for c in contracts() if c["type"] == "layers"]
    return [name.strip() for layer in layers for name in layer.split("|")]


def modules() -> list[str]:
    """Every module under seqbench/, as a dotted name (packages by their own name, not __init__)."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def placed(module: str, names: list[str]) -> bool:
    return any(module == name or module.startswith(name + ".") for name in names)


def test_every_module_is_in_a_layer():
    names = layered()
    assert "seqbench.protocol" in names  # read from the real contract, not an empty list
    missing = [m for m in modules() if m != "seqbench" and not placed(m, names)]
    assert not missing, f"modules in no layer of pyproject's layers contract: {missing}"


def test_every_layer_names_a_module_that_exists():
    """A layer left behind by a rename or a removal would hide a module missing from the contract."""
    known = set(modules())
    assert [name for name in layered() if name not in known] == []


def test_the_walk_finds_nested_modules():
    assert {"seqbench.sweep.throughput", "seqbench.report.frame", "seqbench.__main__"} <= set(modules())
    assert not placed("seqbench.newleaf", layered())


def test_the_report_may_not_import_what_makes_run_files():
    (forbidden,) = [c for c in contracts() if c["type"] == "forbidden" and c["source_modules"] == ["seqbench.report"]]
    assert {"seqbench.train", "seqbench.runner", "seqbench.sweep", "seqbench.tasks", "seqbench.models"} \
        <= set(forbidden["forbidden_modules"])
