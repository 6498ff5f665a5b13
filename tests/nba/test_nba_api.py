# ruff: noqa: F811
"""Next best action through the REST API, as an integrator drives it: a bundle with an actions
catalog is deployed (a bad one is refused with file and line), decisions respect eligibility and
the contact policies, outcomes teach the models, arbitration ranks by propensity x value x lever
and explains itself."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.api.test_service_api import Api, api  # noqa: F401
from tests.experience.conftest import write_bundle

from flowdesk.core.clock import FixedClock
from flowdesk.customers import service as customers
from flowdesk.nba.service import arm_of
from flowdesk.store import Store

ACTIONS = """\
policy:
  max_per_customer: 2
  max_per_channel: 2
  window: P30D
  cooldown_after_decline: P7D
  suppress_while_open: [complaint]
actions:
  - id: discount
    name: 20 % off
    kind: offer
    value: 200
    cost: 50
    prior: 0.1
    timeout: P1D
    eligible: customer.tenure_years >= 1 and customer.churn_risk >= 0.3
    treatments:
      agent: {script: "I can take 20 % off your bill."}
      email: {subject: "20 % off", text: "Reply YES for 20 % off."}
  - id: upgrade
    name: Upgrade
    kind: offer
    value: 100
    prior: 0.1
    treatments:
      agent: {script: "Faster for 10 EUR more."}
      web: {title: "Upgrade", text: "Faster for 10 EUR more."}
  - id: app
    name: The app
    kind: service
    value: 10
    lever: 2
    prior: 0.1
    policy: {max_per_customer: 5, max_per_channel: 5, suppress_while_open: []}
    treatments:
      agent: {script: "Get the app."}
