"""Process-map, variants, endpoints, hand-offs, rework, bottlenecks and turnaround on logs
whose answers are worked out by hand (the fixtures' comments and conftest describe them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flowdesk.analytics.bottlenecks import activity_instances, bottlenecks
from flowdesk.analytics.dfg import directly_follows
from flowdesk.analytics.endpoints import endpoints
from flowdesk.analytics.handoffs import handoff_matrix, handoffs
from flowdesk.analytics.log import EventLog
from flowdesk.analytics.rework import rework
from flowdesk.analytics.turnaround import turnaround
from flowdesk.analytics.variants import variant_counts, variants
from flowdesk.analytics.xes import read_xes

LogOf = Callable[..., EventLog]
T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
HOUR = 3600.0
R, C, P, N, CL = (
    "Register request",
    "Check eligibility",
    "Pay refund",
    "Notify customer",
    "Close case",
)
RQ, RC, RJ = "Request documents", "Receive documents", "Reject refund"


@pytest.fixture
def refunds(xes_dir: Path) -> EventLog:
    """r1, r4: R C P N CL; r2: one document loop; r3: rejected; r5: two document loops.
    Register -> Check takes n hours in case rn; every other step takes one hour."""
    return read_xes(xes_dir / "refunds.xes")


def test_directly_follows_counts_and_durations(refunds: EventLog) -> None:
    dfg = directly_follows(refunds)
    assert dfg.counts() == {
        (R, C): 5,
        (C, P): 4,
        (C, RJ): 1,
        (C, RQ): 3,
        (RQ, RC): 3,
        (RC, C): 3,
        (P, N): 4,
        (RJ, N): 1,
        (N, CL): 5,
    }
    first = {(e.source, e.target): e for e in dfg.edges}[(R, C)]
    assert first.mean_seconds == 3 * HOUR
    assert first.median_seconds == 3 * HOUR
    assert first.p90_seconds == pytest.approx(4.6 * HOUR)  # linear between 4 h and 5 h
    assert {(e.source, e.target): e.mean_seconds for e in dfg.edges}[(P, N)] == HOUR
    assert [e.count for e in dfg.edges] == sorted((e.count for e in dfg.edges), reverse=True)
    assert dfg.activity_counts[C] == 8 and sum(dfg.activity_counts.values()) == 34


def test_variants_are_counted_and_ordered_by_frequency(refunds: EventLog) -> None:
    found = variants(refunds)
    assert found[0].activities == (R, C, P, N, CL)
    assert found[0].count == 2 and found[0].share == pytest.approx(0.4)
    assert variant_counts(refunds) == {
        (R, C, P, N, CL): 2,
        (R, C, RQ, RC, C, P, N, CL): 1,
        (R, C, RJ, N, CL): 1,
        (R, C, RQ, RC, C, RQ, RC, C, P, N, CL): 1,
    }
    # r1 takes 1 + 3 hours, r4 takes 4 + 3 hours.
    assert found[0].mean_seconds == pytest.approx(5.5 * HOUR)


def test_start_and_end_activities(refunds: EventLog, log_of: LogOf) -> None:
    ends = endpoints(refunds)
    assert ends.start == {R: 5} and ends.end == {CL: 5}
    mixed = endpoints(log_of(("a", "X Y"), ("b", "Y X"), ("c", "X"), ("d", "X Z")))
    assert mixed.start == {"X": 3, "Y": 1}
    assert mixed.end == {"X": 2, "Y": 1, "Z": 1}


def test_events_are_ordered_by_time_within_a_case_whatever_their_arrival() -> None:
    log = EventLog.from_records(
        [
            {"case": "c", "activity": "Second", "timestamp": T0 + timedelta(minutes=5)},
            {"case": "c", "activity": "First", "timestamp": T0},
            {"case": "c", "activity": "Tie A", "timestamp": T0 + timedelta(minutes=9)},
            {"case": "c", "activity": "Tie B", "timestamp": T0 + timedelta(minutes=9)},
        ]
    )
    assert directly_follows(log).counts() == {
        ("First", "Second"): 1,
        ("Second", "Tie A"): 1,
        ("Tie A", "Tie B"): 1,  # equal timestamps keep their arrival order
    }


def test_department_hand_offs(refunds: EventLog) -> None:
    assert handoff_matrix(refunds) == {
        "Front office": {"Back office": 8},
        "Back office": {"Finance": 4, "Front office": 4},
        "Finance": {"Front office": 4},
    }
    by_pair = {(h.source, h.target): h for h in handoffs(refunds)}
    assert by_pair[("Finance", "Front office")].waiting_mean_seconds == HOUR
    # Front -> Back: Register -> Check (1..5 h) five times and Request -> Receive (1 h) three.
    assert by_pair[("Front office", "Back office")].waiting_mean_seconds == pytest.approx(
        (1 + 2 + 3 + 4 + 5 + 3) / 8 * HOUR
    )


def test_hand_off_waiting_runs_to_the_start_where_starts_are_logged(xes_dir: Path) -> None:
    log = read_xes(xes_dir / "lifecycle.xes")
    by_pair = {(h.source, h.target): h for h in handoffs(log)}
    assert set(by_pair) == {
        ("Front office", "Back office"),
        ("Back office", "Front office"),
        ("Back office", "Quality"),
    }
    # L1: A done 08:10, B starts 09:00; L2: A done 08:20, B starts 08:50.
    assert by_pair[("Front office", "Back office")].waiting_mean_seconds == 40 * 60
    assert by_pair[("Back office", "Quality")].waiting_mean_seconds == 30 * 60


def test_rework_loops(refunds: EventLog, log_of: LogOf) -> None:
    found = rework(refunds)
    assert found.cases == 5 and found.cases_with_rework == 2
    assert found.first_time_right_rate == pytest.approx(0.6)
    by_activity = {a.activity: a for a in found.activities}
    assert set(by_activity) == {C, RQ, RC}
    assert (by_activity[C].cases, by_activity[C].repeats, by_activity[C].max_executions) == (
        2,
        3,
        3,
    )
    assert (by_activity[RQ].cases, by_activity[RQ].repeats) == (1, 1)
    clean = rework(log_of(("a", "X Y Z"), ("b", "X Z")))
    assert clean.cases_with_rework == 0 and clean.activities == []
    assert clean.first_time_right_rate == 1.0
    assert rework(EventLog.empty()).first_time_right_rate is None


def test_waiting_and_working_time_from_start_and_complete(xes_dir: Path) -> None:
    log = read_xes(xes_dir / "lifecycle.xes")
    found = {b.activity: b for b in bottlenecks(log)}
    assert found["B"].instances == 3
    # B waits 50 min (L1), 30 min (L2) and 2 h (L2 rework after its own first completion).
    assert found["B"].waiting_mean_seconds == pytest.approx((3000 + 1800 + 7200) / 3)
    assert found["B"].working_mean_seconds == pytest.approx((1800 + 600 + 1800) / 3)
    # C starts in L1 the very second B completes: no wait.
    assert found["C"].waiting_mean_seconds == pytest.approx((0 + 1800) / 2)
    assert found["C"].working_median_seconds == pytest.approx(1200)
    assert found["A"].waiting_mean_seconds is None  # nothing before the first activity
    assert found["A"].working_mean_seconds == pytest.approx(900)
    assert [b.activity for b in bottlenecks(log)] == ["B", "C", "A"]  # longest waits first


def test_instances_without_a_start_have_no_working_time(log_of: LogOf) -> None:
    instances = activity_instances(log_of(("a", "X Y")))
    assert instances.height == 2
    assert instances.get_column("working").null_count() == 2


def test_an_instance_done_in_no_time_does_not_wait_for_itself() -> None:
    at = T0 + timedelta(hours=1)
    log = EventLog.from_records(
        [
            {"case": "c", "activity": "A", "timestamp": T0, "lifecycle": "complete"},
            {"case": "c", "activity": "B", "timestamp": at, "lifecycle": "start"},
            {"case": "c", "activity": "B", "timestamp": at, "lifecycle": "complete"},
        ]
    )
    (b,) = [x for x in bottlenecks(log) if x.activity == "B"]
    assert b.waiting_mean_seconds == HOUR and b.working_mean_seconds == 0


def test_turnaround_time(refunds: EventLog, log_of: LogOf) -> None:
    kpi = turnaround(refunds)
    # Case rn lasts n hours (Register -> Check) plus one hour per later step.
    hours = sorted([1 + 3, 2 + 6, 3 + 3, 4 + 3, 5 + 9])
    assert kpi.cases == 5
    assert kpi.mean_seconds == pytest.approx(sum(hours) / 5 * HOUR)
    assert kpi.median_seconds == pytest.approx(7 * HOUR)
    assert kpi.p90_seconds == pytest.approx((8 + 0.6 * 6) * HOUR)
    assert (kpi.min_seconds, kpi.max_seconds) == (4 * HOUR, 14 * HOUR)
    single = turnaround(log_of(("a", "X")))
    assert single.mean_seconds == 0


def test_completions_drop_start_events(xes_dir: Path) -> None:
    log = read_xes(xes_dir / "lifecycle.xes")
    assert log.has_lifecycle_starts()
    done = log.completions()
    assert done.event_count == 7 and not done.has_lifecycle_starts()
    assert directly_follows(done).counts() == {("A", "B"): 2, ("B", "B"): 1, ("B", "C"): 2}


def test_an_empty_log_mines_to_nothing() -> None:
    log = EventLog.empty()
    assert directly_follows(log).edges == []
    assert variants(log) == []
    assert endpoints(log).start == {}
    assert turnaround(log).cases == 0
    assert handoffs(log) == [] and bottlenecks(log) == []


def test_a_log_needs_case_and_activity() -> None:
    from flowdesk.core.errors import ModelError

    with pytest.raises(ModelError, match="'activity'"):
        EventLog.from_records([{"case": "a", "name": "X"}])
    with pytest.raises(ModelError, match="case and an activity"):
        EventLog.from_records([{"case": "a", "activity": None}, {"case": "b", "activity": "X"}])
