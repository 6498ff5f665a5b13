"""The demo flows of Northwind Energy & Fibre, written out as
src/flowdesk/demo/company/<flow>/<process>.bpmn (package data: the demo ships in the wheel).

Run `python tools/demo_flows/build_flows.py` after changing a flow here; tests/demo checks that the
committed files are what this script writes (so the two never drift apart).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bpmn_layout import (
    F,
    Flow,
    end,
    event_gateway,
    message_catch,
    par,
    rule,
    script,
    sla_timer,
    start,
    timer_catch,
    user,
    xor,
)
from bpmn_layout import N as Node

DEMO = Path(__file__).resolve().parents[2] / "src" / "flowdesk" / "demo" / "company"


def new_installation() -> tuple[str, Flow]:
    install = user("install_service", "Install and activate service", "field_service", 5)
    nodes = [
        start("order_received", "front_office", 0, "Order received"),
        user("confirm_order", "Confirm order and eligibility", "front_office", 1),
        user("book_appointment", "Book installation appointment", "field_service", 2),
        message_catch(
            "appointment_confirmed",
            "Customer confirms appointment",
            "field_service",
            3,
            "msg_appointment_confirmed",
        ),
        install,
        sla_timer("install_overdue", "Installation overdue", install, "P1D"),
        script(
            "flag_install_overdue",
            "Flag overdue installation",
            "field_service",
            6,
            "installOverdue",
            "true",
            row=1,
        ),
        end("install_escalated", "field_service", 7, "Escalated", row=1),
        xor("first_time_right", "First time right?", "field_service", 6, row=-1),
        user("schedule_revisit", "Schedule revisit", "field_service", 7, row=-1),
        user("welcome_call", "Welcome call", "front_office", 7),
        end("service_live", "front_office", 8, "Service live"),
    ]
    flows = [
        F("f_order", "order_received", "confirm_order"),
        F("f_book", "confirm_order", "book_appointment"),
        F("f_wait_confirm", "book_appointment", "appointment_confirmed"),
        F("f_install", "appointment_confirmed", "install_service"),
        F("f_check", "install_service", "first_time_right"),
        F("f_ftr_yes", "first_time_right", "welcome_call", "yes", "firstTimeRight = true"),
        F("f_ftr_no", "first_time_right", "schedule_revisit", "no"),
        F("f_revisit", "schedule_revisit", "install_service"),
        F("f_live", "welcome_call", "service_live"),
        F("f_overdue", "install_overdue", "flag_install_overdue"),
        F("f_overdue_end", "flag_install_overdue", "install_escalated"),
    ]
    return "new-installation", Flow(
        "new_installation",
        "New service installation",
        nodes,
        flows,
        {"msg_appointment_confirmed": ("appointment-confirmed", "=caseRef")},
        {"first_time_right": "f_ftr_no"},
    )


def outage_restoration() -> tuple[str, Flow]:
    dispatch = user("dispatch_technician", "Dispatch technician and repair", "field_service", 5)
    nodes = [
        start("fault_reported", "front_office", 0, "Fault reported"),
        user("triage_fault", "Triage fault report", "front_office", 1),
        xor("known_outage", "Known area outage?", "front_office", 2),
        user("link_area_outage", "Link to area outage", "network_operations", 3, row=-1),
        message_catch(
            "area_restored", "Area restored", "network_operations", 5, "msg_area_restored", row=-1
        ),
        user("remote_diagnosis", "Remote line diagnosis", "network_operations", 3, row=1),
        xor("needs_visit", "Technician needed?", "network_operations", 4, row=1),
        dispatch,
        sla_timer("repair_overdue", "Repair SLA breached", dispatch, "PT8H"),
        script(
            "flag_repair_overdue",
            "Flag SLA breach",
            "field_service",
            7,
            "repairOverdue",
            "true",
            row=1,
        ),
        end("repair_escalated", "field_service", 8, "Escalated", row=1),
        xor("restored_merge", None, "front_office", 6),
        user("confirm_restoration", "Confirm restoration with customer", "front_office", 7),
        end("service_restored", "front_office", 8, "Service restored"),
    ]
    flows = [
        F("f_triage", "fault_reported", "triage_fault"),
        F("f_known", "triage_fault", "known_outage"),
        F("f_area", "known_outage", "link_area_outage", "area outage", "areaOutage = true"),
        F("f_single", "known_outage", "remote_diagnosis", "single line"),
        F("f_wait_area", "link_area_outage", "area_restored"),
        F("f_area_done", "area_restored", "restored_merge"),
        F("f_visit", "remote_diagnosis", "needs_visit"),
        F("f_dispatch", "needs_visit", "dispatch_technician", "yes", "technicianNeeded = true"),
        F("f_remote_fix", "needs_visit", "restored_merge", "fixed remotely"),
        F("f_repaired", "dispatch_technician", "restored_merge"),
        F("f_confirm", "restored_merge", "confirm_restoration"),
        F("f_restored", "confirm_restoration", "service_restored"),
        F("f_repair_overdue", "repair_overdue", "flag_repair_overdue"),
        F("f_repair_overdue_end", "flag_repair_overdue", "repair_escalated"),
    ]
    return "outage-restoration", Flow(
        "outage_restoration",
        "Outage and restoration",
        nodes,
        flows,
        {"msg_area_restored": ("area-restored", "=outageArea")},
        {"known_outage": "f_single", "needs_visit": "f_remote_fix"},
    )


def billing_dispute() -> tuple[str, Flow]:
    investigate = user("investigate_charges", "Investigate disputed charges", "billing", 3)
    nodes = [
        start("billing_question", "front_office", 0, "Billing question"),
        user("explain_bill", "Explain the bill", "front_office", 1),
        xor("is_dispute", "Customer disputes?", "front_office", 2),
        end("bill_explained", "front_office", 3, "Bill explained", row=-1),
        investigate,
        sla_timer("dispute_window", "Dispute window closing", investigate, "P10D"),
        script(
            "flag_dispute_overdue",
            "Flag overdue dispute",
            "billing",
            4,
            "disputeOverdue",
            "true",
            row=1,
        ),
        end("dispute_escalated", "billing", 5, "Escalated", row=1),
        xor("is_upheld", "Dispute upheld?", "billing", 4, row=-1),
        user("apply_correction", "Apply bill correction", "billing", 5, row=-1),
        xor("outcome_merge", None, "billing", 6, row=-1),
        user("inform_outcome", "Inform customer of the outcome", "front_office", 7),
        end("dispute_closed", "front_office", 8, "Dispute closed"),
    ]
    flows = [
        F("f_explain", "billing_question", "explain_bill"),
        F("f_dispute_q", "explain_bill", "is_dispute"),
        F("f_no_dispute", "is_dispute", "bill_explained", "no"),
        F("f_dispute", "is_dispute", "investigate_charges", "yes", "disputed = true"),
        F("f_upheld_q", "investigate_charges", "is_upheld"),
        F("f_upheld", "is_upheld", "apply_correction", "upheld", "disputeUpheld = true"),
        F("f_rejected", "is_upheld", "outcome_merge", "rejected"),
        F("f_corrected", "apply_correction", "outcome_merge"),
        F("f_inform", "outcome_merge", "inform_outcome"),
        F("f_closed", "inform_outcome", "dispute_closed"),
        F("f_window", "dispute_window", "flag_dispute_overdue"),
        F("f_window_end", "flag_dispute_overdue", "dispute_escalated"),
    ]
    return "billing-dispute", Flow(
        "billing_dispute",
        "Billing inquiry and dispute",
        nodes,
        flows,
        defaults={"is_dispute": "f_no_dispute", "is_upheld": "f_rejected"},
    )


def refund_request() -> tuple[str, Flow]:
    approve = user("approve_refund", "Approve refund", "billing", 4, row=-1)
    nodes = [
        start("refund_requested", "front_office", 0, "Refund requested"),
        user("capture_refund", "Capture refund request", "front_office", 1),
        rule(
            "decide_approval", "Decide approval level", "billing", 2, "refund_approval", "approval"
        ),
        xor("needs_approval", "Approval needed?", "billing", 3),
        approve,
        sla_timer("approval_overdue", "Approval overdue", approve, "P2D"),
        script(
            "flag_approval_overdue",
            "Flag overdue approval",
            "billing",
            5,
            "approvalOverdue",
            "true",
            row=1,
        ),
        end("approval_escalated", "billing", 6, "Escalated", row=1),
        xor("is_approved", "Approved?", "billing", 5, row=-1),
        xor("approval_merge", None, "billing", 6),
        user("issue_refund", "Issue refund", "billing", 7),
        end("refund_paid", "billing", 8, "Refund paid"),
        user("explain_rejection", "Explain rejection", "front_office", 6),
        end("refund_rejected", "front_office", 7, "Refund rejected"),
    ]
    flows = [
        F("f_capture", "refund_requested", "capture_refund"),
        F("f_decide", "capture_refund", "decide_approval"),
        F("f_level", "decide_approval", "needs_approval"),
        F("f_auto", "needs_approval", "approval_merge", "auto", 'approval.level = "auto"'),
        F("f_needs", "needs_approval", "approve_refund", "approval"),
        F("f_approved_q", "approve_refund", "is_approved"),
        F("f_approved", "is_approved", "approval_merge", "approved", "refundApproved = true"),
        F("f_rejected", "is_approved", "explain_rejection", "rejected"),
        F("f_issue", "approval_merge", "issue_refund"),
        F("f_paid", "issue_refund", "refund_paid"),
        F("f_explained", "explain_rejection", "refund_rejected"),
        F("f_approval_overdue", "approval_overdue", "flag_approval_overdue"),
        F("f_approval_overdue_end", "flag_approval_overdue", "approval_escalated"),
    ]
    return "refund-request", Flow(
        "refund_request",
        "Refund request",
        nodes,
        flows,
        defaults={"needs_approval": "f_needs", "is_approved": "f_rejected"},
    )


def complaint() -> tuple[str, Flow]:
    nodes = [
        start("complaint_received", "front_office", 0, "Complaint received"),
        user("register_complaint", "Register complaint", "front_office", 1),
        xor("is_severe", "Severe?", "front_office", 2),
        user("senior_review", "Senior review and remedy", "retention", 3),
        user("resolve_complaint", "Resolve complaint", "front_office", 3, row=-1),
        xor("resolution_merge", None, "front_office", 4),
        user("propose_resolution", "Propose resolution to customer", "front_office", 5),
        event_gateway("await_reply", "front_office", 6),
        message_catch(
            "customer_replied", "Customer replied", "front_office", 7, "msg_complaint_reply", -1
        ),
        timer_catch("no_reply", "No reply in 7 days", "front_office", 7, "P7D", row=1),
        xor("is_accepted", "Resolution accepted?", "front_office", 8, row=-1),
        end("complaint_resolved", "front_office", 9, "Resolved", row=-1),
        end("complaint_closed", "front_office", 9, "Closed without reply", row=1),
    ]
    flows = [
        F("f_register", "complaint_received", "register_complaint"),
        F("f_severity", "register_complaint", "is_severe"),
        F("f_severe", "is_severe", "senior_review", "high", 'severity = "high"'),
        F("f_normal", "is_severe", "resolve_complaint", "normal"),
        F("f_reviewed", "senior_review", "resolution_merge"),
        F("f_resolved", "resolve_complaint", "resolution_merge"),
        F("f_propose", "resolution_merge", "propose_resolution"),
        F("f_await", "propose_resolution", "await_reply"),
        F("f_reply", "await_reply", "customer_replied"),
        F("f_timeout", "await_reply", "no_reply"),
        F("f_accepted_q", "customer_replied", "is_accepted"),
        F("f_accepted", "is_accepted", "complaint_resolved", "yes", "resolutionAccepted = true"),
        F("f_not_accepted", "is_accepted", "senior_review", "no"),
        F("f_closed", "no_reply", "complaint_closed"),
    ]
    return "complaint", Flow(
        "complaint",
        "Complaint",
        nodes,
        flows,
        {"msg_complaint_reply": ("complaint-reply", "=caseRef")},
        {"is_severe": "f_normal", "is_accepted": "f_not_accepted"},
    )


def moving_house() -> tuple[str, Flow]:
    provision = user(
        "provision_new_address", "Provision line at new address", "network_operations", 3
    )
    nodes = [
        start("move_requested", "front_office", 0, "Move requested"),
        user("capture_move", "Capture new address and date", "front_office", 1),
        par("fork_systems", "front_office", 2),
        user("update_billing_address", "Update billing address and tariff", "billing", 3),
        user("schedule_move_visit", "Schedule disconnect and connect", "field_service", 3),
        provision,
        sla_timer("provision_overdue", "Provisioning overdue", provision, "P3D"),
        script(
            "flag_provision_overdue",
            "Flag overdue provisioning",
            "network_operations",
            4,
            "provisionOverdue",
            "true",
            row=1,
        ),
        end("provision_escalated", "network_operations", 5, "Escalated", row=1),
        par("join_systems", "front_office", 5),
        user("confirm_move", "Confirm move with customer", "front_office", 6),
        end("move_done", "front_office", 7, "Moved"),
    ]
    flows = [
        F("f_capture", "move_requested", "capture_move"),
        F("f_fork", "capture_move", "fork_systems"),
        F("f_billing", "fork_systems", "update_billing_address"),
        F("f_field", "fork_systems", "schedule_move_visit"),
        F("f_network", "fork_systems", "provision_new_address"),
        F("f_billing_done", "update_billing_address", "join_systems"),
        F("f_field_done", "schedule_move_visit", "join_systems"),
        F("f_network_done", "provision_new_address", "join_systems"),
        F("f_confirm", "join_systems", "confirm_move"),
        F("f_done", "confirm_move", "move_done"),
        F("f_provision_overdue", "provision_overdue", "flag_provision_overdue"),
        F("f_provision_overdue_end", "flag_provision_overdue", "provision_escalated"),
    ]
    return "moving-house", Flow("moving_house", "Moving house", nodes, flows)


def account_takeover() -> tuple[str, Flow]:
    reset = user("reset_credentials", "Reset credentials and review changes", "front_office", 4)
    nodes = [
        start("takeover_reported", "front_office", 0, "Suspicious activity reported"),
        user("security_checks", "Run security checks", "front_office", 1),
        xor("takeover_likely", "Takeover likely?", "front_office", 2),
        end("no_takeover", "front_office", 3, "No takeover", row=-1),
        script("lock_account", "Lock account", "front_office", 3, "accountLocked", "true", row=1),
        reset,
        sla_timer("reset_overdue", "Security SLA breached", reset, "PT1H"),
        script(
            "flag_reset_overdue",
            "Flag SLA breach",
            "billing",
            4,
            "securityOverdue",
            "true",
            row=1,
        ),
        end("reset_escalated", "billing", 5, "Escalated", row=1),
        user("review_payment_changes", "Review payment detail changes", "billing", 5, row=-1),
        user("notify_account_secured", "Tell customer the account is secure", "front_office", 6),
        end("account_secured", "front_office", 7, "Account secured"),
    ]
    flows = [
        F("f_checks", "takeover_reported", "security_checks"),
        F("f_likely_q", "security_checks", "takeover_likely"),
        F("f_likely", "takeover_likely", "lock_account", "yes", "takeoverLikely = true"),
        F("f_unlikely", "takeover_likely", "no_takeover", "no"),
        F("f_reset", "lock_account", "reset_credentials"),
        F("f_review", "reset_credentials", "review_payment_changes"),
        F("f_notify", "review_payment_changes", "notify_account_secured"),
        F("f_secured", "notify_account_secured", "account_secured"),
        F("f_reset_overdue", "reset_overdue", "flag_reset_overdue"),
        F("f_reset_overdue_end", "flag_reset_overdue", "reset_escalated"),
    ]
    return "account-takeover", Flow(
        "account_takeover",
        "Suspected account takeover",
        nodes,
        flows,
        defaults={"takeover_likely": "f_unlikely"},
    )


def cancellation_retention() -> tuple[str, Flow]:
    nodes = [
        start("cancellation_requested", "front_office", 0, "Cancellation requested"),
        user("capture_cancellation", "Capture cancellation reason", "front_office", 1),
        rule("decide_offer", "Decide retention offer", "retention", 2, "retention_offer", "offer"),
        xor("has_offer", "Offer available?", "retention", 3),
        user("present_offer", "Present retention offer", "retention", 4, row=-1),
        xor("is_accepted", "Offer accepted?", "retention", 5, row=-1),
        user("apply_offer", "Apply retention offer", "billing", 6, row=-1),
        end("customer_retained", "billing", 7, "Retained", row=-1),
        xor("cancel_merge", None, "retention", 6, row=1),
        user("process_cancellation", "Process cancellation and final bill", "billing", 7, row=1),
        user("schedule_equipment_return", "Schedule equipment return", "field_service", 8),
        end("customer_cancelled", "field_service", 9, "Cancelled"),
    ]
    flows = [
        F("f_capture", "cancellation_requested", "capture_cancellation"),
        F("f_decide", "capture_cancellation", "decide_offer"),
        F("f_offer_q", "decide_offer", "has_offer"),
        F("f_offer", "has_offer", "present_offer", "offer", 'offer.offer != "none"'),
        F("f_no_offer", "has_offer", "cancel_merge", "no offer"),
        F("f_accept_q", "present_offer", "is_accepted"),
        F("f_accepted", "is_accepted", "apply_offer", "accepted", "offerAccepted = true"),
        F("f_declined", "is_accepted", "cancel_merge", "declined"),
        F("f_retained", "apply_offer", "customer_retained"),
        F("f_cancel", "cancel_merge", "process_cancellation"),
        F("f_return", "process_cancellation", "schedule_equipment_return"),
        F("f_cancelled", "schedule_equipment_return", "customer_cancelled"),
    ]
    return "cancellation-retention", Flow(
        "cancellation_retention",
        "Cancellation and retention",
        nodes,
        flows,
        defaults={"has_offer": "f_no_offer", "is_accepted": "f_declined"},
    )


def outage_compensation() -> tuple[str, Flow]:
    """Started per affected customer when an area outage clears (the area-outage pattern's
    `start_flow` on `cleared`): a DMN table decides the credit from the outage's duration,
    billing approves the larger ones, the customer is told by the `notify-customer` task."""
    approve = user("approve_credit", "Approve outage credit", "billing", 3, row=-1)
    notify = Node(
        "notify_credit",
        "serviceTask",
        "Tell the customer",
        "front_office",
        7,
        0,
        {"camunda:type": "external", "camunda:topic": "notify-customer"},
    )
    message = (
        '"Northwind: for the broadband outage in your area (" + situationKey + ") we credit "'
        ' + string(credit.amount) + " EUR to your next bill. Sorry for the trouble."'
    )
    nodes = [
        start("outage_cleared", "billing", 0, "Area outage cleared"),
        rule("decide_credit", "Decide the outage credit", "billing", 1, "outage_credit", "credit"),
        xor("needs_approval", "Approval needed?", "billing", 2),
        approve,
        xor("is_approved", "Approved?", "billing", 4, row=-1),
        end("credit_declined", "billing", 5, "Credit declined", row=-2),
        xor("credit_merge", None, "billing", 5),
        script("word_credit", "Word the credit", "front_office", 6, "message", message),
        notify,
        end("credit_granted", "front_office", 8, "Credit granted"),
    ]
    flows = [
        F("f_decide", "outage_cleared", "decide_credit"),
        F("f_level", "decide_credit", "needs_approval"),
        F("f_auto", "needs_approval", "credit_merge", "auto", "credit.approval = false"),
        F("f_needs", "needs_approval", "approve_credit", "approval"),
        F("f_approved_q", "approve_credit", "is_approved"),
        F("f_approved", "is_approved", "credit_merge", "approved", "creditApproved = true"),
        F("f_declined", "is_approved", "credit_declined", "declined"),
        F("f_word", "credit_merge", "word_credit"),
        F("f_notify", "word_credit", "notify_credit"),
        F("f_granted", "notify_credit", "credit_granted"),
    ]
    return "outage-restoration", Flow(
        "outage_compensation",
        "Outage compensation",
        nodes,
        flows,
        defaults={"needs_approval": "f_needs", "is_approved": "f_declined"},
    )


FLOWS = [
    new_installation,
    outage_restoration,
    billing_dispute,
    refund_request,
    complaint,
    moving_house,
    account_takeover,
    cancellation_retention,
    outage_compensation,
]


def build() -> dict[Path, str]:
    """{path: BPMN text} for every demo flow."""
    from bpmn_layout import render

    out = {}
    for make in FLOWS:
        folder, flow = make()
        out[DEMO / folder / f"{flow.process}.bpmn"] = render(flow)
    return out


if __name__ == "__main__":
    for path, content in build().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        print(path.relative_to(DEMO.parents[3]))
