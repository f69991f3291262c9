"""Disk watching with watchdog: files changed outside the editor are re-linted.

One recursive watch per top-level folder that is not excluded (.git, node_modules, runs,
virtual environments, dot-folders) plus a shallow watch of the root, so big excluded trees
cost no inotify watches. Events are handed to the server's event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tuneline.lint.api import EXCLUDED_DIRS

log = logging.getLogger(__name__)

OnChange = Callable[[str, bool], None]  # (path, deleted)


def excluded_dir(name: str) -> bool:
    return name in EXCLUDED_DIRS or name.startswith(".")


class DiskWatcher:
    """Watches workspace folders; calls `on_change(path, deleted)` from watchdog's thread."""

    def __init__(self, on_change: OnChange) -> None:
        self.on_change = on_change
        self._observer: Any = None
        self._watched: set[str] = set()
        self._roots: set[str] = set()

    def _handler(self) -> Any:
        from watchdog.events import FileSystemEventHandler

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                if event.event_type in ("opened", "closed_no_write"):
                    return
                if event.is_directory:
                    if event.event_type == "created":
                        watcher._maybe_watch(Path(event.src_path))
                    return
                deleted = event.event_type in ("deleted", "moved")
                watcher._emit(event.src_path, deleted)
                if event.event_type == "moved":
                    watcher._emit(event.dest_path, False)

        return Handler()

    def _emit(self, path: Any, deleted: bool) -> None:
        try:
            self.on_change(str(path if isinstance(path, str) else path.decode()), deleted)
        except Exception:
            log.exception("handling a change of %s failed", path)

    def start(self, roots: list[Path]) -> None:
        from watchdog.observers import Observer

        self._observer = Observer()
        self._observer.daemon = True
        self._handler_obj = self._handler()
        self._observer.start()
        for root in roots:
            self.add_root(root)

    def add_root(self, root: Path) -> None:
        if self._observer is None or not root.is_dir():
            return
        self._roots.add(str(root))
        self._schedule(root, recursive=False)
        try:
            children = sorted(p for p in root.iterdir() if p.is_dir())
        except OSError:
            return
        for child in children:
            if not excluded_dir(child.name):
                self._schedule(child, recursive=True)

    def _maybe_watch(self, folder: Path) -> None:
        """A folder created directly under a root gets its own recursive watch; files written
        into it before the watch started are reported now."""
        if str(folder.parent) in self._roots and not excluded_dir(folder.name):
            self._schedule(folder, recursive=True)
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not any(excluded_dir(p) for p in path.relative_to(folder).parts[:-1]):
                    self._emit(str(path), False)

    def _schedule(self, folder: Path, recursive: bool) -> None:
        key = str(folder)
        if key in self._watched:
            return
        try:
            self._observer.schedule(self._handler_obj, key, recursive=recursive)
            self._watched.add(key)
        except OSError as exc:  # e.g. out of inotify watches
            log.warning("cannot watch %s: %s", folder, exc)

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer = None
