"""The language server's state, document lifecycle and settings; features live in sibling
modules, the entry point and fast start in server.py / bootstrap.py.

Documents are kept by Tuneline itself (documents.py), not in pygls' workspace, whose
incremental sync rebuilds the whole text per change. Large results (diagnostics, outlines)
are serialised by Tuneline and written as raw JSON, bypassing cattrs.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import json
import logging
import os
import traceback
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method

from tuneline import __version__
from tuneline.lsp import capabilities, tally
from tuneline.lsp.convert import UTF16, choose_encoding
from tuneline.lsp.diagnostics import Publisher
from tuneline.lsp.documents import Document
from tuneline.lsp.linting import Linter
from tuneline.lsp.settings import Settings, parse_settings

log = logging.getLogger("tuneline.lsp")
SETTINGS_WAIT_S = 3.0


class RawJson:
    """A result already serialised to JSON text (written as is, without cattrs)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class TunelineProtocol(LanguageServerProtocol):
    """pygls' protocol with Tuneline's document store and a raw-JSON fast path."""

    def __init__(self, server: Any, converter: Any) -> None:
        super().__init__(server, converter)
        self.quiet_ids: set[Any] = set()  # requests already answered (fast initialize)
        self.quiet_results: dict[Any, Any] = {}
        self.command_params: contextvars.ContextVar[types.ExecuteCommandParams | None] = (
            contextvars.ContextVar("command_params", default=None))

    def _user(self, method: str, params: Any) -> Generator[Any, Any, None]:
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> Any:
        yield from self._user(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> Any:
        yield from self._user(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> Any:
        yield from self._user(types.TEXT_DOCUMENT_DID_CLOSE, params)

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(self, params: types.ExecuteCommandParams) -> Any:
        self.command_params.set(params)  # commands read workDoneToken from here
        return (yield from super().lsp_workspace__execute_command(params))

    def _send_response(self, msg_id: Any, result: Any = None, error: Any = None) -> None:
        if msg_id in self.quiet_ids:
            self.quiet_ids.discard(msg_id)
            self.quiet_results[msg_id] = result
            return
        if error is None and isinstance(result, RawJson):
            self.send_raw(f'{{"jsonrpc":"2.0","id":{json.dumps(msg_id)},"result":{result.text}}}')
            return
        super()._send_response(msg_id, result, error)

    def send_raw(self, body: str) -> None:
        """Write one JSON-RPC message given as JSON text."""
        if self.writer is None:
            return
        data = body.encode("utf-8")
        self.writer.write(f"Content-Length: {len(data)}\r\n\r\n".encode("ascii") + data)


class TunelineServer(LanguageServer):
    """Server state: open documents, settings, the linter, the publisher."""

    protocol: TunelineProtocol

    def __init__(self) -> None:
        super().__init__("tuneline", __version__, protocol_cls=TunelineProtocol,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         max_workers=4)
        self.docs: dict[str, Document] = {}
        self.settings = Settings()
        self.settings_generation = 0
        self.encoding = UTF16
        self.pull_mode = False
        self.init_options: dict[str, Any] = {}
        self.docs_url: str | None = None
        self.trusted = os.environ.get("TUNELINE_TRUSTED", "1") != "0"
        self.loop: asyncio.AbstractEventLoop | None = None
        self.linter = Linter(lambda: self.settings, self._linted)
        self.bg_pool = ThreadPoolExecutor(1, thread_name_prefix="tuneline-bg")
        self.publisher = Publisher(self)
        self.extras: dict[str, Any] = {}  # feature modules keep their state here
        self._refresh_pending = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self.settings_known = False  # until the client's settings arrive, opened files wait
        self._deferred: list[Document] = []

    # ----- helpers for the features ---------------------------------------------------
    def client_supports(self, dotted: str) -> bool:
        """Whether a client capability (e.g. 'text_document.diagnostic') is present/true."""
        node: Any = self.client_capabilities
        for part in dotted.split("."):
            node = getattr(node, part, None)
            if node is None:
                return False
        return bool(node)

    def send_notification_json(self, method: str, params_json: str) -> None:
        self.protocol.send_raw(f'{{"jsonrpc":"2.0","method":"{method}","params":{params_json}}}')

    def log(self, message: str, level: types.MessageType = types.MessageType.Info) -> None:
        """window/logMessage (from any thread)."""
        params = types.LogMessageParams(type=level, message=message)
        self.call_soon(lambda: self.window_log_message(params))

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        """Run a coroutine in the background; its failure is logged to the client."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                exc = t.exception()
                log.error("background task failed", exc_info=exc)
                self.log(f"tuneline: a background task failed: {exc!r}", types.MessageType.Error)

        task.add_done_callback(done)
        return task

    def call_soon(self, fn: Callable[[], Any]) -> None:
        """Run `fn` on the event loop (safe from worker threads)."""
        if self.loop is None:
            fn()
        else:
            self.loop.call_soon_threadsafe(fn)

    def refresh_diagnostics(self) -> None:
        """Ask a pull client to pull again (coalesced)."""
        if self._refresh_pending or not self.client_supports("workspace.diagnostics.refresh_support"):
            return
        self._refresh_pending = True

        def send() -> None:
            self._refresh_pending = False
            self.workspace_diagnostic_refresh(None)

        assert self.loop is not None
        self.loop.call_later(0.05, send)

    def refresh_views(self) -> None:
        """Ask the client to re-request code lenses and inlay hints (token counts changed)."""
        if self.client_supports("workspace.code_lens.refresh_support"):
            self.workspace_code_lens_refresh(None)
        if self.client_supports("workspace.inlay_hint.refresh_support"):
            self.workspace_inlay_hint_refresh(None)

    def open_docs(self, kind: str = "data") -> list[Document]:
        return [d for d in self.docs.values() if d.kind == kind]

    def lint_when_ready(self, doc: Document) -> None:
        """Lint an opened document now, or once the client's settings are known."""
        if self.settings_known:
            self.linter.open(doc)
        else:
            assert doc.lint is not None
            doc.lint.begin_build()  # edits queue meanwhile; pull requests wait
            self._deferred.append(doc)

    def settings_arrived(self) -> None:
        if self.settings_known:
            return
        self.settings_known = True
        deferred, self._deferred = self._deferred, []
        for doc in deferred:
            if self.docs.get(doc.uri) is doc:
                self.linter.open(doc)

    def _linted(self, doc: Document) -> None:
        if self.docs.get(doc.uri) is doc:
            self.publisher.ready(doc)
            self.refresh_views()  # lenses asked for before the lint finished said "linting…"
            tally.warm(self, doc)  # after the first diagnostics, never competing with them

    # ----- settings -------------------------------------------------------------------
    def apply_settings(self, raw: Any) -> None:
        settings, problems = parse_settings(raw)
        for p in problems:
            self.log(p, types.MessageType.Warning)
        old, self.settings = self.settings, settings
        if old == settings:
            return
        self.settings_generation += 1
        for hook in self.extras.get("settings_hooks", []):
            hook(old, settings)
        if old.lint_key() != settings.lint_key():
            self.linter.refresh_all(self.open_docs())
        elif old.max_diagnostics != settings.max_diagnostics:
            for doc in list(self.docs.values()):
                self.publisher.ready(doc)


def _initialize(ls: TunelineServer, params: types.InitializeParams) -> None:
    ls.loop = asyncio.get_running_loop()
    opts = params.initialization_options if isinstance(params.initialization_options, dict) else {}
    ls.init_options = opts
    general = params.capabilities.general
    ls.encoding = choose_encoding(list(general.position_encodings or []) if general else None)
    mode = opts.get("diagnosticMode", "auto")
    ls.pull_mode = mode == "pull" or (mode == "auto" and ls.client_supports("text_document.diagnostic"))
    ls.docs_url = opts.get("docsUrl") or None
    if "trusted" in opts:
        ls.trusted = bool(opts["trusted"])
    initial = opts.get("settings") or opts.get("tuneline")  # Helix sends its `config` here
    if isinstance(initial, dict):
        ls.settings, _ = parse_settings(initial)
    ls.loop.call_later(SETTINGS_WAIT_S, ls.settings_arrived)  # a client that never answers


async def _initialized(ls: TunelineServer, params: types.InitializedParams) -> None:
    if ls.protocol.quiet_results:  # initialize was answered early by bootstrap.py
        diff = check_capabilities(ls)
        ls.extras["capabilities_match"] = not diff
        if diff:
            ls.log(f"the early initialize answer differs from pygls' in {diff}",
                   types.MessageType.Warning)
    await fetch_settings(ls)
    ls.settings_arrived()
    if ls.client_supports("workspace.did_change_configuration.dynamic_registration"):
        reg = types.Registration(id="tuneline-settings", method=types.WORKSPACE_DID_CHANGE_CONFIGURATION,
                                 register_options={"section": "tuneline"})
        ls.client_register_capability(types.RegistrationParams(registrations=[reg]))
    for hook in ls.extras.get("initialized_hooks", []):
        hook()


async def fetch_settings(ls: TunelineServer) -> None:
    """Read the `tuneline` section with workspace/configuration (when the client can)."""
    if not ls.client_supports("workspace.configuration"):
        return
    try:
        result = await ls.workspace_configuration_async(types.ConfigurationParams(
            items=[types.ConfigurationItem(section="tuneline")]))
    except Exception as exc:
        ls.log(f"could not read the settings: {exc}", types.MessageType.Warning)
        return
    ls.apply_settings(result[0] if result else None)


def _did_open(ls: TunelineServer, params: types.DidOpenTextDocumentParams) -> None:
    item = params.text_document
    doc = Document(item.uri, item.text, item.version, item.language_id, ls.encoding)
    ls.docs[item.uri] = doc
    if ls.pull_mode:
        ls.publisher.clear(item.uri)  # drop what the workspace lint pushed for this file
    if doc.kind == "data":
        ls.lint_when_ready(doc)
    elif doc.kind == "config":
        ls.publisher.publish(doc)


def _did_change(ls: TunelineServer, params: types.DidChangeTextDocumentParams) -> None:
    doc = ls.docs.get(params.text_document.uri)
    if doc is None:
        ls.log(f"change to a document that is not open: {params.text_document.uri}",
               types.MessageType.Warning)
        return
    for change in params.content_changes:
        if isinstance(change, types.TextDocumentContentChangePartial):
            r = change.range
            edit = doc.apply((r.start.line, r.start.character), (r.end.line, r.end.character),
                             change.text)
        else:
            edit = doc.replace_all(change.text)
        ls.linter.edit(doc, edit)
    doc.version = params.text_document.version
    ls.publisher.changed(doc)


def _did_save(ls: TunelineServer, params: types.DidSaveTextDocumentParams) -> None:
    doc = ls.docs.get(params.text_document.uri)
    if doc is None:
        return
    if doc.kind == "config":
        config_changed(ls)
    ls.publisher.publish(doc)


def _did_close(ls: TunelineServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    doc = ls.docs.pop(uri, None)
    ls.publisher.clear(uri)
    ls.publisher.forget(uri)
    if doc is not None:
        ls.linter.close(doc)
    for hook in ls.extras.get("close_hooks", []):
        hook(uri, doc)


async def _did_change_configuration(ls: TunelineServer,
                                    params: types.DidChangeConfigurationParams) -> None:
    settings = params.settings
    if isinstance(settings, dict) and isinstance(settings.get("tuneline"), dict):
        ls.apply_settings(settings["tuneline"])
    else:
        await fetch_settings(ls)


def config_changed(ls: TunelineServer) -> None:
    """tuneline.toml / pyproject.toml changed: re-read configs, re-lint what they govern."""
    ls.linter.forget_configs()
    ls.settings_generation += 1
    ls.linter.refresh_all(ls.open_docs())
    for hook in ls.extras.get("config_hooks", []):
        hook()


def _shutdown(ls: TunelineServer, params: Any) -> None:
    for hook in ls.extras.get("shutdown_hooks", []):
        hook()
    ls.linter.shutdown()
    ls.bg_pool.shutdown(wait=False, cancel_futures=True)


def guarded(ls: TunelineServer, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a notification handler: an exception is logged to the client, never fatal."""
    def report(exc: BaseException) -> None:
        detail = "".join(traceback.format_exception(exc)).strip()
        log.error("%s failed: %s", fn.__name__, detail)
        ls.log(f"tuneline: {fn.__name__} failed: {exc!r}\n{detail}", types.MessageType.Error)

    if asyncio.iscoroutinefunction(fn):
        async def run_async(params: Any) -> Any:
            try:
                return await fn(ls, params)
            except Exception as exc:
                report(exc)
                return None
        run_async.__name__ = fn.__name__
        return run_async

    def run(params: Any) -> Any:
        try:
            return fn(ls, params)
        except Exception as exc:
            report(exc)
            return None
    run.__name__ = fn.__name__
    return run


def build_server() -> TunelineServer:
    """A server with every feature registered."""
    from tuneline.lsp import (
        code_actions,
        commands,
        hover,
        inlay,
        progress,
        pull,
        symbols,
        workspace,
    )

    ls = TunelineServer()
    ls.feature(types.INITIALIZE)(guarded(ls, _initialize))
    ls.feature(types.INITIALIZED)(guarded(ls, _initialized))
    ls.feature(types.TEXT_DOCUMENT_DID_OPEN)(guarded(ls, _did_open))
    ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)(guarded(ls, _did_change))
    ls.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))(
        guarded(ls, _did_save))
    ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)(guarded(ls, _did_close))
    ls.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(guarded(ls, _did_change_configuration))
    ls.feature(types.SHUTDOWN)(guarded(ls, _shutdown))
    for module in (pull, hover, symbols, inlay, code_actions, progress, commands, workspace):
        module.register(ls)
    load_plugins(ls)
    return ls


def load_plugins(ls: TunelineServer) -> None:
    """Import the modules named in $TUNELINE_PLUGINS (comma-separated): extra rules."""
    for name in filter(None, (n.strip() for n in os.environ.get("TUNELINE_PLUGINS", "").split(","))):
        try:
            importlib.import_module(name)
        except Exception as exc:
            log.exception("plugin %s failed to load", name)
            ls.extras.setdefault("plugin_errors", []).append(f"{name}: {exc!r}")


def check_capabilities(ls: TunelineServer) -> list[str]:
    """Keys where the early initialize answer differs from what pygls computed."""
    convert = ls.protocol._converter.unstructure
    early = capabilities.server_capabilities(convert(ls.client_capabilities))
    built = convert(ls.server_capabilities)
    return [k for k in sorted(set(early) | set(built)) if early.get(k) != built.get(k)]


__all__ = ["RawJson", "TunelineServer", "build_server"]
