"""Findings → LSP diagnostics, serialised straight to JSON text.

A 100,000-line file can carry many diagnostics and every publish re-sends all of them, so the
JSON of each diagnostic (everything but its line numbers) is memoised per finding object: the
lint core caches findings per line text, so after an edit only new lines' findings are encoded.
Columns are converted to the client's position encoding here.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tuneline.lint.findings import Finding, Related, Severity
from tuneline.lint.rules import REGISTRY
from tuneline.lsp.convert import UTF32, client_length, to_client
from tuneline.lsp.documents import Document
from tuneline.lsp.linting import config_findings

PUBLISH_DIAGNOSTICS = "textDocument/publishDiagnostics"

SOURCE = "tuneline"
DEFAULT_DOCS_URL = "https://github.com/tuneline/tuneline/blob/main/README.md#rules"
UNNECESSARY = 1  # DiagnosticTag.Unnecessary: the editor fades the range
_FADED = frozenset({"TL501", "TL006"})


def docs_url(rule_id: str, base: str | None = None) -> str:
    """Where a rule is documented: `base` ({id}/{name} placeholders allowed) or the README."""
    base = base or os.environ.get("TUNELINE_DOCS_URL") or DEFAULT_DOCS_URL
    rule = REGISTRY.get(rule_id)
    return base.format(id=rule_id, rule=rule_id.lower(), name=rule.name if rule else rule_id)


def line_hash(text: str) -> str:
    """A short fingerprint of a line: quick fixes check it before editing (stale guard)."""
    return format(zlib.crc32(text.encode("utf-8", "surrogatepass")), "08x")


class DiagnosticEncoder:
    """Encodes one document's findings as a JSON array of LSP Diagnostic objects."""

    def __init__(self, uri: str, encoding: str, docs_base: str | None = None) -> None:
        self.uri = uri
        self.encoding = encoding
        self.docs_base = docs_base
        # id(finding) -> (finding, line, line text, JSON, start, end, tail); the entry keeps
        # the finding alive, so its id cannot be reused while the entry exists.
        self._memo: dict[int, _Entry] = {}

    def encode(self, placed: Iterable[tuple[int, Finding]], line: Callable[[int], str]) -> str:
        """JSON array of diagnostics for (line offset, finding) pairs; `line(i)` gives text."""
        memo = self._memo
        used: dict[int, _Entry] = {}
        parts: list[str] = []
        for off, f in placed:
            first = f.line + off
            text = line(first)
            entry = memo.get(id(f))
            if entry is None or not (entry[2] is text or entry[2] == text):
                entry = self._entry(f, off, first, text, line)
            elif entry[1] != first:  # same text, moved to another line
                entry = (f, first, text, _json(first, f.end_line + off, *entry[4:]), *entry[4:])
            used[id(f)] = entry
            parts.append(entry[3])
        self._memo = used
        return "[" + ",".join(parts) + "]"

    def _entry(self, f: Finding, off: int, first: int, text: str,
               line: Callable[[int], str]) -> _Entry:
        if self.encoding == UTF32:
            start, end = f.col, f.end_col
        else:
            start = to_client(text, f.col, self.encoding)
            end_text = text if f.end_line == f.line else line(f.end_line + off)
            end = to_client(end_text, f.end_col, self.encoding)
        tail = self._tail(f, text, line)
        return (f, first, text, _json(first, f.end_line + off, start, end, tail), start, end, tail)

    def _tail(self, f: Finding, text: str, line: Callable[[int], str]) -> str:
        """Everything after the range: severity, code, link, message, data, related."""
        out = f',"severity":{int(f.severity)}'
        if f.rule:  # a real rule (the "more problems" note has none)
            data: dict[str, object] = {"rule": f.rule, "hash": line_hash(text)}
            if f.data:
                data["fix"] = f.data
            out += (f',"code":{json.dumps(f.rule)},"codeDescription":'
                    f'{{"href":{json.dumps(docs_url(f.rule, self.docs_base))}}},"data":{json.dumps(data)}')
        out += f',"source":"{SOURCE}","message":{json.dumps(f.message)}'
        if f.related:
            out += ',"relatedInformation":' + json.dumps([self._related(r, line) for r in f.related])
        if f.rule in _FADED:
            out += f',"tags":[{UNNECESSARY}]'
        return out + "}"

    def _related(self, r: Related, line: Callable[[int], str]) -> dict[str, object]:
        text = line(r.line)
        if r.col == r.end_col == 0:  # the whole line
            start, end = 0, client_length(text, self.encoding)
        else:
            start = to_client(text, r.col, self.encoding)
            end = to_client(text, r.end_col, self.encoding)
        rng = {"start": {"line": r.line, "character": start},
               "end": {"line": r.line, "character": end}}
        return {"location": {"uri": self.uri, "range": rng}, "message": r.message}


_Entry = tuple[Finding, int, str, str, int, int, str]


def _json(first: int, last: int, start: int, end: int, tail: str) -> str:
    return (f'{{"range":{{"start":{{"line":{first},"character":{start}}},'
            f'"end":{{"line":{last},"character":{end}}}}}{tail}')


