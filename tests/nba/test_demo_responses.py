"""The live demo's simulated customers: offered their next best actions on random channels,
they answer by a hidden propensity and the demo's models gain evidence."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import build_app, login

from flowdesk.cli.demo import load_demo_content
from flowdesk.core.clock import FixedClock
from flowdesk.customers import service as customers
from flowdesk.demo.nba_responses import SimulatedResponses, true_propensity
from flowdesk.nba.service import engine_for
from flowdesk.store import Store


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """SQLite only: the PostgreSQL paths are the API tests' (test_nba_api.py)."""
    return sqlite_url


def test_simulated_customers_answer_offers_and_the_models_learn(
    store: Store, clock: FixedClock, database_url: str
) -> None:
    list(load_demo_content(store))
    with store.unit_of_work() as uow:
        for i in range(20):
            customers.create_customer(
                uow=uow,
                clock=clock,
                profile={"display_name": f"Live {i}", "segment": "premium" if i % 3 else None},
            )
    offers = SimulatedResponses(store, clock, seed=3)
    for _ in range(15):
        offers.step(clock.now())
        clock.advance(timedelta(seconds=3))
    assert offers.presented >= 15  # some channels have no eligible action for a customer
    models = engine_for(store, clock).models()
    assert sum(m["evidence"] for m in models) >= offers.presented // 2
    assert {m["channel"] for m in models} <= {"agent", "email", "sms", "web"}
    # the supervisor's dashboard shows acceptance per action and the models
    with TestClient(build_app(database_url, store)) as client:
        login(client, "akeller")
        page = client.get("/dashboards/next-best-action")
        assert page.status_code == 200, page.text
        assert 'id="nba-acceptance"' in page.text and "No action presented yet" not in page.text
        assert models[0]["action"] in page.text and "Model AUC by version" in page.text
        login(client, "bokafor")
        assert client.get("/dashboards/next-best-action").status_code == 403
    # the hidden propensity is a property of the action and the customer, stable across runs
    facts = {"churn_risk": 0.5, "tenure_years": 2, "segment": "premium", "value": 300}
    assert true_propensity("app-education", facts) == true_propensity("app-education", facts)
    assert true_propensity("app-education", facts) != true_propensity("fibre-upgrade", facts)
