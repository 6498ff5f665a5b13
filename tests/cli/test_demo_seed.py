"""`flowdesk demo seed`: a reproducible history through the front door (contacts through intake,
cases, claims, closing and surveys), so the event log holds what real operations write."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from flowdesk.cases.references import references_in
from flowdesk.cli.demo import default_demo_dir, load_demo_content
from flowdesk.contacts.intake import Intake
from flowdesk.demo.seed import SeedReport, event_counts, seed
from flowdesk.store import Store

END = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)


def _seeded(url: str, days: int = 3) -> tuple[Store, SeedReport]:
    store = Store.open(url)
    store.upgrade()
    list(load_demo_content(store))
    report = seed(
        store, default_demo_dir(), days=days, seed=11, customers=200, cases_per_day=25, end=END
    )
    return store, report


def test_seed_goes_through_intake_cases_claims_and_surveys(database_url: str) -> None:
    store, report = _seeded(database_url, days=6)
    try:
        log = store.events.after(0, limit=200_000)
        types = Counter(e.type for e in log)
        assert report.customers == 200 and report.cases > 60
        assert report.event_types == event_counts(store) == dict(sorted(types.items()))
        # every arrival is a contact through intake: received, recognised, case opened
        assert types["contact.received"] == report.contacts > report.cases
        # (a follow-up to a closed case reopens it, starting its flow again)
        assert types["case.opened"] == report.cases
        assert types["process.started"] == report.cases + types["case.reopened"]
        assert types["contact.recognised"] >= report.cases
        assert types["contact.triage_required"] == report.triaged > 0
        channels = {e.channel for e in log if e.type == "contact.received"}
        assert {"phone", "email", "chat", "web", "app", "sms"} <= channels
        sources = {e.data["source"] for e in log if e.type == "contact.recognised"}
        assert {"ivr", "explicit", "keyword", "agent"} <= sources
        # repeat contacts while open attach to the case (or ask its status)
        assert types["case.contact_attached"] + types["case.status_requested"] >= (
            report.repeat_contacts
        )
        assert 0.05 < types["case.contact_attached"] / report.cases < 0.6
        # ... and no follow-up quoting a reference is left waiting in triage
        quoting = [c for c in Intake(store).triage_queue(limit=1000) if references_in(c.text or "")]
        assert quoting == []
        # agents claim before they complete, and the same agent completes
        claims = {e.data["work_item_id"]: e for e in log if e.type == "work_item.claimed"}
        done = [e for e in log if e.type == "work_item.completed"]
        assert len(done) == report.work_done > report.cases / 2
        for event in done:
            claim = claims[event.data["work_item_id"]]
            assert claim.actor == event.actor and claim.time < event.time
        assert len({e.actor for e in done}) > 3
        # closing, surveys sent on close and about 40% answered
        assert types["case.closed"] == report.completed_cases > 0
        assert types["case.closed"] <= types["process.completed"] + types["process.cancelled"]
        # one survey per case, even when a reopened case closes a second time
        closed_cases = {e.case_id for e in log if e.type == "case.closed"}
        assert types["survey.sent"] == report.surveys_sent == len(closed_cases)
        answered = [e for e in log if e.type == "survey.answered"]
        assert len(answered) == report.surveys_answered
        assert 0.15 < len(answered) / report.surveys_sent < 0.7
        for event in answered:
            assert 1 <= event.data["csat"] <= 5 and 0 <= event.data["nps"] <= 10
            assert event.case_id and event.customer_id
        assert max(e.time for e in log if e.process_instance_id) <= END
        # an answer with a bad score is a dead letter, kept with its reason
        dead = Intake(store).dead_letters()
        assert len(dead) == report.dead_letters
        assert all("survey answer" in (c.error or "") for c in dead)
    finally:
        store.close()


def test_slow_or_reworked_cases_score_lower(tmp_path: Path) -> None:
    store, _ = _seeded(f"sqlite:///{tmp_path / 'csat'}.db", days=10)
    try:
        log = store.events.after(0, limit=500_000)
        opened = {e.case_id: e.time for e in log if e.type == "case.opened"}
        closed = {e.case_id: e.time for e in log if e.type == "case.closed"}
        scores = [
            ((closed[e.case_id] - opened[e.case_id]).total_seconds(), e.data["csat"])
            for e in log
            if e.type == "survey.answered" and e.case_id in closed
        ]
        scores.sort()
        half = len(scores) // 2
        fast = sum(c for _, c in scores[:half]) / half
        slow = sum(c for _, c in scores[half:]) / (len(scores) - half)
        assert len(scores) > 20 and fast > slow
    finally:
        store.close()


def test_same_seed_same_history(tmp_path: Path) -> None:
    runs = []
    for name in ("a", "b"):
        store, report = _seeded(f"sqlite:///{tmp_path / name}.db")
        runs.append(
            (
                report.event_types,
                [
                    (e.type, e.element_id, e.time, e.actor)
                    for e in store.events.after(0, limit=100_000)
                    if e.type.startswith(("process.", "element.", "work_item.", "survey."))
                ],
            )
        )
        store.close()
    assert runs[0][0] == runs[1][0]  # same event-type counts
    assert runs[0][1] == runs[1][1] and len(runs[0][1]) > 100
