"""Workspace lint: every included `*.jsonl` of the workspace folders (and their tuneline.toml /
pyproject.toml) linted from disk and published; re-linted when the disk changes.

Files open in the editor follow the editor's buffer: their disk changes are ignored here.
Excluded by default: .git, node_modules, runs, virtual environments and dot-folders, plus the
`tuneline.workspace.exclude` globs.
"""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import from_fs_path

from tuneline.lint import api
from tuneline.lint.config import LoadedConfig, parse_config
from tuneline.lint.findings import Finding
from tuneline.lsp.app import TunelineServer, config_changed
from tuneline.lsp.diagnostics import DiagnosticEncoder, count_severities
from tuneline.lsp.documents import CONFIG_NAMES, Document, uri_to_path
from tuneline.lsp.progress import Progress
from tuneline.lsp.watch import DiskWatcher, excluded_dir

log = logging.getLogger(__name__)
DEBOUNCE_S = 0.15


def read_lines(path: Path, wanted: set[int]) -> dict[int, str]:
    """The text of the wanted lines of a file (as the lint core decoded them)."""
    out: dict[int, str] = {}
    if not wanted:
        return out
    last = max(wanted)
    try:
        with path.open("rb") as fh:
            for i, raw in enumerate(fh):
                if i in wanted:
                    text = raw.rstrip(b"\n").removesuffix(b"\r").decode("utf-8", "replace")
                    out[i] = text.removeprefix("\ufeff") if i == 0 else text
                if i >= last:
                    break
    except OSError:
        pass
    return out


class WorkspaceLint:
    """Lints files on disk in a worker thread and pushes their diagnostics."""

    def __init__(self, ls: TunelineServer) -> None:
        self.ls = ls
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="tuneline-workspace")
        self.results: dict[str, dict[int, int]] = {}  # uri -> severity counts
        self.watcher: DiskWatcher | None = None
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._generation = 0

    # ----- which files ----------------------------------------------------------------
    def roots(self) -> list[Path]:
        folders = [uri_to_path(f.uri) for f in self.ls.workspace.folders.values()]
        if not folders and self.ls.workspace.root_uri:
            folders = [uri_to_path(self.ls.workspace.root_uri)]
        return [Path(f) for f in folders if f and Path(f).is_dir()]

    def _root_of(self, path: Path) -> Path | None:
        for root in self.roots():
            if path == root or root in path.parents:
                return root
        return None

    def wanted(self, path: Path) -> bool:
        """Included by the settings and not inside an excluded folder."""
        root = self._root_of(path)
        return root is not None and self._wanted_under(root, path)

    def _wanted_under(self, root: Path, path: Path) -> bool:
        rel = path.relative_to(root).as_posix()
        if any(excluded_dir(part) for part in rel.split("/")[:-1]):
            return False
        return path.name in CONFIG_NAMES or self.ls.settings.wants(rel)

    def files(self, roots: list[Path] | None = None) -> list[Path]:
        """Every file to lint under the roots (data files and config files)."""
        out: list[Path] = []
        for root in roots or self.roots():
            for folder, dirs, names in os.walk(root):
                dirs[:] = sorted(d for d in dirs if not excluded_dir(d))
                for name in sorted(names):
                    path = Path(folder) / name
                    if self._wanted_under(root, path):
                        out.append(path)
        return out

    def _open_paths(self) -> set[str]:
        return {os.path.realpath(d.path) for d in self.ls.docs.values() if d.path}

    # ----- linting --------------------------------------------------------------------
    def lint_one(self, path: Path) -> tuple[str, str, dict[int, int]]:
        """(uri, diagnostics JSON, severity counts) of a file on disk (worker thread)."""
        uri = from_fs_path(str(path)) or path.as_uri()
        if path.name in CONFIG_NAMES:
            try:
                text = path.read_text("utf-8", "replace")
            except OSError:
                return uri, "[]", {}
            found = [] if path.name == "pyproject.toml" and "tuneline" not in text else (
                parse_config(text, str(path)).problems)
            lines = text.split("\n")
            texts = {i: lines[i] for i in range(len(lines))}
        else:
            loaded = self.ls.linter.loaded_config(str(path))
            cfg = self.ls.settings.apply(loaded.config)
            report = api.lint_file(path, LoadedConfig(cfg, loaded.problems))
            if report.error:
                log.warning("%s", report.error)
                return uri, "[]", {}
            found = report.findings
            wanted = {f.line for f in found} | {f.end_line for f in found} | {
                r.line for f in found for r in f.related}
            texts = read_lines(path, wanted)
        enc = DiagnosticEncoder(uri, self.ls.encoding, self.ls.docs_url)
        placed: list[tuple[int, Finding]] = [(0, f) for f in found]
        return uri, enc.encode(placed, lambda i: texts.get(i, "")), count_severities(placed)

    async def lint_paths(self, paths: list[Path], progress: Progress | None = None) -> dict[str, Any]:
        """Lint files (skipping open ones) and push; a summary of what was found."""
        loop = asyncio.get_running_loop()
        total = {"files": 0, "errors": 0, "warnings": 0}
        generation = self._generation
        for k, path in enumerate(paths):
            if progress is not None:
                if progress.cancelled:
                    break
                progress.report(path.name, int(100 * k / max(1, len(paths))))
            if os.path.realpath(path) in self._open_paths():
                continue
            try:
                uri, body, counts = await loop.run_in_executor(self.pool, self.lint_one, path)
            except Exception as exc:  # keep going: one bad file must not stop the rest
                self.ls.log(f"linting {path} failed: {exc!r}", types.MessageType.Error)
                continue
            if generation != self._generation and progress is None:
                break  # a newer full lint took over
            if uri in self.ls.docs:
                continue  # opened meanwhile: the buffer wins
            self.results[uri] = counts
            self.ls.publisher.push(uri, None, body)
            total["files"] += 1
            total["errors"] += counts.get(1, 0)
            total["warnings"] += counts.get(2, 0)
        return total

    async def lint_all(self, progress: Progress | None = None) -> dict[str, Any]:
        self._generation += 1
        paths = await asyncio.get_running_loop().run_in_executor(self.pool, self.files)
        return await self.lint_paths(paths, progress)

    async def background_lint(self) -> None:
        progress = await Progress.create(self.ls)
        progress.begin("Tuneline: linting the workspace", cancellable=True)
        try:
            total = await self.lint_all(progress)
            progress.end(f"{total['files']} files, {total['errors']} errors")
        except Exception as exc:
            progress.end("failed")
            self.ls.log(f"workspace lint failed: {exc!r}", types.MessageType.Error)

    # ----- disk changes ---------------------------------------------------------------
    def disk_changed(self, path: str, deleted: bool) -> None:
        """A file changed on disk (watchdog or the client's watcher): debounce, then react."""
        timer = self._timers.pop(path, None)
        if timer is not None:
            timer.cancel()
        assert self.ls.loop is not None
        self._timers[path] = self.ls.loop.call_later(DEBOUNCE_S, self._react, path, deleted)

    def _react(self, path: str, deleted: bool) -> None:
        self._timers.pop(path, None)
        p = Path(path)
        deleted = deleted or not p.exists()
        open_doc = self._open_doc(p)
        if p.name in CONFIG_NAMES and self._root_of(p) is not None:
            config_changed(self.ls)
            if open_doc is None:
                self._push_or_clear(p, deleted)
            return
        if open_doc is not None:
            if deleted:
                self.ls.log(f"{p.name} was deleted on disk; its diagnostics follow the editor's "
                            "buffer until you close it", types.MessageType.Warning)
            return
        self._relint_eval_users(p)
        if self.wanted(p):
            self._push_or_clear(p, deleted)

    def _open_doc(self, p: Path) -> Document | None:
        real = os.path.realpath(p)
        return next((d for d in self.ls.docs.values()
                     if d.path and os.path.realpath(d.path) == real), None)

    def _push_or_clear(self, p: Path, deleted: bool) -> None:
        if deleted:
            uri = from_fs_path(str(p)) or p.as_uri()
            self.results.pop(uri, None)
            self.ls.publisher.clear(uri)
        else:
            self.ls.spawn(self.lint_paths([p]))

    def _relint_eval_users(self, p: Path) -> None:
        """An eval file changed: open documents checked against it are rebuilt."""
        real = os.path.realpath(p)
        for doc in self.ls.open_docs():
            ctx = doc.lint.ctx if doc.lint else None
            if ctx is None or not ctx.config.eval_file:
                continue
            base = Path(ctx.config.source).parent if ctx.config.source else Path.cwd()
            if os.path.realpath(base / ctx.config.eval_file) == real:
                self.ls.linter.open(doc)

    def start_watching(self) -> None:
        if self.watcher is not None:
            return
        self.watcher = DiskWatcher(lambda path, deleted: self.ls.call_soon(
            lambda: self.disk_changed(path, deleted)))
        try:
            self.watcher.start(self.roots())
        except Exception as exc:
            self.ls.log(f"cannot watch the workspace for changes: {exc!r}", types.MessageType.Warning)
            self.watcher = None

    def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        for timer in self._timers.values():
            timer.cancel()
        self.pool.shutdown(wait=False, cancel_futures=True)


