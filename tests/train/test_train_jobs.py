"""Job plumbing without torch: the event contract, run folders and state inference, cancel."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tuneline.jobs import events as ev
from tuneline.jobs.cancel import CancelFlag
from tuneline.jobs.runner import Job
from tuneline.jobs.runs import Run, create_run, find_run, list_runs, new_run_id


def test_writer_appends_lines_and_echoes(tmp_path: Path) -> None:
    out = io.StringIO()
    seen: list[dict] = []
    with ev.EventWriter(tmp_path / "run" / "events.jsonl", echo=True, stream=out) as w:
        w.listeners.append(seen.append)
        w.emit("start", run_id="r1", kind="train")
        w.emit("progress", step=1, total=4, loss=float("nan"), learning_rate=1e-3,
               tokens_per_second=10.0, eta_seconds=3.0)
        w.log("hello")
    lines = (tmp_path / "run" / "events.jsonl").read_text().splitlines()
    assert lines == out.getvalue().splitlines()
    parsed = [json.loads(line) for line in lines]
    assert [e["type"] for e in parsed] == ["start", "progress", "log"]
    assert parsed[1]["loss"] is None  # NaN is not JSON
    assert all(isinstance(e["time"], float) for e in parsed)
    assert [e["type"] for e in seen] == ["start", "progress", "log"]


def test_echo_to_a_closed_stream_never_stops_the_job(tmp_path: Path) -> None:
    out = io.StringIO()
    w = ev.EventWriter(tmp_path / "events.jsonl", echo=True, stream=out)
    out.close()
    w.log("still written")
    w.close()
    assert "still written" in (tmp_path / "events.jsonl").read_text()


@pytest.mark.parametrize(("event", "problem"), [
    ({"type": "progress", "time": 1.0, "step": 1, "total": 2, "loss": 1.0, "learning_rate": 1e-3,
      "tokens_per_second": 5, "eta_seconds": 1}, None),
    ({"type": "progress", "time": 1.0, "step": 1, "total": 2}, "'loss' missing"),
    ({"type": "end", "time": 1.0, "status": "done"}, "'status' must be one of"),
    ({"type": "bogus", "time": 1.0}, "unknown type"),
    ({"type": "log", "time": "now", "level": "info", "message": "x"}, "'time' must be a number"),
    ({"type": "checkpoint", "time": 1.0, "step": 3, "path": "/x"}, None),
])
def test_event_contract(event: dict, problem: str | None) -> None:
    found = ev.problems(event)
    if problem is None:
        assert found == []
    else:
        assert any(problem in p for p in found), found


def test_event_json_schema_agrees_on_required_fields() -> None:
    validator = jsonschema.Draft202012Validator(ev.EVENT_SCHEMA)
    assert not list(validator.iter_errors({"type": "metric", "time": 1.0, "step": 2,
                                           "metrics": {"eval_loss": 1.0}}))
    assert list(validator.iter_errors({"type": "metric", "time": 1.0}))


def test_read_events_leaves_a_half_written_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"type":"log","time":1,"level":"info","message":"a"}\n{"type":"lo')
    events, offset = ev.read_events(path)
    assert [e["message"] for e in events] == ["a"]
    with open(path, "a") as fh:
        fh.write('g","time":2,"level":"info","message":"b"}\n')
    more, offset2 = ev.read_events(path, offset)
    assert [e["message"] for e in more] == ["b"] and offset2 == path.stat().st_size


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_run_state_inference(tmp_path: Path) -> None:
    alive = create_run(tmp_path, new_run_id("lora"), "train", {"method": "lora"}, "x = 1\n")
    alive.update_state(state="running", step=3, total=10, best_eval_loss=1.5)
    info = alive.info()
    assert (info.state, info.step, info.total, info.best_eval_loss) == ("running", 3, 10, 1.5)
    assert (alive.path / "config.toml").read_text() == "x = 1\n"

    crashed = create_run(tmp_path, "20000101-000000-crash-0001", "train", {})
    crashed.update_state(state="running", pid=_dead_pid())
    assert crashed.info().state == "failed"
    assert "without a final event" in crashed.info().error

    ended = create_run(tmp_path, "20000101-000000-ended-0002", "train", {})
    ended.update_state(state="running", pid=_dead_pid())
    with ev.EventWriter(ended.events_path) as w:
        w.emit("end", status="cancelled")
    assert ended.info().state == "cancelled"

    listed = list_runs(tmp_path)
    assert [i.id for i in listed] == sorted((i.id for i in listed), reverse=True)
    assert {i.state for i in listed} == {"running", "failed", "cancelled"}


def test_find_run_by_folder_id_or_unique_part(tmp_path: Path) -> None:
    a = create_run(tmp_path, "20250101-000000-lora-aaaa", "train", {})
    create_run(tmp_path, "20250101-000000-full-bbbb", "train", {})
    assert find_run(str(a.path)).path == a.path
    assert find_run("lora-aaaa", tmp_path).path == a.path
    with pytest.raises(LookupError, match="several runs"):
        find_run("20250101", tmp_path)
    with pytest.raises(LookupError, match="no run 'zzz'"):
        find_run("zzz", tmp_path)
    with pytest.raises(FileExistsError):
        create_run(tmp_path, a.id, "train", {})


def test_cancel_request_reaches_the_flag(tmp_path: Path) -> None:
    run = create_run(tmp_path, "20250101-000000-lora-cccc", "train", {})
    run.update_state(state="running")  # our own pid: alive
    flag = CancelFlag(run.cancel_path)
    assert not flag.requested
    assert run.request_cancel(signal_process=False)
    assert flag.requested and flag.reason == "cancel file"
    finished = create_run(tmp_path, "20250101-000000-lora-dddd", "train", {})
    finished.update_state(state="completed")
    assert not finished.request_cancel()


def test_first_sigint_sets_the_flag_second_interrupts() -> None:
    with CancelFlag() as flag:
        os.kill(os.getpid(), signal.SIGINT)
        assert flag.requested and flag.reason == "SIGINT"
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_runner_job_failing_before_training_ends_failed(tmp_path: Path) -> None:
    """A job that fails on its config ends the stream with an error; the run folder says so."""
    job = Job.start("train", ["/nonexistent/train.toml"], runs_dir=tmp_path)
    final = job.wait(timeout=120)
    assert final is not None and final["type"] == "error"
    assert "cannot read" in final["message"]
    assert job.returncode == 2
    run = Run(job.run.path)
    assert run.info().state == "failed"
    assert "cannot read" in run.info().error


def test_runs_cli_lists_shows_and_refuses_to_cancel_finished_runs(tmp_path: Path) -> None:
    run = create_run(tmp_path, "20250101-000000-lora-eeee", "train", {"method": "lora"},
                     name="lora")
    run.update_state(state="completed", step=8, total=8, best_eval_loss=0.75)

    def tl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tuneline", "runs", *args, "--runs-dir",
                               str(tmp_path)], capture_output=True, text=True, timeout=60)

    listing = tl()
    assert listing.returncode == 0
    assert "20250101-000000-lora-eeee  completed  8/8       0.7500" in listing.stdout
    shown = json.loads(tl("show", "eeee", "--json").stdout)
    assert shown["info"]["state"] == "completed" and shown["config"] == {"method": "lora"}
    cancel = tl("cancel", "eeee")
    assert cancel.returncode == 1 and "not running (completed)" in cancel.stderr
    assert tl("show", "nope").returncode == 2
