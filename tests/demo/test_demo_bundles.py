"""Every demo bundle validates, deploys on both backends, and its happy path runs to the end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowdesk.core.clock import FixedClock
from flowdesk.demo import COMPANY_DIR
from flowdesk.dmn import load_model
from flowdesk.engine.decisions import DmnDecisions
from flowdesk.experience.loader import load_bundle
from flowdesk.experience.service import catalog, deploy_bundle, experience_for
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

DEMO = COMPANY_DIR
BUNDLES = sorted(p.parent.name for p in DEMO.glob("*/flow.yaml"))

# Per flow: start variables, the answers given at each user task, the messages the customer or
# network operations send while the flow waits, and the path it must take.
HAPPY: dict[str, dict[str, Any]] = {
    "new-installation": {
        "start": {"caseRef": "FD-ORD101", "customerSegment": "residential"},
        "tasks": {
            "confirm_order": {"product": "fibre", "addressServiceable": True},
            "book_appointment": {"appointmentSlot": "morning", "appointmentDate": "2026-03-05"},
            "install_service": {"equipmentInstalled": True, "firstTimeRight": True},
            "welcome_call": {"customerHappy": True},
        },
        "messages": [("appointment-confirmed", "FD-ORD101")],
        "end": "service_live",
    },
    "outage-restoration": {
        "start": {"contactReason": "no-internet"},
        "tasks": {
            "triage_fault": {"serviceType": "broadband", "areaOutage": True, "outageArea": "NW-12"},
            "link_area_outage": {"priorityCustomer": False},
            "confirm_restoration": {"restorationConfirmed": True},
        },
        "messages": [("area-restored", "NW-12")],
        "end": "service_restored",
    },
    "billing-dispute": {
        "start": {"contactReason": "billing-dispute"},
        "tasks": {
            "explain_bill": {"invoiceNumber": "INV-1234567", "disputed": True},
            "investigate_charges": {"collectionHold": True, "disputeUpheld": True},
            "apply_correction": {"correctionType": "credit-note", "correctionAmount": 42},
            "inform_outcome": {"outcomeExplained": True, "outcomeAccepted": True},
        },
        "end": "dispute_closed",
    },
    "refund-request": {
        "start": {"customerSegment": "residential", "customerValue": 300},
        "tasks": {
            "capture_refund": {"identityVerified": True, "amount": 320},
            "approve_refund": {"refundApproved": True},
            "issue_refund": {"refundMethod": "original", "refundReference": "RF-0001"},
        },
        "end": "refund_paid",
    },
    "complaint": {
        "start": {"caseRef": "C-77"},
        "tasks": {
            "register_complaint": {"complaintCategory": "service", "severity": "low"},
            "resolve_complaint": {"rootCause": "router firmware", "goodwill": False},
            "propose_resolution": {"proposalChannel": "email"},
        },
        "messages": [("complaint-reply", "C-77", {"resolutionAccepted": True})],
        "end": "complaint_resolved",
    },
    "moving-house": {
        "start": {},
        "tasks": {
            "capture_move": {"newAddress": "1 Elm Road", "moveDate": "2026-04-01"},
            "update_billing_address": {"billingAddressUpdated": True},
            "schedule_move_visit": {"visitNeeded": False},
            "provision_new_address": {"lineProvisioned": True},
            "confirm_move": {"moveConfirmed": True},
        },
        "end": "move_done",
    },
    "account-takeover": {
        "start": {},
        "tasks": {
            "security_checks": {"callerVerified": True, "takeoverLikely": True},
            "reset_credentials": {"sessionsRevoked": True, "passwordReset": True},
            "review_payment_changes": {"bankChanged": False, "financialLoss": False},
            "notify_account_secured": {"accountUnlocked": True},
        },
        "end": "account_secured",
    },
    "cancellation-retention": {
        "start": {"customerValue": 900},
        "tasks": {
            "capture_cancellation": {"cancelReason": "price", "tenureMonths": 30},
            "present_offer": {"offerAccepted": True},
            "apply_offer": {"offerApplied": True},
        },
        "end": "customer_retained",
    },
}


def _decisions() -> DmnDecisions:
    return DmnDecisions(*(load_model(p.read_text()) for p in sorted(DEMO.glob("*/*.dmn"))))


def test_every_flow_of_the_brief_is_there() -> None:
    assert set(BUNDLES) == set(HAPPY)


@pytest.mark.parametrize("name", BUNDLES)
def test_bundle_validates(name: str) -> None:
    bundle = load_bundle(DEMO / name)
    assert bundle.reasons and bundle.tasks
    assert 2 <= len(bundle.articles) <= 4
    for task in bundle.tasks.values():
        assert 3 <= len(task.script) <= 6, task.task
        assert any(step.when for step in task.script), f"{task.task}: no branching step"
        assert task.form is not None and task.status and task.sla and task.panels


def _run_happy_path(runtime: ProcessRuntime, store: Store, name: str) -> list[str]:
    spec = HAPPY[name]
    bundle = load_bundle(DEMO / name)
    state = runtime.start(bundle.process, spec["start"], business_key=f"{name}-1")
    messages = list(spec.get("messages", []))
    done: list[str] = []
    for _ in range(40):
        if state.status != "active":
            break
        items = runtime.work_items(instance_id=state.id)
        if items:
            item = items[0]
            experience = experience_for(store, item["id"])
            assert experience.bundle == name and experience.script
            answers = spec["tasks"][item["element_id"]]
            state = runtime.complete_work_item(item["id"], answers, actor="demo")
            done.append(item["element_id"])
        else:
            assert messages, f"{name} waits with no open work item and no message to send"
            message = messages.pop(0)
            extra = message[2] if len(message) > 2 else None
            (target,) = runtime.correlate_message(message[0], message[1], extra)
            assert target == state.id
            state = runtime.instance(state.id)
    assert state.status == "completed", (name, done)
    assert not messages
    history = [e for e in runtime.history(state.id) if e.type == "element.completed"]
    assert spec["end"] in {e.element_id for e in history}
    return done


def test_every_demo_bundle_deploys_and_runs(store: Store, clock: FixedClock) -> None:
    runtime = ProcessRuntime(store, clock=clock, decisions=_decisions())
    for name in BUNDLES:
        result = deploy_bundle(runtime, store, DEMO / name, actor="demo")
        assert {d.version for d in result.deployment.definitions} == {1}  # outage: two BPMN
    reasons = {entry.reason: entry.bundle for entry in catalog(store)}
    assert reasons["refund-request"] == "refund-request"
    assert reasons["power-outage"] == "outage-restoration"
    assert len(reasons) == 10
    for name in BUNDLES:
        done = _run_happy_path(runtime, store, name)
        assert set(done) == set(HAPPY[name]["tasks"]), name


def test_refund_approval_is_decided_by_the_dmn_table(store: Store, clock: FixedClock) -> None:
    runtime = ProcessRuntime(store, clock=clock, decisions=_decisions())
    deploy_bundle(runtime, store, DEMO / "refund-request")
    cases = [
        (50, "residential", 0, "auto"),
        (320, "premium", 0, "auto"),
        (320, "residential", 0, "team-lead"),
        (900, "business", 2000, "auto"),
        (1500, "premium", 5000, "manager"),
    ]
    for amount, segment, value, level in cases:
        state = runtime.start(
            "refund_request", {"customerSegment": segment, "customerValue": value}
        )
        (item,) = runtime.work_items(instance_id=state.id)
        state = runtime.complete_work_item(item["id"], {"identityVerified": True, "amount": amount})
        assert state.vars["approval"]["level"] == level, (amount, segment, value)
        (following,) = runtime.work_items(instance_id=state.id)
        expected = "issue_refund" if level == "auto" else "approve_refund"
        assert following["element_id"] == expected


def test_committed_bpmn_matches_the_generator() -> None:
    import runpy

    tool = Path(__file__).resolve().parents[2] / "tools" / "demo_flows" / "build_flows.py"
    build = runpy.run_path(str(tool), run_name="demo_build")["build"]
    for path, content in build().items():
        assert path.read_text(encoding="utf-8") == content, path


@pytest.mark.parametrize("name", BUNDLES)
def test_diagram_has_a_shape_for_every_node_and_an_edge_for_every_flow(name: str) -> None:
    from flowdesk.bpmn.parser import parse_bpmn

    bundle = load_bundle(DEMO / name)
    definitions = parse_bpmn(bundle.files[bundle.bpmn[0]])
    process = definitions.processes[bundle.process]
    assert definitions.diagram is not None
    shapes = {s.element for s in definitions.diagram.shapes}
    edges = {e.element: e for e in definitions.diagram.edges}
    assert set(process.nodes) <= shapes
    assert {lane.id for lane in process.lanes} <= shapes
    assert set(process.flows) == set(edges)
    assert all(len(e.waypoints) >= 2 for e in edges.values())
    lanes = {lane.name for lane in process.lanes}
    assert lanes == {"Front office", "Billing", "Field service", "Network operations", "Retention"}
    groups = {
        n.task.candidate_groups for n in process.nodes.values() if n.type == "userTask" and n.task
    }
    assert groups <= {"front-office", "billing", "field-service", "network-operations", "retention"}


def test_sla_timer_escalates_and_the_work_item_stays_open(store: Store, clock: FixedClock) -> None:
    from datetime import timedelta

    runtime = ProcessRuntime(store, clock=clock, decisions=_decisions())
    deploy_bundle(runtime, store, DEMO / "account-takeover")
    state = runtime.start("account_takeover")
    (item,) = runtime.work_items(instance_id=state.id)
    state = runtime.complete_work_item(item["id"], {"callerVerified": True, "takeoverLikely": True})
    assert state.vars["accountLocked"] is True
    (reset,) = runtime.work_items(instance_id=state.id)
    assert reset["element_id"] == "reset_credentials"
    due = experience_for(store, reset["id"]).due_at
    assert due == clock.now() + timedelta(hours=1)
    clock.advance(timedelta(minutes=59))
    assert runtime.run_due_jobs() == 0
    clock.advance(timedelta(minutes=2))
    assert runtime.run_due_jobs() == 1
    state = runtime.instance(state.id)
    assert state.vars["securityOverdue"] is True
    assert [i["id"] for i in runtime.work_items(instance_id=state.id)] == [reset["id"]]


def test_complaint_closes_itself_when_the_customer_never_replies(
    store: Store, clock: FixedClock
) -> None:
    from datetime import timedelta

    runtime = ProcessRuntime(store, clock=clock)
    deploy_bundle(runtime, store, DEMO / "complaint")
    state = runtime.start("complaint", {"caseRef": "C-9"})
    for answers in (
        {"complaintCategory": "billing", "severity": "low"},
        {"rootCause": "tariff", "goodwill": False},
        {"proposalChannel": "email"},
    ):
        (item,) = runtime.work_items(instance_id=state.id)
        state = runtime.complete_work_item(item["id"], answers)
    assert state.status == "active" and runtime.work_items(instance_id=state.id) == []
    clock.advance(timedelta(days=7, minutes=1))
    runtime.run_due_jobs()
    state = runtime.instance(state.id)
    assert state.status == "completed"
    ended = {e.element_id for e in runtime.history(state.id) if e.type == "element.completed"}
    assert "complaint_closed" in ended and "complaint_resolved" not in ended


def test_status_page_texts_follow_the_flow(store: Store, clock: FixedClock) -> None:
    from flowdesk.experience.service import customer_status

    runtime = ProcessRuntime(store, clock=clock)
    deploy_bundle(runtime, store, DEMO / "outage-restoration")
    state = runtime.start("outage_restoration")
    assert customer_status(store, state.id) == [
        "We have your fault report and are checking the network in your area."
    ]
    (item,) = runtime.work_items(instance_id=state.id)
    answers = {"serviceType": "broadband", "areaOutage": True, "outageArea": "NW-12"}
    state = runtime.complete_work_item(item["id"], answers)
    (item,) = runtime.work_items(instance_id=state.id)
    state = runtime.complete_work_item(item["id"], {"priorityCustomer": False})
    assert runtime.work_items(instance_id=state.id) == []
    assert customer_status(store, state.id) == [
        "Our engineers are restoring the network in area NW-12; we will text you when it is back."
    ]
