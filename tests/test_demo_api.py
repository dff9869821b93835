"""Tests of the embedded demo API (tap_restgeneric.demo), driven with plain requests."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from requests.auth import HTTPBasicAuth

from tap_restgeneric.demo import DemoServer
from tap_restgeneric.demo.data import DATASETS
from tap_restgeneric.demo.server import CREDENTIALS

S000_KEY = {"api_key": CREDENTIALS["s000_api_key"]}
S000_BASIC = HTTPBasicAuth(CREDENTIALS["s000_auth_token"], "")
S001 = {"X-API-Token": CREDENTIALS["s001_api_key"]}
S002 = {"Authorization": f"Bearer {CREDENTIALS['s002_api_token']}"}
S003 = HTTPBasicAuth(CREDENTIALS["s003_username"], CREDENTIALS["s003_password"])
S004 = HTTPBasicAuth(CREDENTIALS["s004_api_key"], "")


@pytest.fixture
def server() -> Iterator[DemoServer]:
    with DemoServer(port=0, faults=False) as srv:
        yield srv


@pytest.fixture
def faulty() -> Iterator[DemoServer]:
    with DemoServer(port=0, faults=True) as srv:
        yield srv


def get(srv: DemoServer, path: str, **kwargs: Any) -> requests.Response:
    return requests.get(srv.url + path, timeout=5, **kwargs)


def assert_ids(rows: list[dict[str, Any]], count: int) -> None:
    assert [r["id"] for r in rows] == list(range(1, count + 1))
    for r in rows:
        assert r["created_at"].endswith("Z") and r["updated_at"].endswith("Z")


def walk_s000(srv: DemoServer, path: str, per_page: int = 20, **kw: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    page = 0
    while True:
        resp = get(srv, path, params={"page": page, "per_page": per_page}, **kw)
        if resp.status_code == 429:
            continue
        assert resp.status_code == 200
        body = resp.json()
        assert "total" not in body
        assert body["meta"]["page"] == page
        if not body["data"]:
            return rows
        rows += body["data"]
        page += 1


def walk_s001(srv: DemoServer, path: str, key: str, limit: int | None = None) -> list[Any]:
    rows: list[dict[str, Any]] = []
    params: dict[str, Any] = {} if limit is None else {"limit": limit}
    while True:
        resp = get(srv, path, params=params, headers=S001)
        if resp.status_code == 503:
            continue
        body = resp.json()
        rows += body[key]
        if not body["hasNext"]:
            assert body["cursors"]["next"] is None
            return rows
        params["next"] = body["cursors"]["next"]


def walk_s003(srv: DemoServer, path: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    params: dict[str, Any] = {}
    while True:
        resp = get(srv, path, params=params, auth=S003)
        if resp.status_code == 429:
            continue
        body = resp.json()
        rows += body["data"]
        if body["meta"]["next_cursor"] is None:
            return rows
        params["cursor"] = body["meta"]["next_cursor"]


def walk_s004(srv: DemoServer, path: str, limit: int = 1000) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        resp = get(srv, path, params={"_skip": len(rows), "limit": limit}, auth=S004)
        body = resp.json()
        assert "total" not in body
        rows += body["data"]
        if not body["has_more"]:
            return rows


def test_s000_routes(server: DemoServer) -> None:
    resp = get(server, "/s000/user", headers=S000_KEY)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.json()["data"]["id"] == "usr_1"
    docs = get(server, "/s000/user/documentsv2", params={"page": 5}, headers=S000_KEY).json()
    assert_ids(docs["data"], DATASETS["s000_documents"])
    assert_ids(walk_s000(server, "/s000/v2/crm/contacts", headers=S000_KEY), 45)
    assert_ids(walk_s000(server, "/s000/v2/application/signing-links", auth=S000_BASIC), 23)


def test_s000_zero_based_pages_and_cap(server: DemoServer) -> None:
    path = "/s000/v2/crm/contacts"
    first = get(server, path, params={"page": 0, "per_page": 10}, headers=S000_KEY).json()
    assert [r["id"] for r in first["data"]] == list(range(1, 11))
    assert first["meta"] == {"page": 0, "per_page": 10, "total_count": 45}
    capped = get(server, path, params={"page": 1, "per_page": 500}, headers=S000_KEY).json()
    assert [r["id"] for r in capped["data"]] == list(range(21, 41))
    assert capped["meta"]["per_page"] == 20
    default = get(server, path, headers=S000_KEY).json()
    assert len(default["data"]) == 20
    past = get(server, path, params={"page": 3}, headers=S000_KEY).json()
    assert past["data"] == [] and past["meta"]["total_count"] == 45


def test_s001_cursor_routes(server: DemoServer) -> None:
    rows = walk_s001(server, "/s001/v1/appointmentlinks/me", "data")
    assert_ids(rows, 120)
    assert_ids(walk_s001(server, "/s001/v1/appointmentlinks/me", "data", limit=7), 120)
    assert_ids(walk_s001(server, "/s001/v1/codesnippets", "results"), 7)
    assert_ids(walk_s001(server, "/s001/v1/insightsreports", "results"), 51)
    big = get(server, "/s001/v1/appointmentlinks/me", params={"limit": 500}, headers=S001).json()
    assert len(big["data"]) == 50 and big["hasNext"] is True
    assert isinstance(big["cursors"]["next"], str)
    for bad in ("not-a-cursor!", "None", base64.b64encode(b"garbage").decode()):
        resp = get(server, "/s001/v1/codesnippets", params={"next": bad}, headers=S001)
        assert resp.status_code == 400


def test_s002_one_based_pages(server: DemoServer) -> None:
    path = "/s002/v2/v1/resource"
    first = get(server, path, params={"page": 1, "limit": 99}, headers=S002).json()
    assert first["page"] == 1
    assert [(i["kind"], i["data"]["id"]) for i in first["items"]] == [
        ("resource", 1),
        ("resource", 2),
    ]
    assert get(server, path, params={"page": 0}, headers=S002).status_code == 400
    rows: list[dict[str, Any]] = []
    page = 1
    while items := get(server, path, params={"page": page}, headers=S002).json()["items"]:
        rows += [i["data"] for i in items]
        page += 1
    assert page == 6
    assert_ids(rows, 9)
    assert get(server, path, params={"page": 2, "per_page": 5}, headers=S002).json()["items"]


def test_s003_routes(server: DemoServer) -> None:
    account = get(server, "/s003/v1/account", auth=S003).json()
    assert account["id"] == "acct_1" and isinstance(account["settings"], dict)
    assert {"name", "plan", "created_at", "updated_at"} <= account.keys()
    assert_ids(walk_s003(server, "/s003/v1/customers"), 130)
    assert_ids(walk_s003(server, "/s003/v1/custom-fields"), 12)
    big = get(server, "/s003/v1/customers", params={"limit": 80}, auth=S003).json()
    assert len(big["data"]) == 50
    bad = get(server, "/s003/v1/customers", params={"cursor": "xyz"}, auth=S003)
    assert bad.status_code == 400


def test_s004_offset_and_cap(server: DemoServer) -> None:
    resp = get(server, "/s004/v1/user", params={"_skip": 0, "limit": 1000}, auth=S004).json()
    assert len(resp["data"]) == 100 and resp["has_more"] is True
    tail = get(server, "/s004/v1/user", params={"_skip": 240, "limit": 1000}, auth=S004).json()
    assert [r["id"] for r in tail["data"]] == list(range(241, 251)) and not tail["has_more"]
    assert_ids(walk_s004(server, "/s004/v1/user"), 250)
    assert_ids(walk_s004(server, "/s004/v1/user", limit=33), 250)
    for kind, count in (("lead", 3), ("contact", 4), ("opportunity", 5), ("activity", 2)):
        assert DATASETS[f"s004_custom_field_{kind}"] == count
        assert_ids(walk_s004(server, f"/s004/v1/custom_field/{kind}"), count)


@pytest.mark.parametrize(
    ("path", "good", "bad"),
    [
        ("/s000/user", {"headers": S000_KEY}, {"headers": {"api_key": "nope"}}),
        ("/s000/v2/crm/contacts", {"headers": S000_KEY}, {"auth": S000_BASIC}),
        ("/s000/v2/application/signing-links", {"auth": S000_BASIC}, {"headers": S000_KEY}),
        (
            "/s000/v2/application/signing-links",
            {"auth": S000_BASIC},
            {"auth": HTTPBasicAuth(CREDENTIALS["s000_auth_token"], "x")},
        ),
        ("/s001/v1/codesnippets", {"headers": S001}, {"headers": {"X-API-Token": "nope"}}),
        ("/s002/v2/v1/resource", {"headers": S002}, {"headers": {"Authorization": "Bearer x"}}),
        ("/s003/v1/account", {"auth": S003}, {"auth": HTTPBasicAuth("demo-user-003", "x")}),
        ("/s004/v1/user", {"auth": S004}, {"auth": HTTPBasicAuth("demo-key-000", "")}),
    ],
)
def test_auth(server: DemoServer, path: str, good: dict[str, Any], bad: dict[str, Any]) -> None:
    assert get(server, path, **good).status_code == 200
    for kwargs in (bad, {}):
        resp = get(server, path, **kwargs)
        assert resp.status_code == 401
        assert resp.json() == {"error": "unauthorized"}


def test_not_found(server: DemoServer) -> None:
    resp = get(server, "/s000/nothing-here", headers=S000_KEY)
    assert resp.status_code == 404
    assert resp.json() == {"error": "not found"}


def fault_statuses(srv: DemoServer, path: str, n: int = 3, **kw: Any) -> list[int]:
    return [get(srv, path, **kw).status_code for _ in range(n)]


def test_faults_fire_once(faulty: DemoServer) -> None:
    contacts = "/s000/v2/crm/contacts"
    assert get(faulty, contacts, params={"page": 0}, headers=S000_KEY).status_code == 200
    first = get(faulty, contacts, params={"page": 1}, headers=S000_KEY)
    assert first.status_code == 429 and first.headers["Retry-After"] == "1"
    assert first.json() == {"error": "rate limited"}
    assert fault_statuses(faulty, contacts, params={"page": 1}, headers=S000_KEY) == [200] * 3

    reports = fault_statuses(faulty, "/s001/v1/insightsreports", headers=S001)
    assert reports == [503, 200, 200]
    assert fault_statuses(faulty, "/s001/v1/codesnippets", headers=S001) == [200] * 3

    resource = "/s002/v2/v1/resource"
    assert fault_statuses(faulty, resource, params={"page": 2}, headers=S002) == [200] * 3
    assert fault_statuses(faulty, resource, params={"page": 3}, headers=S002) == [503, 200, 200]

    customers = "/s003/v1/customers"
    page1 = get(faulty, customers, auth=S003).json()
    assert get(faulty, customers, auth=S003).status_code == 200
    second = {"cursor": page1["meta"]["next_cursor"]}
    resp = get(faulty, customers, params=second, auth=S003)
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "1"
    assert fault_statuses(faulty, customers, params=second, auth=S003) == [200] * 3
    assert len(walk_s004(faulty, "/s004/v1/user")) == 250
    assert sorted(faulty.fired) == sorted(
        {"s000_contacts_page1", "s001_insightsreports_first", "s002_resource_page3"}
        | {"s003_customers_page2"}
    )


def test_faults_walk_recovers(faulty: DemoServer) -> None:
    assert_ids(walk_s000(faulty, "/s000/v2/crm/contacts", headers=S000_KEY), 45)
    assert_ids(walk_s001(faulty, "/s001/v1/insightsreports", "results"), 51)
    assert_ids(walk_s003(faulty, "/s003/v1/customers"), 130)
    statuses = [r["status"] for r in faulty.requests]
    assert statuses.count(429) == 2 and statuses.count(503) == 1


def test_no_faults(server: DemoServer) -> None:
    assert get(server, "/s000/v2/crm/contacts", params={"page": 1}, headers=S000_KEY).ok
    assert get(server, "/s001/v1/insightsreports", headers=S001).ok
    assert get(server, "/s002/v2/v1/resource", params={"page": 3}, headers=S002).ok
    walk_s003(server, "/s003/v1/customers")
    assert {r["status"] for r in server.requests} == {200}
    assert server.fired == set()


def test_request_log_and_determinism(server: DemoServer) -> None:
    first = get(
        server, "/s000/v2/crm/contacts", params={"page": 0, "per_page": 5}, headers=S000_KEY
    )
    second = get(
        server, "/s000/v2/crm/contacts", params={"page": 0, "per_page": 5}, headers=S000_KEY
    )
    assert first.content == second.content
    get(server, "/s004/v1/user", params={"limit": 1000}, auth=HTTPBasicAuth("x", "y"))
    requests.post(server.url + "/s002/v2/v1/resource", json={"q": 1}, headers=S002, timeout=5)
    log = server.requests
    assert len(log) == 4
    assert log[0]["method"] == "GET" and log[0]["path"] == "/s000/v2/crm/contacts"
    assert log[0]["query"] == {"page": ["0"], "per_page": ["5"]}
    assert log[0]["headers"]["api_key"] == "demo-key-000" and log[0]["body"] is None
    assert log[0]["status"] == 200
    assert log[2]["status"] == 401 and log[2]["query"] == {"limit": ["1000"]}
    assert log[3]["method"] == "POST" and log[3]["body"] == {"q": 1}
    assert log[3]["status"] == 405


def test_standalone_start_stop() -> None:
    srv = DemoServer(port=0)
    srv.start()
    try:
        assert srv.url.startswith("http://127.0.0.1:") and srv.port > 0
        assert get(srv, "/s003/v1/account", auth=S003).ok
    finally:
        srv.stop()
    with pytest.raises(requests.ConnectionError):
        get(srv, "/s003/v1/account", auth=S003)
