"""Workspace lint (includes, excludes, config files, bytes on disk) and the disk watcher."""

from __future__ import annotations

import asyncio

import pytest
from lsp_helpers import chat, command, diagnostics_for, lsp_fixture, open_doc, wait_for
from lsprotocol import types

pytestmark = pytest.mark.asyncio(loop_scope="module")

SHORT = chat(answer="ok")
BAD = '{"messages": [}'
FILES: dict[str, str | bytes] = {
    "a.jsonl": SHORT + "\n",
    "sub/b.jsonl": BAD + "\n",
    "binary.jsonl": b'{"messages": "caf\xe9"}\n\x00\x01\x02\xff\n',
    "tuneline.toml": "max_tokns = 10\n",
    "node_modules/pkg/x.jsonl": BAD + "\n",
    ".git/y.jsonl": BAD + "\n",
    "runs/r1/z.jsonl": BAD + "\n",
    ".venv/w.jsonl": BAD + "\n",
    "notes.txt": BAD + "\n",
}
client = lsp_fixture(files=FILES)


def uri(client, name: str) -> str:
    return (client.root / name).as_uri()


def pushed(client) -> set[str]:
    return {p.uri for p in client.published}


async def test_workspace_lint_publishes_included_files_only(client):
    names = ["a.jsonl", "sub/b.jsonl", "binary.jsonl", "tuneline.toml"]
    for name in names:
        await diagnostics_for(client, uri(client, name))
    a = await diagnostics_for(client, uri(client, "a.jsonl"))
    assert a.version is None
    assert sorted(str(d.code) for d in a.diagnostics) == ["TL204", "TL701"]
    b = await diagnostics_for(client, uri(client, "sub/b.jsonl"))
    assert "TL001" in {str(d.code) for d in b.diagnostics}
    binary = await diagnostics_for(client, uri(client, "binary.jsonl"))
    utf8 = [d for d in binary.diagnostics if d.code == "TL002"]
    assert [(d.range.start.line, d.range.start.character) for d in utf8] == [(0, 17), (1, 3)]
    toml = await diagnostics_for(client, uri(client, "tuneline.toml"))
    [unknown] = toml.diagnostics
    assert unknown.code == "TL901" and "did you mean 'max_tokens'" in unknown.message
    assert unknown.range == types.Range(types.Position(0, 0), types.Position(0, 9))
    for excluded in FILES:
        if excluded not in names:
            assert uri(client, excluded) not in pushed(client)


async def test_file_written_outside_the_editor_is_relinted(client):
    path = client.root / "generated" / "c.jsonl"
    path.parent.mkdir()
    n = len(client.published)
    path.write_text(SHORT + "\n", "utf-8")
    first = await diagnostics_for(client, path.as_uri(), after=n)
    assert sorted(str(d.code) for d in first.diagnostics) == ["TL204", "TL701"]
    n = len(client.published)
    path.write_text(chat() + "\n", "utf-8")
    fixed = await wait_for(lambda: next((p for p in client.published[n:] if p.uri == path.as_uri()
                                         and "TL204" not in {d.code for d in p.diagnostics}), None))
    assert [d.code for d in fixed.diagnostics] == ["TL701"]
    n = len(client.published)
    path.unlink()
    gone = await diagnostics_for(client, path.as_uri(), after=n)
    assert list(gone.diagnostics) == []


async def test_open_files_follow_the_buffer_not_the_disk(client):
    path = client.root / "a.jsonl"
    open_doc(client, path.as_uri(), chat() + "\n", version=5)
    opened = await diagnostics_for(client, path.as_uri(), 5)
    assert [d.code for d in opened.diagnostics] == ["TL701"]
    n = len(client.published)
    path.write_text(BAD + "\n", "utf-8")
    await asyncio.sleep(1.0)  # longer than the watcher's debounce: time to (not) react
    status = await command(client, "tuneline.serverStatus")
    assert status["documents"][path.as_uri()]["version"] == 5
    await command(client, "tuneline.lintWorkspace")
    assert all(p.uri != path.as_uri() for p in client.published[n:])


async def test_lint_workspace_command_reports_progress(client):
    token = "ws-token"
    result = await command(client, "tuneline.lintWorkspace", {}, token=token)
    assert result["files"] >= 3 and result["errors"] >= 2 and result["cancelled"] is False
    kinds = [r.kind for r in client.progress_reports[token]]
    assert kinds[0] == "begin" and kinds[-1] == "end"


async def test_exclude_setting_drops_files(client):
    b = uri(client, "sub/b.jsonl")
    n = len(client.published)
    client.set_configuration({"tuneline": {"workspace": {"exclude": ["sub/**"]}}})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    cleared = await diagnostics_for(client, b, after=n)
    assert list(cleared.diagnostics) == []
