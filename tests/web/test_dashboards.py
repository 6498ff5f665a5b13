"""The dashboards on a week of seeded demo history: the overview's cards, charts and tables agree
with the analytics API, filters narrow them, the scorecard shows the company's six criteria,
and agents without analytics:read are kept out."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import login

from flowdesk.api.app import create_app
from flowdesk.cli.demo import default_demo_dir, load_demo_content
from flowdesk.core.clock import FixedClock
from flowdesk.demo.seed import seed
from flowdesk.settings import Settings
from flowdesk.store import Store

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path_factory.mktemp('dash') / 'flowdesk.db'}"
    store = Store.open(url)
    store.upgrade()
    list(load_demo_content(store))
    seed(store, default_demo_dir(), days=7, customers=300, cases_per_day=20, end=NOW)
    company = default_demo_dir() / "company.yaml"
    app = create_app(Settings(database_url=url, company_file=str(company)), store, FixedClock(NOW))
    try:
        with TestClient(app) as c:
            yield c
    finally:
        store.close()


def _cells(page: str, table_id: str) -> dict[str, list[str]]:
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', page, re.S)
    assert table, f"no table {table_id}"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S)
    out = {}
    for row in rows[1:]:
        cells = [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        out[cells[0]] = cells[1:]
    return out


def test_overview_cards_charts_and_tables_match_the_api(client: TestClient) -> None:
    login(client, "akeller")  # a supervisor
    page = client.get("/dashboards", params={"days": 7})
    assert page.status_code == 200, page.text[:500]
    html = page.text
    assert html.count('<svg class="chart"') == 6
    for title in (
        "Cases opened and closed per day",
        "From contact to promoter",
        "Contacts by channel",
    ):
        assert f"<title>{title}</title>" in html
    api = client.get("/api/v1/analytics/kpis", params={"grain": "total", "days": 7, "by": "flow"})
    assert api.status_code == 200
    expected = {r["group"]: r for r in api.json()["rows"]}
    shown = _cells(html, "by-flow")
    assert set(shown) == set(expected) and len(shown) >= 6
    for flow, row in expected.items():
        assert shown[flow][0] == f"{row['opened']:,}"  # opened
        assert shown[flow][1] == f"{row['closed']:,}"  # closed
    total = client.get("/api/v1/analytics/kpis", params={"grain": "total", "days": 7}).json()[
        "rows"
    ][0]
    card = re.search(
        r'data-metric="opened"><span class="kpi-label">[^<]*</span>'
        r'<span class="kpi-value">([^<]*)<',
        html,
    )
    assert card and card.group(1) == f"{total['opened']:,}"


def test_filters_narrow_the_overview_and_csv_export(client: TestClient) -> None:
    login(client, "akeller")
    html = client.get(
        "/dashboards", params={"days": 7, "flow": "refund_request", "grain": "week"}
    ).text
    assert list(_cells(html, "by-flow")) == ["refund_request"]
    assert '<option value="refund_request" selected>' in html
    link = re.search(r'href="(/api/v1/analytics/kpis\?format=csv[^"]*)"', html)
    assert link, "no CSV link"
    exported = client.get(link.group(1).replace("&amp;", "&"))
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows and {"period", "opened", "fcr_rate", "nps"} <= set(rows[0])


def test_scorecard_and_work_pages(client: TestClient) -> None:
    login(client, "akeller")
    card = client.get("/dashboards/scorecard", params={"days": 7}).text
    names = re.findall(r'<h2 id="c-\d+">([^<]+?) <span class="badge">([^<]+)</span>', card)
    assert [n for n, _ in names] == [
        "Value for money",
        "Service installed when promised, first time right",
        "Quality of service",
        "Prompt restoration after a disruption",
        "Accurate, timely invoices",
        "First-time-right handling of inquiries and complaints",
    ]
    assert {s for _, s in names} <= {"met", "at risk", "missed", "no data"}
    api = client.get("/api/v1/analytics/scorecard", params={"days": 7}).json()["criteria"]
    assert [c["status"] for c in api] == [s for _, s in names]

    work = client.get("/dashboards/work", params={"days": 7}).text
    departments = _cells(work, "departments")
    assert "Front office" in departments and "Billing" in departments
    assert int(departments["Front office"][0]) > 0


def test_odd_parameters_show_the_defaults(client: TestClient) -> None:
    login(client, "akeller")
    page = client.get("/dashboards", params={"days": "lots", "grain": "hour", "flow": "<b>"})
    assert page.status_code == 200
    assert '<option value="30" selected>' in page.text and "<b>" not in page.text
    assert client.get("/dashboards/scorecard", params={"days": "-1"}).status_code == 200


def test_agents_without_analytics_are_kept_out(client: TestClient) -> None:
    login(client, "bokafor")  # an agent
    page = client.get("/dashboards")
    assert page.status_code == 403 and "analytics:read" in page.text
    assert 'href="/dashboards"' not in client.get("/work").text
    assert client.get("/api/v1/analytics/kpis").status_code == 403
