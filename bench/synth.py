"""Synthetic but realistic chat fine-tuning data for benchmarks (deterministic)."""

from __future__ import annotations

import json
import random
from pathlib import Path

SYSTEMS = [
    "You are a customer support agent for Acme Corp. Be concise, friendly and accurate.",
    "You are Acme Corp's billing assistant. Answer questions about invoices and refunds.",
]
TOPICS = ["password", "invoice", "refund", "shipping", "account", "subscription", "order",
          "delivery", "warranty", "login", "email", "payment", "address", "coupon", "return"]
VERBS = ["reset", "change", "cancel", "update", "track", "find", "download", "verify", "close",
         "transfer", "renew", "apply", "dispute", "confirm", "restore"]
WORDS = ("please go to settings then open the page and click the button you will see a link "
         "in your inbox within a few minutes if it does not arrive check the spam folder or "
         "contact us again with your order number and we will help you right away thanks for "
         "your patience our team usually answers within one business day").split()


def example(rng: random.Random, i: int) -> dict:
    topic, verb = rng.choice(TOPICS), rng.choice(VERBS)
    question = (f"How do I {verb} my {topic}? I tried {rng.randint(2, 9)} times since "
                f"order {rng.randint(10000, 99999)} and "
                + " ".join(rng.choices(WORDS, k=rng.randint(5, 20))) + "?")
    answer = (f"To {verb} your {topic}: " + " ".join(rng.choices(WORDS, k=rng.randint(25, 55)))
              + f". Reference {i}.")
    msgs = [{"role": "system", "content": SYSTEMS[i % 7 == 0]},
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer}]
    if i % 5 == 0:
        msgs += [{"role": "user", "content": "Thanks! And " + " ".join(rng.choices(WORDS, k=12))},
                 {"role": "assistant", "content": "You're welcome. " + " ".join(rng.choices(WORDS, k=25))}]
    return {"messages": msgs}


def write(path: Path, n: int, seed: int = 7) -> Path:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps(example(rng, i), ensure_ascii=False) + "\n")
    return path
