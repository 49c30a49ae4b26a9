"""Sweeps: grid expansion, resume, kill safety, locks, and the same files from local and Ray."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from seqbench.errors import UserError
from seqbench.status import FINISHED
from seqbench.store import load_runs, read_run
from seqbench.suite import load_suite, plan
from seqbench.sweep import acquire_lock, clear_stale_locks, release_lock, sweep

from conftest import REPO, wait_for

TINY_SUITE = """
name: tiny
version: 3
seeds: [0, 1]
models: [gru, transformer]
lr: {default: [3.0e-3], transformer: [1.0e-3, 3.0e-3]}
tasks:
  adding: {lengths: [6, 12]}
  recall: {lengths: [4]}
train: {steps: 6, eval_every: 3, log_every: 3, val_examples: 16, test_examples: 16, batch_size: 8, eval_batch_size: 8}
model: {params: 20000, n_heads: 2}
"""


@pytest.fixture
def suite_file(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_SUITE)
    return path


def test_grid_expansion(suite_file):
    found = plan(load_suite(suite_file))
    runs, notes = found.runs, found.notes
    # tasks x lengths: 3; models: gru (1 lr) + transformer (2 lrs) = 3 settings; seeds: 2
    assert len(runs) == 3 * 3 * 2 and not notes
    assert len({r.run_id for r in runs}) == len(runs)
    assert {r.train.lr for r in runs if r.model.name == "transformer"} == {1e-3, 3e-3}
    assert all(r.train.steps == 6 and r.model.params == 20000 for r in runs)


def test_grid_key_crosses_everything(tmp_path):
    path = tmp_path / "ablation.yaml"
    path.write_text("name: a\nmodels: [rnn]\nseeds: [0]\ntasks: {adding: {lengths: [5, 10]}}\n"
                    "grid: {train.clip: [null, 1.0], model.init: [default, orthogonal, identity]}\n")
    runs = plan(load_suite(path)).runs
    assert len(runs) == 2 * 2 * 3
    assert {(r.train.clip, r.model.init) for r in runs} == {(c, i) for c in (None, 1.0) for i in ("default", "orthogonal", "identity")}


def test_a_grid_mapping_applies_only_to_the_models_it_names(tmp_path):
    path = tmp_path / "rows.yaml"
    path.write_text("name: r\nmodels: [lstm, transformer]\nseeds: [0]\ntasks: {parity_check: {}}\n"
                    "grid: {model.positions: {transformer: [sinusoidal, rope, none]}, train.clip: [null, 1.0]}\n")
    runs = plan(load_suite(path)).runs
    rows = {(r.model.name, r.model.positions, r.train.clip) for r in runs}
    assert len(runs) == len(rows) == 2 + 3 * 2
    assert {(p, c) for m, p, c in rows if m == "transformer"} == {(p, c) for p in ("sinusoidal", "rope", "none") for c in (None, 1.0)}
    assert {p for m, p, _ in rows if m == "lstm"} == {"learned"}  # the field's default: the lstm has no grid on it


@pytest.mark.parametrize("text, message", [
    ("models: [lstm]\n", "missing key 'tasks'"),
    ("models: [lstm]\ntasks: {copy: {}}\ngrid: {model.init: {lstm: []}}\n", "mapping of model"),
    ("models: [lstm]\ntasks: {copy: {}}\nseeds: 3\n", "'seeds' must be"),
    ("models: [lstm]\ntasks: {copy: {}}\ngrid: {lr: [1]}\n", "train.<field>"),
    ("models: [lstm]\ntasks: {copy: {}}\nbogus: 1\n", "unknown key 'bogus'"),
    ("models: [lstm]\ntasks: [[]]\n", "must hold task names"),
    ("models: [lstm\n", "malformed YAML"),
])
def test_bad_suites(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        plan(load_suite(path))


@pytest.mark.slow
def test_resume_skips_finished_runs(suite_file, tmp_path):
    results = tmp_path / "results"
    first = sweep(suite_file, results, workers=2, threads=1)
    assert first["todo"] == 18 and sum(first["counts"].values()) == 18 and set(first["counts"]) <= set(FINISHED)
    mtimes = {p: p.stat().st_mtime_ns for p in (results / "runs").glob("*.json")}
    # VERSION names the code that made the runs: a sweep that finds them all done keeps it.
    version = (results / "VERSION").read_text().replace("commit: ", "commit: made-elsewhere-")
    (results / "VERSION").write_text(version)
    second = sweep(suite_file, results, workers=2, threads=1)
    assert (results / "VERSION").read_text() == version
    assert second["skipped"] == 18 and second["todo"] == 0
    assert {p: p.stat().st_mtime_ns for p in (results / "runs").glob("*.json")} == mtimes
    manifest = json.loads((results / "suites" / "tiny.json").read_text())
    assert manifest["version"] == 3 and len(manifest["run_ids"]) == 18
    assert manifest["complete"] is True  # the report marks a suite whose sweep has runs left


def _metrics(results: Path) -> dict:
    records, skipped = load_runs(results)
    assert not skipped
    return {r.run_id: (r.status, r.metrics) for r in records}


def _run_files(results: Path) -> list[Path]:
    return list((results / "runs").glob("*.json")) if (results / "runs").exists() else []


@pytest.mark.slow
def test_killed_sweep_resumes_with_identical_results(suite_file, tmp_path):
    """SIGKILL the whole sweep (workers too) at several moments; rerun; compare with a clean sweep.
    The moments are events, not delays: a run in progress and none finished, then one more run file,
    then three more; so each kill lands while most of the 18 runs are still to do."""
    clean = tmp_path / "clean"
    sweep(suite_file, clean, workers=2, threads=1)
    expected = _metrics(clean)
    killed = tmp_path / "killed"
    cmd = [sys.executable, "-m", "seqbench", "sweep", str(suite_file), "--results", str(killed), "--quiet", "--workers", "2"]
    for new_files in (0, 1, 3):
        before = len(_run_files(killed))
        proc = subprocess.Popen(cmd, cwd=REPO, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if new_files:
            wait_for(lambda: len(_run_files(killed)) >= before + new_files, f"{new_files} new run file(s)", proc=proc)
        else:
            wait_for(lambda: list((killed / "runs").glob("*.lock")), "a run in progress", proc=proc)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL  # killed mid-sweep, not finished before the signal
        for path in _run_files(killed):
            read_run(path)  # every run file present is complete and verified
    assert len(_run_files(killed)) < 18
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert _metrics(killed) == expected
    assert not list((killed / "runs").glob("*.lock"))


def test_locks_exclude_live_holders_and_survive_dead_ones(tmp_path):
    (tmp_path / "runs").mkdir()
    assert acquire_lock(tmp_path, "abc")
    assert not acquire_lock(tmp_path, "abc")  # held by this (live) process
    release_lock(tmp_path, "abc")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import socket
    (tmp_path / "runs" / "abc.lock").write_text(f"{socket.gethostname()}:{dead.pid}")
    assert acquire_lock(tmp_path, "abc")  # its holder died: taken over
    release_lock(tmp_path, "abc")


def test_a_sweep_clears_dead_holders_locks_and_keeps_live_ones(tmp_path):
    """A killed worker may leave the lock of a run whose file it had written: that run is skipped
    on resume, so only the start-up clearing removes its lock."""
    import socket
    (tmp_path / "runs").mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "runs" / "finished.lock").write_text(f"{socket.gethostname()}:{dead.pid}")
    assert acquire_lock(tmp_path, "running")  # held by this live process
    assert clear_stale_locks(tmp_path) == 1
    assert [p.name for p in (tmp_path / "runs").glob("*.lock")] == ["running.lock"]
    release_lock(tmp_path, "running")


def _start_endless_sweep(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    """A two-worker sweep, in its own session, of a suite whose last run never ends on its own."""
    endless = tmp_path / "endless.yaml"
    endless.write_text(ENDLESS_SUITE)
    results = tmp_path / "r"
    cmd = [sys.executable, "-m", "seqbench", "sweep", str(endless), "--results", str(results), "--workers", "2"]
    proc = subprocess.Popen(cmd, cwd=REPO, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)
    return proc, results


def _default_sigint() -> None:
    """A shell's background job (`make test &`, nohup) starts with SIGINT ignored, and Python then
    installs no Ctrl-C handler; the tests that send Ctrl-C give their sweep a terminal's default."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _worker_of_a_running_run(proc: subprocess.Popen, results: Path) -> int:
    """The pid in the first run lock to appear (a lock holds the worker's host:pid)."""
    locks = wait_for(lambda: list((results / "runs").glob("*.lock")), "a run in progress", proc=proc)
    return int(locks[0].read_text().rsplit(":", 1)[1])


