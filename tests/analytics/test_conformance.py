# ruff: noqa: E501
"""Token replay on BPMN models: a conforming log has fitness 1.0, a skipped or an inserted
activity costs exactly the tokens counted by hand below, and pm4py's token replay of the same
Petri net agrees (when pm4py is at hand)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.analytics.conftest import T0, pm4py_python

from flowdesk.analytics.conformance import (
    END_PLACE,
    align,
    build_net,
    check_conformance,
    replay_trace,
)
from flowdesk.analytics.log import EventLog
from flowdesk.bpmn import parse_bpmn
from flowdesk.bpmn.model import Process
from flowdesk.engine.testing import cond, wrap

ORACLE = Path(__file__).resolve().parent / "pm4py_replay_oracle.py"

# s -> Register -> x1 -> (Check | Waive check) -> x2 -> p1 -> (Pay || Inform) -> p2 -> Close -> e
CLAIM = wrap(
    f"""
    <bpmn:startEvent id="s" name="Claim received"/>
    <bpmn:userTask id="A" name="Register"/>
    <bpmn:exclusiveGateway id="x1" default="f_x1C"/>
    <bpmn:userTask id="B" name="Check"/>
    <bpmn:userTask id="C" name="Waive check"/>
    <bpmn:exclusiveGateway id="x2"/>
    <bpmn:parallelGateway id="p1"/>
    <bpmn:userTask id="D" name="Pay"/>
    <bpmn:userTask id="E" name="Inform"/>
    <bpmn:parallelGateway id="p2"/>
    <bpmn:userTask id="F" name="Close"/>
    <bpmn:endEvent id="e" name="Claim settled"/>
    <bpmn:sequenceFlow id="f_sA" sourceRef="s" targetRef="A"/>
    <bpmn:sequenceFlow id="f_Ax1" sourceRef="A" targetRef="x1"/>
    <bpmn:sequenceFlow id="f_x1B" sourceRef="x1" targetRef="B">{cond("amount > 100")}</bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_x1C" sourceRef="x1" targetRef="C"/>
    <bpmn:sequenceFlow id="f_Bx2" sourceRef="B" targetRef="x2"/>
    <bpmn:sequenceFlow id="f_Cx2" sourceRef="C" targetRef="x2"/>
    <bpmn:sequenceFlow id="f_x2p1" sourceRef="x2" targetRef="p1"/>
    <bpmn:sequenceFlow id="f_p1D" sourceRef="p1" targetRef="D"/>
    <bpmn:sequenceFlow id="f_p1E" sourceRef="p1" targetRef="E"/>
    <bpmn:sequenceFlow id="f_Dp2" sourceRef="D" targetRef="p2"/>
    <bpmn:sequenceFlow id="f_Ep2" sourceRef="E" targetRef="p2"/>
    <bpmn:sequenceFlow id="f_p2F" sourceRef="p2" targetRef="F"/>
    <bpmn:sequenceFlow id="f_Fe" sourceRef="F" targetRef="e"/>
    """,
    process_id="claim",
)


@pytest.fixture(scope="module")
def claim() -> Process:
    return parse_bpmn(CLAIM.encode(), filename="claim.bpmn").process("claim")


def element_log(*traces: tuple[str, str]) -> EventLog:
    """A log of element ids, one completion per element, a minute apart."""
    from datetime import timedelta

    records = [
        {
            "case": case,
            "activity": element,
            "element_id": element,
            "timestamp": T0 + i * timedelta(minutes=1),
        }
        for case, elements in traces
        for i, element in enumerate(elements.split())
    ]
    return EventLog.from_records(records)


def name_log(*traces: tuple[str, list[str]]) -> EventLog:
    from datetime import timedelta

    return EventLog.from_records(
        {"case": case, "activity": name, "timestamp": T0 + i * timedelta(minutes=1)}
        for case, names in traces
        for i, name in enumerate(names)
    )


def counts(report_case: Any) -> tuple[int, int, int, int]:
    r = report_case.replay
    return (r.missing, r.consumed, r.remaining, r.produced)


def test_conforming_cases_have_fitness_one(claim: Process) -> None:
    log = element_log(
        ("1", "s A B D E F e"),
        ("2", "s A C E D F e"),
        ("3", "s A B E D F e"),
    )
    report = check_conformance(log, {"claim:1": claim}, case_models=dict.fromkeys("123", "claim:1"))
    assert report.totals.fitness == 1.0
    assert report.totals.fitting_cases == 3
    assert report.deviations == [] and report.worst() == []
    assert all(c.fitness == 1.0 for c in report.cases)
    # by hand, case 1: the start token (p 1), s A x1 B x2 (1 each), p1 (c 1, p 2), D E,
    # p2 (c 2, p 1), F e, and the end place consumed at the end: 13 produced, 13 consumed
    assert counts(report.cases[0]) == (0, 13, 0, 13)
    version = report.versions[0]
    assert version.flow_counts["f_x1B"] == 2 and version.flow_counts["f_x1C"] == 1
    assert version.flow_counts["f_p1D"] == 3 and "f_Cx2" in version.flow_counts
    assert version.element_counts["p1"] == 3 and version.element_counts["C"] == 1


def test_a_skipped_activity_costs_one_missing_and_two_remaining_tokens(claim: Process) -> None:
    # Inform (E) skipped: Close finds no token after the join (1 missing); the token for
    # Inform and Pay's token waiting at the join remain (2). By hand: produced 11, consumed 10.
    report = check_conformance(
        element_log(("skip", "s A B D F e")), {"claim:1": claim}, case_models={"skip": "claim:1"}
    )
    (case,) = report.cases
    assert counts(case) == (1, 10, 2, 11)
    assert case.fitness == pytest.approx(0.5 * (1 - 1 / 10) + 0.5 * (1 - 2 / 11))
    kinds = sorted((d.kind, d.element_id, d.flow_id, d.tokens) for d in case.replay.deviations)
    assert kinds == [
        ("left-over", "E", "f_p1E", 1),
        ("left-over", "p2", "f_Dp2", 1),
        ("not-enabled", "F", None, 1),
    ]
    described = {d.describe() for d in case.replay.deviations}
    assert "Close (F) ran without being enabled" in described
    assert report.worst() == [case]


def test_an_inserted_activity_costs_one_missing_and_one_remaining_token(claim: Process) -> None:
    # Both branches of the exclusive choice: Waive check (C) after Check (B) had no token
    # (1 missing), and one of the two tokens reaching the merge is left (1). By hand: 14 each.
    report = check_conformance(
        element_log(("both", "s A B C D E F e")),
        {"claim:1": claim},
        case_models={"both": "claim:1"},
    )
    (case,) = report.cases
    assert counts(case) == (1, 14, 1, 14)
    assert case.fitness == pytest.approx(13 / 14)
    left = [d for d in case.replay.deviations if d.kind == "left-over"]
    assert [(d.element_id, d.tokens) for d in left] == [("x2", 1)]
    assert left[0].flow_id in {"f_Bx2", "f_Cx2"}


def test_deviations_are_counted_per_case_and_unknown_activities_reported(claim: Process) -> None:
    log = element_log(
        ("ok", "s A B D E F e"),
        ("skip1", "s A B D F e"),
        ("skip2", "s A C D F e"),
        ("odd", "s A B D E F e ghost"),
        ("lost", "s A B D E F e"),
    )
    models = {"claim:1": claim}
    cases = {"ok": "claim:1", "skip1": "claim:1", "skip2": "claim:1", "odd": "claim:1"}
    report = check_conformance(log, models, case_models={**cases, "lost": "claim:9"})
    assert report.skipped == {"model claim:9 not deployed": 1}
    assert report.totals.cases == 4
    by_key = {(d.deviation.kind, d.deviation.element_id): d.cases for d in report.deviations}
    assert by_key[("not-enabled", "F")] == 2
    assert by_key[("left-over", "E")] == 2
    assert by_key[("not-in-model", "ghost")] == 1
    assert report.deviations[0].cases == 2
    odd = next(c for c in report.cases if c.case == "odd")
    assert odd.fitness == 1.0 and not odd.replay.fitting  # counted as pm4py does, but listed
    assert report.totals.fitting_cases == 1
    worst = [c.case for c in report.worst(2)]
    assert worst == ["skip1", "skip2"]
    as_json = report.to_json(worst=3)
    assert as_json["cases"] == 4 and as_json["fitting_cases"] == 1
    assert as_json["deviations"][0]["cases"] == 2 and as_json["worst_cases"][0]["case"] == "skip1"
    json.dumps(as_json)


def test_a_log_by_names_replays_with_silent_start_and_end_events(claim: Process) -> None:
    log = name_log(
        ("fine", ["Register", "check", "Pay", "Inform", "Close"]),
        ("skip", ["Register", "Check", "Pay", "Close"]),
        ("alien", ["Register", "Phone the customer", "Waive  check", "Inform", "Pay", "Close"]),
    )
    report = check_conformance(log, {"claim:3": claim}, match="name")
    fitness = {c.case: c.fitness for c in report.cases}
    assert fitness["fine"] == 1.0 and fitness["alien"] == 1.0
    skip = next(c for c in report.cases if c.case == "skip")
    assert counts(skip) == (1, 10, 2, 11)  # the same counts as by element id
    alien = next(c for c in report.cases if c.case == "alien")
    (unknown,) = alien.replay.deviations
    assert unknown.kind == "not-in-model" and unknown.element_name == "Phone the customer"


def test_empty_case_and_a_case_that_never_ends(claim: Process) -> None:
    net = build_net(claim, {"s", "e"})
    stuck = replay_trace(net, ["s", "A"])
    # s, A fire (c 2, p 3); the token before x1 stays (r 1); the end place is empty (m 1, c 3)
    assert (stuck.missing, stuck.consumed, stuck.remaining, stuck.produced) == (1, 3, 1, 3)
    assert {d.kind for d in stuck.deviations} == {"no-end", "left-over"}
    nothing = replay_trace(net, [])
    assert nothing.fitness == 0.0
    assert any(d.flow_id == "@start" for d in nothing.deviations)


INCLUSIVE = wrap(
    f"""
    <bpmn:startEvent id="s"/>
    <bpmn:inclusiveGateway id="i1" default="f_i1C"/>
    <bpmn:userTask id="A" name="Refund"/>
    <bpmn:userTask id="B" name="Voucher"/>
    <bpmn:userTask id="C" name="Apologise"/>
    <bpmn:inclusiveGateway id="i2"/>
    <bpmn:userTask id="D" name="Close"/>
    <bpmn:boundaryEvent id="late" attachedToRef="D" cancelActivity="false"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:userTask id="R" name="Remind"/>
    <bpmn:boundaryEvent id="fail" attachedToRef="A"><bpmn:errorEventDefinition/></bpmn:boundaryEvent>
    <bpmn:userTask id="M" name="Manual refund"/>
    <bpmn:endEvent id="e"/>
    <bpmn:endEvent id="e2"/>
    <bpmn:sequenceFlow id="f_s" sourceRef="s" targetRef="i1"/>
    <bpmn:sequenceFlow id="f_i1A" sourceRef="i1" targetRef="A">{cond("refund")}</bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_i1B" sourceRef="i1" targetRef="B">{cond("voucher")}</bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_i1C" sourceRef="i1" targetRef="C"/>
    <bpmn:sequenceFlow id="f_Ai2" sourceRef="A" targetRef="i2"/>
    <bpmn:sequenceFlow id="f_Bi2" sourceRef="B" targetRef="i2"/>
    <bpmn:sequenceFlow id="f_Ci2" sourceRef="C" targetRef="i2"/>
    <bpmn:sequenceFlow id="f_i2D" sourceRef="i2" targetRef="D"/>
    <bpmn:sequenceFlow id="f_De" sourceRef="D" targetRef="e"/>
    <bpmn:sequenceFlow id="f_lateR" sourceRef="late" targetRef="R"/>
    <bpmn:sequenceFlow id="f_Re2" sourceRef="R" targetRef="e2"/>
    <bpmn:sequenceFlow id="f_failM" sourceRef="fail" targetRef="M"/>
    <bpmn:sequenceFlow id="f_Mi2" sourceRef="M" targetRef="i2"/>
    """,
    process_id="goodwill",
)


@pytest.mark.parametrize(
    "trace",
    [
        "s A D e",
        "s A B D e",
        "s B A D e",
        "s C D e",
        "s A B late R e2 D e",
        "s A late R D e e2",
        "s fail M D e",
        "s B fail M D e",
    ],
)
def test_inclusive_gateways_and_boundary_events_replay_their_runs(trace: str) -> None:
    process = parse_bpmn(INCLUSIVE.encode()).process("goodwill")
    net = build_net(process, {"s", "e", "e2", "late", "fail"})
    replayed = replay_trace(net, trace.split())
    assert replayed.fitness == 1.0, replayed.deviations
    assert replayed.fitting


def test_a_boundary_event_without_its_host_running_is_a_deviation() -> None:
    process = parse_bpmn(INCLUSIVE.encode()).process("goodwill")
    net = build_net(process, {"s", "e", "e2", "late", "fail"})
    replayed = replay_trace(net, ["s", "C", "D", "e", "late", "R", "e2"])
    assert replayed.missing == 1
    assert [d.element_id for d in replayed.deviations if d.kind == "not-enabled"] == ["late"]


def test_subprocess_insides_are_one_activity_and_gateway_events_are_ignored() -> None:
    model = wrap(
        """
        <bpmn:startEvent id="s"/>
        <bpmn:subProcess id="sub" name="Collect documents">
          <bpmn:startEvent id="ss"/>
          <bpmn:userTask id="inner" name="Upload"/>
          <bpmn:endEvent id="se"/>
          <bpmn:sequenceFlow id="i0" sourceRef="ss" targetRef="inner"/>
          <bpmn:sequenceFlow id="i1" sourceRef="inner" targetRef="se"/>
        </bpmn:subProcess>
        <bpmn:exclusiveGateway id="g"/>
        <bpmn:endEvent id="e"/>
        <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="sub"/>
        <bpmn:sequenceFlow id="f1" sourceRef="sub" targetRef="g"/>
        <bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="e"/>
        """,
        process_id="docs",
    )
    process = parse_bpmn(model.encode()).process("docs")
    log = element_log(("1", "s ss inner se sub g e"), ("2", "s e"))
    report = check_conformance(log, {"docs:1": process}, case_models={"1": "docs:1", "2": "docs:1"})
    first, second = report.cases
    assert first.fitness == 1.0 and first.activities == 3
    assert [(d.kind, d.element_id) for d in second.replay.deviations][:1] == [("not-enabled", "e")]
    assert END_PLACE not in {d.flow_id for d in second.replay.deviations}


def test_one_model_or_a_case_mapping_is_required(claim: Process) -> None:
    from flowdesk.core.errors import ModelError

    with pytest.raises(ModelError):
        check_conformance(element_log(("1", "s")), {"claim:1": claim, "claim:2": claim})
    with pytest.raises(ModelError, match="element_id"):
        check_conformance(name_log(("1", ["Register"])), {"claim:1": claim})


# -- pm4py oracle ------------------------------------------------------------------------------

ORACLE_TRACES = [
    "s A B D E F e",
    "s A C E D F e",
    "s A B D F e",
    "s A B C D E F e",
    "s A D E F e",
    "s A B D E F F e",
    "s B D E F e",
    "A B D E F e",
    "s A B E D",
    "s A C C E D F e",
]


def test_fitness_equals_pm4pys_token_replay_on_the_same_net(claim: Process, tmp_path: Path) -> None:
    python = pm4py_python()
    if python is None:
        pytest.skip("pm4py is not installed here or in .bench-venv")
    observed = {e for trace in ORACLE_TRACES for e in trace.split()}
    net = build_net(claim, observed)
    spec = tmp_path / "spec.json"
    traces = [t.split() for t in ORACLE_TRACES]
    spec.write_text(
        json.dumps({"net": net.to_petri_json(), "traces": traces, "align": True, "precision": True})
    )
    done = subprocess.run(
        [python, str(ORACLE), str(spec)], capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    log = element_log(*((f"c{i:04d}", t) for i, t in enumerate(ORACLE_TRACES)))
    report = check_conformance(
        log, {"claim:1": claim}, case_models={f"c{i:04d}": "claim:1" for i in range(10)}
    )
    ours = sorted(report.cases, key=lambda c: c.case)
    for case, their in zip(ours, theirs["traces"], strict=True):
        r = case.replay
        mine = {"missing": r.missing, "consumed": r.consumed, "remaining": r.remaining}
        mine["produced"] = r.produced
        assert mine == {k: their[k] for k in mine}, case.case
        assert case.fitness == pytest.approx(their["fitness"])
    assert report.totals.fitness == pytest.approx(theirs["log_fitness"])
    assert report.totals.fitness is not None and report.totals.fitness < 1.0
    assert report.precision == pytest.approx(theirs["precision"])
    # alignments: the same optimal cost (standard costs) and fitness for every trace
    for trace, their in zip(traces, theirs["alignments"], strict=True):
        aligned = align(net, trace)
        assert (aligned.cost, aligned.fitness) == (their["cost"], pytest.approx(their["fitness"]))
