"""Start, watch, cancel and re-attach to job processes (train today; eval/augment alike).

A job is `python -m tuneline <command> ... --json --runs-dir DIR --run-id ID`: it writes
`runs/<id>/` and prints the same events on stdout. The runner reads stdout line by line; a
job found in a run folder (a server restart, a run started from a terminal) is followed by
tailing its `events.jsonl`. Either way the caller gets one stream of events, ending with an
`end` or `error` event (synthesised from the exit status and stderr when the job died
without one). Jobs run in their own session, so they outlive the process that started them.

Stdlib only: the language server uses this and must never import torch.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from tuneline.jobs.events import FINAL_TYPES, dumps, make_event, parse_line, read_events
from tuneline.jobs.runs import Run, default_runs_dir, new_run_id, pid_alive

EventCallback = Callable[[dict[str, Any]], None]
_DONE = object()


def job_argv(command: str, *args: str, python: str | None = None) -> list[str]:
    """The argument list that runs a tuneline subcommand with this interpreter."""
    return [python or sys.executable, "-m", "tuneline", command, *args]


class Job:
    """A running (or finished) job: its run folder, events, and how to stop it."""

    def __init__(self, run: Run, process: subprocess.Popen[str] | None = None,
                 on_event: EventCallback | None = None) -> None:
        self.run = run
        self.process = process
        self.on_event = on_event
        self.final: dict[str, Any] | None = None
        self.history: list[dict[str, Any]] = []
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # -- starting and attaching --------------------------------------------------------------
    @classmethod
    def start(cls, command: str, args: Sequence[str] = (), *,
              runs_dir: str | os.PathLike[str] | None = None, run_id: str | None = None,
              run_dir: str | os.PathLike[str] | None = None, cwd: str | None = None,
              env: dict[str, str] | None = None, on_event: EventCallback | None = None,
              python: str | None = None) -> Job:
        """Spawn `tuneline COMMAND ARGS --json` for a new run (or the given `run_dir`).

        With `run_dir` the job is expected to reuse that folder (e.g. `train --resume DIR`);
        otherwise a new id is made and passed as `--runs-dir/--run-id`.
        """
        argv = job_argv(command, *args, "--json", python=python)
        if run_dir is not None:
            run = Run(run_dir)
        else:
            base = Path(runs_dir) if runs_dir else default_runs_dir()
            run = Run(base / (run_id or new_run_id(command)))
            argv += ["--runs-dir", str(run.path.parent), "--run-id", run.id]
        run.path.mkdir(parents=True, exist_ok=True)
        full_env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        kwargs: dict[str, Any] = {}
        if sys.platform == "win32":  # pragma: no cover
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        else:
            kwargs["start_new_session"] = True  # outlive the server; no stray Ctrl+C
        with open(run.file("stderr.log"), "ab") as err:
            process = subprocess.Popen(
                argv, cwd=cwd, env=full_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=err, text=True, encoding="utf-8", errors="replace", bufsize=1, **kwargs)
        job = cls(run, process, on_event)
        job._thread = threading.Thread(target=job._pump_stdout, name=f"job-{run.id}", daemon=True)
        job._thread.start()
        return job

    @classmethod
    def attach(cls, run_dir: str | os.PathLike[str], *, on_event: EventCallback | None = None,
               poll_interval: float = 0.5, from_start: bool = True) -> Job:
        """Follow a job from its run folder (started elsewhere, or before a restart)."""
        job = cls(Run(run_dir), None, on_event)
        job._thread = threading.Thread(target=job._tail_file, args=(poll_interval, from_start),
                                       name=f"attach-{job.run.id}", daemon=True)
        job._thread.start()
        return job

    # -- the event stream --------------------------------------------------------------------
    def _deliver(self, event: dict[str, Any]) -> None:
        self.history.append(event)
        if event.get("type") in FINAL_TYPES:
            self.final = event
        elif event.get("type") == "start":
            self.final = None  # a resumed run: the earlier session's end is not the end
        if self.on_event is not None:
            with contextlib.suppress(Exception):  # a listener's bug must not stop the stream
                self.on_event(event)
        self._queue.put(event)

    def _pump_stdout(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            event = parse_line(line)
            if event is None and line.strip():
                event = make_event("log", level="info", message=line.rstrip(), source="stdout")
            if event is not None:
                self._deliver(event)
        code = self.process.wait()
        if self.final is None:
            self._deliver(self._synthesised_final(code))
        self._queue.put(_DONE)

    def _tail_file(self, poll_interval: float, from_start: bool) -> None:
        offset = 0
        if not from_start:
            offset = self.run.events_path.stat().st_size if self.run.events_path.exists() else 0
        while not self._stop.is_set():
            events, offset = read_events(self.run.events_path, offset)
            for event in events:
                self._deliver(event)
            if self.final is not None:
                break
            info = self.run.info()
            if info.state not in ("running", "starting"):
                events, offset = read_events(self.run.events_path, offset)
                for event in events:
                    self._deliver(event)
                if self.final is None:
                    self._deliver(self._synthesised_final(None, info.error, info.state))
                break
            time.sleep(poll_interval)
        self._queue.put(_DONE)

    def _synthesised_final(self, code: int | None, error: str | None = None,
                           state: str | None = None) -> dict[str, Any]:
        """An end/error event for a job that exited without one; recorded in the run folder."""
        if code == 0 or state == "completed":
            event = make_event("end", status="completed", source="runner")
        elif code == 130 or state == "cancelled":
            event = make_event("end", status="cancelled", source="runner")
        else:
            message = error or self._stderr_tail() or f"the job exited with status {code}"
            event = make_event("error", message=message, exit_code=code, source="runner")
        if self.process is not None:  # we own this job: leave the record straight
            try:
                with open(self.run.events_path, "a", encoding="utf-8") as fh:
                    fh.write(dumps(event) + "\n")
                status = event.get("status") or "failed"
                self.run.update_state(state=status, error=event.get("message"))
            except OSError:
                pass
        return event

    def _stderr_tail(self, limit: int = 2000) -> str:
        try:
            text = self.run.file("stderr.log").read_text("utf-8", "replace").strip()
        except OSError:
            return ""
        return text[-limit:]

    def events(self, timeout: float | None = None) -> Iterator[dict[str, Any]]:
        """Events as they arrive, until the final one (or `timeout` seconds of silence)."""
        while True:
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                return
            if item is _DONE:
                self._queue.put(_DONE)  # later callers also stop
                return
            yield item

    # -- control -----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return self.run.info().state in ("running", "starting")

    @property
    def returncode(self) -> int | None:
        return self.process.poll() if self.process is not None else None

    def wait(self, timeout: float | None = None) -> dict[str, Any] | None:
        """Block until the event stream ends; the final event (None on timeout)."""
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                return None
        return self.final

    def cancel(self) -> bool:
        """Ask the job to stop at its next step and save a checkpoint.

        Writes the run's cancel file and sends SIGINT (the job treats both alike); returns
        False when the job has already finished.
        """
        if self.process is None:
            return self.run.request_cancel()
        if self.process.poll() is not None:
            return False
        self.run.cancel_path.write_text(f"{time.time():.3f}\n", "utf-8")
        if sys.platform != "win32":
            self.process.send_signal(signal.SIGINT)
        return True

    def kill(self) -> None:
        """Stop at once (no checkpoint): for a job that ignores cancel."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        elif self.process is None:
            pid = self.run.info().pid
            if pid and pid_alive(pid):
                os.kill(pid, signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)

    def detach(self) -> None:
        """Stop following (the job itself keeps running)."""
        self._stop.set()


def start_job(command: str, args: Sequence[str] = (), **kwargs: Any) -> Job:
    """`Job.start` as a function."""
    return Job.start(command, args, **kwargs)


def attach(run_dir: str | os.PathLike[str], **kwargs: Any) -> Job:
    """`Job.attach` as a function."""
    return Job.attach(run_dir, **kwargs)


def active_runs(runs_dir: str | os.PathLike[str] | None = None) -> list[Run]:
    """Runs whose job is still running (to re-attach after a restart)."""
    from tuneline.jobs.runs import list_runs

    return [Run(info.path) for info in list_runs(runs_dir) if info.state in ("running", "starting")]
