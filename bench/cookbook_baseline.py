"""The usual pre-upload check, written from the OpenAI cookbook's description (no line numbers).

json.loads per line, its seven format checks, tiktoken counts per message (cl100k_base),
and the epoch/billing estimate. Used only as the baseline in lint_bench.py.
"""

from __future__ import annotations

import json
import sys
from collections import Counter

from tuneline.lint.tokens import tiktoken_encoding

KNOWN_KEYS = {"role", "content", "name", "function_call", "weight"}
ROLES = {"system", "user", "assistant", "function"}


def main(path: str) -> int:
    enc = tiktoken_encoding("cl100k_base")
    with open(path, encoding="utf-8") as fh:
        dataset = [json.loads(line) for line in fh]
    errors: Counter[str] = Counter()
    for ex in dataset:
        if not isinstance(ex, dict):
            errors["data_type"] += 1
            continue
        messages = ex.get("messages")
        if not messages:
            errors["missing_messages_list"] += 1
            continue
        for m in messages:
            if "role" not in m or "content" not in m:
                errors["message_missing_key"] += 1
            if any(k not in KNOWN_KEYS for k in m):
                errors["message_unrecognized_key"] += 1
            if m.get("role") not in ROLES:
                errors["unrecognized_role"] += 1
            content = m.get("content")
            if not content or not isinstance(content, str):
                errors["missing_content"] += 1
        if not any(m.get("role") == "assistant" for m in messages):
            errors["example_missing_assistant_message"] += 1
    lengths, assistant = [], []
    for ex in dataset:
        total, answer = 3, 0
        for m in ex["messages"]:
            total += 3
            for key, value in m.items():
                total += len(enc.encode(value))
                if key == "name":
                    total += 1
            if m["role"] == "assistant":
                answer += len(enc.encode(m["content"]))
        lengths.append(total)
        assistant.append(answer)
    n = len(dataset)
    epochs = 3
    if n * 3 < 100:
        epochs = min(25, 100 // n)
    elif n * 3 > 25000:
        epochs = max(1, 25000 // n)
    billed = sum(min(16385, t) for t in lengths)
    print(f"{n} examples, errors {dict(errors)}, {sum(t > 16385 for t in lengths)} too long, "
          f"~{epochs * billed} billed tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
