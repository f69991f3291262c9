"""Fuzzing the incremental path: random edits over random documents.

10,000 steps drive documents.py (LSP change → line splice → Dataset.replace) in-process and
check after every step that the text equals the reference and that the incremental findings
equal a from-scratch lint. A shorter run goes through the real server over stdio.
"""

from __future__ import annotations

import json
import random

import pytest
from lsp_helpers import apply_edits, change, diagnostics_for, lsp_fixture, open_doc, utf16
from lsprotocol import types

from tuneline.lint.config import Config
from tuneline.lint.context import LintContext
from tuneline.lint.dataset import Dataset
from tuneline.lint.source import SourceStats, file_findings, split_text
from tuneline.lsp.documents import Document

STEPS = 10_000
SERVER_STEPS = 150


def _chat(user: str, answer: str, system: str | None = None) -> str:
    msgs = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    return json.dumps({"messages": msgs}, ensure_ascii=False)


TEMPLATES = [
    _chat("How do I reset my password?", "Open Settings, then Security, then Reset."),
    _chat("How do I reset my password?", "Open Settings, then Security, then Reset."),
    _chat("How do I reset my pass word?", "Open Settings, then Security, then Reset.", "Be kind."),
    _chat("Where is my order 😀?", "ok"),
    _chat("中文的问题是什么？", "这是一个足够长的中文回答，没有问题。"),
    json.dumps({"conversations": [{"from": "human", "value": "2+2?"}, {"from": "gpt", "value": "4, of course!"}]}),
    json.dumps({"instruction": "Translate", "input": "cat", "output": "chat (le chat)"}),
    json.dumps({"mesages": [{"role": "user", "content": "hi there"}]}),
    json.dumps({"messages": [{"role": "bot", "content": "hello"}]}),
    '{"messages": [}',
    "[1, 2, 3]",
    "",
    "   ",
]
PIECES = ["\n", "\n", "\r\n", "{", "}", '"', ",", ":", "x", "😀", "中", "é", " ", "\\", "[", "]",
          "ok", "content", "role"]


def random_text(rng: random.Random) -> str:
    lines = [rng.choice(TEMPLATES) for _ in range(rng.randint(0, 9))]
    eol = "\r\n" if rng.random() < 0.2 else "\n"
    text = eol.join(lines)
    return text + eol if lines and rng.random() < 0.7 else text


def random_insert(rng: random.Random) -> str:
    k = rng.random()
    if k < 0.3:
        return ""
    if k < 0.6:
        return rng.choice(TEMPLATES) + rng.choice(["\n", "", "\r\n"])
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 6)))


def _content(line: str) -> str:
    return line[:-1] if line.endswith("\r") else line


def random_range(rng: random.Random, text: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """Two positions (UTF-16 units), mostly valid, sometimes past a line's end or the last line."""
    lines = text.split("\n")

    def pos() -> tuple[int, int]:
        line = rng.randint(0, len(lines) - 1 + (rng.random() < 0.05))
        width = utf16(_content(lines[line])) if line < len(lines) else 0
        return line, rng.randint(0, width + (3 if rng.random() < 0.05 else 0))

    a, b = pos(), pos()
    return (a, b) if a <= b else (b, a)


def reference_apply(text: str, a: tuple[int, int], b: tuple[int, int], new: str) -> str:
    """The edit on the plain string, with LSP's clamping (past a line's end = its end, before
    its line break; past the last line = the end of the text)."""
    lines = text.split("\n")

    def clamp(p: tuple[int, int]) -> tuple[int, int]:
        if p[0] >= len(lines):
            return len(lines) - 1, utf16(_content(lines[-1]))
        return p[0], min(p[1], utf16(_content(lines[p[0]])))

    edit = types.TextEdit(types.Range(types.Position(*clamp(a)), types.Position(*clamp(b))), new)
    return apply_edits(text, [edit])


def scratch(text: str, ctx: LintContext) -> list:
    lines = split_text(text) if text else []
    ds = Dataset(ctx)
    ds.set_lines(lines)
    return ds.findings()


def test_incremental_state_equals_a_fresh_lint_over_10000_random_edits():
    rng = random.Random(20261123)
    ctx = LintContext(Config())
    doc = ds = text = None
    for step in range(STEPS):
        if step % 200 == 0:
            text = random_text(rng)
            doc = Document("file:///fuzz.jsonl", text)
            ds = Dataset(ctx)
            ds.set_lines(doc.data_lines())
        a, b = random_range(rng, text)
        new = random_insert(rng)
        text = reference_apply(text, a, b, new)
        edit = doc.apply(a, b, new)
        ds.replace(edit.start, edit.end, edit.lines)
        assert doc.text == text, (step, a, b, new)
        assert doc.data_lines() == (split_text(text) if text else []), step
        assert ds.findings() == scratch(text, ctx), (step, a, b, new)


pytestmark_server = pytest.mark.asyncio(loop_scope="module")
client = lsp_fixture()


@pytestmark_server
async def test_random_edits_through_the_server(client):
    rng = random.Random(7)
    uri = (client.root / "fuzz.jsonl").as_uri()
    text = "\n".join(rng.choice(TEMPLATES) for _ in range(12)) + "\n"
    open_doc(client, uri, text)
    for version in range(2, SERVER_STEPS + 2):
        a, b = random_range(rng, text)
        new = random_insert(rng)
        text = reference_apply(text, a, b, new)
        change(client, uri, version, [(a, b, new)])
    final = await diagnostics_for(client, uri, SERVER_STEPS + 1)
    lines = split_text(text) if text else []
    raw = text.split("\n")
    buffer = SourceStats(crlf_lines=sum(x.endswith("\r") for x in raw), lines=len(lines),
                         final_newline=raw[-1] == "" or not lines)
    found = scratch(text, LintContext(Config())) + file_findings(buffer)
    expected = sorted(
        (f.line, f.rule, utf16(lines[f.line][:f.col]) if f.line < len(lines) else f.col, f.message)
        for f in found)
    got = sorted((d.range.start.line, str(d.code), d.range.start.character, d.message)
                 for d in final.diagnostics)
    assert got == expected
