"""Personal data and secrets in an example's text: turns, tool-call arguments, top-level fields.

Speed matters (every line of every file). All of an example's text is first tested as a whole
with C-speed byte-shape and substring tests (`_scanners`); only the families that may match are
then searched for, string by string, with patterns that start with a literal or a character
class. A clean example without "@" runs no regex at all.
Findings underline the exact substring: `data["span_in_value"]` holds code-point offsets in the
decoded string value that the hit's path points at.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tuneline.lint.example import Example, Message, Path
from tuneline.lint.findings import Hit, Severity
from tuneline.lint.rules import line_check, rule
from tuneline.lint.rules.structure import has_calls
from tuneline.lint.rules.tools import calls_of

if TYPE_CHECKING:
    from tuneline.lint.context import LintContext

PII_EMAIL = rule(
    "TL601", "pii-email", Severity.WARNING,
    "An email address in the text (reserved example domains such as example.com are ignored).",
    "Fine-tuned models memorise and can regurgitate personal data; it may also breach "
    "privacy law or your data agreements.",
    "Replace it with a placeholder such as user@example.com.",
)
PII_PHONE = rule(
    "TL602", "pii-phone", Severity.WARNING,
    "A phone number in the text: international (+country code) or US/NANP format.",
    "Phone numbers are personal data a model can memorise and repeat.",
    "Replace it with a placeholder such as 555-0100.",
)
PII_CARD = rule(
    "TL603", "pii-card-number", Severity.ERROR,
    "A payment card number: 13–19 digits (spaces or dashes allowed) that pass the Luhn check.",
    "Card data must never be stored in training files (PCI DSS); models can leak it.",
    "Delete the number or replace it with a test number such as 4111 1111 1111 1111.",
)
SECRET = rule(
    "TL604", "secret", Severity.ERROR,
    "An API-key-shaped string: OpenAI sk-…, AWS AKIA…, GitHub ghp_…/github_pat_…, Slack "
    "xox…, Google AIza…, PEM private keys, high-entropy bearer tokens.",
    "A key in a training file is leaked to everyone with the file, the provider and possibly "
    "the model's outputs.",
    "Remove the key, rotate it at the provider, and use a placeholder.",
)


@dataclass(frozen=True, slots=True)
class SecretShape:
    """One kind of key. Patterns start with a literal, so `re` finds candidates at C speed."""

    label: str
    hint: str | None  # a character every match contains: without it the pattern is not run
    pattern: re.Pattern[str]
    group: int | str = 0  # the part to underline
    random: bool = False  # a generic shape: the token must look random (skips placeholders)
    reveal: bool = False  # the match is not itself secret (a PEM header): show it whole


_SHAPES = (
    SecretShape("OpenAI API key", "-", re.compile(
        r"sk-(?<![\w-]sk-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"), random=True),
    SecretShape("AWS access key id", None, re.compile(
        r"A[KS]IA(?<![A-Za-z0-9]A[KS]IA)[0-9A-Z]{16}(?![A-Za-z0-9])")),
    SecretShape("GitHub token", "_", re.compile(r"gh(?<![A-Za-z0-9_]gh)[pousr]_[A-Za-z0-9]{36,}")),
    SecretShape("GitHub token", "_", re.compile(
        r"github_pat_(?<![A-Za-z0-9_]github_pat_)[A-Za-z0-9_]{22,}")),
    SecretShape("Slack token", "-", re.compile(r"xox(?<![A-Za-z0-9]xox)[abprs]-[A-Za-z0-9-]{15,}")),
    SecretShape("Google API key", None, re.compile(r"AIza(?<![A-Za-z0-9]AIza)[0-9A-Za-z_-]{35}")),
    SecretShape("private key", "-", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"),
                reveal=True),
    SecretShape("bearer token", None, re.compile(
        r"earer(?<=[Bb]earer)(?<![A-Za-z][Bb]earer)[ \t]+(?P<token>[A-Za-z0-9._~+/-]{20,}=*)"),
        group="token", random=True),
)
_SK_PREFIX = re.compile(r"sk-(?:proj-|svcacct-|admin-)?")

_EMAIL_DOMAIN = re.compile(
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24})(?![A-Za-z0-9-])")
_EMAIL_LOCAL = re.compile(r"[\w.%+-]{1,64}\Z")
_RESERVED_DOMAINS = ("example.com", "example.org", "example.net")
_RESERVED_TLDS = frozenset(("example", "test", "invalid", "localhost", "local",
                            # file names like icon@2x.png are not addresses
                            "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp"))

# Every pattern starts with a literal or a character class (the boundary lookbehind comes after
# the first character), so `re` skips non-candidate positions in C instead of trying each one.
_BOUNDARY_END = r"(?![\w]|[.-]\d)"
_PHONES = (  # (a character every match contains, pattern)
    ("+", re.compile(  # international: +country code, 8-15 digits in groups
        r"\+(?<![\w+#/.-]\+)[1-9]\d{0,2}(?:[ .-]?\(\d{1,4}\)|[ .-]?\d{1,4})(?:[ .-]?\d{1,5}){1,5}"
        + _BOUNDARY_END)),
    ("(", re.compile(  # US: (212) 555-0147
        r"\((?<![\w+#/.-]\()[2-9]\d\d\)[ .-]?\d{3}[ .-]\d{4}" + _BOUNDARY_END)),
    (None, re.compile(  # US: 212-555-0147, 212.555.0147, 1-800-555-0147, 1 (800) 555-0147
        r"[1-9](?<![\w+#/.-][1-9])(?:(?<=1)[ .-](?:\([2-9]\d\d\)[ .-]?|[2-9]\d\d[ .-])"
        r"|(?<=[2-9])\d\d[ .-])\d{3}[ .-]\d{4}" + _BOUNDARY_END)),
)
_CARD = re.compile(r"[2-6](?<![\w+.,/-][2-6])\d{3}(?:[ -]?\d){9,15}(?!\w|[.,-]\d)")


def _shape_table(classes: dict[str, str]) -> bytes:
    """A bytes.translate table mapping each class of characters to one byte, others to a space."""
    table = bytearray(b" " * 256)
    for chars, to in classes.items():
        for c in chars.encode():
            table[c] = ord(to)
    return bytes(table)


# Prefilter shapes. Digits: every phone or card has a 3-digit group, a separator and a 4-digit
# group ("000-0000"), an international "+0", or (cards) 13 digits in a row. Tokens: every key
# is an unbroken run of 20+ [A-Za-z0-9_-] (PEM headers are tested for "-----" instead).
_DIGIT_SHAPE = _shape_table({"0123456789": "0", " -.": "-", "+": "+"})
_TOKEN_SHAPE = _shape_table({"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-": "a"})
_GROUPED, _DIGIT_RUN, _TOKEN_RUN = b"000-0000", b"0" * 13, b"a" * 20


@dataclass(slots=True)
class Found:
    """One match: rule, message, code-point span in the scanned string."""

    rule: str
    message: str
    start: int
    end: int


def _entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def _random_looking(token: str) -> bool:
    """Keys are long, mixed and high-entropy; placeholders (sk-xxxx…, YOUR_TOKEN) are not."""
    prefix = _SK_PREFIX.match(token)
    tail = token[prefix.end():] if prefix else token
    return (any(c.isdigit() for c in tail) and any(c.isalpha() for c in tail)
            and _entropy(tail) >= 3.0)


def _active(text: str) -> list[SecretShape]:
    return [s for s in _SHAPES if s.hint is None or s.hint in text]


def _secrets(text: str) -> Iterator[Found]:
    for shape in _active(text):
        for m in shape.pattern.finditer(text):
            token = m.group(shape.group)
            if shape.random and not _random_looking(token):
                continue
            shown = token if shape.reveal else token[:6] + "…"
            yield Found("TL604", f"{shape.label} ({shown}) in the text; remove it and rotate "
                        "the key", m.start(shape.group), m.end(shape.group))


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _cards(text: str) -> Iterator[Found]:
    for m in _CARD.finditer(text):
        digits = m.group().replace(" ", "").replace("-", "")
        if _luhn(digits) and len(set(digits)) > 1:
            yield Found("TL603", f"payment card number ({len(digits)} digits, passes the Luhn "
                        "check); card data must not be in training files", m.start(), m.end())


def _emails(text: str) -> Iterator[Found]:
    for m in _EMAIL_DOMAIN.finditer(text):
        domain = m.group(1).lower()
        local = _EMAIL_LOCAL.search(text, max(0, m.start() - 64), m.start())
        if local is None or local.group().strip(".") != local.group():
            continue
        if domain.rsplit(".", 1)[-1] in _RESERVED_TLDS or domain.endswith(_RESERVED_DOMAINS):
            continue
        yield Found("TL601", "email address (personal data); replace it with a placeholder "
                    "such as user@example.com", local.start(), m.end())


def _phones(text: str) -> Iterator[Found]:
    for hint, pattern in _PHONES:
        if hint is not None and hint not in text:
            continue
        for m in pattern.finditer(text):
            digits = sum(ch.isdigit() for ch in m.group())
            if 8 <= digits <= 15:
                yield Found("TL602", "phone number (personal data); replace it with a "
                            "placeholder such as 555-0100", m.start(), m.end())


Scanner = Callable[[str], Iterator[Found]]
SCANNERS: tuple[Scanner, ...] = (_secrets, _cards, _emails, _phones)  # by severity, for overlaps


def _scanners(text: str, among: tuple[Scanner, ...] = SCANNERS) -> list[Scanner]:
    """The scanners (of `among`) worth running on `text`: byte-shape tests, no class-led regex."""
    raw = text.encode("utf-8", "surrogatepass")
    secrets = _secrets in among and (_TOKEN_RUN in raw.translate(_TOKEN_SHAPE)
                                     or ("-" in text and "-----" in text))
    digits = raw.translate(_DIGIT_SHAPE) if _cards in among or _phones in among else b""
    grouped = _GROUPED in digits
    cards = _cards in among and (grouped or _DIGIT_RUN in digits)
    phones = _phones in among and (grouped or ("+" in text and b"+0" in digits))
    emails = _emails in among and "@" in text and _EMAIL_DOMAIN.search(text) is not None
    if not (secrets or cards or phones or emails):
        return []
    return [scanner for scanner, on in ((_secrets, secrets), (_cards, cards), (_emails, emails),
                                        (_phones, phones)) if on]


def scan(text: str, among: tuple[Scanner, ...] = SCANNERS) -> list[Found]:
    """Every finding in `text`; overlapping matches keep the most severe (scanner order)."""
    found: list[Found] = []
    for scanner in _scanners(text, among):
        for f in scanner(text):
            if all(f.end <= g.start or f.start >= g.end for g in found):
                found.append(f)
    return found


def _message_texts(msg: Message) -> Iterator[tuple[Path, str]]:
    """The message's stored text values: a content string, text parts, or a bare string."""
    raw = msg.raw
    if type(raw) is str:  # a string field seen as a message (prompt, completion, Alpaca's fields)
        yield msg.path, raw
        return
    content = raw.get(msg.content_key) if type(raw) is dict else None
    if type(content) is str:
        yield (*msg.path, msg.content_key), content
    elif type(content) is list:
        for k, part in enumerate(content):
            if type(part) is dict and type(part.get("text")) is str:
                yield (*msg.path, msg.content_key, k, "text"), part["text"]
    if has_calls(msg):
        for call in calls_of(msg):
            if type(call.arguments) is str:
                yield (*call.path, "arguments"), call.arguments


