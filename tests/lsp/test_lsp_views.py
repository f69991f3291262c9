"""Hover, document symbols, inlay hints and the code lens, on the real server."""

from __future__ import annotations

import json

import pytest
from lsp_helpers import (
    chat,
    diagnostics_for,
    distinct_examples,
    lsp_fixture,
    open_doc,
    utf16,
    wait_for,
)
from lsprotocol import types

import tuneline.lint.rules.all  # noqa: F401  (registers the rules)
from tuneline.lint import formats
from tuneline.lint.config import Config
from tuneline.lint.context import LintContext
from tuneline.lint.dataset import Dataset
from tuneline.lint.rules import REGISTRY
from tuneline.lint.tokens import TokenCounter, epochs_and_billing

pytestmark = pytest.mark.asyncio(loop_scope="module")
client = lsp_fixture()
MODEL = "gpt-4o-mini-2024-07-18"
LIMIT = 65_536

LINES = [
    chat(user="How do I reset my password after the 2FA change?"),
    chat(user="Where is my order?", answer="ok"),
    json.dumps({"conversations": [{"from": "human", "value": "What is 2+2?"},
                                  {"from": "gpt", "value": "2+2 equals 4, of course."}]}),
    "",
    '{"messages": [}',
    chat(user="😀 Ünïcödé question about 中文 text?", answer="An answer that is long enough."),
]
TEXT = "\n".join(LINES) + "\n"


def tokens(line: str) -> int:
    record = json.loads(line)
    return TokenCounter(MODEL).count_example(formats.to_example(record, formats.detect(record)))


async def hover(client, uri: str, line: int, character: int) -> str:
    result = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri=uri), types.Position(line, character)))
    return result.contents.value if result else ""


@pytest.fixture(scope="module")
def uri(client) -> str:
    return (client.root / "views.jsonl").as_uri()


async def test_hover_on_a_line(client, uri):
    open_doc(client, uri, TEXT)
    await diagnostics_for(client, uri, 1)
    text = await hover(client, uri, 0, 2)
    assert text.startswith("**Line 1** · chat · 3 messages")
    counts = [tokens(x) for i, x in enumerate(LINES) if i in (0, 1, 2, 5)]
    share = 100 * counts[0] / sum(counts)
    assert f"Tokens: {counts[0]:,} ({MODEL})" in text
    assert f"Share of the dataset's billed tokens: {share:.2f}% of {sum(counts):,} per epoch" in text
    assert "**Line 3** · sharegpt · 2 messages" in await hover(client, uri, 2, 3)
    assert (await hover(client, uri, 4, 3)).startswith("**Line 5** · not valid JSON")


async def test_hover_on_a_problem_explains_the_rule(client, uri):
    col = LINES[1].index('"ok"') + 1
    text = await hover(client, uri, 1, col)
    rule = REGISTRY["TL204"]
    assert text.startswith(f"**TL204** `{rule.name}` (warning)")
    assert f"*Why:* {rule.why}" in text and f"*Fix:* {rule.fix}" in text
    assert "**Line 2** · chat · 3 messages" in text  # the line section follows
    elsewhere = await hover(client, uri, 1, 3)
    assert "TL204" not in elsewhere


async def test_document_symbols_outline(client, uri):
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(
        types.TextDocumentIdentifier(uri=uri)))
    names = [s.name for s in symbols]
    assert names == [
        "#1 user: How do I reset my password after the 2FA change?",
        "#2 user: Where is my order?",
        "#3 user: What is 2+2?",
        "#5 invalid JSON",
        "#6 user: 😀 Ünïcödé question about 中文 text?",
    ]
    first = symbols[0]
    assert first.detail == "chat · 3 messages"
    assert first.kind == types.SymbolKind.Object
    last = symbols[-1]
    assert last.range == types.Range(types.Position(5, 0), types.Position(5, utf16(LINES[5])))


async def test_symbol_names_are_truncated():
    from tuneline.lsp.symbols import describe

    label, detail = describe(chat(user="word " * 40))
    assert label == "user: " + ("word " * 40)[:47].rstrip() + "…"
    assert detail == "chat · 3 messages"


async def test_inlay_hints_show_tokens_at_line_end(client, uri):
    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(types.Position(0, 0), types.Position(6, 0))))
    got = [(h.position.line, h.position.character, h.label) for h in hints]
    assert got == [(i, utf16(LINES[i]), f"{tokens(LINES[i]):,} tokens") for i in (0, 1, 2, 5)]


async def test_code_lens_summary(client, uri):
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(
        types.TextDocumentIdentifier(uri=uri)))
    [lens] = lenses
    assert lens.range == types.Range(types.Position(0, 0), types.Position(0, 0))
    counts = [tokens(x) for i, x in enumerate(LINES) if i in (0, 1, 2, 5)]
    epochs, billed = epochs_and_billing(counts, LIMIT)
    title = lens.command.title
    ds = Dataset(LintContext(Config()))
    ds.set_lines(LINES)
    errors = sum(f.severity == 1 for f in ds.findings())
    warnings = sum(f.severity == 2 for f in ds.findings())
    assert (errors, warnings) == (3, 1)  # TL103, TL001, TL701 (OpenAI target) · TL204
    assert title.startswith("4 examples · 3 errors · 1 warning · ")
    assert f"{sum(counts)} tokens" in title
    assert f"≈ ${billed / 1e6 * 3.0:,.2f} to train ({epochs} epochs × " in title
    assert lens.command.command == "tuneline.datasetStats"
    assert list(lens.command.arguments) == [{"uri": uri}]


async def test_big_file_lens_counts_in_background_then_refreshes(client):
    uri = (client.root / "many.jsonl").as_uri()
    lines = distinct_examples(600, seed=5)
    open_doc(client, uri, "\n".join(lines) + "\n")
    await diagnostics_for(client, uri, 1)
    before = client.refreshes.get(types.WORKSPACE_CODE_LENS_REFRESH, 0)
    params = types.CodeLensParams(types.TextDocumentIdentifier(uri=uri))
    [lens] = await client.text_document_code_lens_async(params)
    assert "tokens: counting…" in lens.command.title
    await wait_for(lambda: client.refreshes.get(types.WORKSPACE_CODE_LENS_REFRESH, 0) > before,
                   what="codeLens/refresh")
    [lens] = await client.text_document_code_lens_async(params)
    total = sum(TokenCounter(MODEL).count_example(formats.to_example(json.loads(x), "chat"))
                for x in lines)
    assert f"{total / 1000:.1f}k tokens" in lens.command.title


async def test_views_can_be_switched_off(client, uri):
    before = client.refreshes.get(types.WORKSPACE_INLAY_HINT_REFRESH, 0)
    client.set_configuration({"tuneline": {"inlayHints": {"tokens": False},
                                           "codeLens": {"summary": False}}})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await wait_for(lambda: client.refreshes.get(types.WORKSPACE_INLAY_HINT_REFRESH, 0) > before,
                   what="inlayHint/refresh after the settings change")
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(types.TextDocumentIdentifier(uri=uri)))
    assert list(lenses) == []
    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(types.Position(0, 0), types.Position(6, 0))))
    assert list(hints) == []
