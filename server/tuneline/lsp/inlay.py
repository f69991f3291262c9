"""Inlay hints (tokens per example, at the end of its line) and the code lens above line 1
(examples, errors, tokens, estimated training cost). Both can be switched off in settings
(`tuneline.inlayHints.tokens`, `tuneline.codeLens.summary`)."""

from __future__ import annotations

from lsprotocol import types

from tuneline.lsp.app import TunelineServer
from tuneline.lsp.convert import client_length
from tuneline.lsp.settings import Settings
from tuneline.lsp.tally import TokenTally, Totals, tally_for, totals_for

MAX_HINT_LINES = 1000  # hints beyond this many lines come from already-counted lines only

# OpenAI training prices, USD per million training tokens (openai.com/api/pricing).
TRAINING_PRICE_PER_M = {
    "gpt-4o-mini": 3.00, "gpt-4o": 25.00, "gpt-4.1-nano": 1.50, "gpt-4.1-mini": 5.00,
    "gpt-4.1": 25.00, "gpt-3.5-turbo": 8.00, "davinci-002": 6.00, "babbage-002": 0.40,
}


def training_price(model: str) -> float | None:
    """USD per million training tokens for an OpenAI model (longest matching prefix)."""
    name = model.removeprefix("ft:").split(":")[0]
    best = max((p for p in TRAINING_PRICE_PER_M if name.startswith(p)), key=len, default=None)
    return TRAINING_PRICE_PER_M[best] if best else None


def _compact(n: int) -> str:
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def summary_title(examples: int | None, counts: dict[int, int] | None, totals: Totals | None,
                  tally: TokenTally) -> str:
    """The lens text: '1,234 examples · 2 errors · 5 warnings · 1.2M tokens · ≈ $3.60 …'."""
    parts = [f"{examples:,} examples" if examples is not None else "examples: linting…"]
    if counts is not None:
        e, w = counts.get(1, 0), counts.get(2, 0)
        parts.append(f"{e} error{'s' * (e != 1)} · {w} warning{'s' * (w != 1)}")
    if tally.error:
        parts.append("tokens unavailable")
    elif totals is None:
        parts.append("tokens: counting…")
    else:
        parts.append(f"{_compact(totals.tokens)} tokens")
        price = training_price(tally.ctx.config.model)
        if totals.billed is not None and price is not None:
            cost = totals.billed / 1e6 * price
            parts.append(f"≈ ${cost:,.2f} to train ({totals.epochs} epochs × "
                         f"{_compact(totals.capped)} tokens at ${price:.2f}/1M)")
    return " · ".join(parts)


def register(ls: TunelineServer) -> None:
    @ls.feature(types.TEXT_DOCUMENT_INLAY_HINT, types.InlayHintOptions(resolve_provider=False))
    def inlay_hints(ls: TunelineServer, params: types.InlayHintParams) -> list[types.InlayHint]:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None or doc.kind != "data" or not ls.settings.inlay_tokens:
            return []
        tally = tally_for(ls, doc)
        first = params.range.start.line
        last = min(params.range.end.line, doc.data_len - 1)
        hints = []
        for i in range(first, last + 1):
            text = doc.data_line(i)
            n = tally.count(text) if i - first < MAX_HINT_LINES else tally.counts.get(text)
            if n is None:
                continue
            pos = types.Position(i, client_length(text, ls.encoding))
            hints.append(types.InlayHint(position=pos, label=f"{n:,} tokens", padding_left=True,
                                         tooltip=f"{n:,} tokens for {tally.ctx.config.model}"))
        return hints

    @ls.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    def code_lens(ls: TunelineServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None or doc.kind != "data" or not ls.settings.lens_summary:
            return []
        state = doc.lint
        examples = state.ds.example_count if state is not None and state.ready and state.ds else None
        tally = tally_for(ls, doc)
        title = summary_title(examples, ls.publisher.counts.get(doc.uri), totals_for(ls, doc, tally),
                              tally)
        cmd = types.Command(title=title, command="tuneline.datasetStats",
                            arguments=[{"uri": doc.uri}])
        return [types.CodeLens(range=types.Range(types.Position(0, 0), types.Position(0, 0)),
                               command=cmd)]

    def settings_changed(old: Settings, new: Settings) -> None:
        if (old.inlay_tokens, old.lens_summary, old.model) != (new.inlay_tokens, new.lens_summary,
                                                              new.model):
            ls.refresh_views()

    ls.extras.setdefault("settings_hooks", []).append(settings_changed)
    ls.extras.setdefault("close_hooks", []).append(
        lambda uri, doc: ls.extras.get("tallies", {}).pop(uri, None))
