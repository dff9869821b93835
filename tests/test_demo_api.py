"""Tests of the embedded demo API (tap_restgeneric.demo), driven with plain requests."""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import requests
from requests.auth import HTTPBasicAuth

from tap_restgeneric.demo import DemoServer
from tap_restgeneric.demo.__main__ import main as demo_main
from tap_restgeneric.demo.data import DATASETS, records
from tap_restgeneric.demo.server import CREDENTIALS, TOUCH_PATH
from tap_restgeneric.demo.shop import (
    SHOP_MISSING_ORDER,
    shop_events,
    shop_items,
    shop_order_detail,
    shop_orders,
)

S000_KEY = {"api_key": CREDENTIALS["s000_api_key"]}
S000_BASIC = HTTPBasicAuth(CREDENTIALS["s000_auth_token"], "")
S001 = {"X-API-Token": CREDENTIALS["s001_api_key"]}
S002 = {"Authorization": f"Bearer {CREDENTIALS['s002_api_token']}"}
S003 = HTTPBasicAuth(CREDENTIALS["s003_username"], CREDENTIALS["s003_password"])
S004 = HTTPBasicAuth(CREDENTIALS["s004_api_key"], "")
S005 = {"Authorization": f"Bearer {CREDENTIALS['s005_token']}"}


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


