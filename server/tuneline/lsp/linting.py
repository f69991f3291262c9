"""One Dataset per open data document, built off the event loop and kept in step with edits.

Small edits are applied on the event loop (re-checking only the new lines); opening a big file,
a config change or a huge paste runs in a worker thread while later edits queue up (see
`DataState`). Config comes from tuneline.toml on disk (cached per folder) with the editor
settings laid over it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuneline.lint import api
from tuneline.lint.config import Config, LoadedConfig, load_config, parse_config
from tuneline.lint.dataset import Dataset
from tuneline.lint.findings import Finding, Severity
from tuneline.lint.source import SourceStats, file_findings
from tuneline.lsp.documents import DataState, Document, Edit

if TYPE_CHECKING:
    from tuneline.lsp.settings import Settings

log = logging.getLogger(__name__)

INLINE_CHARS = 100_000  # builds this small run on the event loop (no thread hop)
BIG_EDIT_CHARS = 200_000  # edits bringing more new text than this run in the worker
BLOCK = 2048
FREEZE_LINES = 20_000  # after building a file this big, exempt its objects from cyclic GC

_gc_lock = threading.Lock()
_gc_depth = 0


@contextmanager
def paused_gc() -> Any:
    """Pause the cyclic GC while millions of small objects are created (nestable, threads)."""
    global _gc_depth
    with _gc_lock:
        _gc_depth += 1
        if _gc_depth == 1:
            gc.disable()
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0:
                gc.enable()


def _size(lines: list[str]) -> int:
    return sum(map(len, lines))


def build_dataset(cfg: Config, path: str | None, lines: list[str],
                  alive: Callable[[], bool] = lambda: True) -> Dataset | None:
    """A Dataset of `lines` (None when `alive()` turns false: the build was superseded)."""
    with paused_gc():
        ds = Dataset(api.context_for(path, LoadedConfig(cfg)))
        for i in range(0, len(lines), BLOCK):
            if not alive():
                return None
            ds.append(lines[i : i + BLOCK])
    return ds


def buffer_findings(doc: Document, ds: Dataset) -> list[Finding]:
    """File-level findings of an editor buffer (CRLF, final newline) and config problems
    noticed while building the context (e.g. an unreadable assistant_schema)."""
    ctx = ds.ctx
    stats = SourceStats(crlf_lines=doc.crlf, lines=doc.data_len, final_newline=doc.final_newline)
    out = [f for f in file_findings(stats) if ctx.on(f.rule)]
    if ctx.config.assistant_schema:
        _ = ctx.assistant_validator  # loads the schema, noting problems
    out.extend(Finding("TL902", p, Severity.ERROR) for p in ctx.problems)
    return out


def config_findings(doc: Document) -> list[Finding]:
    """Problems of an open tuneline.toml / pyproject.toml, from the editor's buffer."""
    text = doc.text
    name = Path(doc.path or doc.uri).name
    if name == "pyproject.toml" and "tuneline" not in text:
        return []
    return parse_config(text, doc.path or name).problems


