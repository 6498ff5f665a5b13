"""SLA clocks on business calendars: breach minute, pauses, prediction, escalations, catalog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flowdesk.calendars import BusinessCalendar
from flowdesk.core.clock import FixedClock
from flowdesk.sla import (
    Escalation,
    SlaCatalog,
    SlaClock,
    SlaError,
    SlaPolicy,
    due_escalations,
    next_escalation_at,
    predict,
)

AMS = BusinessCalendar.weekly(
    "Europe/Amsterdam", {"mon-fri": "09:00-17:00"}, holidays=["2026-03-30"]
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_breaches_at_the_right_business_minute_across_weekend_dst_and_holiday() -> None:
    clock = FixedClock(utc(2026, 3, 27, 15, 30))  # Friday 16:30 CET
    sla = SlaClock("resolution", timedelta(hours=8), clock.now())
    ladder = [Escalation(0.5, "notify"), Escalation(1.0, "raise_priority")]
    # Weekend (with the change to CEST on Sunday) and Monday's holiday do not count:
    # 30 minutes on Friday, then Tuesday 09:00-16:30 CEST.
    assert sla.deadline(AMS) == utc(2026, 3, 31, 14, 30)
    clock.set(utc(2026, 3, 30, 12))  # Monday (holiday), noon
    assert sla.status(AMS, clock.now()) == "running"
    assert sla.remaining(AMS, clock.now()) == timedelta(hours=7, minutes=30)
    assert due_escalations(sla, AMS, ladder, clock.now()) == []
    assert next_escalation_at(sla, AMS, ladder) == utc(2026, 3, 31, 10, 30)  # 4h: 12:30 CEST
    clock.set(utc(2026, 3, 31, 14, 29))
    assert sla.status(AMS, clock.now()) == "running"
    assert [n for n, _ in due_escalations(sla, AMS, ladder, clock.now())] == [0]
    clock.advance(minutes=1)
    assert sla.status(AMS, clock.now()) == "breached"
    assert [n for n, _ in due_escalations(sla, AMS, ladder, clock.now(), fired={0})] == [1]
    assert next_escalation_at(sla, AMS, ladder, fired={0, 1}) is None


def test_paused_while_waiting_on_the_customer() -> None:
    clock = FixedClock(utc(2026, 3, 31, 7))  # Tuesday 09:00 CEST
    sla = SlaClock("resolution", timedelta(hours=4), clock.now())
    clock.advance(hours=1)
    sla.pause(clock.now())  # asked the customer for a document
    assert sla.paused and sla.deadline(AMS) is None
    clock.advance(hours=20)
    assert sla.status(AMS, clock.now()) == "paused"
    assert sla.remaining(AMS, clock.now()) == timedelta(hours=3)
    clock.set(utc(2026, 4, 1, 9))  # Wednesday 11:00 CEST: the customer answered
    sla.resume(clock.now())
    assert sla.deadline(AMS) == utc(2026, 4, 1, 12)  # 3 business hours later: 14:00 CEST
    clock.set(utc(2026, 4, 1, 11, 59))
    assert sla.status(AMS, clock.now()) == "running"
    sla.stop(clock.now())
    clock.advance(days=3)
    assert sla.status(AMS, clock.now()) == "met"
    assert due_escalations(sla, AMS, [Escalation(1.0, "notify")], clock.now()) == []


def test_stopped_late_is_missed_and_pause_after_stop_is_ignored() -> None:
    sla = SlaClock("first_response", timedelta(minutes=30), utc(2026, 3, 31, 7))
    sla.stop(utc(2026, 3, 31, 8))
    sla.pause(utc(2026, 3, 31, 9))
    assert not sla.paused
    assert sla.status(AMS, utc(2026, 3, 31, 9)) == "missed"


def test_breach_prediction() -> None:
    sla = SlaClock("resolution", timedelta(hours=2), utc(2026, 3, 31, 7))
    now = utc(2026, 3, 31, 7, 30)
    calm = predict(sla, AMS, now, expected_work=timedelta(minutes=30))
    assert not calm.at_risk and calm.predicted_finish == utc(2026, 3, 31, 8)
    late = predict(
        sla, AMS, now, expected_wait=timedelta(minutes=50), expected_work=timedelta(minutes=45)
    )
    assert late.at_risk and late.why == "expected to finish late"
    worn = predict(sla, AMS, utc(2026, 3, 31, 8, 40), warn_at=0.8)
    assert worn.at_risk and "80%" in worn.why
    gone = predict(sla, AMS, utc(2026, 3, 31, 9, 1))
    assert gone.at_risk and gone.status == "breached"
    sla.pause(utc(2026, 3, 31, 8))
    assert predict(sla, AMS, utc(2026, 3, 31, 12)).status == "paused"


def test_catalog_picks_the_most_specific_policy() -> None:
    catalog = SlaCatalog.from_dict(
        {
            "calendars": {
                "office": {"zone": "Europe/Amsterdam", "hours": {"mon-fri": "09:00-17:00"}}
            },
            "policies": [
                {"name": "default", "resolution_minutes": 2880},
                {"name": "refund", "reason": "refund", "first_response_minutes": 60,
                 "resolution_minutes": 480, "calendar": "office",
                 "escalations": [{"at": 0.8, "action": "notify"},
                                 {"at": 1.0, "action": "message", "message": "SlaBreached"}]},
                {"name": "refund-approve", "reason": "refund", "step": "approve",
                 "resolution_minutes": 120},
                {"name": "any-approve", "step": "approve", "resolution_minutes": 240},
            ],
            "olas": [
                {"to": "billing", "target_minutes": 240},
                {"from": "support", "to": "billing", "target_minutes": 60, "calendar": "office"},
            ],
        }
    )  # fmt: skip
    assert catalog.policy_for("refund", "approve").name == "refund-approve"  # type: ignore[union-attr]
    assert catalog.policy_for("refund", "capture").name == "refund"  # type: ignore[union-attr]
    assert catalog.policy_for("other", "approve").name == "any-approve"  # type: ignore[union-attr]
    assert catalog.policy_for(None, None).name == "default"  # type: ignore[union-attr]
    refund = catalog.policy_for("refund", None)
    assert refund is not None and refund.calendar.zone == "Europe/Amsterdam"
    assert refund.target("first_response") == timedelta(hours=1)
    assert [e.action for e in refund.escalations] == ["notify", "message"]
    assert catalog.ola_for("support", "billing").target == timedelta(hours=1)  # type: ignore[union-attr]
    assert catalog.ola_for("sales", "billing").target == timedelta(hours=4)  # type: ignore[union-attr]
    assert catalog.ola_for("billing", "billing") is None
    assert catalog.ola_for("billing", "support") is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"policies": [{"name": "x"}]}, "neither"),
        ({"policies": [{"resolution_minutes": 0}]}, "not positive"),
        ({"policies": [{"resolution_minutes": 5, "calendar": "nope"}]}, "unknown calendar"),
        ({"policies": [{"resolution_minutes": 5, "escalations": [{"action": "x"}]}]}, "unknown"),
        ({"policies": [{"resolution_minutes": 5, "escalations": [{"action": "message"}]}]}, "name"),
        ({"olas": [{"to": "billing"}]}, "target_minutes"),
    ],
)
def test_bad_policies_are_refused(spec: dict[str, object], message: str) -> None:
    with pytest.raises(SlaError, match=message):
        SlaCatalog.from_dict(spec)


def test_clock_round_trips_through_json() -> None:
    sla = SlaClock("ola", timedelta(minutes=90), utc(2026, 3, 31, 7))
    sla.pause(utc(2026, 3, 31, 8))
    sla.resume(utc(2026, 3, 31, 9))
    sla.pause(utc(2026, 3, 31, 10))
    again = SlaClock.from_dict(sla.to_dict())
    assert again == sla
    with pytest.raises(SlaError):
        SlaClock.from_dict({"kind": "x"})


def test_policy_needs_a_target() -> None:
    with pytest.raises(SlaError):
        SlaPolicy("empty")
