"""demo/company.yaml: the organisation the demo seeds and routes with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowdesk.demo import COMPANY_DIR
from flowdesk.experience.company import COMPANY_SCHEMA, load_company
from flowdesk.experience.errors import BundleError

DEMO = COMPANY_DIR
DEPARTMENTS = {"front-office", "billing", "field-service", "network-operations", "retention"}


def test_company_loads_with_five_departments_and_about_thirty_agents() -> None:
    company = load_company(DEMO / "company.yaml")
    assert {d["id"] for d in company["departments"]} == DEPARTMENTS
    assert all(d["ola"]["pickup"] and d["ola"]["resolve"] for d in company["departments"])
    agents = company["agents"]
    assert 25 <= len(agents) <= 35
    assert {a["department"] for a in agents} == DEPARTMENTS
    assert len({a["username"] for a in agents}) == len(agents)
    assert all(a["skills"] and a["languages"] for a in agents)
    assert {p["id"] for p in company["sla_policies"]} >= {"standard", "premium"}
    business = next(c for c in company["calendars"] if c["id"] == "business")
    assert business["opening_hours"]["sunday"] == [] and len(business["holidays"]) >= 5


def test_the_editor_schema_file_is_the_loader_schema() -> None:
    assert json.loads((DEMO / "company.schema.json").read_text()) == COMPANY_SCHEMA


def test_problems_are_reported_with_lines(tmp_path: Path) -> None:
    text = (DEMO / "company.yaml").read_text()
    text = text.replace("department: billing,", "department: bliling,", 1)
    text = text.replace("pickup: PT2H", "pickup: two hours", 1)
    path = tmp_path / "company.yaml"
    path.write_text(text)
    with pytest.raises(BundleError) as caught:
        load_company(path)
    (issue,) = caught.value.issues  # the shape is checked first
    assert issue.field == "departments.1.ola.pickup" and issue.line == next(
        i for i, line in enumerate(text.splitlines(), 1) if "two hours" in line
    )
    path.write_text(text.replace("pickup: two hours", "pickup: PT2H"))
    with pytest.raises(BundleError) as caught:
        load_company(path)
    (issue,) = caught.value.issues
    assert "unknown department 'bliling'" in issue.message and issue.line is not None
