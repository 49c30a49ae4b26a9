"""Provenance's dirty flag: set by a change to code or protocol, not by docs or results."""
import subprocess

from seqbench.provenance import git_state


def _repo(tmp_path):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)
    git("init", "-q")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    for name, text in {"README.md": "a\n", "pkg/train.py": "x = 1\n", "results/s/run.json": "{}\n",
                       "tasks/t.yaml": "steps: 1\n"}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    git("add", "-A")
    git("commit", "-qm", "init")
    return tmp_path


def test_dirty_means_code_or_protocol_changed(tmp_path):
    repo = _repo(tmp_path)
    git_state.cache_clear()
    assert git_state(repo)["dirty"] is False
    (repo / "README.md").write_text("edited\n")
    (repo / "results/s/run.json").write_text('{"rewritten": 1}\n')
    git_state.cache_clear()
    assert git_state(repo)["dirty"] is False  # docs and results change no number
    (repo / "tasks/t.yaml").write_text("steps: 2\n")
    git_state.cache_clear()
    assert git_state(repo)["dirty"] is True
    git_state.cache_clear()
