"""Incremental work: a one-line edit re-checks one line; dataset rules (duplicates, counts)
follow from the per-line cache; the result equals a from-scratch lint."""

from __future__ import annotations

import json

import pytest
from lsp_helpers import change, command, diagnostics_for, distinct_examples, lsp_fixture, open_doc

from tuneline.lint.config import Config
from tuneline.lint.context import LintContext
from tuneline.lint.dataset import Dataset
from tuneline.lint.source import split_text

pytestmark = pytest.mark.asyncio(loop_scope="module")
client = lsp_fixture()
N = 3000


def lines(n: int = N) -> list[str]:
    return distinct_examples(n)


def scratch(text: str) -> list[tuple[int, str, int, int, str]]:
    ds = Dataset(LintContext(Config()))
    ds.set_lines(split_text(text))
    return sorted((f.line, f.rule, f.col, f.end_col, f.message) for f in ds.findings())


def published(params) -> list[tuple[int, str, int, int, str]]:
    return sorted((d.range.start.line, str(d.code), d.range.start.character,
                   d.range.end.character, d.message) for d in params.diagnostics)


async def test_one_line_edit_rechecks_one_line(client):
    uri = (client.root / "big.jsonl").as_uri()
    text = lines()
    open_doc(client, uri, "\n".join(text) + "\n")
    await diagnostics_for(client, uri, 1)
    before = (await command(client, "tuneline.serverStatus"))["documents"][uri]
    assert before["checked_lines"] == N and before["ready"]

    # edit inside line 1500: one new line text → exactly one line checked
    col = text[1500].index("Answer 1500") + len("Answer ")
    change(client, uri, 2, [((1500, col), (1500, col + 4), "9999")])
    await diagnostics_for(client, uri, 2)
    after = (await command(client, "tuneline.serverStatus"))["documents"][uri]
    assert after["checked_lines"] == N + 1
    assert after["edits"] == 1

    # paste a copy of line 10 at the end: a duplicate, and no line is re-checked (cached text)
    change(client, uri, 3, [((N, 0), (N, 0), text[10] + "\n")])
    params = await diagnostics_for(client, uri, 3)
    [dup] = [d for d in params.diagnostics if d.code == "TL501"]
    assert dup.range.start.line == N and dup.message == "exact duplicate of line 11"
    assert dup.related_information[0].location.range.start.line == 10
    assert (await command(client, "tuneline.serverStatus"))["documents"][uri]["checked_lines"] == N + 1

    # delete line 10: the copy at the end is now the only one
    change(client, uri, 4, [((10, 0), (11, 0), "")])
    params = await diagnostics_for(client, uri, 4)
    assert not [d for d in params.diagnostics if d.code == "TL501"]

    text[1500] = text[1500][:col] + "9999" + text[1500][col + 4:]
    final = [*text[:10], *text[11:], text[10]]
    assert published(params) == scratch("\n".join(final) + "\n")


async def test_counts_follow_edits(client):
    uri = (client.root / "counts.jsonl").as_uri()
    open_doc(client, uri, "\n".join(lines(9)) + "\n")
    params = await diagnostics_for(client, uri, 1)
    assert [d.message for d in params.diagnostics if d.code == "TL701"] == [
        "only 9 example(s); OpenAI requires at least 10 and trainers learn little from so few"]
    change(client, uri, 2, [((9, 0), (9, 0), json.dumps(json.loads(lines(10)[9])) + "\n")])
    params = await diagnostics_for(client, uri, 2)
    assert [d.code for d in params.diagnostics] == ["TL702"]
