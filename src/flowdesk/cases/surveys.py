"""Satisfaction surveys (CSAT 1-5 and NPS 0-10): sent when a case closes, answered as contacts.

Why through the log and the contacts: CSAT and NPS are KPIs of the event log (`survey.sent`,
`survey.answered`), and the customer answers on an ordinary channel, so an answer is an inbound
contact like any other, stored raw first and never lost. `SurveySender` follows `case.closed`
on its own cursor and sends one survey per case on the case's channel (SMS after a phone call,
email for a web form or a letter; the configured sender when there is one, otherwise it is only
recorded as sent). The survey is kept as an outbound contact of the case, so a reply threads
back to it. Intake asks `recognise` whether a contact answers a survey: an email reply to the
survey, a text starting with the reference and the two scores (`FD-7K3Q9 4 9 thanks`), or the
web survey form (fields reference, csat, nps, comment). Scores out of range make the contact a
dead letter with the reason; they are never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Connection, select

from flowdesk.cases.references import normalize_reference
from flowdesk.cases.service import Case, belongs_to, by_reference, get_case
from flowdesk.channels.notify import ADDRESS_KIND
from flowdesk.channels.outbound import OutboundMessage, Sender
from flowdesk.contacts.errors import InvalidContactError
from flowdesk.contacts.model import ContactDraft
from flowdesk.contacts.models import contacts
from flowdesk.contacts.outbox import record_outbound
from flowdesk.core.clock import Clock
from flowdesk.core.errors import NotFoundError
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent
from flowdesk.core.ids import IdGenerator
from flowdesk.customers.views import get_consents, get_customer
from flowdesk.store import Store

CONSUMER = "case-surveys"
#: The contact reason an answer is recorded under (contacts.reason), so it is told apart.
REASON = "survey"
SUBJECT = "How did we do? Your case {reference}"
TEXT = (
    "Your case {reference} is closed. How satisfied are you with how we handled it (1 to 5), "
    "and how likely are you to recommend us to a friend (0 to 10)? Reply with both scores, "
    "for example '{reference} 4 9', and a comment if you like."
)
#: Where a survey goes when the case's own channel cannot carry one.
SURVEY_CHANNEL = {
    "phone": "sms",
    "web": "email",
    "counter": "email",
    "letter": "email",
    "fax": "email",
}
FALLBACK = ("email", "sms")
CSAT = (1, 5)
NPS = (0, 10)
MAX_COMMENT = 2000

_NUMBER = r"(-?\d+(?:[.,]\d+)?)"
#: Two scores at the start of a text (after an optional reference), then the comment.
_SCORES = re.compile(
    rf"^\s*(?:FD[-\s]?[A-Za-z0-9]{{5}}\b[\s:,-]*)?{_NUMBER}\s*[\s,;/]\s*{_NUMBER}\b(.*)$",
    re.S | re.I,
)
#: A text answer on a channel without threading must start with the case reference.
_WITH_REFERENCE = re.compile(rf"^\s*FD[-\s]?[A-Za-z0-9]{{5}}\b[\s:,-]*{_NUMBER}", re.I)
_QUOTE_START = re.compile(r"^(On .* wrote:|-+ ?Original Message ?-+)\s*$", re.I)

logger = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SentSurvey:
    case_id: str
    reference: str
    customer_id: str
    channel: str
    to: str
    contact_id: str
    message_id: str | None
    delivered: bool  # False: no sender for the channel, only recorded


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    case: Case
    csat: int
    nps: int
    comment: str
    first: bool  # False when the case's survey was answered before (kept, not counted)

    def data(self) -> dict[str, Any]:
        return {
            "reference": self.case.reference,
            "csat": self.csat,
            "nps": self.nps,
            "comment": self.comment,
        }


def subject_for(reference: str) -> str:
    return SUBJECT.format(reference=reference)


def surveyed(conn: Connection, case: Case) -> bool:
    """Was a survey sent for this case?"""
    return (
        conn.execute(
            select(contacts.c.id)
            .where(
                contacts.c.case_id == case.id,
                contacts.c.direction == "out",
                contacts.c.subject == subject_for(case.reference),
            )
            .limit(1)
        ).first()
        is not None
    )


def answered(conn: Connection, case_id: str) -> bool:
    return (
        conn.execute(
            select(contacts.c.id)
            .where(
                contacts.c.case_id == case_id,
                contacts.c.direction == "in",
                contacts.c.reason == REASON,
                contacts.c.status == "processed",
            )
            .limit(1)
        ).first()
        is not None
    )


# -- sending ----------------------------------------------------------------------------------
class SurveySender:
    """Sends the survey of every closed case; `tick()` once per worker round."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        senders: dict[str, Sender] | None = None,
        ids: IdGenerator | None = None,
        consumer: str = CONSUMER,
        batch: int = 500,
        domain: str = "flowdesk.invalid",
    ) -> None:
        self.store = store
        self.clock = clock
        self.senders = dict(senders or {})
        self.ids = ids or store.ids
        self.consumer = consumer
        self.batch = batch
        self.domain = domain
        self._registered = False

    def tick(self) -> list[SentSurvey]:
        """Send a survey for each `case.closed` after the cursor; returns the surveys sent.

        A send that raises (SMTP down) leaves the cursor before its event, so the next round
        tries again; a survey already recorded for the case is not sent twice."""
        log = self.store.events
        if not self._registered:
            log.register(self.consumer)
            self._registered = True
        sent: list[SentSurvey] = []
        while True:
            window = log.read_types(self.consumer, (EventType.CASE_CLOSED,), self.batch)
            if window.position is None:
                return sent
            done = 0
            try:
                for event in window.events:
                    if event.case_id is not None:
                        survey = self.send(event.case_id)
                        if survey is not None:
                            sent.append(survey)
                    done = event.seq
                done = window.position  # all sent: past the events of other types too
            except (OSError, ValueError) as error:  # smtplib and urllib errors are OSErrors
                # The channel is down: this survey and the ones after it wait for next round.
                logger.warning("survey not sent, retried next round", error=str(error))
                return sent
            finally:
                if done:
                    log.ack(self.consumer, done)
            if window.scanned < self.batch:
                return sent

    def send(self, case_id: str) -> SentSurvey | None:
        """The survey of one closed case, unless it was sent already or no channel reaches
        the customer (no address, consent withdrawn)."""
        with self.store.reading() as conn:
            case = get_case(conn, case_id)
            if case is None or case.status != "closed" or surveyed(conn, case):
                return None
            try:
                customer = get_customer(conn, case.customer_id)
            except NotFoundError:
                return None
            consents = get_consents(conn, customer.id)
        first = SURVEY_CHANNEL.get(case.channel or "", case.channel or "email")
        for channel in dict.fromkeys((first, *FALLBACK)):
            consent = consents.get(channel)
            if consent is not None and not consent.granted:
                continue
            kind = ADDRESS_KIND.get(channel, channel)
            address = next((i.value for i in customer.identities if i.kind == kind), None)
            if address is not None:
                return self._send(case, customer.id, channel, address)
        return None

    def _send(self, case: Case, customer_id: str, channel: str, to: str) -> SentSurvey:
        contact_id = self.ids.new_id()
        message_id = f"<survey.{contact_id}@{self.domain}>" if channel == "email" else None
        subject = subject_for(case.reference)
        text = TEXT.format(reference=case.reference)
        sender = self.senders.get(channel)
        message = OutboundMessage(channel, to, text, subject=subject, message_id=message_id)
        raw = sender.send(message) if sender is not None else b""
        now = self.clock.now()
        with self.store.unit_of_work() as uow:
            record_outbound(
                uow.connection,
                contact_id=contact_id,
                channel=channel,
                to=to,
                text=text,
                now=now,
                raw=raw,
                customer_id=customer_id,
                case_id=case.id,
                subject=subject,
                message_id=message_id,
                details={"survey": True, "delivered": sender is not None},
            )
            uow.append(
                NewEvent(
                    EventType.SURVEY_SENT,
                    now,
                    {"reference": case.reference, "delivered": sender is not None},
                    case_id=case.id,
                    contact_id=contact_id,
                    customer_id=customer_id,
                    channel=channel,
                )
            )
        return SentSurvey(
            case.id,
            case.reference,
            customer_id,
            channel,
            to,
            contact_id,
            message_id,
            sender is not None,
        )


