"""Printing findings: text (like ruff), json (the contract), sarif 2.1.0, github annotations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tuneline import __version__
from tuneline.lint import OUTPUT_FORMATS
from tuneline.lint.api import FileReport, Problem
from tuneline.lint.dataset import Summary
from tuneline.lint.rules import REGISTRY

FORMATS = OUTPUT_FORMATS


def render(reports: Sequence[FileReport], fmt: str) -> str:
    problems = [p for r in reports for p in r.problems()]
    return {"text": _text, "json": _json, "sarif": _sarif, "github": _github}[fmt](problems)


def _text(problems: list[Problem]) -> str:
    lines = [f"{p.path}:{p.line}:{p.column}: {p.rule} [{p.severity}] {p.message}" for p in problems]
    counts = {s: sum(p.severity == s for p in problems) for s in ("error", "warning", "info", "hint")}
    tail = ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items() if n)
    lines.append(f"Found {tail}." if tail else "All checks passed.")
    return "\n".join(lines)


def _json(problems: list[Problem]) -> str:
    return json.dumps([p.to_json() for p in problems], ensure_ascii=False, indent=2)


_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note", "hint": "note"}


def _sarif(problems: list[Problem]) -> str:
    used = sorted({p.rule for p in problems})
    rules = [{
        "id": rid,
        "name": REGISTRY[rid].name,
        "shortDescription": {"text": REGISTRY[rid].summary},
        "fullDescription": {"text": f"{REGISTRY[rid].why} Fix: {REGISTRY[rid].fix}"},
        "defaultConfiguration": {"level": _SARIF_LEVEL[REGISTRY[rid].severity.label]},
    } for rid in used if rid in REGISTRY]
    index = {r["id"]: i for i, r in enumerate(rules)}
    results: list[dict[str, Any]] = []
    for p in problems:
        result: dict[str, Any] = {
            "ruleId": p.rule,
            "level": _SARIF_LEVEL[p.severity],
            "message": {"text": p.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": p.path.replace("\\", "/")},
                "region": {"startLine": p.line, "startColumn": p.column,
                           "endLine": p.end_line, "endColumn": p.end_column},
            }}],
        }
        if p.rule in index:
            result["ruleIndex"] = index[p.rule]
        results.append(result)
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "tuneline", "version": __version__,
                                      "informationUri": "https://pypi.org/project/tuneline/",
                                      "rules": rules}},
                  "results": results}],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)


def _escape_property(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A").replace(
        ":", "%3A").replace(",", "%2C")


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


_GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice", "hint": "notice"}


def _github(problems: list[Problem]) -> str:
    return "\n".join(
        f"::{_GITHUB_LEVEL[p.severity]} file={_escape_property(p.path)},line={p.line},"
        f"endLine={p.end_line},col={p.column},endColumn={p.end_column},"
        f"title={_escape_property(p.rule)}::{_escape_data(p.message)}"
        for p in problems
    )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def render_summary(path: str, s: Summary) -> str:
    """The human-readable dataset summary of `tuneline stats`."""

    def dist(d: dict[str, float]) -> str:
        if not d:
            return "n/a"
        return (f"min {d['min']:,}  median {d['median']:,}  p90 {d['p90']:,}  max {d['max']:,}"
                f"  mean {d['mean']:,}")

    rows = [
        f"{path}",
        f"  examples            {s.examples:,} ({s.lines:,} lines), format {s.format or 'unknown'}",
        f"  problems            {_count(s.errors, 'error')}, {_count(s.warnings, 'warning')}",
        f"  messages/example    {dist(s.messages)}",
        f"  tokens/example      {dist(s.tokens)}  ({s.model})",
        f"  total tokens        {s.total_tokens:,}" if s.total_tokens is not None else "",
        f"  over the limit      {s.over_limit:,} example(s) over {s.limit:,} tokens",
    ]
    if s.epochs is not None:
        rows.append(f"  OpenAI estimate     {s.epochs} epochs, ~{s.billed_tokens:,} billed "
                    "training tokens")
    return "\n".join(r for r in rows if r)
