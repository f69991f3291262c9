"""Example length in tokens against the target model's per-example training limit.

Exact counting is the expensive part of linting, so it only happens when a cheap upper bound
says the example might be over: a BPE token covers at least one UTF-8 byte, so the bytes of every
counted string plus the fixed per-message overhead bound the count from above.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tuneline.lint.example import Example, Message
from tuneline.lint.findings import Hit, Severity
from tuneline.lint.rules import line_check, rule
from tuneline.lint.rules.structure import list_path
from tuneline.lint.tokens import PER_CONVERSATION, PER_MESSAGE, PER_NAME, TokenizerUnavailable

if TYPE_CHECKING:
    from tuneline.lint.context import LintContext

TOO_MANY_TOKENS = rule(
    "TL401", "too-many-tokens", Severity.ERROR,
    "The example has more tokens than the target model's per-example training limit "
    "(model, or max_tokens).",
    "Over-long examples are truncated (the answer at the end is lost first) or rejected.",
    "Shorten or split the conversation, or target a model with a longer context.",
)

# Chat templates of local (Hugging Face) models add markup the OpenAI formula does not count:
# allow this much per message and per example before the byte bound stops being trusted.
HF_PER_MESSAGE = 16
HF_PER_EXAMPLE = 512


def _utf8(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _name(msg: Message) -> str | None:
    name = msg.raw.get("name") if isinstance(msg.raw, dict) else None
    return name if isinstance(name, str) else None


def _strings(ex: Example) -> list[str]:
    """Every string the token counter counts (roles, texts, names, tool calls, tools)."""
    out: list[str] = []
    for msg in ex.messages:
        out += [s for s in (msg.role, msg.text, _name(msg)) if isinstance(s, str)]
        if msg.tool_calls:
            out.append(json.dumps(msg.tool_calls, ensure_ascii=False))
    if ex.tools:
        out.append(json.dumps(ex.tools, ensure_ascii=False))
    return out


def _overhead(ex: Example, local: bool) -> int:
    per_message = PER_MESSAGE + PER_NAME + (HF_PER_MESSAGE if local else 0)
    return PER_CONVERSATION + (HF_PER_EXAMPLE if local else 0) + per_message * len(ex.messages)


def size_bound(ex: Example, local: bool = False) -> int:
    """An upper bound on the example's token count, from UTF-8 byte lengths."""
    return _overhead(ex, local) + sum(_utf8(s) for s in _strings(ex))


def _quick_bound(ex: Example, local: bool) -> int | None:
    """At most 4 UTF-8 bytes per code point: a bound with no encoding (None if JSON is needed)."""
    if ex.tools:
        return None
    chars = 0
    for msg in ex.messages:
        if msg.tool_calls:
            return None
        chars += len(msg.text or "") + len(msg.role or "")
        raw = msg.raw
        if type(raw) is dict and "name" in raw:
            chars += len(_name(msg) or "")
    return 4 * chars + _overhead(ex, local)


def _limit_text(ctx: LintContext) -> str:
    if ctx.config.max_tokens:
        return f"the max_tokens limit of {ctx.limit:,}"
    return f"the {ctx.limit:,} limit of {ctx.config.model}"


@line_check(TOO_MANY_TOKENS)
def check_tokens(ex: Example, ctx: LintContext) -> list[Hit]:
    """TL401: count exactly only when the byte bound exceeds the limit."""
    local = bool(ctx.config.tokenizer)
    quick = _quick_bound(ex, local)
    if (quick is not None and quick <= ctx.limit) or size_bound(ex, local) <= ctx.limit:
        return []
    try:
        count = ctx.tokens.count_example(ex)
    except TokenizerUnavailable as exc:
        if str(exc) not in ctx.problems:
            ctx.problems.append(str(exc))
        return []
    if count <= ctx.limit:
        return []
    where, key = list_path(ex)
    return [Hit("TL401", f"example has {count:,} tokens, over {_limit_text(ctx)}; it will be "
                "truncated or rejected", where, key, data={"tokens": count, "limit": ctx.limit})]
