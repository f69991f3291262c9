"""Conversation structure: enough turns, an assistant answer at the end, no empty turns, sane order.

Also home of the small helpers the other message rules share (`label`, `answers`, paths).
Roles are OpenAI's: `formats` maps ShareGPT's human/gpt/observation before rules run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuneline.lint.example import SFT, Example, Message, Path
from tuneline.lint.findings import Hit, Severity
from tuneline.lint.rules import line_check, rule

if TYPE_CHECKING:
    from tuneline.lint.context import LintContext

TOO_FEW_MESSAGES = rule(
    "TL201", "too-few-messages", Severity.ERROR,
    "A supervised example has fewer than min_messages (default 2) messages.",
    "A single turn has no prompt/answer pair, so there is nothing to learn from.",
    "Add the user prompt and the assistant answer (or lower min_messages).",
)
NO_ASSISTANT = rule(
    "TL202", "no-assistant", Severity.ERROR,
    "A supervised example has no assistant message.",
    "Loss is computed on assistant turns only; without one the example trains nothing "
    "(OpenAI rejects it).",
    "Add the assistant's answer as the last message.",
)
LAST_NOT_ASSISTANT = rule(
    "TL203", "last-not-assistant", Severity.ERROR,
    "A supervised example does not end with an assistant message (reinforcement fine-tuning "
    "examples are exempt: they must end with the user's turn, which the format check enforces).",
    "The last turn is the training target: anything after the final answer is never learnt.",
    "Remove the trailing turns or add the assistant's answer after them.",
)
EMPTY_CONTENT = rule(
    "TL206", "empty-content", Severity.ERROR,
    "A message's content is empty, whitespace only or null (an assistant message that only "
    "calls tools may have null content).",
    "Empty turns teach the model to answer with nothing, or are rejected by the uploader.",
    "Write the missing text, or delete the message (a quick fix is offered when it is safe).",
)
ROLE_ORDER = rule(
    "TL207", "role-order", Severity.WARNING,
    "Turns are in an unusual order: the assistant speaks first, the system/developer prompt "
    "is not first, or two user (or two assistant) turns follow each other.",
    "Chat templates and trainers assume system → user → assistant alternation; at inference "
    "the model never sees these shapes.",
    "Reorder or merge the turns (a quick fix moves the system prompt first).",
)

SYSTEM_ROLES = ("system", "developer")
LIST_KEYS = ("messages", "conversations")  # where an empty conversation is pointed at


def label(path: Path) -> str:
    """A JSON path as people write it: ("input", "messages", 2) -> input.messages[2]."""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def has_calls(msg: Message) -> bool:
    """Whether the message carries tool calls or a deprecated function_call."""
    if msg.tool_calls:
        return True
    raw = msg.raw
    return type(raw) is dict and bool(raw.get("function_call"))


def answers(ex: Example) -> list[Message]:
    """Assistant turns that are trained on as text answers: not tool calls, not weight 0."""
    return [m for m in ex.messages if m.role == "assistant" and m.text is not None
            and m.weight != 0 and not has_calls(m)]


def list_path(ex: Example) -> tuple[Path | None, bool]:
    """Where to point for the conversation as a whole: the message list's key, else the line."""
    for msg in ex.messages:
        if msg.path and isinstance(msg.path[-1], int):
            return msg.path[:-1], True
    record = ex.record if isinstance(ex.record, dict) else {}
    key = next((k for k in LIST_KEYS if k in record), None)
    return ((key,), True) if key else (None, False)


def content_path(msg: Message) -> Path:
    """The path of the message's text (bare string messages have no content key)."""
    return msg.content_path if msg.content_key else msg.path


def role_path(msg: Message) -> Path:
    """The path of the message's role, or of the message itself when the format implies it."""
    return msg.role_path if msg.role_key else msg.path


def _index(msg: Message, fallback: int) -> int:
    last = msg.path[-1] if msg.path else None
    return last if isinstance(last, int) else fallback


def _counts(ex: Example, roles: list[str | None], ctx: LintContext) -> list[Hit]:
    """TL201/TL202/TL203 for supervised examples (RFT endings are checked by the format)."""
    msgs = ex.messages
    need = ctx.config.min_messages
    if ex.kind != SFT or (msgs and len(msgs) >= need and roles[-1] == "assistant"):
        return []
    hits: list[Hit] = []
    where, key = list_path(ex)
    if len(msgs) < need:
        hits.append(Hit("TL201", f"only {len(msgs)} message{'s' * (len(msgs) != 1)}; a training "
                        f"example needs at least {need} (a prompt and an answer)", where, key))
    if "assistant" not in roles:
        hits.append(Hit("TL202", "no assistant message: the example has nothing to train on; "
                        "add the answer as the last message", where, key))
    elif roles[-1] not in ("assistant", None):  # a missing role is the format's finding
        last = msgs[-1]
        hits.append(Hit("TL203", f"the last message is from '{last.role}', not the assistant: "
                        "turns after the final answer are never learnt", role_path(last)))
    return hits


