"""Find where a JSON path sits in a line's text, so a finding underlines the key or value.

Only run for lines that have findings: parsing with `json.loads` stays the fast path.
"""

from __future__ import annotations

import json
import re

Path = tuple[str | int, ...]

_WS = re.compile(r"[ \t\r\n]*")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)  # unrolled: linear on 20 MB strings
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null|\w+")
_STRUCT = re.compile(r'["{}\[\]]')


def _ws(s: str, i: int) -> int:
    return _WS.match(s, i).end()  # type: ignore[union-attr]


def _skip(s: str, i: int) -> int:
    """Index just past the JSON value starting at i (tolerant of truncated input)."""
    if i >= len(s):
        return i
    c = s[i]
    if c == '"':
        m = _STRING.match(s, i)
        return m.end() if m else len(s)
    if c in "{[":
        depth = 0
        while True:
            m = _STRUCT.search(s, i)
            if m is None:
                return len(s)
            i = m.start()
            ch = s[i]
            if ch == '"':
                sm = _STRING.match(s, i)
                i = sm.end() if sm else len(s)
                continue
            depth += 1 if ch in "{[" else -1
            i += 1
            if depth == 0:
                return i
    m = _SCALAR.match(s, i)
    return m.end() if m and m.end() > i else i + 1


def _child(s: str, i: int, step: str | int) -> tuple[int, int, int] | None:
    """Within the container at i, find `step`: (key_start, key_end, value_start) or None."""
    if i >= len(s):
        return None
    if isinstance(step, str) and s[i] == "{":
        found = None  # the last copy of a repeated key: the one json.loads keeps
        i = _ws(s, i + 1)
        while i < len(s) and s[i] == '"':
            m = _STRING.match(s, i)
            if m is None:
                break
            ks, ke = m.start(), m.end()
            try:
                key = json.loads(m.group())
            except ValueError:
                key = None
            i = _ws(s, ke)
            if i < len(s) and s[i] == ":":
                i = _ws(s, i + 1)
            if key == step:
                found = ks, ke, i
            i = _ws(s, _skip(s, i))
            if i < len(s) and s[i] == ",":
                i = _ws(s, i + 1)
        return found
    if isinstance(step, int) and s[i] == "[":
        i = _ws(s, i + 1)
        index = 0
        while i < len(s) and s[i] != "]":
            if index == step:
                return i, i, i
            i = _ws(s, _skip(s, i))
            if i < len(s) and s[i] == ",":
                i = _ws(s, i + 1)
            index += 1
        return None
    return None


def locate(text: str, path: Path, key: bool = False) -> tuple[int, int]:
    """Span (start, end) of the value at `path`, or of its key when `key` is true.

    An unresolvable path falls back to the deepest part that resolves; the empty path is
    the whole value. Columns are code-point offsets into `text`.
    """
    i = _ws(text, 0)
    span = (i, _skip(text, i))
    for depth, step in enumerate(path):
        found = _child(text, i, step)
        if found is None:
            return span
        ks, ke, i = found
        last = depth == len(path) - 1
        if last and key and isinstance(step, str):
            return ks, ke
        span = (i, _skip(text, i))
    if span[1] <= span[0]:
        span = (span[0], min(len(text), span[0] + 1))
    return span
