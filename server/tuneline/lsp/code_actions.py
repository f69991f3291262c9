"""Code actions built from `diagnostic.data` (no re-lint), as versioned workspace edits.

Every edit names the document version it was computed for, so a client that has moved on
refuses it; and a diagnostic whose line no longer hashes to the `hash` in its data (the text
changed since it was reported) gets no action at all. Fixed lines are re-serialised alone;
every other byte of the file is left as it is. Nothing is written to disk.
"""

from __future__ import annotations

import json
from typing import Any

from lsprotocol import types

from tuneline.lint import formats
from tuneline.lsp.app import TunelineServer
from tuneline.lsp.convert import client_length
from tuneline.lsp.diagnostics import SOURCE, line_hash
from tuneline.lsp.documents import Document
from tuneline.lsp.fixes import SAFE_FIXES, FixError, apply, kind_of, path_at, serialise, to_messages

FIX_ALL = "source.fixAll.tuneline"
KINDS = [types.CodeActionKind.QuickFix, FIX_ALL, types.CodeActionKind.RefactorRewrite]
_SAFE_ORDER = {k: i for i, k in enumerate(SAFE_FIXES)}


def _wanted(only: list[str] | None, kind: str) -> bool:
    return not only or any(kind == k or kind.startswith(k + ".") for k in only)


def _record(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def line_edit(doc: Document, line: int, new_text: str) -> types.TextEdit:
    """Replace the content of `line` (its '\\r' and newline stay)."""
    end = client_length(doc.data_line(line), doc.encoding)
    return types.TextEdit(types.Range(types.Position(line, 0), types.Position(line, end)), new_text)


def delete_lines(doc: Document, first: int, last: int) -> types.TextEdit:
    """Delete lines first..last with their line break."""
    if last + 1 < len(doc.lines):
        rng = types.Range(types.Position(first, 0), types.Position(last + 1, 0))
    elif first > 0:  # the last line has no newline after it: take the one before
        prev = first - 1
        rng = types.Range(types.Position(prev, client_length(doc.data_line(prev), doc.encoding)),
                          types.Position(last, client_length(doc.lines[last], doc.encoding)))
    else:
        rng = types.Range(types.Position(0, 0),
                          types.Position(last, client_length(doc.lines[last], doc.encoding)))
    return types.TextEdit(rng, "")


def workspace_edit(doc: Document, edits: list[types.TextEdit]) -> types.WorkspaceEdit:
    ident = types.OptionalVersionedTextDocumentIdentifier(uri=doc.uri, version=doc.version)
    return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(ident, edits)])


def _action(doc: Document, title: str, kind: str, edits: list[types.TextEdit],
            diagnostics: list[types.Diagnostic] | None = None,
            preferred: bool = False) -> types.CodeAction:
    return types.CodeAction(title=title, kind=kind, diagnostics=diagnostics,
                            is_preferred=preferred or None, edit=workspace_edit(doc, edits))


def _title(data: dict[str, Any], record: Any) -> str:
    kind = kind_of(data)
    if kind == "rename":
        spec = data["rename"]
        return f"Rename '{spec['from']}' to '{spec['to']}'"
    if kind == "replace":
        spec = data["replace"]
        return f"Replace with '{spec['value']}'"
    return {"move-system-first": "Move the system message first",
            "delete-message": "Delete the empty message",
            "trim": "Remove the blank text"}.get(kind or "", "Fix")


def _is_duplicate(ls: TunelineServer, doc: Document, line: int, first: Any) -> bool:
    """The line still repeats `first` (checked on the current dataset)."""
    state = doc.lint
    if state is None or not state.ready or not isinstance(first, int) or first == line:
        return False
    results = state.ds.results  # type: ignore[union-attr]
    if not (0 <= first < len(results) and 0 <= line < len(results)):
        return False
    key = results[line].dup_key
    return key is not None and results[first].dup_key == key


def quick_fix(ls: TunelineServer, doc: Document, diag: types.Diagnostic) -> types.CodeAction | None:
    """The action for one of our diagnostics, or None (no fix, or the line changed)."""
    data = diag.data
    if diag.source != SOURCE or not isinstance(data, dict):
        return None
    line = diag.range.start.line
    text = doc.data_line(line)
    if line >= doc.data_len or data.get("hash") != line_hash(text):
        return None  # stale: the line is not the one the diagnostic was computed for
    rule, fix = data.get("rule"), data.get("fix")
    qf = types.CodeActionKind.QuickFix
    if rule == "TL006":
        return _action(doc, "Delete the blank line", qf, [delete_lines(doc, line, line)], [diag], True)
    if rule == "TL501" and isinstance(fix, dict):
        first = fix.get("first_line")
        if not _is_duplicate(ls, doc, line, first):
            return None
        return _action(doc, f"Delete this duplicate (first copy on line {first + 1})", qf,
                       [delete_lines(doc, line, line)], [diag], True)
    record = _record(text)
    if record is None or not isinstance(fix, dict):
        return None
    try:
        if rule == "TL103" and fix.get("to_format") == "chat":
            fmt = formats.detect(record)
            new = to_messages(record, fmt or "")
            title = f"Convert this {fmt} line to the messages format"
        else:
            col = ls_col(doc, line, diag.range.start.character)
            new = apply(record, fix, path_at(text, record, col) if kind_of(fix) == "trim" else None)
            title = _title(fix, record)
    except (FixError, KeyError, TypeError):
        return None
    return _action(doc, title, qf, [line_edit(doc, line, serialise(new))], [diag], True)


