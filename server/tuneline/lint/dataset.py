"""A whole file's lint state: per-line results cached by line text, dataset rules on top.

`replace(start, end, new_lines)` re-checks only the new lines (others come from the cache)
and keeps the duplicate counters and the near-duplicate index up to date incrementally, so
an edit costs work proportional to the edit plus one cheap pass to place findings.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tuneline.lint.check import LineResult, check_lines
from tuneline.lint.context import LintContext
from tuneline.lint.findings import Finding, Related, Severity
from tuneline.lint.near import NearIndex
from tuneline.lint.tokens import epochs_and_billing

_CACHE_SLACK = 2


@dataclass
class Summary:
    """The dataset at a glance (what `tuneline stats` prints and the code lens shows)."""

    examples: int = 0
    lines: int = 0
    format: str | None = None
    errors: int = 0
    warnings: int = 0
    messages: dict[str, float] = field(default_factory=dict)
    tokens: dict[str, float] = field(default_factory=dict)
    total_tokens: int | None = None
    over_limit: int = 0
    limit: int = 0
    model: str = ""
    epochs: int | None = None
    billed_tokens: int | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def distribution(values: list[int]) -> dict[str, float]:
    """min / median / p90 / max / mean of a list (empty dict for no values)."""
    if not values:
        return {}
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return {"min": ordered[0], "median": statistics.median(ordered), "p90": p90,
            "max": ordered[-1], "mean": round(sum(ordered) / len(ordered), 1)}


class Dataset:
    """Per-line results for one document plus incrementally maintained dataset indexes."""

    def __init__(self, ctx: LintContext, keep_text: bool = True) -> None:
        self.ctx = ctx
        self.keep_text = keep_text
        self.lines: list[str] = []
        self.results: list[LineResult] = []
        self.extra: list[Finding] = []  # byte/file-level findings placed by the caller
        self._cache: dict[str, LineResult] = {}
        self._dups: Counter[bytes] = Counter()
        self._formats: Counter[str] = Counter()
        self._near = NearIndex(ctx.config.near_duplicate_threshold)

    # ----- updating -------------------------------------------------------------------
    def set_lines(self, lines: list[str]) -> None:
        self.replace(0, len(self.results), lines)

    def append(self, lines: list[str]) -> None:
        """Add lines at the end (streaming a file block by block)."""
        self.replace(len(self.results), len(self.results), lines)

    def extend_results(self, results: list[LineResult]) -> None:
        """Append results checked elsewhere (a worker process), without their text."""
        for r in results:
            self._remember(r)
        self.results.extend(results)

    def replace(self, start: int, end: int, new_lines: list[str]) -> list[LineResult]:
        """Replace lines [start, end) with `new_lines`; returns the new lines' results."""
        for old in self.results[start:end]:
            self._forget(old)
        fresh = self._results_for(new_lines)
        for r in fresh:
            self._remember(r)
        self.results[start:end] = fresh
        if self.keep_text:
            self.lines[start:end] = new_lines
            if len(self._cache) > _CACHE_SLACK * max(1024, len(self.lines)):
                self._cache = dict(zip(self.lines, self.results))
        return fresh

    def _results_for(self, lines: list[str]) -> list[LineResult]:
        if not self.keep_text:
            return check_lines(lines, self.ctx)
        cache = self._cache
        missing = [t for t in dict.fromkeys(lines) if t not in cache]
        if missing:
            for text, result in zip(missing, check_lines(missing, self.ctx)):
                cache[text] = result
        return [cache[t] for t in lines]

    def _remember(self, r: LineResult) -> None:
        if r.format:
            self._formats[r.format] += 1
        if r.dup_key is not None:
            self._dups[r.dup_key] += 1
            if r.signature is not None and self._dups[r.dup_key] == 1:
                self._near.add(r.dup_key, r.signature, r.bands)

    def _forget(self, r: LineResult) -> None:
        if r.format:
            self._formats[r.format] -= 1
            if self._formats[r.format] <= 0:
                del self._formats[r.format]
        if r.dup_key is not None:
            self._dups[r.dup_key] -= 1
            if self._dups[r.dup_key] <= 0:
                del self._dups[r.dup_key]
                self._near.remove(r.dup_key)

    # ----- reading --------------------------------------------------------------------
    @property
    def file_format(self) -> str | None:
        forced = self.ctx.config.format
        if forced != "auto":
            return forced
        return self._formats.most_common(1)[0][0] if self._formats else None

    @property
    def example_count(self) -> int:
        return sum(self._formats.values())

    def findings(self) -> list[Finding]:
        """Every finding of the file, line and dataset rules, in line order."""
        ctx = self.ctx
        out: list[Finding] = []
        fmt = self.file_format
        dups = self._dups
        first: dict[bytes, int] = {}
        near = self._near
        on_mixed, on_dup, on_near = ctx.on("TL103"), ctx.on("TL501"), ctx.on("TL502")
        eval_keys = ctx.eval_keys if ctx.on("TL503") else None
        for i, r in enumerate(self.results):
            if r.findings:
                out.extend(f.at(i) for f in r.findings)
            if r.format is None:
                continue
            if on_mixed and r.format != fmt:
                out.append(self._line_finding("TL103", i, r, f"this line is '{r.format}' but the "
                                              f"file is '{fmt}'", {"to_format": fmt}))
            key = r.dup_key
            if key is None:
                continue
            seen = first.setdefault(key, i)
            if seen != i:
                if on_dup:
                    out.append(self._line_finding(
                        "TL501", i, r, f"exact duplicate of line {seen + 1}", {"first_line": seen},
                        Related(seen, 0, 0, "first copy")))
            elif on_near and (mates := near.partners(key)):
                earlier = [first[m] for m in mates if m in first]
                if earlier:
                    j = min(earlier)
                    out.append(self._line_finding(
                        "TL502", i, r, f"near duplicate of line {j + 1}", {"first_line": j},
                        Related(j, 0, 0, "similar example")))
            if eval_keys and (hit := eval_keys.get(r.prompt_key) or eval_keys.get(key)):
                out.append(self._line_finding(
                    "TL503", i, r, f"also in the eval file {hit}", {"eval": hit}))
        out.extend(self.extra)
        out.extend(self._file_level())
        out.sort(key=Finding.sort_key)
        return out

    def _line_finding(self, rule_id: str, line: int, r: LineResult, message: str,
                      data: dict[str, Any] | None = None, related: Related | None = None) -> Finding:
        end = max(1, r.width)
        return Finding(rule_id, message, self.ctx.severities[rule_id], line, 0, line, end, data,
                       (related,) if related else ())

    def _file_level(self) -> list[Finding]:
        ctx = self.ctx
        out: list[Finding] = []
        n = self.example_count

        def add(rule_id: str, message: str, severity: Severity | None = None) -> None:
            if ctx.on(rule_id):
                out.append(Finding(rule_id, message, severity or ctx.severities[rule_id], 0, 0, 0, 1))

        if not self.results:
            return out
        if n < 10:
            sev = Severity.ERROR if ctx.openai_target and "TL701" not in ctx.config.severity else None
            add("TL701", f"only {n} example(s); OpenAI requires at least 10 and trainers learn "
                "little from so few", sev)
        elif n < 100:
            add("TL702", f"{n} examples: under 100, consider few-shot prompting instead")
        elif n < 1000:
            add("TL703", f"{n} examples: strong fine-tuning wants 1000+ high-quality examples")
        systems = Counter(r.system_key for r in self.results if r.format and r.system_key)
        if len(systems) > 1 and ctx.on("TL704"):
            top = systems.most_common(1)[0][1]
            add("TL704", f"{len(systems)} different system prompts; the most common is used by "
                f"{top} of {n} examples")
        if ctx.config.label_field and ctx.on("TL705"):
            labels = Counter(r.label for r in self.results if r.label is not None)
            if len(labels) > 1:
                (most, hi), (least, lo) = labels.most_common()[0], labels.most_common()[-1]
                if hi / lo > ctx.config.imbalance_ratio:
                    add("TL705", f"label imbalance on '{ctx.config.label_field}': '{most}' × {hi} "
                        f"vs '{least}' × {lo}")
        return out

    def summary(self) -> Summary:
        """Counts and distributions; token figures when the lines were checked with tokens."""
        examples = [r for r in self.results if r.format]
        tokens = [r.tokens for r in examples if r.tokens is not None] or None
        found = self.findings()
        s = Summary(examples=len(examples), lines=len(self.results), format=self.file_format,
                    errors=sum(f.severity == Severity.ERROR for f in found),
                    warnings=sum(f.severity == Severity.WARNING for f in found),
                    messages=distribution([r.messages for r in examples]),
                    limit=self.ctx.limit, model=self.ctx.config.model)
        if tokens:
            s.tokens = distribution(tokens)
            s.total_tokens = sum(tokens)
            s.over_limit = sum(t > self.ctx.limit for t in tokens)
            if self.ctx.openai_target:
                s.epochs, s.billed_tokens = epochs_and_billing(tokens, self.ctx.limit)
        return s
