"""Helpers for the language-server tests: the real server (`python -m tuneline serve`) over
stdio, driven by pytest-lsp.

`lsp_fixture(...)` makes a client fixture for a test module: client capabilities (VS Code's by
default, push diagnostics, UTF-16), a workspace folder, settings and server environment.
The client records every publishDiagnostics (with versions), refresh requests and logs.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

HERE = Path(__file__).parent
SERVER = [sys.executable, "-m", "tuneline", "serve"]
TIMEOUT = 60.0  # a failure bound, not a performance assertion


def chat(user: str = "How do I reset my password?",
         answer: str = "Open Settings, choose Security, then click Reset password.",
         system: str | None = "You are a helpful support agent.") -> str:
    msgs = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    return json.dumps({"messages": msgs}, ensure_ascii=False)


_WORDS = ("account address answer billing button cancel card change check close code confirm "
          "contact coupon delivery device discount download email error export file folder help "
          "history inbox install invoice item language limit link login message mobile network "
          "notification order page password payment phone plan price privacy profile refund "
          "region renew report reset return search security setting shipping size storage "
          "subscription support team ticket track transfer update upgrade upload user verify "
          "wallet warranty window").split()


def distinct_examples(n: int, seed: int = 1) -> list[str]:
    """`n` realistic, mutually dissimilar chat lines (no exact or near duplicates)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        q = " ".join(rng.choices(_WORDS, k=12))
        a = " ".join(rng.choices(_WORDS, k=30))
        out.append(chat(user=f"Question {i}: {q}?", answer=f"Answer {i}: {a}."))
    return out


def make_client() -> LanguageClient:
    """pytest-lsp's client, also recording every publishDiagnostics and refresh request."""
    client = LanguageClient(converter_factory=default_converter)
    client.published = []  # type: ignore[attr-defined]
    client.refreshes = {}  # type: ignore[attr-defined]
    features = dict(DEFAULT_CLIENT_FEATURES)

    def publish(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        client.published.append(params)  # type: ignore[attr-defined]

    def refresh(method: str) -> Callable[..., None]:
        def handler(client: LanguageClient, params: Any) -> None:
            client.refreshes[method] = client.refreshes.get(method, 0) + 1  # type: ignore[attr-defined]
        return handler

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = publish
    for method in (types.WORKSPACE_CODE_LENS_REFRESH, types.WORKSPACE_INLAY_HINT_REFRESH,
                   types.WORKSPACE_DIAGNOSTIC_REFRESH):
        features[method] = refresh(method)
    def register(client: LanguageClient, params: types.RegistrationParams) -> None:
        client.registrations = [*getattr(client, "registrations", []), *params.registrations]  # type: ignore[attr-defined]

    features[types.CLIENT_REGISTER_CAPABILITY] = register
    register_lsp_features(client, features)
    return client


def capabilities(spec: str = "visual-studio-code", pull: bool = False,
                 encodings: list[str] | None = None) -> types.ClientCapabilities:
    caps = client_capabilities(spec)
    if pull:
        caps.text_document.diagnostic = types.DiagnosticClientCapabilities(  # type: ignore[union-attr]
            related_document_support=False)
        caps.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(  # type: ignore[union-attr]
            refresh_support=True)
    if encodings is not None:
        caps.general = types.GeneralClientCapabilities(position_encodings=encodings)
    caps.workspace.inlay_hint = types.InlayHintWorkspaceClientCapabilities(  # type: ignore[union-attr]
        refresh_support=True)
    return caps


def lsp_fixture(*, spec: str = "visual-studio-code", pull: bool = False,
                encodings: list[str] | None = None, settings: dict[str, Any] | None = None,
                files: dict[str, str | bytes] | None = None, env: dict[str, str] | None = None,
                init_options: dict[str, Any] | None = None, scope: str = "module") -> Any:
    """A client fixture: the server started on a fresh workspace folder holding `files`."""
    server_env = {**os.environ, "TUNELINE_TRUSTED": "1", **(env or {})}
    config = ClientServerConfig(server_command=SERVER, client_factory=make_client,
                                server_env=server_env)

    @pytest_lsp.fixture(config=config, scope=scope)
    async def client(lsp_client: LanguageClient, tmp_path_factory: pytest.TempPathFactory) -> Any:
        root = tmp_path_factory.mktemp("ws")
        for name, content in (files or {}).items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, "utf-8")
        lsp_client.root = root  # type: ignore[attr-defined]
        if settings is not None:
            lsp_client.set_configuration({"tuneline": settings})
        params = types.InitializeParams(
            capabilities=capabilities(spec, pull, encodings), root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")],
            initialization_options=init_options)
        lsp_client.init_result = await lsp_client.initialize_session(params)  # type: ignore[attr-defined]
        yield
        await lsp_client.shutdown_session()

    return client


async def wait_for(predicate: Callable[[], Any], timeout: float = TIMEOUT, what: str = "") -> Any:
    """Poll until `predicate()` is truthy; its value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.02)


async def diagnostics_for(client: LanguageClient, uri: str, version: int | None = None,
                          after: int = 0, timeout: float = TIMEOUT) -> types.PublishDiagnosticsParams:
    """The latest publishDiagnostics for `uri` (with `version`), among those after index `after`."""
    def find() -> types.PublishDiagnosticsParams | None:
        for p in reversed(client.published[after:]):  # type: ignore[attr-defined]
            if p.uri == uri and (version is None or p.version == version):
                return p
        return None

    return await wait_for(find, timeout, f"diagnostics of {uri} v{version}")


def open_doc(client: LanguageClient, uri: str, text: str, version: int = 1,
             language: str = "jsonl") -> None:
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id=language, version=version, text=text)))


def change(client: LanguageClient, uri: str, version: int,
           edits: list[tuple[tuple[int, int], tuple[int, int], str]]) -> None:
    """Incremental changes: ((line, char), (line, char), new text) in client units."""
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(*a), types.Position(*b)), text=t)
            for a, b, t in edits]))


async def command(client: LanguageClient, name: str, arg: Any = None,
                  token: str | None = None) -> Any:
    if token is not None:  # a token the client made itself (pytest-lsp only knows created ones)
        client.progress_reports.setdefault(token, [])
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=name, arguments=[arg if arg is not None else {}], work_done_token=token))


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def codes(params: types.PublishDiagnosticsParams) -> list[tuple[int, str]]:
    return sorted((d.range.start.line, str(d.code)) for d in params.diagnostics)


def offset(text: str, line: int, units: int) -> int:
    """String index of a (line, UTF-16 column) position in `text`."""
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    if line >= len(starts):
        return len(text)
    i, used = starts[line], 0
    while i < len(text) and text[i] != "\n":
        width = 2 if ord(text[i]) > 0xFFFF else 1
        if used + width > units:  # a column inside a surrogate pair rounds down
            break
        used += width
        i += 1
    return i


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP text edits (UTF-16 positions) the way an editor does."""
    spans = [(offset(text, e.range.start.line, e.range.start.character),
              offset(text, e.range.end.line, e.range.end.character), e.new_text) for e in edits]
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text
