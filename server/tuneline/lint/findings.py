"""Findings: what a rule reports, where, and how bad it is."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import Any


class Severity(IntEnum):
    """Severities, numbered as LSP's DiagnosticSeverity."""

    ERROR = 1
    WARNING = 2
    INFO = 3
    HINT = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(
                f"'{text}' is not a severity (error, warning, info, hint)"
            ) from None


@dataclass(frozen=True, slots=True)
class Related:
    """A second place a finding points at (e.g. the first copy of a duplicate)."""

    line: int  # 0-based
    col: int
    end_col: int
    message: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem. Lines and columns are 0-based; columns count code points; end is exclusive.

    Findings cached for a line carry line 0 and are placed with `at(line)` when published.
    """

    rule: str
    message: str
    severity: Severity
    line: int = 0
    col: int = 0
    end_line: int = 0
    end_col: int = 0
    data: dict[str, Any] | None = None
    related: tuple[Related, ...] = field(default=())

    def at(self, line: int) -> Finding:
        """This finding moved to `line` (for line-relative cached findings)."""
        if line == self.line:
            return self
        return replace(self, line=line, end_line=line + (self.end_line - self.line))

    def with_severity(self, severity: Severity) -> Finding:
        return self if severity == self.severity else replace(self, severity=severity)

    def sort_key(self) -> tuple[int, int, str]:
        return (self.line, self.col, self.rule)


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule's report before placement: the JSON path it concerns, not yet a column.

    `path` None means the whole line; `key` underlines the key instead of the value.
    `data` travels to the editor as diagnostic data, so quick fixes need no re-lint.
    `severity` lets one rule report a milder case (a config override still wins).
    """

    rule: str
    message: str
    path: tuple[str | int, ...] | None = None
    key: bool = False
    data: dict[str, Any] | None = None
    severity: Severity | None = None
