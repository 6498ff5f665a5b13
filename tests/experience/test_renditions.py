"""One step, three renditions: the refund demo's capture step as the customer's form fields
and as email/SMS text, from the bundle as deployed (fields marked `x-customer`)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from flowdesk.demo import COMPANY_DIR
from flowdesk.experience.bundle import TaskExperience
from flowdesk.experience.loader import load_bundle
from flowdesk.experience.renditions import (
    SMS_LIMIT,
    as_text,
    customer_form,
    customer_schema,
)

DEMO = COMPANY_DIR / "refund-request"


@pytest.fixture(scope="module")
def steps() -> dict[str, TaskExperience]:
    return dict(load_bundle(DEMO).tasks)


def test_customer_form_has_the_marked_fields_with_labels_types_options_and_limits(
    steps: dict[str, TaskExperience],
) -> None:
    fields = {f.name: f for f in customer_form(steps["capture_refund"])}
    assert list(fields) == ["refundReason", "outageDays", "amount"]  # not identityVerified
    reason, days, amount = fields["refundReason"], fields["outageDays"], fields["amount"]
    assert (reason.label, reason.type, reason.required) == ("Reason", "choice", True)
    assert reason.options == ["double-charge", "service-credit", "overpayment"]
    assert (days.type, days.required, days.limits) == (
        "integer",
        False,
        {"minimum": 0, "maximum": 90},
    )
    assert (amount.label, amount.type) == ("Amount (EUR)", "number")
    assert amount.limits == {"exclusiveMinimum": 0, "maximum": 10000}


def test_customer_schema_keeps_only_the_customers_fields(
    steps: dict[str, TaskExperience],
) -> None:
    schema = customer_schema(steps["capture_refund"])
    assert schema is not None
    assert sorted(schema["properties"]) == ["amount", "outageDays", "refundReason"]
    assert sorted(schema["required"]) == ["amount", "refundReason"]
    assert schema["additionalProperties"] is False
    assert customer_schema(steps["approve_refund"]) is None
    assert customer_form(steps["approve_refund"]) == []


def test_email_has_the_status_text_filled_the_questions_and_how_to_answer(
    steps: dict[str, TaskExperience],
) -> None:
    subject, body = as_text(
        steps["capture_refund"], {"amount": Decimal("42.50")}, "email", reference="FD-123"
    )
    assert subject == "Update on your case FD-123"
    lines = body.splitlines()
    assert lines[0] == (
        "Your case FD-123: We have received your refund request of 42.50 EUR and are checking it."
    )
    assert "- Reason" in lines and "- Days without service" in lines
    assert "- Amount (EUR)" in lines and "- Identity verified" not in lines
    assert lines[-1] == "Answer on our status page /status with your case reference FD-123."


def test_a_step_without_customer_fields_is_just_its_status_text(
    steps: dict[str, TaskExperience],
) -> None:
    _, body = as_text(steps["approve_refund"], {"amount": 80}, "email", reference="FD-9")
    assert (
        body == "Your case FD-9: Your refund of 80 EUR is waiting for approval by our billing team."
    )
    _, sms = as_text(steps["approve_refund"], {"amount": 80}, "sms", reference="FD-9")
    assert sms == "Case FD-9: Your refund of 80 EUR is waiting for approval by our billing team."


def test_sms_is_one_short_text_with_the_questions(steps: dict[str, TaskExperience]) -> None:
    _, sms = as_text(steps["capture_refund"], {"amount": 12}, "sms", reference="FD-7")
    assert len(sms) <= SMS_LIMIT and "\n" not in sms
    assert sms.startswith("Case FD-7: We have received your refund request of 12 EUR")
    assert "Please tell us: Reason, Days without service, Amount (EUR)." in sms
    assert sms.endswith("Answer at /status with ref FD-7.")


def test_a_long_status_is_cut_to_fit_one_sms(steps: dict[str, TaskExperience]) -> None:
    long = replace(steps["capture_refund"], status="Dear customer, {{ note }}")
    _, sms = as_text(long, {"note": "word " * 200}, "sms", reference="FD-8")
    assert SMS_LIMIT - 2 <= len(sms) <= SMS_LIMIT  # filled up to the limit
    assert "…" in sms and sms.endswith("Answer at /status with ref FD-8.")
    _, email = as_text(long, {"note": "word " * 200}, "email", reference="FD-8")
    assert len(email) > SMS_LIMIT  # only the SMS is cut


def test_a_step_with_no_status_text_says_it_is_being_worked_on() -> None:
    _, sms = as_text(TaskExperience(task="t"), {}, "sms", reference="FD-1")
    assert sms == "Case FD-1: We are working on your case."
