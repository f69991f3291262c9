"""Run folders: `runs/<id>/` holds everything about one job, enough to list it or re-attach.

    config.json, config.toml   the resolved config
    state.json                 kind, state, pid, step/total, best eval loss (rewritten atomically)
    events.jsonl               the event stream (see events.py)
    summary.json               a short result, written at the end
    checkpoints/step-NNNNNN/   resumable checkpoints
    cancel                     present = cancel requested (the job polls it every step)
    stderr.log                 the job's stderr when started by the runner

A run whose state says running but whose process is gone is reported failed. Stdlib only.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tuneline.jobs.events import read_events

RUNS_DIR_ENV = "TUNELINE_RUNS_DIR"
STATES = ("starting", "running", "completed", "failed", "cancelled")
FINAL_STATES = ("completed", "failed", "cancelled")


def default_runs_dir() -> Path:
    """`$TUNELINE_RUNS_DIR`, else `runs/` in the current folder."""
    return Path(os.environ.get(RUNS_DIR_ENV) or "runs").resolve()


def new_run_id(name: str = "run") -> str:
    """A sortable, unique id: `20250131-142501-lora-3fa2`."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "run"
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}-{secrets.token_hex(2)}"


def pid_alive(pid: int | None) -> bool:
    """Whether process `pid` exists and is not a zombie."""
    if not pid or pid <= 0:
        return False
    if sys.platform == "win32":  # pragma: no cover
        return _win_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rfind(")") + 2] not in "ZX"
    except OSError:
        return True


def _win_pid_alive(pid: int) -> bool:  # pragma: no cover
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    code = ctypes.c_ulong()
    kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
    kernel32.CloseHandle(handle)
    return code.value == 259  # STILL_ACTIVE


def _looks_like_job(pid: int) -> bool:
    """Guard against pid reuse before signalling: the command line mentions tuneline."""
    try:
        return b"tuneline" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return sys.platform != "linux"


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass
class RunInfo:
    """What a run list shows."""

    id: str
    path: str
    kind: str
    state: str
    name: str = ""
    step: int = 0
    total: int = 0
    best_eval_loss: float | None = None
    started: float | None = None
    pid: int | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Run:
    """One run folder."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).resolve()

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    @property
    def id(self) -> str:
        return self.path.name

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def events_path(self) -> Path:
        return self.path / "events.jsonl"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def cancel_path(self) -> Path:
        return self.path / "cancel"

    def exists(self) -> bool:
        return self.path.is_dir()

    # -- state -------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return _read_json(self.path / "state.json")

    def update_state(self, **fields: Any) -> dict[str, Any]:
        """Merge `fields` into state.json (atomic replace; one writer: the job)."""
        state = self.state()
        state.update(fields, updated=round(time.time(), 3))
        _write_json(self.path / "state.json", state)
        return state

    def summary(self) -> dict[str, Any]:
        return _read_json(self.path / "summary.json")

    def write_summary(self, summary: dict[str, Any]) -> None:
        _write_json(self.path / "summary.json", summary)

    def config(self) -> dict[str, Any]:
        return _read_json(self.path / "config.json")

    def events(self) -> list[dict[str, Any]]:
        return read_events(self.events_path)[0]

    def info(self) -> RunInfo:
        """The run's state, inferring `failed` for a running state whose process is gone."""
        st = self.state()
        state = st.get("state") or ("starting" if not self.events_path.exists() else "running")
        error = st.get("error")
        pid = st.get("pid")
        if state in ("running", "starting") and not pid_alive(pid):
            state, error = self._state_from_events(pid is None and state == "starting")
        return RunInfo(id=self.id, path=str(self.path), kind=st.get("kind", "job"), state=state,
                       name=st.get("name", ""), step=int(st.get("step") or 0),
                       total=int(st.get("total") or 0), best_eval_loss=st.get("best_eval_loss"),
                       started=st.get("started"), pid=pid, error=error)

    def _state_from_events(self, maybe_starting: bool) -> tuple[str, str | None]:
        events = self.events()
        for event in reversed(events):
            if event["type"] == "end":
                return event.get("status", "completed"), event.get("error")
            if event["type"] == "error":
                return "failed", event.get("message")
        if maybe_starting and not events:
            return "starting", None
        return "failed", "the job stopped without a final event (killed or crashed)"

    # -- cancel ------------------------------------------------------------------------------
    def request_cancel(self, signal_process: bool = True) -> bool:
        """Ask the job to stop at its next step: the cancel file, plus SIGINT when we can.

        Returns False when the run is not active (nothing to cancel).
        """
        info = self.info()
        if info.state not in ("running", "starting"):
            return False
        self.cancel_path.write_text(f"{time.time():.3f}\n", "utf-8")
        if signal_process and info.pid and sys.platform != "win32" and _looks_like_job(info.pid):
            with contextlib.suppress(OSError):
                os.kill(info.pid, signal.SIGINT)
        return True

    def cancel_requested(self) -> bool:
        return self.cancel_path.exists()

    def clear_cancel(self) -> None:
        self.cancel_path.unlink(missing_ok=True)

    # -- checkpoints -------------------------------------------------------------------------
    def checkpoints(self) -> list[Path]:
        """Complete checkpoints, oldest first (written to a temporary name, then renamed)."""
        if not self.checkpoints_dir.is_dir():
            return []
        found = [p for p in self.checkpoints_dir.glob("step-*")
                 if p.is_dir() and (p / "trainer_state.json").exists()]
        return sorted(found, key=lambda p: int(p.name.split("-")[1]))

    def latest_checkpoint(self) -> Path | None:
        ckpts = self.checkpoints()
        return ckpts[-1] if ckpts else None