class Linter:
    """Datasets of the open data documents; configs per folder."""

    def __init__(self, settings: Callable[[], Settings],
                 on_ready: Callable[[Document], None]) -> None:
        self._settings = settings
        self._on_ready = on_ready
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="tuneline-lint")
        self._configs: dict[str, LoadedConfig] = {}
        self._waiters: dict[int, list[asyncio.Future[None]]] = {}

    # ----- configuration --------------------------------------------------------------
    def loaded_config(self, path: str | None) -> LoadedConfig:
        """tuneline.toml governing `path` (cached per folder until `forget_configs`)."""
        folder = str(Path(path).parent) if path else str(Path.cwd())
        loaded = self._configs.get(folder)
        if loaded is None:
            try:
                loaded = load_config(folder)
            except Exception as exc:  # never let a config bug stop linting
                log.exception("loading the config for %s failed", folder)
                loaded = LoadedConfig(Config(), [Finding("TL902", f"config: {exc}", Severity.ERROR)])
            self._configs[folder] = loaded
        return loaded

    def forget_configs(self) -> None:
        self._configs.clear()

    def config_for(self, path: str | None) -> Config:
        """The effective config of a data file: tuneline.toml + editor settings."""
        cfg = self.loaded_config(path).config
        return self._settings().apply(cfg)

    # ----- building -------------------------------------------------------------------
    def open(self, doc: Document) -> None:
        """(Re)build the document's Dataset from its current text."""
        state = doc.lint
        assert state is not None
        cfg = self.config_for(doc.path)
        gen = state.begin_build()
        lines = doc.data_lines()
        if _size(lines) <= INLINE_CHARS:
            try:
                ds = build_dataset(cfg, doc.path, lines)
            except Exception as exc:
                self._fail(doc, state, gen, exc)
                return
            self._install(doc, state, gen, ds)
            return
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(self.pool, build_dataset, cfg, doc.path, lines,
                                   lambda: state.generation == gen)
        fut.add_done_callback(lambda f: self._built(doc, state, gen, f))

    def edit(self, doc: Document, edit: Edit) -> None:
        """Apply one edit; a huge one is applied in the worker like a build."""
        state = doc.lint
        if state is None:
            return
        if state.ds is None and state.pending is None:  # the last build failed: try again
            self.open(doc)
            return
        if state.ready and _size(edit.lines) > BIG_EDIT_CHARS:
            ds = state.ds
            assert ds is not None
            gen = state.begin_build()

            def work() -> Dataset:
                with paused_gc():
                    ds.replace(edit.start, edit.end, edit.lines)
                return ds

            fut = asyncio.get_running_loop().run_in_executor(self.pool, work)
            fut.add_done_callback(lambda f: self._built(doc, state, gen, f))
            return
        state.apply(edit)

    def _built(self, doc: Document, state: DataState, gen: int, fut: asyncio.Future[Any]) -> None:
        if fut.cancelled():
            return
        exc = fut.exception()
        if exc is not None:
            self._fail(doc, state, gen, exc)
            return
        ds = fut.result()
        if ds is not None:
            self._install(doc, state, gen, ds)

    def _fail(self, doc: Document, state: DataState, gen: int, exc: BaseException) -> None:
        """A build raised: report it as a diagnostic; the next edit retries from the text."""
        log.error("linting %s failed", doc.uri, exc_info=exc)
        if gen != state.generation:
            return
        state.pending = None
        state.ds = None
        state.error = f"linting this file failed: {exc!r}"
        self._notify(state)
        self._on_ready(doc)

    def close(self, doc: Document) -> None:
        """Stop a running build of a closed document and release whoever waits for it."""
        state = doc.lint
        if state is not None:
            state.generation += 1
            state.pending = None
            self._notify(state)

    def _install(self, doc: Document, state: DataState, gen: int, ds: Dataset | None) -> None:
        if ds is None or not state.install(gen, ds):
            return
        if len(ds.results) >= FREEZE_LINES:
            gc.freeze()
        self._notify(state)
        self._on_ready(doc)

    # ----- waiting --------------------------------------------------------------------
    def _notify(self, state: DataState) -> None:
        for fut in self._waiters.pop(id(state), []):
            if not fut.done():
                fut.set_result(None)

    async def ready(self, doc: Document) -> bool:
        """Wait until the document's Dataset matches its text (False if linting failed)."""
        state = doc.lint
        if state is None:
            return False
        while state.pending is not None:
            fut = asyncio.get_running_loop().create_future()
            self._waiters.setdefault(id(state), []).append(fut)
            await fut
        return state.ds is not None

    # ----- reading --------------------------------------------------------------------
    def placed(self, doc: Document) -> list[tuple[int, Finding]] | None:
        """Every finding of a ready document as (line offset, finding); None while building."""
        state = doc.lint
        if state is None or state.pending is not None:
            return None
        if state.ds is None:
            message = state.error or "not linted"
            return [(0, Finding("TL000", message, Severity.WARNING, 0, 0, 0, 1))]
        ds = state.ds
        assert ds is not None
        out = ds.placed()
        out.extend((0, f) for f in buffer_findings(doc, ds))
        return out

    def refresh_all(self, docs: list[Document]) -> None:
        """Re-lint open documents whose effective config changed."""
        for doc in docs:
            state = doc.lint
            if state is None:
                continue
            if state.ctx is None or state.ctx.config != self.config_for(doc.path).for_path(doc.path):
                self.open(doc)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
