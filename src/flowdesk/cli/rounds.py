"""One worker round: due timers and async jobs, HTTP connector tasks, routing, case closing,
surveys, notifications and the idempotency purge. `flowdesk worker` runs rounds in a loop;
`flowdesk serve` runs the same rounds in a background thread (FLOWDESK_EMBEDDED_WORKER, on by
default) so a single server, `make run` included, fires timers and closes cases without a second
command, as an engine with a built-in job executor does. Several workers and servers may run
rounds against one PostgreSQL: jobs are taken with SKIP LOCKED and the consumers keep their own
cursors."""

from __future__ import annotations

import threading
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from flowdesk.core.clock import Clock
from flowdesk.settings import Settings
from flowdesk.store import Store


class WorkerRounds:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        name: str,
        batch: int = 50,
        routing: bool = True,
        notify: bool = True,
        clock: Clock | None = None,
    ) -> None:
        """`clock`: the wall clock unless a test or simulation drives time."""
        from flowdesk.api.idempotency import KeyPurger
        from flowdesk.cases.closing import CaseCloser
        from flowdesk.cases.notifier import NotifyRound, senders_from
        from flowdesk.cases.surveys import SurveySender
        from flowdesk.connectors.http import HttpConnectorWorker
        from flowdesk.runtime.processes import ProcessRuntime

        self.batch = batch
        self.runtime = ProcessRuntime(store, worker_id=name, clock=clock)
        clock = self.runtime.clock
        retention = timedelta(hours=settings.idempotency_retention_hours)
        self.purger = KeyPurger(store, clock, retention=retention)
        self.router: Any = None
        if routing:
            from flowdesk.app.organisation import routing_for

            # the company file's organisation: lanes, skills, customer SLAs and their ladders
            self.router = routing_for(
                store, settings.company_file, clock=clock, runtime=self.runtime
            )
        senders = senders_from(settings, store=store, clock=clock) if notify else {}
        self.closer = CaseCloser(store)  # case.closed for every flow that ended, then its survey
        self.surveys = SurveySender(store, clock, senders=senders)
        from flowdesk.nba.service import outbound_offer

        # each update carries the customer's next best action for its channel (email, sms)
        self.notifier = NotifyRound(store, clock, senders, offer=outbound_offer(store, clock))
        self.connectors = HttpConnectorWorker(self.runtime, settings, worker_id=f"{name}:http")
        from flowdesk.situations.actions import ActionRunner
        from flowdesk.situations.consumer import SituationConsumer

        # event patterns: situations from the log, then their actions (each once)
        self.situations = SituationConsumer(store, clock)
        self.actions = ActionRunner(store, self.runtime, clock=clock, senders=senders)
        self.situations_apart = False  # True once start_situations runs them in their own loop

        from flowdesk.nba.scores import ScoreRefresher

        self.scores = ScoreRefresher(store, clock)  # customer value and churn risk
        from flowdesk.sentiment.service import SentimentScorer

        self.sentiment = SentimentScorer(store, clock)  # what customers' words feel like
        self.jobs = 0
        # contacts a dead process stored raw and never handled (flowdesk.contacts.intake)
        from flowdesk.app.contacts import build_intake

        state = SimpleNamespace(store=store, clock=clock, settings=settings)
        state.process_runtime = self.runtime
        self.intake = build_intake(state)
        self.lease = timedelta(seconds=settings.contact_lease_seconds)
        self.attempts = settings.contact_attempts
        # retention periods of the company file (flowdesk.contacts.privacy.Retention)
        from flowdesk.app.privacy import retention_of

        self.retention = retention_of(settings.company_file)
        self._retained_at: Any = None
        # event retention and archival of closed months (flowdesk.app.archive), if asked for
        self.archive_every = timedelta(hours=settings.archive_every_hours)
        self._archived_at: Any = None
        self._company_file = settings.company_file
        # customers' email from the IMAP mailboxes of the settings (channels.imap)
        self.mailboxes = list(settings.imap_mailboxes)
        self.mail_intake: Any = self.intake if self.mailboxes else None
        self.mail_stop: threading.Event | None = None

    @property
    def notifying(self) -> bool:
        return bool(self.notifier.active)

    def tick(self) -> int:
        """One round; returns how much it did (0: nothing was due, the caller may sleep)."""
        done = self.runtime.run_due_jobs(limit=self.batch)
        done += self.connectors.tick()  # HTTP connector tasks (calls outside any transaction)
        self.jobs += done
        routed = sum(self.router.tick().values()) if self.router is not None else 0
        self.purger.tick()  # old Idempotency-Key answers (not work: it never keeps us awake)
        routed += len(self.intake.rescue(lease=self.lease, max_attempts=self.attempts))
        now = self.runtime.clock.now()
        if self._retained_at is None or now - self._retained_at >= self.retention.every:
            self._retained_at = now  # like the purge: never counted as work
            self.retention.apply(self.runtime.store, now)
        if self.archive_every and (
            self._archived_at is None or now - self._archived_at >= self.archive_every
        ):
            self._archived_at = now  # never counted as work either
            self._archive()
        routed += len(self.closer.tick()) + len(self.surveys.tick())
        if not self.situations_apart:
            routed += self.situations.tick() + self.actions.tick()
        routed += self.scores.tick()
        routed += self.sentiment.tick()
        return int(done + routed + self.notifier.tick().total + self._poll_mail())

    def _archive(self) -> None:
        from flowdesk.app.archive import archive_events
        from flowdesk.app.context import Ops
        from flowdesk.auth.roles import permissions_of
        from flowdesk.auth.service import Principal

        roles = ("admin",)
        worker = Principal("worker", "worker", "worker rounds", roles, (), permissions_of(roles))
        ops = Ops(store=self.runtime.store, clock=self.runtime.clock, runtime=self.runtime)
        archive_events(worker, ops, company_file=self._company_file)

    def _poll_mail(self) -> int:
        """One poll of every mailbox, unless watchers (IDLE) already take the mail."""
        if not self.mailboxes or self.mail_stop is not None:
            return 0
        from flowdesk.channels.imap import ImapSettings, poll
        from flowdesk.logs import get_logger

        taken = 0
        for mailbox in self.mailboxes:
            try:
                taken += poll(ImapSettings.of(mailbox), self.mail_intake).total
            except OSError as error:  # imaplib's errors are OSErrors or IMAP4.error
                get_logger("flowdesk.imap").warning(
                    "mailbox unavailable", mailbox=mailbox.name, error=str(error)
                )
            except Exception as error:
                get_logger("flowdesk.imap").warning(
                    "mailbox refused", mailbox=mailbox.name, error=str(error)
                )
        return taken

    def start_situations(self, stop: threading.Event | None = None) -> None:
        """Situations in their own thread, ticking every few milliseconds (a commit reaches
        its action in well under the round's pause); the rounds leave them out from now on."""
        if self.situations_apart:
            return
        from flowdesk.logs import get_logger
        from flowdesk.situations.loop import start_situations

        log = get_logger("flowdesk.worker")
        self.situations_apart = True
        start_situations(
            self.situations,
            self.actions,
            stop=stop,
            on_error=lambda error: log.warning("situations round failed", error=str(error)),
        )

    def watch_mail(self) -> None:
        """Watch every mailbox in its own thread (IDLE where the server has it) from now on."""
        if self.mailboxes and self.mail_stop is None:
            from flowdesk.channels.imap import start_watchers

            self.mail_stop = start_watchers(self.mailboxes, self.mail_intake)


def start_in_background(rounds: WorkerRounds, *, pause: float = 1.0) -> threading.Event:
    """Run rounds in a daemon thread until the returned event is set, `pause` seconds apart
    whether or not a round found work: inside the server the rounds yield to requests and take
    what arrived meanwhile as one batch (back to back they held the SQLite writer in long runs
    and cost the API about half its throughput). A failing round is logged and retried: the
    server keeps serving."""
    from flowdesk.logs import get_logger

    log = get_logger("flowdesk.worker")
    stop = threading.Event()
    rounds.watch_mail()
    rounds.start_situations(stop)

    def loop() -> None:
        while not stop.is_set():
            try:
                rounds.tick()
            except Exception as error:  # a round must never stop the server
                log.warning("worker round failed; retrying", error=str(error))
            stop.wait(pause)

    threading.Thread(target=loop, name="flowdesk-worker", daemon=True).start()
    return stop
