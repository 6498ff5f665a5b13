"""Script evaluation and typed answers, without a database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from flowdesk.experience.bundle import Option, ScriptStep
from flowdesk.experience.service import coerce_answers, evaluate_script, render_status

STEPS = (
    ScriptStep("ok", "Verified?", variable="verified", type="boolean"),
    ScriptStep("amount", "Amount?", variable="amount", type="number", when="verified"),
    ScriptStep("when", "Since?", variable="since", type="date", when="amount > 100"),
    ScriptStep(
        "kind",
        "Kind?",
        variable="kind",
        type="choice",
        options=(Option("a", "A"), Option("b", "B")),
        when="since < date(2026, 1, 1)",
    ),
    ScriptStep("note", "Read the note.", type="info", when='kind = "b"'),
)


def test_form_text_becomes_typed_answers_that_drive_the_branches() -> None:
    raw = {"verified": "yes", "amount": "120.50", "since": "2025-12-24", "kind": "b", "x": "1"}
    answers = coerce_answers(STEPS, raw)
    assert answers == {
        "verified": True,
        "amount": Decimal("120.50"),
        "since": date(2025, 12, 24),
        "kind": "b",
        "x": "1",
    }
    views, next_step = evaluate_script(STEPS, answers)
    assert [v.state for v in views] == ["show"] * 5
    assert next_step is None
    # a skipped step is never answered: the steps that depend on it are skipped too
    views, next_step = evaluate_script(STEPS, {"verified": True, "amount": Decimal(50)})
    assert [v.state for v in views] == ["show", "show", "skipped", "skipped", "skipped"]
    views, next_step = evaluate_script(STEPS, {"verified": False})
    assert [v.state for v in views] == ["show", "skipped", "skipped", "skipped", "skipped"]
    views, next_step = evaluate_script(STEPS, {"verified": True, "amount": Decimal(150)})
    assert [v.state for v in views] == ["show", "show", "show", "pending", "pending"]
    assert next_step == "when"
    views, next_step = evaluate_script(STEPS, {})
    assert [v.state for v in views] == ["show", "pending", "pending", "pending", "pending"]
    assert next_step == "ok"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"verified": "perhaps"}, "verified: 'perhaps' is not yes or no"),
        ({"amount": "12,5"}, "amount: '12,5' is not a number"),
        ({"amount": "NaN"}, "amount: 'NaN' is not a number"),
        ({"since": "24/12/2025"}, "since: '24/12/2025' is not a date"),
        ({"kind": "c"}, "kind: 'c' is not one of a, b"),
    ],
)
def test_answers_that_do_not_fit_are_refused(raw: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        coerce_answers(STEPS, raw)


def test_empty_text_is_no_answer_and_status_placeholders() -> None:
    assert coerce_answers(STEPS, {"amount": "  "}) == {"amount": None}
    text = "Refund of {{ amount }} EUR for {{name}} on {{ missing }}."
    assert render_status(text, {"amount": Decimal("12.5"), "name": "Ana"}) == (
        "Refund of 12.5 EUR for Ana on ."
    )
    assert render_status(None, {}) is None
