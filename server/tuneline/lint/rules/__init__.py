"""The rule registry: every rule's id, default severity, and documentation in one place.

Rule families live in sibling modules; importing `tuneline.lint.rules.all` registers them all.
A line check is a function (example, ctx) -> iterable of `Hit`; dataset rules are computed by
`tuneline.lint.dataset` from the per-line cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tuneline.lint.findings import Hit, Severity

if TYPE_CHECKING:
    from tuneline.lint.context import LintContext
    from tuneline.lint.example import Example


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule's identity and documentation (what it checks, why it matters, how to fix)."""

    id: str
    name: str
    severity: Severity
    summary: str
    why: str
    fix: str
    scope: str = "line"  # line | dataset | file
    enabled: bool = True


LineCheck = Callable[["Example", "LintContext"], Iterable[Hit]]

REGISTRY: dict[str, Rule] = {}
LINE_CHECKS: list[tuple[frozenset[str], LineCheck]] = []


def rule(
    id: str,
    name: str,
    severity: Severity,
    summary: str,
    why: str,
    fix: str,
    scope: str = "line",
    enabled: bool = True,
) -> Rule:
    """Register a rule; ids are unique and stable."""
    if id in REGISTRY:
        raise ValueError(f"duplicate rule id {id}")
    r = Rule(id, name, severity, summary, why, fix, scope, enabled)
    REGISTRY[id] = r
    return r


def line_check(*rules: Rule) -> Callable[[LineCheck], LineCheck]:
    """Register a line check that may report any of `rules` (skipped when all are off)."""

    def register(fn: LineCheck) -> LineCheck:
        LINE_CHECKS.append((frozenset(r.id for r in rules), fn))
        return fn

    return register


def resolve(token: str) -> list[Rule]:
    """Rules named by an id, an id prefix ("TL2"), a name, or "ALL"."""
    token = token.strip()
    if token.upper() == "ALL":
        return list(REGISTRY.values())
    by_name = [r for r in REGISTRY.values() if r.name == token]
    if by_name:
        return by_name
    return [r for r in REGISTRY.values() if r.id.startswith(token.upper())]
