"""Pull diagnostics (textDocument/diagnostic) and the negotiated position encodings."""

from __future__ import annotations

import pytest
from lsp_helpers import change, chat, command, diagnostics_for, lsp_fixture, open_doc
from lsprotocol import types

pytestmark = pytest.mark.asyncio(loop_scope="module")
puller = lsp_fixture(pull=True)
utf8_client = lsp_fixture(spec="neovim")  # offers utf-8 first
utf32_client = lsp_fixture(spec="emacs")  # offers utf-32 first

EMOJI = chat(user="😀 naïve 中文?", answer="短")


async def pull(client, uri: str, previous: str | None = None) -> types.DocumentDiagnosticReport:
    return await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=uri), previous_result_id=previous))


async def test_pull_reports_and_result_ids(puller):
    uri = (puller.root / "pulled.jsonl").as_uri()
    short = chat(answer="ok")
    open_doc(puller, uri, short + "\n", version=1)
    report = await pull(puller, uri)
    assert report.kind == "full"
    assert sorted((d.range.start.line, d.code) for d in report.items) == [(0, "TL204"), (0, "TL701")]
    same = await pull(puller, uri, report.result_id)
    assert same.kind == "unchanged" and same.result_id == report.result_id
    change(puller, uri, 2, [((0, 0), (0, 0), chat() + "\n")])
    after = await pull(puller, uri, report.result_id)
    assert after.kind == "full" and after.result_id != report.result_id
    assert sorted((d.range.start.line, d.code) for d in after.items) == [(0, "TL701"), (1, "TL204")]


async def test_pull_client_gets_no_push_for_open_documents(puller):
    uri = (puller.root / "nopush.jsonl").as_uri()
    open_doc(puller, uri, chat(answer="ok") + "\n")
    await pull(puller, uri)
    status = await command(puller, "tuneline.serverStatus")
    assert status["pull_mode"] is True
    assert all(p.uri != uri for p in puller.published)


async def test_utf8_columns(utf8_client):
    uri = (utf8_client.root / "u8.jsonl").as_uri()
    open_doc(utf8_client, uri, EMOJI + "\n")
    report = await pull(utf8_client, uri)  # neovim 0.11 pulls
    [short] = [d for d in report.items if d.code == "TL204"]
    start = EMOJI.index('"短"')
    assert short.range.start.character == len(EMOJI[:start].encode("utf-8"))
    assert short.range.end.character == len(EMOJI[:start + 3].encode("utf-8"))
    status = await command(utf8_client, "tuneline.serverStatus")
    assert status["position_encoding"] == "utf-8"


async def test_utf32_columns_and_utf32_edits(utf32_client):
    uri = (utf32_client.root / "u32.jsonl").as_uri()
    open_doc(utf32_client, uri, EMOJI + "\n")
    first = await diagnostics_for(utf32_client, uri, 1)
    start = EMOJI.index('"短"')
    [short] = [d for d in first.diagnostics if d.code == "TL204"]
    assert (short.range.start.character, short.range.end.character) == (start, start + 3)
    # replace the answer using code-point columns
    change(utf32_client, uri, 2, [((0, start + 1), (0, start + 2), "短い答えではありません、十分に長い")])
    params = await diagnostics_for(utf32_client, uri, 2)
    assert [d.code for d in params.diagnostics] == ["TL701"]
