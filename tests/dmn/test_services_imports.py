"""Decision services (DMN 1.5 6.3.11, 10.4) and imports of other models (6.3.3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowdesk.core.errors import ModelError
from flowdesk.dmn import load_model

DATA = Path(__file__).resolve().parents[1] / "data" / "dmn"


def test_service_with_input_decision_returns_context_of_outputs() -> None:
    m = load_model(DATA / "services.dmn")
    result = m.evaluate_service("Tax Service", {"Gross": 200, "Rate": 0.1})
    assert result.value == {"Tax": 20, "Net": 180}  # Gross taken from the inputs, not Base


def test_service_encapsulating_decisions_single_output() -> None:
    m = load_model(DATA / "services.dmn")
    assert m.evaluate_service("Net Service", {"Base": 50, "Rate": 0.5}).value == 50


def test_service_invoked_as_a_function_from_a_decision() -> None:
    m = load_model(DATA / "services.dmn")
    assert m.evaluate("Via Service", {}).value == 150  # 200 - 200 * 0.25


def test_import_by_namespace_types_bkm_and_decision() -> None:
    m = load_model(DATA / "loan-with-import.dmn", DATA / "people.dmn")
    result = m.evaluate(
        "Letter", {"Applicant": {"name": "Ada", "age": 36}, "people.Person": {"age": 36}}
    )
    assert result.value == "Hello Ada, you may apply", result.messages()
    young = m.evaluate("Letter", {"Applicant": {"name": "Bo"}, "people": {"Person": {"age": 9}}})
    assert young.value == "Hello Bo, too young"
    assert "people.Is Adult" in m.decisions


def test_imported_type_checks_the_input() -> None:
    m = load_model(DATA / "loan-with-import.dmn", DATA / "people.dmn")
    result = m.evaluate("Letter", {"Applicant": {"name": 7}})
    assert result.value is None or "Hello" not in str(result.value)
    assert any("people.tPerson" in msg or "tPerson" in msg for msg in result.messages())


def test_missing_import_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="imports 'people'.*not loaded"):
        load_model(DATA / "loan-with-import.dmn")


def test_non_dmn_imports_are_not_required() -> None:
    xml = (
        (DATA / "dmn11-table.dmn")
        .read_text()
        .replace(
            "<itemDefinition",
            '<import name="schemas" namespace="http://example.com/xsd" '
            'importType="http://www.w3.org/2001/XMLSchema"/><itemDefinition',
            1,
        )
    )
    assert load_model(xml).evaluate("Band", {"Score": 800}).value == "good"
