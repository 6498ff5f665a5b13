"""`flowdesk demo seed`: a reproducible history for the demo company, through the front door.

A discrete-event simulation on a FixedClock. Why through the front door: the KPIs and process
mining read the event log, so the history must hold the facts real operations write, in the
order they write them. Every arrival is a contact a generated customer sends on a channel (a
CTI call record with its IVR choice, an email, a chat or SMS message, a web or app form with
the reason picked), submitted through `Intake`: identity resolution, reason recognition (a free
text that no rule recognises waits in triage until a front-office agent assigns the reason),
case opening and the flow start happen for real. Some customers contact again while their case
is open (a reference in the text: attached, or a status question), and some after it closed
(the company's follow-up policy reopens it, or opens a new case linked to it). Agents of the
task's department claim an item after a queue wait and complete it after the work time,
answering its form (values drawn from its JSON Schema, so gateways take every branch now and
then, rework loops included). Customers answer the flows that wait for them with a contact;
other signals (an area restored, an appointment confirmed) are correlated as messages. As time
passes the case-closing consumer closes the cases of ended flows and the survey consumer sends
their surveys; about 40% are answered as contacts, with CSAT lower for slow or reworked cases
and NPS following CSAT. `flowdesk demo live` drives the same simulation on the real clock.
"""

from __future__ import annotations

import heapq
import json
import random
import re
import time
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from faker import Faker

from flowdesk.cases.closing import CaseCloser
from flowdesk.cases.surveys import SentSurvey, SurveySender
from flowdesk.contacts.follow_ups import FollowUpPolicy
from flowdesk.contacts.intake import Intake, IntakeResult
from flowdesk.contacts.rules import DEFAULT_IVR
from flowdesk.core.clock import FixedClock
from flowdesk.core.errors import FlowdeskError
from flowdesk.core.event_types import EventType
from flowdesk.core.events import StoredEvent
from flowdesk.core.ids import IdGenerator
from flowdesk.customers.bulk import SourceRow, import_rows
from flowdesk.experience.company import load_company
from flowdesk.experience.service import catalog, experience_for
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store
from flowdesk.store.processes import ProcessRepository

Progress = Callable[[str, int, int], None]

