"""The answers themselves: length bounds and, when configured, a JSON Schema they must satisfy."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tuneline.lint.example import Example, Message
from tuneline.lint.findings import Hit, Severity
from tuneline.lint.jsonspan import locate
from tuneline.lint.rules import line_check, rule
from tuneline.lint.rules.structure import answers, content_path

if TYPE_CHECKING:
    from tuneline.lint.context import LintContext

ANSWER_TOO_SHORT = rule(
    "TL204", "answer-too-short", Severity.WARNING,
    "A trained assistant answer is shorter than min_answer_chars (default 10) characters; "
    "tool-call turns and weight-0 turns are skipped.",
    "Very short targets teach terse, low-information replies.",
    "Write a fuller answer; for label-style outputs set min_answer_chars = 0 (or ignore TL204).",
)
ANSWER_TOO_LONG = rule(
    "TL205", "answer-too-long", Severity.WARNING,
    "A trained assistant answer is longer than max_answer_chars (default 4000) characters.",
    "Very long single turns are often pasted documents or runaway generations, and are "
    "likely to be truncated.",
    "Split the answer into turns, shorten it, or raise max_answer_chars.",
)
ASSISTANT_SCHEMA = rule(
    "TL301", "assistant-schema", Severity.ERROR,
    "With assistant_schema set, every trained assistant answer must be JSON that validates "
    "against that JSON Schema.",
    "A model fine-tuned for structured output copies whatever shape its examples have; one "
    "malformed answer teaches malformed output.",
    "Fix the answer at the reported JSON path (or the schema, if the answer is right).",
)

_MAX_MEMO = 4096
_MEMO_CHARS = 256  # only short answers repeat (labels, small objects); long ones are not kept
Problem = tuple[str, dict[str, Any] | None]  # message and diagnostic data


class _Memo:
    """TL301 outcomes by answer text, for one validator (label-style answers repeat a lot)."""

    def __init__(self) -> None:
        self.owner: Any = None
        self.problems: dict[str, Problem | None] = {}

    def get(self, validator: Any, text: str) -> Problem | None:
        if len(text) > _MEMO_CHARS:
            return _schema_problem(text, validator)
        if self.owner is not validator:
            self.owner, self.problems = validator, {}
        if text not in self.problems:
            if len(self.problems) >= _MAX_MEMO:
                self.problems.clear()
            self.problems[text] = _schema_problem(text, validator)
        return self.problems[text]


def _excerpt(text: str, width: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _length(msg: Message, text: str, ctx: LintContext, ex_format: str) -> Hit | None:
    """TL204/TL205 (single reasoning steps of stepwise records may be short)."""
    cfg = ctx.config
    size = len(text.strip())
    if size < cfg.min_answer_chars and size and ex_format != "stepwise":
        return Hit("TL204", f"answer is {size} character{'s' * (size != 1)} long "
                   f"('{_excerpt(text)}'), under min_answer_chars = {cfg.min_answer_chars}",
                   content_path(msg))
    if len(text) > cfg.max_answer_chars:
        return Hit("TL205", f"answer is {len(text):,} characters long, over max_answer_chars = "
                   f"{cfg.max_answer_chars:,}", content_path(msg))
    return None


def schema_error(validator: Any, instance: Any) -> tuple[str, tuple[str | int, ...], int] | None:
    """The most relevant validation error: (json_path: message, absolute path, error count)."""
    from jsonschema.exceptions import best_match

    errors = list(validator.iter_errors(instance))
    if not errors:
        return None
    best = best_match(errors)
    return f"{best.json_path}: {best.message}", tuple(best.absolute_path), len(errors)


def value_span(text: str, path: tuple[str | int, ...]) -> dict[str, Any] | None:
    """Diagnostic data pointing inside a JSON-text string value at `path` (None for the root)."""
    if not path:
        return None
    start, end = locate(text, path)
    return {"span_in_value": [start, end]}


def _not_json(text: str, exc: json.JSONDecodeError) -> str:
    hint = ("; remove the ``` code fence" if text.lstrip().startswith("```")
            else "; the schema needs a JSON answer")
    return f"answer is not JSON ({exc.msg} at column {exc.colno}){hint}"


def _schema_problem(text: str, validator: Any) -> Problem | None:
    """TL301's message and data for one answer text, or None when it validates."""
    try:
        error = schema_error(validator, json.loads(text))
    except json.JSONDecodeError as exc:
        return _not_json(text, exc), None
    if error is None:
        return None
    message, path, count = error
    more = f" (and {count - 1} more)" if count > 1 else ""
    return f"answer does not match assistant_schema: {message}{more}", value_span(text, path)


_memo = _Memo()


@line_check(ANSWER_TOO_SHORT, ANSWER_TOO_LONG, ASSISTANT_SCHEMA)
def check_answers(ex: Example, ctx: LintContext) -> list[Hit]:
    """Answer length bounds and the optional assistant_schema."""
    hits: list[Hit] = []
    validator = ctx.assistant_validator if ctx.config.assistant_schema and ctx.on("TL301") else None
    for msg in answers(ex):
        text = msg.text or ""
        found = _length(msg, text, ctx, ex.format)
        if found:
            hits.append(found)
        problem = _memo.get(validator, text) if validator is not None and text.strip() else None
        if problem:
            hits.append(Hit("TL301", problem[0], content_path(msg), data=problem[1]))
    return hits
