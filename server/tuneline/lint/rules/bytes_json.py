"""Rules below the record: bytes, lines and JSON syntax (reported by the parser itself)."""

from tuneline.lint.findings import Severity
from tuneline.lint.rules import rule

INVALID_JSON = rule(
    "TL001", "invalid-json", Severity.ERROR,
    "The line is not valid JSON.",
    "Uploaders and trainers reject the whole file, or silently skip the line.",
    "Fix the JSON at the reported column; each line must be one complete JSON object.",
)
INVALID_UTF8 = rule(
    "TL002", "invalid-utf8", Severity.ERROR,
    "The line contains bytes that are not UTF-8.",
    "JSON text must be UTF-8; readers fail or replace the characters.",
    "Re-save the file as UTF-8 (or fix the encoding of the generating script).",
)
BOM = rule(
    "TL003", "byte-order-mark", Severity.INFO,
    "The file starts with a UTF-8 byte-order mark.",
    "Most readers tolerate it, some uploaders reject the first line.",
    "Save without BOM.",
    scope="file",
)
CRLF = rule(
    "TL004", "crlf-line-endings", Severity.INFO,
    "Lines end with CRLF.",
    "Accepted by JSONL readers; LF keeps diffs and hashes stable.",
    "Convert line endings to LF.",
    scope="file",
)
NO_FINAL_NEWLINE = rule(
    "TL005", "no-final-newline", Severity.HINT,
    "The last line has no trailing newline.",
    "Line-oriented tools (wc, cat >>) can drop or merge it.",
    "End the file with a newline.",
    scope="file",
)
BLANK_LINE = rule(
    "TL006", "blank-line", Severity.INFO,
    "A blank line inside the file.",
    "Some loaders fail on an empty line (json.loads('') raises).",
    "Delete the blank line.",
)
NOT_AN_OBJECT = rule(
    "TL007", "not-an-object", Severity.ERROR,
    "The line is valid JSON but not an object.",
    "Every fine-tuning format is one JSON object per line.",
    "Wrap the data in an object with the format's keys (e.g. {\"messages\": [...]}).",
)