def _kill_group(proc: subprocess.Popen) -> None:
    """Whatever is left of a sweep's session, so a failing test leaves nothing running."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _gone(pid: int) -> bool:
    """Exited: no such process, or a zombie nobody has reaped yet (an orphan's new parent may not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").exists(), reason="reads process states from /proc")
def test_workers_stop_when_their_sweep_is_killed(tmp_path):
    """SIGKILL the sweep alone (not its process group): its worker notices and stops, releasing its lock."""
    proc, results = _start_endless_sweep(tmp_path)
    try:
        worker = _worker_of_a_running_run(proc, results)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        wait_for(lambda: _gone(worker), f"worker {worker} to stop after its sweep died", timeout=60)
        assert not list((results / "runs").glob("*.lock"))  # it unwound its run before exiting
    finally:
        _kill_group(proc)


@pytest.mark.slow
def test_ray_and_local_write_the_same_files(suite_file, tmp_path):
    pytest.importorskip("ray")
    local, remote = tmp_path / "local", tmp_path / "ray"
    sweep(suite_file, local, workers=2, threads=1)
    sweep(suite_file, remote, workers=2, threads=1, executor="ray")
    import ray
    ray.shutdown()
    assert sorted(p.name for p in (local / "runs").glob("*.json")) == sorted(p.name for p in (remote / "runs").glob("*.json"))
    assert _metrics(local) == _metrics(remote)


@pytest.mark.slow
def test_sweep_cli_bad_input(tmp_path):
    from conftest import run_cli
    proc = run_cli("sweep", str(tmp_path / "missing.yaml"))
    assert proc.returncode == 2 and "cannot read" in proc.stderr
    proc = run_cli("sweep", str(REPO / "tasks" / "copy.yaml"), "--executor", "slurm")
    assert proc.returncode == 2 and "unknown executor 'slurm'" in proc.stderr


@pytest.mark.slow
def test_out_of_memory_is_recorded_and_the_sweep_goes_on(tmp_path):
    path = tmp_path / "oom.yaml"
    path.write_text("""
name: oom
models: [lstm]
seeds: [0]
memory_limit_mb: 3000
tasks:
  adding: {lengths: [6]}
  copy: {lengths: [2000], train: {batch_size: 400000}}
train: {steps: 4, eval_every: 2, log_every: 2, val_examples: 8, test_examples: 8, eval_batch_size: 8}
model: {params: 20000}
""")
    summary = sweep(path, tmp_path / "r", workers=1, threads=1)
    assert summary["counts"].pop("oom") == 1 and sum(summary["counts"].values()) == 1
    assert set(summary["counts"]) <= set(FINISHED)
    records, _ = load_runs(tmp_path / "r")
    oom = [r for r in records if r.status == "oom"][0]
    assert oom.config.task == "copy" and "allocate" in oom.error
    from seqbench.report.render import write_report
    write_report(tmp_path / "r", tmp_path / "out")
    failed_rows = [line for line in (tmp_path / "out" / "leaderboard.md").read_text().splitlines()
                   if line.startswith("| copy | lstm |") and "| 2000 |" in line]
    assert len(failed_rows) == 1 and "oom" in failed_rows[0]  # the failed-runs table: task, model, protocol, length, ...


# One endless run (a million steps) beside three short ones: with two workers at least one short run
# finishes, and the sweep is certainly still going when a test interrupts it, on any machine.
ENDLESS_SUITE = """
name: endless
seeds: [0]
models: [gru]
tasks:
  adding: {lengths: [6, 12, 18]}
  recall: {lengths: [4], train: {steps: 1000000, early_stop: false}}  # endless: never stopped as converged
train: {steps: 6, eval_every: 3, log_every: 3, val_examples: 16, test_examples: 16, batch_size: 8, eval_batch_size: 8}
model: {params: 20000}
"""


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path):
    """Ctrl-C once the first run file is on disk, while the endless run is still going."""
    proc, results = _start_endless_sweep(tmp_path)
    wait_for(lambda: _run_files(results), "the first run file", proc=proc)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C does: the whole process group
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in out + err
    assert "Traceback" not in err, err
    # The parent has stopped its workers before exiting; allow the file system a moment to agree (a
    # generous limit: an event wait, it returns as soon as the locks go; 10 s timed out under load).
    wait_for(lambda: not list((results / "runs").glob("*.lock")), "no lock files left", timeout=60)
    for p in _run_files(results):
        read_run(p)
    manifests = list((results / "suites").glob("*.json"))
    assert manifests and json.loads(manifests[0].read_text())["complete"] is False


