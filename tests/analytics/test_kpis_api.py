# ruff: noqa: E501
"""KPIs and the scorecard through the API, on flows run through the API with a fixed clock, so
every expected figure below is worked out by hand from the timeline (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.api.test_service_api import Api, make_api

from flowdesk.cases import service as cases
from flowdesk.core.clock import FixedClock
from flowdesk.core.events import NewEvent
from flowdesk.core.ids import UuidIds
from flowdesk.engine.testing import cond, wrap
from flowdesk.store import Store

REPAIR = wrap(
    f"""
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="triage" name="Triage" camunda:candidateGroups="front-office"/>
    <bpmn:exclusiveGateway id="needs" default="f_done"/>
    <bpmn:userTask id="visit" name="Visit" camunda:candidateGroups="field-service"/>
    <bpmn:exclusiveGateway id="fixed" default="f_again"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="triage"/>
    <bpmn:sequenceFlow id="f1" sourceRef="triage" targetRef="needs"/>
    <bpmn:sequenceFlow id="f_visit" sourceRef="needs" targetRef="visit">{cond("needsVisit = true")}</bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_done" sourceRef="needs" targetRef="e"/>
    <bpmn:sequenceFlow id="f2" sourceRef="visit" targetRef="fixed"/>
    <bpmn:sequenceFlow id="f_ok" sourceRef="fixed" targetRef="e">{cond("fixed = true")}</bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_again" sourceRef="fixed" targetRef="visit"/>
    """,
    process_id="repair",
)
COMPANY = """
company: {name: Test, timezone: UTC}
departments:
  - {id: front-office, name: Front office, ola: {pickup: PT15M, resolve: PT1H}}
  - {id: field-service, name: Field service, ola: {pickup: PT1H, resolve: PT4H}}
sla_policies:
  - id: standard
    name: Standard
    calendar: always
    targets: [{priority: normal, response: PT1H, resolution: PT4H}]
calendars:
  - id: always
    opening_hours: {monday: ["00:00-24:00"], tuesday: ["00:00-24:00"], wednesday: ["00:00-24:00"], thursday: ["00:00-24:00"], friday: ["00:00-24:00"], saturday: ["00:00-24:00"], sunday: ["00:00-24:00"]}
    holidays: []
shifts: {day: {start: "09:00", end: "17:00"}}
agents:
  - {name: A, username: agent, department: front-office, shift: day, languages: [en], skills: {x: 1}}
analytics:
  complaint_reasons: [complaint]
  scorecard:
    - id: repairs
      name: Repaired first time
      flows: [repair]
      measures:
        - {metric: ftr_rate, target: 0.9}
        - {metric: turnaround_hours_mean, target: 4}
