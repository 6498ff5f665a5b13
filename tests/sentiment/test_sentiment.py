"""Sentiment of customer words on a week of seeded demo history, driven as people use it: the
worker's routing round queues the open work (a strongly negative contact raises its case's
work), the REST API and `flowdesk mine --sentiment` report per reason over time with the
driving words and topics, the dashboard draws it and the case page shows it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.web.conftest import login
from typer.testing import CliRunner

from flowdesk.api.app import create_app
from flowdesk.app.organisation import routing_for
from flowdesk.cases.models import cases
from flowdesk.cli.demo import default_demo_dir, load_demo_content
from flowdesk.cli.main import app as cli
from flowdesk.core.clock import FixedClock
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent
from flowdesk.demo.seed import seed
from flowdesk.routing.models import routing_queue
from flowdesk.sentiment.models import sentiment_scores
from flowdesk.sentiment.score import score
from flowdesk.sentiment.service import SENTIMENT_BOOST, SentimentScorer
from flowdesk.settings import Settings
from flowdesk.store import Store

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@dataclass
class Demo:
    url: str
    store: Store
    client: TestClient


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    url = f"sqlite:///{tmp_path_factory.mktemp('sentiment') / 'flowdesk.db'}"
    store = Store.open(url)
    store.upgrade()
    list(load_demo_content(store))
    seed(store, default_demo_dir(), days=7, customers=300, cases_per_day=20, end=NOW)
    company = default_demo_dir() / "company.yaml"
    clock = FixedClock(NOW)
    routing_for(store, company, clock=clock).sync()  # the worker's routing round
    app = create_app(Settings(database_url=url, company_file=str(company)), store, clock)
    try:
        with TestClient(app) as client:
            yield Demo(url, store, client)
    finally:
        store.close()


def test_score_explains_itself() -> None:
    angry = score("This is unacceptable, I am really fed up with your terrible service!")
    assert angry.label == "negative" and angry.compound <= -0.5
    words = dict(angry.drivers)
    assert words["unacceptable"] < 0 and words["terrible"] < 0
    glad = score("Thank you, the engineer was great.")
    assert glad.label == "positive" and dict(glad.drivers)["great"] > 0
    # a negated word counts with its sign in context
    assert dict(score("The agent was not helpful at all.").drivers)["helpful"] < 0
    assert score("   ").label == "neutral" and score("   ").drivers == ()


def test_survey_comments_are_scored_from_the_log(demo: Demo) -> None:
    """A survey answer's comment is scored as source "survey" once its event is in the log;
    the scorer's cursor makes a second tick a no-op."""
    with demo.store.reading() as conn:
        case_id, reason = conn.execute(select(cases.c.id, cases.c.reason).limit(1)).one()
    with demo.store.unit_of_work() as uow:
        uow.append(
            NewEvent(
                EventType.SURVEY_ANSWERED,
                NOW - timedelta(hours=1),
                {"reference": None, "csat": 1, "nps": 0, "comment": "Awful, nobody called back."},
                case_id=case_id,
                channel="web",
            )
        )
    scorer = SentimentScorer(demo.store)
    assert scorer.tick() >= 1
    assert scorer.tick() == 0
    t = sentiment_scores.c
    with demo.store.reading() as conn:
        row = conn.execute(
            select(sentiment_scores).where(t.source == "survey", t.case_id == case_id)
        ).one()
    assert row.label == "negative" and row.reason == reason
    assert "awful" in [w for w, _ in row.drivers]


def test_social_posts_are_scored_as_social(demo: Demo) -> None:
    login(demo.client, "admin", "flowdesk-demo")
    key = demo.client.post("/api/v1/api-keys", json={"name": "social"})
    assert key.status_code == 201, key.text
    demo.client.cookies.clear()
    post = {
        "channel": "social",
        "network": "x",
        "handle": "@unhappy",
        "text": "Worst provider ever, my internet is down again and nobody answers!",
    }
    headers = {"Authorization": f"Bearer {key.json()['key']}"}
    r = demo.client.post("/api/v1/contacts", json=post, headers=headers)
    assert r.status_code == 201, r.text
    assert SentimentScorer(demo.store).tick() >= 1
    mine = demo.client.get(
        "/api/v1/analytics/sentiment", params={"source": "social"}, headers=headers
    ).json()
    [scored] = [t for t in mine["most_negative"] if t["id"] == r.json()["contact_id"]]
    assert scored["source"] == "social" and scored["channel"] == "social"
    assert scored["label"] == "negative" and "worst" in [d["word"] for d in scored["drivers"]]
    assert mine["by_source"] == {"social": mine["texts"]}


