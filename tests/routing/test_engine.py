"""The pure routing engine: capacity, skills, presence, offers, priorities, aging, transfers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowdesk.dmn import load_model
from flowdesk.routing import (
    DEFAULT_EXPRESSION,
    Agent,
    Item,
    Presence,
    PriorityPolicy,
    RoutingEngine,
    RoutingError,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def engine(**kw: object) -> RoutingEngine:
    return RoutingEngine(PriorityPolicy(**kw))  # type: ignore[arg-type]


def agent(e: RoutingEngine, agent_id: str, now: datetime = T0, **kw: object) -> Agent:
    kw.setdefault("departments", frozenset({"support"}))
    a = e.upsert_agent(Agent(agent_id, **kw))  # type: ignore[arg-type]
    e.set_presence(agent_id, Presence.AVAILABLE, now)
    return a


def item(item_id: str, channel: str = "chat", at: datetime = T0, **kw: object) -> Item:
    kw.setdefault("department", "support")
    return Item(item_id, channel, at, **kw)  # type: ignore[arg-type]


def test_capacity_per_channel_is_shared() -> None:
    e = engine()
    agent(e, "ana", capacity={"chat": 3, "call": 1, "email": 5})
    for n in range(4):
        e.enqueue(item(f"c{n}"), T0)
    e.enqueue(item("call", channel="call"), T0)
    taken = [e.pull("ana", T0) for _ in range(4)]
    assert [i.id if i else None for i in taken][:3] and taken[3] is None
    assert e.agents["ana"].load == {"chat": 3}
    assert e.next_for("ana", T0) is None  # the call does not fit beside 3 chats
    for i in taken[:3]:
        assert i is not None
        e.close(i.id)
    got = e.pull("ana", T0)
    assert got is not None and got.channel in {"call", "chat"}


def test_a_call_excludes_chats_and_emails_share() -> None:
    a = Agent("x", capacity={"chat": 3, "call": 1, "email": 5})
    a.load = {"email": 2}  # 2/5 used
    assert a.fits("chat")  # 2/5 + 1/3 <= 1
    assert not a.fits("call")
    a.load = {"email": 2, "chat": 1}
    assert a.fits("email") and not a.fits("chat")  # 3/5 + 1/3 ok, 2/5 + 2/3 > 1
    assert not a.fits("sms")  # a channel the agent does not handle


def test_skills_levels_languages_and_departments_are_respected() -> None:
    e = engine()
    agent(e, "junior", skills={"billing": 2}, languages=frozenset({"nl"}))
    agent(e, "senior", skills={"billing": 4}, languages=frozenset({"en"}))
    agent(e, "other", skills={"billing": 5}, languages=frozenset({"nl"}), departments=frozenset())
    e.enqueue(item("hard", skills={"billing": 3}, language="nl"), T0)
    assert e.next_for("junior", T0) is None  # level too low
    assert e.next_for("senior", T0) is None  # wrong language
    assert e.next_for("other", T0) is None  # not in the department
    agent(e, "expert", skills={"billing": 3}, languages=frozenset({"nl", "en"}))
    got = e.pull("expert", T0)
    assert got is not None and got.id == "hard"


def test_candidate_users_and_groups() -> None:
    e = engine()
    agent(e, "ana", departments=frozenset({"billing"}))
    agent(e, "bob", departments=frozenset({"billing"}))
    e.enqueue(item("only-bob", department=None, candidate_users=frozenset({"bob"})), T0)
    e.enqueue(item("billing", department=None, candidate_groups=frozenset({"billing"})), T0)
    e.enqueue(item("legal", department=None, candidate_groups=frozenset({"legal"})), T0)
    got = e.pull("ana", T0)
    assert got is not None and got.id == "billing"
    assert e.next_for("ana", T0) is None
    got = e.pull("bob", T0)
    assert got is not None and got.id == "only-bob"


def test_presence_is_respected_by_pull_and_push() -> None:
    e = engine()
    agent(e, "ana")
    e.set_presence("ana", Presence.AWAY, T0)
    e.enqueue(item("w"), T0)
    assert e.next_for("ana", T0) is None
    assert e.dispatch(T0) == []
    for presence in (Presence.BUSY, Presence.OFFLINE):
        e.set_presence("ana", presence, T0)
        assert e.dispatch(T0) == []
    e.set_presence("ana", Presence.AVAILABLE, T0)
    (offer,) = e.dispatch(T0)
    assert offer.agent_id == "ana" and offer.item_id == "w"


def test_offer_not_accepted_in_time_goes_to_the_next_agent() -> None:
    e = engine()
    agent(e, "best", skills={"billing": 5})
    agent(e, "second", skills={"billing": 3})
    e.enqueue(item("w", skills={"billing": 2}), T0)
    (first,) = e.dispatch(T0)
    assert first.agent_id == "best"  # the higher skill level wins
    assert first.expires_at == T0 + timedelta(seconds=30)
    assert e.dispatch(T0 + timedelta(seconds=29)) == []  # still offered, not re-offered
    later = T0 + timedelta(seconds=30)
    (second,) = e.dispatch(later)
    assert second.agent_id == "second" and second.item_id == "w"
    assert e.agents["best"].load == {"chat": 0} and e.agents["best"].pending_offer is None
    with pytest.raises(RoutingError, match="no open offer"):
        e.accept(first.id, "best", later)
    accepted = e.accept(second.id, "second", later + timedelta(seconds=5))
    assert accepted.state == "assigned" and accepted.agent == "second"


def test_declined_offer_is_offered_to_another_agent_and_not_back() -> None:
    e = engine()
    agent(e, "ana")
    (offer,) = (e.enqueue(item("w"), T0), e.dispatch(T0))[1]
    e.decline(offer.id, "ana", T0)
    assert e.dispatch(T0) == []  # only ana is ready, and she declined
    assert e.next_for("ana", T0) is None
    agent(e, "bob")
    (again,) = e.dispatch(T0)
    assert again.agent_id == "bob"


def test_declined_top_item_does_not_block_the_rest_of_its_class() -> None:
    e = engine()
    agent(e, "ana")
    e.enqueue(item("urgent", reason_priority=5), T0)
    e.enqueue(item("normal"), T0)
    (offer,) = e.dispatch(T0)
    assert offer.item_id == "urgent"
    e.decline(offer.id, "ana", T0)
    (offer2,) = e.dispatch(T0)
    assert offer2.item_id == "normal"


def test_priorities_reorder_the_queue_when_sla_time_runs_low() -> None:
    e = engine(aging_per_minute=0)
    vip = item("vip", reason_priority=3)  # 30 points, no deadline
    sla = item("sla", due_at=T0 + timedelta(hours=2))  # 0 points until 60 minutes are left
    e.enqueue(vip, T0)
    e.enqueue(sla, T0)
    agent(e, "ana")
    assert [i.id for i in e.ordered(T0)] == ["vip", "sla"]
    assert e.next_for("ana", T0) is vip
    late = T0 + timedelta(minutes=100)  # 20 minutes left: +80
    assert e.review(late) == 1
    assert e.next_for("ana", late) is sla
    assert [i.id for i in e.ordered(late)] == ["sla", "vip"]


def test_aging_lifts_old_low_priority_items() -> None:
    e = engine(aging_per_minute=0.5)
    agent(e, "ana")
    e.enqueue(item("old"), T0)  # base 0
    soon = T0 + timedelta(minutes=10)
    e.enqueue(item("new-10", at=soon, reason_priority=1), soon)  # base 10 > 0 + 5
    assert e.next_for("ana", soon).id == "new-10"  # type: ignore[union-attr]
    late = T0 + timedelta(minutes=30)
    e.enqueue(item("new-30", at=late, reason_priority=1), late)  # base 10 < 0 + 15
    # new-10 has 10 + 10 aged, old has 0 + 15, new-30 has 10 + 0
    assert [i.id for i in e.ordered(late)] == ["new-10", "old", "new-30"]
    assert e.pull("ana", late).id == "new-10"  # type: ignore[union-attr]
    assert e.pull("ana", late).id == "old"  # type: ignore[union-attr]
    policy = e.policy
    old = item("o")
    assert policy.score(old, T0 + timedelta(minutes=30)) == pytest.approx(15)


def test_transfer_moves_work_to_another_department_with_its_reason() -> None:
    e = engine()
    agent(e, "ana")
    agent(e, "lars", departments=frozenset({"billing"}))
    e.enqueue(item("w"), T0)
    assert e.pull("ana", T0) is not None
    record = e.transfer("w", T0, reason="needs a refund", department="billing")
    assert (record.from_department, record.to_department) == ("support", "billing")
    assert record.from_agent == "ana" and record.reason == "needs a refund"
    assert e.agents["ana"].load == {"chat": 0}
    assert e.next_for("ana", T0) is None
    assert e.pull("lars", T0).id == "w"  # type: ignore[union-attr]
    assert e.queue_sizes() == {}
    with pytest.raises(RoutingError, match="reason"):
        e.transfer("w", T0, reason=" ")


def test_queue_sizes_and_closing() -> None:
    e = engine()
    e.enqueue(item("a"), T0)
    e.enqueue(item("a"), T0)  # idempotent
    e.enqueue(item("b", department="billing"), T0)
    assert e.queue_sizes() == {"support": 1, "billing": 1}
    e.close("a")
    assert e.queue_sizes() == {"billing": 1}
    assert e.close("a") is None


def test_feel_priority_expression_is_configurable() -> None:
    e = engine(expression="customer value * 2 - churn risk", aging_per_minute=0)
    agent(e, "ana")
    e.enqueue(item("low", customer_value=10, churn_risk=0), T0)
    e.enqueue(item("high", customer_value=20, churn_risk=5), T0)
    assert e.pull("ana", T0).id == "high"  # type: ignore[union-attr]
    with pytest.raises(RoutingError, match="number"):
        PriorityPolicy(expression='"text"').base(item("x"), T0)


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="prio"
             namespace="http://flowdesk/prio">
  <decision id="priority" name="Priority">
    <informationRequirement id="ir"><requiredInput href="#cr"/></informationRequirement>
    <decisionTable hitPolicy="FIRST">
      <input id="i1" label="churn risk"><inputExpression typeRef="number"><text>churn risk</text></inputExpression></input>
      <output id="o1" name="priority" typeRef="number"/>
      <rule id="r1"><inputEntry><text>&gt;= 0.8</text></inputEntry><outputEntry><text>100</text></outputEntry></rule>
      <rule id="r2"><inputEntry><text>-</text></inputEntry><outputEntry><text>1</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <inputData id="cr" name="churn risk"/>
</definitions>
"""  # noqa: E501


