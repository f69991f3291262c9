"""A whole file's lint state: per-line results cached by line text, dataset rules on top.

`replace(start, end, new_lines)` re-checks only the new lines (others come from the cache)
and keeps the duplicate counters and the near-duplicate index up to date incrementally, so
an edit costs work proportional to the edit plus one cheap pass to place findings.
"""

from __future__ import annotations

import logging
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import attrgetter
from typing import Any

from tuneline.lint.check import LineResult, check_lines
from tuneline.lint.context import LintContext
from tuneline.lint.findings import Finding, Related, Severity
from tuneline.lint.near import NearIndex
from tuneline.lint.tokens import epochs_and_billing

_CACHE_SLACK = 2
_CHECK_BLOCK = 2048  # lines checked per call: bounds the memory of one vectorised block
log = logging.getLogger(__name__)
_findings_of = attrgetter("findings")
_format_of = attrgetter("format")
_key_of = attrgetter("dup_key")
_prompt_of = attrgetter("prompt_key")


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
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
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
        # Kept incrementally so findings() only visits lines that can have dataset findings.
        self._multi: set[bytes] = set()  # keys of exact duplicates (count >= 2)
        self._partnered: set[bytes] = set()  # keys with a near-duplicate partner
        self._systems: Counter[bytes] = Counter()
        self._labels: Counter[str] = Counter()
        self.checked_lines = 0  # lines run through the line checks (cache misses)

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
            return self._check(lines)
        cache = self._cache
        missing = [t for t in dict.fromkeys(lines) if t not in cache]
        if missing:
            for text, result in zip(missing, self._check(missing)):
                cache[text] = result
        return [cache[t] for t in lines]

    def _check(self, lines: list[str]) -> list[LineResult]:
        """check_lines in bounded blocks; a line whose checking raises gets a TL000 finding."""
        self.checked_lines += len(lines)
        out: list[LineResult] = []
        for i in range(0, len(lines), _CHECK_BLOCK):
            block = lines[i : i + _CHECK_BLOCK]
            try:
                out.extend(check_lines(block, self.ctx))
            except Exception:  # a crashing check must cost one line, not the whole file
                log.exception("checking a block failed; retrying line by line")
                out.extend(self._check_alone(text) for text in block)
        return out

    def _check_alone(self, text: str) -> LineResult:
        try:
            return check_lines([text], self.ctx)[0]
        except Exception as exc:
            log.exception("checking a line failed")
            return LineResult((Finding("TL000", f"checking this line failed: {exc!r}",
                                       self.ctx.severities.get("TL000", Severity.WARNING),
                                       0, 0, 0, len(text)),), width=len(text))

    def _remember(self, r: LineResult) -> None:
        if r.format:
            self._formats[r.format] += 1
            if r.system_key:
                self._systems[r.system_key] += 1
        if r.label is not None:
            self._labels[r.label] += 1
        key = r.dup_key
        if key is not None:
            self._dups[key] += 1
            count = self._dups[key]
            if count == 2:
                self._multi.add(key)
            if r.signature is not None and count == 1:
                self._near.add(key, r.signature, r.bands)
                mates = self._near.partners(key)
                if mates:
                    self._partnered.add(key)
                    self._partnered.update(mates)

    def _forget(self, r: LineResult) -> None:
        if r.format:
            _decrement(self._formats, r.format)
            if r.system_key:
                _decrement(self._systems, r.system_key)
        if r.label is not None:
            _decrement(self._labels, r.label)
        key = r.dup_key
        if key is not None:
            count = _decrement(self._dups, key)
            if count == 1:
                self._multi.discard(key)
            elif count == 0:
                mates = list(self._near.partners(key))
                self._near.remove(key)
                self._partnered.discard(key)
                self._partnered.difference_update(m for m in mates if not self._near.partners(m))

    # ----- reading --------------------------------------------------------------------
    @property
    def file_format(self) -> str | None:
        forced = self.ctx.config.format
        if forced != "auto":
            return forced
        # ties go to the alphabetically first name, so an edited file and the same file
        # linted from scratch agree
        return min(self._formats.items(), key=_by_count_desc)[0] if self._formats else None

    @property
    def example_count(self) -> int:
        return sum(self._formats.values())

    def findings(self) -> list[Finding]:
        """Every finding of the file, line and dataset rules, in line order."""
        out = [f.at(f.line + off) if off else f for off, f in self.placed()]
        out.sort(key=Finding.sort_key)
        return out

    def placed(self) -> list[tuple[int, Finding]]:
        """Every finding as (line offset, finding), unsorted; the finding's place is its line
        plus the offset. Line-rule findings are the cached line-relative objects themselves,
        so callers can memoise per finding object (the language server does).

        Costs one C-level pass over the lines plus work per finding: only lines with findings,
        duplicate or near-duplicate keys, or an odd format are visited.
        """
        results = self.results
        idx = range(len(results))
        out: list[tuple[int, Finding]] = []
        for i in compress(idx, map(_findings_of, results)):
            out.extend(zip(repeat(i), results[i].findings))
        out.extend((0, f) for f in self._dataset_findings())
        out.extend((0, f) for f in self.extra)
        out.extend((0, f) for f in self._file_level())
        return out

    def _dataset_findings(self) -> Iterator[Finding]:
        """TL103 / TL501 / TL502 / TL503, visiting only the lines that can have them."""
        ctx, results = self.ctx, self.results
        idx = range(len(results))
        fmt = self.file_format
        odd = set(self._formats) - {fmt}
        if odd and ctx.on("TL103"):
            for i in compress(idx, map(odd.__contains__, map(_format_of, results))):
                r = results[i]
                yield self._line_finding("TL103", i, r, f"this line is '{r.format}' but the "
                                         f"file is '{fmt}'", {"to_format": fmt})
        on_dup, on_near = ctx.on("TL501"), ctx.on("TL502")
        hot = (self._multi if on_dup else set()) | (self._partnered if on_near else set())
        if hot:
            yield from self._duplicates(
                compress(idx, map(hot.__contains__, map(_key_of, results))), on_dup, on_near)
        eval_keys = ctx.eval_keys if ctx.on("TL503") else None
        if eval_keys:
            hits = set(compress(idx, map(eval_keys.__contains__, map(_prompt_of, results))))
            hits.update(compress(idx, map(eval_keys.__contains__, map(_key_of, results))))
            for i in sorted(hits):
                r = results[i]
                hit = eval_keys.get(r.prompt_key) or eval_keys.get(r.dup_key)  # type: ignore[arg-type]
                yield self._line_finding("TL503", i, r, f"also in the eval file {hit}", {"eval": hit})

    def _duplicates(self, lines: Iterator[int], on_dup: bool, on_near: bool) -> Iterator[Finding]:
        """Exact and near duplicates among `lines` (every line holding a hot key, in order)."""
        results, near = self.results, self._near
        first: dict[bytes, int] = {}
        for i in lines:
            r = results[i]
            key = r.dup_key
            assert key is not None
            seen = first.setdefault(key, i)
            if seen != i:
                if on_dup:
                    yield self._line_finding(
                        "TL501", i, r, f"exact duplicate of line {seen + 1}", {"first_line": seen},
                        Related(seen, 0, 0, "first copy"))
            elif on_near and (mates := near.partners(key)):
                earlier = [first[m] for m in mates if m in first]
                if earlier:
                    j = min(earlier)
                    yield self._line_finding(
                        "TL502", i, r, f"near duplicate of line {j + 1}", {"first_line": j},
                        Related(j, 0, 0, "similar example"))

    def _line_finding(self, rule_id: str, line: int, r: LineResult, message: str,
                      data: dict[str, Any] | None = None, related: Related | None = None) -> Finding:
        end = max(1, r.width)
        return Finding(rule_id, message, self.ctx.severities[rule_id], line, 0, line, end, data,
                       (related,) if related else ())

    def _file_level(self) -> list[Finding]:
        ctx = self.ctx
        out: list[Finding] = []
        n = self.example_count

        if not self.results:
            return out
        end = min(1, self.results[0].width)  # the first character, if line 1 has one

        def add(rule_id: str, message: str, severity: Severity | None = None) -> None:
            if ctx.on(rule_id):
                out.append(Finding(rule_id, message, severity or ctx.severities[rule_id],
                                   0, 0, 0, end))

        if n < 10:
            sev = Severity.ERROR if ctx.openai_target and "TL701" not in ctx.overridden else None
            add("TL701", f"only {n} example(s); OpenAI requires at least 10 and trainers learn "
                "little from so few", sev)
        elif n < 100:
            add("TL702", f"{n} examples: under 100, consider few-shot prompting instead")
        elif n < 1000:
            add("TL703", f"{n} examples: strong fine-tuning wants 1000+ high-quality examples")
        systems = self._systems
        if len(systems) > 1 and ctx.on("TL704"):
            top = systems.most_common(1)[0][1]
            add("TL704", f"{len(systems)} different system prompts; the most common is used by "
                f"{top} of {n} examples")
        if ctx.config.label_field and ctx.on("TL705"):
            labels = self._labels
            if len(labels) > 1:
                most, hi = min(labels.items(), key=_by_count_desc)
                least, lo = min(labels.items(), key=_by_count_asc)
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


def _decrement(counter: Counter[Any], key: Any) -> int:
    """Decrement a count, dropping the key at zero; returns the new count."""
    n = counter[key] - 1
    if n <= 0:
        del counter[key]
        return 0
    counter[key] = n
    return n


def _by_count_desc(item: tuple[str, int]) -> tuple[int, str]:
    return (-item[1], item[0])


def _by_count_asc(item: tuple[str, int]) -> tuple[int, str]:
    return (item[1], item[0])
