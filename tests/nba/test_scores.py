"""Customer value and churn risk from the event log: the consumer follows case and contact
events, stores the scores with their inputs, decisions read them, and routing priority takes the
churn risk of the customer a work item serves."""

from __future__ import annotations

from datetime import timedelta

from flowdesk.cases.service import open_case, set_instance
from flowdesk.core.clock import FixedClock
from flowdesk.customers import service as customers
from flowdesk.nba.scores import ScoreRefresher, scores_of
from flowdesk.nba.service import NextBestAction
from flowdesk.routing.organisation import Organisation, WorkProfiler
from flowdesk.store import Store


def test_complaints_raise_churn_risk_and_routing_priority_uses_it(
    store: Store, clock: FixedClock
) -> None:
    with store.unit_of_work() as uow:
        calm = customers.create_customer(uow=uow, clock=clock, profile={"display_name": "Calm"})
        angry = customers.create_customer(
            uow=uow, clock=clock, profile={"display_name": "Angry", "value": 900}
        )
    clock.advance(timedelta(days=400))
    with store.unit_of_work() as uow:
        for _ in range(3):
            case = open_case(
                uow=uow,
                clock=clock,
                ids=store.ids,
                customer_id=angry.id,
                reason="complaint",
                process_key="complaint",
                channel="phone",
            )
        set_instance(uow.connection, case.id, "instance-angry")
        open_case(
            uow=uow,
            clock=clock,
            ids=store.ids,
            customer_id=calm.id,
            reason="moving-house",
            process_key="moving_house",
            channel="web",
        )
    refresher = ScoreRefresher(store, clock)
    assert refresher.tick() == 2
    assert refresher.tick() == 0  # nothing new
    a = scores_of(store, angry.id)
    c = scores_of(store, calm.id)
    assert a is not None and c is not None
    assert a["complaints"] == 3 and c["complaints"] == 0
    assert a["tenure_years"] > 1
    assert a["churn_risk"] > 0.5 > c["churn_risk"]
    assert a["value"] == 900  # the profile's value wins; the calm one's is computed
    assert c["value"] > 0
    # a decision sees them as the customer's facts
    context = NextBestAction(store, clock)._context
    with store.reading() as conn:
        seen = context(conn, angry.id, None).customer
    assert seen["churn_risk"] == round(a["churn_risk"], 3) and seen["complaints"] == 3
    # routing: the work item of the angry customer's case carries the churn risk
    profiler = WorkProfiler(store, Organisation({}, (), (), {}, {}))
    with store.reading() as conn:
        profile = profiler.profile(
            conn, process_key=None, element_id=None, instance_id="instance-angry", lane=None
        )
    assert profile.churn_risk == a["churn_risk"]
