"""Bytes to lines: BOM, CRLF, invalid UTF-8 and blank lines, streamed in bounded chunks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from tuneline.lint.findings import Finding, Severity

BOM = b"\xef\xbb\xbf"
CHUNK_BYTES = 8 << 20


@dataclass(slots=True)
class SourceStats:
    """What streaming a file observed about its bytes as a whole."""

    bom: bool = False
    crlf_lines: int = 0
    lines: int = 0
    final_newline: bool = True
    size: int = 0


def split_text(text: str) -> list[str]:
    """Split editor text into lines on '\\n' only (JSON strings may hold U+2028), dropping '\\r'.

    Lines as `iter_lines` sees the same bytes: an empty text has no lines, "\\n" has one.
    """
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def decode_line(raw: bytes, line_no: int) -> tuple[str, Finding | None]:
    """Decode one line; invalid UTF-8 becomes an error at the offending byte's column."""
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        col = len(raw[: exc.start].decode("utf-8", "replace"))
        bad = raw[exc.start : exc.end].hex(" ")
        finding = Finding(
            "TL002",
            f"invalid UTF-8 at byte {exc.start + 1} of the line (0x{bad}); "
            "re-save the file as UTF-8",
            Severity.ERROR,
            line_no,
            col,
            line_no,
            col + 1,
        )
        return raw.decode("utf-8", "replace"), finding


def iter_lines(
    stream: BinaryIO, stats: SourceStats | None = None, at_start: bool = True, first_line: int = 0
) -> Iterator[tuple[str, Finding | None]]:
    """Yield (text, byte-level finding or None) per line, reading bounded chunks.

    Memory stays at one chunk plus the longest line; every byte is read once.
    File-level observations (BOM, CRLF, final newline) land in `stats`; see `file_findings`.
    """
    stats = stats if stats is not None else SourceStats()
    line_no = first_line
    rest = b""
    first = at_start
    while True:
        chunk = stream.read(CHUNK_BYTES)
        if first:
            first = False
            while 0 < len(chunk) < len(BOM) and BOM.startswith(chunk):  # a short first read
                more = stream.read(CHUNK_BYTES)
                if not more:
                    break
                chunk += more
            if chunk.startswith(BOM):
                stats.bom = True
                chunk = chunk[len(BOM) :]
                if not chunk:  # the first read held just the BOM: the file may go on
                    continue
        if not chunk:
            break
        stats.size += len(chunk)
        data = rest + chunk if rest else chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            rest = data
            continue
        block, rest = data[: cut + 1], data[cut + 1 :]
        stats.crlf_lines += block.count(b"\r\n")
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError:
            for raw in block.split(b"\n")[:-1]:
                yield decode_line(raw.removesuffix(b"\r"), line_no)
                line_no += 1
            stats.lines = line_no - first_line
            continue
        parts = text.split("\n")
        parts.pop()
        for part in parts:
            yield (part[:-1] if part.endswith("\r") else part), None
            line_no += 1
        stats.lines = line_no - first_line
    if rest:
        stats.final_newline = False
        stats.lines = line_no + 1 - first_line
        yield decode_line(rest.removesuffix(b"\r"), line_no)


def file_findings(stats: SourceStats) -> list[Finding]:
    """Informational findings about the file as a whole (placed on line 0 or the last line)."""
    found: list[Finding] = []
    if stats.bom:
        found.append(
            Finding("TL003", "file starts with a UTF-8 byte-order mark; most JSONL readers "
                    "tolerate it but some uploaders reject it", Severity.INFO, 0, 0, 0, 1)
        )
    if stats.crlf_lines:
        found.append(
            Finding("TL004", f"{stats.crlf_lines} line(s) end with CRLF; JSONL readers accept it, "
                    "but LF keeps diffs clean", Severity.INFO, 0, 0, 0, 1)
        )
    if not stats.final_newline and stats.lines:
        last = stats.lines - 1
        found.append(
            Finding("TL005", "the last line has no trailing newline; some tools drop it",
                    Severity.HINT, last, 0, last, 0)
        )
    return found


class RangeReader:
    """A read-only view of bytes [start, end) of a file (one worker's share of a big file)."""

    def __init__(self, path: str, start: int, end: int) -> None:
        self._fh = open(path, "rb")  # noqa: SIM115  (closed by close())
        self._fh.seek(start)
        self._left = end - start

    def read(self, n: int = -1) -> bytes:
        n = self._left if n < 0 else min(n, self._left)
        data = self._fh.read(n)
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._fh.close()


def split_ranges(path: str, parts: int) -> list[tuple[int, int]]:
    """Byte ranges covering the file, cut just after a newline, about equal in size."""
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        cuts = [0]
        for k in range(1, parts):
            fh.seek(max(cuts[-1], size * k // parts))
            fh.readline()
            pos = fh.tell()
            if pos >= size:
                break
            if pos > cuts[-1]:
                cuts.append(pos)
        cuts.append(size)
    return list(zip(cuts, cuts[1:]))
