"""The per-line pipeline: parse, detect the format, validate, run line rules, fingerprint.

A `LineResult` depends only on the line's text and the context, so it is cached by text and
reused after edits elsewhere. Work is done in blocks so MinHash signatures are vectorised.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass

from tuneline.lint import formats, near
from tuneline.lint.context import LintContext
from tuneline.lint.example import Example
from tuneline.lint.findings import Finding, Hit, Severity
from tuneline.lint.jsonspan import locate
from tuneline.lint.rules import rule

log = logging.getLogger(__name__)

INTERNAL_ERROR = rule(
    "TL000", "internal-error", Severity.WARNING,
    "A rule failed on this line (a Tuneline bug); other rules still ran.",
    "You should see every real problem even when one check breaks.",
    "Report the message to Tuneline's issue tracker.",
)


@dataclass(slots=True)
class LineResult:
    """What linting one line produced; findings are line-relative (line 0)."""

    findings: tuple[Finding, ...] = ()
    format: str | None = None
    kind: str | None = None
    messages: int = 0
    dup_key: bytes | None = None
    prompt_key: bytes | None = None
    system_key: bytes | None = None
    label: str | None = None
    signature: bytes | None = None
    bands: tuple[int, ...] = ()
    size_bound: int = 0
    blank: bool = False
    tokens: int | None = None
    width: int = 0


class _Constant(ValueError):
    pass


def _reject_constant(name: str) -> float:
    raise _Constant(name)


_DECODE = json.JSONDecoder(parse_constant=_reject_constant).decode


_JSON_HINTS = {
    "Expecting property name enclosed in double quotes": "keys need double quotes; "
    "a Python dict printed with str()? write lines with json.dumps",
    "Extra data": "more than one JSON value on the line: one object per line",
    "Unterminated string starting at": "a string is not closed (raw newline or missing quote?)",
    "Invalid control character at": "raw control characters (newline, tab) must be escaped "
    "inside strings (\\n, \\t)",
    "Expecting value": "a value is missing or is not JSON (single quotes, True/None, trailing comma?)",
}


_STRING_OR_CONSTANT = re.compile(r'"(?:[^"\\]|\\.)*"|-?(?:NaN|Infinity)')


def _constant_at(text: str, name: str) -> int:
    """Column of the bare constant `name` (outside strings: '{"a": "NaN", "b": NaN}')."""
    for m in _STRING_OR_CONSTANT.finditer(text):
        if m.group() == name:
            return m.start()
    return max(0, text.find(name))


def _json_error(text: str, exc: ValueError) -> Finding:
    if isinstance(exc, _Constant):
        name = str(exc)
        col = _constant_at(text, name)
        return Finding("TL001", f"invalid JSON: {name} is not a JSON number; use null or a string",
                       Severity.ERROR, 0, col, 0, col + len(name))
    assert isinstance(exc, json.JSONDecodeError)
    hint = next((h for k, h in _JSON_HINTS.items() if exc.msg.startswith(k)), "")
    col = min(exc.pos, len(text))
    end = min(len(text), col + 1) if col < len(text) else col
    message = f"invalid JSON: {exc.msg} (column {col + 1})" + (f"; {hint}" if hint else "")
    return Finding("TL001", message, Severity.ERROR, 0, col, 0, end)


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).digest()


def _keys(ex: Example, normed: list[str]) -> tuple[bytes, bytes | None, bytes | None]:
    """Exact-duplicate key (whole example, whitespace-normalised), prompt key, system key."""
    turns = [f"{m.role}\x01{n}" for m, n in zip(ex.messages, normed)]
    turns += [f"rejected\x01{_norm(m.text)}" for m in ex.rejected]
    prompt = [t for m, t in zip(ex.messages, turns) if m.role not in _NOT_PROMPT]
    system = next((m.text for m in ex.messages if m.role in ("system", "developer")), None)
    return _digest("\x00".join(turns)), (_digest("\x00".join(prompt)) if prompt else None), (
        _digest(system) if system is not None else None)


def _norm(text: str | None) -> str:
    """Whitespace-normalised text; the common already-normal case costs a few scans."""
    if not text:
        return ""
    if ("  " in text or "\n" in text or "\t" in text or "\r" in text or text[0].isspace()
            or text[-1].isspace() or not text.isascii()):
        return " ".join(text.split())
    return text


_NOT_PROMPT = frozenset(("assistant", "system", "developer"))


def _inside_string(literal: str, start: int, end: int) -> tuple[int, int]:
    """Map decoded-string offsets [start, end) to offsets in its raw JSON literal (with quotes)."""
    raw_at: list[int] = []
    i = 1
    while i < len(literal) - 1:
        raw_at.append(i)
        if literal[i] == "\\":
            if literal[i + 1] == "u":
                code = int(literal[i + 2 : i + 6], 16) if i + 6 <= len(literal) else 0
                low = literal[i + 6 : i + 8] == "\\u"
                i += 12 if 0xD800 <= code < 0xDC00 and low else 6
            else:
                i += 2
        else:
            i += 1
    raw_at.append(len(literal) - 1)
    start = min(max(start, 0), len(raw_at) - 1)
    end = min(max(end, start), len(raw_at) - 1)
    return raw_at[start], raw_at[end]


def _place(text: str, hit: Hit, ctx: LintContext) -> Finding:
    start, end = locate(text, hit.path, hit.key) if hit.path is not None else (0, len(text))
    inner = hit.data.get("span_in_value") if hit.data else None
    if inner and end - start >= 2 and text[start] == '"':
        a, b = _inside_string(text[start:end], int(inner[0]), int(inner[1]))
        start, end = start + a, start + b
    severity = ctx.severities.get(hit.rule, Severity.ERROR)
    if hit.severity is not None and hit.rule not in ctx.overridden:
        severity = hit.severity
    return Finding(hit.rule, hit.message, severity,
                   0, start, 0, end, hit.data)


def _check_one(text: str, ctx: LintContext) -> tuple[LineResult, list[str] | None]:
    """One line's result and the texts to fingerprint for near duplicates."""
    if not text or text.isspace():  # (isspace stops at the first '{': no copy of the line)
        found = (Finding("TL006", "blank line; delete it (some loaders fail on empty lines)",
                         ctx.severities["TL006"], 0, 0, 0, len(text)),) if ctx.on("TL006") else ()
        return LineResult(found, blank=True, width=len(text)), None
    try:
        record = _DECODE(text)
    except ValueError as exc:
        return LineResult((_json_error(text, exc).with_severity(ctx.severities["TL001"]),)
                          if ctx.on("TL001") else (), width=len(text)), None
    except RecursionError:  # Python's json (and most loaders) cannot read it either
        return LineResult((Finding("TL001", "invalid JSON: nested too deeply to parse",
                                   ctx.severities["TL001"], 0, 0, 0, len(text)),)
                          if ctx.on("TL001") else (), width=len(text)), None
    if not isinstance(record, dict):
        kind = _JSON_KINDS.get(type(record), type(record).__name__)
        found = (Finding("TL007", f"the line is a JSON {kind}, not an object",
                         ctx.severities["TL007"], 0, 0, 0, len(text)),) if ctx.on("TL007") else ()
        return LineResult(found, width=len(text)), None
    forced = ctx.config.format
    fmt = formats.detect(record) if forced == "auto" else forced
    hits: list[Hit] = list(formats.validate(record, fmt))
    ex = formats.to_example(record, fmt) if fmt else None
    if ex is not None:
        for check in ctx.line_checks:
            try:
                hits.extend(check(ex, ctx))
            except Exception as exc:  # a buggy rule must never hide the others
                log.exception("rule %s failed", getattr(check, "__name__", check))
                hits.append(Hit("TL000", f"rule {getattr(check, '__name__', '?')} failed: {exc!r}"))
    findings = tuple(_place(text, h, ctx) for h in hits if h.rule in ctx.enabled)
    result = LineResult(findings, fmt, ex.kind if ex else None, size_bound=len(text) if text.isascii()
                        else len(text.encode("utf-8", "surrogatepass")), width=len(text))
    if ex is None:
        return result, None
    result.messages = len(ex.messages)
    normed = [_norm(m.text) for m in ex.messages]
    result.dup_key, result.prompt_key, result.system_key = _keys(ex, normed)
    result.size_bound += 3 * len(ex.messages) + 3
    if ctx.count_tokens:
        result.tokens = ctx.tokens.count_example(ex)
    if ctx.config.label_field:
        label = record.get(ctx.config.label_field)
        result.label = None if label is None else str(label)
    if not ctx.on("TL502"):
        return result, None
    # whitespace-normalised like the duplicate key, so every line sharing a key shares a signature
    # (the near index keeps one signature per key: an edit must not depend on which copy came first)
    return result, [n for m, n in zip(ex.messages, normed)
                    if n and m.role not in ("system", "developer")]


