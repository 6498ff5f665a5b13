"""`flowdesk demo live`: the demo company at work on the real clock, next to `flowdesk serve`.

Why: a desktop and dashboards that do not move look like a mock-up. This drives the seed's
`Simulation` (the same customers, channels, texts, agents, claims, replies and survey answers)
with the wall clock instead of a simulated one: contacts arrive as a Poisson stream at `rate`
per minute on every channel, agents claim and complete due work (also work the seed left
waiting, and work others created meanwhile), and the closing and survey consumers run. Waits
and work times are the seed's, multiplied by `pace`, so a demo shows movement within minutes.
It writes through the same store as the server (SQLite WAL lets both write), with fresh random
ids so nothing collides with the seeded history.
"""

from __future__ import annotations

import json
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from flowdesk.channels import twilio, whatsapp
from flowdesk.core.ids import UuidIds
from flowdesk.customers.models import customer_identities, customers
from flowdesk.demo.nba_responses import SimulatedResponses
from flowdesk.demo.seed import SeedReport, Simulation
from flowdesk.store import Store

#: How many known customers the live demo draws its contacts from.
MAX_CUSTOMERS = 5000
#: How often work created outside the simulation (the desktop, the API) is looked for.
ADOPT_EVERY = timedelta(seconds=5)


def provider_formats(rng: random.Random) -> Callable[[str, bytes], tuple[str, bytes]]:
    """SMS arrivals as the providers send them: half as Twilio's incoming-message parameters
    (a third of those WhatsApp through Twilio), half as WhatsApp Cloud API notifications, each
    read by its adapter (flowdesk.channels.twilio, .whatsapp), so the demo's contacts carry the
    providers' own fields and message ids."""

    def reformat(channel: str, raw: bytes) -> tuple[str, bytes]:
        if channel != "sms":
            return channel, raw
        fields = json.loads(raw)
        phone, text = str(fields.get("from") or ""), str(fields.get("text") or "")
        if rng.random() < 0.5:
            sid = f"SM{rng.getrandbits(128):032x}"
            sender = f"whatsapp:{phone}" if rng.random() < 1 / 3 else phone
            params = {"MessageSid": sid, "SmsSid": sid, "From": sender, "To": "+15005550006"}
            params.update(Body=text, NumMedia="0", ApiVersion="2010-04-01")
            channel, payload = twilio.inbound_payload(params)
        else:
            message = {
                "from": phone.lstrip("+"),
                "id": f"wamid.DEMO{rng.getrandbits(96):024x}",
                "timestamp": str(int(time.time())),
                "type": "text",
                "text": {"body": text},
            }
            value = {"messaging_product": "whatsapp", "messages": [message]}
            notification = {
                "object": "whatsapp_business_account",
                "entry": [{"id": "demo", "changes": [{"field": "messages", "value": value}]}],
            }
            payloads, _ = whatsapp.notification(notification)
            channel, payload = "whatsapp", payloads[0]
        return channel, json.dumps(payload).encode()

    return reformat


@dataclass(frozen=True, slots=True)
class LiveStatus:
    seconds: float
    report: SeedReport
    open_work: int
    offers: str = ""  # next best actions presented and accepted (demo/nba_responses.py)

    def line(self) -> str:
        r = self.report
        return (
            f"live {int(self.seconds) // 60:02d}:{int(self.seconds) % 60:02d} | "
            f"contacts {r.contacts} ({r.triaged} triage, {r.dead_letters} dead letters) | "
            f"cases {r.cases} | claimed {r.claimed} | completed {r.work_done} | "
            f"surveys {r.surveys_sent} sent, {r.surveys_answered} answered | "
            f"open work {self.open_work}" + (f" | {self.offers}" if self.offers else "")
        )


def known_customers(store: Store, limit: int = MAX_CUSTOMERS) -> list[dict[str, Any]]:
    """Customers with an email and a phone, the way the simulation addresses them."""
    found: dict[str, dict[str, Any]] = {}
    with store.reading() as conn:
        rows = conn.execute(
            select(
                customer_identities.c.customer_id,
                customer_identities.c.kind,
                customer_identities.c.value,
                customers.c.display_name,
            )
            .join(customers, customers.c.id == customer_identities.c.customer_id)
            .where(customers.c.status == "active")
            .where(customer_identities.c.kind.in_(("email", "phone")))
            .order_by(customer_identities.c.customer_id)
            .limit(limit * 2)
        ).all()
    for customer_id, kind, value, name in rows:
        entry = found.setdefault(customer_id, {"name": name or "Customer"})
        entry[kind] = value
    return [c for c in found.values() if "email" in c and "phone" in c]


