"""Deploying bundles and reading a work item's experience, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.experience.conftest import BPMN, FLOW, write_bundle

from flowdesk.core.clock import FixedClock
from flowdesk.core.errors import NotFoundError
from flowdesk.experience.errors import BundleError
from flowdesk.experience.formcheck import check_form
from flowdesk.experience.models import contact_reasons, experience_bundles
from flowdesk.experience.service import (
    catalog,
    customer_status,
    deploy_bundle,
    experience_for,
    reason_flow,
)
from flowdesk.knowledge.models import knowledge_articles
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store
from flowdesk.store.process_tables import deployments, process_definitions


@pytest.fixture
def runtime(store: Store, clock: FixedClock) -> ProcessRuntime:
    return ProcessRuntime(store, clock=clock)


def _count(store: Store, table: object) -> int:
    with store.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _item(runtime: ProcessRuntime, instance_id: str) -> dict:  # type: ignore[type-arg]
    (item,) = runtime.work_items(instance_id=instance_id)
    return item


def test_experience_of_a_work_item(
    runtime: ProcessRuntime, store: Store, bundle_dir: Path, clock: FixedClock
) -> None:
    result = deploy_bundle(runtime, store, bundle_dir, actor="ana")
    assert result.articles == ["limits"] and result.reasons == ["mini-reason"]
    assert [(d.key, d.version) for d in result.deployment.definitions] == [("mini", 1)]
    state = runtime.start("mini", {"customerSegment": "residential"})
    item = _item(runtime, state.id)

    fresh = experience_for(store, item["id"])
    assert fresh.bundle == "mini" and fresh.task == "check" and fresh.reason == "mini-reason"
    assert [(s.id, s.state) for s in fresh.script] == [
        ("verified", "show"),
        ("amount", "pending"),
        ("big", "pending"),
        ("stop", "pending"),
    ]
    assert fresh.next_step == "verified"
    assert fresh.panels == ["profile", "billing"] and fresh.sla == "PT2H"
    assert fresh.due_at == clock.now() + timedelta(hours=2)
    assert fresh.form is not None and fresh.form["required"] == ["verified"]
    assert fresh.status_text == "We are checking your request for EUR."
    (suggestion,) = fresh.knowledge
    assert suggestion.slug == "limits" and set(suggestion.why) >= {"reason", "step", "text"}

    branch = experience_for(store, item["id"], answers={"verified": True, "amount": 250})
    assert [(s.id, s.state) for s in branch.script] == [
        ("verified", "show"),
        ("amount", "show"),
        ("big", "show"),
        ("stop", "skipped"),
    ]
    assert branch.next_step is None
    assert branch.status_text == "We are checking your request for 250 EUR."

    refused = experience_for(store, item["id"], answers={"verified": False})
    assert [(s.id, s.state) for s in refused.script][1:] == [
        ("amount", "skipped"),
        ("big", "skipped"),  # it depends on the amount, which is never asked now
        ("stop", "show"),
    ]
    data = branch.to_dict()
    assert data["due_at"] == (clock.now() + timedelta(hours=2)).isoformat()
    assert data["script"][2]["state"] == "show"


def test_catalog_and_customer_status(
    runtime: ProcessRuntime, store: Store, bundle_dir: Path
) -> None:
    deploy_bundle(runtime, store, bundle_dir)
    (entry,) = catalog(store)
    assert (entry.reason, entry.process_key, entry.bundle) == ("mini-reason", "mini", "mini")
    assert entry.channels == ["phone"]
    assert reason_flow(store, "mini-reason") == "mini"
    with pytest.raises(NotFoundError):
        reason_flow(store, "nope")
    state = runtime.start("mini", {"amount": 120})
    assert customer_status(store, state.id) == ["We are checking your request for 120 EUR."]
    state = runtime.complete_work_item(_item(runtime, state.id)["id"], {"verified": True})
    assert customer_status(store, state.id) == ["Waiting for approval."]


def test_a_new_version_gets_the_new_experience_and_running_instances_keep_theirs(
    runtime: ProcessRuntime, store: Store, tmp_path: Path
) -> None:
    deploy_bundle(runtime, store, write_bundle(tmp_path / "v1"))
    old = runtime.start("mini")
    changed_bpmn = BPMN.replace('name="Check request"', 'name="Check the request"')
    changed_flow = FLOW.replace("question: Is the caller verified?", "question: Verified (v2)?")
    result = deploy_bundle(
        runtime,
        store,
        write_bundle(tmp_path / "v2", {"flow.yaml": changed_flow, "mini.bpmn": changed_bpmn}),
    )
    assert [(d.id, d.new) for d in result.deployment.definitions] == [("mini:2", True)]
    new = runtime.start("mini")
    assert experience_for(store, _item(runtime, old.id)["id"]).script[0].question == (
        "Is the caller verified?"
    )
    assert experience_for(store, _item(runtime, new.id)["id"]).script[0].question == (
        "Verified (v2)?"
    )
    assert _count(store, experience_bundles) == 2
    assert _count(store, knowledge_articles) == 1  # upserted by slug


def test_nothing_is_written_when_storing_the_experience_fails(
    runtime: ProcessRuntime, store: Store, bundle_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flowdesk.experience.service as service

    def broken(*args: object, **kwargs: object) -> list[str]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(service, "upsert_articles", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        deploy_bundle(runtime, store, bundle_dir)
    for table in (deployments, process_definitions, experience_bundles, contact_reasons):
        assert _count(store, table) == 0, table


def test_an_invalid_bundle_deploys_nothing(
    runtime: ProcessRuntime, store: Store, tmp_path: Path
) -> None:
    broken = write_bundle(tmp_path / "b", {"flow.yaml": FLOW.replace("[profile, billing]", "[x]")})
    with pytest.raises(BundleError) as caught:
        deploy_bundle(runtime, store, broken)
    assert caught.value.issues[0].field == "tasks.check.panels[0]"
    assert _count(store, deployments) == 0 and _count(store, knowledge_articles) == 0


def test_work_items_without_a_bundle_and_unknown_items(
    runtime: ProcessRuntime, store: Store
) -> None:
    runtime.deploy("plain", [("mini.bpmn", BPMN.encode())])
    state = runtime.start("mini")
    plain = experience_for(store, _item(runtime, state.id)["id"])
    assert plain.bundle is None and plain.script == [] and plain.title == "Check request"
    with pytest.raises(NotFoundError):
        experience_for(store, "no-such-item")


def test_check_form() -> None:
    schema = {
        "type": "object",
        "required": ["verified"],
        "properties": {"amount": {"type": "number", "minimum": 0}},
    }
    assert check_form(schema, {"verified": True, "amount": 3}) == []
    problems = check_form(schema, {"amount": -1})
    assert [p["field"] for p in problems] == ["verified", "amount"]
    assert check_form(None, {"anything": 1}) == []
