"""Columns: the lint core's code points ↔ the client's position encoding (UTF-16 by default).

LSP counts characters in the negotiated `positionEncoding`: UTF-16 code units unless the
client offered "utf-8" or "utf-32". An emoji is one code point, two UTF-16 units and four
UTF-8 bytes; ASCII lines (the common case) are converted for free.
"""

from __future__ import annotations

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"
SUPPORTED = (UTF8, UTF16, UTF32)


def choose_encoding(offered: list[str] | None) -> str:
    """The client's first supported preference, else UTF-16 (the LSP default)."""
    for enc in offered or ():
        if enc in SUPPORTED:
            return enc
    return UTF16


def _width(text: str, encoding: str) -> int:
    if encoding == UTF16:
        return len(text.encode("utf-16-le", "surrogatepass")) // 2
    return len(text.encode("utf-8", "surrogatepass"))


def to_client(text: str, col: int, encoding: str) -> int:
    """Code-point column `col` of `text` in the client's units (col clamped to the line)."""
    col = min(max(col, 0), len(text))
    if encoding == UTF32 or text.isascii():
        return col
    return _width(text[:col], encoding)


def from_client(text: str, units: int, encoding: str) -> int:
    """Client-unit column → code-point column; a column inside a character rounds down."""
    units = max(units, 0)
    if encoding == UTF32 or text.isascii():
        return min(units, len(text))
    if encoding == UTF16:
        prefix = text.encode("utf-16-le", "surrogatepass")[: 2 * units]
        decoded = prefix.decode("utf-16-le", "surrogatepass")
        n = len(decoded)
        # a cut between the halves of a surrogate pair leaves a lone high surrogate
        return n - 1 if n and decoded[-1] != text[n - 1] else n
    raw = text.encode("utf-8", "surrogatepass")[:units]
    try:
        return len(raw.decode("utf-8", "surrogatepass"))
    except UnicodeDecodeError as exc:  # the cut fell inside a multi-byte character
        return len(raw[: exc.start].decode("utf-8", "surrogatepass"))


def client_length(text: str, encoding: str) -> int:
    """The length of `text` in client units."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    return _width(text, encoding)
