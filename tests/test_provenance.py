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


def test_a_code_edit_makes_the_tree_dirty_and_a_commit_makes_it_clean(tmp_path):
    repo = _repo(tmp_path)
    git_state.cache_clear()
    clean = git_state(repo)
    assert clean["dirty"] is False and clean["commit"]
    (repo / "pkg/train.py").write_text("x = 2\n")  # the code file the repository was made with
    git_state.cache_clear()
    assert git_state(repo) == {"commit": clean["commit"], "dirty": True}
    subprocess.run(["git", "-C", str(repo), "commit", "-qam", "x = 2"], check=True, capture_output=True)
    git_state.cache_clear()
    after = git_state(repo)
    assert after["dirty"] is False and after["commit"] != clean["commit"]
    git_state.cache_clear()
