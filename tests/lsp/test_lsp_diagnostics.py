"""Diagnostics as you type: open, incremental change, save; push with versions; positions in
the client's encoding; code, documentation link, related information and fix data."""

from __future__ import annotations

import json

import pytest
from lsp_helpers import (
    change,
    chat,
    codes,
    diagnostics_for,
    lsp_fixture,
    open_doc,
    utf16,
)
from lsprotocol import types

import tuneline.lint.rules.all  # noqa: F401  (registers the rules)
from tuneline.lint.rules import REGISTRY

pytestmark = pytest.mark.asyncio(loop_scope="module")
client = lsp_fixture()

SHORT = chat(user="Where is my order?", answer="ok")
EMOJI = chat(user="😀😀 émoji 中文 question?", answer="短")


def _diag(params: types.PublishDiagnosticsParams, line: int, code: str) -> types.Diagnostic:
    found = [d for d in params.diagnostics if d.range.start.line == line and d.code == code]
    assert len(found) == 1, codes(params)
    return found[0]


async def test_open_publishes_with_version_code_link_and_data(client):
    uri = (client.root / "open.jsonl").as_uri()
    text = "\n".join([chat(), SHORT, chat()]) + "\n"
    open_doc(client, uri, text, version=7)
    params = await diagnostics_for(client, uri, 7)
    assert codes(params) == [(0, "TL701"), (1, "TL204"), (2, "TL501")]
    short = _diag(params, 1, "TL204")
    start = SHORT.index('"ok"')
    assert (short.range.start.character, short.range.end.character) == (start, start + 4)
    assert short.severity == types.DiagnosticSeverity.Warning
    assert short.source == "tuneline"
    assert short.code_description.href.startswith("https://")
    assert short.data["rule"] == "TL204"
    dup = _diag(params, 2, "TL501")
    assert dup.message == "exact duplicate of line 1"
    assert (dup.range.start.character, dup.range.end.character) == (0, len(chat()))
    assert dup.data["fix"] == {"first_line": 0}
    assert types.DiagnosticTag.Unnecessary in dup.tags
    [related] = dup.related_information
    assert related.location.uri == uri
    assert related.location.range == types.Range(types.Position(0, 0), types.Position(0, len(chat())))
    assert related.message == "first copy"


async def test_incremental_change_moves_and_updates_diagnostics(client):
    uri = (client.root / "edit.jsonl").as_uri()
    open_doc(client, uri, "\n".join([chat(), SHORT]) + "\n", version=1)
    await diagnostics_for(client, uri, 1)
    # insert a new first line: the short answer moves to line 2
    change(client, uri, 2, [((0, 0), (0, 0), chat(user="A brand new question?") + "\n")])
    params = await diagnostics_for(client, uri, 2)
    assert codes(params) == [(0, "TL701"), (2, "TL204")]
    # fix the short answer in place (an edit inside the line)
    start = SHORT.index('"ok"') + 1
    change(client, uri, 3, [((2, start), (2, start + 2), "It ships tomorrow morning.")])
    params = await diagnostics_for(client, uri, 3)
    assert codes(params) == [(0, "TL701")]
    # break the JSON of line 1 (two edits in one notification)
    change(client, uri, 4, [((1, 0), (1, 1), "["), ((1, 5), (1, 5), "]")])
    params = await diagnostics_for(client, uri, 4)
    assert (1, "TL001") in codes(params)


async def test_save_republishes(client):
    uri = (client.root / "save.jsonl").as_uri()
    open_doc(client, uri, SHORT + "\n", version=3)
    first = await diagnostics_for(client, uri, 3)
    n = len(client.published)
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        types.TextDocumentIdentifier(uri=uri)))
    again = await diagnostics_for(client, uri, 3, after=n)
    assert codes(again) == codes(first)


async def test_emoji_and_cjk_columns_are_utf16(client):
    uri = (client.root / "emoji.jsonl").as_uri()
    open_doc(client, uri, EMOJI + "\n", version=1)
    params = await diagnostics_for(client, uri, 1)
    short = _diag(params, 0, "TL204")
    start = EMOJI.index('"短"')
    assert (short.range.start.character, short.range.end.character) == (
        utf16(EMOJI[:start]), utf16(EMOJI[:start + 3]))
    assert short.range.start.character == start + 2  # two emoji: one extra unit each


async def test_close_clears_diagnostics(client):
    uri = (client.root / "closed-later.jsonl").as_uri()
    open_doc(client, uri, SHORT + "\n", version=1)
    await diagnostics_for(client, uri, 1)
    n = len(client.published)
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        types.TextDocumentIdentifier(uri=uri)))
    cleared = await diagnostics_for(client, uri, after=n)
    assert list(cleared.diagnostics) == []


async def test_every_rule_code_is_documented(client):
    uri = (client.root / "bad.jsonl").as_uri()
    open_doc(client, uri, '{"messages": [}\n\n' + json.dumps({"conversations": []}) + "\n")
    params = await diagnostics_for(client, uri, 1)
    assert {str(d.code) for d in params.diagnostics} <= set(REGISTRY)
    assert all(d.code_description and d.code_description.href for d in params.diagnostics)


async def test_a_burst_of_edits_is_debounced_and_ends_on_the_last_version(client):
    uri = (client.root / "burst.jsonl").as_uri()
    open_doc(client, uri, SHORT + "\n", version=1)
    await diagnostics_for(client, uri, 1)
    n = len(client.published)
    start = SHORT.index('"ok"') + 3
    for k, ch in enumerate("it will arrive tomorrow", start=2):  # typing, one key per change
        change(client, uri, k, [((0, start + k - 2), (0, start + k - 2), ch)])
    last = 1 + len("it will arrive tomorrow")
    params = await diagnostics_for(client, uri, last, after=n)
    assert codes(params) == [(0, "TL701")]
    published = [p.version for p in client.published[n:] if p.uri == uri]
    assert published[-1] == last
    assert len(published) < last - 1  # coalesced while the keys kept coming
    assert published == sorted(published)


async def test_max_diagnostics_keeps_the_most_severe(client):
    uri = (client.root / "many.jsonl").as_uri()
    open_doc(client, uri, "\n".join([SHORT] * 3 + ['{"messages": [}'] * 2) + "\n")
    await diagnostics_for(client, uri, 1)
    n = len(client.published)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"tuneline": {"maxDiagnostics": 3}}))
    params = await diagnostics_for(client, uri, 1, after=n)
    *shown, note = params.diagnostics
    assert [d.severity for d in shown] == [types.DiagnosticSeverity.Error] * 3
    assert note.code is None and note.message.startswith("5 more problems are not shown")