def limit(placed: list[tuple[int, Finding]], most: int) -> list[tuple[int, Finding]]:
    """At most `most` findings, the most severe first, plus one note saying how many are not
    shown (a file with 100,000 problems makes every publish megabytes long)."""
    if len(placed) <= most:
        return placed
    by_severity: dict[int, list[tuple[int, Finding]]] = {1: [], 2: [], 3: [], 4: []}
    for item in placed:
        by_severity.setdefault(int(item[1].severity), []).append(item)
    kept: list[tuple[int, Finding]] = []
    for severity in sorted(by_severity):
        kept.extend(by_severity[severity][: most - len(kept)])
    note = Finding("", f"{len(placed) - len(kept):,} more problems are not shown here "
                   f"(tuneline.maxDiagnostics = {most:,}); `tuneline lint` lists them all",
                   Severity.INFO, 0, 0, 0, 0)
    kept.append((0, note))
    return kept


def publish_params(uri: str, version: int | None, diagnostics_json: str) -> str:
    """The params of textDocument/publishDiagnostics as JSON text."""
    v = "" if version is None else f',"version":{version}'
    return f'{{"uri":{json.dumps(uri)}{v},"diagnostics":{diagnostics_json}}}'


def full_report(result_id: str, diagnostics_json: str) -> str:
    """A full document diagnostic report (the answer to textDocument/diagnostic)."""
    return f'{{"kind":"full","resultId":{json.dumps(result_id)},"items":{diagnostics_json}}}'


def unchanged_report(result_id: str) -> str:
    return f'{{"kind":"unchanged","resultId":{json.dumps(result_id)}}}'


def count_severities(placed: Sequence[tuple[int, Finding]]) -> dict[int, int]:
    """Findings per severity (1 error … 4 hint)."""
    counts = {1: 0, 2: 0, 3: 0, 4: 0}
    for _, f in placed:
        counts[int(f.severity)] = counts.get(int(f.severity), 0) + 1
    return counts


class Publisher:
    """Pushes (or serves by pull) each document's diagnostics, debounced while edits arrive.

    Debounce is leading-edge: an edit after a quiet spell publishes at once; further edits
    within `debounce_ms` of that publish are coalesced into one publish at the end of it.
    """

    def __init__(self, server: Any) -> None:
        self.server = server
        self._encoders: dict[str, DiagnosticEncoder] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._last: dict[str, float] = {}
        self._pushed: set[str] = set()
        self.counts: dict[str, dict[int, int]] = {}
        self.published = 0

    # ----- scheduling -----------------------------------------------------------------
    def changed(self, doc: Document) -> None:
        """The document changed (an edit): publish now or at the end of the debounce."""
        if self.server.pull_mode or doc.uri in self._timers:
            return
        wait = self._last.get(doc.uri, 0.0) + self.server.settings.debounce_ms / 1000 - time.monotonic()
        if wait <= 0:
            self.publish(doc)
        else:
            self._timers[doc.uri] = self.server.loop.call_later(wait, self._flush, doc.uri)

    def ready(self, doc: Document) -> None:
        """Linting finished off the edit path (open, config change): publish or ask to pull."""
        if self.server.pull_mode:
            self.server.refresh_diagnostics()
        else:
            self.publish(doc)

    def _flush(self, uri: str) -> None:
        self._timers.pop(uri, None)
        doc = self.server.docs.get(uri)
        if doc is not None:
            self.publish(doc)

    # ----- encoding -------------------------------------------------------------------
    def encoder(self, uri: str) -> DiagnosticEncoder:
        enc = self._encoders.get(uri)
        if enc is None:
            enc = self._encoders[uri] = DiagnosticEncoder(uri, self.server.encoding,
                                                          self.server.docs_url)
        return enc

    def diagnostics_json(self, doc: Document) -> str | None:
        """The document's diagnostics as a JSON array (None while its lint is building)."""
        if doc.kind == "config":
            placed = [(0, f) for f in config_findings(doc)]
        else:
            found = self.server.linter.placed(doc)
            if found is None:
                return None
            placed = found
        self.counts[doc.uri] = count_severities(placed)
        shown = limit(placed, self.server.settings.max_diagnostics)
        return self.encoder(doc.uri).encode(shown, doc.data_line)

    def publish(self, doc: Document) -> None:
        """Push the document's current diagnostics, tagged with its version."""
        timer = self._timers.pop(doc.uri, None)
        if timer is not None:
            timer.cancel()
        if self.server.pull_mode:
            return  # the client pulls open documents
        body = self.diagnostics_json(doc)
        if body is None:
            return  # published when the build is installed
        self._last[doc.uri] = time.monotonic()
        self.push(doc.uri, doc.version, body)

    def push(self, uri: str, version: int | None, body: str) -> None:
        self.server.send_notification_json(PUBLISH_DIAGNOSTICS, publish_params(uri, version, body))
        self.published += 1
        if body == "[]":
            self._pushed.discard(uri)
        else:
            self._pushed.add(uri)

    def clear(self, uri: str) -> None:
        """Remove pushed diagnostics of `uri` (a closed or deleted file)."""
        timer = self._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        if uri in self._pushed:
            self.push(uri, None, "[]")

    def forget(self, uri: str) -> None:
        self._encoders.pop(uri, None)
        self._last.pop(uri, None)
        self.counts.pop(uri, None)

    # ----- pull -----------------------------------------------------------------------
    async def pull(self, doc: Document, previous: str | None) -> str:
        """The JSON report for textDocument/diagnostic (waits for a running build)."""
        if doc.kind == "data":
            await self.server.linter.ready(doc)
        state = doc.lint
        result_id = f"{doc.version}.{state.generation if state else 0}.{self.server.settings_generation}"
        if previous == result_id:
            return unchanged_report(result_id)
        body = self.diagnostics_json(doc)
        return full_report(result_id, body if body is not None else "[]")
