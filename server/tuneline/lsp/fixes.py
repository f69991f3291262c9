"""Quick-fix transformations of one record, driven by a finding's `data` (no re-lint).

Each function takes the parsed line and returns a new record (the input is not modified) or
raises FixError. Paths are the JSON paths the lint core put in the data, in the line's own
key names.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from tuneline.lint import formats
from tuneline.lint.jsonspan import locate

Path = list[str | int]
SAFE_FIXES = ("replace", "trim", "delete-message", "move-system-first", "rename")
CONVERTIBLE = ("sharegpt", "alpaca")
_CHAT_ROLES = frozenset({"system", "user", "assistant"})


class FixError(ValueError):
    """The fix does not apply to this record (it changed, or the data is unexpected)."""


def serialise(record: Any) -> str:
    """How a fixed line is written: one JSON object, non-ASCII kept as is."""
    return json.dumps(record, ensure_ascii=False)


def _walk(record: Any, path: Path) -> Any:
    node = record
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            raise FixError(f"nothing at {path}") from None
    return node


def kind_of(data: dict[str, Any]) -> str | None:
    """The fix a finding's data describes ('rename', 'replace', 'trim', …) or None."""
    if "rename" in data:
        return "rename"
    if "replace" in data:
        return "replace"
    fix = data.get("fix")
    return fix if isinstance(fix, str) else None


def apply(record: Any, data: dict[str, Any], path: Path | None = None) -> Any:
    """The record with the fix described by `data` applied (a copy)."""
    out = copy.deepcopy(record)
    kind = kind_of(data)
    if kind == "rename":
        _rename(out, data["rename"])
    elif kind == "replace":
        spec = data["replace"]
        where = list(spec["path"])
        if not where:
            raise FixError("cannot replace the whole record")
        parent = _walk(out, where[:-1])
        _walk(out, where)  # must exist
        parent[where[-1]] = spec["value"]
    elif kind == "move-system-first":
        where = list(data.get("path") or [])
        msgs = _walk(out, where[:-1]) if where else out.get("messages")
        index = where[-1] if where else data.get("from")
        if not isinstance(msgs, list) or not isinstance(index, int) or not 0 < index < len(msgs):
            raise FixError("no system message to move")
        msgs.insert(0, msgs.pop(index))
    elif kind == "delete-message":
        where = list(data.get("path") or [])
        msgs = _walk(out, where[:-1])
        if not isinstance(msgs, list) or not where or not isinstance(where[-1], int):
            raise FixError("no message to delete")
        _walk(out, where)
        msgs.pop(where[-1])
    elif kind == "trim":
        _trim(out, list(data.get("path") or path or []))
    else:
        raise FixError(f"no automatic fix for {data!r}")
    return out


def _rename(record: Any, spec: dict[str, Any]) -> None:
    where = list(spec["path"])
    old, new = spec["from"], spec["to"]
    container = _walk(record, where[:-1] if where and where[-1] == old else where)
    if not isinstance(container, dict) or old not in container:
        raise FixError(f"no key '{old}' to rename")
    if new in container:
        raise FixError(f"'{new}' is already there")
    items = [(new if k == old else k, v) for k, v in container.items()]
    container.clear()
    container.update(items)


def _trim(record: Any, where: Path) -> None:
    """Remove an empty text part of a content list, or strip a whitespace-only string."""
    if not where:
        raise FixError("no path to trim")
    value = _walk(record, where)
    if not isinstance(value, str) or value.strip():
        raise FixError("the text is not blank any more")
    if where[-1] == "text" and len(where) >= 3 and isinstance(where[-2], int):
        parts = _walk(record, where[:-2])
        if isinstance(parts, list) and len(parts) > 1:
            parts.pop(where[-2])
            return
    _walk(record, where[:-1])[where[-1]] = ""


def path_at(line: str, record: Any, col: int) -> Path | None:
    """The path of the blank string value whose text starts at code-point column `col`."""
    found: list[Path] = []

    def visit(node: Any, path: Path) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                visit(v, [*path, k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                visit(v, [*path, i])
        elif isinstance(node, str) and not node.strip():
            found.append(path)

    visit(record, [])
    for p in found:
        if locate(line, tuple(p), False)[0] == col:
            return p
    return None


def to_messages(record: dict[str, Any], fmt: str) -> dict[str, Any]:
    """A ShareGPT or Alpaca record as an OpenAI-style `messages` record.

    Other top-level keys are kept after `messages`. Tool turns are not converted (their
    calls need ids that the source does not have): FixError.
    """
    if fmt not in CONVERTIBLE:
        raise FixError(f"'{fmt}' lines are not converted")
    ex = formats.to_example(record, fmt)
    if ex is None or not ex.messages:
        raise FixError("the record has no conversation to convert")
    messages = []
    for m in ex.messages:
        if m.role not in _CHAT_ROLES or m.tool_calls or not isinstance(m.text, str):
            raise FixError(f"a '{m.role}' turn cannot be converted automatically")
        messages.append({"role": m.role, "content": m.text})
    used = {"conversations", "system", "tools"} if fmt == "sharegpt" else {
        "instruction", "input", "output", "system", "history"}
    if fmt == "sharegpt" and record.get("tools"):
        raise FixError("ShareGPT tools are not converted automatically")
    out: dict[str, Any] = {"messages": messages}
    out.update((k, v) for k, v in record.items() if k not in used and k != "messages")
    return out