_JSON_KINDS: dict[type, str] = {list: "array", str: "string", int: "number", float: "number",
                                bool: "boolean", type(None): "null"}


def _crashed(text: str, ctx: LintContext, exc: BaseException) -> LineResult:
    log.error("checking a line failed", exc_info=exc)
    found = (Finding("TL000", f"checking this line failed: {exc!r}",
                     ctx.severities.get("TL000", Severity.WARNING), 0, 0, 0, len(text)),)
    return LineResult(found if ctx.on("TL000") else (), width=len(text))


def check_lines(lines: list[str], ctx: LintContext) -> list[LineResult]:
    """Lint a block of lines; near-duplicate signatures are computed for the block at once."""
    results: list[LineResult] = []
    pending: list[int] = []
    docs: list[bytes] = []
    for text in lines:
        try:
            result, near_texts = _check_one(text, ctx)
        except Exception as exc:  # one odd line must not stop the file (TL000)
            result, near_texts = _crashed(text, ctx, exc), None
        if near_texts:
            pending.append(len(results))
            docs.append(near.text_of(near_texts))
        results.append(result)
    if pending:
        for i, sig in zip(pending, near.signatures(docs)):
            if sig is not None:
                results[i].signature, results[i].bands = sig
    return results


def check_line(text: str, ctx: LintContext) -> LineResult:
    return check_lines([text], ctx)[0]
