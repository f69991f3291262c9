"""Job events: one JSON object per line, in `runs/<id>/events.jsonl` and on the job's stdout.

    {"type": "start|progress|metric|checkpoint|log|end|error", "time": <unix seconds>, ...}

`progress` carries step, total, loss, learning_rate, tokens_per_second, eta_seconds. The
language server turns events into `$/progress`; the editor draws curves from the file; a run
folder is enough to re-attach. Stdlib only: the server imports this.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

EVENT_TYPES = ("start", "progress", "metric", "checkpoint", "log", "end", "error")
FINAL_TYPES = ("end", "error")
END_STATUSES = ("completed", "cancelled", "failed")
LOG_LEVELS = ("debug", "info", "warning", "error")

# Fields each type must carry (beyond "type" and "time"), with their JSON types.
_NUM = (int, float)
REQUIRED: dict[str, dict[str, tuple[type, ...]]] = {
    "start": {"run_id": (str,), "kind": (str,)},
    "progress": {"step": (int,), "total": (int,), "loss": _NUM, "learning_rate": _NUM,
                 "tokens_per_second": _NUM, "eta_seconds": _NUM},
    "metric": {"step": (int,), "metrics": (dict,)},
    "checkpoint": {"step": (int,), "path": (str,)},
    "log": {"level": (str,), "message": (str,)},
    "end": {"status": (str,)},
    "error": {"message": (str,)},
}

EVENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Tuneline job event",
    "type": "object",
    "required": ["type", "time"],
    "properties": {"type": {"enum": list(EVENT_TYPES)}, "time": {"type": "number"}},
    "allOf": [
        {"if": {"properties": {"type": {"const": t}}},
         "then": {"required": list(req)}} for t, req in REQUIRED.items()
    ],
}


def make_event(type_: str, **fields: Any) -> dict[str, Any]:
    """An event dict with its type and the current time first."""
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type '{type_}'")
    return {"type": type_, "time": round(time.time(), 3), **fields}


def problems(event: Any) -> list[str]:
    """What makes `event` break the contract (empty when it is a valid event)."""
    if not isinstance(event, dict):
        return ["an event must be a JSON object"]
    out = []
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        return [f"unknown type {kind!r}"]
    if isinstance(event.get("time"), bool) or not isinstance(event.get("time"), _NUM):
        out.append("'time' must be a number")
    for name, types in REQUIRED[kind].items():
        value = event.get(name)
        if value is None or isinstance(value, bool) or not isinstance(value, types):
            out.append(f"{kind}: '{name}' missing or not {'/'.join(t.__name__ for t in types)}")
    if kind == "end" and event.get("status") not in END_STATUSES:
        out.append(f"end: 'status' must be one of {', '.join(END_STATUSES)}")
    if kind == "log" and event.get("level") not in LOG_LEVELS:
        out.append(f"log: 'level' must be one of {', '.join(LOG_LEVELS)}")
    return out


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf become null (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def dumps(event: dict[str, Any]) -> str:
    return json.dumps(_clean(event), ensure_ascii=False, separators=(",", ":"))


class EventWriter:
    """Appends events to a JSONL file (flushed per line) and optionally echoes them.

    `echo` prints each event line on `stream` (the `--json` mode); `listeners` get every event
    (the terminal progress bar). A closed stdout (the reading editor went away) stops the echo,
    never the job.
    """

    def __init__(self, path: str | os.PathLike[str], echo: bool = False,
                 stream: IO[str] | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (lives with the writer)
        self.echo = echo
        self.stream = stream
        self.listeners: list[Callable[[dict[str, Any]], None]] = []

    def emit(self, type_: str, **fields: Any) -> dict[str, Any]:
        event = make_event(type_, **fields)
        line = dumps(event)
        self._fh.write(line + "\n")
        self._fh.flush()
        if self.echo:
            self._echo(line)
        for listener in self.listeners:
            listener(event)
        return event

    def log(self, message: str, level: str = "info", **fields: Any) -> dict[str, Any]:
        return self.emit("log", level=level, message=message, **fields)

    def _echo(self, line: str) -> None:
        stream = self.stream or sys.stdout
        try:
            stream.write(line + "\n")
            stream.flush()
        except (BrokenPipeError, OSError, ValueError):
            self.echo = False

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def parse_line(line: str) -> dict[str, Any] | None:
    """The event on one line, or None for blank/non-event lines."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) and event.get("type") in EVENT_TYPES else None


def read_events(path: str | os.PathLike[str], offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Complete events from byte `offset` on, and the offset after the last complete line.

    A half-written last line (the job is writing it now) is left for the next call.
    """
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    events = []
    for raw in data[:end].splitlines():
        event = parse_line(raw.decode("utf-8", "replace"))
        if event is not None:
            events.append(event)
    return events, offset + end
