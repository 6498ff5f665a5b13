"""The desktop's pages and fragments through TestClient: login, queue, the case page with
its script branching, completion, permissions, CSRF, the supervisor and the status page."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

Login = Callable[..., str]
Starter = Callable[..., dict[str, Any]]
_refs = itertools.count(1)


def ref() -> str:
    return f"FD-T{next(_refs):04d}"


def test_pages_need_a_login_and_redirect_to_it(client: TestClient) -> None:
    for path in ("/work", "/supervisor", "/work/whatever", "/knowledge/search"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")


def test_wrong_password_shows_an_error_and_no_session(client: TestClient, csrf_of: Any) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"csrf": token, "username": "bokafor", "password": "nope"}
    )
    assert response.status_code == 401
    assert "Wrong username or password." in response.text
    assert "flowdesk_session" not in response.cookies
    assert client.get("/work", follow_redirects=False).status_code == 303


def test_login_without_the_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/login")
    response = client.post(
        "/login",
        data={
            "csrf": "forged-token-forged-token",
            "username": "bokafor",
            "password": "flowdesk-demo",
        },
    )
    assert response.status_code == 400
    assert "expired or came from another site" in response.text
    assert client.get("/work", follow_redirects=False).status_code == 303


def test_login_redirect_target_stays_on_this_site(client: TestClient, csrf_of: Any) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={
            "csrf": token,
            "username": "bokafor",
            "password": "flowdesk-demo",
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/work"


def test_queue_shows_the_groups_work_with_due_time_and_reference(
    client: TestClient, store: Store, login: Login, start_complaint: Starter
) -> None:
    reference = ref()
    item = start_complaint(store, reference)
    login(client, "bokafor")  # front office agent
    page = client.get("/work").text
    row = re.search(rf'<tr[^>]*data-item="{item["id"]}".*?</tr>', page, re.S)
    assert row, "the new item is not in the queue"
    assert reference in row.group(0)
    assert "Register complaint" in row.group(0)
    assert re.search(r"in (3h|4h)", row.group(0))  # register_complaint has a 4 hour SLA


def test_agent_cannot_see_another_departments_item_or_queue(
    client: TestClient, store: Store, login: Login, start_complaint: Starter
) -> None:
    item = start_complaint(store, ref())
    login(client, "lmurphy")  # billing
    assert item["id"] not in client.get("/work").text
    response = client.get(f"/work/{item['id']}")
    assert response.status_code == 403  # as the API answers the same user for the same item
    assert "is not offered to lmurphy or their groups" in response.text


def test_agent_cannot_open_the_supervisor_page(client: TestClient, login: Login) -> None:
    login(client, "bokafor")
    response = client.get("/supervisor")
    assert response.status_code == 403
    assert "supervise" in response.text
    assert client.get("/supervisor/panel").status_code == 403
    assert 'href="/supervisor"' not in client.get("/work").text


def test_script_branch_appears_and_disappears_with_the_answers(
    client: TestClient, store: Store, login: Login, start_complaint: Starter
) -> None:
    item = start_complaint(store, ref())
    token = login(client, "bokafor")
    page = client.get(f"/work/{item['id']}").text
    assert 'id="step-media"' in page and "depends on earlier answers" in page
    url = f"/work/{item['id']}/script"
    high = client.post(url, data={"csrf": token, "severity": "high"}, headers={"HX-Request": "1"})
    assert high.status_code == 200
    assert high.text.lstrip().startswith('<div id="script"')  # a fragment, not the page
    assert 'name="publicThreat"' in high.text
    low = client.post(url, data={"csrf": token, "severity": "low"}, headers={"HX-Request": "1"})
    assert 'id="step-media"' not in low.text
    full = client.post(url, data={"csrf": token, "severity": "high"})  # without htmx
    assert "<html" in full.text and 'name="publicThreat"' in full.text


def test_a_bad_answer_is_reported_not_a_500(
    client: TestClient, store: Store, login: Login, start_complaint: Starter
) -> None:
    item = start_complaint(store, ref())
    token = login(client, "bokafor")
    response = client.post(
        f"/work/{item['id']}/script",
        data={"csrf": token, "severity": "apocalyptic"},
        headers={"HX-Request": "1"},
    )
    assert response.status_code == 200
    assert "is not one of low, medium, high" in response.text


def test_completing_validates_the_form_then_moves_the_flow_on(
    client: TestClient, store: Store, login: Login, start_complaint: Starter
) -> None:
    item = start_complaint(store, ref())
    token = login(client, "bokafor")
    url = f"/work/{item['id']}/complete"
    missing = client.post(url, data={"csrf": token, "severity": "low"})
    assert missing.status_code == 422
    assert "complaintCategory" in missing.text and "required" in missing.text
    done = client.post(
        url,
        data={
            "csrf": token,
            "severity": "low",
            "complaintCategory": "billing",
            "expectedOutcome": "<script>alert(1)</script>",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and "Completed" in done.headers["location"]
    runtime = ProcessRuntime(store)
    closed = runtime.work_items(status="completed", instance_id=item["instance_id"])
    assert [i["id"] for i in closed] == [item["id"]]
    state = runtime.instance(item["instance_id"])
    assert state.vars["severity"] == "low"
    assert state.vars["expectedOutcome"] == "<script>alert(1)</script>"
    assert item["id"] not in client.get("/work").text
    nxt = runtime.work_items(instance_id=item["instance_id"])[0]  # resolve_complaint
    page = client.get(f"/work/{nxt['id']}").text
    assert "<script>alert(1)</script>" not in page  # escaped wherever it is shown
    old = client.get(f"/work/{item['id']}")
    assert old.status_code == 200 and "This work item is completed." in old.text


def test_claim_note_and_delegate(
    client: TestClient, store: Store, login: Login, start_complaint: Starter
) -> None:
    item = start_complaint(store, ref())
    token = login(client, "bokafor")
    base = f"/work/{item['id']}"
    assert (
        client.post(f"{base}/claim", data={"csrf": token}, follow_redirects=False).status_code
        == 303
    )
    assert (
        ProcessRuntime(store).work_items(instance_id=item["instance_id"])[0]["assignee"]
        == "bokafor"
    )
    client.post(f"{base}/note", data={"csrf": token, "note": "Called back <b>twice</b>"})
    page = client.get(base).text
    assert "Called back &lt;b&gt;twice&lt;/b&gt;" in page
    unknown = client.post(f"{base}/transfer", data={"csrf": token, "to": "nobody-here"})
    assert unknown.status_code == 422
    moved = client.post(
        f"{base}/transfer", data={"csrf": token, "to": "cmoreau"}, follow_redirects=False
    )
    assert moved.status_code == 303
    assert (
        ProcessRuntime(store).work_items(instance_id=item["instance_id"])[0]["assignee"]
        == "cmoreau"
    )
    assert item["id"] not in client.get("/work").text  # it is cmoreau's now


def test_transfer_to_a_department_moves_it_between_queues(
    client: TestClient, store: Store, login: Login, start_complaint: Starter
) -> None:
    item = start_complaint(store, ref())
    token = login(client, "bokafor")
    moved = client.post(
        f"/work/{item['id']}/transfer",
        data={"csrf": token, "to": "group:billing", "reason": "a billing question"},
        follow_redirects=False,
    )
    assert moved.status_code == 303 and "billing" in moved.headers["location"]
    assert item["id"] not in client.get("/work").text
    assert client.get(f"/work/{item['id']}").status_code == 403
    login(client, "lmurphy")  # billing
    assert item["id"] in client.get("/work").text
    assert client.get(f"/work/{item['id']}").status_code == 200


def test_next_best_claims_the_top_item_of_the_queue(
    client: TestClient, store: Store, login: Login, start_complaint: Starter
) -> None:
    start_complaint(store, ref())
    token = login(client, "dsilva")
    response = client.post("/work/next", data={"csrf": token}, follow_redirects=False)
    assert response.status_code == 303
    item_id = response.headers["location"].removeprefix("/work/")
    item = ProcessRuntime(store).work_items(status="open", assignee="dsilva")
    assert item_id in [i["id"] for i in item]


def test_knowledge_search_article_and_feedback(client: TestClient, login: Login) -> None:
    token = login(client, "bokafor")
    hits = client.get("/knowledge/search", params={"q": "complaint"}, headers={"HX-Request": "1"})
    assert hits.status_code == 200
    slug = re.search(r'href="/knowledge/([^"?]+)', hits.text)
    assert slug, hits.text
    article = client.get(f"/knowledge/{slug.group(1)}")
    assert article.status_code == 200 and "Was this helpful?" in article.text
    thanks = client.post(
        f"/knowledge/{slug.group(1)}/feedback",
        data={"csrf": token, "helpful": "yes"},
        headers={"HX-Request": "1"},
    )
    assert "marked as helpful" in thanks.text
    assert "1 found this helpful" in client.get(f"/knowledge/{slug.group(1)}").text
    assert client.get("/knowledge/no-such-article").status_code == 404


def test_supervisor_sees_counts_per_department(
    client: TestClient, store: Store, login: Login, start_complaint: Starter
) -> None:
    start_complaint(store, ref())
    login(client, "akeller")
    page = client.get("/supervisor").text
    row = re.search(r'data-department="front-office">.*?class="open"><a [^>]*>(\d+)<', page, re.S)
    assert row and int(row.group(1)) >= 1
    panel = client.get("/supervisor/panel", headers={"HX-Request": "1"})
    assert panel.text.lstrip().startswith('<section id="supervisor-panel"')


def test_status_page_shows_status_after_verification_only(
    client: TestClient, store: Store, csrf_of: Any, start_complaint: Starter
) -> None:
    reference = ref()
    start_complaint(store, reference, name="Maria van Dijk")
    token = csrf_of(client.get("/status").text)
    wrong = client.post("/status", data={"csrf": token, "reference": reference, "proof": "Smith"})
    assert wrong.status_code == 404
    assert "could not find a case" in wrong.text
    assert "registered your complaint" not in wrong.text
    unknown = client.post("/status", data={"csrf": token, "reference": "FD-NOPE", "proof": "Dijk"})
    assert unknown.status_code == 404
    right = client.post("/status", data={"csrf": token, "reference": reference, "proof": " DIJK "})
    assert right.status_code == 200
    assert f"We have registered your complaint {reference}." in right.text
    assert (
        client.post(
            "/status", data={"csrf": token, "reference": reference, "proof": "Van Dijk"}
        ).status_code
        == 200
    )
    assert (
        client.post(
            "/status", data={"csrf": token, "reference": reference, "proof": "Maria"}
        ).status_code
        == 404
    )


def test_status_page_adds_information_as_an_event(
    client: TestClient, store: Store, csrf_of: Any, start_complaint: Starter
) -> None:
    reference = ref()
    item = start_complaint(store, reference, name="Jo Bloggs")
    token = csrf_of(client.get("/status").text)
    response = client.post(
        "/status/message",
        data={"csrf": token, "reference": reference, "proof": "bloggs", "message": "Photo sent"},
    )
    assert response.status_code == 200 and "added your information" in response.text
    events = store.events.where(process_instance_id=item["instance_id"])
    added = [e for e in events if e.type == "customer.information_added"]
    assert added and added[0].data["text"] == "Photo sent"
    refused = client.post(
        "/status/message",
        data={"csrf": token, "reference": reference, "proof": "wrong", "message": "x"},
    )
    assert refused.status_code == 404


def test_status_message_answers_a_flow_waiting_for_the_customers_reply(
    client: TestClient, store: Store, csrf_of: Any, start_complaint: Starter
) -> None:
    reference = ref()
    item = start_complaint(store, reference, name="Kim Reply")
    runtime = ProcessRuntime(store)
    answers: list[dict[str, Any]] = [
        {"complaintCategory": "billing", "severity": "low"},
        {"rootCause": "a tariff error", "goodwill": False},
        {"proposalChannel": "email", "proposalSummary": "We correct the bill and apologise."},
    ]
    for variables in answers:
        runtime.complete_work_item(item["id"], variables)
        open_items = runtime.work_items(instance_id=item["instance_id"])
        item = open_items[0] if open_items else item
    assert runtime.work_items(instance_id=item["instance_id"]) == []  # waits for the reply
    token = csrf_of(client.get("/status").text)
    waiting = client.post("/status", data={"csrf": token, "reference": reference, "proof": "reply"})
    assert "please reply" in waiting.text
    response = client.post(
        "/status/message",
        data={"csrf": token, "reference": reference, "proof": "reply", "message": "Not enough"},
    )
    assert "your case continues" in response.text
    state = runtime.instance(item["instance_id"])
    assert state.vars["customerMessage"] == "Not enough"
    assert [i["element_id"] for i in runtime.work_items(instance_id=state.id)] == ["senior_review"]


def test_bad_input_gets_a_clear_answer_never_a_500(
    client: TestClient, store: Store, login: Login, csrf_of: Any, start_complaint: Starter
) -> None:
    item = start_complaint(store, ref())
    token = login(client, "bokafor")
    for query in ['"*(', "NEAR(a b", "' OR 1=1 --", "x" * 5000, "%00"]:
        response = client.get("/knowledge/search", params={"q": query})
        assert response.status_code == 200, query
    assert client.get("/work/..%2F..%2Fetc").status_code == 404
    assert client.get("/work/" + "x" * 300).status_code == 404
    assert client.post("/work/nope/complete", data={"csrf": token}).status_code == 404
    assert client.post("/status", data={}).status_code == 400  # no CSRF token
    empty = client.post("/status", data={"csrf": token, "reference": "", "proof": ""})
    assert empty.status_code == 404 and "could not find a case" in empty.text
    upload = client.post(
        f"/work/{item['id']}/note",
        data={"csrf": token},
        files={"note": ("a.txt", b"hello", "text/plain")},
    )
    assert upload.status_code in (400, 422)
    bad_number = client.post(
        f"/work/{item['id']}/complete",
        data={"csrf": token, "complaintCategory": "billing", "severity": "huge"},
    )
    assert bad_number.status_code == 422 and "is not one of" in bad_number.text


def test_static_css_is_served(client: TestClient) -> None:
    response = client.get("/static/web/flowdesk.css")
    assert response.status_code == 200 and "--accent" in response.text


def test_every_page_route_declares_a_permission_or_is_public(client: TestClient) -> None:
    from fastapi.routing import APIRoute

    from flowdesk.api.security import PUBLIC
    from flowdesk.web import pages, status

    for route in [*pages.router.routes, *status.router.routes]:
        assert isinstance(route, APIRoute)
        markers = [
            getattr(d.call, "__flowdesk_permission__", None) for d in route.dependant.dependencies
        ]
        assert route.path in PUBLIC or any(markers), route.path


def test_an_unknown_address_is_a_page_in_the_browser_and_a_problem_for_clients(
    client: TestClient,
) -> None:
    page = client.get("/nope", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "There is no such page." in page.text
    api = client.get("/api/v1/nope", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"
    plain = client.get("/nope", headers={"Accept": "application/json"})
    assert plain.status_code == 404 and plain.json()["status"] == 404
