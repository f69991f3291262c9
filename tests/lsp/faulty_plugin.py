"""A plugin for the robustness tests: a rule that raises, and a format detector that raises."""

from __future__ import annotations

from typing import Any

from tuneline.lint import formats
from tuneline.lint.findings import Hit, Severity
from tuneline.lint.rules import line_check, rule

BOOM = rule("TL990", "test-boom", Severity.WARNING, "A test rule that raises on 'boom'.",
            "Robustness test.", "Nothing to fix.")
_detect = formats.detect


@line_check(BOOM)
def boom(ex: Any, ctx: Any) -> list[Hit]:
    if any("boom" in (m.text or "") for m in ex.messages):
        raise RuntimeError("boom")
    return []


def detect(record: dict[str, Any]) -> str | None:
    if record.get("kaboom"):
        raise ValueError("kaboom")
    return _detect(record)


formats.detect = detect
