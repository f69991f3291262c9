"""Record-format rules: reported by `tuneline.lint.formats.validate` while it checks each line."""

from tuneline.lint.findings import Severity
from tuneline.lint.rules import rule

SCHEMA_VIOLATION = rule(
    "TL101", "schema-violation", Severity.ERROR,
    "The record does not match its format's JSON Schema (schemas/<format>.schema.json): a missing "
    "or misspelt key, a value of the wrong type, an unknown role, a weight other than 0/1…",
    "Uploaders reject the file (OpenAI validates every line) and trainers fail or silently drop "
    "the example.",
    "Follow the message: it names the field and, where the intent is clear, offers a quick fix "
    "(rename a misspelt key, replace a role such as 'bot' with 'assistant').",
)
UNKNOWN_FORMAT = rule(
    "TL102", "unknown-format", Severity.ERROR,
    "The record's keys match none of the known formats (chat, dpo, rft, prompt-completion, text, "
    "prompt-only, preference, unpaired-preference, stepwise, sharegpt, alpaca).",
    "No trainer can read a record it cannot recognise.",
    "Use one of the listed key sets, or set `format` in tuneline.toml to check against one format.",
)
DEPRECATED_FIELD = rule(
    "TL104", "deprecated-field", Severity.WARNING,
    "The record uses a deprecated field: `functions` (use `tools`) or DPO's old "
    "`preferred_completion` / `non_preferred_completion` (now `preferred_output` / "
    "`non_preferred_output`).",
    "Deprecated fields may stop being accepted and are not supported by newer models.",
    "Rename the field (a quick fix does it) or move `functions` into `tools`.",
)
