"""Document symbols: the outline lists each example ("#12 user: How do I reset…").

Names are memoised per line text; a big file's first outline is computed in a worker thread.
The reply is serialised directly to JSON (a 100,000-line file has 100,000 symbols).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

from lsprotocol import types

from tuneline.lint import formats
from tuneline.lsp.app import RawJson, TunelineServer
from tuneline.lsp.convert import client_length

EXCERPT = 48
INLINE_MISSING = 2000
OBJECT = int(types.SymbolKind.Object)


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1].rstrip() + "…"


def describe(text: str, forced: str = "auto") -> tuple[str, str] | None:
    """(label, detail) of a line's example; None for a blank line."""
    if not text.strip():
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return "invalid JSON", ""
    if not isinstance(record, dict):
        return "not an object", ""
    fmt = forced if forced != "auto" else formats.detect(record)
    ex = formats.to_example(record, fmt) if fmt else None
    if ex is None or not ex.messages:
        return "unknown format", fmt or ""
    first = next((m for m in ex.messages if m.role == "user" and m.text), None) or next(
        (m for m in ex.messages if m.text), ex.messages[0])
    n = len(ex.messages)
    return f"{first.role or 'message'}: {_excerpt(first.text or '')}", f"{fmt} · {n} message{'s' * (n != 1)}"


class Names:
    """Memo of line text → (label, detail) for one document and forced format."""

    def __init__(self, forced: str) -> None:
        self.forced = forced
        self.memo: dict[str, tuple[str, str] | None] = {}

    def fill(self, lines: Sequence[str]) -> None:
        memo = self.memo
        for text in dict.fromkeys(lines):
            if text not in memo:
                memo[text] = describe(text, self.forced)


def symbols_json(lines: Sequence[str], names: Names, encoding: str) -> str:
    out = []
    for i, text in enumerate(lines):
        found = names.memo.get(text)
        if found is None:
            continue
        label, detail = found
        end = client_length(text, encoding)
        rng = (f'{{"start":{{"line":{i},"character":0}},'
               f'"end":{{"line":{i},"character":{end}}}}}')
        out.append(f'{{"name":{json.dumps(f"#{i + 1} {label}")},"detail":{json.dumps(detail)},'
                   f'"kind":{OBJECT},"range":{rng},"selectionRange":{rng}}}')
    return "[" + ",".join(out) + "]"


def register(ls: TunelineServer) -> None:
    @ls.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def document_symbol(ls: TunelineServer, params: types.DocumentSymbolParams) -> RawJson:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None or doc.kind != "data":
            return RawJson("[]")
        forced = ls.linter.config_for(doc.path).format
        memo: dict[str, Names] = ls.extras.setdefault("symbol_names", {})
        names = memo.get(doc.uri)
        if names is None or names.forced != forced:
            names = memo[doc.uri] = Names(forced)
        lines = doc.data_lines()
        missing = [t for t in dict.fromkeys(lines) if t not in names.memo]
        if len(missing) > INLINE_MISSING:
            await asyncio.get_running_loop().run_in_executor(ls.bg_pool, names.fill, missing)
        else:
            names.fill(missing)
        return RawJson(symbols_json(lines, names, ls.encoding))

    ls.extras.setdefault("close_hooks", []).append(
        lambda uri, doc: ls.extras.get("symbol_names", {}).pop(uri, None))