"""


@pytest.fixture
def api(
    store: Store,
    clock: FixedClock,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Api]:
    monkeypatch.setenv("FLOWDESK_WEBHOOK_INTERVAL", "0")
    company = tmp_path / "company.yaml"
    company.write_text(COMPANY)
    yield from make_api(store, clock, database_url, company_file=str(company))


def _item(api: Api, instance_id: str) -> str:
    listed = api.client.get("/api/v1/work-items", headers=api.as_("admin")).json()
    items = [i for i in listed if i["instance_id"] == instance_id]
    assert len(items) == 1, items
    return str(items[0]["id"])


def _work(api: Api, instance_id: str, claim_after: int, work: int, **variables: Any) -> None:
    """Wait `claim_after` minutes, claim, work `work` minutes, complete."""
    item = _item(api, instance_id)
    api.clock.advance(timedelta(minutes=claim_after))
    assert (
        api.client.post(f"/api/v1/work-items/{item}/claim", headers=api.as_("admin")).status_code
        == 200
    )
    api.clock.advance(timedelta(minutes=work))
    done = api.client.post(
        f"/api/v1/work-items/{item}/complete",
        json={"variables": variables},
        headers=api.as_("admin"),
    )
    assert done.status_code == 200, done.text


def _run_two_repairs(api: Api) -> tuple[str, str]:
    """A: triage, a visit that fails, a second visit: 5 h, one hand-off, rework.
    B (starts 1 h later): triage only, 20 min, right first time."""
    assert api.deploy(("repair.bpmn", REPAIR)).status_code == 201
    start = api.clock.now()
    a = api.start("repair")["id"]
    _work(api, a, 10, 20, needsVisit=True)  # triage done at +30 min
    api.clock.set(start + timedelta(hours=1))
    b = api.start("repair")["id"]
    _work(api, b, 10, 10, needsVisit=False)  # B closes at +1:20
    api.clock.set(start + timedelta(hours=2))
    _work(api, a, 0, 60, fixed=False)  # first visit: created +0:30, claimed +2:00, done +3:00
    _work(api, a, 60, 60, fixed=True)  # second visit: claimed +4:00, done +5:00
    return a, b


def test_case_and_work_kpis_from_a_timeline(api: Api) -> None:
    _run_two_repairs(api)
    api.clock.advance(timedelta(hours=1))
    headers = api.as_("supervisor")

    total = api.client.get("/api/v1/analytics/kpis", params={"grain": "total"}, headers=headers)
    assert total.status_code == 200, total.text
    [row] = total.json()["rows"]
    assert row["opened"] == 2 and row["closed"] == 2
    assert row["turnaround_hours_mean"] == pytest.approx((5 + 20 / 60) / 2, abs=1e-3)
    assert row["turnaround_hours_p90"] == pytest.approx(20 / 60 + 0.9 * (5 - 20 / 60), abs=1e-3)
    assert row["ftr_rate"] == 0.5  # A did the visit twice
    assert row["fcr_rate"] == 1.0  # no contact came back about either
    assert row["sla_compliance"] == 0.5  # A took 5 h of a 4 h resolution target
    assert row["handoffs"] == 0.5  # A: front office -> field service
    assert row["surveys"] == 0 and row["csat"] is None and row["nps"] is None

    work = api.client.get("/api/v1/analytics/work", headers=headers).json()["rows"]
    by_department = {r["group"]: r for r in work}
    front, field = by_department["front-office"], by_department["field-service"]
    assert front["completed"] == 2 and front["handling_minutes_mean"] == 15.0
    assert front["pickup_minutes_mean"] == 10.0
    assert front["ola_pickup_compliance"] is None  # nothing was handed to the front office
    assert field["completed"] == 2 and field["handling_minutes_mean"] == 60.0
    assert field["pickup_minutes_mean"] == 75.0  # 90 and 60 minutes in the queue
    assert field["handoffs_in"] == 1
    assert field["ola_pickup_compliance"] == 0.0  # 90 min against a 1 h pickup OLA
    assert field["ola_resolve_compliance"] == 1.0  # 2.5 h against 4 h

    by_step = api.client.get(
        "/api/v1/analytics/work", params={"by": "step"}, headers=headers
    ).json()
    assert {r["group"]: r["completed"] for r in by_step["rows"]} == {"Triage": 2, "Visit": 2}


def test_scorecard_weekly_trend_and_csv(api: Api) -> None:
    _run_two_repairs(api)  # the clock stands at B's end: it counts
    headers = api.as_("supervisor")
    card = api.client.get("/api/v1/analytics/scorecard", headers=headers)
    assert card.status_code == 200, card.text
    [criterion] = card.json()["criteria"]
    assert criterion["id"] == "repairs" and criterion["cases"] == 2
    measures = {m["metric"]: m for m in criterion["measures"]}
    assert measures["ftr_rate"]["value"] == 0.5 and measures["ftr_rate"]["met"] is False
    assert measures["turnaround_hours_mean"]["met"] is True  # 2.67 h <= 4 h, lower is better
    assert criterion["status"] == "at risk"
    assert [p["week"] for p in measures["ftr_rate"]["trend"]] == ["2026-03-02"]

    daily = api.client.get(
        "/api/v1/analytics/kpis", params={"grain": "day", "format": "csv"}, headers=headers
    )
    assert daily.status_code == 200
    assert daily.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(daily.text)))
    assert [(r["period"], r["opened"], r["closed"]) for r in rows] == [("2026-03-02", "2", "2")]


def test_cases_contacts_surveys_and_reopen(api: Api, store: Store) -> None:
    """Cases opened by contacts: a repeat contact spoils first-contact resolution, a new case
    for the same reason soon after closing marks the first as reopened, and survey answers
    give CSAT and NPS."""
    a, b = _run_two_repairs(api)
    clock, ids = api.clock, UuidIds()
    with store.unit_of_work() as uow:
        first = cases.open_case(
            uow=uow,
            clock=clock,
            ids=ids,
            customer_id="c1",
            reason="repair",
            process_key="repair",
            channel="phone",
        )
        cases.set_instance(uow.connection, first.id, a)
        second = cases.open_case(
            uow=uow,
            clock=clock,
            ids=ids,
            customer_id="c2",
            reason="complaint",
            process_key="repair",
            channel="email",
        )
        cases.set_instance(uow.connection, second.id, b)
        for case, csat, nps in ((first, 2, 3), (second, 5, 10)):  # 1 detractor, 1 promoter
            uow.append(
                NewEvent(
                    "survey.answered",
                    clock.now(),
                    {"csat": csat, "nps": nps},
                    case_id=case.id,
                    customer_id=case.customer_id,
                    channel=case.channel,
                )
            )
    api.clock.advance(timedelta(days=2))
    api.start("repair")  # c1 comes back about the same thing 2 days later: A is reopened
    with store.unit_of_work() as uow:
        latest = api.client.get("/api/v1/process-instances", headers=api.as_("admin")).json()
        newest = next(i["id"] for i in latest if i["id"] not in (a, b))
        again = cases.open_case(
            uow=uow,
            clock=clock,
            ids=ids,
            customer_id="c1",
            reason="repair",
            process_key="repair",
            channel="chat",
        )
        cases.set_instance(uow.connection, again.id, newest)

    headers = api.as_("supervisor")
    rows = api.client.get(
        "/api/v1/analytics/kpis", params={"grain": "total", "by": "channel"}, headers=headers
    ).json()["rows"]
    by_channel = {r["group"]: r for r in rows}
    assert by_channel["phone"]["ftr_rate"] == 0.0 and by_channel["phone"]["fcr_rate"] == 0.0
    assert by_channel["email"]["fcr_rate"] == 1.0 and by_channel["email"]["complaints"] == 1
    assert by_channel["chat"]["opened"] == 1 and by_channel["chat"]["closed"] == 0
    total = api.client.get(
        "/api/v1/analytics/kpis", params={"grain": "total"}, headers=headers
    ).json()["rows"][0]
    assert total["csat"] == 3.5 and total["surveys"] == 2
    assert total["nps"] == 0.0  # one promoter (10), one detractor (3)
    assert total["complaint_rate"] == pytest.approx(1 / 3, abs=1e-4)
    # More detractors than promoters: a negative score (-100 on the phone case alone).
    assert by_channel["phone"]["nps"] == -100.0 and by_channel["email"]["nps"] == 100.0
    backlog = api.client.get("/api/v1/analytics/backlog", headers=headers).json()
    assert backlog["open_cases"] == 1 and backlog["open_work"] == 1
    assert backlog["by_department"][0]["department"] == "front-office"
    # A flow started over the API without a contact has no channel: one "(none)" group with
    # both its opening and its closing (null keys never match in a join: it used to be two rows).
    loose = api.start("repair")["id"]
    _work(api, loose, 1, 1, needsVisit=False)
    rows = api.client.get(
        "/api/v1/analytics/kpis", params={"grain": "total", "by": "channel"}, headers=headers
    ).json()["rows"]
    [none] = [r for r in rows if r["group"] == "(none)"]
    assert none["opened"] == 1 and none["closed"] == 1


def test_bad_requests_and_permissions(api: Api) -> None:
    agent = api.client.get("/api/v1/analytics/kpis", headers=api.as_("agent"))
    assert agent.status_code == 403 and "analytics:read" in agent.json()["detail"]
    headers = api.as_("supervisor")
    for params in (
        {"by": "colour"},
        {"grain": "hour"},
        {"days": "0"},
        {"since": "2026-03-05T00:00:00Z", "until": "2026-03-01T00:00:00Z"},
    ):
        response = api.client.get("/api/v1/analytics/kpis", params=params, headers=headers)
        assert response.status_code in (400, 422), (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert api.client.get(
        "/api/v1/analytics/work", params={"by": "segment"}, headers=headers
    ).status_code in (400, 422)
