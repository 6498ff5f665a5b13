"""Customer notifications without a manual command: `flowdesk worker` runs one `NotifyRound`
per tick, which announces case updates (`cases.updates.notify_case_updates`) and sends the
notifications deferred by quiet hours whose time has come (`channels.notify.send_due`).

The senders come from the settings: SMTP for email (FLOWDESK_SMTP_HOST and friends) and a
provider URL per other channel (FLOWDESK_NOTIFY_WEBHOOKS). With no sender configured the round
does nothing at all: reading the event log would move the consumer past the updates, and they
would be lost for the day a sender is configured.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowdesk.cases.updates import Offer, notify_case_updates
from flowdesk.channels.notify import send_due
from flowdesk.channels.outbound import Sender, SmtpSender, WebhookSender
from flowdesk.channels.providers import provider_senders
from flowdesk.core.clock import Clock
from flowdesk.logs import get_logger
from flowdesk.settings import Settings
from flowdesk.store import Store

log = get_logger("flowdesk.notifications")


def senders_from(
    settings: Settings, *, store: Store | None = None, clock: Clock | None = None
) -> dict[str, Sender]:
    """The outbound channels the settings configure (none: an empty dict); the messaging
    providers' (Twilio, WhatsApp Cloud API) replace a plain webhook of the same channel. The
    store tells the WhatsApp sender when its 24-hour window is open."""
    senders: dict[str, Sender] = {
        channel: WebhookSender(url) for channel, url in settings.notify_webhooks.items()
    }
    if settings.smtp_host:
        senders["email"] = SmtpSender(
            settings.smtp_host,
            settings.smtp_port,
            from_address=settings.smtp_from,
            domain=settings.smtp_from.rpartition("@")[2] or "flowdesk.invalid",
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password,
        )
    senders.update(provider_senders(settings, store=store, clock=clock))
    return senders


@dataclass(frozen=True, slots=True)
class RoundReport:
    updates: int  # notifications made for case updates (sent, deferred or refused)
    sent_due: int  # deferred notifications sent now

    @property
    def total(self) -> int:
        return self.updates + self.sent_due


class NotifyRound:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        senders: dict[str, Sender],
        offer: Offer | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.senders = senders
        self.offer = offer  # the next best action's line per channel (see cli/rounds.py)

    @property
    def active(self) -> bool:
        return bool(self.senders)

    def tick(self) -> RoundReport:
        """One pass. A sender that fails (the SMTP server is down) is logged and the round
        ends: the unacknowledged updates and the still deferred messages are tried next tick,
        and the worker's other rounds go on."""
        if not self.senders:
            return RoundReport(0, 0)
        try:
            made = notify_case_updates(
                self.store, self.clock, senders=self.senders, offer=self.offer
            )
            sent = send_due(self.store, self.clock, senders=self.senders)
        except (OSError, ValueError) as exc:
            log.warning("notifications not sent, retrying next round", error=str(exc))
            return RoundReport(0, 0)
        return RoundReport(len(made), sent)