def test_a_ctrl_c_that_lands_in_another_thread_still_stops_the_wait():
    """The kernel may deliver a process group's SIGINT to one of the pool's threads; the main thread,
    waiting for a run to finish, must still raise KeyboardInterrupt (a plain wait sleeps through it)."""
    code = ("import signal, threading, time\n"
            "from concurrent.futures import Future\n"
            "from seqbench.sweep import wait_first\n"
            "def poke():\n"
            "    time.sleep(0.3)\n"
            "    signal.pthread_kill(threading.get_ident(), signal.SIGINT)\n"
            "threading.Thread(target=poke).start()\n"
            "try:\n"
            "    wait_first([Future()], poll_s=0.2)\n"
            "except KeyboardInterrupt:\n"
            "    print('interrupted')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO,
                          preexec_fn=_default_sigint)
    assert done.stdout.strip() == "interrupted", done.stderr


@pytest.mark.parametrize("started", [True, False])
def test_a_worker_unwinds_on_sigterm_once_started(started, monkeypatch):
    """Once started, SIGTERM unwinds a worker, in a run (its lock is released) or waiting for one (the
    pool queue's read lock is released: see the test below). A worker still starting holds nothing
    and leaves at once, since a SystemExit in the pool's initializer prints a traceback on a clean
    stop (seen when the sweep stopped while its second worker was starting)."""
    from seqbench.sweep import executors

    class Exited(BaseException):
        pass

    def fake_exit(code):
        raise Exited(code)

    monkeypatch.setattr(executors, "_started", started)
    monkeypatch.setattr(executors.os, "_exit", fake_exit)
    with pytest.raises(SystemExit if started else Exited) as stopped:
        executors._on_sigterm(signal.SIGTERM, None)
    assert stopped.value.args[0] == 143