def test_api_cli_dashboard_case_page_and_routing(demo: Demo) -> None:
    login(demo.client, "akeller")  # a supervisor
    r = demo.client.get("/api/v1/analytics/sentiment", params={"days": 30})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["texts"] > 50 and report["negative"] > 10 and report["positive"] > 10
    assert {"contact", "survey"} <= set(report["by_source"])
    means = {x["reason"]: x["mean"] for x in report["reasons"]}
    assert max(means.values()) - min(means.values()) > 0.2  # visible variation by reason
    complaint = next(x for x in report["reasons"] if x["reason"] == "complaint")
    assert complaint["series"] and complaint["drivers"]
    assert sum(p["texts"] for p in complaint["series"]) == complaint["texts"]
    assert any(d["weight"] < 0 for d in report["drivers"])
    topics = {t["group"]: [x["term"] for x in t["terms"]] for t in report["topics"]}
    assert "internet" in topics["no-internet"]
    worst = report["most_negative"][0]
    assert worst["compound"] <= -0.5 and worst["drivers"]
    # one case's texts, by reference
    with demo.store.reading() as conn:
        ref = conn.execute(
            select(cases.c.reference).where(cases.c.id == worst["case_id"])
        ).scalar_one()
    one = demo.client.get("/api/v1/analytics/sentiment", params={"case": ref}).json()
    assert one["case"]["id"] == worst["case_id"]
    assert worst["id"] in [x["id"] for x in one["case"]["texts"]]
    bad = demo.client.get("/api/v1/analytics/sentiment", params={"bucket": "hour"})
    assert bad.status_code == 422
    missing = demo.client.get("/api/v1/analytics/sentiment", params={"case": "FD-0"})
    assert missing.status_code == 404

    # the command line prints the same report
    # (its clock is the wall clock: a window wide enough for the seeded weeks whenever it runs)
    out = CliRunner().invoke(
        cli, ["mine", "--sentiment", "--json", "--days", "100000", "--database-url", demo.url]
    )
    assert out.exit_code == 0, out.output
    printed = json.loads(out.output)
    with demo.store.reading() as conn:
        stored = conn.execute(select(func.count()).select_from(sentiment_scores)).scalar_one()
    assert printed["texts"] == stored >= report["texts"]
    assert {r["reason"] for r in printed["reasons"]} >= set(means)
    table = CliRunner().invoke(
        cli, ["mine", "--sentiment", "--days", "100000", "--database-url", demo.url]
    )
    assert table.exit_code == 0 and "complaint" in table.output and "topics" in table.output

    # the dashboard: the chart over time per reason, driving words, the most negative texts
    page = demo.client.get("/dashboards/sentiment", params={"days": 30}).text
    chart = re.search(r'<figure class="panel" id="sentiment-chart">(.*?)</figure>', page, re.S)
    assert chart is not None and "<svg" in chart.group(1) and "complaint" in chart.group(1)
    reasons = re.search(r'<table id="sentiment-reasons">(.*?)</table>', page, re.S)
    assert reasons is not None and "unacceptable" in page
    assert reasons.group(1).count("<tr>") == len(report["reasons"]) + 1
    assert 'aria-current="page">Sentiment' in page

    # routing: the open work of a strongly negative case is raised by SENTIMENT_BOOST
    q = routing_queue.c
    t = sentiment_scores.c
    with demo.store.reading() as conn:
        queued = conn.execute(
            select(q.id, q.instance_id, q.boost, q.base, q.attributes).where(
                q.source == "work_item", q.status == "queued"
            )
        ).all()
        worst_of = dict(
            conn.execute(
                select(cases.c.instance_id, t.compound)
                .select_from(sentiment_scores.join(cases, cases.c.id == t.case_id))
                .order_by(t.compound.desc())
            ).all()
        )  # the lowest compound per instance wins (ordered last)
    raised = [w for w in queued if (worst_of.get(w.instance_id) or 0) <= -0.5]
    calm = [w for w in queued if (worst_of.get(w.instance_id) or 0) > -0.5]
    assert raised and calm
    assert all(w.boost == SENTIMENT_BOOST for w in raised)
    assert all(w.boost == 0 for w in calm)
    assert all(w.attributes["sentiment"] <= -0.5 for w in raised)

    # the case page shows the customer's sentiment, per message and for the case
    login(demo.client, "admin", "flowdesk-demo")
    case_page = demo.client.get(f"/work/{raised[0].id}")
    assert case_page.status_code == 200, case_page.text[:300]
    assert 'id="case-sentiment"' in case_page.text and "negative" in case_page.text
    assert 'class="badge sentiment sentiment-negative"' in case_page.text
