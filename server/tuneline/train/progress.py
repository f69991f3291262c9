"""The terminal view of a job's events: one `\\r` progress line, other events as lines."""

from __future__ import annotations

import sys
from typing import IO, Any


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def progress_line(event: dict[str, Any], width: int = 24) -> str:
    step, total = event["step"], max(event["total"], 1)
    filled = int(width * step / total)
    loss = event.get("loss")
    loss_text = f"{loss:.4f}" if isinstance(loss, (int, float)) else "?"
    return (f"[{'#' * filled}{'-' * (width - filled)}] {step}/{total}  loss {loss_text}  "
            f"lr {event.get('learning_rate', 0):.2e}  {event.get('tokens_per_second', 0):,.0f} tok/s  "
            f"eta {_clock(event.get('eta_seconds'))}")


class ProgressPrinter:
    """An event listener for humans (stderr); on a non-terminal, progress every ~10%."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._open_line = False
        self._last_decile = -1

    def _line(self, text: str) -> None:
        if self._open_line:
            self.stream.write("\n")
            self._open_line = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "progress":
            text = progress_line(event)
            if self.tty:
                self.stream.write("\r" + text + "\033[K")
                self.stream.flush()
                self._open_line = True
            else:
                decile = 10 * event["step"] // max(event["total"], 1)
                if decile != self._last_decile:
                    self._last_decile = decile
                    self._line(text)
        elif kind == "start":
            self._line(f"run {event['run_id']} → {event.get('run_dir', '')}")
        elif kind == "log":
            prefix = "" if event["level"] == "info" else f"{event['level']}: "
            self._line(prefix + event["message"])
        elif kind == "metric":
            shown = "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                              for k, v in event["metrics"].items())
            self._line(f"step {event['step']}: {shown}")
        elif kind == "checkpoint":
            self._line(f"saved {event.get('reason', 'checkpoint')} → {event['path']}")
        elif kind == "error":
            self._line(f"error: {event['message']}")
        elif kind == "end":
            self._line(end_line(event))


def end_line(event: dict[str, Any]) -> str:
    status = event["status"]
    parts = [f"{status} at step {event.get('step', '?')}/{event.get('total', '?')}"]
    if isinstance(event.get("train_loss"), (int, float)):
        parts.append(f"train loss {event['train_loss']:.4f}")
    if isinstance(event.get("best_eval_loss"), (int, float)):
        parts.append(f"best eval loss {event['best_eval_loss']:.4f}")
    if event.get("output"):
        parts.append(f"output {event['output']}")
    if status == "cancelled" and event.get("resume"):
        parts.append(f"resume with: {event['resume']}")
    return "; ".join(parts)
