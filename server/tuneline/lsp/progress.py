"""Work-done progress ($/progress) for workspace lint and jobs, with cancel from the client.

A progress runs on the token the client sent with its request (`workDoneToken`) or on one the
server creates (`window/workDoneProgress/create`, when the client supports it). The client's
`window/workDoneProgress/cancel` reaches `cancel()` of the matching progress.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from lsprotocol import types

from tuneline.lsp.app import TunelineServer

_REGISTRY = "progress"


class Progress:
    """One progress bar in the editor."""

    def __init__(self, ls: TunelineServer, token: types.ProgressToken | None) -> None:
        self.ls = ls
        self.token = token
        self.cancelled = False
        self.ended = False
        self._on_cancel: list[Callable[[], None]] = []
        if token is not None:
            ls.extras.setdefault(_REGISTRY, {})[token] = self

    @classmethod
    async def create(cls, ls: TunelineServer, token: types.ProgressToken | None = None) -> Progress:
        """Progress on `token`, else on a server-created token (a silent one without support)."""
        if token is None and ls.client_supports("window.work_done_progress"):
            token = f"tuneline-{uuid.uuid4().hex[:12]}"
            try:
                await ls.work_done_progress.create_async(token)
            except Exception:
                token = None
        return cls(ls, token)

    def on_cancel(self, fn: Callable[[], None]) -> None:
        self._on_cancel.append(fn)

    def cancel(self) -> None:
        if self.cancelled:
            return
        self.cancelled = True
        for fn in self._on_cancel:
            fn()

    def begin(self, title: str, message: str | None = None, cancellable: bool = False,
              percentage: int | None = None) -> None:
        if self.token is not None:
            self.ls.work_done_progress.begin(self.token, types.WorkDoneProgressBegin(
                title=title, message=message, cancellable=cancellable, percentage=percentage))

    def report(self, message: str | None = None, percentage: int | None = None) -> None:
        if self.token is not None and not self.ended:
            self.ls.work_done_progress.report(self.token, types.WorkDoneProgressReport(
                message=message, percentage=percentage))

    def end(self, message: str | None = None) -> None:
        if self.ended:
            return
        self.ended = True
        if self.token is not None:
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
            self.ls.extras.get(_REGISTRY, {}).pop(self.token, None)
            self.ls.work_done_progress.tokens.pop(self.token, None)


def event_message(event: dict[str, Any]) -> tuple[str | None, int | None]:
    """A job event as a progress message and percentage (None, None to skip it)."""
    kind = event.get("type")
    if kind == "progress":
        step, total = event.get("step"), event.get("total")
        bits = [f"step {step}/{total}" if total else f"step {step}"]
        if isinstance(event.get("loss"), (int, float)):
            bits.append(f"loss {event['loss']:.4f}")
        if isinstance(event.get("eta_seconds"), (int, float)):
            bits.append(f"ETA {int(event['eta_seconds'])} s")
        pct = int(100 * step / total) if isinstance(step, int) and isinstance(total, int) and total else None
        return " · ".join(bits), pct
    if kind == "metric":
        nums = [f"{k} {v:.4f}" for k, v in event.items() if isinstance(v, float)]
        return ("eval: " + ", ".join(nums)) if nums else None, None
    if kind == "checkpoint":
        return f"checkpoint saved (step {event.get('step')})", None
    if kind == "log" and event.get("level") in ("warning", "error"):
        return str(event.get("message", ""))[:200], None
    return None, None


def register(ls: TunelineServer) -> None:
    @ls.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def cancel(ls: TunelineServer, params: types.WorkDoneProgressCancelParams) -> None:
        progress = ls.extras.get(_REGISTRY, {}).get(params.token)
        if progress is not None:
            progress.cancel()