"""


def _zip(root: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            archive.write(path, "mini/" + path.relative_to(root).as_posix())
    return buffer.getvalue()


def deploy(api: Api, tmp_path: Path, actions: str = ACTIONS) -> Any:
    root = write_bundle(tmp_path / "mini", {"actions/offers.yaml": actions})
    return api.client.post(
        "/api/v1/deployments",
        content=_zip(root),
        headers={"Content-Type": "application/zip", **api.as_("admin")},
    )


def customer(store: Store, clock: FixedClock, name: str, **profile: Any) -> str:
    with store.unit_of_work() as uow:
        found = customers.create_customer(
            uow=uow, clock=clock, profile={"display_name": name, **profile}
        )
    return found.id


def champion(store: Store, clock: FixedClock, name: str) -> str:
    """A customer in the champion arm (the arm is a stable hash of the id)."""
    for i in range(50):
        found = customer(store, clock, f"{name} {i}", segment="residential")
        if arm_of(found) == "champion":
            return found
    raise AssertionError("no champion customer in 50")


def decide(api: Api, customer_id: str, channel: str = "agent", **body: Any) -> Any:
    response = api.client.post(
        "/api/v1/decisions/next-best-action",
        json={"customer_id": customer_id, "channel": channel, **body},
        headers=api.as_("agent"),
    )
    return response


def outcome(api: Api, decision_id: str, what: str) -> Any:
    return api.client.post(
        "/api/v1/decisions/outcomes",
        json={"decision_id": decision_id, "outcome": what},
        headers=api.as_("agent"),
    )


LOYAL = {"tenure_years": 3, "churn_risk": 0.6}


@pytest.fixture
def deployed(api: Api, tmp_path: Path) -> Api:
    response = deploy(api, tmp_path)
    assert response.status_code == 201, response.text
    return api


def test_a_bad_actions_file_is_refused_on_deploy_with_file_and_line(
    api: Api, tmp_path: Path
) -> None:
    bad = ACTIONS.replace("kind: service", "kind: freebie").replace(
        "customer.tenure_years >= 1 and", "customer.tenure_years >= and"
    )
    response = deploy(api, tmp_path, bad)
    assert response.status_code == 422, response.text
    text = response.text
    assert "actions/offers.yaml" in text
    assert "'freebie' is not one of ['offer', 'service']" in text
    listed = api.client.get("/api/v1/decisions/actions", headers=api.as_("agent"))
    assert listed.json() == []  # nothing was deployed
    schema_ok = ACTIONS.replace("customer.tenure_years >= 1 and", "customer.tenure_years >= and")
    problem = deploy(api, tmp_path / "2", schema_ok).json()
    feel = [e for e in problem["errors"] if e["file"] == "actions/offers.yaml"]
    assert (
        feel
        and (feel[0]["line"], feel[0]["column"]) == (15, 40)
        and feel[0]["field"] == "actions[0].eligible"
    ), feel


def test_eligibility_and_channel_treatments_decide_what_is_offered(
    deployed: Api, store: Store, clock: FixedClock
) -> None:
    api = deployed
    who = champion(store, clock, "Ada")
    listed = api.client.get("/api/v1/decisions/actions", headers=api.as_("agent")).json()
    assert [a["id"] for a in listed] == ["app", "discount", "upgrade"]
    new = decide(api, who).json()  # a new customer is not eligible for the discount
    assert {a["action"] for a in new["actions"]} == {"upgrade", "app"}
    assert new["excluded"] == [
        {
            "action": "discount",
            "reason": "not eligible (customer.tenure_years >= 1 and customer.churn_risk >= 0.3)",
        }
    ]
    other = champion(store, clock, "Bo")
    loyal = decide(api, other, context=LOYAL).json()
    assert {a["action"] for a in loyal["actions"]} == {"discount", "upgrade", "app"}
    top = next(a for a in loyal["actions"] if a["action"] == "discount")
    assert top["treatment"] == {"script": "I can take 20 % off your bill."}
    assert top["why"][0].startswith("priority ")
    web = decide(api, other, "web", context=LOYAL).json()
    assert [a["action"] for a in web["actions"]] == ["upgrade"]
    assert web["actions"][0]["treatment"]["title"] == "Upgrade"
    bad = decide(api, other, "fax")
    assert bad.status_code == 422  # refused at the door: the channel is an enum in the schema
    assert bad.json()["errors"][0]["location"] == "body.channel"
    assert "'agent', 'email', 'sms' or 'web'" in bad.json()["errors"][0]["message"]
    missing = decide(api, "no-such-customer")
    assert missing.status_code == 404


def test_contact_policies_cap_cool_down_and_suppress(
    deployed: Api, store: Store, clock: FixedClock
) -> None:
    api = deployed
    who = champion(store, clock, "Cy")
    first = {a["action"]: a for a in decide(api, who, context=LOYAL).json()["actions"]}
    again = {a["action"]: a for a in decide(api, who, context=LOYAL).json()["actions"]}
    # shown again while still presented: the same decision, not a second contact
    assert first["discount"]["decision_id"] == again["discount"]["decision_id"]
    assert outcome(api, first["discount"]["decision_id"], "declined").status_code == 200
    after = decide(api, who, context=LOYAL).json()
    assert "discount" not in {a["action"] for a in after["actions"]}
    assert {"action": "discount", "reason": "declined less than 7 days ago"} in after["excluded"]
    clock.advance(timedelta(days=8))  # the cool-down is over; one presentation is left
    back = {a["action"]: a for a in decide(api, who, context=LOYAL).json()["actions"]}
    assert "discount" in back
    outcome(api, back["discount"]["decision_id"], "declined")
    clock.advance(timedelta(days=8))
    capped = decide(api, who, context=LOYAL).json()
    assert {
        "action": "discount",
        "reason": "contact limit: 2 per customer in 30 days",
    } in capped["excluded"]
    # an open complaint suppresses the actions of the file policy, not the one that clears it
    with store.unit_of_work() as uow:
        from flowdesk.cases.service import open_case

        open_case(
            uow=uow,
            clock=clock,
            ids=store.ids,
            customer_id=who,
            reason="complaint",
            process_key=None,
            channel="phone",
        )
    suppressed = decide(api, who, context=LOYAL).json()
    assert [a["action"] for a in suppressed["actions"]] == ["app"]
    reasons = {e["action"]: e["reason"] for e in suppressed["excluded"]}
    assert reasons["upgrade"].startswith("suppressed while case ")


def test_outcomes_teach_the_model_and_time_outs_count_as_ignored(
    deployed: Api, store: Store, clock: FixedClock
) -> None:
    api = deployed
    accepted = 0
    for i in range(30):
        who = champion(store, clock, f"Di{i}")
        found = {a["action"]: a for a in decide(api, who).json()["actions"]}
        if "upgrade" in found:
            # customers accept the upgrade, never the app
            assert outcome(api, found["upgrade"]["decision_id"], "accepted").status_code == 200
            accepted += 1
        if "app" in found:
            done = outcome(api, found["app"]["decision_id"], "declined")
            assert done.status_code == 200
            body = done.json()
            assert body["outcome"] == "declined" and body["model_evidence"] >= 1
            assert body["learn_ms"] < 1.0
    again = outcome(api, found["app"]["decision_id"], "declined")
    assert again.status_code == 200  # the same outcome twice is harmless
    conflict = outcome(api, found["app"]["decision_id"], "accepted")
    assert conflict.status_code == 409
    assert outcome(api, found["app"]["decision_id"], "maybe").status_code == 422
    assert outcome(api, "nope", "accepted").status_code == 404
    models = {
        m["action"]: m
        for m in api.client.get("/api/v1/decisions/models", headers=api.as_("supervisor")).json()
    }
    assert models["upgrade"]["evidence"] == accepted
    assert models["upgrade"]["positives"] == accepted
    assert models["app"]["positives"] == 0
    fresh = champion(store, clock, "Eve")
    ranked = decide(api, fresh, limit=2).json()["actions"]
    up = next(a for a in ranked if a["action"] == "upgrade")
    assert up["propensity"] > 0.5  # learned from 100 % acceptance
    # presented and never answered: ignored after the action's time-out, a negative outcome
    clock.advance(timedelta(days=4))
    from flowdesk.nba.service import engine_for

    expired = engine_for(store, clock).expire_due(force=True)
    assert expired >= 2
    dash = api.client.get("/api/v1/decisions/dashboard", headers=api.as_("supervisor")).json()
    rows = [r for r in dash["acceptance"] if r["action"] == "upgrade"]
    assert sum(r["accepted"] for r in rows) == accepted
    assert sum(r["ignored"] for r in rows) >= 1
    assert dash["auc"] and {"action", "version", "evidence", "auc"} <= set(dash["auc"][0])
    forbidden = api.client.get("/api/v1/decisions/models", headers=api.as_("agent"))
    assert forbidden.status_code == 403


def test_arbitration_is_propensity_times_value_times_lever_and_explained(
    deployed: Api, store: Store, clock: FixedClock
) -> None:
    api = deployed
    who = champion(store, clock, "Flo")
    found = decide(api, who, context=LOYAL).json()["actions"]
    for a in found:
        value = max(a["value"] - a["cost"], 0.01)
        # the champion explores around the propensity; priority / (value x lever) is that draw
        drawn = a["priority"] / (value * a["lever"])
        assert 0 < drawn < 1
        assert a["why"][0].startswith(f"priority {a['priority']:.3g} = propensity")
    priorities = [a["priority"] for a in found]
    assert priorities == sorted(priorities, reverse=True)
    # the challenger arm ranks by the prior: 0.1 x 150 (discount) > 0.1 x 100 > 0.1 x 10 x 2
    for i in range(200):
        other = customer(store, clock, f"Gus {i}")
        if arm_of(other) == "challenger":
            break
    ranked = decide(api, other, context=LOYAL).json()
    assert ranked["arm"] == "challenger"
    assert [a["action"] for a in ranked["actions"]] == ["discount", "upgrade", "app"]
    assert ranked["actions"][0]["priority"] == pytest.approx(0.1 * 150)


def test_bundle_validate_on_the_command_line_checks_the_actions_too(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from flowdesk.cli.experience import register

    root = typer.Typer()

    @root.callback()
    def main() -> None:
        """Test root."""

    register(root)
    bad = ACTIONS.replace("lever: 2", "lever: 0")
    bundle = write_bundle(tmp_path / "mini", {"actions/offers.yaml": bad})
    result = CliRunner().invoke(root, ["bundle", "validate", str(bundle)])
    assert result.exit_code == 2, result.output
    assert "actions/offers.yaml:31:5: actions[2].lever: 0 is less than" in result.output


RULE = 'today() < date("2026-04-01") and now() >= date and time("2026-03-01T00:00:00Z")'
DATED = f"""\
actions:
  - id: march-sale
    name: March sale
    kind: offer
    prior: 0.1
    eligible: {RULE}
    treatments:
      agent: {{script: "It is the March sale."}}
  - id: always
    name: Always
    kind: service
    prior: 0.1
    treatments:
      agent: {{script: "Hello."}}
