"""Training data: JSONL records → chat messages → token ids with assistant-only labels.

Formats: OpenAI chat (`messages`, per-message `weight` 0/1 honoured), prompt/completion
(strings or message lists), ShareGPT (`conversations` with from/value) and Alpaca
(instruction/input/output/system/history). Every example goes through the tokenizer's own chat
template; labels come from `return_assistant_tokens_mask` (the template's `{% generation %}`
blocks). Examples longer than `max_seq_length` are reported by line, never cut.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

IGNORE = -100
SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                  "system": "system", "function_call": "assistant", "observation": "tool",
                  "tool": "tool", "function": "tool"}
TEMPLATE_KEYS = ("role", "content", "name", "tool_calls", "tool_call_id")


class DataError(ValueError):
    """Data that cannot be trained on; the message names the file and lines."""


@dataclass
class Tokenized:
    """One example ready for batching."""

    line: int  # 1-based line in its file
    input_ids: list[int]
    labels: list[int]

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def trainable(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE)


@dataclass
class Prepared:
    """A file's usable examples and what was left out (with line numbers)."""

    path: str
    examples: list[Tokenized] = field(default_factory=list)
    too_long: list[tuple[int, int]] = field(default_factory=list)  # (line, tokens)
    no_labels: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, why), with skip_bad

    @property
    def tokens(self) -> int:
        return sum(len(e) for e in self.examples)


def read_jsonl(path: str | Path, bad: list[tuple[int, str]] | None = None
               ) -> Iterator[tuple[int, Any]]:
    """(line number, record) for every non-blank line. Unparsable lines raise DataError listing
    them all, or are appended to `bad` as (line, why) when a list is given."""
    collect = bad is not None
    bad = [] if bad is None else bad
    records = []
    try:
        with open(path, encoding="utf-8-sig") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    records.append((number, json.loads(line)))
                except ValueError as exc:
                    bad.append((number, f"not valid JSON ({exc.msg})"))
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason})") from None
    if bad and not collect:
        raise DataError(_listing(path, bad))
    yield from records


def _listing(path: str | Path, problems: list[tuple[int, str]], limit: int = 10) -> str:
    more = f"\n  … and {len(problems) - limit} more" if len(problems) > limit else ""
    noun = "line" if len(problems) == 1 else "lines"
    return (f"{Path(path).name}: {len(problems)} {noun} cannot be used:\n  "
            + "\n  ".join(f"line {n}: {why}" for n, why in problems[:limit]) + more)


def detect_format(record: Any) -> str:
    """chat | prompt-completion | sharegpt | alpaca; ValueError when none fits."""
    if not isinstance(record, dict):
        raise ValueError("a record must be a JSON object")
    if "messages" in record:
        return "chat"
    if "conversations" in record:
        return "sharegpt"
    if "prompt" in record and "completion" in record:
        return "prompt-completion"
    if "instruction" in record and "output" in record:
        return "alpaca"
    keys = ", ".join(sorted(record)) or "none"
    raise ValueError(f"unknown record format (keys: {keys}); expected messages, conversations, "
                     "prompt+completion or instruction+output")