def create_run(runs_dir: str | os.PathLike[str], run_id: str, kind: str,
               config: dict[str, Any], config_toml: str | None = None, name: str = "") -> Run:
    """Create (or adopt, if the runner made it empty) the folder and write the config."""
    run = Run(Path(runs_dir) / run_id)
    if (run.path / "config.json").exists():
        raise FileExistsError(f"run {run_id} already exists in {runs_dir}")
    run.path.mkdir(parents=True, exist_ok=True)
    _write_json(run.path / "config.json", config)
    if config_toml is not None:
        (run.path / "config.toml").write_text(config_toml, "utf-8")
    run.update_state(kind=kind, name=name, state="starting", pid=os.getpid(),
                     started=round(time.time(), 3))
    return run


def list_runs(runs_dir: str | os.PathLike[str] | None = None) -> list[RunInfo]:
    """Every run in `runs_dir`, newest first."""
    base = Path(runs_dir) if runs_dir else default_runs_dir()
    if not base.is_dir():
        return []
    runs = [Run(p) for p in base.iterdir()
            if p.is_dir() and ((p / "state.json").exists() or (p / "events.jsonl").exists())]
    return [r.info() for r in sorted(runs, key=lambda r: r.id, reverse=True)]


def find_run(ref: str, runs_dir: str | os.PathLike[str] | None = None) -> Run:
    """A run by folder path, id, or unique id prefix/suffix; LookupError with a clear message."""
    p = Path(ref)
    if p.is_dir() and ((p / "state.json").exists() or (p / "config.json").exists()):
        return Run(p)
    base = Path(runs_dir) if runs_dir else default_runs_dir()
    if (base / ref).is_dir():
        return Run(base / ref)
    matches = [d for d in base.iterdir() if d.is_dir() and ref in d.name] if base.is_dir() else []
    if len(matches) == 1:
        return Run(matches[0])
    if not matches:
        raise LookupError(f"no run '{ref}' in {base}")
    names = ", ".join(sorted(m.name for m in matches)[:5])
    raise LookupError(f"'{ref}' matches several runs: {names}")
