"""Jobs as the editor sees them: started by the runner, followed, cancelled, killed, resumed.

A cancelled-then-resumed run must end exactly where an uninterrupted run ends: same steps,
same learning rates, same losses, same adapter weights (optimizer, scheduler and RNG state
all restored).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from train_helpers import events_of, only_run, progress_of, train_cli, write_config

from tuneline.jobs.runner import Job
from tuneline.jobs.runs import Run, list_runs

torch = pytest.importorskip("torch")
STEPS = 60
ENV = {"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}


def adapter_weights(folder: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(folder / "adapter_model.safetensors"))


def after_last_start(events: list[dict]) -> list[dict]:
    starts = [i for i, e in enumerate(events) if e["type"] == "start"]
    return events[starts[-1]:]


def test_cancel_checkpoints_and_resume_matches_an_uninterrupted_run(tmp_path: Path,
                                                                    tiny_model: Path) -> None:
    config = write_config(tmp_path, tiny_model, max_steps=STEPS, learning_rate=5e-3,
                          warmup_ratio=0.1, batch_size=2, max_seq_length=256)
    runs = tmp_path / "runs"
    job = Job.start("train", [str(config)], runs_dir=runs, env=ENV)
    for event in job.events(timeout=300):
        if event["type"] == "progress" and event["step"] >= 3:
            cancel = subprocess.run([sys.executable, "-m", "tuneline", "runs", "cancel",
                                     job.run.id, "--runs-dir", str(runs)],
                                    capture_output=True, text=True, timeout=120)
            assert cancel.returncode == 0 and "cancel requested" in cancel.stdout
            break
    final = job.wait(timeout=300)
    assert final is not None and final["type"] == "end" and final["status"] == "cancelled"
    assert job.returncode == 130
    stopped = final["step"]
    assert 3 <= stopped < STEPS
    run = Run(job.run.path)
    assert run.info().state == "cancelled" and run.info().step == stopped
    ckpt = run.latest_checkpoint()
    assert ckpt is not None and ckpt.name == f"step-{stopped:06d}"
    for name in ("adapter_model.safetensors", "optimizer.pt", "scheduler.pt", "rng.pt"):
        assert (ckpt / name).exists(), name
    assert final["checkpoint"] == str(ckpt) and "--resume" in final["resume"]
    assert [i.state for i in list_runs(runs)] == ["cancelled"]

    # a client that re-attaches later sees the whole stream, ending in the same event
    replay = Job.attach(run.path, poll_interval=0.05)
    assert replay.wait(timeout=30) == final
    assert [e["type"] for e in replay.history] == [e["type"] for e in events_of(run.path)]

    assert train_cli("--resume", str(run.path), "--json") == 0
    resumed = after_last_start(events_of(run.path))
    assert resumed[0]["resumed"] is True
    steps = progress_of(resumed)
    assert [e["step"] for e in steps] == list(range(stopped + 1, STEPS + 1))
    assert resumed[-1]["type"] == "end" and resumed[-1]["status"] == "completed"
    assert run.info().state == "completed" and not run.cancel_path.exists()
    # re-attaching now replays both sessions and ends with the resumed session's end
    again = Job.attach(run.path, poll_interval=0.05)
    assert again.wait(timeout=30) == resumed[-1]
    assert [e["type"] for e in again.history].count("start") == 2

    straight_runs = tmp_path / "straight"
    assert train_cli(str(config), "--json", "--runs-dir", str(straight_runs)) == 0
    straight = progress_of(events_of(only_run(straight_runs)))
    for a, b in zip(steps, straight[stopped:], strict=True):
        assert a["step"] == b["step"]
        assert a["learning_rate"] == pytest.approx(b["learning_rate"], rel=1e-9)
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-4, abs=1e-5)
    mine = adapter_weights(run.path / "adapter")
    theirs = adapter_weights(only_run(straight_runs) / "adapter")
    assert mine.keys() == theirs.keys()
    for key in mine:
        torch.testing.assert_close(mine[key], theirs[key], atol=1e-5, rtol=1e-4)


def test_killed_job_is_failed_and_its_checkpoint_resumes(tmp_path: Path, tiny_model: Path) -> None:
    steps = 24
    config = write_config(tmp_path, tiny_model, max_steps=steps, save_steps=2, batch_size=2,
                          max_seq_length=256, eval_fraction=0.2, eval_steps=4)
    job = Job.start("train", [str(config)], runs_dir=tmp_path / "runs", env=ENV)
    # a second client follows the same job from its folder (an editor after a restart) and
    # is the one that kills it (it knows only the folder: the pid comes from state.json)
    follower = Job.attach(job.run.path, poll_interval=0.05)
    for event in follower.events(timeout=300):
        if event["type"] == "checkpoint" and event["step"] >= 4:
            follower.kill()
            break
    followed = follower.wait(timeout=60)
    assert followed is not None and followed["type"] == "error"
    final = job.wait(timeout=120)
    assert final is not None and final["type"] == "error" and final["source"] == "runner"
    assert job.returncode == -9
    assert [e for e in follower.history if e["type"] == "progress"]

    run = Run(job.run.path)
    info = run.info()
    assert info.state == "failed" and info.error
    last = run.latest_checkpoint()
    assert last is not None and int(last.name.split("-")[1]) >= 4
    assert len(run.checkpoints()) <= 2  # save_total_limit
    assert not list(run.checkpoints_dir.glob(".*.tmp"))

    assert train_cli("--resume", run.id, "--json", "--runs-dir", str(tmp_path / "runs")) == 0
    resumed = after_last_start(events_of(run.path))
    first = progress_of(resumed)[0]["step"]
    assert first == int(last.name.split("-")[1]) + 1
    metrics = [e for e in resumed if e["type"] == "metric"]
    assert metrics and metrics[-1]["step"] == steps
    assert run.info().best_eval_loss == pytest.approx(min(
        e["metrics"]["eval_loss"] for e in events_of(run.path) if e["type"] == "metric"))
    summary = json.loads((run.path / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["step"] == steps


def test_resume_refuses_finished_and_running_runs(tmp_path: Path, tiny_model: Path) -> None:
    runs = tmp_path / "runs"
    assert train_cli(str(write_config(tmp_path, tiny_model, max_steps=1)), "--json",
                     "--runs-dir", str(runs)) == 0
    done = only_run(runs)
    assert train_cli("--resume", str(done)) == 2
    Run(done).update_state(state="running", pid=os.getpid())
    assert train_cli("--resume", str(done)) == 2
    assert train_cli("--resume", "no-such-run", "--runs-dir", str(runs)) == 2
