"""Generated customer-support chats: the demo model's tokenizer and pre-training text.

Plain, short answers about orders, billing and accounts, so the demo model knows the words of
the domain; the example dataset's house style (and its facts) is what fine-tuning adds.
"""

from __future__ import annotations

import random

SYSTEMS = ("You are a friendly support agent for Acme. Answer briefly and clearly.",
           "You are a customer support agent for Acme Corp.",
           "You help Acme customers with orders, billing and accounts.")
SYSTEM = SYSTEMS[0]
PRODUCTS = ("laptop", "headphones", "coffee maker", "phone case", "desk lamp", "keyboard",
            "backpack", "water bottle", "smart watch", "blender")
COUNTRIES = ("Canada", "France", "Japan", "Brazil", "Germany", "Kenya", "Spain", "India")
ASK = ("How do I {t}?", "Can you help me {t}?", "I need to {t}.", "Hi, how can I {t}?",
       "Where do I {t}?", "Hello! I want to {t}.", "Is it possible to {t}?")

# (what the customer wants to do, answers). Answers may use {order} {product} {days} {country}.
TASKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("reset my password", (
        "Click 'Forgot Password' on the login page at acme.com/login. We email you a reset "
        "link that works for one hour.",
        "Use the 'Forgot Password' link on the sign-in page and follow the email we send.")),
    ("change the email on my account", (
        "Open Settings > Account, choose 'Change email' and confirm the new address.",
        "You can change it under Settings > Account. We send a confirmation to the new email.")),
    ("cancel my subscription", (
        "Open Settings > Billing and press 'Cancel plan'. You keep access until the end of the "
        "billing period.",
        "Go to Settings > Billing and cancel there. No fee is charged.")),
    ("download my invoice", (
        "Invoices are in Settings > Billing > Invoices. Each one downloads as a PDF.",
        "Open the Invoices page under Settings > Billing and click the download icon.")),
    ("track my order", (
        "Open Orders, pick order {order} and click 'Track' to see the carrier and the latest "
        "scan of your parcel.",
        "Order {order} is on its way and should arrive in {days} days.")),
    ("return a damaged {product}", (
        "Sorry about the {product}. Open Orders, choose 'Return' and add a photo. We email a "
        "prepaid label within 24 hours.",
        "You can return the {product} within 30 days from the Orders page.")),
    ("update my shipping address", (
        "Edit it under Settings > Addresses. Orders that have not shipped use the new address.",
        "Open Settings > Addresses and save the new one before the order ships.")),
    ("get a refund", (
        "Refunds go back to the original payment method within {days} business days after we "
        "receive the return.",
        "We issue the refund once the item is back. You get an email when it is sent.")),
    ("apply a coupon", (
        "Enter the code in the 'Promo code' field at checkout and click Apply.",
        "Coupons go in the 'Promo code' box at checkout. One coupon works per order.")),
    ("turn on two-factor authentication", (
        "Open Settings > Security, click 'Enable 2FA' and scan the QR code with an "
        "authenticator app.",
        "Two-factor authentication is under Settings > Security. You need an authenticator app.")),
    ("delete my account", (
        "Open Settings > Account and click 'Delete account'. Your data is erased within 30 days.",
        "You can delete it under Settings > Account. We keep invoices as the law requires.")),
    ("change my plan", (
        "Open Settings > Billing and click 'Change plan'. Upgrades apply at once.",
        "Pick a new plan under Settings > Billing. Downgrades start at the next renewal.")),
    ("ship an order to {country}", (
        "Yes, we ship to {country}. Delivery takes about {days} days.",
        "We deliver to {country} in {days} business days.")),
    ("buy a {product} that is sold out", (
        "The {product} should be back in stock in {days} days. Click 'Notify me' on its page.",
        "It is sold out right now. We restock the {product} every few weeks.")),
    ("pay with a gift card", (
        "Enter the gift card number at checkout under 'Payment method'.",
        "Gift cards work at checkout. Any balance stays on your account.")),
    ("fix the app when it crashes", (
        "Update the app to the latest version, then sign out and back in.",
        "Please reinstall the app. If it still crashes, send us a screenshot.")),
)
# General sentences that real answers carry around the facts (our own wording): they give the
# tokenizer and the model everyday support English.
EXTRAS = (
    "You will get an email when it is done.", "Our team is happy to help by chat or email.",
    "Please keep your order number at hand.", "This usually takes a few minutes.",
    "If anything looks different on your screen, send us a screenshot.",
    "The same steps work in the mobile app.", "We are available every weekday from 9am to 6pm.",
    "You can find more answers in our help center.", "Nothing else on your account changes.",
    "Sign out and back in if the page does not update.", "Thank you for your patience.",
    "Sorry for the trouble this has caused.", "Let me know if you need anything else.",
    "For your security we may ask for your password again.", "It works in any modern browser.",
    "The change shows up on all your devices within an hour.",
    "We will send a confirmation once it is processed.", "There is no extra charge for this.",
    "Business accounts need the owner to approve it.", "A short video in the help center walks "
    "through each step.", "You can also reach us through the contact form.",
    "The option is under your profile picture in the app.",
)
THANKS = ("Thanks!", "Great, thank you.", "That helps, thanks.", "Perfect.")
CLOSINGS = ("You're welcome! Have a nice day.", "Happy to help.", "Glad I could help.",
            "Any time. Take care!")


def support_conversations(n: int, seed: int = 0) -> list[list[dict[str, str]]]:
    """`n` generated support chats (system, user, assistant, sometimes a thank-you turn)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        task, answers = rng.choice(TASKS)
        slots = {"order": f"#{rng.randint(10000, 99999)}", "product": rng.choice(PRODUCTS),
                 "days": rng.randint(2, 9), "country": rng.choice(COUNTRIES)}
        question = rng.choice(ASK).format(t=task.format(**slots))
        answer = " ".join([rng.choice(answers).format(**slots),
                           *rng.sample(EXTRAS, rng.choice((0, 0, 1, 2)))])
        msgs = [{"role": "system", "content": rng.choice(SYSTEMS)},
                {"role": "user", "content": question},
                {"role": "assistant", "content": answer}]
        if rng.random() < 0.3:
            msgs += [{"role": "user", "content": rng.choice(THANKS)},
                     {"role": "assistant", "content": rng.choice(CLOSINGS)}]
        out.append(msgs)
    return out
