"""Code actions from diagnostic data: exact versioned edits, stale ones refused, nothing on disk."""

from __future__ import annotations

import json

import pytest
import pytest_asyncio
from lsp_helpers import apply_edits, change, chat, diagnostics_for, lsp_fixture, open_doc
from lsprotocol import types

from tuneline.lint.config import Config
from tuneline.lint.context import LintContext
from tuneline.lint.dataset import Dataset
from tuneline.lint.source import split_text

pytestmark = pytest.mark.asyncio(loop_scope="module")

MSGS = [{"role": "user", "content": "Hi there, I need help"},
        {"role": "assistant", "content": "Hello! How can I help you today?"}]
LINES = [
    chat(),
    chat(user="Where is my order?", answer="ok"),
    chat(),
    json.dumps({"mesages": MSGS}),
    json.dumps({"messages": [MSGS[0], {"role": "bot", "content": "Sure, tell me more about it."}]}),
    json.dumps({"conversations": [{"from": "human", "value": "What is 2+2?"},
                                  {"from": "gpt", "value": "2+2 equals 4, of course."}], "id": 7}),
    json.dumps({"instruction": "Translate to French", "input": "cat", "output": "chat (le chat)"}),
    json.dumps({"messages": [{"role": "user", "content": [{"type": "text", "text": "Describe this"},
                                                          {"type": "text", "text": "   "}]},
                             {"role": "assistant", "content": "It is a picture of a cat."}]}),
    json.dumps({"messages": [{"role": "user", "content": "Tell me a joke please"},
                             {"role": "system", "content": "Be funny."},
                             {"role": "assistant", "content": "Why did the chicken cross the road?"}]}),
    "",
    chat(user="😀 émoji question?", answer="An answer that is long enough, ünïcödé."),
]
TEXT = "\n".join(LINES) + "\n"
client = lsp_fixture(files={"fix.jsonl": TEXT})


def lint(text: str) -> set[tuple[int, str]]:
    ds = Dataset(LintContext(Config()))
    ds.set_lines(split_text(text))
    return {(f.line, f.rule) for f in ds.findings()}


async def actions(client, uri, diagnostics, only=None, rng=None):
    rng = rng or (diagnostics[0].range if diagnostics else types.Range(
        types.Position(0, 0), types.Position(0, 0)))
    return await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=rng,
        context=types.CodeActionContext(diagnostics=diagnostics, only=only)))


def single_edit(action: types.CodeAction, uri: str, version: int) -> list[types.TextEdit]:
    [doc_edit] = action.edit.document_changes
    assert doc_edit.text_document.uri == uri
    assert doc_edit.text_document.version == version
    assert action.edit.changes is None  # versioned edits only
    return list(doc_edit.edits)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def opened(client):
    path = client.root / "fix.jsonl"
    uri = path.as_uri()
    open_doc(client, uri, TEXT)
    params = await diagnostics_for(client, uri, 1)
    return uri, path, params


def diag(params, line: int, code: str) -> types.Diagnostic:
    [d] = [d for d in params.diagnostics if d.range.start.line == line and d.code == code]
    return d


CASES = [
    (3, "TL101", "Rename 'mesages' to 'messages'", json.dumps({"messages": MSGS}, ensure_ascii=False)),
    (4, "TL101", "Replace with 'assistant'", json.dumps(
        {"messages": [MSGS[0], {"role": "assistant", "content": "Sure, tell me more about it."}]})),
    (5, "TL103", "Convert this sharegpt line to the messages format", json.dumps(
        {"messages": [{"role": "user", "content": "What is 2+2?"},
                      {"role": "assistant", "content": "2+2 equals 4, of course."}], "id": 7})),
    (6, "TL103", "Convert this alpaca line to the messages format", json.dumps(
        {"messages": [{"role": "user", "content": "Translate to French\ncat"},
                      {"role": "assistant", "content": "chat (le chat)"}]})),
    (7, "TL206", "Remove the blank text", json.dumps(
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "Describe this"}]},
                      {"role": "assistant", "content": "It is a picture of a cat."}]})),
    (8, "TL207", "Move the system message first", json.dumps(
        {"messages": [{"role": "system", "content": "Be funny."},
                      {"role": "user", "content": "Tell me a joke please"},
                      {"role": "assistant", "content": "Why did the chicken cross the road?"}]})),
]