def ls_col(doc: Document, line: int, units: int) -> int:
    return doc.position((line, units))[1]


def fix_all(ls: TunelineServer, doc: Document) -> types.CodeAction | None:
    """Every safe fix of the file in one edit: renames, role replacements, trims, moving the
    system message first, deleting blank lines and exact duplicates."""
    placed = ls.linter.placed(doc)
    if placed is None:
        return None
    per_line: dict[int, list[tuple[Any, int]]] = {}
    delete: set[int] = set()
    for off, f in placed:
        line = f.line + off
        if f.rule == "TL006" or (f.rule == "TL501" and f.data
                                 and _is_duplicate(ls, doc, line, f.data.get("first_line"))):
            delete.add(line)
        elif f.data and kind_of(f.data) in _SAFE_ORDER:
            per_line.setdefault(line, []).append((f.data, f.col))
    edits: list[types.TextEdit] = []
    for line in sorted(per_line):
        if line in delete:
            continue
        text = doc.data_line(line)
        record = _record(text)
        if record is None:
            continue
        fixed = record
        for data, col in _ordered(per_line[line]):
            try:
                fixed = apply(fixed, data, path_at(text, record, col)
                              if kind_of(data) == "trim" else None)
            except (FixError, KeyError, TypeError):
                continue
        if fixed != record:
            edits.append(line_edit(doc, line, serialise(fixed)))
    for first, last in _runs(sorted(delete)):
        edits.append(delete_lines(doc, first, last))
    if not edits:
        return None
    edits.sort(key=lambda e: (e.range.start.line, e.range.start.character))
    return _action(doc, "Fix all safe problems in this file", FIX_ALL, edits)


def _ordered(fixes: list[tuple[Any, int]]) -> list[tuple[Any, int]]:
    """Value fixes first, then list surgery (higher indices first), renames deepest first,
    so that each fix's path still names the same place."""
    def key(item: tuple[Any, int]) -> tuple[int, int]:
        data = item[0]
        kind = kind_of(data) or ""
        path = (data.get("rename") or data.get("replace") or data).get("path") or []
        index = path[-1] if path and isinstance(path[-1], int) else 0
        return (_SAFE_ORDER[kind], -len(path) if kind == "rename" else -index)
    return sorted(fixes, key=key)


def _runs(lines: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for n in lines:
        if runs and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


def conversions(doc: Document, rng: types.Range, offered: set[int]) -> list[types.CodeAction]:
    """refactor.rewrite: convert ShareGPT/Alpaca lines in the range to messages."""
    out = []
    for line in range(rng.start.line, min(rng.end.line, doc.data_len - 1) + 1):
        if line in offered:
            continue
        record = _record(doc.data_line(line))
        fmt = formats.detect(record) if record is not None else None
        if record is None or fmt not in ("sharegpt", "alpaca"):
            continue
        try:
            new = to_messages(record, fmt)
        except FixError:
            continue
        out.append(_action(doc, f"Convert line {line + 1} ({fmt}) to the messages format",
                           types.CodeActionKind.RefactorRewrite,
                           [line_edit(doc, line, serialise(new))]))
    return out


def register(ls: TunelineServer) -> None:
    options = types.CodeActionOptions(code_action_kinds=KINDS, resolve_provider=False)

    @ls.feature(types.TEXT_DOCUMENT_CODE_ACTION, options)
    def code_action(ls: TunelineServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None or doc.kind != "data":
            return []
        only = params.context.only
        actions: list[types.CodeAction] = []
        converted: set[int] = set()
        if _wanted(only, types.CodeActionKind.QuickFix):
            for diag in params.context.diagnostics:
                action = quick_fix(ls, doc, diag)
                if action is not None:
                    actions.append(action)
                    if isinstance(diag.data, dict) and diag.data.get("rule") == "TL103":
                        converted.add(diag.range.start.line)
        if _wanted(only, types.CodeActionKind.RefactorRewrite):
            actions.extend(conversions(doc, params.range, converted))
        if _wanted(only, FIX_ALL):
            action = fix_all(ls, doc)
            if action is not None:
                actions.append(action)
        return actions
