"""Cooperative cancellation inside a job process.

The first SIGINT/SIGTERM (Ctrl+C, `tuneline runs cancel`, the editor) or the run folder's
`cancel` file sets the flag; the job checks it between steps, saves a checkpoint and exits
130. A second SIGINT raises KeyboardInterrupt for a job stuck in a long step.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any


class CancelFlag:
    """Set by a signal or by the presence of `cancel_file`."""

    def __init__(self, cancel_file: Path | None = None) -> None:
        self.cancel_file = cancel_file
        self.reason: str | None = None
        self._previous: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        if self.reason is None and self.cancel_file is not None and self.cancel_file.exists():
            self.reason = "cancel file"
        return self.reason is not None

    def set(self, reason: str = "requested") -> None:
        if self.reason is None:
            self.reason = reason

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.reason is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.set(signal.Signals(signum).name)

    def install(self) -> CancelFlag:
        """Take over SIGINT/SIGTERM (main thread only; elsewhere the file still works)."""
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def uninstall(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def __enter__(self) -> CancelFlag:
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.uninstall()
