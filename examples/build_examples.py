"""Regenerate the bundled example datasets (deterministic). Run: python examples/build_examples.py

support/    customer-support chat (the seed guide's Acme example) with a few typical mistakes
extraction/ ticket → JSON extraction, answers checked against an assistant_schema
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).parent
SYSTEM = "You are a customer support agent for Acme Corp."

TASKS = [
    ("reset my password", "go to acme.com/login, click 'Forgot Password', enter your email and "
     "follow the reset link we send you. The link expires in 1 hour."),
    ("change the email on my account", "open Settings > Account, click 'Change email', enter the "
     "new address and confirm it from the message we send there."),
    ("cancel my subscription", "open Settings > Billing and click 'Cancel plan'. You keep access "
     "until the end of the current billing period."),
    ("download my invoice", "open Settings > Billing > Invoices and click the download icon next "
     "to the invoice you need. Invoices are PDFs."),
    ("track my order", "open Orders, pick the order and click 'Track'. You will see the carrier "
     "and the latest scan of your parcel."),
    ("return a damaged item", "open Orders, pick the item and click 'Return'. Choose 'Damaged', "
     "add a photo, and we will email a prepaid label within 24 hours."),
    ("update my shipping address", "open Settings > Addresses, edit the address and save. Orders "
     "that have not shipped yet will use the new address."),
    ("get a refund", "refunds go back to the original payment method within 5–7 business days "
     "after we receive the return. You will get an email when it is issued."),
    ("apply a coupon", "enter the code in the 'Promo code' field at checkout and click Apply. "
     "One coupon can be used per order."),
    ("enable two-factor authentication", "open Settings > Security, click 'Enable 2FA' and scan "
     "the QR code with an authenticator app, then enter the 6-digit code."),
    ("delete my account", "open Settings > Account and click 'Delete account'. We keep invoices "
     "for 7 years as the law requires; everything else is erased within 30 days."),
    ("change my plan", "open Settings > Billing, click 'Change plan' and pick the new plan. "
     "Upgrades apply at once; downgrades at the next renewal."),
]
OPENERS = ["How do I {t}?", "Hi, I need to {t}. How?", "Can you help me {t}?",
           "What's the way to {t}?", "I want to {t} — what should I do?",
           "Quick question: how can I {t}?", "Hello! Where do I {t}?", "Please tell me how to {t}.",
           "I'm trying to {t} but I can't find where.", "Is it possible to {t} from the app?",
           "Steps to {t}, please.", "Hey, how would I {t}?"]
FOLLOWUPS = [
    "If you use the mobile app, the same option sits under the profile icon.",
    "Business accounts need the owner's permission for this step.",
    "You can check the result later under Settings > Activity.",
    "Our help centre has a short video that walks through each screen.",
    "If the button is greyed out, sign out and back in to refresh your session.",
    "Changes made on the website sync to the app within a minute or two.",
    "Keep the confirmation email; it contains a reference number for our team.",
    "This works the same way for gift orders and marketplace sellers.",
    "Customers in the EU see the option under 'Privacy & data' instead.",
    "Nothing else on your account changes while you do this.",
    "If you were logged in on several devices, they stay signed in.",
    "Our team is available by chat from 8am to 8pm on weekdays.",
    "Screenshots help us a lot if something looks different for you.",
    "The option is not available for orders placed as a guest.",
    "We also send a push notification when the change is done.",
    "For security reasons we may ask you to confirm your password first.",
    "Older browsers sometimes hide this menu; Chrome, Firefox and Safari all work.",
    "Your loyalty points are not affected.",
]
CLOSERS = ["", " Let me know if anything is unclear.", " Anything else I can help with?",
           " Happy to help further if needed."]


def chat(user: str, answer: str, system: str = SYSTEM) -> dict:
    return {"messages": [{"role": "system", "content": system},
                         {"role": "user", "content": user},
                         {"role": "assistant", "content": answer}]}


def support(rng: random.Random) -> tuple[list[str], list[str]]:
    examples = []
    for t, how in TASKS:
        for opener in OPENERS:
            extra = " ".join(rng.sample(FOLLOWUPS, 2))
            answer = f"To {t.replace('my ', 'your ')}: {how} {extra}{rng.choice(CLOSERS)}"
            examples.append(chat(opener.format(t=t), answer))
    rng.shuffle(examples)
    train, evals = examples[:110], examples[110:130]
    lines = [json.dumps(e, ensure_ascii=False) for e in train]
    # Typical mistakes, each on its own line:
    lines[3] = lines[3].replace('"role": "assistant"', '"role": "bot"')              # bad role
    lines[7] = lines[7].replace('"role": "user", ', '"role": "user" ', 1)            # broken JSON
    lines[12] = json.dumps(chat("Is there a phone number I can call?", "Yes."))      # too short
    lines[18] = lines[5]                                                              # duplicate
    lines[25] = json.dumps({"messages": [{"role": "system", "content": SYSTEM},
                                         {"role": "user", "content": "My order hasn't arrived"}]})
    lines[31] = json.dumps(chat("Can you update my phone number?",
                                "Sure — I changed it to +1 415 555 0132 for jane.doe@example.com. "
                                "You will get a confirmation text."))                # PII
    lines[40] = json.dumps({"messages": [
        {"role": "user", "content": "Where is my refund?"},
        {"role": "system", "content": SYSTEM},
        {"role": "assistant", "content": "Refunds reach the original payment method within "
                                         "5–7 business days after we receive the return."}]})
    lines[47] = json.dumps({"conversations": [
        {"from": "human", "value": "How do I close my account?"},
        {"from": "gpt", "value": "Open Settings > Account and click 'Delete account'."}]})
    eval_lines = [json.dumps(e, ensure_ascii=False) for e in evals]
    eval_lines[0] = lines[60]                                                          # leak
    return lines, eval_lines


CATEGORIES = ["billing", "shipping", "account", "technical"]
PRIORITIES = ["low", "medium", "high"]
TICKETS = [
    ("billing", "I was charged twice for order {o}. Please refund one of the charges.", "high"),
    ("shipping", "Order {o} says delivered but nothing arrived at my door.", "high"),
    ("shipping", "Can I change the delivery date for order {o}?", "low"),
    ("account", "I can't log in since this morning, the reset email never comes.", "medium"),
    ("technical", "The mobile app crashes when I open order {o}.", "medium"),
    ("billing", "Where can I find the invoice for order {o}?", "low"),
    ("account", "Please merge my two accounts, I only use the newer one.", "low"),
    ("technical", "Checkout shows an error 500 when I pay for order {o}.", "high"),
]


DETAILS = [
    "I have been a customer for five years.", "This is the second time this month.",
    "My account email is the one on file.", "I am writing from my phone.",
    "The website looked fine yesterday.", "A colleague had the same issue last week.",
    "I tried both the app and the website.", "Please answer by email rather than phone.",
    "I attached a screenshot to my previous message.", "It is not urgent for me.",
    "I need this sorted before the weekend.", "My neighbour received a similar parcel.",
    "The chat bot could not help me.", "I use the premium plan.",
    "I already cleared my browser cache.", "Thanks in advance for your help.",
]


def extraction(rng: random.Random) -> list[str]:
    system = ("Extract the ticket into JSON with keys category, priority, order_id (or null) "
              "and summary. Answer with JSON only.")
    lines = []
    for i in range(60):
        cat, text, prio = TICKETS[i % len(TICKETS)]
        order = f"A-{rng.randint(10000, 99999)}" if "{o}" in text else None
        ticket = text.format(o=order) + " " + " ".join(rng.sample(DETAILS, 2))
        answer = {"category": cat, "priority": prio, "order_id": order,
                  "summary": ticket.split(".")[0][:60]}
        lines.append(json.dumps(chat(f"Ticket #{1000 + i}: {ticket}", json.dumps(answer), system)))
    bad = json.loads(lines[9])
    answer = json.loads(bad["messages"][2]["content"])
    answer["priority"] = "urgent"                                                       # not in enum
    bad["messages"][2]["content"] = json.dumps(answer)
    lines[9] = json.dumps(bad)
    bad = json.loads(lines[22])
    bad["messages"][2]["content"] = "The customer was charged twice; category billing, high."  # prose
    lines[22] = json.dumps(bad)
    return lines


def main() -> None:
    rng = random.Random(2026)
    train, evals = support(rng)
    (HERE / "support" / "training.jsonl").write_text("\n".join(train) + "\n", encoding="utf-8")
    (HERE / "support" / "eval.jsonl").write_text("\n".join(evals) + "\n", encoding="utf-8")
    (HERE / "extraction" / "training.jsonl").write_text(
        "\n".join(extraction(rng)) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