def _texts(ex: Example) -> dict[Path, str]:
    """What is scanned, by JSON path: every turn's text, tool-call arguments and top-level
    string fields (Alpaca's input, RFT grader data)."""
    texts = {path: text for msg in (*ex.messages, *ex.rejected)
             for path, text in _message_texts(msg)}
    if type(ex.record) is dict:
        texts.update(((key,), v) for key, v in ex.record.items() if type(v) is str)
    return texts


def _corpus(ex: Example) -> str:
    """The same text in one string, cheaply, for the prefilter (most examples stop there)."""
    texts = [m.text for m in ex.messages if m.text]
    for msg in ex.messages:
        if msg.role == "assistant" and has_calls(msg):
            texts += [c.arguments for c in calls_of(msg) if type(c.arguments) is str]
    if ex.rejected:
        texts += [m.text for m in ex.rejected if m.text]
    if type(ex.record) is dict:
        texts += [v for v in ex.record.values() if type(v) is str]
    return "\n".join(texts)


@line_check(PII_EMAIL, PII_PHONE, PII_CARD, SECRET)
def check_pii(ex: Example, ctx: LintContext) -> list[Hit]:
    """Emails, phone numbers, card numbers and secrets, underlined exactly."""
    among = tuple(_scanners(_corpus(ex)))
    if not among:
        return []
    return [Hit(f.rule, f.message, path, data={"span_in_value": [f.start, f.end]})
            for path, text in _texts(ex).items() for f in scan(text, among)]
