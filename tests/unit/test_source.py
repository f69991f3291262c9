"""source.py: bytes → lines (BOM, CRLF, invalid UTF-8, final newline), ranges for workers."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import pytest

from tuneline.lint import source
from tuneline.lint.findings import Severity
from tuneline.lint.source import (
    RangeReader,
    SourceStats,
    decode_line,
    file_findings,
    iter_lines,
    split_ranges,
    split_text,
)

# ----- split_text (editor buffers) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("", []),
        ("\n", [""]),
        ("a", ["a"]),
        ("a\n", ["a"]),
        ("a\nb", ["a", "b"]),
        ("a\nb\n", ["a", "b"]),
        ("a\n\nb\n", ["a", "", "b"]),
        ("a\r\nb\r\n", ["a", "b"]),
        ("a\r\nb", ["a", "b"]),
        ("\r\n", [""]),
        ("a\n\n", ["a", ""]),
        # only '\n' splits: U+2028 / U+0085 / a lone '\r' stay inside the line
        ("x\u2028y\n", ["x\u2028y"]),
        ("x\x85y", ["x\x85y"]),
        ("x\ry\n", ["x\ry"]),
    ],
)
def test_split_text(text: str, lines: list[str]) -> None:
    assert split_text(text) == lines


@pytest.mark.parametrize("text", ["", "\n", "a", "a\n", "a\r\nb", "\n\n", "x\ry\r\n", "é\n😀"])
def test_split_text_agrees_with_iter_lines(text: str) -> None:
    """The editor path and the file path see the same lines for the same content."""
    from_bytes = [t for t, _ in iter_lines(io.BytesIO(text.encode("utf-8")))]
    assert split_text(text) == from_bytes


# ----- decode_line ---------------------------------------------------------------------------


def test_decode_line_valid() -> None:
    assert decode_line("héllo 😀".encode(), 4) == ("héllo 😀", None)


@pytest.mark.parametrize(
    ("raw", "col", "byte", "hexed"),
    [
        (b"\xff", 0, 1, "ff"),
        (b'{"a": "caf\xe9"}', 10, 11, "e9"),
        # the column counts code points: 'é' is 2 bytes but 1 column
        ('{"é": "'.encode() + b"\xc3(" + b'"}', 7, 9, "c3"),
        # a truncated 4-byte sequence is reported once, at its first byte
        (b"ab\xf0\x9f\x98", 2, 3, "f0 9f 98"),
        # only the first bad sequence is reported
        (b"a\x80b\x80", 1, 2, "80"),
    ],
)
def test_decode_line_invalid(raw: bytes, col: int, byte: int, hexed: str) -> None:
    text, finding = decode_line(raw, 7)
    assert text == raw.decode("utf-8", "replace")
    assert finding is not None
    assert (finding.rule, finding.severity) == ("TL002", Severity.ERROR)
    assert (finding.line, finding.col, finding.end_line, finding.end_col) == (7, col, 7, col + 1)
    assert finding.message == (
        f"invalid UTF-8 at byte {byte} of the line (0x{hexed}); re-save the file as UTF-8"
    )
    assert text[col] == "\ufffd"


# ----- iter_lines ----------------------------------------------------------------------------

Expected = list[tuple[str, int | None]]  # (text, TL002 column or None)


def _lines(data: bytes, **kw: object) -> tuple[Expected, SourceStats]:
    stats = SourceStats()
    out = [(t, f.col if f else None) for t, f in iter_lines(io.BytesIO(data), stats, **kw)]  # type: ignore[arg-type]
    return out, stats


# (bytes, lines, bom, crlf_lines, line count, final_newline)
ITER_CASES: list[tuple[bytes, Expected, bool, int, int, bool]] = [
    (b"", [], False, 0, 0, True),
    (b"\n", [("", None)], False, 0, 1, True),
    (b"a", [("a", None)], False, 0, 1, False),
    (b"a\nb\n", [("a", None), ("b", None)], False, 0, 2, True),
    (b"a\nb", [("a", None), ("b", None)], False, 0, 2, False),
    (b"a\r\nb\r\n", [("a", None), ("b", None)], False, 2, 2, True),
    (b"a\r\nb\n", [("a", None), ("b", None)], False, 1, 2, True),
    (b"a\r\nb\r", [("a", None), ("b", None)], False, 1, 2, False),
    (b"\xef\xbb\xbf", [], True, 0, 0, True),
    (b"\xef\xbb\xbf{}\n", [("{}", None)], True, 0, 1, True),
    (b"\xef\xbb\xbf{}\r\n{}", [("{}", None), ("{}", None)], True, 1, 2, False),
    # a BOM anywhere but the start is content (U+FEFF)
    (b"a\n\xef\xbb\xbfb\n", [("a", None), ("\ufeffb", None)], False, 0, 2, True),
    (b"ok\n\xff\nok\n", [("ok", None), ("\ufffd", 0), ("ok", None)], False, 0, 3, True),
    (b"ok\r\nx\xe9\r\n", [("ok", None), ("x\ufffd", 1)], False, 2, 2, True),
    (b"ok\nlast \xe9", [("ok", None), ("last \ufffd", 5)], False, 0, 2, False),
    (b"\n\n", [("", None), ("", None)], False, 0, 2, True),
    # a lone CR is not a line break
    (b"a\rb\n", [("a\rb", None)], False, 0, 1, True),
    ("é😀\n".encode(), [("é😀", None)], False, 0, 1, True),
]


@pytest.mark.parametrize(("data", "lines", "bom", "crlf", "count", "final"), ITER_CASES)
def test_iter_lines(data: bytes, lines: Expected, bom: bool, crlf: int, count: int,
                    final: bool) -> None:
    got, stats = _lines(data)
    assert got == lines
    assert (stats.bom, stats.crlf_lines, stats.lines, stats.final_newline) == (
        bom, crlf, count, final)
    assert stats.size == len(data) - (3 if bom else 0)


@pytest.mark.parametrize("chunk", [1, 2, 3, 4, 5, 7, 64])
@pytest.mark.parametrize(("data", "lines", "bom", "crlf", "count", "final"), ITER_CASES)
def test_iter_lines_chunk_boundaries(monkeypatch: pytest.MonkeyPatch, chunk: int, data: bytes,
                                     lines: Expected, bom: bool, crlf: int, count: int,
                                     final: bool) -> None:
    """Tiny read chunks split lines, CRLF pairs and multi-byte characters: same result."""
    monkeypatch.setattr(source, "CHUNK_BYTES", chunk)
    got, stats = _lines(data)
    assert got == lines
    assert (stats.bom, stats.crlf_lines, stats.lines, stats.final_newline) == (
        bom, crlf, count, final)


def test_iter_lines_finding_line_numbers_and_first_line() -> None:
    data = b"ok\nbad \xfe\nok\n\xc0\n"
    found = [f for _, f in iter_lines(io.BytesIO(data), first_line=10) if f]
    assert [(f.line, f.col) for f in found] == [(11, 4), (13, 0)]


def test_iter_lines_not_at_start_keeps_bom_as_content() -> None:
    stats = SourceStats()
    got = [t for t, _ in iter_lines(io.BytesIO(b"\xef\xbb\xbfx\n"), stats, at_start=False)]
    assert got == ["\ufeffx"]
    assert not stats.bom


# ----- file_findings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stats", "expected"),
    [
        (SourceStats(lines=3), []),
        (SourceStats(), []),
        (SourceStats(bom=True, lines=1), [("TL003", 0, 0, 0, 1)]),
        (SourceStats(crlf_lines=4, lines=4), [("TL004", 0, 0, 0, 1)]),
        (SourceStats(final_newline=False, lines=5), [("TL005", 4, 0, 4, 0)]),
        # no lines at all: no "last line" to point at
        (SourceStats(final_newline=False, lines=0), []),
        (SourceStats(bom=True, crlf_lines=1, final_newline=False, lines=2),
         [("TL003", 0, 0, 0, 1), ("TL004", 0, 0, 0, 1), ("TL005", 1, 0, 1, 0)]),
    ],
)
def test_file_findings(stats: SourceStats, expected: list[tuple[str, int, int, int, int]]) -> None:
    got = file_findings(stats)
    assert [(f.rule, f.line, f.col, f.end_line, f.end_col) for f in got] == expected


def test_file_findings_messages_and_severities() -> None:
    got = {f.rule: f for f in file_findings(SourceStats(True, 2, 3, False, 10))}
    assert got["TL003"].severity == Severity.INFO
    assert got["TL004"].message.startswith("2 line(s) end with CRLF")
    assert got["TL004"].severity == Severity.INFO
    assert got["TL005"].message == "the last line has no trailing newline; some tools drop it"
    assert got["TL005"].severity == Severity.HINT


# ----- RangeReader / split_ranges ------------------------------------------------------------


def _write(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "f.jsonl"
    path.write_bytes(data)
    return str(path)


def test_range_reader_reads_only_its_range(tmp_path: Path) -> None:
    path = _write(tmp_path, b"0123456789")
    reader = RangeReader(path, 2, 7)
    try:
        assert reader.read(2) == b"23"
        assert reader.read(100) == b"456"
        assert reader.read(5) == b""
    finally:
        reader.close()
    reader = RangeReader(path, 3, 10)
    try:
        assert reader.read() == b"3456789"
        assert reader.read() == b""
    finally:
        reader.close()


@pytest.mark.parametrize(
    ("data", "parts"),
    [
        (b"", 4),
        (b"no newline at all", 3),
        (b"a\n", 1),
        (b"a\n", 5),
        (b"a\nb\nc\nd\n", 2),
        (b"a\nb\nc\nd\n", 4),
        (b"a\nb\nc\nd\n", 16),
        (b"\xef\xbb\xbfa\r\nbb\r\nccc\r\ndddd", 3),
        (b"".join(b"line %d\n" % i for i in range(1000)), 7),
        (b"x" * 500 + b"\n" + b"y" * 3 + b"\n", 4),  # one huge line swallows several cuts
    ],
)
def test_split_ranges(tmp_path: Path, data: bytes, parts: int) -> None:
    path = _write(tmp_path, data)
    ranges = split_ranges(path, parts)
    assert 1 <= len(ranges) <= parts
    assert ranges[0][0] == 0
    assert ranges[-1][1] == len(data)
    for (_, end), (start, _) in itertools.pairwise(ranges):
        assert end == start
        assert data[start - 1 : start] == b"\n"  # every cut is just after a newline
    for start, end in ranges:
        assert start < end or len(data) == 0
    # the lines of the pieces, concatenated, are the lines of the file
    whole = [t for t, _ in iter_lines(io.BytesIO(data))]
    pieces: list[str] = []
    for start, end in ranges:
        reader = RangeReader(path, start, end)
        try:
            pieces.extend(t for t, _ in iter_lines(reader, at_start=start == 0))  # type: ignore[arg-type]
        finally:
            reader.close()
    assert pieces == whole


def test_split_ranges_roughly_equal(tmp_path: Path) -> None:
    data = b"".join(b"%08d\n" % i for i in range(10_000))  # 9 bytes a line
    path = _write(tmp_path, data)
    sizes = [b - a for a, b in split_ranges(path, 4)]
    assert len(sizes) == 4
    assert max(sizes) - min(sizes) <= 18
