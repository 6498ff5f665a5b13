"""The worked example of DMN 1.5 section 10.3.4 ("applicant" context) and closure scoping."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from flowdesk.feel import Env, evaluate

D = Decimal

APPLICANT_CONTEXT = """{
  applicant: {
    age: 51,
    maritalStatus: "M",
    existingCustomer: false,
    monthly: {income: 10000, repayments: 2500, expenses: 3000}
  },
  requested product: {
    product type: "STANDARD LOAN", rate: 0.25, term: 36, amount: 100000.00
  },
  monthly income: applicant.monthly.income,
  monthly outgoings: [applicant.monthly.repayments, applicant.monthly.expenses],
  credit history: [
    {record date: date("2008-03-12"), event: "home mortgage", weight: 100},
    {record date: date("2011-04-01"), event: "foreclosure warning", weight: 150}
  ],
  PMT: function(rate, term, amount) (amount * rate / 12) / (1 - (1 + rate / 12) ** -term),
  result: %s
}.result"""


def spec(expression: str) -> Any:
    env = Env()
    value = evaluate(APPLICANT_CONTEXT % expression, env=env)
    assert not env.diagnostics, env.diagnostics.messages()
    return value


@pytest.fixture(autouse=True)
def _needs_builtins() -> None:
    builtins = pytest.importorskip("flowdesk.feel.builtins")
    for name in ("sum", "date"):
        if name not in builtins.BUILTINS:
            pytest.skip(f"built-in {name} not available")


def test_monthly_income() -> None:
    assert spec("applicant.monthly.income * 12") == D(120000)


def test_marital_status_in_list() -> None:
    assert spec('if applicant.maritalStatus in ("M", "S") then "valid" else "not valid"') == "valid"


def test_sum_of_outgoings() -> None:
    assert spec("sum(monthly outgoings)") == D(5500)


def test_pmt() -> None:
    value = spec("PMT(requested product.rate, requested product.term, requested product.amount)")
    assert round(value, 10) == D("3975.9825901256")


def test_weights_of_recent_history() -> None:
    assert spec('sum(credit history[record date > date("2011-01-01")].weight)') == D(150)


def test_no_bankruptcy() -> None:
    assert spec('some ch in credit history satisfies ch.event = "bankruptcy"') is False


def test_named_invocation_of_context_function() -> None:
    value = spec("PMT(amount: requested product.amount, rate: 0.25, term: 36)")
    assert round(value, 10) == D("3975.9825901256")


def test_closures_are_lexically_scoped() -> None:
    assert evaluate("{a: 1, f: function() a, g: {a: 2, r: f()}}.g.r") == D(1)


def test_inner_names_shadow_outer_ones() -> None:
    assert evaluate("{a: 1, f: function(a) a * 10, r: f(5)}.r") == D(50)
    assert evaluate("for a in [7] return a", {"a": 1}) == [D(7)]