def walk_s000(
    srv: DemoServer,
    path: str,
    per_page: int = 20,
    params: dict[str, Any] | None = None,
    **kw: Any,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    page = 0
    while True:
        resp = get(srv, path, params={**(params or {}), "page": page, "per_page": per_page}, **kw)
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


def walk_s003(srv: DemoServer, path: str, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
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
        ("/s005/orders", {"headers": S005}, {"headers": S002}),
        ("/s005/orders/1", {"headers": S005}, {"headers": {"Authorization": "demo-token-005"}}),
        ("/s005/orders/2/items", {"headers": S005}, {"headers": {"Authorization": "Bearer x"}}),
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


# --- incremental sync: datetime filters, sorting, overlays, slow mode -----------------------

CONTACTS = "/s000/v2/crm/contacts"
LINKS = "/s000/v2/application/signing-links"
CUSTOMERS = "/s003/v1/customers"


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def ids(rows: list[dict[str, Any]]) -> list[Any]:
    return [r["id"] for r in rows]


def test_s000_datetime_filter_boundaries(server: DemoServer) -> None:
    # updated_at(i) = 2024-01-01T00:30Z + i hours + (i % 5) days
    contacts = {r["id"]: r for r in records("s000_contacts")}
    assert contacts[10]["updated_at"] == "2024-01-01T10:30:00Z"
    assert contacts[20]["updated_at"] == "2024-01-01T20:30:00Z"
    for since, before in (
        ("2024-01-01T10:30:00Z", "2024-01-01T20:30:00Z"),
        ("2024-01-01T10:30:00+00:00", "2024-01-01T20:30:00.000+00:00"),
        ("2024-01-01T11:30:00+01:00", "2024-01-01T15:30:00-05:00"),
    ):
        params = {"updated_since": since, "updated_before": before}
        body = get(server, CONTACTS, params=params, headers=S000_KEY).json()
        assert ids(body["data"]) == [10, 15]  # 10 is exactly at since, 20 exactly at before
        assert body["meta"]["total_count"] == 2
    just_after = {"updated_since": "2024-01-01T10:30:01Z"}
    after = walk_s000(server, CONTACTS, params=just_after, headers=S000_KEY)
    assert 10 not in ids(after) and 15 in ids(after)
    just_before = {"updated_before": "2024-01-01T10:30:01Z"}
    before_rows = walk_s000(server, CONTACTS, params=just_before, headers=S000_KEY)
    assert ids(before_rows) == [5, 10]


def test_s000_date_filter_pages_filtered_list(server: DemoServer) -> None:
    day = {"updated_since": "2024-01-02", "updated_before": "2024-01-03"}
    expected = [1, 6, 11, 16, 21, 25, 30, 35, 40, 45]
    first = get(server, CONTACTS, params={**day, "per_page": 3}, headers=S000_KEY).json()
    assert ids(first["data"]) == [1, 6, 11]
    assert first["meta"] == {"page": 0, "per_page": 3, "total_count": 10}
    assert ids(walk_s000(server, CONTACTS, per_page=3, params=day, headers=S000_KEY)) == expected
    window = {"updated_since": "2024-01-03T00:30:00+00:00", "updated_before": "2024-01-04"}
    assert ids(walk_s000(server, LINKS, params=window, auth=S000_BASIC)) == [2, 7, 12, 17, 22]
    empty = {"updated_since": "2030-01-01"}
    assert walk_s000(server, LINKS, params=empty, auth=S000_BASIC) == []
    unfiltered = {"updated_since": "", "updated_before": ""}
    assert_ids(walk_s000(server, CONTACTS, params=unfiltered, headers=S000_KEY), 45)


def test_s003_epoch_filter_boundaries(server: DemoServer) -> None:
    # customers 1 and 25 share 2024-01-02T01:30Z; 6 and 30 share 2024-01-02T06:30Z
    gte, lt = epoch("2024-01-02T01:30:00Z"), epoch("2024-01-02T06:30:00Z")
    assert (gte, lt) == (1704159000, 1704177000)
    window = {"updated_at_gte": gte, "updated_at_lt": lt}
    assert ids(walk_s003(server, CUSTOMERS, **window)) == [1, 25]
    assert ids(walk_s003(server, CUSTOMERS, updated_at_gte=gte + 1, updated_at_lt=lt + 1)) == [
        6,
        30,
    ]
    later = walk_s003(server, CUSTOMERS, updated_at_gte=epoch("2024-01-06T10:30:00Z"))
    expected = [r["id"] for r in records("s003_customers") if r["updated_at"] >= "2024-01-06T10:30"]
    assert ids(later) == expected and ids(later)[:3] == [34, 39, 44] and len(expected) == 51
    paged = walk_s003(server, CUSTOMERS, limit=7, updated_at_gte=gte)
    assert ids(paged) == [i for i in range(1, 131) if i not in (5, 10, 15, 20)]
    # the datetime filters of s000 are not s003's parameters: ignored there
    assert_ids(walk_s003(server, CUSTOMERS, updated_since="2030-01-01"), 130)


def test_s003_sort_by_updated_at(server: DemoServer) -> None:
    rows = walk_s003(server, CUSTOMERS, sort="updated_at", limit=17)
    expected = sorted(records("s003_customers"), key=lambda r: (r["updated_at"], r["id"]))
    assert rows == expected and len(rows) == 130
    assert ids(rows)[:8] == [5, 10, 15, 20, 1, 25, 6, 30]
    window = {"sort": "updated_at", "updated_at_gte": epoch("2024-01-02T01:30:00Z")}
    assert ids(walk_s003(server, CUSTOMERS, **window))[:4] == [1, 25, 6, 30]
    assert_ids(walk_s003(server, CUSTOMERS, sort="id"), 130)
    assert_ids(walk_s003(server, "/s003/v1/custom-fields", sort="updated_at"), 12)


def test_touch_and_add_visible(server: DemoServer) -> None:
    window = {"updated_since": "2024-01-01T10:30:00Z", "updated_before": "2024-01-01T20:30:00Z"}
    server.touch("s000_contacts", [3, 40], "2024-01-01T12:00:00+00:00")
    server.touch("s000_contacts", [15], "2024-02-01")
    rows = walk_s000(server, CONTACTS, params=window, headers=S000_KEY)
    assert ids(rows) == [3, 10, 40]
    assert rows[0]["updated_at"] == "2024-01-01T12:00:00Z"
    assert_ids(walk_s000(server, CONTACTS, headers=S000_KEY), 45)

    new = {**records("s003_customers")[0], "id": 131, "updated_at": "2024-01-02T02:00:00Z"}
    server.add("s003_customers", new)
    server.touch("s003_customers", [5], "2030-01-01T00:00:00Z")
    gte, lt = epoch("2024-01-02T01:30:00Z"), epoch("2024-01-02T06:30:00Z")
    assert ids(walk_s003(server, CUSTOMERS, updated_at_gte=gte, updated_at_lt=lt)) == [1, 25, 131]
    assert ids(walk_s003(server, CUSTOMERS, updated_at_gte=epoch("2029-12-31T00:00:00Z"))) == [5]
    ordered = ids(walk_s003(server, CUSTOMERS, sort="updated_at"))
    assert ordered[:7] == [10, 15, 20, 1, 25, 131, 6] and ordered[-1] == 5
    assert ids(walk_s003(server, CUSTOMERS)) == [*range(1, 131), 131]
    # an overlay belongs to one instance; the generated data is untouched
    assert records("s000_contacts")[2]["updated_at"] == "2024-01-04T03:30:00Z"
    with DemoServer(port=0, faults=False) as other:
        assert_ids(walk_s003(other, CUSTOMERS), 130)


def test_touch_over_http(server: DemoServer) -> None:
    """POST /_demo/touch changes records as touch() does (scripts/demo's run 2); bad bodies 400."""
    body = {"dataset": "s000_contacts", "ids": [3, 17], "updated_at": "2025-06-01T12:00:00Z"}
    done = requests.post(server.url + TOUCH_PATH, json=body, timeout=5)
    assert (done.status_code, done.json()) == (200, {"touched": 2})
    since = {"updated_since": "2025-01-01T00:00:00Z"}
    assert ids(walk_s000(server, CONTACTS, params=since, headers=S000_KEY)) == [3, 17]
    for bad in ({**body, "ids": [999]}, {**body, "dataset": "nope"}, {"ids": [3]}, [1]):
        assert requests.post(server.url + TOUCH_PATH, json=bad, timeout=5).status_code == 400
    assert get(server, TOUCH_PATH).status_code == 405


def test_touch_and_add_validation(server: DemoServer) -> None:
    with pytest.raises(KeyError):
        server.touch("s000_contacts", [1, 46], "2024-01-01T00:00:00Z")
    with pytest.raises(KeyError):
        server.touch("nope", [1], "2024-01-01T00:00:00Z")
    with pytest.raises(ValueError, match="ISO 8601"):
        server.touch("s000_contacts", [1], "2024-01-01 00:00")
    with pytest.raises(ValueError, match="already exists"):
        server.add("s000_contacts", {"id": 1, "updated_at": "2024-01-01T00:00:00Z"})
    with pytest.raises(ValueError):
        server.add("s000_contacts", {"id": 99})
    assert server.records("s000_contacts") == records("s000_contacts")  # nothing applied
    server.add("s000_contacts", {"id": 46, "updated_at": "2024-03-01T00:00:00.5+00:00"})
    server.touch("s000_contacts", [46], "2024-03-02T00:00:00Z")
    assert server.records("s000_contacts")[-1] == {"id": 46, "updated_at": "2024-03-02T00:00:00Z"}


@pytest.mark.parametrize(
    ("path", "auth", "param", "value"),
    [
        (CONTACTS, {"headers": S000_KEY}, "updated_since", "yesterday"),
        (CONTACTS, {"headers": S000_KEY}, "updated_since", "2024-01-01T10:30:00"),
        (CONTACTS, {"headers": S000_KEY}, "updated_since", "2024-13-01"),
        (CONTACTS, {"headers": S000_KEY}, "updated_since", "2024-01-01T10:30:00 00:00"),
        (CONTACTS, {"headers": S000_KEY}, "updated_before", "1704159000"),
        (LINKS, {"auth": S000_BASIC}, "updated_before", "2024-01-01T25:00:00Z"),
        (CUSTOMERS, {"auth": S003}, "updated_at_gte", "2024-01-02"),
        (CUSTOMERS, {"auth": S003}, "updated_at_gte", "1704159000.5"),
        (CUSTOMERS, {"auth": S003}, "updated_at_lt", "soon"),
        (CUSTOMERS, {"auth": S003}, "sort", "name"),
    ],
)
def test_bad_filter_values(
    server: DemoServer, path: str, auth: dict[str, Any], param: str, value: str
) -> None:
    resp = get(server, path, params={param: value}, **auth)
    assert resp.status_code == 400
    assert resp.json() == {"error": f"bad {param}"}


def test_unencoded_plus_is_rejected(server: DemoServer) -> None:
    # a '+' left unencoded in a query string decodes to a space: the offset is lost
    resp = get(server, CONTACTS + "?updated_since=2024-01-01T10:30:00+00:00", headers=S000_KEY)
    assert resp.status_code == 400 and resp.json() == {"error": "bad updated_since"}


def test_page_delay() -> None:
    with pytest.raises(ValueError):
        DemoServer(port=0, page_delay=-1)
    with DemoServer(port=0, faults=False, page_delay=0.25) as slow:
        started = time.monotonic()
        for page in range(3):
            assert get(slow, CONTACTS, params={"page": page}, headers=S000_KEY).ok
        assert get(slow, CONTACTS).status_code == 401
        elapsed = time.monotonic() - started
        assert 1.0 <= elapsed < 4.0
        slow.page_delay = 0
        started = time.monotonic()
        assert get(slow, CONTACTS, headers=S000_KEY).ok
        assert time.monotonic() - started < 0.25


def test_cli_page_delay() -> None:
    with pytest.raises(SystemExit):
        demo_main(["--page-delay", "-1"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "tap_restgeneric.demo", "--port", "0", "--page-delay", "0.3"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        url = proc.stderr.readline().strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:")
        started = time.monotonic()
        assert requests.get(url + "/s003/v1/account", auth=S003, timeout=5).ok
        assert 0.3 <= time.monotonic() - started < 3.0
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_cli_port_taken_is_one_line_and_exit_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "tap_restgeneric.demo", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"demo API: cannot listen on 127.0.0.1:{port}: Address already in use (stop the server "
        f"using it, e.g. kill $(lsof -t -iTCP:{port} -sTCP:LISTEN), or pass another --port)"
    ]
    assert done.stdout == ""


def test_cli_says_how_to_stop_it() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tap_restgeneric.demo", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        assert proc.stderr.readline().startswith("demo API listening on http://127.0.0.1:")
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    assert proc.stderr.read().splitlines() == [f"stop it with Ctrl-C or: kill {proc.pid}"]


# --- s005: a shop with parent/child resources (orders -> items -> events) ------------------

ORDERS = "/s005/orders"


def search_events(srv: DemoServer, item_id: str, body: Any, **kw: Any) -> requests.Response:
    url = f"{srv.url}/s005/items/{item_id}/events/search"
    return requests.post(url, json=body, timeout=5, **{"headers": S005, **kw})


def walk_items(srv: DemoServer, order_id: int) -> tuple[list[dict[str, Any]], int]:
    rows: list[dict[str, Any]] = []
    params: dict[str, str] = {}
    calls = 0
    while True:
        resp = get(srv, f"{ORDERS}/{order_id}/items", params=params, headers=S005)
        calls += 1
        assert resp.status_code == 200
        body = resp.json()
        assert set(body) == {"items", "next_cursor"} and len(body["items"]) <= 2
        rows += body["items"]
        if body["next_cursor"] is None:
            return rows, calls
        params["cursor"] = body["next_cursor"]


def walk_events(
    srv: DemoServer, item_id: str, kinds: list[str] | None = None, size: int | None = None
) -> tuple[list[dict[str, Any]], int]:
    rows: list[dict[str, Any]] = []
    page: dict[str, Any] = {} if size is None else {"size": size}
    flt: dict[str, Any] = {"item": item_id} if kinds is None else {"item": item_id, "kinds": kinds}
    calls = 0
    while True:
        resp = search_events(srv, item_id, {"filter": flt, "page": page})
        calls += 1
        assert resp.status_code == 200
        body = resp.json()
        assert set(body) == {"results", "page"} and len(body["results"]) <= 2
        rows += body["results"]
        if body["page"]["next"] is None:
            return rows, calls
        page["after"] = body["page"]["next"]


def test_s005_orders_page_number(server: DemoServer) -> None:
    expected = shop_orders()
    assert ids(expected) == list(range(1, 26))
    assert expected[0]["number"] == "ORD-0001" and expected[24]["number"] == "ORD-0025"
    assert {o["customer"]["id"] for o in expected} == set(range(1, 9))
    pages = [get(server, ORDERS, params={"page": p}, headers=S005).json() for p in (1, 2, 3, 4)]
    assert [len(p["orders"]) for p in pages] == [10, 10, 5, 0]
    assert pages[3] == {"orders": []}
    assert [o for p in pages for o in p["orders"]] == expected
    assert get(server, ORDERS, headers=S005).json()["orders"] == expected[:10]
    assert get(server, ORDERS, params={"page": 0}, headers=S005).status_code == 400
    assert get(server, ORDERS, params={"page": "x"}, headers=S005).status_code == 400
    assert len(server.requests) == 7


def test_s005_order_detail_and_missing_13(server: DemoServer) -> None:
    found = []
    for order in shop_orders():
        resp = get(server, f"{ORDERS}/{order['id']}", headers=S005)
        if order["id"] == SHOP_MISSING_ORDER:
            assert resp.status_code == 404 and resp.json() == {"error": "order not found"}
            continue
        assert resp.status_code == 200
        body = resp.json()
        assert body == shop_order_detail(order["id"]) == {**order, **body}
        assert body["currency"] == "EUR" and isinstance(body["total"], float)
        found.append(body["id"])
    assert found == [i for i in range(1, 26) if i != 13] and shop_order_detail(13) is None
    detail = shop_order_detail(1)
    assert detail is not None and detail["total"] == 29.25
    assert detail["total"] == round(sum(i["qty"] * i["price"] for i in shop_items(1)), 2)
    for bad in ("0", "26", "abc", "1.5"):
        resp = get(server, f"{ORDERS}/{bad}", headers=S005)
        assert resp.status_code == 404 and resp.json() == {"error": "order not found"}
    assert [r["status"] for r in server.requests].count(404) == 5


def test_s005_items_paginated_per_parent(server: DemoServer) -> None:
    total_rows, total_calls = [], 0
    for order in shop_orders():
        rows, calls = walk_items(server, order["id"])
        assert rows == shop_items(order["id"])
        assert len(rows) == order["id"] % 4 + 1 and calls == (len(rows) + 1) // 2
        assert [r["id"] for r in rows] == [f"{order['id']}-{n}" for n in range(1, len(rows) + 1)]
        assert {r["order_id"] for r in rows} == {order["id"]}
        total_rows += rows
        total_calls += calls
    assert len(total_rows) == 62 and total_calls == 37 == len(server.requests)
    assert len(shop_items(SHOP_MISSING_ORDER)) == 2  # the detail 404s, the items do not
    first = get(server, f"{ORDERS}/3/items", headers=S005).json()
    assert ids(first["items"]) == ["3-1", "3-2"] and isinstance(first["next_cursor"], str)
    cursor = {"cursor": first["next_cursor"]}
    assert ids(get(server, f"{ORDERS}/3/items", params=cursor, headers=S005).json()["items"]) == [
        "3-3",
        "3-4",
    ]
    # a cursor belongs to its parent
    assert get(server, f"{ORDERS}/7/items", params=cursor, headers=S005).status_code == 400
    assert get(server, f"{ORDERS}/3/items", params={"cursor": "x"}, headers=S005).status_code == 400
    resp = get(server, f"{ORDERS}/26/items", headers=S005)
    assert resp.status_code == 404 and resp.json() == {"error": "order not found"}


def test_s005_event_search_pages_through_after(server: DemoServer) -> None:
    items = [i for o in shop_orders() for i in shop_items(o["id"])]
    total_rows, total_calls = [], 0
    for item in items:
        rows, calls = walk_events(server, item["id"])
        n = int(item["id"].split("-")[1])
        assert rows == shop_events(item["id"]) and len(rows) == n + 1
        assert ids(rows) == [f"{item['id']}-e{k}" for k in range(1, n + 2)]
        assert calls == (n + 2) // 2
        total_rows += rows
        total_calls += calls
    assert len(total_rows) == 185 and total_calls == 105 == len(server.requests)
    assert {r["method"] for r in server.requests} == {"POST"}

    assert ids(shop_events("3-4")) == [f"3-4-e{k}" for k in range(1, 6)]
    assert [e["kind"] for e in shop_events("3-4")] == [
        "created",
        "shipped",
        "delivered",
        "created",
        "shipped",
    ]
    shipped, calls = walk_events(server, "3-4", kinds=["shipped", "delivered"])
    assert ids(shipped) == ["3-4-e2", "3-4-e3", "3-4-e5"] and calls == 2
    assert shipped == shop_events("3-4", ["shipped", "delivered"])
    assert walk_events(server, "3-4", kinds=[]) == ([], 1)
    one, calls = walk_events(server, "3-4", size=1)
    assert ids(one) == ids(shop_events("3-4")) and calls == 5
    capped = search_events(server, "3-4", {"filter": {"item": "3-4"}, "page": {"size": 50}})
    assert len(capped.json()["results"]) == 2
    bare = search_events(server, "1-1", {"filter": {"item": "1-1"}}).json()
    assert bare == {"results": shop_events("1-1"), "page": {"next": None}}


def test_s005_event_search_body_is_logged(server: DemoServer) -> None:
    first = search_events(server, "2-3", {"filter": {"item": "2-3"}, "page": {"size": 2}}).json()
    body: dict[str, Any] = {
        "filter": {"item": "2-3", "kinds": None},
        "page": {"size": 2, "after": None},
    }
    body["page"]["after"] = first["page"]["next"]
    second = search_events(server, "2-3", body).json()
    assert ids(first["results"] + second["results"]) == ["2-3-e1", "2-3-e2", "2-3-e3", "2-3-e4"]
    assert second["page"]["next"] is None
    log = server.requests
    assert [(r["method"], r["path"], r["status"]) for r in log] == [
        ("POST", "/s005/items/2-3/events/search", 200)
    ] * 2
    assert log[0]["body"] == {"filter": {"item": "2-3"}, "page": {"size": 2}}
    assert log[1]["body"] == body and log[1]["query"] == {}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"filter": {"item": "1-2"}}, "item mismatch"),
        ({"filter": {"item": "1-1 "}}, "item mismatch"),
        (None, None),
        ([], None),
        ({"page": {"size": 2}}, None),
        ({"filter": "1-1"}, None),
        ({"filter": {"item": 1}}, None),
        ({"filter": {"item": "1-1", "kinds": "created"}}, None),
        ({"filter": {"item": "1-1", "kinds": ["lost"]}}, None),
        ({"filter": {"item": "1-1"}, "page": []}, None),
        ({"filter": {"item": "1-1"}, "page": {"size": 0}}, None),
        ({"filter": {"item": "1-1"}, "page": {"size": "2"}}, None),
        ({"filter": {"item": "1-1"}, "page": {"size": True}}, None),
        ({"filter": {"item": "1-1"}, "page": {"after": 2}}, None),
        ({"filter": {"item": "1-1"}, "page": {"after": "bogus"}}, None),
    ],
)
def test_s005_event_search_bad_bodies(server: DemoServer, body: Any, error: str | None) -> None:
    resp = search_events(server, "1-1", body)
    assert resp.status_code == 400
    if error is not None:
        assert resp.json() == {"error": error}
    else:
        assert resp.json()["error"] != "item mismatch"
    assert server.requests[-1]["body"] == body


