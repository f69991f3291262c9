"""One record seen the same way whatever its format: a list of messages with JSON paths."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Path = tuple[str | int, ...]

# What kind of training signal a record carries; rules pick the kinds they apply to.
SFT = "sft"  # supervised chat/completions: the last turn is the target
PREFERENCE = "preference"  # DPO / chosen-rejected
RFT = "rft"  # reinforcement fine-tuning: ends with a user turn, graded later
PROMPT_ONLY = "prompt-only"
TEXT = "text"


@dataclass(slots=True)
class Message:
    """A turn. `text` is the content as plain text (parts joined); paths point into the record."""

    role: str | None
    text: str | None
    path: Path
    content_key: str = "content"
    role_key: str = "role"
    weight: Any = None
    tool_calls: list[Any] | None = None
    tool_call_id: str | None = None
    raw: Any = None

    @property
    def content_path(self) -> Path:
        """Path of the text; `content_key` "" means the value at `path` is the text itself."""
        return (*self.path, self.content_key) if self.content_key else self.path

    @property
    def role_path(self) -> Path:
        """Path of the role; `role_key` "" means the role is implied (the message's own path)."""
        return (*self.path, self.role_key) if self.role_key else self.path


@dataclass(slots=True)
class Example:
    """A record normalised for the rules. `messages` is the conversation being trained on.

    For preference data `messages` is the prompt plus the preferred answer, and `rejected`
    holds the other answer's messages.
    """

    format: str
    kind: str
    record: Any
    messages: list[Message] = field(default_factory=list)
    rejected: list[Message] = field(default_factory=list)
    tools: list[Any] | None = None
    tools_path: Path = ("tools",)

    def texts(self) -> list[str]:
        """Every message text (for tokens, duplicates, PII)."""
        out = [m.text for m in self.messages if m.text]
        out.extend(m.text for m in self.rejected if m.text)
        return out

    def assistant_messages(self) -> list[Message]:
        return [m for m in self.messages if m.role == "assistant"]