# -- answers ----------------------------------------------------------------------------------
def recognise(conn: Connection, draft: ContactDraft, customer_id: str) -> SurveyAnswer | None:
    """The survey answer this contact is, or None when it is not one (then intake goes on as
    usual). Raises InvalidContactError when it is an answer with scores that cannot count."""
    form = draft.details.get("survey")
    if isinstance(form, dict):
        return _form_answer(conn, form, draft, customer_id)
    case = _threaded_survey_case(conn, draft, customer_id)
    body = _unquoted(draft.text)
    if case is None:
        if not _WITH_REFERENCE.match(body):
            return None
        found = by_reference(conn, body)
        if found is None or not belongs_to(conn, found, customer_id) or not surveyed(conn, found):
            return None
        case = found
    match = _SCORES.match(body)
    if match is None:
        return None  # a reply about something else: an ordinary contact
    csat = _score(match.group(1), "CSAT", CSAT, case)
    nps = _score(match.group(2), "NPS", NPS, case)
    return _answer(conn, case, csat, nps, match.group(3))


def _form_answer(
    conn: Connection, form: dict[str, Any], draft: ContactDraft, customer_id: str
) -> SurveyAnswer:
    given = form.get("reference")
    reference = normalize_reference(given) if isinstance(given, str) else None
    if reference is None:
        raise InvalidContactError(
            "the survey form needs the case reference in the field 'reference'",
            hint="the reference is in the survey message, e.g. FD-7K3Q9",
        )
    case = by_reference(conn, reference)
    if case is None or not belongs_to(conn, case, customer_id) or not surveyed(conn, case):
        raise InvalidContactError(
            f"no survey of case {reference} was sent to this sender",
            hint="answer from the email address or phone number the survey went to",
        )
    csat = _score(form.get("csat"), "CSAT", CSAT, case)
    nps = _score(form.get("nps"), "NPS", NPS, case)
    comment = form.get("comment")
    return _answer(conn, case, csat, nps, comment if isinstance(comment, str) else "")