def test_dmn_decision_priority() -> None:
    policy = PriorityPolicy(decision=(load_model(DMN), "Priority"), aging_per_minute=0)
    e = RoutingEngine(policy)
    agent(e, "ana")
    e.enqueue(item("calm", churn_risk=0.1), T0)
    e.enqueue(item("leaving", churn_risk=0.9), T0)
    assert [i.id for i in e.ordered(T0)] == ["leaving", "calm"]
    assert policy.base(e.items["leaving"], T0) == 100


def test_raise_priority_moves_an_item_up() -> None:
    e = engine(aging_per_minute=0)
    agent(e, "ana")
    e.enqueue(item("a", reason_priority=1), T0)
    e.enqueue(item("b"), T0)
    e.bump("b", 50, T0)
    assert e.pull("ana", T0).id == "b"  # type: ignore[union-attr]


@settings(max_examples=200, deadline=None)
@given(
    st.floats(0, 5),
    st.floats(0, 100),
    st.floats(0, 1),
    st.floats(0, 100),
    st.one_of(st.none(), st.integers(-600, 600)),
)
def test_native_default_priority_equals_the_feel_expression(
    reason: float, value: float, churn: float, boost: float, left: int | None
) -> None:
    due = None if left is None else T0 + timedelta(minutes=left)
    it = item("x", reason_priority=reason, customer_value=value, churn_risk=churn, due_at=due)
    it.boost = boost
    native = PriorityPolicy().base(it, T0)
    feel = PriorityPolicy(expression=DEFAULT_EXPRESSION).base(it, T0)
    assert native == pytest.approx(feel, rel=1e-9, abs=1e-9)