@pytest.mark.slow
def test_an_idle_worker_stopped_by_sigterm_leaves_the_pool_queue_usable():
    """An idle worker waits for its next run inside the pool's queue, holding the queue's read lock.
    Stopped with SIGTERM, it must unwind out of that wait, not `os._exit`: a lock held by a dead
    process is held forever, and the other worker, unwinding its own run, then blocks on it and the
    sweep's shutdown never ends (a CI run hung in test_ctrl_c_stops_cleanly_and_says_how_to_resume)."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from seqbench.sweep import executors

    pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"), initializer=executors._worker_init,
                               initargs=(1,))
    try:
        worker_pid = pool.submit(os.getpid).result(timeout=120)
        read_lock = pool._call_queue._rlock  # the lock an idle worker holds while it waits for work

        def worker_waits_holding_it():
            if read_lock.acquire(block=False):
                read_lock.release()  # the worker has not gone back to waiting yet
                return False
            return True

        wait_for(worker_waits_holding_it, "the worker to wait for its next run")
        os.kill(worker_pid, signal.SIGTERM)
        wait_for(lambda: _gone(worker_pid), f"worker {worker_pid} to stop", timeout=60)
        assert read_lock.acquire(timeout=10), "the stopped worker left the pool's queue locked"
        read_lock.release()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.slow
def test_sigterm_stops_a_sweep_as_ctrl_c_does(tmp_path):
    """`kill <sweep>` (SIGTERM to the parent alone): it stops its workers, releases their locks, says how to resume."""
    proc, results = _start_endless_sweep(tmp_path)
    try:
        worker = _worker_of_a_running_run(proc, results)
        proc.terminate()
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 143, err
        assert "run the same command again to resume" in out + err
        assert "Traceback" not in err, err
        assert not list((results / "runs").glob("*.lock"))
        wait_for(lambda: _gone(worker), f"worker {worker} to stop", timeout=30)
    finally:
        _kill_group(proc)


@pytest.mark.slow
def test_two_sweeps_at_once_run_each_config_exactly_once(suite_file, tmp_path):
    """Two sweeps on one results directory: every run is done once, by one of them, and no file is lost."""
    results = tmp_path / "shared"
    cmd = [sys.executable, "-m", "seqbench", "sweep", str(suite_file), "--results", str(results), "--workers", "1"]
    procs = [subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-500:] for o in outputs]
    ran = [line for out, _ in outputs for line in out.splitlines() if line.strip().split(" ", 1)[0] in FINISHED]
    labels = [line.split(" in ")[0].split()[1:] for line in ran]
    assert len(ran) == 18 and len({tuple(x[:5]) for x in labels}) == 18  # each config ran once, in one sweep
    assert len(_metrics(results)) == 18
    assert not list((results / "runs").glob("*.lock"))


def test_retry_failed_reruns_errors_and_ooms_only(tmp_path):
    """--retry-failed runs again the runs that produced no number through no fault of their own
    (error, oom, and the legacy 'failed'); a diverged run is an outcome and stays; without the flag
    a failed run counts as done."""
    from seqbench.store import payload_hash

    path = tmp_path / "retry.yaml"
    path.write_text("""
name: retry
models: [lstm]
seeds: [0, 1, 2, 3]
tasks:
  adding: {lengths: [6]}
train: {steps: 4, eval_every: 2, log_every: 2, val_examples: 8, test_examples: 8, batch_size: 8, eval_batch_size: 8}
model: {params: 20000}
""")
    results = tmp_path / "r"
    assert sweep(path, results, executor="inline")["todo"] == 4
    files = {read_run(p).config.seed: p for p in (results / "runs").glob("*.json")}
    for seed, status in {0: "error", 1: "oom", 2: "failed", 3: "diverged"}.items():
        record = json.loads(files[seed].read_text())
        record["status"] = status
        record["payload_sha256"] = payload_hash(record)
        files[seed].write_text(json.dumps(record))
    diverged = files[3].stat().st_mtime_ns
    assert sweep(path, results, executor="inline")["todo"] == 0  # without the flag: done
    assert read_run(files[0]).status == "error"
    again = sweep(path, results, executor="inline", retry_failed=True)
    assert again["todo"] == 3
    assert {seed: read_run(p).status in FINISHED for seed, p in files.items()} == {0: True, 1: True, 2: True, 3: False}
    assert read_run(files[3]).status == "diverged" and files[3].stat().st_mtime_ns == diverged