def _answer(conn: Connection, case: Case, csat: int, nps: int, comment: str) -> SurveyAnswer:
    text = comment.strip(" \t\r\n-:,.;")[:MAX_COMMENT]
    return SurveyAnswer(case, csat, nps, text, first=not answered(conn, case.id))


def _threaded_survey_case(conn: Connection, draft: ContactDraft, customer_id: str) -> Case | None:
    """The case whose survey message this contact replies to (same customer only)."""
    if not draft.in_reply_to:
        return None
    rows = conn.execute(
        select(contacts.c.case_id, contacts.c.subject).where(
            contacts.c.message_id.in_(list(draft.in_reply_to)),
            contacts.c.direction == "out",
            contacts.c.case_id.is_not(None),
        )
    ).all()
    for case_id, subject in rows:
        case = get_case(conn, case_id)
        if (
            case is not None
            and subject == subject_for(case.reference)
            and belongs_to(conn, case, customer_id)
        ):
            return case
    return None


def _unquoted(text: str) -> str:
    """The customer's own words of a reply: up to the quoted original."""
    lines: list[str] = []
    for line in text.splitlines():
        if line.lstrip().startswith(">") or _QUOTE_START.match(line.strip()):
            break
        lines.append(line)
    return "\n".join(lines).strip()


def _score(value: Any, name: str, bounds: tuple[int, int], case: Case) -> int:
    low, high = bounds
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        number = int(value)
    if number is None or not low <= number <= high:
        shown = "nothing" if value is None else repr(value)
        raise InvalidContactError(
            f"survey answer for {case.reference}: {name} must be a whole number from {low} "
            f"to {high}, got {shown}",
            hint=f"answer like '{case.reference} 4 9' (CSAT 1-5, then NPS 0-10)",
        )
    return number