def _text(content: Any) -> str | None:
    """Message content as text: strings as they are, content parts' text joined."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content
                       if isinstance(p, dict) and p.get("type") in ("text", "input_text"))
    raise ValueError(f"content must be a string or a list of parts, not {type(content).__name__}")


def _chat(record: dict[str, Any]) -> list[dict[str, Any]]:
    msgs = record["messages"]
    if not isinstance(msgs, list) or not msgs:
        raise ValueError("'messages' must be a non-empty list")
    out = []
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise ValueError(f"messages[{i}] needs a string 'role'")
        msg = {k: m[k] for k in TEMPLATE_KEYS if k in m}
        msg["content"] = _text(m.get("content"))
        if "weight" in m:
            if m["weight"] not in (0, 1) or isinstance(m["weight"], bool):
                raise ValueError(f"messages[{i}].weight must be 0 or 1")
            msg["weight"] = m["weight"]
        out.append(msg)
    return out


def _prompt_completion(record: dict[str, Any]) -> list[dict[str, Any]]:
    prompt, completion = record["prompt"], record["completion"]
    if isinstance(prompt, str) and isinstance(completion, str):
        return [{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}]
    if isinstance(prompt, list) and isinstance(completion, list):
        return _chat({"messages": prompt + completion})
    raise ValueError("prompt and completion must both be strings or both message lists")


def _sharegpt(record: dict[str, Any]) -> list[dict[str, Any]]:
    turns = record["conversations"]
    if not isinstance(turns, list) or not turns:
        raise ValueError("'conversations' must be a non-empty list")
    out = []
    if isinstance(record.get("system"), str) and record["system"]:
        out.append({"role": "system", "content": record["system"]})
    for i, t in enumerate(turns):
        who = t.get("from") if isinstance(t, dict) else None
        if who not in SHAREGPT_ROLES or not isinstance(t.get("value"), str):
            raise ValueError(f"conversations[{i}] needs 'from' (human, gpt, system, …) and a "
                             "string 'value'")
        out.append({"role": SHAREGPT_ROLES[who], "content": t["value"]})
    return out


def _alpaca(record: dict[str, Any]) -> list[dict[str, Any]]:
    for key in ("instruction", "output"):
        if not isinstance(record.get(key), str):
            raise ValueError(f"'{key}' must be a string")
    out = []
    if isinstance(record.get("system"), str) and record["system"]:
        out.append({"role": "system", "content": record["system"]})
    for pair in record.get("history") or []:
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
            raise ValueError("'history' must be a list of [question, answer] pairs")
        out += [{"role": "user", "content": pair[0]}, {"role": "assistant", "content": pair[1]}]
    extra = record.get("input")
    prompt = record["instruction"] + (f"\n\n{extra}" if isinstance(extra, str) and extra else "")
    return [*out, {"role": "user", "content": prompt},
            {"role": "assistant", "content": record["output"]}]


CONVERTERS = {"chat": _chat, "prompt-completion": _prompt_completion, "sharegpt": _sharegpt,
              "alpaca": _alpaca}


def to_messages(record: Any, fmt: str = "auto") -> list[dict[str, Any]]:
    """A record in any supported format as chat messages (`weight` kept on assistant turns)."""
    kind = detect_format(record) if fmt == "auto" else fmt
    if not isinstance(record, dict):
        raise ValueError("a record must be a JSON object")
    try:
        return CONVERTERS[kind](record)
    except KeyError as exc:
        raise ValueError(f"missing key {exc} for format {kind}") from None


def _runs(mask: list[int]) -> list[tuple[int, int]]:
    """[start, end) spans of consecutive 1s."""
    spans, start = [], None
    for i, bit in enumerate([*mask, 0]):
        if bit and start is None:
            start = i
        elif not bit and start is not None:
            spans.append((start, i))
            start = None
    return spans


def check_template(tokenizer: Any, assistant_only: bool) -> None:
    """DataError when the tokenizer cannot render chats (or mark assistant turns)."""
    name = getattr(tokenizer, "name_or_path", "the tokenizer")
    if not getattr(tokenizer, "chat_template", None):
        raise DataError(f"{name} has no chat template; use a chat model or add one to its "
                        "tokenizer_config.json")
    if assistant_only and "generation" not in tokenizer.chat_template:
        raise DataError(f"the chat template of {name} has no {{% generation %}} markers, so "
                        "assistant tokens cannot be found; set assistant_only_loss = false or "
                        "use a template that marks assistant turns")


def tokenize(tokenizer: Any, messages: list[dict[str, Any]], tools: Any = None,
             assistant_only: bool = True) -> tuple[list[int], list[int]]:
    """Token ids and labels: assistant turns with weight ≠ 0 (or everything), first token never."""
    shown = [{k: v for k, v in m.items() if k != "weight"} for m in messages]
    enc = tokenizer.apply_chat_template(
        shown, tools=tools, tokenize=True, return_dict=True,
        return_assistant_tokens_mask=assistant_only)
    ids = list(enc["input_ids"])
    if not assistant_only:
        labels = list(ids)
    else:
        mask = list(enc["assistant_masks"])
        assistants = [m for m in messages if m["role"] == "assistant"]
        spans = _runs(mask)
        if any(m.get("weight") == 0 for m in assistants):
            if len(spans) != len(assistants):
                raise ValueError("cannot match weight-0 turns to the template's assistant spans")
            for m, (a, b) in zip(assistants, spans, strict=True):
                if m.get("weight") == 0:
                    mask[a:b] = [0] * (b - a)
        labels = [t if bit else IGNORE for t, bit in zip(ids, mask, strict=True)]
    if labels:
        labels[0] = IGNORE  # never predicted from a previous packed example
    return ids, labels


def prepare(path: str | Path, tokenizer: Any, *, fmt: str = "auto", max_seq_length: int,
            assistant_only: bool = True, too_long: str = "drop",
            skip_bad: bool = False) -> Prepared:
    """Read and tokenize a file. Unusable records raise DataError listing every bad line (or,
    with `skip_bad`, are listed in `skipped`); too-long examples raise (too_long="error") or
    are dropped and listed in `too_long`."""
    check_template(tokenizer, assistant_only)
    out = Prepared(str(path))
    bad = out.skipped  # every unusable line, JSON or format, listed together
    for number, record in read_jsonl(path, bad):
        try:
            msgs = to_messages(record, fmt)
            ids, labels = tokenize(tokenizer, msgs, record.get("tools"), assistant_only)
        except Exception as exc:  # template errors come as many types; all are per-line problems
            bad.append((number, str(exc)))
            continue
        if len(ids) > max_seq_length:
            out.too_long.append((number, len(ids)))
        elif not any(x != IGNORE for x in labels):
            out.no_labels.append(number)
        else:
            out.examples.append(Tokenized(number, ids, labels))
    bad.sort()
    if bad and not skip_bad:
        raise DataError(_listing(path, bad))
    if out.too_long and too_long == "error":
        raise DataError(too_long_message(out, max_seq_length) + "; set too_long = \"drop\" to "
                        "leave them out, or raise max_seq_length")
    return out


def too_long_message(prep: Prepared, max_seq_length: int, limit: int = 20) -> str:
    lines = ", ".join(f"{n} ({t} tokens)" for n, t in prep.too_long[:limit])
    more = f" and {len(prep.too_long) - limit} more" if len(prep.too_long) > limit else ""
    return (f"{Path(prep.path).name}: {len(prep.too_long)} example(s) longer than max_seq_length "
            f"{max_seq_length} (lines {lines}{more})")


def split_eval(examples: list[Tokenized], fraction: float, seed: int
               ) -> tuple[list[Tokenized], list[Tokenized]]:
    """(train, eval): a seeded random `fraction` held out (at least one example)."""
    if fraction <= 0 or len(examples) < 2:
        return examples, []
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    n_eval = min(len(examples) - 1, max(1, round(len(examples) * fraction)))
    held = set(order[:n_eval])
    return ([e for i, e in enumerate(examples) if i not in held],
            [e for i, e in enumerate(examples) if i in held])
