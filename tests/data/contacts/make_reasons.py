"""Writes reasons.csv: labelled customer utterances for the 8 demo reasons.

The core sentences are hand-written; each is used once plain and once with a greeting or a
closing line, which is how such messages arrive. Run: python tests/data/contacts/make_reasons.py
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

CORE = {
    "no-internet": [
        "My broadband has been down since this morning",
        "The router lights are flashing orange and nothing loads",
        "I can't get online at all, the wifi connects but there's no connection",
        "Our fibre line stopped working last night",
        "No connection again, this is the third time this week",
        "Is there an outage in my area? Nothing works",
        "The internet keeps dropping every few minutes",
        "I work from home and my connection is dead",
        "Web pages won't load and the router says no signal",
        "Since the storm my broadband light is red",
        "Connection lost, restarted the router twice, still nothing",
        "My internet is extremely slow and then cuts out completely",
        "We have had no service for two days now",
        "The modem shows DSL error and I can't browse",
        "Wifi is fine but there is no internet access",
    ],
    "billing-inquiry": [
        "Why is my bill so much higher this month",
        "I was charged twice for the same month",
        "There's a charge on my invoice I don't recognise",
        "Can you explain the extra fees on my latest statement",
        "My direct debit amount changed without notice",
        "I think my bill is wrong, I was billed for a service I don't have",
        "The invoice shows roaming charges but I never left the country",
        "Why did the price of my plan go up",
        "I need a copy of my last three invoices",
        "I was overcharged on my energy bill",
        "The meter reading on my bill is an estimate and far too high",
        "Please check my account, the payment was taken twice",
        "What is this one-off charge of 49 pounds",
        "My bill doesn't match the tariff I signed up for",
        "I want to dispute an amount on my statement",
    ],
    "moving-house": [
        "I'm moving to a new flat next month, can I take my service with me",
        "We are relocating on the 15th and need the connection at the new place",
        "How do I transfer my contract to my new home",
        "I have bought a house and want to move my broadband there",
        "Please update my address, I moved last week",
        "Can you set up service at my new address from the first of May",
        "We're moving out, what happens to my energy supply",
        "I need to move my account to a different property",
        "New home, same provider: how does the move work",
        "I'll be living at a new address in June",
        "Can the engineer connect my new house on moving day",
        "We are selling our house and moving abroad",
        "Please give me a final meter reading date, I'm leaving the property",
        "Transfer my fibre to 12 Park Road when I move",
        "I'm relocating for work and need internet at the new flat",
    ],
    "new-service-installation": [
        "I'd like to order fibre broadband for my home",
        "Can I get a new line installed",
        "When can an engineer come to install my new router",
        "I want to sign up for your internet package",
        "How long does installation of a new connection take",
        "Please book an installation appointment",
        "I've just ordered and want to know when the technician comes",
        "Do you offer service at my postcode, I want to join",
        "I'd like to become a customer and get a smart meter fitted",
        "Set up a new account and connection for my shop",
        "Can I add a second line for my home office",
        "I want to upgrade to gigabit and need the new equipment installed",
        "What do I need to do before the installer arrives",
        "Order a new TV and broadband bundle please",
        "Interested in getting solar tariff and a meter installed",
    ],
    "cancellation": [
        "I want to end my contract",
        "Please close my account at the end of the month",
        "I'm leaving for another provider, how do I stop the service",
        "How much is the early termination fee if I quit now",
        "I no longer need the service, please stop it",
        "I found a cheaper deal elsewhere and want to leave",
        "Stop my subscription immediately",
        "I'd like to give notice on my plan",
        "Please don't renew my contract when it runs out",
        "How do I switch away from you",
        "Terminate my broadband, I'm going with a competitor",
        "I want out of this contract, the service is too expensive",
        "Can I end my plan without a penalty",
        "Please process my notice to leave",
        "I am unhappy with the price and will be leaving",
    ],
    "refund-request": [
        "I'd like my money back for the days without service",
        "Please return the overpayment to my bank account",
        "You owe me a credit for the outage last week",
        "Can I get reimbursed for the faulty router I paid for",
        "I paid for a month I didn't use, please pay it back",
        "My account is in credit, send the balance back to me",
        "I was promised compensation, when will it arrive",
        "Please repay the deposit now that I returned the equipment",
        "I want a reimbursement for the double charge",
        "Return the money you took after I closed my account",
        "Please credit my account for the missed engineer visit",
        "I'm owed money from my final bill",
        "Give me back the installation fee, nobody came",
        "I need the prepaid amount paid back",
        "Compensation for the broken appointment, please",
    ],
    "complaint": [
        "I am very unhappy with how I was treated by your agent",
        "This is the worst service I have ever had",
        "Nobody called me back even though I was promised",
        "Your staff was rude to me on the phone",
        "I have been waiting weeks and nobody cares",
        "I want to escalate this to a manager",
        "The engineer left a mess and damaged my wall",
        "I'm disappointed, you keep making promises you don't keep",
        "Your customer service is a disgrace",
        "I want to complain about the way my issue was handled",
        "This is unacceptable, I will go to the ombudsman",
        "I've explained my problem five times to five different people",
        "The technician never showed up and no one apologised",
        "I'm fed up with the poor treatment",
        "Please register my dissatisfaction with your service",
    ],
    "account-takeover": [
        "Someone changed my password and I can't log in",
        "I got an email that my account details were changed but it wasn't me",
        "There are logins from another country on my account",
        "My email address on the account was changed by someone else",
        "I think my account has been compromised",
        "A new bank account was added to my profile without my permission",
        "I received a code I didn't request, is someone in my account",
        "My SIM stopped working and I got a notice of a SIM swap",
        "Someone is using my account to order things",
        "Unknown device signed in to my customer portal",
        "I'm locked out and the recovery phone isn't mine anymore",
        "Suspicious activity on my account, please secure it",
        "Somebody accessed my account and changed the phone number",
        "I got an alert about a password reset I never asked for",
        "Fraudster took over my online account",
    ],
}
OPENERS = ["Hi,", "Hello there.", "Good morning,", "Dear team,", "Hey -", "Hi, quick question."]
CLOSERS = [
    "Thanks.",
    "Please help.",
    "Kind regards, Sam",
    "Can someone get back to me today?",
    "Cheers",
    "Thank you in advance.",
]


def rows(seed: int = 11) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    for reason, sentences in CORE.items():
        for sentence in sentences:
            out.append((sentence, reason))
            out.append((f"{rng.choice(OPENERS)} {sentence}. {rng.choice(CLOSERS)}", reason))
            out.append((f"{sentence.lower()}!!", reason))
    rng.shuffle(out)
    return out


if __name__ == "__main__":
    target = Path(__file__).with_name("reasons.csv")
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "reason"])
        writer.writerows(rows())
    print(f"wrote {target}")