#: Share of the day's contacts arriving in each hour (08:00-20:00 peak, quiet nights).
HOURLY = [1, 1, 1, 1, 1, 2, 4, 8, 12, 12, 11, 10, 9, 9, 10, 10, 9, 8, 7, 6, 4, 3, 2, 1]
WEEKDAY = [1.0, 0.95, 0.9, 0.9, 0.85, 0.5, 0.35]
#: Mean minutes of work per task and of waiting in the queue, by department.
WORK_MINUTES = {
    "front-office": 12,
    "billing": 25,
    "field-service": 90,
    "network-operations": 40,
    "retention": 20,
}
WAIT_MINUTES = {
    "front-office": 20,
    "billing": 180,
    "field-service": 600,
    "network-operations": 60,
    "retention": 120,
}
#: Work due in the last day before "now" is left undone, as a live queue would have it.
BACKLOG = timedelta(hours=24)
SEGMENTS = [("residential", 0.7), ("premium", 0.2), ("business", 0.1)]
CHANNELS = [("phone", 35), ("email", 20), ("chat", 15), ("web", 12), ("app", 10), ("sms", 8)]
REPEAT_SHARE = 0.15  # cases whose customer contacts again while the case is open
SURVEY_ANSWER_SHARE = 0.4
BAD_ANSWER_SHARE = 0.02  # answers with a score out of range: dead letters
#: How often (simulated time) the closing and survey consumers run, as a worker would.
CONSUMER_ROUND = timedelta(hours=1)
JOB_ROUND = timedelta(minutes=10)
IVR_CHOICE = {reason: digit for digit, reason in DEFAULT_IVR.items()}
#: What customers write, per reason: phrases the keyword rules know, and plain ones they do
#: not (those go to triage when no form or IVR menu gave the reason).
TEXTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "no-internet": (
        ("My internet is down since this morning.", "No internet at home, the router is red."),
        ("The connection keeps dropping every few minutes.",),
    ),
    "billing-inquiry": (
        (),
        ("My last invoice is much higher than usual.", "I was charged twice this month."),
    ),
    "moving-house": (
        ("I am moving house next month, please move my contract.", "Change of address."),
        ("We are relocating to another city in a few weeks.",),
    ),
    "new-service-installation": (
        (),
        ("I would like fibre installed at my new home.", "When can you connect my new home?"),
    ),
    "cancellation": (
        ("I want to cancel my contract.", "Please cancel my subscription."),
        ("I would like to stop being your customer.",),
    ),
    "refund-request": (
        ("I would like a refund for the days without service.",),
        ("I paid for a month without service and want my money back.",),
    ),
    "complaint": (
        ("I want to make a complaint about the engineer.", "This is a formal complaint."),
        ("Your service has been terrible and nobody calls back.",),
    ),
    "account-takeover": (
        ("I think my account was hacked.", "Someone logged into my account."),
        ("I got a password reset mail I never asked for.",),
    ),
}
#: How customers feel as they write (the sentiment dashboard's variation): a sentence added to
#: some first contacts, drawn from its own random stream so the seeded history stays the same.
#: None of them holds a keyword of the reason rules.
MOODS = {
    "negative": (
        "This is the third time and I am really fed up.",
        "Absolutely unacceptable, nobody helps me.",
        "Very disappointed with your service.",
        "I am angry and frustrated, this is ridiculous.",
        "Terrible experience so far.",
    ),
    "positive": (
        "Thanks a lot in advance!",
        "Your team was great last time, thank you.",
        "Happy with you otherwise, thanks!",
        "Appreciate the quick help.",
    ),
}
#: Share of first contacts with a negative and a positive sentence, per reason (else 0.2, 0.25).
MOOD_SHARES = {
    "complaint": (0.8, 0.0),
    "no-internet": (0.55, 0.1),
    "refund-request": (0.5, 0.1),
    "cancellation": (0.45, 0.1),
    "billing-inquiry": (0.4, 0.15),
    "new-service-installation": (0.05, 0.5),
    "moving-house": (0.1, 0.45),
}
FOLLOW_UPS = (
    "About {ref}: I still have no news, please call me back.",
    "Regarding {ref} - is anyone working on this?",
    "{ref}: I sent the details you asked for.",
)
#: What customers write when the problem comes back after their case was closed.
AGAIN = (
    "{ref}: the problem is back again.",
    "fd{code}: it happened again since yesterday.",
    "Same issue as case {ref}, it is not solved.",
)
AGAIN_SHARE = 0.06  # closed cases whose customer writes again later (days to weeks)
STATUS_QUESTIONS = ("What is the status of {ref}?", "Status {ref} please")
REPLIES = ("{ref}: yes, that works for me.", "{ref}: thank you, I accept.")
COMMENTS = {
    5: ("Quick and friendly, thank you!", "Solved in no time.", ""),
    4: ("Good help.", "Fine, a bit slow at first.", ""),
    3: ("It took a while.", "OK in the end.", ""),
    2: ("Far too slow.", "I had to chase you several times.", ""),
    1: ("Terrible, nobody called back.", "I am thinking of leaving.", ""),
}


@dataclass
class SeedReport:
    customers: int = 0
    contacts: int = 0
    cases: int = 0
    completed_cases: int = 0  # cases closed
    repeat_contacts: int = 0
    triaged: int = 0
    claimed: int = 0
    work_done: int = 0
    messages: int = 0
    timers: int = 0
    surveys_sent: int = 0
    surveys_answered: int = 0
    dead_letters: int = 0
    open_work: int = 0
    events: int = 0
    seconds: float = 0.0
    event_types: dict[str, int] = field(default_factory=dict)


