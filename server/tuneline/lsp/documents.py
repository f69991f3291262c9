"""Open documents: the editor's text as a list of lines, kept in step with incremental edits.

An LSP change (a range in client units plus new text) becomes a splice of the line list and
an `Edit` of the *dataset* lines (the same lines without '\\r', minus the empty line after a
final newline), which `Dataset.replace` applies re-checking only the new lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from tuneline.lsp.convert import UTF16, from_client

if TYPE_CHECKING:
    from tuneline.lint.context import LintContext
    from tuneline.lint.dataset import Dataset

CONFIG_NAMES = ("tuneline.toml", "pyproject.toml")
DATA_LANGUAGES = frozenset({"jsonl", "jsonlines", "json-lines"})

Position = tuple[int, int]  # (line, character in client units)


def uri_to_path(uri: str) -> str | None:
    """The filesystem path of a file: URI (None for untitled: and other schemes)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = unquote(parsed.path)
    if len(path) > 2 and path[0] == "/" and path[2] == ":":  # file:///C:/x on Windows
        path = path[1:]
    return path


def kind_of(uri: str, language_id: str | None = None) -> str:
    """'data' for JSONL datasets, 'config' for tuneline.toml / pyproject.toml, else 'other'."""
    name = urlparse(uri).path.rsplit("/", 1)[-1]
    if name.endswith(".jsonl") or (language_id or "").lower() in DATA_LANGUAGES:
        return "data"
    if name in CONFIG_NAMES:
        return "config"
    return "other"


def _content(line: str) -> str:
    return line[:-1] if line.endswith("\r") else line


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace dataset lines [start, end) with `lines`."""

    start: int
    end: int
    lines: list[str]


class Document:
    """One open text document: lines split on '\\n' (a CRLF line keeps its '\\r')."""

    def __init__(self, uri: str, text: str, version: int | None = None,
                 language_id: str | None = None, encoding: str = UTF16) -> None:
        self.uri = uri
        self.path = uri_to_path(uri)
        self.version = version
        self.language_id = language_id
        self.encoding = encoding
        self.kind = kind_of(uri, language_id)
        self.lint: DataState | None = DataState() if self.kind == "data" else None
        self.lines: list[str] = text.split("\n")
        self.crlf = sum(1 for line in self.lines if line.endswith("\r"))

    # ----- reading --------------------------------------------------------------------
    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def data_len(self) -> int:
        """Number of dataset lines (the empty line after a final newline is not one)."""
        return len(self.lines) - (1 if self.lines[-1] == "" else 0)

    @property
    def final_newline(self) -> bool:
        return self.lines[-1] == "" or self.data_len == 0

    def data_line(self, i: int) -> str:
        """Dataset line `i` (no '\\r'); '' past the end."""
        return _content(self.lines[i]) if 0 <= i < len(self.lines) else ""

    def data_lines(self) -> list[str]:
        n = self.data_len
        if not self.crlf:
            return self.lines[:n]
        return [_content(line) for line in self.lines[:n]]

    def position(self, pos: Position) -> Position:
        """A client position as (line, code-point column), clamped into the document."""
        line, units = pos
        if line < 0:
            return 0, 0
        if line >= len(self.lines):
            last = len(self.lines) - 1
            return last, len(_content(self.lines[last]))
        return line, from_client(_content(self.lines[line]), units, self.encoding)

    # ----- editing --------------------------------------------------------------------
    def replace_all(self, text: str) -> Edit:
        """A full-text change."""
        before = self.data_len
        self.lines = text.split("\n")
        self.crlf = sum(1 for line in self.lines if line.endswith("\r"))
        return Edit(0, before, self.data_lines())

    def apply(self, start: Position, end: Position, text: str) -> Edit:
        """Apply an incremental change (client-unit range) and return the dataset edit."""
        (sl, sc), (el, ec) = sorted((self.position(start), self.position(end)))
        lines = self.lines
        new = (lines[sl][:sc] + text + lines[el][ec:]).split("\n")
        before = self.data_len
        self.crlf += _count_cr(new) - _count_cr(lines[sl:el + 1])
        lines[sl:el + 1] = new
        after = self.data_len
        stop = min(sl + len(new), after)
        return Edit(sl, min(el + 1, before), [_content(x) for x in lines[sl:stop]])


def _count_cr(lines: Sequence[str]) -> int:
    return sum(1 for line in lines if line.endswith("\r"))


@dataclass
class DataState:
    """The Dataset of one data document, in step with its text.

    While a (re)build runs off the event loop, `pending` collects the edits made meanwhile;
    they are applied in order when the build is installed.
    """

    ds: Dataset | None = None
    ctx: LintContext | None = None
    pending: list[Edit] | None = None
    generation: int = 0
    error: str | None = None
    edits_applied: int = 0

    @property
    def ready(self) -> bool:
        return self.ds is not None and self.pending is None

    def apply(self, edit: Edit) -> None:
        if self.pending is not None:
            self.pending.append(edit)
        elif self.ds is not None:
            self.replace(edit)

    def replace(self, edit: Edit) -> None:
        assert self.ds is not None
        self.ds.replace(edit.start, edit.end, edit.lines)
        self.edits_applied += 1

    def begin_build(self) -> int:
        """Start a rebuild: later edits queue until `install`; returns its generation."""
        self.generation += 1
        self.pending = []
        return self.generation

    def install(self, generation: int, ds: Dataset) -> bool:
        """Install a finished build (False when a newer build superseded it)."""
        if generation != self.generation or self.pending is None:
            return False
        queued, self.pending = self.pending, None
        self.ds, self.ctx, self.error = ds, ds.ctx, None
        for edit in queued:
            self.replace(edit)
        return True
