"""Hover: on a problem, what the rule checks and how to fix it; on any line, the example's
format, message count, tokens for the configured model and its share of the billed tokens."""

from __future__ import annotations

import json

from lsprotocol import types

from tuneline.lint import formats
from tuneline.lint.findings import Finding
from tuneline.lint.rules import REGISTRY
from tuneline.lsp.app import TunelineServer
from tuneline.lsp.diagnostics import docs_url
from tuneline.lsp.documents import Document
from tuneline.lsp.tally import tally_for, totals_for


def rule_markdown(f: Finding, base: str | None = None) -> str:
    """A finding explained: message, what the rule checks, why, how to fix, link."""
    rule = REGISTRY.get(f.rule)
    head = f"**{f.rule}** `{rule.name}` ({f.severity.label})" if rule else f"**{f.rule}**"
    parts = [head, f.message]
    if rule:
        parts += [f"*Checks:* {rule.summary}", f"*Why:* {rule.why}", f"*Fix:* {rule.fix}"]
    parts.append(f"[{f.rule} documentation]({docs_url(f.rule, base)})")
    return "\n\n".join(parts)


def line_markdown(ls: TunelineServer, doc: Document, line: int) -> str:
    """The example on `line` at a glance."""
    text = doc.data_line(line)
    head = f"**Line {line + 1}**"
    if not text.strip():
        return f"{head} · blank"
    try:
        record = json.loads(text)
    except ValueError:
        return f"{head} · not valid JSON"
    if not isinstance(record, dict):
        return f"{head} · not a JSON object"
    tally = tally_for(ls, doc)
    cfg = tally.ctx.config
    fmt = cfg.format if cfg.format != "auto" else formats.detect(record)
    ex = formats.to_example(record, fmt) if fmt else None
    if ex is None:
        return f"{head} · format not recognised"
    n = len(ex.messages)
    parts = [f"{head} · {fmt} · {n} message{'s' * (n != 1)}"]
    tokens = tally.count(text)
    if tokens is None:
        parts.append(f"Tokens: unavailable ({tally.error})" if tally.error else "Tokens: —")
        return "\n\n".join(parts)
    limit = tally.ctx.limit
    over = f" — over the {limit:,}-token limit" if tokens > limit else ""
    parts.append(f"Tokens: {tokens:,} ({cfg.model}){over}")
    totals = totals_for(ls, doc, tally)
    if totals is None:
        parts.append("Share of the dataset's billed tokens: counting…")
    elif totals.capped:
        share = 100 * min(limit, tokens) / totals.capped
        parts.append(f"Share of the dataset's billed tokens: {share:.2f}% "
                     f"of {totals.capped:,} per epoch")
    return "\n\n".join(parts)


def _findings_at(ls: TunelineServer, doc: Document, line: int, col: int) -> list[Finding]:
    placed = ls.linter.placed(doc) or []
    out = []
    for off, f in placed:
        first, last = f.line + off, f.end_line + off
        if first <= line <= last and (first < line or f.col <= col) and (
                last > line or col <= max(f.end_col, f.col + 1)):
            out.append(f)
    return out


def register(ls: TunelineServer) -> None:
    @ls.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: TunelineServer, params: types.HoverParams) -> types.Hover | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None or doc.kind != "data":
            return None
        line, col = doc.position((params.position.line, params.position.character))
        if line >= doc.data_len:
            return None
        sections = [rule_markdown(f, ls.docs_url) for f in _findings_at(ls, doc, line, col)]
        sections.append(line_markdown(ls, doc, line))
        return types.Hover(types.MarkupContent(types.MarkupKind.Markdown,
                                               "\n\n---\n\n".join(sections)))