def _empty_parts(msg: Message, parts: list[Any]) -> tuple[bool, list[Hit]]:
    """(all text parts empty, hits for empty text parts when other parts have content)."""
    texts = [(k, p.get("text")) for k, p in enumerate(parts)
             if isinstance(p, dict) and p.get("type", "text") == "text"]
    blank = [k for k, t in texts if isinstance(t, str) and not t.strip()]
    if len(blank) == len(parts):
        return True, []
    return False, [Hit("TL206", f"empty text part in {label(content_path(msg))}; remove it",
                       (*content_path(msg), k, "text"), data={"fix": "trim"}) for k in blank]


def _empty_one(msg: Message, i: int, is_last: bool) -> list[Hit]:
    if has_calls(msg):
        return []
    raw = msg.raw
    has_key = isinstance(raw, dict) and msg.content_key in raw
    value = raw.get(msg.content_key) if has_key else msg.text
    if isinstance(value, list):
        empty, hits = _empty_parts(msg, value)
        if not empty:
            return hits
        what = "has no content parts" if not value else "has only empty text parts"
    elif isinstance(value, str):
        if value.strip():
            return []
        what = "is empty" if not value else "is whitespace only"
    elif value is None and has_key:
        what = "is null"
    else:
        return []
    data = None if is_last else {"fix": "delete-message", "index": _index(msg, i),
                                 "path": list(msg.path)}
    role = msg.role or "message"
    return [Hit("TL206", f"the {role} message's content {what}", content_path(msg), data=data)]


def _empty(ex: Example) -> list[Hit]:
    """TL206 over the conversation and the rejected answer."""
    hits: list[Hit] = []
    for group in (ex.messages, ex.rejected):
        for i, msg in enumerate(group):
            text, raw = msg.text, msg.raw
            # Fast path: non-blank text that is not joined from parts (an empty part would hide
            # in a newline; a one-line text cannot hide one).
            if text and not text.isspace() and ("\n" not in text or type(raw) is not dict
                                                or type(raw.get(msg.content_key)) is not list):
                continue
            hits.extend(_empty_one(msg, i, i == len(group) - 1))
    return hits


_ORDER_OK: set[tuple[Any, ...]] = set()  # (format, real roles?, *roles) seen in order


def _order(ex: Example, roles: list[str | None]) -> list[Hit]:
    """TL207, skipped for role sequences already seen in order (most datasets have a few)."""
    key = (ex.format, bool(ex.messages and ex.messages[0].role_key), *roles)
    if key in _ORDER_OK:
        return []
    hits = _order_hits(ex, roles)
    if not hits and len(_ORDER_OK) < 4096:
        _ORDER_OK.add(key)
    return hits


def _order_hits(ex: Example, roles: list[str | None]) -> list[Hit]:
    """Assistant first, late system prompt, repeated user/assistant turns."""
    hits: list[Hit] = []
    msgs = ex.messages
    first: dict[str | None, int] = {}
    for i, role in enumerate(roles):
        first.setdefault(role, i)
    first_assistant = first.get("assistant")
    if (first_assistant is not None and first_assistant < first.get("user", len(roles))
            and msgs[first_assistant].role_key):  # string fields (implicit prompts) have no turns
        msg = msgs[first_assistant]
        hits.append(Hit("TL207", f"the assistant speaks before any user turn ({label(msg.path)}); "
                        "start with the user's prompt", role_path(msg)))
    first_system = min((first[r] for r in SYSTEM_ROLES if r in first), default=None)
    if first_system:
        msg = msgs[first_system]
        hits.append(Hit("TL207", f"the {roles[first_system]} prompt is message {first_system + 1}, "
                        "not the first; move it to the start", role_path(msg),
                        data={"fix": "move-system-first", "from": _index(msg, first_system),
                              "path": list(msg.path)}))
    consecutive_steps = ex.format == "stepwise"  # reasoning steps are assistant turns in a row
    for i in range(1, len(msgs)):
        role = roles[i]
        if role == roles[i - 1] and role in ("user", "assistant") and not (
                consecutive_steps and role == "assistant"):
            hits.append(_repeat(msgs[i - 1], msgs[i], role))  # type: ignore[arg-type]
    return hits


def _repeat(prev: Message, msg: Message, role: str) -> Hit:
    pair = f"{label(prev.path)} and {label(msg.path)}"
    if role == "user":
        text = f"two user turns in a row ({pair}); merge them or add the assistant's reply between"
    elif has_calls(prev):
        text = (f"{label(prev.path)} calls a tool but no tool result follows before the next "
                f"assistant turn ({label(msg.path)}); add the tool message")
    else:
        text = (f"two assistant turns in a row ({pair}) with no tool result between; "
                "merge them into one answer")
        return Hit("TL207", text, role_path(msg), severity=Severity.HINT)
    return Hit("TL207", text, role_path(msg))


@line_check(TOO_FEW_MESSAGES, NO_ASSISTANT, LAST_NOT_ASSISTANT, EMPTY_CONTENT, ROLE_ORDER)
def check_structure(ex: Example, ctx: LintContext) -> list[Hit]:
    """Message count, final turn, empty content and turn order."""
    roles = [m.role for m in ex.messages]
    hits = _counts(ex, roles, ctx)
    hits += _empty(ex)
    hits += _order(ex, roles)
    return hits