@pytest.mark.parametrize(("line", "code", "title", "new_text"), CASES)
async def test_line_fixes(client, opened, line, code, title, new_text):
    uri, _, params = opened
    d = diag(params, line, code)
    [action] = await actions(client, uri, [d], only=[types.CodeActionKind.QuickFix])
    assert action.title == title
    assert action.kind == types.CodeActionKind.QuickFix
    assert action.is_preferred is True
    assert action.diagnostics[0].code == code
    [edit] = single_edit(action, uri, 1)
    assert edit.range == types.Range(types.Position(line, 0), types.Position(line, len(LINES[line])))
    assert edit.new_text == new_text
    fixed = apply_edits(TEXT, [edit])
    assert (line, code) not in lint(fixed)
    assert fixed.split("\n")[:line] == TEXT.split("\n")[:line]  # other lines byte for byte
    assert fixed.split("\n")[line + 1:] == TEXT.split("\n")[line + 1:]


async def test_delete_duplicate_and_blank_line(client, opened):
    uri, _, params = opened
    qf = [types.CodeActionKind.QuickFix]
    [dup] = await actions(client, uri, [diag(params, 2, "TL501")], only=qf)
    assert dup.title == "Delete this duplicate (first copy on line 1)"
    assert single_edit(dup, uri, 1) == [types.TextEdit(
        types.Range(types.Position(2, 0), types.Position(3, 0)), "")]
    [blank] = await actions(client, uri, [diag(params, 9, "TL006")], only=qf)
    assert single_edit(blank, uri, 1) == [types.TextEdit(
        types.Range(types.Position(9, 0), types.Position(10, 0)), "")]


async def test_fix_all_safe_problems(client, opened):
    uri, _, _ = opened
    [action] = await actions(client, uri, [], only=[types.CodeActionKind.SourceFixAll])
    assert action.kind == "source.fixAll.tuneline"
    assert action.title == "Fix all safe problems in this file"
    fixed = apply_edits(TEXT, single_edit(action, uri, 1))
    left = {rule for _, rule in lint(fixed)}
    assert left.isdisjoint({"TL501", "TL006", "TL206", "TL207"})
    assert ("TL101" in left) is False
    assert "TL103" in left and "TL204" in left  # conversions and content are not "safe"
    assert fixed.count("\n") == TEXT.count("\n") - 2  # the duplicate and the blank line


async def test_refactor_converts_sharegpt_lines(client, opened):
    uri, _, _ = opened
    rng = types.Range(types.Position(5, 0), types.Position(6, 3))
    got = await actions(client, uri, [], only=[types.CodeActionKind.RefactorRewrite], rng=rng)
    assert [a.title for a in got] == ["Convert line 6 (sharegpt) to the messages format",
                                      "Convert line 7 (alpaca) to the messages format"]


async def test_stale_diagnostics_are_refused_and_edits_carry_the_version(client, opened):
    uri, path, params = opened
    old_role = diag(params, 4, "TL101")
    old_convert = diag(params, 5, "TL103")
    # version 2: line 4 is rewritten, line 5 is untouched
    col = LINES[4].index("Sure")
    change(client, uri, 2, [((4, col), (4, col + 4), "Okay")])
    await diagnostics_for(client, uri, 2)
    assert list(await actions(client, uri, [old_role], only=[types.CodeActionKind.QuickFix])) == []
    [convert] = await actions(client, uri, [old_convert], only=[types.CodeActionKind.QuickFix])
    single_edit(convert, uri, 2)
    # version 3: a line inserted above: the old diagnostic's line now holds another text
    change(client, uri, 3, [((0, 0), (0, 0), chat(user="A new first line?") + "\n")])
    await diagnostics_for(client, uri, 3)
    assert list(await actions(client, uri, [old_convert], only=[types.CodeActionKind.QuickFix])) == []
    assert path.read_text("utf-8") == TEXT  # nothing was written behind the editor's back