class SeededUuids:
    """Random-looking but reproducible ids, so the same seed gives the same history."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed ^ 0x5EED)

    def new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


@dataclass(order=True)
class _Action:
    at: datetime
    seq: int
    kind: str = field(compare=False)
    payload: dict[str, Any] = field(compare=False, default_factory=dict)


@dataclass
class _Case:
    """What the simulation remembers of a case it opened (to judge it in the survey)."""

    id: str
    reference: str
    customer: int
    opened_at: datetime
    elements: Counter[str] = field(default_factory=Counter)

    @property
    def reworks(self) -> int:
        return sum(n - 1 for n in self.elements.values() if n > 1)


class Simulation:
    """The demo operation: customers, agents and their timing. `run` replays a past period
    on a FixedClock; `advance` is the step `flowdesk demo live` calls on the real clock."""

    def __init__(
        self,
        store: Store,
        demo_dir: Path,
        *,
        days: int,
        seed: int,
        customers: int,
        cases_per_day: int,
        end: datetime | None = None,
        pace: float = 1.0,
        ids: IdGenerator | None = None,
    ) -> None:
        self.store = store
        self.rng = random.Random(seed)
        self.moods = random.Random(seed ^ 0x3E3E)  # feelings (MOODS), apart from the history
        self.faker = Faker(["nl_NL", "en_GB"])
        self.faker.seed_instance(seed)
        self.days = days
        self.customer_count = customers
        self.cases_per_day = cases_per_day
        self.pace = pace  # < 1: everyone works faster than in life (the live demo)
        now = (end or datetime.now(UTC)).replace(second=0, microsecond=0)
        self.end = now
        self.clock = FixedClock(now - timedelta(days=days))
        self.ids = ids or SeededUuids(seed)
        self.runtime = ProcessRuntime(store, clock=self.clock, ids=self.ids)
        company = load_company(demo_dir / "company.yaml")
        self.intake = Intake(
            store,
            self.runtime,
            clock=self.clock,
            ids=self.ids,
            default_region="NL",
            follow_ups=FollowUpPolicy.from_company(company),
        )
        self.surveys = SurveySender(store, self.clock, ids=self.ids)
        self.closer = CaseCloser(store, on_closed=self._survey_closed)
        self.forms: dict[tuple[str, str], tuple[dict[str, Any], list[Any]]] = {}
        self.next_jobs = self.clock.now()
        self.job_round = JOB_ROUND
        #: A contact's channel and payload rewritten before intake (None: as they are).
        self.reformat: Callable[[str, bytes], tuple[str, bytes]] | None = None
        self.agents: dict[str, list[str]] = {}
        for agent in company.get("agents", []):
            self.agents.setdefault(agent["department"], []).append(agent["username"])
        self.reasons = sorted(e.reason for e in catalog(store))
        self.queue: list[_Action] = []
        self.seq = 0
        self.known_items: set[str] = set()
        self.waiting: set[str] = set()  # subscription ids already scheduled
        self.customers: list[dict[str, Any]] = []
        self.cases: dict[str, _Case] = {}  # by instance id
        self.case_ids: dict[str, _Case] = {}  # by case id
        self.backlog_from: datetime | None = self.end - BACKLOG
        self.next_round = self.clock.now()
        self.report = SeedReport()

    # -- set-up -----------------------------------------------------------------------------
    def make_customers(self, progress: Progress | None) -> None:
        rows = []
        for n in range(1, self.customer_count + 1):
            given, family = self.faker.first_name(), self.faker.last_name()
            segment = self._pick(SEGMENTS)
            value = round(self.rng.lognormvariate(6.2 if segment != "business" else 7.5, 0.6), 2)
            email = f"{_slug(given)}.{_slug(family)}.{n}@example.nl"
            phone = f"+3161{n:07d}"
            rows.append(
                SourceRow(
                    n,
                    {
                        "given_name": given,
                        "family_name": family,
                        "email": email,
                        "phone": phone,
                        "birth_date": self.faker.date_of_birth(
                            minimum_age=18, maximum_age=90
                        ).isoformat(),
                        "street": self.faker.street_address(),
                        "city": self.faker.city(),
                        "postcode": self.faker.postcode(),
                        "country": "NL",
                        "segment": segment,
                        "value": str(value),
                    },
                )
            )
            self.customers.append(
                {"segment": segment, "name": f"{given} {family}", "email": email, "phone": phone}
            )
        with self.store.unit_of_work() as uow:
            import_rows(
                uow=uow,
                clock=self.clock,
                rows=rows,
                source="demo",
                actor="demo",
                ids=self.ids,
                progress=progress,
            )
        from flowdesk.demo.outages import assign_service_points

        assign_service_points(self.store)  # areas and products, for the outage pattern
        self.report.customers = len(rows)

    def plan_arrivals(self) -> None:
        start = self.clock.now()
        for day in range(self.days + 1):
            date = start + timedelta(days=day)
            expected = self.cases_per_day * WEEKDAY[date.weekday()]
            count = max(0, round(self.rng.gauss(expected, expected**0.5)))
            for _ in range(count):
                hour = self._pick(list(enumerate(HOURLY)))
                at = date.replace(hour=hour, minute=0) + timedelta(minutes=self.rng.randrange(60))
                if start <= at < self.end:
                    self.schedule(at, "arrive", {})

    # -- the loop ---------------------------------------------------------------------------
    def run(self, progress: Progress | None = None) -> SeedReport:
        total = sum(1 for a in self.queue if a.kind == "arrive")
        done = 0

        def counted(kind: str) -> None:
            nonlocal done
            if kind == "arrive":
                done += 1
                if progress is not None:
                    progress("simulating", done, total)

        self.advance(self.end, on_action=counted)
        self.clock.set(self.end)
        self.next_jobs = self.end
        self.run_due_jobs(limit=10_000)
        self.consumer_round()
        self.consumer_round()  # the surveys of the cases the first round closed
        from flowdesk.sentiment.service import SentimentScorer

        SentimentScorer(self.store).tick()  # what the customers' words feel like, scored
        self.report.open_work = len(self.runtime.work_items())
        self.report.event_types = event_counts(self.store)
        self.report.events = sum(self.report.event_types.values())
        self.report.completed_cases = self.report.event_types.get(EventType.CASE_CLOSED, 0)
        return self.report

    def advance(self, until: datetime, on_action: Callable[[str], None] | None = None) -> None:
        """Carry out every action due before `until`, moving the clock along; timers fire and
        the consumers run as the clock passes them."""
        while self.queue and self.queue[0].at < until:
            action = heapq.heappop(self.queue)
            self.clock.set(max(action.at, self.clock.now()))
            if self.clock.now() >= self.next_round:
                self.consumer_round()
            if action.kind in ("claim", "work", "assign") and self._in_backlog(action.at):
                continue  # the last day's work is still waiting: the desktop opens on a queue
            self.run_due_jobs()
            getattr(self, f"_on_{action.kind}")(action.payload)
            if on_action is not None:
                on_action(action.kind)

    def consumer_round(self) -> None:
        """What `flowdesk worker` does each round for cases: close ended ones, send surveys
        (for the case.closed events the closing consumer reads: one pass over the log)."""
        self.next_round = self.clock.now() + CONSUMER_ROUND
        self.closer.tick()

    def _survey_closed(self, event: StoredEvent) -> None:
        case = self.case_ids.get(event.case_id or "")
        if case is not None and self.rng.random() < AGAIN_SHARE:
            # the problem comes back: within the reopen window or weeks later (a new case)
            days = self.rng.expovariate(1 / 9)
            self.schedule(self._later(hours=days * 24), "repeat", {"case": case.id, "again": 1})
        survey = self.surveys.send(event.case_id or "")
        if survey is None:
            return
        self.report.surveys_sent += 1
        if self.rng.random() < SURVEY_ANSWER_SHARE:
            delay = timedelta(hours=min(72.0, self.rng.expovariate(1 / 10)))
            self.schedule(self.clock.now() + delay * self.pace, "survey", {"survey": survey})

    def run_due_jobs(self, limit: int = 500) -> None:
        """Timers and continuations, every `job_round` of simulated time, as a worker polls
        (not before every action: an empty poll is a write transaction)."""
        if self.clock.now() >= self.next_jobs:
            self.next_jobs = self.clock.now() + self.job_round
            self.report.timers += self.runtime.run_due_jobs(limit=limit)

    def _in_backlog(self, at: datetime) -> bool:
        return self.backlog_from is not None and at > self.backlog_from

    # -- what happens -----------------------------------------------------------------------
    def _on_arrive(self, _: dict[str, Any]) -> None:
        reason = self.rng.choice(self.reasons)
        number = self.rng.randrange(len(self.customers))
        customer = self.customers[number]
        channel = self._pick(CHANNELS)
        keyword, plain = TEXTS.get(reason, ((), (f"About {reason}.",)))
        text = self.rng.choice(keyword if keyword and self.rng.random() < 0.9 else plain)
        text = self._felt(reason, text)
        if channel == "phone":
            choice = IVR_CHOICE.get(reason)
            raw = self._payload(
                {
                    "event": "call.ended",
                    "caller": customer["phone"],
                    "call_id": self.ids.new_id(),
                    "ivr_choice": choice,
                    "duration_s": int(self.rng.lognormvariate(5.5, 0.5)),
                    "transcript": text,
                }
            )
        elif channel in ("web", "app"):  # the form's reason list
            raw = self._payload(
                {"email": customer["email"], "reason": reason, "message": text, "text": text}
            )
        else:
            raw = self._message(channel, customer, text, subject=text.split(".")[0][:60])
        result = self._submit(channel, raw)
        if result is None:
            return
        if result.action == "triage":
            self.schedule(
                self._later(minutes=self.rng.expovariate(1 / 30)),
                "assign",
                {"contact": result.contact_id, "reason": reason, "customer": number},
            )
        else:
            self._opened(result, number)

    def _on_assign(self, payload: dict[str, Any]) -> None:
        agent = self.rng.choice(self.agents.get("front-office") or ["demo"])
        try:
            result = self.intake.assign_reason(payload["contact"], payload["reason"], actor=agent)
        except FlowdeskError:
            return
        self._opened(result, payload["customer"])

    def _opened(self, result: IntakeResult, customer: int) -> None:
        if result.action != "started" or not result.instance_id or not result.case_id:
            if result.instance_id:
                self._follow(result.instance_id)
            return
        self.report.cases += 1
        case = _Case(result.case_id, result.case_reference or "", customer, self.clock.now())
        self.cases[result.instance_id] = case
        self.case_ids[case.id] = case
        if self.rng.random() < REPEAT_SHARE:
            hours = self.rng.expovariate(1 / 18)
            self.schedule(self._later(hours=hours), "repeat", {"case": case.id})
        self._follow(result.instance_id)

    def _on_repeat(self, payload: dict[str, Any]) -> None:
        case = self.case_ids[payload["case"]]
        customer = self.customers[case.customer]
        templates: Sequence[str] = AGAIN
        if not payload.get("again"):
            templates = STATUS_QUESTIONS if self.rng.random() < 0.35 else FOLLOW_UPS
        code = case.reference.removeprefix("FD-").lower()
        text = self.rng.choice(templates).format(ref=case.reference, code=code)
        channel = self._pick([c for c in CHANNELS if c[0] != "phone"])
        result = self._submit(channel, self._message(channel, customer, text, subject=text))
        if result is None:
            return
        self.report.repeat_contacts += 1
        if result.action in ("reopened", "started") and result.instance_id and result.case_id:
            # a reopened case, or a new one that follows the closed case: its flow is worked
            again = self.case_ids.get(result.case_id)
            if again is None:  # a new case that follows the closed one
                self.report.cases += 1
                again = _Case(
                    result.case_id, result.case_reference or "", case.customer, self.clock.now()
                )
            self.case_ids[again.id] = again
            self.cases[result.instance_id] = again
            self._follow(result.instance_id)

    def _on_claim(self, payload: dict[str, Any]) -> None:
        try:
            self.runtime.claim(payload["item"], payload["agent"])
        except FlowdeskError:
            return  # closed meanwhile (a timer, a cancellation) or taken by someone else
        self.report.claimed += 1
        work = self.rng.lognormvariate(0, 0.5) * WORK_MINUTES.get(payload["dept"], 20)
        self.schedule(self._later(minutes=work), "work", payload)

    def _on_work(self, payload: dict[str, Any]) -> None:
        item_id = payload["item"]
        try:
            answers = self._answers(item_id, (payload["definition"], payload["element"]))
            state = self.runtime.complete_work_item(item_id, answers, actor=payload["agent"])
        except FlowdeskError:
            return  # closed by a boundary event in the meantime
        self.report.work_done += 1
        self._follow(state.id)

    def _on_reply(self, payload: dict[str, Any]) -> None:
        """A customer answers the flow that waits for them: a contact naming the case."""
        case = self.case_ids.get(payload.get("case", ""))
        if case is not None:
            customer = self.customers[case.customer]
            text = self.rng.choice(REPLIES).format(ref=case.reference)
            channel = self._pick([c for c in CHANNELS if c[0] != "phone"])
            if self._submit(channel, self._message(channel, customer, text, subject=text)):
                self.report.messages += 1
            self._follow(payload["instance"])
            return
        hit = self.runtime.correlate_message(payload["name"], payload["key"], payload["vars"])
        if hit:
            self.report.messages += 1
            for instance_id in hit:
                self._follow(instance_id)

    def _on_survey(self, payload: dict[str, Any]) -> None:
        survey: SentSurvey = payload["survey"]
        case = self.case_ids.get(survey.case_id)
        csat, nps = self._scores(case)
        comment = self.rng.choice(COMMENTS[csat])
        if self.rng.random() < BAD_ANSWER_SHARE:
            csat = self.rng.choice((0, 6, 9))  # a slip of the thumb: kept as a dead letter
        ref = survey.reference
        if survey.channel == "email" and survey.message_id and self.rng.random() < 0.5:
            message = self._email(survey.to, f"Re: How did we do? {ref}", f"{csat} {nps} {comment}")
            message["In-Reply-To"] = survey.message_id
            channel, raw = "email", message.as_bytes()
        elif survey.channel == "email":  # the web form the survey links to
            channel = "web"
            form = {"reference": ref, "csat": csat, "nps": nps, "comment": comment}
            raw = self._payload({"email": survey.to, "form": "survey", **form})
        else:
            channel = survey.channel
            identity = {"email": survey.to} if "@" in survey.to else {"phone": survey.to}
            raw = self._channel_payload(channel, identity, f"{ref} {csat} {nps} {comment}")
        result = self._submit(channel, raw)
        if result is not None and result.action == "survey":
            self.report.surveys_answered += 1

    # -- helpers ----------------------------------------------------------------------------
    def _submit(self, channel: str, raw: bytes) -> IntakeResult | None:
        self.report.contacts += 1
        if self.reformat is not None:  # `demo live`: SMS as Twilio and WhatsApp send them
            channel, raw = self.reformat(channel, raw)
        result = self.intake.submit(channel, raw)
        if result.status == "failed":
            self.report.dead_letters += 1
            return None
        if result.action == "triage":  # a text no rule knows, or a reply after the case closed
            self.report.triaged += 1
        return result

    def _scores(self, case: _Case | None) -> tuple[int, int]:
        """CSAT falls with turnaround and rework; NPS follows CSAT."""
        score = 4.6 + self.rng.gauss(0, 0.7)
        if case is not None:
            days = (self.clock.now() - case.opened_at).total_seconds() / 86400
            score -= min(2.0, max(0.0, days - 1) * 0.35) + min(1.5, case.reworks * 0.6)
        csat = max(1, min(5, round(score)))
        nps = max(0, min(10, round(csat * 2.2 - 1.2 + self.rng.gauss(0, 1.2))))
        return csat, nps

    def _payload(self, fields: dict[str, Any]) -> bytes:
        return json.dumps({k: v for k, v in fields.items() if v is not None}).encode()

    def _felt(self, reason: str, text: str) -> str:
        """The text with how the customer feels, sometimes (MOOD_SHARES)."""
        negative, positive = MOOD_SHARES.get(reason, (0.2, 0.25))
        draw = self.moods.random()
        if draw < negative:
            return f"{text} {self.moods.choice(MOODS['negative'])}"
        if draw < negative + positive:
            return f"{text} {self.moods.choice(MOODS['positive'])}"
        return text

    def _message(self, channel: str, customer: dict[str, Any], text: str, *, subject: str) -> bytes:
        if channel == "email":
            return self._email(
                f"{customer['name']} <{customer['email']}>", subject, text
            ).as_bytes()
        if channel == "sms":
            return self._channel_payload(channel, {"phone": customer["phone"]}, text)
        return self._channel_payload(channel, {"email": customer["email"]}, text)

    def _channel_payload(self, channel: str, identity: dict[str, str], text: str) -> bytes:
        if channel == "sms":
            return self._payload({"from": identity.get("phone"), "text": text})
        if channel == "chat":
            return self._payload({**identity, "session_id": self.ids.new_id(), "text": text})
        return self._payload({**identity, "message": text, "text": text})

    def _email(self, sender: str, subject: str, text: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = sender
        message["To"] = "service@northwind.example"
        message["Subject"] = subject
        message["Message-ID"] = f"<{self.ids.new_id()}@example.nl>"
        message.set_content(text)
        return message

    def _follow(self, instance_id: str) -> None:
        """Schedule claims for new items and replies for new message waits of an instance."""
        case = self.cases.get(instance_id)
        for item in self.runtime.work_items(instance_id=instance_id):
            if item["id"] in self.known_items:
                continue
            self.known_items.add(item["id"])
            if case is not None:
                case.elements[item["element_id"]] += 1
            self.adopt(item)
        with self.store.reading() as conn:
            subs = ProcessRepository(conn).instance_subscriptions(instance_id)
        for sub in subs:
            if sub["id"] in self.waiting or sub["kind"] != "message":
                continue
            self.waiting.add(sub["id"])
            if self.rng.random() < 0.8:  # some customers never answer: timers take over
                payload: dict[str, Any] = {
                    "name": sub["name"],
                    "key": sub["correlation_key"],
                    "vars": {"customerReplied": True},
                    "instance": instance_id,
                }
                if case is not None and sub["correlation_key"] == case.reference:
                    payload["case"] = case.id
                self.schedule(self._later(hours=self.rng.expovariate(1 / 20)), "reply", payload)

    def adopt(self, item: dict[str, Any]) -> None:
        """An agent of the item's department will claim it after a queue wait."""
        department = item["lane"] or (item["candidate_groups"] or ["front-office"])[0]
        dept = department.lower().replace(" ", "-")
        agents = self.agents.get(dept) or [a for v in self.agents.values() for a in v]
        wait = self.rng.expovariate(1 / WAIT_MINUTES.get(dept, 60))
        self.schedule(
            self._later(minutes=wait),
            "claim",
            {
                "item": item["id"],
                "agent": self.rng.choice(agents),
                "dept": dept,
                "definition": item["definition_id"],
                "element": item["element_id"],
            },
        )

    def _later(self, *, minutes: float = 0.0, hours: float = 0.0) -> datetime:
        return self.clock.now() + timedelta(minutes=minutes, hours=hours) * self.pace

    def _answers(self, item_id: str, task: tuple[str, str]) -> dict[str, Any]:
        """Answers to the task's form and script; the form is read once per task of a
        deployed definition (reading the whole experience per item cost a third of a seed)."""
        if task not in self.forms:
            experience = experience_for(self.store, item_id, suggestions=0)
            self.forms[task] = (experience.form or {}, list(experience.script))
        schema, script = self.forms[task]
        answers: dict[str, Any] = {}
        for name, prop in (schema.get("properties") or {}).items():
            answers[name] = self._value(prop)
        for step in script:
            if not step.variable or step.variable in answers:
                continue
            if step.options:
                answers[step.variable] = self.rng.choice(step.options)["value"]
            elif step.type in ("boolean", "number", "integer"):
                answers[step.variable] = self._value({"type": step.type})
            else:
                answers[step.variable] = self.faker.sentence(nb_words=5)
        return answers

    def _value(self, prop: dict[str, Any]) -> Any:
        if "enum" in prop:
            return self.rng.choice(prop["enum"])
        kind = prop.get("type")
        if kind == "boolean":
            return self.rng.random() < 0.8
        if kind in ("number", "integer"):
            low = prop.get("minimum", prop.get("exclusiveMinimum", 0)) or 0
            high = prop.get("maximum", low + 500)
            value = self.rng.triangular(low, min(high, low + 1000), low + (high - low) * 0.1)
            if kind == "integer":
                return max(int(low) + (1 if "exclusiveMinimum" in prop else 0), int(value))
            return round(max(value, low + 0.01), 2)
        if prop.get("format") == "date":
            return (self.clock.now() + timedelta(days=self.rng.randrange(1, 14))).date().isoformat()
        return self.faker.sentence(nb_words=6)

    def schedule(self, at: datetime, kind: str, payload: dict[str, Any]) -> None:
        self.seq += 1
        heapq.heappush(self.queue, _Action(at, self.seq, kind, payload))

    def _pick(self, weighted: Sequence[tuple[Any, float]]) -> Any:
        values, weights = zip(*weighted, strict=True)
        return self.rng.choices(values, weights=weights)[0]


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", ascii_text.lower()) or "x"


def event_counts(store: Store) -> dict[str, int]:
    """How many events of each type the log holds (the figure a seed is judged by)."""
    return store.events.type_counts()


def seed(
    store: Store,
    demo_dir: Path,
    *,
    days: int = 30,
    seed: int = 7,
    customers: int = 10_000,
    cases_per_day: int = 40,
    end: datetime | None = None,
    progress: Progress | None = None,
) -> SeedReport:
    started = time.perf_counter()
    simulation = Simulation(
        store,
        demo_dir,
        days=days,
        seed=seed,
        customers=customers,
        cases_per_day=cases_per_day,
        end=end,
    )
    simulation.make_customers(progress)
    simulation.plan_arrivals()
    report = simulation.run(progress)
    report.seconds = round(time.perf_counter() - started, 2)
    return report