"""


def test_eligibility_reads_the_application_clock_not_the_system_clock(
    api: Api, store: Store, clock: FixedClock, tmp_path: Path
) -> None:
    """today() and now() in a rule are the app's clock (a fixed one here, in March 2026):
    tests and the simulation back-test decide the same whatever day they run."""
    assert deploy(api, tmp_path, DATED).status_code == 201
    assert (clock.now().year, clock.now().month) == (2026, 3)
    march = decide(api, champion(store, clock, "Mar")).json()
    assert "march-sale" in {a["action"] for a in march["actions"]}
    clock.advance(timedelta(days=40))  # April on the app's clock
    april = decide(api, champion(store, clock, "Apr")).json()
    assert [a["action"] for a in april["actions"]] == ["always"]
    assert {"action": "march-sale", "reason": f"not eligible ({RULE})"} in april["excluded"]


def test_deciding_again_shows_what_is_still_presented_and_writes_nothing(
    deployed: Api, store: Store, clock: FixedClock
) -> None:
    """A page shown again (the case page, the status page, an integration asking twice) gets
    the actions still presented, in their places and under their decision ids, and records no
    new presentation; an answered one frees its place for the next best action."""
    from flowdesk.nba.models import nba_decisions

    api = deployed
    who = champion(store, clock, "Hal")

    def rows() -> int:
        with store.reading() as conn:
            found = conn.execute(
                nba_decisions.select().where(nba_decisions.c.customer_id == who)
            ).all()
        return len(found)

    first = decide(api, who, limit=2, context=LOYAL).json()["actions"]
    assert len(first) == 2 and rows() == 2
    for _ in range(5):  # the champion explores: without this, the order would change
        again = decide(api, who, limit=2, context=LOYAL).json()["actions"]
        assert [(a["action"], a["decision_id"]) for a in again] == [
            (a["action"], a["decision_id"]) for a in first
        ]
    assert rows() == 2
    assert outcome(api, first[0]["decision_id"], "declined").status_code == 200
    after = decide(api, who, limit=2, context=LOYAL).json()["actions"]
    # the one still presented moves up; the free place goes to the action not yet shown
    assert after[0]["decision_id"] == first[1]["decision_id"]
    assert after[1]["action"] not in {a["action"] for a in first}
    assert rows() == 3