def register(ls: TunelineServer) -> None:
    ws = WorkspaceLint(ls)
    ls.extras["workspace"] = ws

    def initialized() -> None:
        ws.start_watching()
        ls.spawn(ws.background_lint())

    def closed(uri: str, doc: Document | None) -> None:
        if doc is not None and doc.path and ws.wanted(Path(doc.path)) and Path(doc.path).exists():
            ls.spawn(ws.lint_paths([Path(doc.path)]))

    def relint_workspace() -> None:
        ls.spawn(ws.lint_all())

    def settings_changed(old: Any, new: Any) -> None:
        if (old.lint_key(), old.include, old.exclude) != (new.lint_key(), new.include, new.exclude):
            stale = set(ws.results)
            relint_workspace()
            for uri in stale:  # files no longer included lose their diagnostics
                path = uri_to_path(uri)
                if path and not ws.wanted(Path(path)):
                    ws.results.pop(uri, None)
                    ls.publisher.clear(uri)

    ls.extras.setdefault("initialized_hooks", []).append(initialized)
    ls.extras.setdefault("close_hooks", []).append(closed)
    ls.extras.setdefault("config_hooks", []).append(relint_workspace)
    ls.extras.setdefault("settings_hooks", []).append(settings_changed)
    ls.extras.setdefault("shutdown_hooks", []).append(ws.stop)

    @ls.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: TunelineServer, params: types.DidChangeWatchedFilesParams) -> None:
        for change in params.changes:
            path = uri_to_path(change.uri)
            if path:
                ws.disk_changed(path, change.type == types.FileChangeType.Deleted)

    @ls.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def folders(ls: TunelineServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        for folder in params.event.removed:
            root = uri_to_path(folder.uri)
            for uri in [u for u in ws.results if root and (uri_to_path(u) or "").startswith(root)]:
                ws.results.pop(uri, None)
                ls.publisher.clear(uri)
        added = [Path(p) for f in params.event.added if (p := uri_to_path(f.uri))]
        if ws.watcher is not None:
            for root in added:
                ws.watcher.add_root(root)
        ls.spawn(ws.lint_paths(ws.files(added)))