def test_s005_event_search_errors(server: DemoServer) -> None:
    url = server.url + "/s005/items/1-1/events/search"
    raw = requests.post(url, data=b"{not json", headers=S005, timeout=5)
    assert raw.status_code == 400 and raw.json() == {"error": "invalid JSON body"}
    other = search_events(server, "3-3", {"filter": {"item": "3-3"}}).json()["page"]["next"]
    stolen = search_events(server, "3-4", {"filter": {"item": "3-4"}, "page": {"after": other}})
    assert stolen.status_code == 400  # a cursor belongs to its item
    for unknown in ("1-3", "26-1", "1-0", "x"):
        resp = search_events(server, unknown, {"filter": {"item": unknown}})
        assert resp.status_code == 404 and resp.json() == {"error": "item not found"}
        assert shop_events(unknown) == []
    assert search_events(server, "1-1", {"filter": {"item": "1-1"}}, headers={}).status_code == 401
    wrong = search_events(server, "1-1", {"filter": {"item": "1-1"}}, headers=S002)
    assert wrong.status_code == 401 and wrong.json() == {"error": "unauthorized"}
    assert "WWW-Authenticate" not in wrong.headers
    resp = get(server, "/s005/items/1-1/events/search", headers=S005)
    assert resp.status_code == 405 and resp.headers["Allow"] == "POST"
    resp = requests.post(server.url + ORDERS, json={}, headers=S005, timeout=5)
    assert resp.status_code == 405 and resp.headers["Allow"] == "GET"


def test_s005_has_no_faults(faulty: DemoServer) -> None:
    for order in shop_orders():
        walk_items(faulty, order["id"])
        get(faulty, f"{ORDERS}/{order['id']}", headers=S005)
    walk_events(faulty, "4-1")
    statuses = [r["status"] for r in faulty.requests]
    assert statuses.count(404) == 1 and set(statuses) == {200, 404} and faulty.fired == set()
