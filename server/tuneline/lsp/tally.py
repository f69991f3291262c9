"""Token counts per example, memoised by line text and computed off the edit path.

Counting every example of a 100,000-line file takes seconds, so the editor gets totals
lazily: features ask `totals()`, which answers from the memo when every line is counted and
otherwise starts one background pass and returns None; when the pass ends the server asks
the client to refresh code lenses and inlay hints.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from tuneline.lint import formats
from tuneline.lint.context import LintContext
from tuneline.lint.tokens import TokenizerUnavailable, epochs_and_billing

INLINE_MISSING = 200  # count this many missing lines on the spot; more go to the background


@dataclass(frozen=True)
class Totals:
    """A document's token figures."""

    examples: int
    tokens: int
    over_limit: int
    limit: int
    epochs: int | None
    billed: int | None  # billed training tokens (OpenAI targets), epochs included
    capped: int  # Σ min(limit, tokens): the base the billed share is computed on


def count_line(text: str, ctx: LintContext) -> int | None:
    """Tokens of the example on a line (None when the line is not an example)."""
    try:
        record = json.loads(text)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    fmt = ctx.config.format if ctx.config.format != "auto" else formats.detect(record)
    ex = formats.to_example(record, fmt) if fmt else None
    return None if ex is None else ctx.tokens.count_example(ex)


class TokenTally:
    """Token counts of one document's lines for one token setting (model/tokenizer/limit)."""

    def __init__(self, ctx: LintContext) -> None:
        self.ctx = ctx
        self.counts: dict[str, int | None] = {}
        self.error: str | None = None
        self.running = False

    @staticmethod
    def key(ctx: LintContext) -> tuple[Any, ...]:
        c = ctx.config
        return (c.model, c.tokenizer, ctx.limit, ctx.openai_target)

    def count(self, text: str) -> int | None:
        """Tokens of one line (memoised); None for non-examples or when counting fails."""
        if text in self.counts:
            return self.counts[text]
        try:
            n = count_line(text, self.ctx)
        except TokenizerUnavailable as exc:
            self.error = str(exc)
            return None
        if len(self.counts) < 4_000_000:
            self.counts[text] = n
        return n

    def fill(self, lines: Sequence[str]) -> None:
        """Count every line not counted yet (runs in a worker thread for big files)."""
        for text in dict.fromkeys(lines):
            if text not in self.counts:
                self.count(text)
                if self.error:
                    return

    def totals(self, lines: Sequence[str], pool: Executor,
               done: Callable[[], None]) -> Totals | None:
        """Totals when every line is counted; else None, counting in `pool` then `done()`."""
        if self.error:
            return None
        missing = [t for t in dict.fromkeys(lines) if t not in self.counts]
        if len(missing) <= INLINE_MISSING:
            self.fill(missing)
        elif not self.running:
            self.running = True
            snapshot = list(lines)

            def work() -> None:
                try:
                    self.fill(snapshot)
                finally:
                    self.running = False
                    done()

            pool.submit(work)
            return None
        else:
            return None
        return self._sum(lines)

    def _sum(self, lines: Sequence[str]) -> Totals:
        counts = self.counts
        values = [n for n in map(counts.get, lines) if n is not None]
        limit = self.ctx.limit
        capped = sum(min(limit, n) for n in values)
        epochs = billed = None
        if self.ctx.openai_target and values:
            epochs, billed = epochs_and_billing(values, limit)
        return Totals(len(values), sum(values), sum(n > limit for n in values), limit,
                      epochs, billed, capped)


def tally_for(ls: Any, doc: Any) -> TokenTally:
    """The document's tally for its current token settings (a new one when they changed)."""
    state = doc.lint
    ctx = state.ctx if state is not None and state.ctx is not None else LintContext(
        ls.linter.config_for(doc.path).for_path(doc.path))
    tallies: dict[str, TokenTally] = ls.extras.setdefault("tallies", {})
    tally = tallies.get(doc.uri)
    if tally is None or TokenTally.key(tally.ctx) != TokenTally.key(ctx):
        tally = tallies[doc.uri] = TokenTally(ctx)
    return tally


def totals_for(ls: Any, doc: Any, tally: TokenTally | None = None) -> Totals | None:
    """The document's totals now, or None while a background count runs (the client is asked
    to refresh lenses and hints when it ends)."""
    tally = tally or tally_for(ls, doc)
    return tally.totals(doc.data_lines(), ls.bg_pool, lambda: ls.call_soon(ls.refresh_views))


def warm(ls: Any, doc: Any) -> None:
    """Load the document's tokenizer in the background (seconds for o200k), once per setting,
    so the first hover, hint or lens does not wait for it."""
    tally = tally_for(ls, doc)
    warmed: set[tuple[Any, ...]] = ls.extras.setdefault("warmed_tokenizers", set())
    key = TokenTally.key(tally.ctx)
    if key in warmed:
        return
    warmed.add(key)

    def load() -> None:
        with contextlib.suppress(Exception):  # reported when a feature actually counts
            tally.ctx.tokens.count_text("warm up")

    ls.bg_pool.submit(load)
