"""Bad input never kills the server: binary text, a 20 MB line, lone surrogates, a file deleted
while open, unknown documents, and rules that raise (loaded as a plugin)."""

from __future__ import annotations

import json
import os

import pytest
from lsp_helpers import (
    HERE,
    change,
    chat,
    command,
    diagnostics_for,
    lsp_fixture,
    open_doc,
    wait_for,
)
from lsprotocol import types

pytestmark = pytest.mark.asyncio(loop_scope="module")
client = lsp_fixture(
    files={"ondisk.jsonl": chat(answer="ok") + "\n"},
    env={"TUNELINE_PLUGINS": "faulty_plugin",
         "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])})


async def alive(client) -> dict:
    return await command(client, "tuneline.serverStatus")


async def test_binary_text(client):
    uri = (client.root / "image.jsonl").as_uri()
    open_doc(client, uri, "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\xff\xfe")
    params = await diagnostics_for(client, uri, 1)
    assert {str(d.code) for d in params.diagnostics} >= {"TL001"}
    assert [d.range.start.line for d in params.diagnostics if d.code == "TL001"] == [0, 1, 2]
    assert (await alive(client))["documents"][uri]["ready"]


async def test_twenty_megabyte_line(client):
    """A 20 MB line (a generated file gone wrong: unterminated) is linted off the event loop;
    the server answers other requests meanwhile and reports the broken JSON at its end."""
    uri = (client.root / "huge.jsonl").as_uri()
    line = chat(answer="lorem ipsum dolor sit amet " * (20_000_000 // 27))[:-2]
    assert len(line) > 20_000_000
    open_doc(client, uri, line + "\n")
    assert (await alive(client))["pid"] > 0
    params = await diagnostics_for(client, uri, 1, timeout=300)
    [bad] = [d for d in params.diagnostics if d.code == "TL001"]
    assert bad.range.start == types.Position(0, len(line))
    change(client, uri, 2, [((0, len(line)), (0, len(line)), " ]")])
    params = await diagnostics_for(client, uri, 2, timeout=300)
    [bad] = [d for d in params.diagnostics if d.code == "TL001"]
    assert bad.range.start.character == len(line) + 2
    assert (await alive(client))["heavy_modules"] == []


async def test_lone_surrogates_and_replacement_characters(client):
    uri = (client.root / "odd.jsonl").as_uri()
    text = chat(user="\ud83d broken pair \ufffd", answer="ok") + "\n" + '{"x": "\ud800"'
    open_doc(client, uri, text)
    params = await diagnostics_for(client, uri, 1)
    assert {(d.range.start.line, str(d.code)) for d in params.diagnostics} >= {(0, "TL204"), (1, "TL001")}


async def test_rules_that_raise_cost_one_line(client):
    uri = (client.root / "faulty.jsonl").as_uri()
    lines = [chat(answer="this answer goes boom for sure"),
             json.dumps({"kaboom": 1, "messages": []}),
             chat(answer="ok")]
    open_doc(client, uri, "\n".join(lines) + "\n")
    params = await diagnostics_for(client, uri, 1)
    by_line = {(d.range.start.line, str(d.code)): d.message for d in params.diagnostics}
    assert by_line[(0, "TL000")] == "rule boom failed: RuntimeError('boom')"
    assert by_line[(1, "TL000")] == "checking this line failed: ValueError('kaboom')"
    assert (2, "TL204") in by_line  # the other lines are linted as usual
    change(client, uri, 2, [((2, 0), (2, 0), " ")])  # the server keeps working after that
    await diagnostics_for(client, uri, 2)


async def test_file_deleted_while_open(client):
    path = client.root / "ondisk.jsonl"
    open_doc(client, path.as_uri(), path.read_text("utf-8"))
    before = await diagnostics_for(client, path.as_uri(), 1)
    n = len(client.published)
    path.unlink()
    await wait_for(lambda: [m for m in client.log_messages if "ondisk.jsonl was deleted" in m.message])
    assert all(p.uri != path.as_uri() for p in client.published[n:])  # nothing cleared
    change(client, path.as_uri(), 2, [((0, 0), (0, 0), " ")])
    after = await diagnostics_for(client, path.as_uri(), 2)
    assert [d.code for d in after.diagnostics] == [d.code for d in before.diagnostics]


async def test_unknown_documents_are_logged(client):
    change(client, "file:///nowhere/never-opened.jsonl", 3, [((0, 0), (0, 0), "x")])
    await wait_for(lambda: [m for m in client.log_messages if "never-opened" in m.message])
    result = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier("file:///nowhere/never-opened.jsonl"), types.Position(0, 0)))
    assert result is None
    assert (await alive(client))["pid"] > 0