from flowdesk.demo.outages import AREAS, assign_service_points, node_event, send  # noqa: E402


class LiveDemo:
    def __init__(
        self,
        store: Store,
        demo_dir: Path,
        *,
        rate: float,
        pace: float,
        seed: int | None = None,
        customers: int = 1000,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be above 0 contacts per minute")
        self.store = store
        self.rate = rate
        self.rng = random.Random(seed)
        now = datetime.now(UTC)
        self.sim = Simulation(
            store,
            demo_dir,
            days=0,
            seed=self.rng.randrange(2**31),
            customers=customers,
            cases_per_day=0,
            end=now,
            pace=pace,
            ids=UuidIds(),
        )
        self.sim.backlog_from = None  # live: every claim and completion happens
        self.sim.reformat = provider_formats(self.rng)
        self.sim.job_round = timedelta(seconds=1)
        self.sim.clock.set(now)
        self.sim.customers = known_customers(store)
        if not self.sim.customers:
            self.sim.make_customers(None)
        self.next_arrival = now + self._gap()
        self.next_adopt = now
        # the network: now and then three nodes of an area go down, and later come back
        assign_service_points(store)
        self.outage: tuple[str, datetime] | None = None  # the area down and when it is back
        self.next_outage = now + timedelta(minutes=self.rng.uniform(1, 3))
        # customers answering next best actions by a hidden propensity (the models learn)
        self.offers = SimulatedResponses(store, self.sim.clock, seed=self.rng.randrange(2**31))

    def _gap(self) -> timedelta:
        return timedelta(seconds=self.rng.expovariate(self.rate / 60))

    def step(self, now: datetime) -> None:
        """Everything due up to `now`: arrivals, claims, completions, replies, answers."""
        while self.next_arrival <= now:
            self.sim.schedule(self.next_arrival, "arrive", {})
            self.next_arrival += self._gap()
        if now >= self.next_adopt:
            self._adopt_open_work()
            self.next_adopt = now + ADOPT_EVERY
        self.sim.advance(now)
        self.sim.clock.set(max(now, self.sim.clock.now()))
        self.sim.run_due_jobs(limit=200)
        self.sim.consumer_round()
        self._network(now)
        self.offers.step(now)

    def _network(self, now: datetime) -> None:
        """Node events as Northwind's network monitoring posts them (the area-outage pattern
        of the outage-restoration bundle turns three downs in ten minutes into a situation)."""
        if self.outage is None and now >= self.next_outage:
            area = self.rng.choice(AREAS)
            send(self.store, *(node_event("node_down", area, f"{area}-{n}", now) for n in "abc"))
            self.outage = (area, now + timedelta(minutes=self.rng.uniform(3, 8)))
        elif self.outage is not None and now >= self.outage[1]:
            area = self.outage[0]
            send(self.store, node_event("node_up", area, f"{area}-a", now))
            self.outage = None
            self.next_outage = now + timedelta(minutes=self.rng.uniform(10, 20))

    def _adopt_open_work(self) -> None:
        """Unclaimed open work the simulation does not know yet (left by the seed, created
        in the desktop or over the API) gets an agent too."""
        for item in self.sim.runtime.work_items():
            if item["id"] in self.sim.known_items or item.get("assignee"):
                continue
            self.sim.known_items.add(item["id"])
            self.sim.adopt(item)

    def status(self, started: float) -> LiveStatus:
        return LiveStatus(
            time.monotonic() - started,
            self.sim.report,
            len(self.sim.runtime.work_items()),
            self.offers.line(),
        )

    def run(
        self,
        *,
        duration: float | None = None,
        tick: float = 0.5,
        on_status: Callable[[LiveStatus], None] | None = None,
    ) -> LiveStatus:
        """Until `duration` seconds have passed (or forever). Ctrl-C (SIGINT) stops between
        steps, so no contact is left half processed."""
        started = time.monotonic()
        last_status = 0.0
        stop: list[int] = []
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGINT, lambda number, _: stop.append(number))
        try:
            while not stop and (duration is None or time.monotonic() - started < duration):
                self.step(datetime.now(UTC))
                if on_status is not None and time.monotonic() - last_status >= 1.0:
                    on_status(self.status(started))
                    last_status = time.monotonic()
                time.sleep(tick)
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        return self.status(started)
