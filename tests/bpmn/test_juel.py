"""JUEL -> FEEL translation of the usual gateway expressions, and refusal of everything else."""

from __future__ import annotations

import pytest

from flowdesk.bpmn.juel import JuelError, juel_to_feel, template_to_feel
from flowdesk.feel import evaluate


@pytest.mark.parametrize(
    ("juel", "feel"),
    [
        ("${amount > 100 && vip}", "((amount > 100) and vip)"),
        ("${!approved}", "not(approved)"),
        ("${a == 'x' || b != 2}", '((a = "x") or (b != 2))'),
        ("${x eq 1}", "(x = 1)"),
        ("${x ne 1 and y lt 2}", "((x != 1) and (y < 2))"),
        ('${customer.address.city == "Oslo"}', '(customer.address.city = "Oslo")'),
        ("#{items[0]}", "items[1]"),
        ("${-a + 2 * 3}", "((-a) + (2 * 3))"),
    ],
)
def test_translation(juel: str, feel: str) -> None:
    assert juel_to_feel(juel) == feel


@pytest.mark.parametrize(
    ("juel", "context", "expected"),
    [
        ("${amount > 100 && vip}", {"amount": 150, "vip": True}, True),
        ("${amount > 100 && vip}", {"amount": 150, "vip": False}, False),
        ("${!approved}", {"approved": False}, True),
        ("${a == 'x' || b != 2}", {"a": "y", "b": 2}, False),
        ("${x eq 1}", {"x": 1}, True),
        ("${empty x}", {"x": ""}, True),
        ("${empty x}", {"x": None}, True),
        ("${empty x}", {"x": "abc"}, False),
        ("${not empty items}", {"items": [1]}, True),
        ("${empty x}", {"x": {}}, True),
        ("${empty x}", {"x": 5}, False),
    ],
)
def test_translated_expression_means_the_same(juel: str, context: dict, expected: bool) -> None:
    assert evaluate(juel_to_feel(juel), context) is expected


@pytest.mark.parametrize(
    ("juel", "column", "fragment"),
    [
        ("${order.getTotal() > 5}", 9, "method call"),
        ("${x ? 1 : 2}", 5, "unexpected character"),
        ("Hello ${name}", 1, "not a single"),
        ("${a > }", 7, "unexpected"),
        ("${(a > 1}", 9, "expected ')'"),
        ("${a % 2}", 5, "not supported"),
    ],
)
def test_untranslatable_expressions_are_refused_with_a_column(
    juel: str, column: int, fragment: str
) -> None:
    with pytest.raises(JuelError) as info:
        juel_to_feel(juel)
    assert fragment in str(info.value)
    assert info.value.column == column


@pytest.mark.parametrize(
    ("template", "context", "expected"),
    [
        ("${base}/customers/${id}", {"base": "https://crm", "id": 42}, "https://crm/customers/42"),
        ("Bearer ${token}", {"token": "t"}, "Bearer t"),
        ("${amount > 100}", {"amount": 150}, True),  # a single expression keeps its type
        ("x ${'}'} y", {}, "x } y"),
    ],
)
def test_templates_in_mapping_values_become_string_concatenation(
    template: str, context: dict, expected: object
) -> None:
    assert evaluate(template_to_feel(template), context) == expected
